"""Bad input over the whole public API: a finite result or a clear error, never NaN, inf or a crash.

Every public function and method (everything callable in ``ntklib.__all__``, the public functions of
``ntklib.bounds``, ``ntklib.worst_case``, ``ntklib.registry`` and ``ntklib.checks``, the methods of the
exported classes and the built-in activations' functions) is called with valid arguments, then with
one argument at a time replaced by a value of each class of bad input:

* NaN, +inf and -inf (alone, or as one entry of an array);
* extreme magnitudes: 1e300, -1e300, the largest float, 1e-300 and the smallest subnormal (an array
  scaled so that its largest entry is that value);
* wrong shapes: one axis more or fewer, a transposed or empty array, a 0-d array;
* lists (the valid value as nested Python lists) and 0-d arrays in place of scalars;
* wrong dtypes: strings, bytes, objects, complex numbers, datetimes, None, booleans.

The functions of the built-in activations (``sigma``, ``d1``, ``d2``) are unchecked elementwise
kernels that the library calls on validated arrays: they get the finite real classes only (every
magnitude, lists, every shape), and must return finite values silently.

Each call must either raise ``ValueError`` or ``TypeError`` whose message names one of the function's
arguments, or return a result whose every number is finite (arrays, floats, tuples and dataclasses
are inspected), without emitting a warning.  A checker may also reject its statement
(``AssertionError`` "... FAILED"): extreme measured values can make a true checker fail a statement.
:data:`COVERAGE` lists what is not covered and why; a public function missing from the table fails
:func:`test_every_public_function_is_covered`.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import warnings
from collections import Counter
from typing import Any, Callable

import numpy as np
import pytest

import ntklib
from ntklib import bounds, checks, registry
from ntklib import worst_case as wc

HUGE = float(np.finfo(float).max)
G = ntklib.rng("bad-input")
NET, W0 = ntklib.init_network(6, 3, G, activation="tanh")
RELU, W0R = ntklib.init_network(6, 3, G, activation="relu")
X = G.standard_normal((4, 3))
Y = np.zeros(4)
UNIT = np.ones(3) / np.sqrt(3)
FIT = ntklib.fit_loglog([1.0, 2.0, 3.0, 4.0], [1.0, 0.5, 0.3, 0.26])
ADV = wc.taylor_worst_case(0.1 * np.arange(1.0, 7.0), NET.a, 1.0)
REPORT = ntklib.check_identity("ch-fast", np.ones(3), np.ones(3), np.full(3, 1e-12), statistic="s")
FLOW_NET, FLOW_W0 = ntklib.init_network(8, 3, G, activation="tanh", symmetric=True)
FLOW_X = ntklib.sphere(3, 3, G)
FLOW = ntklib.flows.flow_problem(FLOW_NET, FLOW_X, np.array([0.3, -0.2, 0.1]), FLOW_W0, L_J=1.0)
ONES3 = np.ones(3)


# --------------------------------------------------------------------------------------------------
# Bad values by kind of argument
# --------------------------------------------------------------------------------------------------

SCALES = {"1e300": 1e300, "-1e300": -1e300, "max": HUGE, "1e-300": 1e-300, "subnormal": 5e-324}


def _array_variants(a: np.ndarray) -> list[tuple[str, Any]]:
    a = np.asarray(a, dtype=float)
    out: list[tuple[str, Any]] = []
    if a.size:
        for name, bad in (("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)):
            b = a.copy()
            b.flat[-1] = bad
            out.append((name, b))
        top = np.max(np.abs(a))
        base = a / top if top > 0 else np.ones_like(a)
        for name, s in SCALES.items():
            with np.errstate(over="ignore", under="ignore"):
                out.append((f"magnitude {name}", base * s))
        out.append(("list", a.tolist()))
        out.append(("0-d", np.array(a.flat[0])))
    out += [("empty", a[:0] if a.ndim else np.zeros(0)), ("extra axis", a[..., None]),
            ("strings", np.full(a.shape, "a")), ("bytes", np.full(a.shape, b"a")),
            ("objects", np.full(a.shape, None, dtype=object)), ("complex", a.astype(complex)),
            ("datetime", np.full(a.shape, np.datetime64("2024-01-01"))), ("None", None), ("str", "abc")]
    if a.ndim >= 2:
        out += [("flattened", a.ravel()), ("transposed", a.T)]
    elif a.ndim == 1:
        out += [("longer", np.append(a, a[:1])), ("row", a[None, :])]
    return out


def _scalar_variants(x: float) -> list[tuple[str, Any]]:
    out = [("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)]
    out += [(f"magnitude {name}", s) for name, s in SCALES.items()]
    out += [("zero", 0.0), ("-zero", -0.0), ("0-d", np.array(x)), ("list", [x]), ("array", np.array([x, x])),
            ("string", str(x)), ("complex", complex(x, 1.0)), ("None", None), ("bool", True)]
    return out


def _int_variants(n: int) -> list[tuple[str, Any]]:
    return [("zero", 0), ("negative", -1), ("float", n + 0.5), ("integral float", float(n)), ("nan", np.nan),
            ("inf", np.inf), ("string", str(n)), ("None", None), ("bool", True), ("list", [n]),
            ("0-d", np.array(n)), ("complex", complex(n, 0))]


def _name_variants(s: str) -> list[tuple[str, Any]]:
    return [("empty", ""), ("unknown", "no-such-name"), ("case", s.upper()), ("None", None), ("int", 3),
            ("bytes", s.encode()), ("list", [s]), ("nan", np.nan)]


def _object_variants() -> list[tuple[str, Any]]:
    return [("None", None), ("int", 3), ("string", "abc"), ("array", np.ones(3)), ("nan", np.nan), ("list", [1])]


FINITE_REAL = ("magnitude", "list", "0-d", "empty", "extra axis", "longer", "row")


def _elementwise_variants(a: np.ndarray) -> list[tuple[str, Any]]:
    """For the activations' functions: finite real arrays of every magnitude and shape (they are unchecked
    elementwise kernels: NaN propagates, and numpy refuses non-numeric dtypes with its own TypeError)."""
    return [(label, value) for label, value in _array_variants(a) if label.startswith(FINITE_REAL)]


VARIANTS: dict[str, Callable[[Any], list[tuple[str, Any]]]] = {
    "array": _array_variants,
    "elementwise": _elementwise_variants,
    "scalar": _scalar_variants,
    "int": _int_variants,
    "name": _name_variants,
    "object": lambda _: _object_variants(),
}


# --------------------------------------------------------------------------------------------------
# The public API: (name, callable, valid keyword arguments, kind of each argument to vary)
# --------------------------------------------------------------------------------------------------

def _sample_test(samples, level):
    from scipy import stats

    return ntklib.check_test("t", samples, stats.norm.cdf, level=level, statistic="s")


def _plot(**kw):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    try:
        return ntklib.rate_plot(ax, **kw)
    finally:
        plt.close(fig)


A = "array"
S = "scalar"
I = "int"       # noqa: E741
N = "name"
O = "object"    # noqa: E741

SPECS: list[tuple[str, Callable[..., Any], dict[str, Any], dict[str, str]]] = [
    # activations
    ("Activation", ntklib.Activation, dict(name="mine", sigma=np.sin, d1=np.cos, d2=np.sin, smoothness=1.0),
     dict(name=N, sigma=O, d1=O, d2=O, smoothness=S)),
    ("get_activation", ntklib.get_activation, dict(activation="tanh"), dict(activation=N)),
    *[(f"{n}.{f}", lambda z, fn=getattr(ntklib.ACTIVATIONS[n], f): fn(z), dict(z=np.linspace(-3.0, 3.0, 7)),
       dict(z="elementwise"))
      for n in sorted(ntklib.ACTIVATIONS) for f in ("sigma", "d1", "d2")],
    # network
    ("TwoLayerNet", ntklib.TwoLayerNet, dict(a=NET.a, activation="tanh", alpha=2.0), dict(a=A, activation=N, alpha=S)),
    ("TwoLayerNet.output", NET.output, dict(X=X, W=W0), dict(X=A, W=A)),
    ("relu TwoLayerNet.output", RELU.output, dict(X=X, W=W0R), dict(X=A, W=A)),
    ("TwoLayerNet.grad", NET.grad, dict(x=X[0], W=W0), dict(x=A, W=A)),
    ("TwoLayerNet.jacobian", NET.jacobian, dict(X=X, W=W0), dict(X=A, W=A)),
    ("TwoLayerNet.jvp", NET.jvp, dict(X=X, W=W0, V=W0), dict(X=A, W=A, V=A)),
    ("TwoLayerNet.vjp", NET.vjp, dict(X=X, W=W0, r=Y + 1), dict(X=A, W=A, r=A)),
    ("TwoLayerNet.taylor", NET.taylor, dict(X=X, W=W0 + 0.1, W_ref=W0), dict(X=A, W=A, W_ref=A)),
    ("init_network", ntklib.init_network, dict(m=4, d=3, rng=G, activation="relu", scale="ntk", symmetric=False),
     dict(m=I, d=I, rng=O, activation=N, scale=N, symmetric=O)),
    ("output_scale", ntklib.output_scale, dict(scale=2.0, m=4), dict(scale=S, m=I)),
    ("outputs_at_init", ntklib.outputs_at_init, dict(X=X, m=5, trials=3, activation="relu", rng=G, scale="ntk"),
     dict(X=A, m=I, trials=I, activation=N, rng=O, scale=N)),
    # kernels
    ("ntk_gram", ntklib.ntk_gram, dict(X=X, Xp=X[:2], W=W0, activation="relu"), dict(X=A, Xp=A, W=A, activation=N)),
    ("tanh ntk_gram", lambda **k: ntklib.ntk_gram(**k, activation="tanh"), dict(X=X, Xp=X[:2], W=W0), dict(X=A, Xp=A, W=A)),
    ("ntk_gram_at_init", ntklib.ntk_gram_at_init, dict(X=X, Xp=X[:2], m=5, activation="relu", rng=G),
     dict(X=A, Xp=A, m=I, activation=N, rng=O)),
    ("tanh ntk_gram_at_init", lambda **k: ntklib.ntk_gram_at_init(**k, m=5, activation="tanh", rng=G),
     dict(X=X, Xp=X[:2]), dict(X=A, Xp=A)),
    ("ntk_limit", ntklib.ntk_limit, dict(X=X, Xp=X[:2], activation="relu", quad_order=20),
     dict(X=A, Xp=A, activation=N, quad_order=I)),
    ("erf ntk_limit", lambda **k: ntklib.ntk_limit(**k, activation="erf", quad_order=20),
     dict(X=X / 3, Xp=X[:2] / 3), dict(X=A, Xp=A)),
    ("identity ntk_limit", lambda **k: ntklib.ntk_limit(**k, activation="identity"), dict(X=X, Xp=X[:2]), dict(X=A, Xp=A)),
    ("relu_nngp", ntklib.relu_nngp, dict(X=X, Xp=X[:2]), dict(X=A, Xp=A)),
    ("relu_ntk_unit", ntklib.relu_ntk_unit, dict(t=np.linspace(-1.0, 1.0, 5)), dict(t=A)),
    # data and seeding
    ("sphere", ntklib.sphere, dict(n=3, d=3, rng=G), dict(n=I, d=I, rng=O)),
    ("lecture_domain", ntklib.lecture_domain, dict(n=3, d=3, rng=G), dict(n=I, d=I, rng=O)),
    ("circle", ntklib.circle, dict(theta=np.linspace(0.0, 3.0, 4)), dict(theta=A)),
    ("targets", ntklib.targets, dict(X=X, kind="smooth", rng=G, noise=0.1), dict(X=A, kind=N, rng=O, noise=S)),
    ("rough targets", lambda **k: ntklib.targets(**k, kind="rough"), dict(X=X), dict(X=A)),
    ("rng", ntklib.rng, dict(label="x", seed=3), dict(label=N, seed=I)),
    ("assert_checkout", ntklib.assert_checkout, dict(root=str(ntklib._checkout.PACKAGE_DIR.parent)), dict(root=O)),
    # statistics
    ("clopper_pearson_upper", ntklib.clopper_pearson_upper, dict(failures=2, trials=10, confidence=0.9),
     dict(failures=I, trials=I, confidence=S)),
    ("clopper_pearson_lower", ntklib.clopper_pearson_lower, dict(failures=2, trials=10, confidence=0.9),
     dict(failures=I, trials=I, confidence=S)),
    ("fit_loglog", ntklib.fit_loglog, dict(x=np.array([1.0, 2.0, 3.0, 5.0]), y=np.array([1.0, 0.6, 0.3, 0.2]),
                                           confidence=0.9, log_sd=np.full(4, 0.1)),
     dict(x=A, y=A, confidence=S, log_sd=A)),
    ("SlopeFit", ntklib.SlopeFit, dict(slope=-1.0, intercept=0.5, stderr=0.1, ci_low=-1.2, ci_high=-0.8,
                                       confidence=0.9, points=4),
     dict(slope=S, intercept=S, stderr=S, ci_low=S, ci_high=S, confidence=S, points=I)),
    ("SlopeFit.predict", FIT.predict, dict(x=np.array([1.0, 2.0, 10.0])), dict(x=A)),
    ("mean_ci", ntklib.mean_ci, dict(samples=np.array([1.0, 2.0, 4.0]), confidence=0.9), dict(samples=A, confidence=S)),
    ("fit_loglog_replicates", ntklib.fit_loglog_replicates,
     dict(x=np.array([1.0, 2.0, 3.0, 5.0]), Y=np.array([[1.0, 0.6, 0.3, 0.2], [1.1, 0.5, 0.35, 0.2]]), confidence=0.9),
     dict(x=A, Y=A, confidence=S)),
    # training
    ("mse", ntklib.mse, dict(net=NET, X=X, y=Y, W=W0), dict(net=O, X=A, y=A, W=A)),
    ("mse_gradient", ntklib.mse_gradient, dict(net=NET, X=X, y=Y, W=W0), dict(net=O, X=A, y=A, W=A)),
    ("train", ntklib.train, dict(net=NET, X=X, y=Y, W0=W0, steps=2, lr=0.1, method="noisy", noise_std=0.1, rng=G,
                                 record_every=1),
     dict(net=O, X=A, y=A, W0=A, steps=I, lr=S, method=N, noise_std=S, rng=O, record_every=I)),
    ("sgd train", lambda **k: ntklib.train(NET, X, Y, W0, steps=2, lr=0.1, method="sgd", rng=G, **k),
     dict(batch_size=2), dict(batch_size=I)),
    # plotting
    ("rate_plot", _plot, dict(x=np.array([1.0, 2.0, 4.0]), y=np.array([1.0, 0.5, 0.3]), label="a",
                              bound=np.array([2.0, 1.0, 0.6]), bound_label="b", fit=FIT),
     dict(x=A, y=A, label=N, bound=A, bound_label=N, fit=O)),
    # bounds
    ("lemma5", bounds.lemma5, dict(L=0.5, B=1.0, m=10, x_norm=1.0), dict(L=S, B=A, m=A, x_norm=S)),
    ("lemma7_taylor", bounds.lemma7_taylor, dict(B=1.0, m=10, delta=0.1), dict(B=A, m=A, delta=S)),
    ("lemma7_linearization", bounds.lemma7_linearization, dict(B=np.ones(2), m=np.array([10.0, 100.0]), delta=0.1),
     dict(B=A, m=A, delta=S)),
    ("lemma7_taylor_proved", bounds.lemma7_taylor_proved, dict(B=1.0, m=10, delta=0.1), dict(B=A, m=A, delta=S)),
    ("lemma7_linearization_proved", bounds.lemma7_linearization_proved, dict(B=np.ones(2), m=np.array([10.0, 100.0]),
                                                                             delta=0.1), dict(B=A, m=A, delta=S)),
    ("lemma7_threshold", bounds.lemma7_threshold, dict(B=1.0, m=10), dict(B=A, m=A)),
    ("lemma7_counting", bounds.lemma7_counting, dict(B=1.0, m=10, count=3, h=0.5, inequality="taylor", tail=1.0),
     dict(B=A, m=A, count=A, h=A, inequality=N, tail=S)),
    ("theorem12_alpha_threshold", bounds.theorem12_alpha_threshold, dict(L=1.0, sigma_min=0.5, sigma_max=2.0, R0=1.0),
     dict(L=S, sigma_min=S, sigma_max=S, R0=S)),
    ("theorem12_risk", bounds.theorem12_risk, dict(t=np.array([0.0, 1.0, 2.0]), alpha=1.0, sigma_min=0.5, R0=1.0),
     dict(t=A, alpha=S, sigma_min=S, R0=S)),
    ("theorem12_coupling", bounds.theorem12_coupling, dict(alpha=10.0, L=0.5, sigma_min=0.3, sigma_max=2.0, R0=1.5),
     dict(alpha=S, L=S, sigma_min=S, sigma_max=S, R0=S)),
    ("theorem12_displacement", bounds.theorem12_displacement, dict(alpha=1.0, sigma_min=0.5, sigma_max=2.0, R0=1.0),
     dict(alpha=S, sigma_min=S, sigma_max=S, R0=S)),
    # worst cases
    ("smallest_abs_normals", wc.smallest_abs_normals, dict(n=10, k=3, rng=G), dict(n=I, k=I, rng=O)),
    ("taylor_sup", wc.taylor_sup, dict(c=np.array([0.1, 0.2, 0.5]), B=1.0), dict(c=A, B=S)),
    ("taylor_worst_case", wc.taylor_worst_case, dict(z=np.linspace(-1.0, 1.0, 6), a=NET.a, B=1.0), dict(z=A, a=A, B=S)),
    ("linearization_adversary", wc.linearization_adversary, dict(z=np.linspace(-1.0, 1.0, 6), a=NET.a, B=1.0),
     dict(z=A, a=A, B=S)),
    ("sampled_worst_cases", wc.sampled_worst_cases, dict(m=20, B=1.0, draws=2, rng=G), dict(m=I, B=S, draws=I, rng=O)),
    ("smooth_adversary", wc.smooth_adversary, dict(z=np.linspace(-1.0, 1.0, 6), a=NET.a, B=1.0, activation="tanh",
                                                   max_units=4),
     dict(z=A, a=A, B=S, activation=N, max_units=I)),
    ("Adversary.weights", ADV.weights, dict(W0=W0, x=UNIT), dict(W0=A, x=A)),
    ("taylor_remainder", wc.taylor_remainder, dict(activation="tanh", s=np.linspace(-1.0, 1.0, 4), t=np.full(4, 0.1)),
     dict(activation=N, s=A, t=A)),
    ("fourth_derivative_bound", wc.fourth_derivative_bound, dict(activation="tanh"), dict(activation=N)),
    ("smooth_worst_pair", wc.smooth_worst_pair, dict(W0=W0, x=UNIT, a=NET.a, B=1.0, activation="tanh"),
     dict(W0=A, x=A, a=A, B=S, activation=N)),
    ("linearization_dual", wc.linearization_dual, dict(c=np.array([0.1, 0.2, 0.5]), B=1.0, n=3), dict(c=A, B=S, n=I)),
    ("certified_worst_cases", wc.certified_worst_cases, dict(m=20, B=1.0, draws=2, rng=G),
     dict(m=I, B=S, draws=I, rng=O)),
    ("enumerated_sup", wc.enumerated_sup, dict(z=np.linspace(-1.0, 1.0, 4) + 0.05, a=np.ones(4), B=1.0,
                                               inequality="taylor"),
     dict(z=A, a=A, B=S, inequality=N)),
    # checks
    ("check", ntklib.check, dict(label="b", empirical=ONES3, bound=2 * ONES3, statistic="s", settings={"m": ONES3},
                                 atol=0.0, false_statement=("a bound too small", 0.5 * ONES3)),
     dict(label=N, empirical=A, bound=A, statistic=N, settings=O, atol=S, false_statement=O)),
    ("check_sharpness", ntklib.check_sharpness, dict(label="s", attained=ONES3, bound=ONES3, floor=0.5, statistic="s"),
     dict(label=N, attained=A, bound=A, floor=S, statistic=N)),
    ("check_identity", ntklib.check_identity, dict(label="i", computed=ONES3, reference=ONES3, tol=ONES3, statistic="s"),
     dict(label=N, computed=A, reference=A, tol=A, statistic=N)),
    ("check_agreement", ntklib.check_agreement, dict(label="a", estimate=ONES3, stderr=ONES3, exact=ONES3,
                                                     statistic="s", false_failure=1e-3),
     dict(label=N, estimate=A, stderr=A, exact=A, statistic=N, false_failure=S)),
    ("check_failure_rate", ntklib.check_failure_rate, dict(label="p", empirical=np.zeros((2, 300)), bound=np.ones(2),
                                                           delta=0.1, statistic="s", confidence=0.9),
     dict(label=N, empirical=A, bound=A, delta=S, statistic=N, confidence=S)),
    ("check_slope", ntklib.check_slope, dict(label="r", fit=FIT, exponent=-1.0, statistic="s", mode="equal", allowance=0.0),
     dict(label=N, fit=O, exponent=S, statistic=N, mode=N, allowance=S)),
    ("check_test", _sample_test, dict(samples=G.standard_normal((2, 50)), level=1e-3), dict(samples=A, level=S)),
    ("mutate", checks.mutate, dict(report=REPORT, amount=0.5), dict(report=O, amount=S)),
    ("mutation_results", registry.mutation_results, dict(records=[REPORT]), dict(records=O)),
    ("verify_chapter", registry.verify_chapter, dict(chapter="chapters/intro", records=[], root=None),
     dict(chapter=N, records=O, root=O)),
    # gradient flows
    ("flow_problem", ntklib.flows.flow_problem, dict(net=FLOW_NET, X=FLOW_X, y=np.array([0.3, -0.2, 0.1]), W0=FLOW_W0,
                                                     L_J=1.0, centred=False),
     dict(net=O, X=A, y=A, W0=A, L_J=S, centred=O)),
    ("tangent_flow", ntklib.flows.tangent_flow, dict(problem=FLOW, alpha=2.0, taus=np.array([0.0, 1.0, 5.0])),
     dict(problem=O, alpha=S, taus=A)),
    ("tail_certificate", ntklib.flows.tail_certificate, dict(s_T=0.4, S_T=1.0, R_T=0.01, alpha=5.0, sigma_min=0.5,
                                                             L_J=0.1),
     dict(s_T=S, S_T=S, R_T=S, alpha=S, sigma_min=S, L_J=S)),
    ("lazy_run", lambda **k: ntklib.flows.lazy_run(FLOW, **k), dict(alpha=20.0, points=4),
     dict(alpha=S, points=I)),
]


COVERAGE = {
    "CheckReport": "a result type made by the checkers, not built by users",
    "TrainResult": "a result type made by train, not built by users",
    "base_seed": "no arguments; NTKLIB_SEED is covered by test_validation.test_bad_seed_environment_variable",
    "set_theme": "no arguments",
    "FlowProblem": "a problem type made by flows.flow_problem, not built by users",
    "TailCertificate": "a result type made by flows.tail_certificate, not built by users",
    "LazyRun": "a result type made by flows.lazy_run, not built by users",
}
"""Public callables not in SPECS, and why."""


def _cases() -> list[tuple[str, str, str, Callable[..., Any], dict[str, Any], str]]:
    out = []
    for name, fn, valid, kinds in SPECS:
        for arg, kind in kinds.items():
            for label, value in VARIANTS[kind](valid[arg]):
                out.append((name, arg, label, fn, valid, value))
    return out


CASES = _cases()
OUTCOMES: Counter[str] = Counter()


def _non_finite(x: Any, seen: int = 0) -> bool:
    """Whether a result holds a number that is not finite (arrays, numbers, sequences, dataclasses)."""
    if seen > 4:
        return False
    if isinstance(x, (bool, np.bool_, str, bytes)) or x is None:
        return False
    if isinstance(x, (int, float, np.number)):
        return not np.isfinite(x)
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "fc" and not np.all(np.isfinite(x))
    if isinstance(x, (tuple, list)):
        return any(_non_finite(v, seen + 1) for v in x)
    if isinstance(x, ntklib.CheckReport) and not x.passed:
        return False                 # a rejected (e.g. mutated) statement may be infinitely violated
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(_non_finite(getattr(x, f.name), seen + 1) for f in dataclasses.fields(x) if not f.name.startswith("_"))
    return False


def _named(message: str, names: list[str]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message) for n in names)


@pytest.mark.parametrize(("name", "arg", "label", "fn", "valid", "value"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_bad_input_gives_a_finite_result_or_a_clear_error(name, arg, label, fn, valid, value) -> None:
    kwargs = {**valid, arg: value}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out = fn(**kwargs)
        except (ValueError, TypeError) as exc:
            OUTCOMES["error"] += 1
            names = list(inspect.signature(fn).parameters) if name not in ("TwoLayerNet", "SlopeFit") else list(valid)
            assert _named(str(exc), [*names, *valid]), f"{name}({arg}={label}): message names no argument: {exc}"
            return
        except AssertionError as exc:
            if name.startswith("check") and "FAILED" in str(exc):      # a checker rejecting its statement
                OUTCOMES["statement rejected"] += 1
                return
            raise
    OUTCOMES["finite result"] += 1
    assert not _non_finite(out), f"{name}({arg}={label}) returned a non-finite value: {out!r:.200}"


def test_valid_calls_give_finite_results() -> None:
    """Each spec's valid arguments are accepted, so every bad-input case varies one argument of a good call."""
    for name, fn, valid, _ in SPECS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert not _non_finite(fn(**valid)), name


def _public() -> set[str]:
    names = {n for n in ntklib.__all__ if callable(getattr(ntklib, n)) and not isinstance(getattr(ntklib, n), type(ntklib))}
    for mod in (bounds, wc, registry):
        names |= {n for n in mod.__all__ if callable(getattr(mod, n)) and not isinstance(getattr(mod, n), type)}
    names |= {"mutate", "TwoLayerNet.output", "TwoLayerNet.grad", "TwoLayerNet.jacobian", "TwoLayerNet.jvp",
              "TwoLayerNet.vjp", "TwoLayerNet.taylor", "SlopeFit.predict", "Adversary.weights"}
    return names


def test_every_public_function_is_covered() -> None:
    covered = {name.split(" ")[-1] for name, *_ in SPECS} | set(COVERAGE)
    missing = sorted(_public() - covered - {"Adversary", "Verification", "MutationResult"})
    assert not missing, f"public callables without bad-input cases: {missing}"


def test_zz_report_bad_input_coverage(capsys) -> None:
    with capsys.disabled():
        print(f"\n[test_bad_input] {len(CASES)} bad calls over {len(SPECS)} functions: {dict(OUTCOMES)}")
