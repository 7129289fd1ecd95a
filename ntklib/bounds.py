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
    # Evaluated as (L r) r / 2 with r = ||x|| B / m^(1/4): squaring B (or ||x||) first overflows for
    # B > 1e154 even when the bound is small (L = 1e-3, ||x|| = 1e-100, B = 1e160: 5e-34), and
    # 0 * inf would then give NaN.  Overflow now happens only for bounds beyond ~1e308 / L (inf: a
    # valid, vacuous upper bound), and a zero factor gives 0 exactly.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        r = xn * B_ / np.sqrt(np.sqrt(m_))
        value = L * r * r / 2.0
    return _out(np.where((L == 0.0) | (xn == 0.0) | (B_ == 0.0), 0.0, value))


def _lemma7(B: ArrayLike, m: ArrayLike, delta: float, c1: float, c2: float) -> Array | float:
    B_, m_ = _nonneg("B", B), _width(m)
    _same(("B", "m"), B_, m_)
    d = v.probability("delta", delta)
    # log(1/delta) as -log(delta): 1/delta rounds (relative error ~1e-6 in the log at delta = 1 - 1e-10)
    # and overflows for subnormal delta.  B^(4/3) as B cbrt(B) and m^(1/6) as sqrt(cbrt(m)): a power
    # with the rounded exponent 4.0/3.0 (or 1.0/6.0) is off by |log B| * 7e-17 relative (115 ulps at
    # B = 1e150).
    with np.errstate(over="ignore"):            # B beyond ~1e231: B^(4/3) = inf, a valid upper bound
        return _out((c1 * (B_ * np.cbrt(B_)) + c2 * B_ * (-np.log(d)) ** 0.25) / np.sqrt(np.cbrt(m_)))


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
    # sqrt(1152 smax^2 R0) / smin^3 as sqrt(1152 R0) (smax / smin) / smin^2: no smax^2 overflow or
    # smin^3 underflow (0 / 0 = NaN, x / 0 = inf) while the threshold itself is representable.
    with np.errstate(over="ignore", divide="ignore"):
        return float(L * np.sqrt(1152.0 * r0) * (np.float64(smax) / smin) / smin / smin)


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
    # (alpha sigma_min)^2, not alpha^2 sigma_min^2 (inf * 0 = NaN for alpha = 1e200, sigma_min = 1e-200);
    # t = 0 gives R0 exactly, also when (alpha sigma_min)^2 overflows (0 * inf = NaN).
    with np.errstate(over="ignore", invalid="ignore"):
        rate = np.float64(a * smin) ** 2 / 2.0     # numpy: a Python float ** 2 raises on overflow
        return _out(r0 * np.exp(np.where(t_ == 0.0, 0.0, -(t_ * rate))))


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
    # as 3 sqrt(8 R0) (smax / smin) / smin / alpha: no smax^2 overflow or alpha smin^2 underflow
    with np.errstate(over="ignore", divide="ignore"):
        return float(3.0 * np.sqrt(8.0 * r0) * (np.float64(smax) / smin) / smin / a)


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
    # as L R0 (smax / smin) (64 + 36 (smax / smin)^2) / (alpha smin)^2 / smin: ratios first, no smin^4 underflow
    with np.errstate(over="ignore", divide="ignore"):
        q = np.float64(smax) / smin
        return float(L * r0 * q * (64.0 + 36.0 * q * q) / (np.float64(a) * smin) ** 2 / smin)
