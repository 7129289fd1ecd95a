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

(:func:`taylor_sup`).  The contributions are nonnegative, so for any output weights with
:math:`|a_j| \le 1` the value is largest when all :math:`a_j` are equal (:math:`a \equiv \pm 1`), and
then the class is all :math:`m` units.  Only the smallest order statistics of :math:`|z_j|` enter:
the maximizing count is :math:`k^\star \approx (B\rho m/2)^{2/3}`, and :func:`smallest_abs_normals`
draws the :math:`k` smallest exactly without drawing all :math:`m`, at cost :math:`O(k)`, so the
cost of one draw grows like :math:`m^{2/3}` rather than :math:`m` (a width of :math:`10^8` costs
about as much as a full draw at :math:`2 \times 10^5`).

**Lemma 7, second inequality (ReLU, adversary).**  For :math:`W, V` in the ball, unit :math:`j`
contributes :math:`|v_j^\top x|` when :math:`w_j^\top x` and :math:`v_j^\top x` lie on opposite sides of
0.  :func:`linearization_adversary` moves the :math:`k_A` units of smallest :math:`|z_j|` that
:math:`W`'s budget can afford just across zero, and spends :math:`V`'s budget as in the first
problem with those units' costs set to zero; its value is a lower bound on the supremum.

**Exact suprema at small width, by enumeration.**  On each region of weight space where every
unit's pre-activations keep their signs (an *activation pattern*), both remainders are linear in the
pre-activations :math:`p = Wx`, so the supremum over a pattern is a convex problem: a linear function
over a ball intersected with half-lines, solved exactly (a Lagrangian and a one-dimensional bisection).
:func:`enumerated_sup` maximizes over all :math:`2^m` (first inequality) or :math:`4^m` (second)
patterns: an independent computation, which does not use the closed forms above, against which
they are checked.

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
    "RHO",
    "smallest_abs_normals",
    "taylor_sup",
    "Adversary",
    "taylor_worst_case",
    "linearization_adversary",
    "sampled_worst_cases",
    "smooth_adversary",
    "taylor_remainder",
    "fourth_derivative_bound",
    "smooth_worst_pair",
    "linearization_dual",
    "certified_worst_cases",
    "enumerated_sup",
    "ASYMPTOTIC_TAYLOR",
    "ASYMPTOTIC_LINEARIZATION",
    "RANDOM_SIGNS_FACTOR",
]

RHO = float(np.sqrt(2.0 / np.pi))
r""":math:`\rho = \sqrt{2/\pi}`, the density of :math:`|N(0, 1)|` at 0."""
_RHO = RHO

UNIT_TOLERANCE = 1e-12
r"""How far from 1 the norm of an input given as a unit vector may be (rounding only)."""

ASYMPTOTIC_TAYLOR = 0.75 * (RHO / 2.0) ** (1.0 / 3.0)
r""":math:`\lim_{m\to\infty} m^{1/6}\sup_W|f - \tilde f| / B^{4/3} = \frac34(\rho/2)^{1/3} \approx 0.552` at
:math:`a \equiv \pm 1`, the worst output weights (in probability, for every :math:`B > 0`)."""

ASYMPTOTIC_LINEARIZATION = (3.0 ** (1.0 / 6.0) + 3.0 ** (2.0 / 3.0) / 2.0) * RHO ** (1.0 / 3.0)
r""":math:`\lim m^{1/6}(\text{adversary of the second inequality}) / B^{4/3} = (3^{1/6} + 3^{2/3}/2)\rho^{1/3} \approx 2.079`
at :math:`a \equiv \pm 1`."""

RANDOM_SIGNS_FACTOR = 2.0 ** (-1.0 / 3.0)
r"""With i.i.d. uniform signs :math:`a_j` each sign class holds about :math:`m/2` units, which halves the
density of the costs and multiplies both asymptotic constants by :math:`2^{-1/3} \approx 0.794`."""



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


def linearization_dual(c: ArrayLike, B: float, n: int | None = None) -> float:
    r"""An upper bound on the supremum of the second inequality (one sign class), by Lagrangian duality.

    For the units of one output sign with costs :math:`c_j = |z_j|`, the supremum of
    :math:`\sqrt m\,|f(x; V) - f(x; W) - \langle\nabla f(x; W), V - W\rangle|` over the ball is

    .. math::

        \Phi = \max\Big\{\sum_{F} c_j - \sum_{G} c_j + B\sqrt{|F| + |G|} :\ F \cap G = \emptyset,\ \sum_F c_j^2 \le B^2\Big\}

    (:math:`F`: units whose side :math:`W` flips, at cost :math:`c_j^2` of its budget; :math:`G`: units that
    :math:`V` alone pushes across; :math:`V` spreads its budget equally over :math:`F \cup G`).  For every
    :math:`\lambda \ge 0`, :math:`\Phi \le D(\lambda) = \lambda B^2 + \max_k\big(B\sqrt k + \text{sum of the } k
    \text{ largest } \omega_j\big)` with :math:`\omega_j = \max(c_j - \lambda c_j^2, -c_j)` (weak duality: each unit
    chooses :math:`F` or :math:`G` freely once the budget is priced).  Returns :math:`D` at the best
    :math:`\lambda` a golden-section search finds (:math:`D` is convex in :math:`\lambda`; any :math:`\lambda` gives a
    valid bound, the search only makes it tight).

    Parameters
    ----------
    c : array_like, shape (K,)
        The :math:`K` smallest costs of the class, nondecreasing and nonnegative.
    B : float
        Radius :math:`\ge 0`.
    n : int, optional
        Number of units in the class (default :math:`K`: ``c`` holds them all).  When :math:`K < n` the
        bound is valid only if the units not drawn cannot enter the optimum at the minimizing
        :math:`\lambda` (:math:`c_{(K)} \ge 2/\lambda` and a negative increment at :math:`K`); otherwise a
        :class:`ValueError` asks for more order statistics.

    Returns
    -------
    float
        :math:`\min_\lambda D(\lambda) \ge \Phi` (not divided by :math:`\sqrt m`).
    """
    c = v.vector("c", c)
    B = v.real("B", B, low=0.0)
    if np.any(c < 0) or np.any(np.diff(c) < 0):
        raise ValueError("c: expected nondecreasing nonnegative costs")
    n = c.size if n is None else v.integer("n", n)
    if n < c.size:
        raise ValueError(f"n={n}: expected at least the number of costs given ({c.size})")
    # D is homogeneous of degree one in (c, B) (with lambda scaled inversely): compute with both divided
    # by a power of two, exactly, so that no square overflows, and scale the result back
    _, e = np.frexp(max(B, float(c[-1]), 1e-300))
    scale = np.ldexp(0.5, int(e))                  # 2^(e-1): representable, and within a factor 2 of the data
    value = _dual(c / scale, B / scale, n)
    with np.errstate(over="ignore"):
        return _representable(value * scale, "c, B")


def _dual(c: Array, B: float, n: int) -> float:
    """:func:`linearization_dual` for costs and budget of order one."""
    roots = B * np.sqrt(np.arange(c.size + 1))
    cache: dict[float, float] = {}

    def dual(log_lam: float) -> float:
        if log_lam not in cache:
            lam = np.exp(log_lam)
            u = np.maximum(c - lam * c * c, -c)          # rises up to c = 1/(2 lambda), then falls
            peak = int(np.searchsorted(c, 0.5 / lam))
            rise, fall = u[:peak][::-1], u[peak:]        # each in decreasing order: merge them
            merged = np.empty_like(u)
            merged[np.arange(rise.size) + np.searchsorted(-fall, -rise, side="left")] = rise
            merged[np.arange(fall.size) + np.searchsorted(-rise, -fall, side="right")] = fall
            cache[log_lam] = float(lam * B * B + np.max(roots + np.concatenate([[0.0], np.cumsum(merged)])))
        return cache[log_lam]

    # D is convex in lambda, so unimodal in log(lambda).  Its minimum sits near 2 / c_(k), k the number
    # of units the budget can flip (about 0.44 below it in log(lambda) at every width tried); a golden
    # section on a bracket of width 6 around it finds it.  Any lambda gives a valid bound.
    k_budget = max(int(np.searchsorted(np.cumsum(c * c), B * B, side="right")), 1)
    centre = np.log(2.0 / max(float(c[min(k_budget, c.size) - 1]), 1e-300))
    lo, hi = centre - 4.0, centre + 2.0
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a_, b_ = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    for _ in range(32):                                  # golden section: one new evaluation a step
        if dual(a_) <= dual(b_):
            hi, b_ = b_, a_
            a_ = hi - ratio * (hi - lo)
        else:
            lo, a_ = a_, b_
            b_ = lo + ratio * (hi - lo)
    best_log = min(cache, key=cache.get)
    if c.size < n:
        lam = np.exp(best_log)
        increment = B * (np.sqrt(c.size + 1.0) - np.sqrt(c.size)) - c[-1]
        if c[-1] < 2.0 / lam or increment >= 0:
            raise ValueError(f"c: the {c.size} smallest of {n} costs are not enough for the bound; draw more")
    return dual(best_log)


def certified_worst_cases(
    m: int, B: float, draws: int, rng: np.random.Generator
) -> tuple[Array, Array, Array]:
    r"""Both suprema of Lemma 7 at :math:`a \equiv \pm 1`, from the same draws of :math:`W_0`, at any width.

    From one set of order statistics per draw: the exact supremum of the first inequality
    (:func:`taylor_sup`), and the supremum of the second bracketed between the adversary's value
    (:func:`linearization_adversary`, attained) and the dual bound (:func:`linearization_dual`); the
    exact supremum of the second lies between them.  All divided by :math:`\sqrt m`.

    Parameters
    ----------
    m, B, draws, rng : as :func:`sampled_worst_cases`

    Returns
    -------
    (taylor, lower, upper) : three ndarrays of shape (draws,)
    """
    m = v.integer("m", m)
    B = v.real("B", B, low=0.0)
    draws = v.integer("draws", draws)
    g = v.generator(rng)
    with np.errstate(over="ignore"):
        estimate = 1.5 * (3.0 * (RHO * m) ** 2 * B * B) ** (1.0 / 3.0)
    guess = int(np.ceil(min(estimate, float(m)))) + 64
    out = np.zeros((3, draws))
    for r in range(draws):
        k = min(m, guess)
        while True:
            c = smallest_abs_normals(m, k, g)
            first, k1 = taylor_sup(c, B)
            lower, k_A, k2 = _linearization_value(c, B)
            try:
                if k < m and (k_A >= k or k2 >= k or k1 >= k):
                    raise ValueError("more order statistics needed")
                upper = linearization_dual(c, B, m)
                break
            except ValueError:
                if k == m:
                    raise
                k = min(m, 2 * k)
        out[:, r] = first, lower, upper
    return out[0] / np.sqrt(m), out[1] / np.sqrt(m), out[2] / np.sqrt(m)


def sampled_worst_cases(
    m: int, B: float, draws: int, rng: np.random.Generator, *, signs: str = "equal"
) -> tuple[Array, Array]:
    r"""Both ReLU worst cases over independent draws of :math:`W_0`, at any width.

    ``signs="equal"`` (:math:`a \equiv \pm 1`, the worst output weights: the supremum for any
    :math:`a` with :math:`|a_j| \le 1` is at most this one) puts all :math:`m` units in one class;
    ``signs="random"`` draws i.i.d. uniform signs, the typical network, by splitting the units into
    the two classes, :math:`m_+ \sim \mathrm{Bin}(m, 1/2)`.  Each class draws only its smallest order
    statistics of :math:`|z_j|` (:func:`smallest_abs_normals`), enough to contain the optimum
    (checked; more are drawn if not).

    Parameters
    ----------
    m : int
        Width, :math:`\ge 1`.
    B : float
        Radius :math:`\ge 0`.
    draws : int
        Number of independent draws.
    rng : numpy.random.Generator
    signs : {"equal", "random"}

    Returns
    -------
    (taylor, linearization) : two ndarrays of shape (draws,)
        The exact supremum of the first inequality and the adversary's value for the second.
    """
    m = v.integer("m", m)
    B = v.real("B", B, low=0.0)
    draws = v.integer("draws", draws)
    g = v.generator(rng)
    if signs not in ("equal", "random"):
        raise ValueError(f"signs={signs!r}: expected 'equal' (a = +-1, the worst case) or 'random'")
    out = np.zeros((2, draws))
    with np.errstate(over="ignore"):         # B beyond ~1e150: the estimate is inf, capped at m
        estimate = 1.3 * (3.0 * (RHO * m) ** 2 * B * B) ** (1.0 / 3.0)
    guess = int(np.ceil(min(estimate, float(m)))) + 64   # about k_A (never more than m are drawn)
    for r in range(draws):
        if signs == "random":
            m_plus = int(g.binomial(m, 0.5))
            classes = (m_plus, m - m_plus)
        else:
            classes = (m,)
        for n in classes:
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


def _max_linear_on_ball(
    g: ArrayLike, z: ArrayLike, B: float, low: ArrayLike, high: ArrayLike, *, iterations: int = 200
) -> tuple[Array, Array]:
    r"""Exact :math:`\max g^\top p` over :math:`\|p - z\|_2 \le B`, :math:`\ell \le p \le h`, row by row.

    A linear function over a ball intersected with a box (entries may be :math:`\pm\infty`) is a convex
    problem.  For :math:`\lambda > 0` the Lagrangian :math:`g^\top p - \lambda\|p - z\|^2` is maximized over
    the box by :math:`p(\lambda) = \mathrm{clip}(z + g/(2\lambda), \ell, h)`, and :math:`\|p(\lambda) - z\|` decreases
    in :math:`\lambda`; the maximizer is :math:`p(\lambda)` at the :math:`\lambda` where it equals :math:`B`
    (bisection on :math:`\log\lambda`), or the limit :math:`\lambda \to 0` if the box is reached first.

    Parameters
    ----------
    g, low, high : array_like, shape (K, m)
        Objective and box for :math:`K` problems (``low <= high``).
    z : array_like, shape (m,) or (K, m)
        Centre of the ball.
    B : float
        Radius :math:`\ge 0`.
    iterations : int
        Bisection steps (200 halve a range of :math:`10^{\pm 300}` in :math:`\log\lambda` to rounding).

    Returns
    -------
    (value, p) : ndarray of shape (K,), ndarray of shape (K, m)
        The maximum and a maximizer; ``value`` is ``-inf`` where the box does not meet the ball.
    """
    g = v.matrix("g", g)
    low, high = _box("low", low, g.shape), _box("high", high, g.shape)
    if np.any(low > high):
        raise ValueError("low, high: expected low <= high entrywise")
    z = v.array("z", z)
    if z.shape not in (g.shape[1:], g.shape):
        raise ValueError(f"z has shape {z.shape}: expected {g.shape[1:]} or {g.shape}")
    z = np.broadcast_to(z, g.shape)
    B = v.real("B", B, low=0.0)
    iterations = v.integer("iterations", iterations)
    # the maximizer does not depend on the scale of g, and the problem is homogeneous in (z, B, low,
    # high): solve it with all of them divided by powers of two (exactly), then scale back
    g_top = float(np.max(np.abs(g))) or 1.0
    lengths = [B, float(np.max(np.abs(z))), *(float(np.max(np.abs(b[np.isfinite(b)]), initial=0.0)) for b in (low, high))]
    _, e = np.frexp(max(max(lengths), 1e-300))
    scale = np.ldexp(0.5, int(e))                  # 2^(e-1): representable, and within a factor 2 of the data
    value, p = _max_linear(g / g_top, z / scale, B / scale, low / scale, high / scale, iterations)
    with np.errstate(over="ignore", invalid="ignore"):
        value, p = value * (g_top * scale), p * scale
    if not np.all(np.isfinite(value[value != -np.inf])) or not np.all(np.isfinite(p)):
        raise ValueError("g, z, B: the maximum exceeds the float range; expected |g| ||p|| below about 1e308")
    return value, p


def _box(name: str, value: ArrayLike, shape: tuple[int, ...]) -> Array:
    """A bound of the box: real entries, +-inf allowed, no NaN, of the given shape."""
    if isinstance(value, (str, bytes)) or value is None:
        raise ValueError(f"{name}={value!r}: expected a real array (entries may be +-inf)")
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name}: expected a real array (entries may be +-inf), got dtype {arr.dtype}")
    arr = arr.astype(float)
    if arr.shape != shape or np.isnan(arr).any():
        raise ValueError(f"{name} has shape {arr.shape}: expected {shape} (the shape of g), without NaN")
    return arr


def _max_linear(g: Array, z: Array, B: float, low: Array, high: Array, iterations: int) -> tuple[Array, Array]:
    """:func:`_max_linear_on_ball` on data of order one."""
    nearest = np.clip(z, low, high)
    feasible = np.sum((nearest - z) ** 2, axis=1) <= B * B * (1 + 1e-12)

    def point(log_lam: Array) -> Array:
        lam = np.exp(log_lam)[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            return np.clip(z + g / (2.0 * lam), low, high)

    lo, hi = np.full(g.shape[0], -700.0), np.full(g.shape[0], 700.0)   # log lambda: too far, too near
    for _ in range(iterations):
        mid = (lo + hi) / 2.0
        with np.errstate(over="ignore", invalid="ignore"):             # far points: an infinite distance
            outside = np.sum((point(mid) - z) ** 2, axis=1) > B * B
        lo = np.where(outside, mid, lo)
        hi = np.where(outside, hi, mid)
    p = point(hi)                                    # on the feasible side of the boundary
    p = np.where(np.isfinite(p), p, nearest)
    value = np.where(feasible, np.sum(g * p, axis=1), -np.inf)
    return value, p


def _pattern_bounds(z: Array, crossed: NDArray[np.bool_]) -> tuple[Array, Array]:
    """Box of the pre-activations p with each unit on z's side (crossed=False) or the other (True)."""
    positive = (z > 0) != crossed                       # p_j >= 0 required
    low = np.where(positive, 0.0, -np.inf)
    high = np.where(positive, np.inf, 0.0)
    return low, high


def enumerated_sup(z: ArrayLike, a: ArrayLike, B: float, inequality: str = "taylor") -> float:
    r"""Exact supremum of one of Lemma 7's remainders over the ball, by enumerating activation patterns.

    Only the pre-activations :math:`p_j = w_j^\top x` enter, and for a unit :math:`x` every :math:`p` with
    :math:`\|p - z\| \le B` is reached by some :math:`W` in the ball (move each :math:`w_j` along :math:`x`),
    while :math:`\|p - z\| \le \|W - W_0\|_F` for every :math:`W`.  So the supremum is over :math:`p`.

    ``"taylor"``: :math:`f(x; W) - \tilde f(x; W) = m^{-1/2}\sum_j a_j\big(\sigma(p_j) - \mathbf 1[z_j > 0]p_j\big)`.
    For each subset of units whose sign is flipped (:math:`2^m` patterns) it is linear in :math:`p` on the
    pattern's region, and both signs of the remainder are maximized exactly (a Lagrangian and a one-dimensional bisection).

    ``"linearization"``: :math:`f(x; V) - f(x; W) - \langle\nabla f(x; W), V - W\rangle =
    m^{-1/2}\sum_j a_j r_j(\mathbf 1[r_j > 0] - \mathbf 1[s_j > 0])` with :math:`s = Wx`, :math:`r = Vx`.  For
    each pair of patterns (:math:`4^m`), the one of :math:`s` only needs to be reachable, at cost
    :math:`\sum_{j\ \text{flipped}} z_j^2 \le B^2`, and the remainder is linear in :math:`r` on its region.

    Cost :math:`O(2^m m)` or :math:`O(4^m m)` times the bisection: for :math:`m \le 12` (first) and
    :math:`m \le 7` (second).

    Parameters
    ----------
    z : array_like, shape (m,)
        Pre-activations :math:`w_{0,j}^\top x` at a unit input, all nonzero.
    a : array_like, shape (m,)
        Output weights, :math:`|a_j| \le 1`.
    B : float
        Radius :math:`\ge 0`.
    inequality : {"taylor", "linearization"}

    Returns
    -------
    float
        The supremum of the absolute remainder.
    """
    z = v.vector("z", z)
    a = v.vector("a", a, length=z.size, of="z")
    if np.any(np.abs(a) > 1):
        raise ValueError("a: expected entries with |a_j| <= 1")
    if np.any(z == 0):
        raise ValueError("z: expected nonzero pre-activations (a unit exactly at its kink has no side)")
    B = v.real("B", B, low=0.0)
    m = z.size
    if inequality not in ("taylor", "linearization"):
        raise ValueError(f"inequality={inequality!r}: expected 'taylor' or 'linearization'")
    limit = {"taylor": 12, "linearization": 7}[inequality]
    if m > limit:
        raise ValueError(f"z has {m} entries: enumeration of the {inequality} patterns is limited to m <= {limit}")
    # the supremum is homogeneous of degree one in (z, B): compute it with both divided by a power of two
    _, e = np.frexp(max(B, float(np.max(np.abs(z)))))
    scale = np.ldexp(0.5, int(e))                  # 2^(e-1): representable, and within a factor 2 of the data
    with np.errstate(over="ignore"):
        return _representable(_enumerate(z / scale, a, B / scale, inequality) * scale, "z, B")


def _enumerate(z: Array, a: Array, B: float, inequality: str) -> float:
    """:func:`enumerated_sup` for pre-activations and radius of order one."""
    m = z.size
    bits = (np.arange(2**m)[:, None] >> np.arange(m)) & 1 == 1          # every subset of units
    side = np.sign(z)
    if inequality == "taylor":
        low, high = _pattern_bounds(z, bits)
        slope = np.where(bits, -side * a, 0.0)          # flipped unit: a_j |p_j| = -a_j sign(z_j) p_j
        rows = [(slope, low, high), (-slope, low, high)]
    else:
        W_cost = (bits * z**2).sum(axis=1)
        reach = np.flatnonzero(W_cost <= B * B)          # patterns of s = Wx within the budget
        s_flip = bits[reach][:, None, :]                 # (P_s, 1, m)
        r_flip = bits[None, :, :]                        # (1, P_r, m)
        s_flip, r_flip = np.broadcast_arrays(s_flip, r_flip)
        s_flip, r_flip = s_flip.reshape(-1, m), r_flip.reshape(-1, m)
        low, high = _pattern_bounds(z, r_flip)
        r_positive = (z > 0) != r_flip
        differ = s_flip != r_flip                        # s and r on opposite sides
        slope = np.where(differ, a * np.where(r_positive, 1.0, -1.0), 0.0)   # a_j |r_j| on r's side
        rows = [(slope, low, high), (-slope, low, high)]
    best = 0.0
    for slope, low, high in rows:
        value, p = _max_linear_on_ball(slope, z, B, low, high)
        # the linear form agrees with the remainder only on the closed region; evaluate it there
        best = max(best, float(np.max(value)))
    return best / np.sqrt(m)


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


def taylor_remainder(activation: str | Activation, s: ArrayLike, t: ArrayLike) -> Array:
    r""":math:`\sigma(s + t) - \sigma(s) - \sigma'(s)\,t`, elementwise, accurate where it is small.

    For a smooth activation and :math:`|t| \le 1` through the integral form of the remainder (see the
    private helper's note: relative error below :math:`10^{-15}` of :math:`t^2\max|\sigma''|`), so no
    cancellation of the :math:`O(|t|)` terms; otherwise the difference itself.

    Parameters
    ----------
    activation : str or Activation
    s, t : array_like, same shape
        Expansion points and increments.

    Returns
    -------
    ndarray, the shape of ``s``
    """
    act = get_activation(activation)
    s_, t_ = v.array("s", s), v.array("t", t)
    v.same_shape(("s", "t"), s_, t_)
    return _remainder(act, s_, t_)


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


def _smooth(activation: str | Activation) -> Activation:
    act = get_activation(activation)
    if act.smoothness is None or act.smoothness == 0.0:
        raise ValueError(f"activation={act.name!r}: expected a smooth nonlinear activation (0 < sup|sigma''| < inf)")
    return act


_GRID = np.linspace(-40.0, 40.0, 160_001)              # step 5e-4: every peak of these activations is inside


def fourth_derivative_bound(activation: str | Activation) -> float:
    r""":math:`M_4 = \sup_z |\sigma^{(4)}(z)|`, numerically, rounded up.

    :math:`\sigma^{(4)}` is the central second difference of :math:`\sigma''` with step :math:`h = 10^{-3}`
    (error :math:`h^2\sup|\sigma^{(6)}|/12 < 10^{-6}` for the activations here) on a grid of step
    :math:`5 \times 10^{-4}` over :math:`[-40, 40]` (the maximum of a smooth function on such a grid falls
    short of the supremum by :math:`O(10^{-7})`); the result is raised by :math:`10^{-4}` relative and
    :math:`10^{-5}` absolute, so it is an upper bound.

    Parameters
    ----------
    activation : str or Activation
        A smooth activation.
    """
    act = _smooth(activation)
    h = 1e-3
    d4 = (act.d2(_GRID + h) - 2.0 * act.d2(_GRID) + act.d2(_GRID - h)) / (h * h)
    return float(np.max(np.abs(d4)) * (1.0 + 1e-4) + 1e-5)


def _peak(act: Activation, sign: float) -> float | None:
    """A point where sign * sigma'' reaches L, refined by golden section; None if it is not attained."""
    values = sign * act.d2(_GRID)
    i = int(np.argmax(values))
    if values[i] < act.smoothness * (1.0 - 1e-6):
        return None
    lo, hi = _GRID[max(i - 1, 0)], _GRID[min(i + 1, _GRID.size - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(80):
        a_, b_ = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if sign * act.d2(np.array([a_]))[0] >= sign * act.d2(np.array([b_]))[0]:
            hi = b_
        else:
            lo = a_
    return float((lo + hi) / 2.0)


def smooth_worst_pair(
    W0: ArrayLike, x: ArrayLike, a: ArrayLike, B: float, activation: str | Activation
) -> tuple[Array, Array, int]:
    r"""A pair :math:`(V, W)` at which Lemma 5's remainder is within :math:`O(B^2/m)` of its bound.

    Place the pre-activation :math:`v_j^\top x` of every usable unit at a point :math:`z^\star` where
    :math:`s\,a_j\sigma''(z^\star) = L` (:math:`s = \pm 1` the sign of the remainder; there
    :math:`\sigma'''(z^\star) = 0`), by moving :math:`w_{0,j}` along :math:`x`; then move the :math:`n` usable
    units by :math:`t = B/\sqrt n` along :math:`x`.  By Taylor's theorem each unit contributes
    :math:`s\,a_j(\sigma(z^\star + t) - \sigma(z^\star) - \sigma'(z^\star)t) \ge \frac L2 t^2 - \frac{M_4}{24}t^4`, so

    .. math:: s\,\big(f(x; W) - f(x; V) - \langle\nabla f(x; V), W - V\rangle\big) \ge \frac{L B^2}{2\sqrt m}\Big(1 - \frac{M_4 B^2}{12 L n}\Big),

    with :math:`M_4 = \sup|\sigma^{(4)}|` (:func:`fourth_derivative_bound`).  A unit is usable when
    :math:`\sigma''` reaches :math:`s a_j L` (for the tanh and the sigmoid both signs are reached, so
    every unit; for the softplus, :math:`\sigma'' > 0`, only the units with :math:`a_j = s`); :math:`s` is
    chosen to make :math:`n` largest.

    Parameters
    ----------
    W0 : array_like, shape (m, d)
        Where the construction starts (any weights).
    x : array_like, shape (d,)
        A unit input.
    a : array_like, shape (m,)
        Output weights in :math:`\{-1, +1\}`.
    B : float
        :math:`\|W - V\|_F`, :math:`\ge 0`.
    activation : str or Activation
        A smooth activation.

    Returns
    -------
    (V, W, n) : two ndarrays of shape (m, d), int
        The pair, and the number of units moved.
    """
    W0 = v.matrix("W0", W0)
    x = v.vector("x", x, length=W0.shape[1], of="W0")
    top = float(np.max(np.abs(x)))
    norm = top * float(np.linalg.norm(x / top)) if top > 0 else 0.0      # no overflow of the squares
    if abs(norm - 1.0) > UNIT_TOLERANCE:
        raise ValueError(f"x has norm {norm!r}: expected a unit vector")
    a = v.vector("a", a, length=W0.shape[0], of="W0")
    if not np.all(np.abs(a) == 1.0):
        raise ValueError("a: expected entries in {-1, +1}")
    B = v.real("B", B, low=0.0)
    act = _smooth(activation)
    peaks = {sign: _peak(act, sign) for sign in (1.0, -1.0)}
    best: tuple[Array, NDArray[np.bool_]] | None = None
    for s in (1.0, -1.0):
        target = [peaks[s * aj] for aj in (1.0, -1.0)]
        z_star = np.where(a == 1.0, np.nan if target[0] is None else target[0],
                          np.nan if target[1] is None else target[1])
        usable = np.isfinite(z_star)
        if best is None or usable.sum() > best[1].sum():
            best = (z_star, usable)
    z_star, usable = best
    n = int(usable.sum())
    V = W0.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        V[usable] += np.outer(z_star[usable] - W0[usable] @ x, x)
        t = np.zeros(W0.shape[0])
        if n:
            t[usable] = B / np.sqrt(n)
        W = V + np.outer(t, x)
    if not (np.all(np.isfinite(V)) and np.all(np.isfinite(W))):
        raise ValueError("W0, B: the pair leaves the float range; expected finite W0 + B x x^T")
    return V, W, n
