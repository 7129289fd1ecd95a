r"""Worst cases of the near-linearity lemmas, computed exactly or by structured adversaries.

For one input :math:`x` with :math:`\|x\| = 1`, write :math:`z_j = w_{0,j}^\top x` and
:math:`t_j = (w_j - w_{0,j})^\top x`.  Moving :math:`w_j` along :math:`x` is the cheapest way to
change :math:`t_j` (cost :math:`t_j^2` in :math:`\|W - W_0\|_F^2`), so every supremum over the ball
:math:`\|W - W_0\|_F \le B` reduces to a problem over :math:`t \in \mathbb{R}^m`, :math:`\|t\|_2 \le B`.

**Lemma 7, first inequality (ReLU, exact).**  Unit :math:`j` contributes
:math:`\sigma(z_j + t_j) - \mathbf 1[z_j > 0](z_j + t_j) = (|t_j| - |z_j|)_+` when :math:`t_j` points
across zero, and nothing otherwise; all contributions are :math:`\ge 0`, so an adversary uses
the units of one output sign :math:`s`.  With :math:`c_{(1)} \le c_{(2)} \le \dots` the sorted
:math:`|z_j|` of those units, spending the budget equally on the :math:`k` smallest gives

.. math::

    \sup_{\|W - W_0\|_F \le B} |f(x; W) - \tilde f(x; W)|
    = \frac{1}{\sqrt m}\max_{s = \pm 1}\ \max_{k \ge 0}\Big(B\sqrt k - \sum_{i \le k} c^{(s)}_{(i)}\Big),

(:func:`taylor_sup`).  Only the smallest order statistics of :math:`|z_j|` enter, and
:func:`smallest_abs_normals` draws them exactly without drawing all :math:`m`, so widths of
:math:`10^8` cost the same as :math:`10^5`.

**Lemma 7, second inequality (ReLU, adversary).**  For :math:`W, V` in the ball, unit :math:`j`
contributes :math:`|v_j^\top x|` when :math:`w_j^\top x` and :math:`v_j^\top x` lie on opposite sides of
0.  :func:`linearization_adversary` moves the :math:`k_A` units of smallest :math:`|z_j|` that
:math:`W`'s budget can afford just across zero, and spends :math:`V`'s budget as in the first
problem with those units' costs set to zero; its value is a lower bound on the supremum.

**Lemma 5 (smooth activations, adversary).**  :func:`smooth_adversary` spends the budget equally
on the :math:`k` units where :math:`a_j\sigma''(z_j)` is largest (one sign), with the best
direction for each unit and the best :math:`k`; a lower bound on the supremum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from . import _validate as v
from .activations import Activation, get_activation

Array = NDArray[np.float64]

__all__ = [
    "smallest_abs_normals",
    "taylor_sup",
    "Adversary",
    "taylor_worst_case",
    "linearization_adversary",
    "sampled_worst_cases",
    "smooth_adversary",
    "ASYMPTOTIC_TAYLOR",
    "ASYMPTOTIC_LINEARIZATION",
]

_RHO = float(np.sqrt(2.0 / np.pi))   # density of |N(0,1)| at 0

UNIT_TOLERANCE = 1e-12
r"""How far from 1 the norm of the input given to :meth:`Adversary.weights` may be (rounding only)."""

ASYMPTOTIC_TAYLOR = 0.75 * (_RHO / 4.0) ** (1.0 / 3.0)
r""":math:`\lim m^{1/6}\sup|f - \tilde f| / B^{4/3} = \frac34(\rho/4)^{1/3} \approx 0.438`, :math:`\rho = \sqrt{2/\pi}`."""

ASYMPTOTIC_LINEARIZATION = (3.0 ** (1.0 / 6.0) + 3.0 ** (2.0 / 3.0) / 2.0) * (_RHO / 2.0) ** (1.0 / 3.0)
r""":math:`\lim m^{1/6}(\text{adversary of the second inequality}) / B^{4/3} = (3^{1/6} + 3^{2/3}/2)(\rho/2)^{1/3} \approx 1.650`."""



def smallest_abs_normals(n: int, k: int, rng: np.random.Generator) -> Array:
    r"""The :math:`k` smallest of :math:`n` i.i.d. :math:`|N(0, 1)|`, in increasing order, drawn exactly.

    Uniform order statistics are partial sums of exponentials: with :math:`E_i` i.i.d.
    Exp(1) and :math:`S_i = E_1 + \dots + E_i`, :math:`(U_{(1)}, \dots, U_{(n)}) = (S_1, \dots, S_n)/S_{n+1}`
    in law, and :math:`S_{n+1} = S_k + G` with :math:`G \sim \mathrm{Gamma}(n + 1 - k)` independent.
    Then :math:`|Z|_{(i)} = \sqrt2\,\mathrm{erfinv}(U_{(i)})`.  Cost :math:`O(k)`, whatever :math:`n`.

    Parameters
    ----------
    n : int
        Sample size, :math:`\ge 1`.
    k : int
        Number of order statistics, :math:`1 \le k \le n`.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (k,)
    """
    n = v.integer("n", n)
    k = v.integer("k", k)
    if k > n:
        raise ValueError(f"k={k}: expected at most n={n}")
    g = v.generator(rng)
    S = np.cumsum(g.standard_exponential(k))
    total = S[-1] + g.standard_gamma(n + 1 - k)
    return np.sqrt(2.0) * special.erfinv(S / total)


def _representable(value: float, names: str) -> float:
    r"""``value``, or a ValueError naming ``names`` if it is not finite: a supremum of order
    :math:`B\sqrt m` beyond the float range (``B`` near the float maximum)."""
    if not np.isfinite(value):
        raise ValueError(f"{names}: the worst case, of order B sqrt(m), exceeds the float range (about 1.8e308); "
                         f"expected B sqrt(m) below it")
    return value


def taylor_sup(c: ArrayLike, B: float) -> tuple[float, int]:
    r""":math:`\max_{k \ge 0} (B\sqrt k - \sum_{i \le k} c_{(i)})` for sorted costs :math:`c`, and the maximizing :math:`k`.

    The increments :math:`B(\sqrt k - \sqrt{k-1}) - c_{(k)}` decrease in :math:`k`, so the maximum is
    at the last positive increment.

    Parameters
    ----------
    c : array_like, shape (K,)
        Nondecreasing, nonnegative costs (sorted :math:`|z_j|`).
    B : float
        Budget :math:`\ge 0`.

    Returns
    -------
    (value, k) : (float, int)

    Raises
    ------
    ValueError
        If :math:`B\sqrt K` exceeds the float range.
    """
    c = v.vector("c", c, min_length=0) if np.size(c) else np.zeros(0)
    B = v.real("B", B, low=0.0)
    if c.size and (np.any(c < 0) or np.any(np.diff(c) < 0)):
        raise ValueError("c: expected nondecreasing nonnegative costs")
    if c.size == 0:
        return 0.0, 0
    ks = np.arange(1, c.size + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        values = B * np.sqrt(ks) - np.cumsum(c)
        _representable(B * np.sqrt(c.size), "B")
    i = int(np.argmax(values))
    return (float(values[i]), i + 1) if values[i] > 0 else (0.0, 0)


@dataclass(frozen=True)
class Adversary:
    """A perturbation that (nearly) maximizes a Taylor remainder at one input.

    Attributes
    ----------
    value : float
        The remainder it achieves, computed from the formula.
    units : ndarray of int
        Units it moves.
    t : ndarray, shape (m,)
        Movement :math:`t_j` along :math:`x` of every unit (zero for the others).
    t_ref : ndarray, shape (m,) or None
        For the second inequality: the movement of the linearization point :math:`W`
        (``t`` is then that of :math:`V`).
    """

    value: float
    units: NDArray[np.int64]
    t: Array
    t_ref: Array | None = None

    def weights(self, W0: ArrayLike, x: ArrayLike) -> tuple[Array, Array | None]:
        r"""The perturbed weights :math:`W_0 + t\,x^\top` (and :math:`W_0 + t_{\rm ref}\,x^\top`) for a unit :math:`x`.

        Raises a ValueError if :math:`|\|x\| - 1|` exceeds ``UNIT_TOLERANCE`` = 1e-12 (the movement
        was computed for the pre-activations at a unit input) or the weights overflow."""
        W0 = v.matrix("W0", W0)
        if W0.shape[0] != self.t.size:           # would broadcast into a numpy error naming nothing
            raise ValueError(f"W0 has {W0.shape[0]} rows: expected m={self.t.size} (one per unit of t)")
        x = v.vector("x", x, length=W0.shape[1], of="W0")
        with np.errstate(over="ignore"):
            norm = float(np.linalg.norm(x))
        if not abs(norm - 1.0) <= UNIT_TOLERANCE:       # the movement t was computed for a unit x
            raise ValueError(f"x: expected a unit vector (|x| = 1 within {UNIT_TOLERANCE:g}), got |x| = {norm!r}")
        with np.errstate(over="ignore"):
            W = W0 + np.outer(self.t, x)
            V = None if self.t_ref is None else W0 + np.outer(self.t_ref, x)
        if not (np.all(np.isfinite(W)) and (V is None or np.all(np.isfinite(V)))):
            raise ValueError("W0: the perturbed weights exceed the float range (about 1.8e308)")
        return W, V


def _sign_classes(z: Array, a: Array) -> list[tuple[NDArray[np.int64], Array]]:
    out = []
    for s in (1.0, -1.0):
        idx = np.flatnonzero(a == s)
        order = idx[np.argsort(np.abs(z[idx]), kind="stable")]
        out.append((order, np.abs(z[order])))
    return out


def _inputs(z: ArrayLike, a: ArrayLike, B: float) -> tuple[Array, Array, float]:
    z = v.vector("z", z)
    a = v.vector("a", a, length=z.shape[0], of="z")
    if not np.all(np.abs(a) == 1.0):
        raise ValueError("a: expected entries in {-1, +1}")
    return z, a, v.real("B", B, low=0.0)


def taylor_worst_case(z: ArrayLike, a: ArrayLike, B: float) -> Adversary:
    r"""Exact :math:`\sup_{\|W - W_0\|_F \le B}|f(x; W) - \tilde f(x; W)|` for the NTK-scaled ReLU network.

    Parameters
    ----------
    z : array_like, shape (m,)
        Pre-activations :math:`w_{0,j}^\top x` at a unit input :math:`x`.
    a : array_like, shape (m,)
        Output weights in :math:`\{-1, +1\}`.
    B : float
        Radius :math:`\ge 0`.

    Returns
    -------
    Adversary
        ``value`` is the supremum (attained); ``t`` the maximizing movement along :math:`x`:
        :math:`t_j = -\mathrm{sign}(z_j)\,B/\sqrt k` on the :math:`k` chosen units.
    """
    z, a, B = _inputs(z, a, B)
    best = (0.0, np.zeros(0, dtype=np.int64))
    for order, c in _sign_classes(z, a):
        value, k = taylor_sup(c, B)
        if value > best[0]:
            best = (value, order[:k])
    t = np.zeros_like(z)
    if best[1].size:
        t[best[1]] = -np.sign(z[best[1]]) * B / np.sqrt(best[1].size)
    return Adversary(best[0] / np.sqrt(z.size), best[1], t)


def _linearization_value(c: Array, B: float) -> tuple[float, int, int]:
    """Best (value, k_A, k) for one sign class with sorted costs c (see module docstring)."""
    if c.size == 0:
        return 0.0, 0, 0
    # flips W can afford: sum of c_i^2 <= B^2, compared after scaling c and B by one power of two (exact)
    # so that neither the squares nor their sum overflow
    _, e = np.frexp(max(B, float(c[-1])))
    cs, Bs = np.ldexp(c, -e), np.ldexp(B, -e)
    k_A = int(np.searchsorted(np.cumsum(cs * cs), Bs * Bs, side="right"))
    rest = c[k_A:]
    ks = np.arange(0, rest.size + 1)
    with np.errstate(over="ignore", invalid="ignore"):
        values = B * np.sqrt(k_A + ks) - np.concatenate([[0.0], np.cumsum(rest)])
        value = float(np.max(values) + np.sum(c[:k_A]))
    _representable(value, "B")                   # NaN or inf when B sqrt(k) overflows
    j = int(np.argmax(values))
    return value, k_A, k_A + j


def linearization_adversary(z: ArrayLike, a: ArrayLike, B: float) -> Adversary:
    r"""A lower bound on :math:`\sup_{W, V}|f(x; V) - f(x; W) - \langle\nabla f(x; W), V - W\rangle|` over the ball.

    :math:`W` moves the :math:`k_A` units of smallest :math:`|z_j|` (one output sign) just across
    zero, as many as :math:`\sum_{i \le k_A} c_{(i)}^2 \le B^2` allows; :math:`V` pushes :math:`k \ge k_A`
    units by :math:`B/\sqrt k` each, away from zero on the original side for those :math:`k_A` units
    and across zero for the others; :math:`k` is chosen optimally.  The value is
    :math:`\frac{1}{\sqrt m}\big(B\sqrt k + \sum_{i \le k_A} c_{(i)} - \sum_{k_A < i \le k} c_{(i)}\big)`,
    approached as the :math:`W`-units approach zero from the far side (``t_ref`` places them at
    :math:`10^{-12}` beyond it, so the budget is exceeded by at most that).

    Parameters, returns: as :func:`taylor_worst_case` (``t`` moves :math:`V`, ``t_ref`` moves :math:`W`).
    """
    z, a, B = _inputs(z, a, B)
    best = (0.0, np.zeros(0, dtype=np.int64), 0)
    for order, c in _sign_classes(z, a):
        value, k_A, k = _linearization_value(c, B)
        if value > best[0]:
            best = (value, order[:k], k_A)
    units, k_A = best[1], best[2]
    t, t_ref = np.zeros_like(z), np.zeros_like(z)
    if units.size:
        side = np.sign(z[units])
        t[units] = np.where(np.arange(units.size) < k_A, side, -side) * B / np.sqrt(units.size)
        flipped = units[:k_A]
        t_ref[flipped] = -z[flipped] - np.sign(z[flipped]) * 1e-12
    return Adversary(best[0] / np.sqrt(z.size), units, t, t_ref)


def sampled_worst_cases(m: int, B: float, draws: int, rng: np.random.Generator) -> tuple[Array, Array]:
    r"""Both ReLU worst cases over independent draws of :math:`W_0` and :math:`a`, at any width.

    Each draw splits the :math:`m` units into output signs, :math:`m_+ \sim \mathrm{Bin}(m, 1/2)`, and
    draws only the smallest order statistics of :math:`|z_j|` in each class
    (:func:`smallest_abs_normals`), enough to contain the optimum (checked; more are drawn if not).

    Returns
    -------
    (taylor, linearization) : two ndarrays of shape (draws,)
        The exact supremum of the first inequality and the adversary's value for the second.
    """
    m = v.integer("m", m)
    B = v.real("B", B, low=0.0)
    draws = v.integer("draws", draws)
    g = v.generator(rng)
    out = np.zeros((2, draws))
    with np.errstate(over="ignore"):         # B beyond ~1e150: the estimate is inf, capped at m
        estimate = 1.3 * (3.0 * (_RHO * m / 2.0) ** 2 * B * B) ** (1.0 / 3.0)
    guess = int(np.ceil(min(estimate, float(m)))) + 64   # about k_A (never more than m are drawn)
    for r in range(draws):
        m_plus = int(g.binomial(m, 0.5))
        for n in (m_plus, m - m_plus):
            if n == 0:
                continue
            k = min(n, guess)
            while True:
                c = smallest_abs_normals(n, k, g)
                first, k1 = taylor_sup(c, B)
                second, k_A, k2 = _linearization_value(c, B)
                if k == n or (k1 < k and k2 < k and k_A < k):
                    break
                k = min(n, 2 * k)
            out[0, r] = max(out[0, r], first)
            out[1, r] = max(out[1, r], second)
    return out[0] / np.sqrt(m), out[1] / np.sqrt(m)


_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_GL_U = (_GL_X + 1.0) / 2.0                      # nodes on [0, 1]
_GL_WEIGHTS = _GL_W / 2.0 * (1.0 - _GL_U)        # weights of the kernel (1 - u) on [0, 1]


def _remainder(act: Activation, s: Array, t: Array) -> Array:
    r""":math:`\sigma(s + t) - \sigma(s) - \sigma'(s)\,t`, elementwise.

    The difference cancels: its terms are of order :math:`|t|` while the remainder is of order
    :math:`t^2`, so it carries a relative error of order :math:`\text{eps}/t^2` (pure rounding noise,
    of the first-order size :math:`\sigma'(s)|t|`, once :math:`t^2 < \text{eps}`; it would exceed
    Lemma 5's bound for :math:`B \lesssim 10^{-7}`).  For a smooth activation and :math:`|t| \le 1`
    the integral form :math:`t^2\int_0^1 (1 - u)\,\sigma''(s + ut)\,du` is used instead, by 12-point
    Gauss–Legendre quadrature: :math:`\sigma''` is analytic in the strip :math:`|\mathrm{Im}| < \pi/2`
    (tanh; wider for the others), so the rule's error is below :math:`10^{-16}` relative to
    :math:`t^2 \max|\sigma''|`.  The ReLU (no :math:`\sigma''`) and :math:`|t| > 1` use the difference.
    """
    direct = act.sigma(s + t) - act.sigma(s) - act.d1(s) * t
    if act.smoothness is None:
        return direct
    small = np.abs(t) <= 1.0
    ts = np.where(small, t, 0.0)
    integral = ts**2 * (act.d2(s[..., None] + ts[..., None] * _GL_U) @ _GL_WEIGHTS)
    return np.where(small, integral, direct)


def smooth_adversary(
    z: ArrayLike, a: ArrayLike, B: float, activation: str | Activation, *, max_units: int = 4096
) -> Adversary:
    r"""A structured adversary for Lemma 5 at one unit input :math:`x`.

    For each output sign :math:`s`, rank the units by :math:`s\,a_j\sigma''(z_j)`, and for
    :math:`k = 1, 2, 4, \dots` up to ``max_units`` (and the values between the best two powers)
    move the top :math:`k` by :math:`\pm B/\sqrt k` along :math:`x`, each in the direction that makes
    its remainder :math:`s\,a_j(\sigma(z_j + t) - \sigma(z_j) - \sigma'(z_j)t)` larger.  Returns the best
    choice; its ``value`` is :math:`|f(x; W) - f(x; W_0) - \langle\nabla f(x; W_0), W - W_0\rangle|`
    for the returned movement, a lower bound on the supremum over the ball.

    Parameters
    ----------
    z, a, B : as :func:`taylor_worst_case`
    activation : str or Activation
        A smooth activation.
    max_units : int
        Largest number of units moved.
    """
    z, a, B = _inputs(z, a, B)
    act = get_activation(activation)
    if act.smoothness is None:
        raise ValueError(f"activation={act.name!r}: expected a smooth activation (Lemma 5 needs sup|sigma''| < inf)")
    max_units = v.integer("max_units", max_units)
    m = z.size
    best = (0.0, np.zeros(0, dtype=np.int64), np.zeros(0))
    for s in (1.0, -1.0):
        order = np.argsort(-s * a * act.d2(z), kind="stable")[: min(m, max_units)]

        def value(k: int) -> tuple[float, Array]:
            u = order[:k]
            step = B / np.sqrt(k)
            with np.errstate(over="ignore", invalid="ignore"):
                plus = s * a[u] * _remainder(act, z[u], np.full(k, step))
                minus = s * a[u] * _remainder(act, z[u], np.full(k, -step))
                signs = np.where(plus >= minus, 1.0, -1.0)
                total = float(np.sum(np.maximum(plus, minus)))
            return _representable(total, "z, B"), signs * step

        ks = sorted({min(order.size, 2**i) for i in range(int(np.log2(order.size)) + 2)})
        vals = [value(k)[0] for k in ks]
        i = int(np.argmax(vals))
        lo, hi = ks[max(i - 1, 0)], ks[min(i + 1, len(ks) - 1)]
        for k in np.unique(np.linspace(lo, hi, 33).astype(int)):
            val, t_units = value(int(k))
            if val > best[0]:
                best = (val, order[: int(k)], t_units)
    t = np.zeros_like(z)
    t[best[1]] = best[2]
    return Adversary(best[0] / np.sqrt(m), best[1], t)
