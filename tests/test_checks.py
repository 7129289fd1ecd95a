"""Every checker passes a true statement and fails a deliberately false one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import ntklib
from ntklib import bounds


# --- deterministic bounds: Lemma 5 at a near-maximizer ----------------------------------------

def _lemma5_near_worst_case(B: float = 1e-3):
    """One unit moved along x, placed where |tanh''| peaks: the remainder is L B^2 / (2 sqrt m) (1 - O(B))."""
    act = ntklib.get_activation("tanh")
    m, d = 16, 3
    x = np.array([1.0, 0.0, 0.0])
    s_star = np.arctanh(1 / np.sqrt(3))                  # argmax |tanh''|
    V = np.zeros((m, d))
    V[0, 0] = s_star
    net = ntklib.TwoLayerNet(np.ones(m), act, np.sqrt(m))
    W = V.copy()
    W[0, 0] += B
    remainder = abs(net.output(x[None], W)[0] - net.taylor(x[None], W, V)[0])
    return remainder, act.smoothness, m, B


def test_check_passes_true_bound_and_reports_ratio() -> None:
    rem, L, m, B = _lemma5_near_worst_case()
    report = ntklib.check("lem-smooth", np.array([rem]), np.array([bounds.lemma5(L, B, m)]), statistic="remainder")
    assert report.passed and 0.99 < report.worst_ratio <= 1.0
    assert ntklib.RECORDS[-1] is report
    assert "lem-smooth" in str(report) and "<table" in report._repr_html_()


def test_check_fails_with_halved_constant() -> None:
    rem, L, m, B = _lemma5_near_worst_case()
    with pytest.raises(AssertionError, match=r"lem-smooth FAILED .*worst ratio .* at m=16.*seed 2024"):
        ntklib.check("lem-smooth", np.array([rem]), np.array([bounds.lemma5(L / 2, B, m)]), statistic="remainder",
                     settings={"m": np.array([m])})
    assert not ntklib.RECORDS[-1].passed and 1.99 < ntklib.RECORDS[-1].worst_ratio <= 2.0


def test_check_fails_with_too_fast_rate() -> None:
    rem, L, m, B = _lemma5_near_worst_case()
    too_fast = L * B**2 / (2 * m)                         # m^-1 instead of m^-1/2
    with pytest.raises(AssertionError):
        ntklib.check("lem-smooth", np.array([rem]), np.array([too_fast]), statistic="remainder")


def test_check_requires_equal_shapes_and_names_settings() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        ntklib.check("x", np.ones(3), np.ones(1), statistic="s")
    with pytest.raises(ValueError, match=r"settings\['m'\]"):
        ntklib.check("x", np.ones(3), np.ones(3), statistic="s", settings={"m": np.ones(2)})
    with pytest.raises(ValueError, match="label"):
        ntklib.check("", np.ones(1), np.ones(1), statistic="s")


def test_check_zero_bound() -> None:
    assert ntklib.check("x", np.zeros(1), np.zeros(1), statistic="s").worst_ratio == 0.0
    with pytest.raises(AssertionError, match="inf"):
        ntklib.check("x", np.ones(1), np.zeros(1), statistic="s")


# --- agreement with an exact value --------------------------------------------------------------

def test_check_agreement_true_and_false() -> None:
    g = ntklib.rng("agreement")
    samples = g.standard_normal((5, 20_000)) + np.arange(5)[:, None]
    est, se = samples.mean(axis=1), samples.std(axis=1, ddof=1) / np.sqrt(samples.shape[1])
    report = ntklib.check_agreement("mean", est, se, np.arange(5.0), statistic="sample mean")
    assert report.passed and "Bonferroni over 5" in report.note
    with pytest.raises(AssertionError, match="mean FAILED"):
        ntklib.check_agreement("mean", est, se, np.arange(5.0) + 10 * se.max(), statistic="sample mean")
    with pytest.raises(AssertionError):
        ntklib.check_agreement("mean", est, se / 100, np.arange(5.0), statistic="sample mean")
    with pytest.raises(ValueError, match="stderr"):
        ntklib.check_agreement("mean", est, -se, np.arange(5.0), statistic="sample mean")


# --- probabilistic statements ---------------------------------------------------------------------

def _tail_failures(t: float, trials: int = 2000, n: int = 50) -> int:
    """Failures of the statement |mean of n N(0,1)| <= t over independent trials."""
    g = ntklib.rng(f"tail-{t}")
    means = g.standard_normal((trials, n)).mean(axis=1)
    return int(np.sum(np.abs(means) > t))


def test_check_failure_rate_true_and_false() -> None:
    delta, n = 0.05, 50
    t_loose = stats.norm.isf(delta / 20) / np.sqrt(n)       # true failure rate delta/10
    report = ntklib.check_failure_rate("tail", np.array([_tail_failures(t_loose)]), 2000, delta, statistic="|mean| > t")
    assert report.passed
    t_false = stats.norm.isf(delta) / np.sqrt(n)             # true failure rate 2 delta: false claim
    with pytest.raises(AssertionError, match="tail FAILED"):
        ntklib.check_failure_rate("tail", np.array([_tail_failures(t_false)]), 2000, delta, statistic="|mean| > t")


def test_check_failure_rate_validation() -> None:
    with pytest.raises(ValueError, match="failures"):
        ntklib.check_failure_rate("x", np.array([0.5]), 10, 0.1, statistic="s")
    with pytest.raises(ValueError, match="delta=1.5"):
        ntklib.check_failure_rate("x", np.array([0]), 10, 1.5, statistic="s")
    with pytest.raises(ValueError, match="failures=11"):
        ntklib.check_failure_rate("x", np.array([11]), 10, 0.5, statistic="s")


# --- rates -------------------------------------------------------------------------------------

def _sd_of_mean_fit():
    g = ntklib.rng("rate")
    ns = np.array([10, 30, 100, 300, 1000, 3000])
    reps = 4000
    sds, log_sd = [], []
    for n in ns:
        means = g.standard_normal((reps, n)).mean(axis=1)
        sds.append(means.std(ddof=1))
        log_sd.append(np.sqrt(1 / (2 * (reps - 1))))        # sd of log(sample sd) for normal data
    return ntklib.fit_loglog(ns, np.array(sds), confidence=1 - 1e-6, log_sd=np.array(log_sd))


def test_check_slope_true_and_false() -> None:
    fit = _sd_of_mean_fit()
    assert ntklib.check_slope("clt", fit, -0.5, mode="equal", statistic="sd of the mean").passed
    assert ntklib.check_slope("clt", fit, -0.5, mode="at_most", statistic="sd of the mean").passed
    assert ntklib.check_slope("clt", fit, -0.3, mode="at_most", statistic="sd of the mean").passed  # slower: true
    with pytest.raises(AssertionError, match="clt FAILED"):
        ntklib.check_slope("clt", fit, -1.0, mode="at_most", statistic="sd of the mean")         # too fast
    with pytest.raises(AssertionError):
        ntklib.check_slope("clt", fit, -0.45, mode="equal", statistic="sd of the mean")
    assert ntklib.check_slope("clt", fit, 0.0, mode="below", statistic="sd of the mean").passed           # decreasing
    with pytest.raises(AssertionError):
        ntklib.check_slope("clt", fit, -0.7, mode="below", statistic="sd of the mean")          # not that fast
    with pytest.raises(ValueError, match="mode='both'"):
        ntklib.check_slope("clt", fit, -0.5, mode="both", statistic="s")


# --- distributional tests --------------------------------------------------------------------

def test_check_test_true_and_false() -> None:
    g = ntklib.rng("ks")
    samples = g.standard_normal((3, 5000))
    true_p = np.array([stats.kstest(row, "norm").pvalue for row in samples])
    assert ntklib.check_test("ks", true_p, level=1e-6, statistic="KS vs N(0,1)").passed
    false_p = np.array([stats.kstest(1.2 * row, "norm").pvalue for row in samples])   # variance too small
    with pytest.raises(AssertionError, match="ks FAILED"):
        ntklib.check_test("ks", false_p, level=1e-6, statistic="KS vs N(0,1)")
    with pytest.raises(ValueError, match="pvalues"):
        ntklib.check_test("ks", np.array([1.5]), level=0.01, statistic="s")


# --- records --------------------------------------------------------------------------------------

def test_records_and_record_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "records.jsonl"
    monkeypatch.setenv("NTKLIB_RECORD_FILE", str(path))
    monkeypatch.setenv("NTKLIB_SEED", "7")
    ntklib.check("a", np.array([1.0]), np.array([2.0]), statistic="s", settings={"m": np.array([10])})
    with pytest.raises(AssertionError):
        ntklib.check("b", np.array([3.0]), np.array([2.0]), statistic="s")
    lines = [json.loads(s) for s in path.read_text().splitlines()]
    assert [(r["label"], r["passed"], r["seed"]) for r in lines] == [("a", True, 7), ("b", False, 7)]
    assert lines[0]["columns"] == ["m", "empirical", "bound", "ratio"] and lines[0]["rows"] == [[10, 1.0, 2.0, 0.5]]
    assert [r.label for r in ntklib.RECORDS] == ["a", "b"]
