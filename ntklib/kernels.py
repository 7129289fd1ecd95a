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

import contextlib
import math

import numpy as np
from typing import Callable

from numpy.typing import ArrayLike, NDArray
from scipy import special

from . import _validate as v
from .activations import Activation, get_activation
from . import network
from .network import _chunks

Array = NDArray[np.float64]

__all__ = [
    "ntk_gram", "ntk_gram_at_init", "ntk_limit", "relu_ntk_unit", "relu_nngp",
    "DRAW_BLOCK", "GRAM_CHUNK_ELEMENTS", "FORM_BLOCK", "MAX_QUAD_NODES", "PREACTIVATION_LIMIT", "SERIAL_WORK",
]

DRAW_BLOCK = 1 << 14
"""Rows of :math:`W_0` drawn at a time by :func:`~ntklib.ntk_gram_at_init` (fixed, so results do not
depend on memory settings)."""

GRAM_CHUNK_ELEMENTS = 1 << 24
r"""Largest number of entries of the derivative matrix :math:`S` that :func:`~ntklib.ntk_gram` holds at
once (64 MiB in float32 for the ReLU, 128 MiB in float64 otherwise); wider networks are taken in
chunks of units.  At :math:`n = 1000` inputs and width :math:`10^4` the whole :math:`S` fits, so the
dominant step is one symmetric product."""

FORM_BLOCK = 1 << 16
r"""Entries of the pre-activations :math:`WX^\top` formed at a time (512 KiB, cache-sized) while
:math:`S` is filled."""

SERIAL_WORK = 1 << 27
r"""Multiply–adds (:math:`nn'm + (n + n')md`) below which :func:`~ntklib.ntk_gram` runs its matrix
products on one BLAS thread: at that size (a few milliseconds) waking a second thread costs more
than it saves, and on a busy machine a product waiting for it can stall for milliseconds."""

_BLAS = None


def _blas_threads(limit: int | None) -> contextlib.AbstractContextManager:
    """A context in which BLAS uses at most ``limit`` threads (``None``: as configured)."""
    global _BLAS
    if limit is None:
        return contextlib.nullcontext()
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController    # the standard switch for BLAS thread pools

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=limit, user_api="blas")


MAX_QUAD_NODES = 4096
r"""Largest number of Gauss–Hermite nodes per dimension :func:`~ntklib.ntk_limit` uses (one pair then
needs :math:`q^2 \approx 1.7 \times 10^7` evaluations and about 130 MB); inputs that would need more
are refused with a ValueError."""


def _pair(X: ArrayLike, Xp: ArrayLike | None) -> tuple[Array, Array]:
    X = v.matrix("X", X)
    Xp = X if Xp is None else v.matrix("Xp", Xp, cols=X.shape[1], of="X")
    return X, Xp


def _working_dtype(dtype: object) -> type[np.floating]:
    """``numpy.float64`` or ``numpy.float32`` from any spelling numpy accepts, or a ValueError."""
    try:
        dt = None if dtype is None or isinstance(dtype, bool) else np.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt not in (np.float64, np.float32):
        raise ValueError(f"dtype={dtype!r}: expected numpy.float64 (the default) or numpy.float32")
    return dt.type


def _derivatives(act: Activation, X: NDArray[np.floating], W: NDArray[np.floating],
                 dtype: type[np.floating] = np.float64) -> NDArray[np.floating]:
    """:math:`\\sigma'(WX^\\top)`, shape (k, n), for ``X`` and ``W`` already in ``dtype``.

    The pre-activations are formed by one product in ``dtype`` straight into the result, and
    :math:`\\sigma'` is applied in place :data:`FORM_BLOCK` entries (a cache-sized block) at a time.
    For the ReLU in float64 the pre-activations are formed a block at a time in float64 and only
    their signs are stored, as exact 0/1 values in float32 (see :func:`_accumulate`); in float32 the
    signs are those of the float32 products, again stored exactly.
    """
    if act.name == "relu" and dtype is np.float64:
        S = np.empty((W.shape[0], X.shape[0]), np.float32)
        step = max(1, FORM_BLOCK // X.shape[0])
        Z = np.empty((min(step, W.shape[0]), X.shape[0]))
        with _blas_threads(1):      # small products: a second thread only adds waiting
            for start in range(0, W.shape[0], step):
                rows = slice(start, min(start + step, W.shape[0]))
                np.greater(np.matmul(W[rows], X.T, out=Z[: rows.stop - start]), 0, out=S[rows])
        return S
    S = np.matmul(W, X.T)
    flat = S.reshape(-1)
    for start in range(0, flat.size, FORM_BLOCK):
        z = flat[start : start + FORM_BLOCK]
        if act.name == "relu":
            np.greater(z, 0, out=z)
        elif act.name == "tanh":
            # sech^2 z = 1/cosh^2 z: as accurate as Activation.d1 (a few ulps relative; 0 where
            # cosh^2 overflows, |z| > 355 in float64, 44 in float32, where sech^2 is subnormal)
            # and a third of its cost, computed in place
            with np.errstate(over="ignore"):
                np.square(np.cosh(z, out=z), out=z)
            np.reciprocal(z, out=z)
        else:
            z[...] = act.d1(z)
    return S


def _accumulate(X: NDArray[np.floating], Xp: NDArray[np.floating], W: NDArray[np.floating], act: Activation,
                same: bool, dtype: type[np.floating] = np.float64) -> NDArray[np.floating]:
    """:math:`\\sum_j \\sigma'(w_j^\\top x_i)\\sigma'(w_j^\\top x'_k)` over the rows of ``W``, shape (n, n').

    The units are taken in chunks whose slice :math:`S_c` of the derivative matrix has at most
    :data:`GRAM_CHUNK_ELEMENTS` entries; each chunk adds :math:`S_c^\\top S_c'` (one symmetric
    rank-:math:`c` update when ``same``).  For the ReLU the derivatives are 0 or 1, so
    :math:`S_c^\\top S_c'` counts co-active units: integers of at most :math:`2^{24}` (a chunk has at most
    ``GRAM_CHUNK_ELEMENTS / n`` :math:`\\le 2^{24}` units), which float32 arithmetic represents and sums
    exactly in any order.  The chunk products therefore run in single precision, about twice as
    fast, with no rounding at all; from the second chunk on they are accumulated in float64.
    ``X``, ``Xp`` and ``W`` are already in ``dtype``, the precision of the pre-activations.
    """
    acc = None
    for s in _chunks(W.shape[0], max(X.shape[0], Xp.shape[0]), GRAM_CHUNK_ELEMENTS):
        S = _derivatives(act, X, W[s], dtype)
        part = S.T @ (S if same else _derivatives(act, Xp, W[s], dtype))
        acc = part if acc is None else np.add(acc, part, dtype=np.float64)
    return acc


def _binary_scaled(X: Array) -> tuple[Array, NDArray[np.intc]]:
    r"""Rows :math:`x_i 2^{-e_i}` with the largest entry of each in :math:`[1/2, 1)`, and the integers :math:`e_i`.

    Exact (powers of two), so products and sums of the scaled rows round exactly as those of the rows
    themselves, scaled, unless they would over- or underflow: ``ldexp(f(Xs), e)`` reproduces ``f(X)``
    bit for bit where ``f(X)`` is representable and stays finite where ``f(X)`` alone would overflow.
    """
    _, e = np.frexp(np.max(np.abs(X), axis=1))
    return np.ldexp(X, -e[:, None]), e


_SCALE_FREE = ("relu", "identity")
"""Activations whose derivative depends only on the sign of the pre-activation (or not at all)."""

PREACTIVATION_LIMIT = 1e300
r"""Largest bound :math:`\max_j\|w_j\|\,\max_i\|x_i\|_\infty\sqrt d` on the pre-activations that the Gram
matrices accept for an activation other than the ReLU and the identity (a larger one could overflow)."""


def _gram(X: Array, Xp: Array, act: Activation, w_norm: float, m: int,
          sums: Callable[[Array, Array, bool], Array], limit: float = PREACTIVATION_LIMIT) -> Array:
    r""":math:`(XX'^\top) \odot S / m` without overflow, for :math:`S` = ``sums(A, B, same)`` =
    :math:`\sum_j \sigma'(w_j^\top a)\sigma'(w_j^\top b)` over the rows of ``A``, ``B``.

    The inner products are formed from the power-of-two scaled rows (:func:`_binary_scaled`) and the
    scales applied last, so the result is inf only where its value is (then a ValueError), and equals
    the direct formula bit for bit elsewhere.  For the ReLU and the identity ``sums`` is given the
    scaled rows too (:math:`\sigma'` sees only signs); otherwise the rows themselves, after checking
    that no pre-activation can overflow (``w_norm`` bounds the rows of the weights).
    """
    same = Xp is X
    Xs, e = _binary_scaled(X)
    Xps, ep = (Xs, e) if same else _binary_scaled(Xp)
    if act.name in _SCALE_FREE:
        S = sums(Xs, Xps, same)
    else:
        with np.errstate(over="ignore"):     # |w^T x| and its partial sums are at most |w| |x|_inf sqrt(d)
            reach = w_norm * max(float(np.max(np.abs(X))), float(np.max(np.abs(Xp)))) * np.sqrt(X.shape[1])
        if not reach <= limit:
            raise ValueError(
                f"X, Xp, W: pre-activations could reach {reach:.3g}, beyond the float range; expected "
                f"max_j |w_j| max_i |x_i|_inf sqrt(d) <= {limit:.0e} for activation {act.name!r}"
            )
        S = sums(X, Xp, same)
    with np.errstate(over="ignore"):
        K = np.ldexp((Xs @ Xps.T) * S / m, e[:, None] + ep[None, :])
    if not np.all(np.isfinite(K)):
        raise ValueError("X, Xp: kernel values exceed the float range (1.8e308); expected inputs of smaller norm")
    return K


def ntk_gram(X: ArrayLike, Xp: ArrayLike | None = None, *, W: ArrayLike, activation: str | Activation,
             dtype: type[np.floating] | str = np.float64) -> Array:
    r"""Empirical NTK Gram matrix :math:`K_m = (XX'^\top) \odot (SS'^\top)/m` for given weights.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Xp : array_like, shape (n', d), optional
        Second set of inputs; defaults to ``X`` (then the result is symmetric).
    W : array_like, shape (m, d)
        First-layer weights (usually :math:`W_0`).
    activation : str or Activation
    dtype : numpy.float64 (default) or numpy.float32
        Precision of the pre-activations :math:`WX^\top`, the derivatives :math:`S` and their
        product (see *Accuracy*).  The factor :math:`XX'^\top`, the sum over chunks and the
        result are float64 either way.

    Returns
    -------
    ndarray, shape (n, n'), float64
        :math:`k_m(x_i, x'_k)`.  Cost :math:`O(nn'm + (n + n')md)`, memory
        :math:`O(nn' + \text{chunk})`; no Jacobian is formed.

    Raises
    ------
    ValueError
        If a kernel value exceeds the float range, or (activations other than the ReLU and the
        identity) the pre-activations could: :math:`\max_j\|w_j\|\max_i\|x_i\|_\infty\sqrt d >`
        ``ntklib.kernels.PREACTIVATION_LIMIT``.

    Notes
    -----
    *Accuracy.*  ReLU: in either precision :math:`SS'^\top` holds exact counts of co-active units
    (see ``_accumulate``); float64 takes the signs of the float64 pre-activations, float32 those
    of the float32 ones, which can differ only where :math:`|w_j^\top x_i| \le \gamma_{d+2}
    |w_j|^\top|x_i|` (about :math:`10^{-7}\|w_j\|\|x_i\|` for small :math:`d`).

    Smooth activations in float32, with :math:`u = 2^{-24}`, :math:`\gamma_k = ku/(1 - ku)`,
    :math:`L = \sup|\sigma''|` (:attr:`~ntklib.Activation.smoothness`) and :math:`s = \sup|\sigma'|`:
    rounding the inputs and forming :math:`w_j^\top x_i` moves it by at most
    :math:`\gamma_{d+2}|w_j|^\top|x_i|`, and :math:`\sigma'` is evaluated to :math:`8us`, so each
    derivative is off by at most :math:`\delta_{ij} = L\gamma_{d+2}|w_j|^\top|x_i| + 8us`; the
    products are summed in float32 over the :math:`c \le m` units of a chunk.  Hence

    .. math::

        |\hat K_{ik} - K_{ik}| \le \frac{|x_i^\top x'_k|}{m}\sum_j \big(\delta_{ij}|\hat s'_{kj}|
        + |\hat s_{ij}|\delta'_{kj} + \delta_{ij}\delta'_{kj} + \gamma_c |\hat s_{ij}\hat s'_{kj}|\big)
        + \gamma^{(64)}_{d+3}|\hat K_{ik}|,

    the last term for the float64 steps (:math:`\gamma^{(64)}` with :math:`2^{-53}`).  This worst
    case grows like :math:`(d + c)u` (below :math:`10^{-3}` relative for :math:`c \le 10^4`); the
    errors measured are below :math:`10^{-6}` relative, entrywise, for tanh, sigmoid, softplus
    and erf at :math:`n \le 1000`, :math:`m \le 10^4`, :math:`d \le 100` (unit inputs, Gaussian
    weights; ``tests/test_kernels.py`` checks both).  float64 remains the default: the book's
    rounding allowances assume it.
    """
    X, Xp = _pair(X, Xp)
    W = v.matrix("W", W, cols=X.shape[1], of="X")
    act = get_activation(activation)
    dt = _working_dtype(dtype)
    with np.errstate(over="ignore"):
        w_norm = float(np.max(np.linalg.norm(W, axis=1)))
    if act.name in _SCALE_FREE:                # only signs matter: the rows of W scaled too
        W = _binary_scaled(W)[0]
    Wc = W.astype(dt, copy=False)
    (n, d), n2, m = X.shape, Xp.shape[0], W.shape[0]

    def sums(A: Array, B: Array, same: bool) -> Array:
        Ac = A.astype(dt, copy=False)
        return _accumulate(Ac, Ac if same else B.astype(dt, copy=False), Wc, act, same, dt)

    # float32 pre-activations must stay below its range (3.4e38), with the same margin as float64's
    limit = PREACTIVATION_LIMIT if dt is np.float64 else 1e35
    with _blas_threads(1 if n * n2 * m + (n + n2) * m * d < SERIAL_WORK else None):
        return _gram(X, Xp, act, w_norm, m, sums, limit)


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

    Raises
    ------
    ValueError
        As :func:`ntk_gram`, with :math:`\|w_j\| \le 40\sqrt d` (true except with probability
        below :math:`10^{-300}` per unit).
    """
    X, Xp = _pair(X, Xp)
    m = v.integer("m", m)
    rng = v.generator(rng)
    act = get_activation(activation)

    def sums(A: Array, B: Array, same: bool) -> Array:
        acc = np.zeros((A.shape[0], B.shape[0]))
        for start in range(0, m, DRAW_BLOCK):
            block = rng.standard_normal((min(DRAW_BLOCK, m - start), A.shape[1]))
            acc += _accumulate(A, B, block, act, same)
        return acc

    # |w_j| <= 40 sqrt(d) for N(0, I) rows except with probability below 1e-300 per unit
    return _gram(X, Xp, act, 40.0 * np.sqrt(X.shape[1]), m, sums)


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
    # pi - arccos(t) = arccos(-t): the left side cancels near t = -1 (absolute error ulp(pi)
    # against a value of order sqrt(1 + t)); the right side is accurate to a few ulps everywhere.
    return t * np.arccos(-t) / (2.0 * np.pi)


def _gauss_expectation(act: Activation, nx: Array, nxp: Array, c: Array, order: int) -> Array:
    r""":math:`\mathbb{E}[\sigma'(u)\sigma'(v)]` for :math:`(u, v)` centred normal with
    :math:`\mathrm{sd}(u)=n_x`, :math:`\mathrm{sd}(v)=n_{x'}`, correlation :math:`c`, by tensor
    Gauss–Hermite quadrature: :math:`u = n_x z_1`, :math:`v = n_{x'}(c z_1 + \sqrt{1-c^2} z_2)`."""
    z, w = special.roots_hermitenorm(order)          # stable for large orders, unlike hermegauss
    w = w / np.sqrt(2.0 * np.pi)
    out = np.empty(c.shape[0])
    step = max(1, network.CHUNK_ELEMENTS // (order * order))
    for s in range(0, c.shape[0], step):
        sl = slice(s, s + step)
        su = np.sqrt(np.clip(1.0 - c[sl] ** 2, 0.0, None))
        A = act.d1(nx[sl, None] * z[None, :]) * w[None, :]
        V = nxp[sl, None, None] * (c[sl, None, None] * z[None, :, None] + su[:, None, None] * z[None, None, :])
        B = act.d1(V) @ w
        out[sl] = np.einsum("pa,pa->p", A, B)
    return out


def _polar(X: Array) -> tuple[Array, Array, Array]:
    r"""Rows as :math:`x = r\,2^{e}\,\hat x`: unit rows :math:`\hat x` (zero rows stay zero), :math:`r` and
    integer :math:`e`, so that :math:`\|x\| = r\,2^e` with :math:`r \in [1/2, \sqrt d]`.

    Each row is first scaled by the power of two :math:`2^{-e}` that brings its largest entry into
    :math:`[1/2, 1)`: exact, and the squares in the norm can then neither overflow nor underflow
    (``np.linalg.norm`` squares directly: rows beyond :math:`10^{154}` give inf, rows below
    :math:`10^{-154}` lose digits or give 0).  Keeping :math:`e` apart lets :func:`_scaled` apply the
    norms last, so no finite input overflows before the result does.
    """
    Xs, e = _binary_scaled(X)
    r = np.linalg.norm(Xs, axis=1)
    return Xs / np.where(r > 0, r, 1.0)[:, None], r, e


def _scaled(px: tuple[Array, Array, Array], pxp: tuple[Array, Array, Array], core: Array) -> Array:
    r""":math:`\|x_i\|\,\|x'_k\|\,\text{core}_{ik}` from :func:`_polar` forms, binary exponents added exactly
    (``ldexp``): the result is inf only if the value itself overflows, and a zero ``core`` or a
    zero row gives 0; a ValueError if the value overflows."""
    _, r, e = px
    _, rp, ep = pxp
    with np.errstate(over="ignore"):          # overflow to inf only when the value itself overflows
        out = np.ldexp(np.outer(r, rp) * core, e[:, None] + ep[None, :])
    if not np.all(np.isfinite(out)):
        raise ValueError("X, Xp: kernel values exceed the float range (1.8e308); expected inputs of smaller norm")
    return out


def _supplements(U: Array, Up: Array) -> Array:
    r"""Supplementary angles :math:`\pi - \theta = 2\,\mathrm{atan2}(\|\hat x + \hat x'\|, \|\hat x - \hat x'\|)`
    between unit rows, in :math:`[0, \pi]`.

    Unlike :math:`\arccos(\hat x^\top \hat x')`, whose error near :math:`\theta = 0, \pi` is of order
    :math:`\sqrt{\text{eps}}`, the half-angle formula is accurate to a few ulps of :math:`\pi` for all
    angles.  Relative to :math:`\pi - \theta` itself it is accurate only to about
    :math:`\text{eps}/(\pi - \theta)`: the rounding of the unit rows' entries moves
    :math:`\hat x + \hat x'` by a few eps.  Near antipodal pairs, where both ReLU kernels vanish like
    :math:`\pi - \theta` and :math:`(\pi - \theta)^3`, :func:`_antipodal` recomputes the angle from
    the unnormalized rows.  Zero rows give arbitrary angles (their kernel values are 0).
    """
    delta = np.empty((U.shape[0], Up.shape[0]))
    step = max(1, network.CHUNK_ELEMENTS // max(Up.shape[0] * U.shape[1], 1))
    for s in range(0, U.shape[0], step):
        diff = np.linalg.norm(U[s : s + step, None, :] - Up[None, :, :], axis=2)
        summ = np.linalg.norm(U[s : s + step, None, :] + Up[None, :, :], axis=2)
        delta[s : s + step] = 2.0 * np.arctan2(summ, diff)
    return delta


ANTIPODAL = 0.5
r"""Supplementary angles :math:`\pi - \theta` below this are recomputed by :func:`_antipodal`."""

_SPLIT = 134217729.0                          # 2^27 + 1: Dekker's splitting constant


def _two_product(a: Array, b: Array) -> tuple[Array, Array]:
    """``(p, err)`` with ``a * b == p + err`` exactly (Dekker's product, no fused multiply-add needed),
    for factors well inside the float range (here below 2 sqrt(d) in magnitude)."""
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    c = _SPLIT * b
    bh = c - (c - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _antipodal(X: Array, Xp: Array, delta: Array) -> Array:
    r"""``delta`` with the entries below :data:`ANTIPODAL` recomputed to a few ulps relative to themselves.

    For such a pair let :math:`y = -x'` (nearly parallel to :math:`x`).  The part of :math:`y`
    orthogonal to :math:`x` is :math:`r = y - cx` for any :math:`c`, projected once more:
    with :math:`c = x^\top y/\|x\|^2` the products :math:`c\,x_i` are formed exactly
    (:func:`_two_product`), so each :math:`y_i - cx_i` is accurate to a few ulps of itself, and the
    second projection removes what the rounding of :math:`c` left along :math:`x`.  Then
    :math:`\pi - \theta = \mathrm{atan2}(\|x\|\|r\|, x^\top y)`, with both arguments accurate to
    :math:`O(d)` ulps of themselves.  Rows are taken in the exact power-of-two scaling of
    :func:`_binary_scaled`, so nothing over- or underflows.
    """
    nonzero = np.any(X != 0, axis=1)[:, None] & np.any(Xp != 0, axis=1)[None, :]    # zero rows: kernels are 0
    rows, cols = np.nonzero((delta < ANTIPODAL) & nonzero)
    if rows.size == 0:
        return delta
    Xs, Xps = _binary_scaled(X)[0], _binary_scaled(Xp)[0]
    out = delta.copy()
    step = max(1, network.CHUNK_ELEMENTS // X.shape[1])
    for s in range(0, rows.size, step):
        i, k = rows[s : s + step], cols[s : s + step]
        x, y = Xs[i], -Xps[k]
        xx, xy = np.einsum("pd,pd->p", x, x), np.einsum("pd,pd->p", x, y)
        p, err = _two_product((xy / xx)[:, None], x)
        r = (y - p) - err
        r -= (np.einsum("pd,pd->p", r, x) / xx)[:, None] * x
        out[i, k] = np.arctan2(np.sqrt(xx) * np.linalg.norm(r, axis=1), xy)
    return out


_H_SERIES = np.array([(-1) ** (k + 1) * 2 * k / math.factorial(2 * k + 1) for k in range(1, 12)])


def _sin_minus_x_cos(d: Array) -> Array:
    r""":math:`h(\delta) = \sin\delta - \delta\cos\delta \ge 0` on :math:`[0, \pi]`, to a few ulps.

    Both terms are :math:`\approx \delta` while :math:`h \approx \delta^3/3`: below
    :math:`\delta = 1` the series :math:`h = \sum_{k \ge 1} (-1)^{k+1} \frac{2k}{(2k+1)!}\delta^{2k+1}`
    (11 terms, truncation below :math:`10^{-21}` relative) replaces the cancelling difference;
    from :math:`\delta = 1` on, the difference loses at most a factor
    :math:`(\sin 1 + \cos 1)/h(1) < 5`.
    """
    small = d < 1.0
    ds = np.where(small, d, 0.0)
    series = ds**3 * np.polyval(_H_SERIES[::-1], ds * ds)
    return np.where(small, series, np.sin(d) - d * np.cos(d))


def ntk_limit(
    X: ArrayLike,
    Xp: ArrayLike | None = None,
    *,
    activation: str | Activation,
    quad_order: int = 160,
) -> Array:
    r"""Infinite-width NTK :math:`k(x, x') = x^\top x'\,\mathbb{E}[\sigma'(w^\top x)\sigma'(w^\top x')]`.

    * ReLU, closed form for any inputs (the event depends only on the angle :math:`\theta` between
      :math:`x` and :math:`x'`): :math:`k(x, x') = x^\top x'\,(\pi - \theta)/(2\pi)`, with
      :math:`\theta` computed stably (see below); :math:`k = 0` if either input is 0.
    * identity: :math:`x^\top x'`.
    * any other activation: tensor Gauss–Hermite quadrature over the bivariate normal
      :math:`(w^\top x, w^\top x')`, with :math:`q = \lceil q_0 \max(1, r^2)\rceil` nodes per
      dimension, :math:`q_0` = ``quad_order`` and :math:`r` the largest input norm: at scale
      :math:`r` the integrand :math:`\sigma'(r z)` varies on a length :math:`1/r`, and the node
      spacing must follow.  With the default :math:`q_0 = 160` the relative error is below
      :math:`10^{-12}` for tanh, sigmoid, softplus and erf at all norms up to 3 (against the erf
      closed form and against :math:`q_0 = 320`; see the tests).  tanh converges slowest (the
      poles of :math:`\operatorname{sech}^2` at :math:`\pm i\pi/2` limit Gauss–Hermite
      quadrature).  Cost :math:`O(nn'q^2)`, halved when ``Xp`` is omitted (symmetry).

    Parameters
    ----------
    X : array_like, shape (n, d)
    Xp : array_like, shape (n', d), optional
        Defaults to ``X``.
    activation : str or Activation
    quad_order : int
        Base number of nodes :math:`q_0 \ge 2` (ignored for ReLU and identity).

    Returns
    -------
    ndarray, shape (n, n')

    Raises
    ------
    ValueError
        For a smooth activation, if an input norm would need more than
        :data:`~ntklib.kernels.MAX_QUAD_NODES` nodes per dimension (norms above about 5 at the
        default ``quad_order``).

    Notes
    -----
    The ReLU kernel is computed as :math:`\|x\|\|x'\|\cos\theta\,(\pi - \theta)/(2\pi)` with
    :math:`\pi - \theta = 2\,\mathrm{atan2}(\|\hat x + \hat x'\|, \|\hat x - \hat x'\|)` for the
    normalized inputs, where :math:`\arccos(\hat x^\top\hat x')` would lose half the digits near
    :math:`\theta = 0, \pi`; below :math:`\pi - \theta = 1/2` the angle is recomputed from the
    unnormalized inputs with exact products (the rounding of the unit vectors would otherwise cost a
    relative error of about :math:`\text{eps}/(\pi - \theta)`, 2e-8 at :math:`x' = -x + 10^{-9}e`).
    The result's relative error is then at most a few ulps times :math:`1 + \kappa`, with
    :math:`\kappa = \sum_i |x_i x'_i| / |x^\top x'|` the condition number of the inner product, at
    every angle, antipodal pairs included (checked against 50-digit arithmetic in the tests: below
    16 ulps).  Norms are computed without overflow and the norms'
    exponents are applied last, so every finite input gives a finite result unless the kernel
    value itself overflows (then a ValueError).
    """
    X, Xp = _pair(X, Xp)
    act = get_activation(activation)
    order = v.integer("quad_order", quad_order, minimum=2)
    if act.name == "identity":               # x^T x', without overflow
        return _gram(X, Xp, act, 1.0, 1, lambda A, B, same: np.ones((A.shape[0], B.shape[0])))
    px, pxp = _polar(X), _polar(Xp)
    U, Up = px[0], pxp[0]
    c = np.clip(U @ Up.T, -1.0, 1.0)                  # cosines; x^T x' = |x| |x'| c
    if act.name == "relu":
        return _scaled(px, pxp, c * _antipodal(X, Xp, _supplements(U, Up)) / (2.0 * np.pi))
    with np.errstate(over="ignore"):
        nx, nxp = np.ldexp(px[1], px[2]), np.ldexp(pxp[1], pxp[2])
    name, r = max(("X", float(nx.max())), ("Xp", float(nxp.max())), key=lambda p: p[1])
    nodes = order * max(1.0, r * r)                    # r * r is inf, not an OverflowError, beyond 1e154
    if nodes > MAX_QUAD_NODES:
        raise ValueError(
            f"{name}: a row of norm {r:.4g} needs {nodes:.4g} quadrature nodes per dimension at "
            f"quad_order={order}; at most MAX_QUAD_NODES={MAX_QUAD_NODES} are supported, i.e. norms up "
            f"to {np.sqrt(MAX_QUAD_NODES / order):.4g} for a smooth activation (rescale the inputs)"
        )
    q = int(np.ceil(nodes))
    rows, cols = np.triu_indices(X.shape[0]) if Xp is X else np.indices(c.shape).reshape(2, -1)
    E = np.empty_like(c)
    E[rows, cols] = _gauss_expectation(act, nx[rows], nxp[cols], c[rows, cols], q)
    if Xp is X:
        E[cols, rows] = E[rows, cols]
    return _scaled(px, pxp, c * E)


def relu_nngp(X: ArrayLike, Xp: ArrayLike | None = None) -> Array:
    r"""The ReLU second-moment kernel :math:`\mathbb{E}_{w \sim N(0, I)}[\sigma(w^\top x)\,\sigma(w^\top x')]`.

    .. math::

        \kappa(x, x') = \frac{\|x\|\,\|x'\|}{2\pi}\big(\sin\theta + (\pi - \theta)\cos\theta\big),

    the arc-cosine kernel of degree 1 (Cho and Saul), with :math:`\theta` the angle between
    :math:`x` and :math:`x'` computed stably as in :func:`~ntklib.ntk_limit` (relative error below
    16 ulps at every angle, checked against 50-digit arithmetic in the tests).  By symmetry of the
    roles it is also :math:`\mathbb{E}_{x \sim N(0, I)}[\sigma(a^\top x)\sigma(b^\top x)]` for
    weight vectors :math:`a, b`: the Gram matrix of random ReLU features under Gaussian inputs.
    On the diagonal :math:`\kappa(x, x) = \|x\|^2/2`.

    Parameters
    ----------
    X : array_like, shape (n, d)
    Xp : array_like, shape (n', d), optional
        Defaults to ``X``.

    Returns
    -------
    ndarray, shape (n, n')
    """
    X, Xp = _pair(X, Xp)
    px, pxp = _polar(X), _polar(Xp)
    # sin(theta) + (pi - theta) cos(theta) = sin(delta) - delta cos(delta), delta = pi - theta
    return _scaled(px, pxp, _sin_minus_x_cos(_antipodal(X, Xp, _supplements(px[0], pxp[0]))) / (2.0 * np.pi))
