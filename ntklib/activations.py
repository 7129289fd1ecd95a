r"""Activation functions with their first two derivatives and smoothness constants.

Every activation is an :class:`~ntklib.Activation`: the function :math:`\sigma`, its
derivatives :math:`\sigma'` and :math:`\sigma''` (elementwise on arrays of any
shape), and the smoothness constant :math:`L = \sup_z |\sigma''(z)|` used by
Lemma 5 (``None`` for the ReLU, whose derivative jumps at 0).

=========  ==========================  ==============================  ==========================
name       :math:`\sigma(z)`           :math:`\sigma'(z)`              :math:`L=\sup|\sigma''|`
=========  ==========================  ==============================  ==========================
relu       :math:`\max(0, z)`          :math:`1[z > 0]`                none
tanh       :math:`\tanh z`             :math:`1-\tanh^2 z`             :math:`4/(3\sqrt3)`
sigmoid    :math:`1/(1+e^{-z})`        :math:`s(1-s)`                  :math:`1/(6\sqrt3)`
softplus   :math:`\log(1+e^{z})`       :math:`1/(1+e^{-z})`            :math:`1/4`
erf        :math:`\mathrm{erf}(z)`     :math:`(2/\sqrt\pi)e^{-z^2}`    :math:`\sqrt{8/(\pi e)}`
identity   :math:`z`                   :math:`1`                       :math:`0`
=========  ==========================  ==============================  ==========================

The ReLU derivative at 0 is taken to be 0; the identity
:math:`\sigma(z) = z\,\sigma'(z)` (Remark 4 of the lecture) holds for either
choice, and the kernel is unaffected because :math:`w^\top x = 0` has
probability zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import special

from . import _validate as v

Array = NDArray[np.float64]

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]


@dataclass(frozen=True)
class Activation:
    """An activation function and its derivatives.

    Attributes
    ----------
    name : str
        Registry name (``"relu"``, ``"tanh"``, ...).
    sigma, d1, d2 : callable
        :math:`\\sigma`, :math:`\\sigma'`, :math:`\\sigma''`, elementwise on float arrays.
    smoothness : float or None
        :math:`L = \\sup_z |\\sigma''(z)|`, or ``None`` when :math:`\\sigma''` is not bounded
        (the ReLU).
    """

    name: str
    sigma: Callable[[Array], Array]
    d1: Callable[[Array], Array]
    d2: Callable[[Array], Array]
    smoothness: float | None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name={self.name!r}: expected a non-empty string")
        for field in ("sigma", "d1", "d2"):
            if not callable(getattr(self, field)):
                raise ValueError(f"{field}={getattr(self, field)!r}: expected a callable, elementwise on float arrays")
        if self.smoothness is not None:
            object.__setattr__(self, "smoothness", v.real("smoothness", self.smoothness, low=0.0))
        # ntklib chooses closed forms (the ReLU kernel, the identity's) by name: a built-in name must come
        # with the built-in functions, or e.g. tanh's functions named "relu" would get the ReLU kernel.
        builtin = _BUILTIN.get(self.name)
        if builtin is not None and (self.sigma, self.d1, self.d2, self.smoothness) != builtin:
            raise ValueError(
                f"name={self.name!r}: the name of a built-in activation with other functions or smoothness; "
                f"expected ntklib.get_activation({self.name!r}), or another name for a new activation"
            )

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, smoothness={self.smoothness})"


def _relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def _relu_d1(z: Array) -> Array:
    return (np.asarray(z) > 0).astype(np.float64)


# The derivatives are written without the differences 1 - tanh^2, 1 - s and 1 - 2s, which cancel in
# the tails (1 - tanh(30)^2 = 0 in floating point, against sech^2(30) = 3.5e-26; relative error
# about e^{2|z|} eps in general) or near 0 (1 - 2 s(z) for small z): every derivative below is
# accurate to a few ulps times the condition number of the function at z.


def _tanh_d1(z: Array) -> Array:
    # sech^2 z = 4 e^{-2|z|} / (1 + e^{-2|z|})^2, no overflow; beyond |z| = 400 the value underflows to
    # 0 anyway, and the cap keeps 2|z| finite
    q = np.exp(-2.0 * np.minimum(np.abs(z), 400.0))
    return 4.0 * q / (1.0 + q) ** 2


def _tanh_d2(z: Array) -> Array:
    return -2.0 * np.tanh(z) * _tanh_d1(z)


def _sigmoid_d1(z: Array) -> Array:
    q = np.exp(-np.abs(z))                       # s (1 - s) = e^{-|z|} / (1 + e^{-|z|})^2, even in z
    return q / (1.0 + q) ** 2


def _sigmoid_d2(z: Array) -> Array:
    return -_sigmoid_d1(z) * np.tanh(np.asarray(z) / 2.0)         # s (1 - s) (1 - 2 s), 1 - 2s = -tanh(z/2)


def _softplus(z: Array) -> Array:
    return np.logaddexp(0.0, z)


def _gauss(z: Array) -> Array:
    """:math:`e^{-z^2}`; beyond :math:`|z| = 40` it underflows to 0 anyway, and the cap keeps :math:`z^2` finite."""
    return np.exp(-np.square(np.clip(z, -40.0, 40.0)))


def _erf_d1(z: Array) -> Array:
    return (2.0 / np.sqrt(np.pi)) * _gauss(z)


def _erf_d2(z: Array) -> Array:
    return (-4.0 / np.sqrt(np.pi)) * (np.asarray(z) * _gauss(z))      # z e^{-z^2} first: no inf * 0


def _identity(z: Array) -> Array:
    return np.array(z, dtype=np.float64)


_BUILTIN: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array], Callable[[Array], Array], float | None]] = {
    "relu": (_relu, _relu_d1, np.zeros_like, None),
    "tanh": (np.tanh, _tanh_d1, _tanh_d2, 4.0 / (3.0 * np.sqrt(3.0))),
    "sigmoid": (special.expit, _sigmoid_d1, _sigmoid_d2, 1.0 / (6.0 * np.sqrt(3.0))),
    "softplus": (_softplus, special.expit, _sigmoid_d1, 0.25),
    "erf": (special.erf, _erf_d1, _erf_d2, float(np.sqrt(8.0 / (np.pi * np.e)))),
    "identity": (_identity, np.ones_like, np.zeros_like, 0.0),
}

ACTIVATIONS: dict[str, Activation] = {name: Activation(name, *fns) for name, fns in _BUILTIN.items()}
"""Every activation ntklib knows, by name."""


def get_activation(activation: str | Activation) -> Activation:
    """Look an activation up by name (an :class:`~ntklib.Activation` passes through).

    Parameters
    ----------
    activation : str or Activation
        One of ``relu, tanh, sigmoid, softplus, erf, identity``.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        If the name is unknown or the argument is neither a string nor an Activation.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    raise ValueError(
        f"activation={activation!r}: expected one of {sorted(ACTIVATIONS)} or an Activation"
    )
