r"""The two-layer network of the lecture, its gradient, Jacobian and Taylor model.

.. math::

    f(x; W) = \frac{\alpha}{m} \sum_{j=1}^m a_j\, \sigma(w_j^\top x),
    \qquad W = (w_1, \dots, w_m)^\top \in \mathbb{R}^{m \times d},\ a_j \in \{-1, +1\},

with :math:`\alpha = \sqrt m` (NTK scaling, the default: :math:`f = m^{-1/2}\sum_j a_j\sigma(w_j^\top x)`)
or :math:`\alpha = 1` (mean-field scaling).  Only :math:`W` is trained; :math:`a` is fixed.

The gradient in :math:`W` has rows :math:`\nabla_{w_j} f(x; W) = \frac{\alpha}{m} a_j \sigma'(w_j^\top x)\, x`,
and every product with the Jacobian is computed from this structure, in chunks over the width,
without forming the :math:`n \times md` Jacobian (only :meth:`~ntklib.TwoLayerNet.jacobian` forms it,
for small problems and tests).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate as v
from .activations import Activation, get_activation

Array = NDArray[np.float64]

__all__ = ["TwoLayerNet", "init_network", "outputs_at_init", "output_scale", "CHUNK_ELEMENTS"]

CHUNK_ELEMENTS = 1 << 21
"""Largest number of float64 entries (16 MiB) in one width-chunk of an n x m intermediate."""


def output_scale(scale: str | float, m: int) -> float:
    r"""The output scale :math:`\alpha` for a width ``m``.

    Parameters
    ----------
    scale : {"ntk", "mean-field"} or float
        ``"ntk"`` gives :math:`\sqrt m`, ``"mean-field"`` gives 1; a positive number is used as is.
    m : int
        Width, :math:`m \ge 1`.
    """
    m = v.integer("m", m)
    if isinstance(scale, str):
        if scale == "ntk":
            return float(np.sqrt(m))
        if scale == "mean-field":
            return 1.0
        raise ValueError(f"scale={scale!r}: expected 'ntk', 'mean-field' or a positive number")
    return v.real("scale", scale, low=0.0, low_open=True)


F = TypeVar("F", bound=Callable[..., Any])


def _finite(value: Array, names: str) -> Array:
    """``value``, or a ValueError naming ``names`` if it holds NaN or inf (float64 could not represent it)."""
    if not np.all(np.isfinite(value)):
        raise ValueError(
            f"{names}: the result is not finite (a pre-activation, output or sum over units exceeds the float "
            f"range, about 1.8e308); expected inputs and weights of moderate size"
        )
    return value


def finite_result(names: str) -> Callable[[F], F]:
    """Decorator: evaluate without floating-point warnings and raise a ValueError naming ``names`` if the
    result is not finite (finite input never gives NaN or inf silently)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            with np.errstate(over="ignore", invalid="ignore"):
                return _finite(fn(*args, **kwargs), names)

        return inner  # type: ignore[return-value]

    return wrap


def _chunks(m: int, n: int, budget: int | None = None) -> Iterator[slice]:
    """Slices of ``range(m)`` whose ``n x len`` blocks hold at most ``budget`` (default
    :data:`CHUNK_ELEMENTS`) entries, and at least one unit."""
    step = max(1, (CHUNK_ELEMENTS if budget is None else budget) // max(n, 1))
    for start in range(0, m, step):
        yield slice(start, min(start + step, m))


@dataclass(frozen=True)
class TwoLayerNet:
    r"""A two-layer network :math:`f(x; W) = \frac{\alpha}{m}\sum_j a_j \sigma(w_j^\top x)` with fixed :math:`a`.

    The weights :math:`W` are passed to every method, so that one network can be evaluated at
    :math:`W_0`, at a perturbation, or along a trajectory.  Create one with :func:`~ntklib.init_network`
    or directly.

    Attributes
    ----------
    a : ndarray, shape (m,)
        Output weights in :math:`\{-1, +1\}`.
    activation : Activation
    alpha : float
        Output scale :math:`\alpha > 0`.
    """

    a: Array
    activation: Activation
    alpha: float

    def __post_init__(self) -> None:
        a = v.vector("a", self.a)
        if not np.all(np.abs(a) == 1.0):
            raise ValueError("a: expected entries in {-1, +1}")
        a.setflags(write=False)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "activation", get_activation(self.activation))
        object.__setattr__(self, "alpha", v.real("alpha", self.alpha, low=0.0, low_open=True))

    @property
    def m(self) -> int:
        """Width :math:`m`."""
        return int(self.a.shape[0])

    @property
    def coef(self) -> float:
        r""":math:`\alpha / m`, the factor in front of the sum."""
        return self.alpha / self.m

    def _weights(self, W: ArrayLike, name: str = "W", d: int | None = None, of: str = "X") -> Array:
        W = v.matrix(name, W, cols=d, of=of)
        if W.shape[0] != self.m:
            raise ValueError(f"{name} has {W.shape[0]} rows: expected m={self.m} (one per hidden unit)")
        return W

    def _inputs(self, X: ArrayLike, W: ArrayLike, name: str = "W") -> tuple[Array, Array]:
        X = v.matrix("X", X)
        return X, self._weights(W, name, d=X.shape[1])

    @finite_result("X, W")
    def output(self, X: ArrayLike, W: ArrayLike) -> Array:
        r"""Network outputs :math:`f(x_i; W)` on a batch.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Inputs, one per row.
        W : array_like, shape (m, d)
            First-layer weights.

        Returns
        -------
        ndarray, shape (n,)
            :math:`\frac{\alpha}{m}\,\sigma(XW^\top)\,a`.
        """
        return self._output(*self._inputs(X, W))

    def _output(self, X: Array, W: Array) -> Array:
        """:meth:`output` on validated float64 arrays (for loops that validated once)."""
        out = np.zeros(X.shape[0])
        for s in _chunks(self.m, X.shape[0]):
            out += self.activation.sigma(X @ W[s].T) @ self.a[s]
        return self.coef * out

    @finite_result("x, W")
    def grad(self, x: ArrayLike, W: ArrayLike) -> Array:
        r"""Gradient :math:`\nabla_W f(x; W)` at one input.

        Parameters
        ----------
        x : array_like, shape (d,)
        W : array_like, shape (m, d)

        Returns
        -------
        ndarray, shape (m, d)
            Row :math:`j` is :math:`\frac{\alpha}{m} a_j \sigma'(w_j^\top x)\, x^\top`.
        """
        x = v.vector("x", x)
        W = self._weights(W, d=x.shape[0], of="x")
        return (self.coef * self.a * self.activation.d1(W @ x))[:, None] * x[None, :]

    @finite_result("X, W")
    def jacobian(self, X: ArrayLike, W: ArrayLike) -> Array:
        r"""The Jacobian on a data set, materialized (small problems and tests only).

        Parameters
        ----------
        X : array_like, shape (n, d)
        W : array_like, shape (m, d)

        Returns
        -------
        ndarray, shape (n, m*d)
            Row :math:`i` is :math:`\mathrm{vec}(\nabla_W f(x_i; W))` (row-major, matching
            ``W.reshape(-1)``).  Memory :math:`8nmd` bytes: prefer :meth:`~ntklib.TwoLayerNet.jvp`, :meth:`~ntklib.TwoLayerNet.vjp` and
            :func:`ntklib.ntk_gram`, which use the structure instead.
        """
        X, W = self._inputs(X, W)
        S = self.activation.d1(X @ W.T) * (self.coef * self.a)
        return (S[:, :, None] * X[:, None, :]).reshape(X.shape[0], -1)

    @finite_result("X, W, V")
    def jvp(self, X: ArrayLike, W: ArrayLike, V: ArrayLike) -> Array:
        r"""Jacobian–vector product :math:`J_W\,\mathrm{vec}(V) = (\langle \nabla_W f(x_i; W), V\rangle)_i`.

        Parameters
        ----------
        X : array_like, shape (n, d)
        W, V : array_like, shape (m, d)
            Point of linearization and direction.

        Returns
        -------
        ndarray, shape (n,)
            :math:`\frac{\alpha}{m}\,[\sigma'(XW^\top) \odot (XV^\top)]\,a`.
        """
        X, W = self._inputs(X, W)
        return self._jvp(X, W, self._weights(V, "V", d=X.shape[1]))

    def _jvp(self, X: Array, W: Array, V: Array) -> Array:
        """:meth:`jvp` on validated float64 arrays."""
        out = np.zeros(X.shape[0])
        for s in _chunks(self.m, X.shape[0]):
            out += (self.activation.d1(X @ W[s].T) * (X @ V[s].T)) @ self.a[s]
        return self.coef * out

    @finite_result("X, W, r")
    def vjp(self, X: ArrayLike, W: ArrayLike, r: ArrayLike) -> Array:
        r"""Vector–Jacobian product :math:`J_W^\top r = \sum_i r_i \nabla_W f(x_i; W)`.

        Parameters
        ----------
        X : array_like, shape (n, d)
        W : array_like, shape (m, d)
        r : array_like, shape (n,)

        Returns
        -------
        ndarray, shape (m, d)
            Row :math:`j` is :math:`\frac{\alpha}{m} a_j \sum_i r_i \sigma'(w_j^\top x_i)\, x_i^\top`.
            With :math:`r = \alpha f - y` this is the gradient of :math:`\tfrac12\|\alpha f(W) - y\|^2`
            divided by :math:`\alpha`.
        """
        X, W = self._inputs(X, W)
        return self._vjp(X, W, v.vector("r", r, length=X.shape[0], of="X"))

    def _vjp(self, X: Array, W: Array, r: Array) -> Array:
        """:meth:`vjp` on validated float64 arrays (for loops that validated once)."""
        out = np.empty_like(W)
        for s in _chunks(self.m, X.shape[0]):
            out[s] = (self.activation.d1(X @ W[s].T).T * self.a[s, None]) @ (r[:, None] * X)
        return self.coef * out

    @finite_result("X, W, W_ref")
    def taylor(self, X: ArrayLike, W: ArrayLike, W_ref: ArrayLike) -> Array:
        r"""The Taylor model at ``W_ref``: :math:`\tilde f(x; W) = f(x; W_{\rm ref}) + \langle \nabla f(x; W_{\rm ref}), W - W_{\rm ref}\rangle`.

        Parameters
        ----------
        X : array_like, shape (n, d)
        W, W_ref : array_like, shape (m, d)

        Returns
        -------
        ndarray, shape (n,)
        """
        X, W_ref = self._inputs(X, W_ref, "W_ref")
        W = self._weights(W, d=X.shape[1])
        return self._output(X, W_ref) + self._jvp(X, W_ref, _finite(W - W_ref, "W, W_ref"))


def init_network(
    m: int,
    d: int,
    rng: np.random.Generator,
    *,
    activation: str | Activation = "relu",
    scale: str | float = "ntk",
    symmetric: bool = False,
) -> tuple[TwoLayerNet, Array]:
    r"""Draw a network and its initialization :math:`W_0` with i.i.d. :math:`N(0, 1)` entries.

    Parameters
    ----------
    m, d : int
        Width and input dimension (:math:`\ge 1`).
    rng : numpy.random.Generator
        From :func:`ntklib.rng`.
    activation : str or Activation
    scale : {"ntk", "mean-field"} or float
        See :func:`~ntklib.output_scale`.
    symmetric : bool
        If true, :math:`m` must be even; units come in pairs :math:`(a_j, w_j)` and
        :math:`(-a_j, w_j)` (unit :math:`j + m/2` copies :math:`w_j` with the opposite sign of
        :math:`a_j`), so :math:`f(\cdot\,; W_0) = 0` up to rounding while each :math:`w_j` is still
        :math:`N(0, I_d)`.

    Returns
    -------
    (TwoLayerNet, ndarray of shape (m, d))
        The network (with :math:`a_j` uniform on :math:`\{\pm1\}`) and :math:`W_0`.
        :math:`W_0` is drawn before :math:`a`.
    """
    m = v.integer("m", m)
    d = v.integer("d", d)
    rng = v.generator(rng)
    alpha = output_scale(scale, m)
    if not isinstance(symmetric, (bool, np.bool_)):       # "no", None, 2 and NaN are not flags
        raise ValueError(f"symmetric={symmetric!r}: expected True or False")
    if symmetric:
        if m % 2:
            raise ValueError(f"m={m}: symmetric initialization needs an even width")
        half = rng.standard_normal((m // 2, d))
        signs = rng.choice([-1.0, 1.0], size=m // 2)
        W0 = np.vstack([half, half])
        a = np.concatenate([signs, -signs])
    else:
        W0 = rng.standard_normal((m, d))
        a = rng.choice([-1.0, 1.0], size=m)
    return TwoLayerNet(a, get_activation(activation), alpha), W0


@finite_result("X")
def outputs_at_init(
    X: ArrayLike,
    *,
    m: int,
    trials: int,
    activation: str | Activation,
    rng: np.random.Generator,
    scale: str | float = "ntk",
) -> Array:
    r"""Outputs :math:`f(x_i; W_0)` of ``trials`` independent networks, drawn and evaluated in blocks.

    Each network is drawn as by :func:`init_network` (:math:`W_0` with i.i.d. :math:`N(0, 1)`
    entries, :math:`a_j` uniform on :math:`\{\pm 1\}`), but a block of networks at a time: the
    weights of the whole block, then its signs.  A block holds as many networks as keep its arrays
    within :data:`~ntklib.network.CHUNK_ELEMENTS` numbers, and at least one; the block size depends
    only on the shapes, so the results depend on nothing but the generator.  A block of one network
    draws exactly what :func:`init_network` draws.

    Parameters
    ----------
    X : array_like, shape (n, d)
    m : int
        Width.
    trials : int
        Number of independent networks.
    activation : str or Activation
    rng : numpy.random.Generator
    scale : {"ntk", "mean-field"} or float
        See :func:`output_scale`.

    Returns
    -------
    ndarray, shape (trials, n)
        Row :math:`t` is :math:`\frac{\alpha}{m}\sum_j a^{(t)}_j\sigma(w^{(t)\top}_j x_i)` for network :math:`t`.
    """
    X = v.matrix("X", X)
    m = v.integer("m", m)
    trials = v.integer("trials", trials)
    act = get_activation(activation)
    rng = v.generator(rng)
    alpha = output_scale(scale, m)
    n, d = X.shape
    out = np.empty((trials, n))
    step = max(1, CHUNK_ELEMENTS // (m * max(n, d)))
    for start in range(0, trials, step):
        t = min(step, trials - start)
        W = rng.standard_normal((t, m, d))
        a = rng.choice([-1.0, 1.0], size=(t, m))
        out[start : start + t] = (alpha / m) * (a[:, None, :] @ act.sigma(W @ X.T))[:, 0, :]
    return out
