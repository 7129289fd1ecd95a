"""Confidence bounds and slope fits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import ntklib


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 50), (17, 200), (50, 50)])
def test_clopper_pearson_matches_scipy_exact_interval(k: int, n: int) -> None:
    c = 0.99
    # a one-sided bound at level c is the upper end of the two-sided interval at level 2c - 1
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=2 * c - 1, method="exact")
    assert ntklib.clopper_pearson_upper(k, n, c) == pytest.approx(ci.high, rel=1e-9)
    assert ntklib.clopper_pearson_lower(k, n, c) == pytest.approx(ci.low, rel=1e-9, abs=1e-15)


def test_clopper_pearson_zero_failures_closed_form() -> None:
    assert ntklib.clopper_pearson_upper(0, 300, 0.95) == pytest.approx(1 - 0.05 ** (1 / 300), rel=1e-12)


def test_clopper_pearson_coverage() -> None:
    # the upper bound covers the true p in at least a fraction c of experiments (exactly computable)
    n, p, c = 40, 0.1, 0.9
    ks = np.arange(n + 1)
    covered = np.array([ntklib.clopper_pearson_upper(int(k), n, c) >= p for k in ks])
    assert stats.binom.pmf(ks, n, p)[covered].sum() >= c


def test_fit_loglog_exact_power_law() -> None:
    x = np.array([1.0, 10, 100, 1000])
    fit = ntklib.fit_loglog(x, 3 * x**-0.5)
    assert fit.slope == pytest.approx(-0.5, abs=1e-12)
    assert fit.ci_high - fit.ci_low < 1e-9
    np.testing.assert_allclose(fit.predict(x), 3 * x**-0.5, rtol=1e-12)
    assert "slope -0.500" in str(fit)


def test_fit_loglog_interval_coverage() -> None:
    # ordinary least squares interval: covers the true slope about 95% of the time
    g = ntklib.rng("fit-coverage")
    x = np.geomspace(1, 1e4, 8)
    hits = 0
    for _ in range(400):
        y = 2 * x**-1.0 * np.exp(0.1 * g.standard_normal(8))
        fit = ntklib.fit_loglog(x, y, 0.95)
        hits += fit.ci_low <= -1.0 <= fit.ci_high
    assert 0.90 <= hits / 400 <= 0.99


def test_fit_loglog_with_known_errors() -> None:
    x = np.geomspace(1, 1e3, 5)
    fit = ntklib.fit_loglog(x, x**-2.0, confidence=0.95, log_sd=np.full(5, 0.1))
    se = 0.1 / np.sqrt(np.sum((np.log(x) - np.log(x).mean()) ** 2))
    assert fit.stderr == pytest.approx(se)
    assert fit.ci_high - fit.slope == pytest.approx(stats.norm.ppf(0.975) * se)


def test_mean_ci() -> None:
    mu, lo, hi = ntklib.mean_ci(np.array([1.0, 2.0, 3.0, 4.0]), confidence=0.95)
    assert mu == 2.5 and lo < 2.5 < hi


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: ntklib.fit_loglog([1, 2], [1, 2]), "x="),
        (lambda: ntklib.fit_loglog([1, 2, 3], [1, -2, 3]), "strictly positive"),
        (lambda: ntklib.fit_loglog([2, 2, 2], [1, 2, 3]), "distinct"),
        (lambda: ntklib.fit_loglog([1, 2, 3], [1, 2, 3], confidence=1.0), "confidence=1.0"),
        (lambda: ntklib.fit_loglog([1, 2, 3], [1, 2, 3], log_sd=[1, 0, 1]), "log_sd"),
        (lambda: ntklib.clopper_pearson_upper(5, 4), "failures=5"),
        (lambda: ntklib.clopper_pearson_upper(0, 0), "trials=0"),
        (lambda: ntklib.clopper_pearson_upper(1.5, 4), "failures=1.5"),
        (lambda: ntklib.mean_ci([1.0]), "samples="),
    ],
)
def test_stats_refuse_bad_input(call, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        call()


def test_fit_loglog_replicates_uses_the_spread_between_replicates() -> None:
    g = ntklib.rng("replicates")
    x = np.array([1.0, 10.0, 100.0, 1000.0])
    slopes = -0.5 + 0.01 * g.standard_normal(20)
    Y = np.exp(0.3 + slopes[:, None] * np.log(x)[None, :])
    fit = ntklib.fit_loglog_replicates(x, Y, confidence=0.99)
    assert fit.slope == pytest.approx(slopes.mean()) and fit.replicates == 20 and fit.points == 4
    half = stats.t.ppf(0.995, 19) * slopes.std(ddof=1) / np.sqrt(20)
    assert fit.ci_high - fit.ci_low == pytest.approx(2 * half)
    assert "20 replicates" in str(fit)
    with pytest.raises(ValueError, match="replicates"):
        ntklib.fit_loglog_replicates(x, Y[:1])


def test_fit_loglog_interval_against_an_independent_ols() -> None:
    """Ordinary least squares on the log scale: slope and standard error as scipy's linregress computes them,
    and the Student-t quantile with N - 2 degrees of freedom (with N = 4 points a quantile off by one
    degree of freedom is 30% wider or narrower)."""
    x = np.array([1.0, 3.0, 10.0, 30.0])
    y = np.array([2.0, 1.1, 0.7, 0.3])
    for c in (0.9, 0.99):
        fit = ntklib.fit_loglog(x, y, confidence=c)
        ref = stats.linregress(np.log(x), np.log(y))
        assert fit.slope == pytest.approx(ref.slope, rel=1e-13)
        assert fit.intercept == pytest.approx(ref.intercept, rel=1e-13)
        assert fit.stderr == pytest.approx(ref.stderr, rel=1e-12)
        half = stats.t.ppf(0.5 + c / 2, len(x) - 2) * ref.stderr
        assert fit.ci_high - fit.slope == pytest.approx(half, rel=1e-12)
        assert fit.slope - fit.ci_low == pytest.approx(half, rel=1e-12)
        assert fit.points == 4 and fit.confidence == c


def test_mean_ci_and_predict_never_overflow_silently() -> None:
    mu, lo, hi = ntklib.mean_ci([1e308] * 3)
    assert (mu, lo, hi) == (1e308, 1e308, 1e308)
    mu, lo, hi = ntklib.mean_ci([1e308, -1e308, 1e308, -1e308], confidence=0.5)
    assert mu == 0.0 and np.isfinite(lo) and np.isfinite(hi) and lo < 0 < hi
    with pytest.raises(ValueError, match="samples: the interval"):
        ntklib.mean_ci([1.5e308, -1.5e308, 1.5e308])
    # the same numbers as the unscaled formula wherever that one does not overflow
    x = np.array([0.3, 1.7, 2.2, 5.0])
    half = stats.norm.ppf(0.995) * x.std(ddof=1) / 2
    assert ntklib.mean_ci(x) == (x.mean(), x.mean() - half, x.mean() + half)
    fit = ntklib.fit_loglog([1.0, 2.0, 3.0], [1.0, 0.5, 0.34])
    for bad in (-1.0, 0.0, [1.0, 0.0]):
        with pytest.raises(ValueError, match="x: expected strictly positive"):
            fit.predict(bad)
    with pytest.raises(ValueError, match="x: the prediction exceeds the float range"):
        ntklib.fit_loglog([1.0, 2.0, 3.0], [1.0, 1e3, 1e6]).predict(1e300)
    with pytest.raises(ValueError, match="slope=2.0: expected inside the interval"):
        ntklib.SlopeFit(2.0, 0.0, 0.1, -1.0, 1.0, 0.9, 3)


def test_fit_loglog_with_tiny_known_errors() -> None:
    x = np.geomspace(1, 1e3, 5)
    y = x**-2.0 * np.exp([0.0, 1e-200, -1e-200, 0.0, 0.0])
    fit = ntklib.fit_loglog(x, y, log_sd=np.full(5, 1e-200))         # weights 1e400: no overflow
    se = 1e-200 / np.sqrt(np.sum((np.log(x) - np.log(x).mean()) ** 2))
    assert fit.slope == pytest.approx(-2.0, rel=1e-14) and fit.stderr == pytest.approx(se, rel=1e-14)
