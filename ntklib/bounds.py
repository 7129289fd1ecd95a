r"""The right-hand side of every bound in the book, each in one function.

Chapters and tests call these, so a statement's formula lives in exactly one place.
Logarithms are natural.  References are to the lecture note's numbering.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _validate as v

Array = NDArray[np.float64]

__all__ = [
    "lemma5",
    "lemma7_taylor",
    "lemma7_linearization",
    "lemma7_threshold",
    "lemma7_counting",
    "lemma7_taylor_proved",
    "lemma7_linearization_proved",
    "LEMMA7_TAYLOR_CONSTANT",
    "LEMMA7_LINEARIZATION_CONSTANT",
    "theorem12_alpha_threshold",
    "theorem12_risk",
    "theorem12_displacement",
    "theorem12_coupling",
]


def _nonneg(name: str, value: ArrayLike) -> Array:
    arr = v.array(name, value)
    if np.any(arr < 0):
        raise ValueError(f"{name}={value!r}: expected values >= 0")
    return arr


def _width(m: ArrayLike) -> Array:
    arr = v.array("m", m)
    if np.any(arr < 1) or np.any(arr != np.round(arr)):
        raise ValueError(f"m={m!r}: expected integer widths >= 1")
    return arr


def _out(x: Array) -> Array | float:
    return float(x) if x.ndim == 0 else x


def _representable(value: Array, names: str, formula: str) -> Array | float:
    """``value`` (as :func:`_out`), or a ValueError naming the arguments if the bound overflows."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{names}: the bound {formula} exceeds the float range (about 1.8e308) at these values")
    return _out(np.asarray(value))


def _root(x: Array) -> tuple[Array, Array]:
    r""":math:`\sqrt x` as mantissa and binary exponent, :math:`\sqrt x = m\,2^e` with :math:`m \in [1/2, \sqrt2)`
    (0 for 0): exact scaling, so neither :math:`x` times a constant nor the product it enters overflows."""
    m, e = np.frexp(x)
    odd = e % 2
    return np.sqrt(np.ldexp(m, odd)), (e - odd) // 2


def _same(names: tuple[str, ...], *arrays: Array) -> None:
    """Scalars combine with anything; two arrays must have equal shapes."""
    pairs = [(n, a) for n, a in zip(names, arrays) if a.ndim > 0]
    if len(pairs) > 1:
        v.same_shape(tuple(n for n, _ in pairs), *(a for _, a in pairs))


def lemma5(L: float, B: ArrayLike, m: ArrayLike, x_norm: float = 1.0) -> Array | float:
    r"""Lemma 5: the Taylor remainder of an :math:`L`-smooth network.

    .. math::

        |f(x;W) - f(x;V) - \langle\nabla f(x;V), W-V\rangle| \le \frac{L\,\|x\|^2\,\|W-V\|_F^2}{2\sqrt m}.

    The lecture states it for :math:`\|x\|_2 \le 1`, where the factor :math:`\|x\|^2` is at most 1;
    ``x_norm`` gives the general form.

    Parameters
    ----------
    L : float
        :math:`\sup|\sigma''| \ge 0`.
    B : array_like
        :math:`\|W - V\|_F \ge 0`.
    m : array_like
        Width(s) :math:`\ge 1`; scalars or arrays of the same shape as ``B`` (no broadcasting
        between two arrays of different shapes).
    x_norm : float
        :math:`\|x\|_2 \ge 0`.
    """
    L = v.real("L", L, low=0.0)
    B_, m_ = _nonneg("B", B), _width(m)
    _same(("B", "m"), B_, m_)
    xn = v.real("x_norm", x_norm, low=0.0)
    # (L r) r / 2 with r = ||x|| B / m^(1/4), and ||x|| B taken apart as mantissas and binary exponents:
    # bit for bit the direct formula where it is representable, with no intermediate overflow (B^2
    # overflows beyond 1e154 even when the bound is small: L = 1e-3, ||x|| = 1e-100, B = 1e160 gives
    # 5e-34) and 0 exactly when a factor is 0.  A bound beyond the float range raises.
    (mx, ex), (mB, eB) = np.frexp(xn), np.frexp(B_)
    with np.errstate(over="ignore", under="ignore"):
        r = mx * mB / np.sqrt(np.sqrt(m_))
        value = np.ldexp(L * r * r / 2.0, 2 * (ex + eB))
    return _representable(value, "L, B, m, x_norm", "L |x|^2 B^2 / (2 sqrt(m))")


def _lemma7(B: ArrayLike, m: ArrayLike, delta: float, c1: float, c2: float) -> Array | float:
    B_, m_ = _nonneg("B", B), _width(m)
    _same(("B", "m"), B_, m_)
    d = v.probability("delta", delta)
    # log(1/delta) as -log(delta): 1/delta rounds (relative error ~1e-6 in the log at delta = 1 - 1e-10)
    # and overflows for subnormal delta.  B^(4/3) as B cbrt(B) and m^(1/6) as sqrt(cbrt(m)): a power
    # with the rounded exponent 4.0/3.0 (or 1.0/6.0) is off by |log B| * 7e-17 relative (115 ulps at
    # B = 1e150).  B (c1 cbrt(B) + c2 log(1/delta)^(1/4)) / m^(1/6) with B's binary exponent applied last:
    # no overflow of B^(4/3) (beyond B = 1e231) while the bound itself is representable.
    mB, eB = np.frexp(B_)
    with np.errstate(over="ignore"):
        value = np.ldexp(mB * (c1 * np.cbrt(B_) + c2 * (-np.log(d)) ** 0.25) / np.sqrt(np.cbrt(m_)), eB)
    return _representable(value, "B, m", f"({c1:g} B^(4/3) + {c2:g} B log(1/delta)^(1/4)) / m^(1/6)")


def lemma7_taylor(B: ArrayLike, m: ArrayLike, delta: float) -> Array | float:
    r"""Lemma 7, first inequality (ReLU): the Taylor model at :math:`W_0` over the ball of radius :math:`B`.

    For a fixed :math:`x` with :math:`\|x\| \le 1`, with probability at least :math:`1-\delta`
    over :math:`W_0`, simultaneously for all :math:`W` with :math:`\|W - W_0\|_F \le B`:

    .. math:: |f(x; W) - \tilde f(x; W)| \le \frac{2B^{4/3} + B\,\log(1/\delta)^{1/4}}{m^{1/6}}.

    Parameters
    ----------
    B : array_like
        Radius :math:`\ge 0`.
    m : array_like
        Width(s) :math:`\ge 1`.
    delta : float
        In (0, 1).
    """
    return _lemma7(B, m, delta, 2.0, 1.0)


def lemma7_linearization(B: ArrayLike, m: ArrayLike, delta: float) -> Array | float:
    r"""Lemma 7, second inequality (ReLU), with the sign corrected.

    Same event as :func:`lemma7_taylor`; for all :math:`W, V` in the ball of radius :math:`B`
    around :math:`W_0`:

    .. math:: |f(x;V) - (f(x;W) + \langle\nabla_W f(x;W), V - W\rangle)| \le \frac{6B^{4/3} + 2B\,\log(1/\delta)^{1/4}}{m^{1/6}}.

    (The lecture prints :math:`f(x;W) - \langle\cdot\rangle`; the linearization has a plus.)
    """
    return _lemma7(B, m, delta, 6.0, 2.0)


_RHO = float(np.sqrt(2.0 / np.pi))        # density of |N(0, 1)| at 0, and its maximum

LEMMA7_TAYLOR_CONSTANT = 1.25 * _RHO ** (1.0 / 3.0)
r""":math:`\frac54\rho^{1/3} \approx 1.159`: the constant of :math:`B^{4/3}m^{-1/6}` that the book's proof of
Lemma 7's first inequality gives (:func:`lemma7_taylor_proved`), against the lecture's 2."""

LEMMA7_LINEARIZATION_CONSTANT = 4.25 * _RHO ** (1.0 / 3.0)
r""":math:`\frac{17}{4}\rho^{1/3} \approx 3.942`: the same for the second inequality
(:func:`lemma7_linearization_proved`), against the lecture's 6."""


def lemma7_threshold(B: ArrayLike, m: ArrayLike) -> Array | float:
    r"""The threshold :math:`h = B^{2/3}(\rho m)^{-1/3}` at which the book's proof of Lemma 7 counts units.

    Parameters
    ----------
    B : array_like
        Radius :math:`> 0`.
    m : array_like
        Width(s) :math:`\ge 1`.
    """
    B_, m_ = _nonneg("B", B), _width(m)
    if np.any(B_ == 0):
        raise ValueError(f"B={B!r}: expected radii > 0")
    _same(("B", "m"), B_, m_)
    with np.errstate(over="ignore", under="ignore"):
        value = np.cbrt(B_) * np.cbrt(B_ / (_RHO * m_))
    if np.any(value == 0):
        raise ValueError("B, m: the threshold B^(2/3) (rho m)^(-1/3) underflows to 0; expected B^2 / m above 1e-300")
    return _representable(value, "B, m", "B^(2/3) (rho m)^(-1/3)")


def lemma7_counting(
    B: ArrayLike, m: ArrayLike, count: ArrayLike, h: ArrayLike, inequality: str = "taylor", *, tail: float = 1.0
) -> Array | float:
    r"""The deterministic step of the book's proof of Lemma 7.

    With :math:`N_h = \#\{j : |w_{0,j}^\top x| \le h\}`, for every :math:`h > 0`, every draw of :math:`W_0`
    and every :math:`a` with :math:`|a_j| \le 1`,

    .. math::

        \sup_{W}|f(x; W) - \tilde f(x; W)| \le \frac{B\sqrt{N_h} + B^2/(4h)}{\sqrt m}, \qquad
        \sup_{W, V}|f(x; V) - f(x; W) - \langle\nabla f(x; W), V - W\rangle| \le \frac{2B\sqrt{N_h} + 9B^2/(4h)}{\sqrt m}.

    Parameters
    ----------
    B : array_like
        Radius :math:`\ge 0`.
    m : array_like
        Width(s) :math:`\ge 1`.
    count : array_like
        :math:`N_h`, integers in :math:`[0, m]`.
    h : array_like
        Threshold(s) :math:`> 0`.
    inequality : {"taylor", "linearization"}
    tail : float
        Factor on the second term, :math:`B^2/(4h)` or :math:`9B^2/(4h)`: 1 for the bound (a value
        below 1 states a false, sharper count).
    """
    B_, m_ = _nonneg("B", B), _width(m)
    n_ = _nonneg("count", count)
    h_ = v.array("h", h)
    if np.any(h_ <= 0):
        raise ValueError(f"h={h!r}: expected thresholds > 0")
    if np.any(n_ != np.round(n_)) or np.any(n_ > m_):
        raise ValueError(f"count={count!r}: expected integers between 0 and m")
    _same(("B", "m", "count", "h"), B_, m_, n_, h_)
    if inequality not in ("taylor", "linearization"):
        raise ValueError(f"inequality={inequality!r}: expected 'taylor' or 'linearization'")
    factors = {"taylor": (1.0, 0.25), "linearization": (2.0, 2.25)}[inequality]
    t = v.real("tail", tail, low=0.0)
    with np.errstate(over="ignore"):
        value = B_ * (factors[0] * np.sqrt(n_ / m_) + t * factors[1] * (B_ / h_) / np.sqrt(m_))
    return _representable(value, "B, count, h", "(c1 B sqrt(N_h) + c2 B^2 / h) / sqrt(m)")


def _lemma7_proved(B: ArrayLike, m: ArrayLike, delta: float, c1: float, c2: float) -> Array | float:
    """(c1 B^(4/3) m^(-1/6) + c2 (log(1/delta)/2)^(1/4) B m^(-1/4)), with B's binary exponent applied last."""
    B_, m_ = _nonneg("B", B), _width(m)
    _same(("B", "m"), B_, m_)
    d = v.probability("delta", delta)
    mB, eB = np.frexp(B_)
    with np.errstate(over="ignore"):
        value = np.ldexp(mB * (c1 * np.cbrt(B_) / np.sqrt(np.cbrt(m_))
                               + c2 * (-np.log(d) / 2.0) ** 0.25 / np.sqrt(np.sqrt(m_))), eB)
    return _representable(value, "B, m", f"{c1:.4g} B^(4/3) m^(-1/6) + {c2:g} (log(1/delta)/2)^(1/4) B m^(-1/4)")


def lemma7_taylor_proved(B: ArrayLike, m: ArrayLike, delta: float) -> Array | float:
    r"""Lemma 7, first inequality, with the constants of the book's proof.

    With probability at least :math:`1 - \delta` over :math:`W_0`, for all :math:`W` in the ball,

    .. math:: |f(x; W) - \tilde f(x; W)| \le \frac54\rho^{1/3}\frac{B^{4/3}}{m^{1/6}} + \Big(\frac{\log(1/\delta)}{2}\Big)^{1/4}\frac{B}{m^{1/4}},

    :math:`\rho = \sqrt{2/\pi}`: sharper than the lecture's bound in both terms.

    Parameters
    ----------
    B : array_like
        Radius :math:`\ge 0`.
    m : array_like
        Width(s) :math:`\ge 1`.
    delta : float
        In (0, 1).
    """
    return _lemma7_proved(B, m, delta, LEMMA7_TAYLOR_CONSTANT, 1.0)


def lemma7_linearization_proved(B: ArrayLike, m: ArrayLike, delta: float) -> Array | float:
    r"""Lemma 7, second inequality, with the constants of the book's proof.

    .. math:: \le \frac{17}{4}\rho^{1/3}\frac{B^{4/3}}{m^{1/6}} + 2^{3/4}\log(1/\delta)^{1/4}\frac{B}{m^{1/4}},

    on the same event as :func:`lemma7_taylor_proved`.

    Parameters: as :func:`lemma7_taylor_proved`.
    """
    return _lemma7_proved(B, m, delta, LEMMA7_LINEARIZATION_CONSTANT, 2.0)


def _spectral(sigma_min: float, sigma_max: float, R0: float) -> tuple[float, float, float]:
    smin = v.real("sigma_min", sigma_min, low=0.0, low_open=True)
    smax = v.real("sigma_max", sigma_max, low=0.0, low_open=True)
    if smax < smin:
        raise ValueError(f"sigma_max={smax}: expected sigma_max >= sigma_min={smin}")
    r0 = v.real("R0", R0, low=0.0)
    return smin, smax, r0


def theorem12_alpha_threshold(L: float, sigma_min: float, sigma_max: float, R0: float) -> float:
    r"""Theorem 12 (corrected): the smallest admissible output scale.

    .. math:: \alpha \ge \frac{L\sqrt{1152\,\sigma_{\max}^2\,\hat{\mathcal R}_0}}{\sigma_{\min}^3}.

    The lecture prints :math:`\sigma_{\min}^2` in the denominator; the proof (Chizat and Bach;
    Telgarsky's notes) needs :math:`\sigma_{\min}^3`.  Meaningful when :math:`\hat{\mathcal R}_0`
    does not grow with :math:`\alpha`, i.e. :math:`f(w(0)) = 0`.

    Parameters
    ----------
    L : float
        Lipschitz constant of :math:`w \mapsto J_w` (operator norm), :math:`\ge 0`.
    sigma_min, sigma_max : float
        Extreme singular values of :math:`J_0`, :math:`0 < \sigma_{\min} \le \sigma_{\max}`.
    R0 : float
        Initial risk :math:`\hat{\mathcal R}_0 \ge 0`.
    """
    L = v.real("L", L, low=0.0)
    smin, smax, r0 = _spectral(sigma_min, sigma_max, R0)
    if L == 0.0 or r0 == 0.0:
        return 0.0
    # every factor taken apart as mantissa and binary exponent: no intermediate (smax^2, smin^3, the
    # ratio smax / smin) overflows or underflows while the threshold itself is representable
    (mL, eL), (mR, eR), (mA, eA), (mI, eI) = np.frexp(L), _root(r0), np.frexp(smax), np.frexp(smin)
    with np.errstate(over="ignore"):
        value = np.ldexp(mL * np.sqrt(1152.0) * mR * (mA / mI) / mI / mI, eL + eR + eA - 3 * eI)
    return float(_representable(value, "L, sigma_min, sigma_max, R0", "L sqrt(1152 smax^2 R0) / smin^3"))


def theorem12_risk(t: ArrayLike, alpha: float, sigma_min: float, R0: float) -> Array | float:
    r"""Theorem 12, risk decay: :math:`\hat{\mathcal R}_0 \exp(-t\alpha^2\sigma_{\min}^2/2)`.

    Bounds both :math:`\hat{\mathcal R}(\alpha f(w(t)))` and the tangent-model risk
    :math:`\hat{\mathcal R}(\alpha\tilde f(u(t)))`.

    Parameters
    ----------
    t : array_like
        Times :math:`\ge 0`.
    alpha : float
        Output scale :math:`> 0`.
    sigma_min : float
        :math:`> 0`.
    R0 : float
        :math:`\ge 0`.
    """
    t_ = _nonneg("t", t)
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    smin = v.real("sigma_min", sigma_min, low=0.0, low_open=True)
    r0 = v.real("R0", R0, low=0.0)
    # the exponent as (t s) s / 2 with s = alpha sigma_min: not alpha^2 sigma_min^2 (inf * 0 = NaN for
    # alpha = 1e200, sigma_min = 1e-200), and not t (s^2 / 2), whose s^2 overflows while t s^2 is moderate
    # (t = 1e-310, s = 1e155: the exponent is 1/2).  t = 0 gives R0 exactly; an exponent beyond the
    # float range gives 0, the value's own underflow.
    with np.errstate(over="ignore", invalid="ignore"):
        s = np.float64(a) * smin
        return _out(r0 * np.exp(np.where(t_ == 0.0, 0.0, -(t_ * s * s / 2.0))))


def theorem12_displacement(alpha: float, sigma_min: float, sigma_max: float, R0: float) -> float:
    r"""Theorem 12, path length: :math:`\max(\|w(t)-w(0)\|, \|u(t)-u(0)\|) \le 3\sqrt{8\sigma_{\max}^2\hat{\mathcal R}_0}/(\alpha\sigma_{\min}^2)`.

    Parameters
    ----------
    alpha : float
        :math:`> 0`.
    sigma_min, sigma_max : float
        :math:`0 < \sigma_{\min} \le \sigma_{\max}`.
    R0 : float
        :math:`\ge 0`.
    """
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    smin, smax, r0 = _spectral(sigma_min, sigma_max, R0)
    if r0 == 0.0:
        return 0.0
    # as theorem12_alpha_threshold: factors apart as mantissas and binary exponents (alpha = 1e200,
    # sigma_min = 1e-120, sigma_max = 1e100, R0 = 1e50 gives 8.5e165; the ratio smax / smin alone overflows)
    (mN, eN), (mR, eR), (mA, eA), (mI, eI) = np.frexp(a), _root(r0), np.frexp(smax), np.frexp(smin)
    with np.errstate(over="ignore"):
        value = np.ldexp(3.0 * np.sqrt(8.0) * mR * (mA / mI) / mI / mN, eR + eA - 2 * eI - eN)
    return float(_representable(value, "alpha, sigma_min, sigma_max, R0", "3 sqrt(8 smax^2 R0) / (alpha smin^2)"))


def theorem12_coupling(alpha: float, L: float, sigma_min: float, sigma_max: float, R0: float) -> float:
    r"""Distance between the network flow and the tangent flow under Theorem 12's hypotheses.

    .. math::

        \sup_{t \ge 0}\|w(t) - u(t)\|_2 \le \frac{L\,\hat{\mathcal R}_0\,\sigma_{\max}\,(64 + 36\kappa)}{\alpha^2\sigma_{\min}^4},
        \qquad \kappa = \sigma_{\max}^2/\sigma_{\min}^2,

    for :math:`\alpha` at or above :func:`theorem12_alpha_threshold` (a Grönwall argument on
    :math:`w - u`; see chapter 4).  The sketch of Theorem 12 bounds each displacement separately,
    which gives only :math:`O(1/\alpha)`.

    Parameters
    ----------
    alpha : float
        :math:`> 0`.
    L : float
        Lipschitz constant of the Jacobian, :math:`\ge 0`.
    sigma_min, sigma_max : float
        :math:`0 < \sigma_{\min} \le \sigma_{\max}`.
    R0 : float
        :math:`\ge 0`.
    """
    a = v.real("alpha", alpha, low=0.0, low_open=True)
    L = v.real("L", L, low=0.0)
    smin, smax, r0 = _spectral(sigma_min, sigma_max, R0)
    if L == 0.0 or r0 == 0.0:
        return 0.0
    # in logarithms: L R0 q (64 + 36 q^2) / (alpha^2 smin^3) with q = smax / smin, whose factors can each
    # overflow or underflow while the bound itself is representable
    q = np.log(smax) - np.log(smin)
    log_value = (np.log(L) + np.log(r0) + q + np.log(64.0 * np.exp(-2.0 * q) + 36.0) + 2.0 * q
                 - 2.0 * np.log(a) - 3.0 * np.log(smin))
    with np.errstate(over="ignore"):
        value = np.exp(log_value)
    return float(_representable(value, "alpha, L, sigma_min, sigma_max, R0",
                                "L R0 smax (64 + 36 smax^2 / smin^2) / (alpha^2 smin^4)"))
