"""ntklib: the small library behind *The Neural Tangent Kernel, executably*.

Two-layer networks, their tangent kernels, the bounds of the lecture and the checkers that
verify them.  Every public function validates its input and raises :class:`ValueError` naming
the argument; every random draw goes through :func:`~ntklib.rng`.
"""

# First: under NTKLIB_EXPECTED_ROOT (set by the test harness and the build), importing ntklib from
# outside that checkout raises ImportError.
from ._checkout import assert_checkout
from . import bounds, flows, registry, worst_case
from .activations import ACTIVATIONS, Activation, get_activation
from .checks import RECORDS, CheckReport, check, check_agreement, check_failure_rate, check_identity, check_sharpness, check_slope, check_test
from .data import circle, lecture_domain, sphere, targets
from .kernels import ntk_gram, ntk_gram_at_init, ntk_limit, relu_nngp, relu_ntk_unit
from .network import TwoLayerNet, init_network, output_scale, outputs_at_init
from .plotting import PALETTE, REFERENCE, rate_plot, set_theme
from .seeding import DEFAULT_SEED, base_seed, rng
from .stats import SlopeFit, clopper_pearson_lower, clopper_pearson_upper, fit_loglog, fit_loglog_replicates, mean_ci
from .training import TrainResult, mse, mse_gradient, train

__version__ = "0.3.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "CheckReport",
    "DEFAULT_SEED",
    "PALETTE",
    "REFERENCE",
    "RECORDS",
    "SlopeFit",
    "TwoLayerNet",
    "assert_checkout",
    "base_seed",
    "bounds",
    "flows",
    "registry",
    "worst_case",
    "check",
    "check_agreement",
    "check_failure_rate",
    "check_identity",
    "check_sharpness",
    "check_slope",
    "check_test",
    "circle",
    "clopper_pearson_lower",
    "clopper_pearson_upper",
    "fit_loglog",
    "fit_loglog_replicates",
    "get_activation",
    "init_network",
    "outputs_at_init",
    "lecture_domain",
    "mean_ci",
    "mse",
    "mse_gradient",
    "ntk_gram",
    "ntk_gram_at_init",
    "ntk_limit",
    "output_scale",
    "rate_plot",
    "relu_nngp",
    "relu_ntk_unit",
    "rng",
    "set_theme",
    "sphere",
    "targets",
    "train",
    "TrainResult",
]
