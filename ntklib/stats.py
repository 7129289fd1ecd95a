"""Small statistics for verification: confidence bounds and rate fits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from . import _validate as v

__all__ = ["clopper_pearson_upper", "clopper_pearson_lower", "SlopeFit", "fit_loglog", "fit_loglog_replicates", "mean_ci"]


def _counts(failures: object, trials: object) -> tuple[int, int]:
    n = v.integer("trials", trials, minimum=1)
    k = v.integer("failures", failures, minimum=0)
    if k > n:
        raise ValueError(f"failures={k}: expected at most trials={n}")
    return k, n


def clopper_pearson_upper(failures: int, trials: int, confidence: float = 0.99) -> float:
    r"""One-sided Clopper–Pearson upper confidence bound for a binomial proportion.

    .. math:: p_{\mathrm{up}} = \mathrm{Beta}^{-1}(c;\ k + 1,\ n - k), \qquad p_{\mathrm{up}} = 1 \text{ if } k = n,

    so that :math:`P_p(p \le p_{\mathrm{up}}) \ge c` for every true :math:`p`.  With
    :math:`k = 0` it reduces to :math:`1 - (1 - c)^{1/n}`.

    Parameters
    ----------
    failures, trials : int
        :math:`k` failures out of :math:`n \ge 1` independent trials, :math:`0 \le k \le n`.
    confidence : float
        :math:`c \in (0, 1)`.
    """
    k, n = _counts(failures, trials)
    c = v.probability("confidence", confidence)
    if k == n:
        return 1.0
    return float(_st.beta.ppf(c, k + 1, n - k))


def clopper_pearson_lower(failures: int, trials: int, confidence: float = 0.99) -> float:
    r"""One-sided Clopper–Pearson lower bound :math:`\mathrm{Beta}^{-1}(1 - c;\ k,\ n - k + 1)` (0 if k = 0)."""
    k, n = _counts(failures, trials)
    c = v.probability("confidence", confidence)
    if k == 0:
        return 0.0
    return float(_st.beta.ppf(1.0 - c, k, n - k + 1))


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit of :math:`\\log y = a + b \\log x` with a confidence interval for :math:`b`.

    Attributes
    ----------
    slope, intercept : float
        :math:`b` and :math:`a` (natural logarithms).
    stderr : float
        Standard error of :math:`b`.
    ci_low, ci_high : float
        Two-sided Student-t interval for :math:`b` at level ``confidence``.
    confidence : float
    points : int
        Number of :math:`x` values of each fit.
    replicates : int
        Number of independent fits averaged (:func:`fit_loglog_replicates`); 1 for a single fit.
    """

    slope: float
    intercept: float
    stderr: float
    ci_low: float
    ci_high: float
    confidence: float
    points: int
    replicates: int = 1

    def __post_init__(self) -> None:
        for name in ("slope", "intercept", "ci_low", "ci_high"):
            object.__setattr__(self, name, v.real(name, getattr(self, name)))
        object.__setattr__(self, "stderr", v.real("stderr", self.stderr, low=0.0))
        object.__setattr__(self, "confidence", v.probability("confidence", self.confidence))
        object.__setattr__(self, "points", v.integer("points", self.points, minimum=3))
        if not self.ci_low <= self.slope <= self.ci_high:
            raise ValueError(f"slope={self.slope}: expected inside the interval [ci_low, ci_high] = "
                             f"[{self.ci_low}, {self.ci_high}]")

    def predict(self, x: ArrayLike) -> np.ndarray:
        """:math:`e^{a} x^{b}` at ``x > 0``, computed as :math:`\\exp(a + b\\log x)`.

        Raises
        ------
        ValueError
            If some ``x`` is not positive, or the prediction exceeds the float range (about
            :math:`1.8 \\times 10^{308}`) there.
        """
        xv = v.array("x", x)
        if np.any(xv <= 0):
            raise ValueError(f"x: expected strictly positive values (the fit is log-log), got minimum {float(xv.min())!r}")
        with np.errstate(over="ignore"):
            out = np.exp(self.intercept + self.slope * np.log(xv))
        if not np.all(np.isfinite(out)):
            raise ValueError(f"x: the prediction exceeds the float range (1.8e308) for x up to {xv.max()!r}")
        return out

    def __str__(self) -> str:
        pct = f"{100 * self.confidence:.6g}"
        over = f"{self.points} points" + (f", {self.replicates} replicates" if self.replicates > 1 else "")
        return f"slope {self.slope:.3f} ({pct}% CI [{self.ci_low:.3f}, {self.ci_high:.3f}], {over})"


def fit_loglog(
    x: ArrayLike, y: ArrayLike, confidence: float = 0.95, *, log_sd: ArrayLike | None = None
) -> SlopeFit:
    r"""Fit :math:`y \approx e^{a} x^{b}` by least squares on the log–log scale.

    Without ``log_sd``: ordinary least squares, and the interval is
    :math:`b \pm t_{(1+c)/2,\,N-2}\,\mathrm{se}(b)` with the error variance estimated from the
    residuals (independent, homoscedastic errors on the log scale).

    With ``log_sd`` (the known standard deviations :math:`s_i` of :math:`\log y_i`, e.g. from the
    delta method for a Monte Carlo estimate): weighted least squares with weights
    :math:`s_i^{-2}`, :math:`\mathrm{se}(b) = (\sum_i s_i^{-2}(\log x_i - \bar\ell)^2)^{-1/2}`
    (:math:`\bar\ell` the weighted mean), and the normal quantile
    :math:`b \pm z_{(1+c)/2}\,\mathrm{se}(b)`.  This interval stays narrow at the extreme
    confidence levels a check needs (e.g. :math:`c = 1 - 10^{-6}`).

    Parameters
    ----------
    x, y : array_like, shape (N,)
        Positive values, :math:`N \ge 3`, at least two distinct ``x``.
    confidence : float
        Level of the two-sided interval, in (0, 1).
    log_sd : array_like, shape (N,), optional
        Known standard deviations of :math:`\log y_i` (> 0).
    """
    xv = v.vector("x", x, min_length=3)
    yv = v.vector("y", y, length=xv.shape[0], of="x")
    c = v.probability("confidence", confidence)
    if np.any(xv <= 0) or np.any(yv <= 0):
        raise ValueError("x, y: expected strictly positive values for a log-log fit")
    lx, ly = np.log(xv), np.log(yv)
    if log_sd is None:
        w = np.ones_like(lx)
    else:
        sd = v.vector("log_sd", log_sd, length=xv.shape[0], of="x")
        if np.any(sd <= 0):
            raise ValueError("log_sd: expected strictly positive standard deviations")
        # weights (sd 2^-e)^-2 for the power of two 2^e of the smallest sd: sd^-2 itself overflows for
        # sd < 1e-154; the exact power-of-two scaling changes no rounding of the fit, only se (below)
        _, e = np.frexp(sd.min())
        with np.errstate(over="ignore"):             # sd beyond 1e154 sd.min(): weight 0
            w = np.ldexp(sd, -e) ** -2.0
    mx = float(np.sum(w * lx) / np.sum(w))
    my = float(np.sum(w * ly) / np.sum(w))
    sxx = float(np.sum(w * (lx - mx) ** 2))
    if sxx == 0.0:
        raise ValueError("x: expected at least two distinct values")
    b = float(np.sum(w * (lx - mx) * (ly - my)) / sxx)
    a = my - b * mx
    if log_sd is None:
        dof = xv.shape[0] - 2
        resid = ly - (a + b * lx)
        se = float(np.sqrt(np.sum(resid**2) / dof / sxx))
        q = float(_st.t.ppf(0.5 + c / 2.0, dof))
    else:
        with np.errstate(over="ignore"):
            se = float(np.ldexp(1.0 / np.sqrt(sxx), e))       # the weights were scaled by 2^(-2e)
        q = float(_st.norm.ppf(0.5 + c / 2.0))
    if not np.isfinite(b - q * se) or not np.isfinite(b + q * se):
        raise ValueError(f"{'y' if log_sd is None else 'log_sd'}: the slope's confidence interval exceeds the "
                         f"float range (standard error {se:.3g}); expected smaller errors on the log scale")
    return SlopeFit(b, a, se, b - q * se, b + q * se, c, int(xv.shape[0]))


def fit_loglog_replicates(x: ArrayLike, Y: ArrayLike, confidence: float = 0.95) -> SlopeFit:
    r"""Mean of independent log–log slopes, with a Student-t interval over the replicates.

    Each row of ``Y`` is an independent replicate (a fresh draw of everything random) measured at the
    same ``x``; each is fitted by ordinary least squares (:func:`fit_loglog`), and the slopes
    :math:`b_1, \dots, b_R` are treated as i.i.d.: the interval is
    :math:`\bar b \pm t_{(1+c)/2,\,R-1}\,s_b/\sqrt R`.  Unlike the residual-based interval of one fit, it
    measures the actual variability of the slope from draw to draw, including errors that are
    correlated across the points of one replicate.

    Parameters
    ----------
    x : array_like, shape (N,)
        Positive values, at least two distinct, :math:`N \ge 3`.
    Y : array_like, shape (R, N)
        Positive values, :math:`R \ge 2` replicates.
    confidence : float
        Level of the two-sided interval, in (0, 1).

    Returns
    -------
    SlopeFit
        ``slope`` and ``intercept`` are the means over replicates, ``stderr`` is :math:`s_b/\sqrt R`.
    """
    xv = v.vector("x", x, min_length=3)
    Yv = v.matrix("Y", Y)
    if Yv.shape[1] != xv.shape[0] or Yv.shape[0] < 2:
        raise ValueError(f"Y has shape {Yv.shape}: expected (R, {xv.shape[0]}) with R >= 2 replicates")
    c = v.probability("confidence", confidence)
    fits = [fit_loglog(xv, row) for row in Yv]
    slopes = np.array([f.slope for f in fits])
    se = float(slopes.std(ddof=1) / np.sqrt(slopes.size))
    q = float(_st.t.ppf(0.5 + c / 2.0, slopes.size - 1))
    b = float(slopes.mean())
    return SlopeFit(b, float(np.mean([f.intercept for f in fits])), se, b - q * se, b + q * se, c, int(xv.shape[0]),
                    int(slopes.size))


def mean_ci(samples: ArrayLike, confidence: float = 0.99) -> tuple[float, float, float]:
    r"""Sample mean and a two-sided CLT interval :math:`\bar X \pm z_{(1+c)/2}\, s/\sqrt{N}`.

    Parameters
    ----------
    samples : array_like, shape (N,)
        :math:`N \ge 2` independent draws.
    confidence : float
        In (0, 1).

    Returns
    -------
    (mean, low, high) : tuple of float

    Raises
    ------
    ValueError
        If an end of the interval exceeds the float range (about :math:`1.8 \\times 10^{308}`).

    Notes
    -----
    The samples are scaled by the power of two that brings the largest into :math:`[1/2, 1)` (exact),
    so neither the sum nor the squares overflow; the scale is applied to the results.
    """
    x = v.vector("samples", samples, min_length=2)
    c = v.probability("confidence", confidence)
    _, e = np.frexp(np.max(np.abs(x)))
    xs = np.ldexp(x, -e)
    half = _st.norm.ppf(0.5 + c / 2.0) * xs.std(ddof=1) / np.sqrt(x.shape[0])
    mu = xs.mean()
    with np.errstate(over="ignore"):
        out = tuple(float(np.ldexp(val, e)) for val in (mu, mu - half, mu + half))
    if not np.all(np.isfinite(out)):
        raise ValueError(f"samples: the interval {out} exceeds the float range (1.8e308); expected samples "
                         f"whose mean and spread stay within it")
    return out
