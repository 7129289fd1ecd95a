r"""The neural tangent kernel at initialization and its infinite-width limit.

For the NTK-scaled network :math:`f(x; W) = m^{-1/2}\sum_j a_j \sigma(w_j^\top x)` with
:math:`a_j \in \{\pm 1\}`,

.. math::

    k_m(x, x') = \langle \nabla f(x; W_0), \nabla f(x'; W_0)\rangle
               = x^\top x' \cdot \frac1m \sum_{j=1}^m \sigma'(w_{0,j}^\top x)\,\sigma'(w_{0,j}^\top x'),

so the Gram matrix is :math:`K_m = (XX'^\top) \odot (S S'^\top)/m` with :math:`S = \sigma'(XW_0^\top)`.
For a general output scale :math:`\alpha` the Jacobian Gram is :math:`J J^\top = (\alpha^2/m) K_m`.
By the strong law of large numbers :math:`k_m \to k(x, x') = x^\top x'\,
\mathbb{E}_{w \sim N(0, I)}[\sigma'(w^\top x)\sigma'(w^\top x')]` almost surely.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate as v
from .activations import Activation, get_activation
from .network import _chunks

Array = NDArray[np.float64]

__all__ = ["ntk_gram", "ntk_gram_at_init", "ntk_limit", "relu_ntk_unit", "DRAW_BLOCK"]

DRAW_BLOCK = 1 << 14
"""Rows of :math:`W_0` drawn at a time by :func:`~ntklib.ntk_gram_at_init` (fixed, so results do not
depend on memory settings)."""


def _pair(X: ArrayLike, Xp: ArrayLike | None) -> tuple[Array, Array]:
    X = v.matrix("X", X)
    Xp = X if Xp is None else v.matrix("Xp", Xp, cols=X.shape[1])
    return X, Xp


def _accumulate(X: Array, Xp: Array, W: Array, act: Activation, same: bool) -> Array:
    """:math:`\\sum_j \\sigma'(w_j^\\top x_i)\\sigma'(w_j^\\top x'_k)` over the rows of ``W``, chunked."""
    acc = np.zeros((X.shape[0], Xp.shape[0]))
    for s in _chunks(W.shape[0], max(X.shape[0], Xp.shape[0])):
        S = act.d1(X @ W[s].T)
        acc += S @ (S if same else act.d1(Xp @ W[s].T)).T
    return acc


def ntk_gram(X: ArrayLike, Xp: ArrayLike | None = None, *, W: ArrayLike, activation: str | Activation) -> Array:
    r"""Empirical NTK Gram matrix :math:`K_m = (XX'^\top) \odot (SS'^\top)/m` for given weights.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Xp : array_like, shape (n', d), optional
        Second set of inputs; defaults to ``X`` (then the result is symmetric).
    W : array_like, shape (m, d)
        First-layer weights (usually :math:`W_0`).
    activation : str or Activation

    Returns
    -------
    ndarray, shape (n, n')
        :math:`k_m(x_i, x'_k)`.  Cost :math:`O(nn'm + (n + n')md)`, memory
        :math:`O(nn' + \text{chunk})`; no Jacobian is formed.
    """
    X, Xp = _pair(X, Xp)
    W = v.matrix("W", W, cols=X.shape[1])
    act = get_activation(activation)
    return (X @ Xp.T) * _accumulate(X, Xp, W, act, Xp is X) / W.shape[0]


def ntk_gram_at_init(
    X: ArrayLike,
    Xp: ArrayLike | None = None,
    *,
    m: int,
    activation: str | Activation,
    rng: np.random.Generator,
) -> Array:
    r"""Empirical NTK Gram matrix at a fresh :math:`W_0`, drawn block by block.

    Equal (up to summation order) to ``ntk_gram(X, Xp, W=rng.standard_normal((m, d)), ...)``,
    but :math:`W_0` is never held whole: rows are drawn :data:`~ntklib.kernels.DRAW_BLOCK` at a time, so memory
    stays bounded at any width.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Xp : array_like, shape (n', d), optional
    m : int
        Width.
    activation : str or Activation
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (n, n')
    """
    X, Xp = _pair(X, Xp)
    m = v.integer("m", m)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng={rng!r}: expected a numpy.random.Generator (use ntklib.rng)")
    act = get_activation(activation)
    acc = np.zeros((X.shape[0], Xp.shape[0]))
    for start in range(0, m, DRAW_BLOCK):
        block = rng.standard_normal((min(DRAW_BLOCK, m - start), X.shape[1]))
        acc += _accumulate(X, Xp, block, act, Xp is X)
    return (X @ Xp.T) * acc / m


def relu_ntk_unit(t: ArrayLike) -> Array:
    r"""ReLU limit kernel between unit vectors as a function of :math:`t = x^\top x'`.

    .. math:: k(t) = t\,\frac{\pi - \arccos t}{2\pi} = \frac t4 + \frac{t \arcsin t}{2\pi}.

    Parameters
    ----------
    t : array_like
        Inner products in :math:`[-1, 1]`.
    """
    t = v.array("t", t)
    if np.any(np.abs(t) > 1.0):
        raise ValueError("t: expected inner products of unit vectors, in [-1, 1]")
    return t * (np.pi - np.arccos(t)) / (2.0 * np.pi)


def _gauss_expectation(act: Activation, nx: Array, nxp: Array, c: Array, order: int) -> Array:
    r""":math:`\mathbb{E}[\sigma'(u)\sigma'(v)]` for :math:`(u, v)` centred normal with
    :math:`\mathrm{sd}(u)=n_x`, :math:`\mathrm{sd}(v)=n_{x'}`, correlation :math:`c`, by tensor
    Gauss–Hermite quadrature: :math:`u = n_x z_1`, :math:`v = n_{x'}(c z_1 + \sqrt{1-c^2} z_2)`."""
    z, w = np.polynomial.hermite_e.hermegauss(order)
    w = w / np.sqrt(2.0 * np.pi)
    out = np.empty(c.shape[0])
    step = max(1, (1 << 21) // (order * order))
    for s in range(0, c.shape[0], step):
        sl = slice(s, s + step)
        su = np.sqrt(np.clip(1.0 - c[sl] ** 2, 0.0, None))
        A = act.d1(nx[sl, None] * z[None, :]) * w[None, :]
        V = nxp[sl, None, None] * (c[sl, None, None] * z[None, :, None] + su[:, None, None] * z[None, None, :])
        B = act.d1(V) @ w
        out[sl] = np.einsum("pa,pa->p", A, B)
    return out


def ntk_limit(
    X: ArrayLike,
    Xp: ArrayLike | None = None,
    *,
    activation: str | Activation,
    quad_order: int = 80,
) -> Array:
    r"""Infinite-width NTK :math:`k(x, x') = x^\top x'\,\mathbb{E}[\sigma'(w^\top x)\sigma'(w^\top x')]`.

    * ReLU, closed form for any nonzero inputs (the event depends only on the angle
      :math:`\theta` between :math:`x` and :math:`x'`):
      :math:`k(x, x') = x^\top x'\,(\pi - \theta)/(2\pi)`, :math:`\theta = \arccos\frac{x^\top x'}{\|x\|\|x'\|}`;
      :math:`k = 0` if either input is 0.
    * identity: :math:`x^\top x'`.
    * any other activation: Gauss–Hermite quadrature of order ``quad_order`` per dimension over
      the bivariate normal :math:`(w^\top x, w^\top x')`.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Xp : array_like, shape (n', d), optional
        Defaults to ``X``.
    activation : str or Activation
    quad_order : int
        Nodes per dimension for the quadrature (ignored for ReLU and identity).

    Returns
    -------
    ndarray, shape (n, n')
    """
    X, Xp = _pair(X, Xp)
    act = get_activation(activation)
    order = v.integer("quad_order", quad_order, minimum=2)
    G = X @ Xp.T
    if act.name == "identity":
        return G
    nx = np.linalg.norm(X, axis=1)
    nxp = np.linalg.norm(Xp, axis=1)
    denom = np.outer(nx, nxp)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(denom > 0, G / denom, 0.0)
    c = np.clip(c, -1.0, 1.0)
    if act.name == "relu":
        return np.where(denom > 0, G * (np.pi - np.arccos(c)) / (2.0 * np.pi), 0.0)
    N, Np = np.broadcast_to(nx[:, None], c.shape), np.broadcast_to(nxp[None, :], c.shape)
    E = _gauss_expectation(act, N.reshape(-1), Np.reshape(-1), c.reshape(-1), order)
    return G * E.reshape(c.shape)
