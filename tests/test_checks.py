"""Every checker passes a true statement and fails a deliberately false one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import ntklib
from ntklib import bounds, checks


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

def _abs_means(trials: int = 2000, n: int = 50) -> np.ndarray:
    """|mean of n N(0,1)| in independent trials, shape (1, trials)."""
    g = ntklib.rng("tail")
    return np.abs(g.standard_normal((trials, n)).mean(axis=1))[None]


def test_check_failure_rate_true_and_false() -> None:
    delta, n = 0.05, 50
    t_loose = stats.norm.isf(delta / 20) / np.sqrt(n)       # true failure rate delta/10
    report = ntklib.check_failure_rate("tail", _abs_means(), np.array([t_loose]), delta, statistic="|mean| > t")
    assert report.passed and report.columns[-6:] == ("failures", "trials", "max value/bound", "upper", "delta", "ratio")
    assert report.limit == delta and report.measured < delta
    t_false = stats.norm.isf(delta) / np.sqrt(n)             # true failure rate 2 delta: false claim
    with pytest.raises(AssertionError, match="tail FAILED"):
        ntklib.check_failure_rate("tail", _abs_means(), np.array([t_false]), delta, statistic="|mean| > t")


def test_check_failure_rate_validation() -> None:
    with pytest.raises(ValueError, match="empirical"):
        ntklib.check_failure_rate("x", np.array([0.5]), np.array([1.0]), 0.1, statistic="s")
    with pytest.raises(ValueError, match="delta=1.5"):
        ntklib.check_failure_rate("x", np.zeros((1, 5)), np.array([1.0]), 1.5, statistic="s")
    with pytest.raises(ValueError, match="bound"):
        ntklib.check_failure_rate("x", np.zeros((2, 5)), np.array([1.0]), 0.5, statistic="s")
    with pytest.raises(ValueError, match="bound"):
        ntklib.check_failure_rate("x", np.zeros((1, 5)), np.array([0.0]), 0.5, statistic="s")


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
    report = ntklib.check_test("ks", samples, stats.norm.cdf, level=1e-6, statistic="KS vs N(0,1)")
    assert report.passed and report.measured == min(stats.kstest(row, "norm").pvalue for row in samples)
    with pytest.raises(AssertionError, match="ks FAILED"):                          # variance too small
        ntklib.check_test("ks", 1.2 * samples, stats.norm.cdf, level=1e-6, statistic="KS vs N(0,1)")
    other = g.standard_normal((3, 4000))
    assert ntklib.check_test("ks2", samples, other, level=1e-6, statistic="two-sample KS").passed
    with pytest.raises(AssertionError, match="ks2 FAILED"):
        ntklib.check_test("ks2", samples, 1.5 * other, level=1e-6, statistic="two-sample KS")
    with pytest.raises(ValueError, match="samples"):
        ntklib.check_test("ks", [], stats.norm.cdf, level=0.01, statistic="s")
    with pytest.raises(ValueError, match="reference"):
        ntklib.check_test("ks", samples, other[:2], level=0.01, statistic="s")
    with pytest.raises(ValueError, match=r"samples\[0\]"):
        ntklib.check_test("ks", [np.array([np.nan, 1.0])], stats.norm.cdf, level=0.01, statistic="s")


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


# --- identities ------------------------------------------------------------------------------------

def test_check_identity_true_and_false() -> None:
    g = ntklib.rng("identity")
    A = g.standard_normal((30, 20))
    x = g.standard_normal(20)
    u = np.finfo(float).eps / 2
    tol = 2 * 20 * u * (np.abs(A) @ np.abs(x))               # rounding of two summation orders
    report = ntklib.check_identity("ax", A @ x, np.array([sum(A[i, j] * x[j] for j in range(20)) for i in range(30)]),
                                   tol, statistic="A x two ways")
    assert report.passed and report.kind == "identity" and report.measured <= report.limit
    with pytest.raises(AssertionError, match="ax FAILED"):                              # a wrong identity
        ntklib.check_identity("ax", A @ x, A @ (x * (1 + 1e-9)), tol, statistic="A x vs A (1 + 1e-9) x")
    with pytest.raises(ValueError, match="tol"):
        ntklib.check_identity("ax", A @ x, A @ x, -tol, statistic="s")
    assert ntklib.check_identity("count", np.array([3.0]), np.array([3.0]), np.array([0.5]), statistic="c").passed


# --- sharpness: an attained worst case reaches a claimed fraction of a bound ---------------------

def test_check_sharpness_true_and_false() -> None:
    rem, L, m, B = _lemma5_near_worst_case()              # one unit at the peak of |tanh''|: 1 - O(B)
    bound = bounds.lemma5(L, B, m)
    report = ntklib.check_sharpness("lem-smooth", np.array([rem]), np.array([bound]), 0.99,
                                    statistic="one-unit adversary")
    assert report.passed and report.kind == "sharpness" and 0.99 <= report.measured <= 1.0
    assert report.worst_ratio == pytest.approx(0.99 / (rem / bound))
    # the same unit placed off the peak attains much less: the claim fails, naming the setting
    off_peak = 0.5 * rem
    with pytest.raises(AssertionError, match=r"lem-smooth FAILED \(sharpness\).*at where=off peak"):
        ntklib.check_sharpness("lem-smooth", np.array([rem, off_peak]), np.full(2, bound), 0.99,
                               statistic="adversary", settings={"where": np.array(["peak", "off peak"])})
    # a floor per setting
    assert ntklib.check_sharpness("s", np.array([0.9, 0.5]), np.ones(2), np.array([0.9, 0.5]), statistic="s").passed
    # a rounding allowance on the attained values: 0.9 - 1e-12 reaches 0.9 with atol 1e-12, not without
    assert ntklib.check_sharpness("s", np.array([0.9 - 1e-12]), np.ones(1), 0.9, statistic="s", atol=1e-12).passed
    with pytest.raises(AssertionError):
        ntklib.check_sharpness("s", np.array([0.9 - 1e-12]), np.ones(1), 0.9, statistic="s")


def test_check_sharpness_validation() -> None:
    with pytest.raises(ValueError, match="floor"):
        ntklib.check_sharpness("s", np.ones(1), np.ones(1), 1.5, statistic="s")
    with pytest.raises(ValueError, match="floor"):
        ntklib.check_sharpness("s", np.ones(1), np.ones(1), 0.0, statistic="s")
    with pytest.raises(ValueError, match="bound"):
        ntklib.check_sharpness("s", np.ones(1), np.zeros(1), 0.5, statistic="s")
    with pytest.raises(ValueError, match="shapes differ"):
        ntklib.check_sharpness("s", np.ones(2), np.ones(2), np.ones(3) / 2, statistic="s")
    with pytest.raises(ValueError, match="atol"):
        ntklib.check_sharpness("s", np.ones(1), np.ones(1), 0.5, statistic="s", atol=-1.0)


# --- mutations ------------------------------------------------------------------------------------

def test_every_kind_rejects_its_mutation_and_records_nothing() -> None:
    g = ntklib.rng("mutations")
    reports = [
        ntklib.check("b", np.array([0.5]), np.array([1.0]), statistic="s"),
        ntklib.check_identity("i", np.array([2.0]), np.array([2.0]), np.array([1e-12]), statistic="s"),
        ntklib.check_agreement("a", np.array([1.0]), np.array([0.01]), np.array([1.0]), statistic="s"),
        ntklib.check_failure_rate("p", g.uniform(size=(1, 500)), np.array([2.0]), 0.05, statistic="s"),
        ntklib.check_slope("r", _sd_of_mean_fit(), -0.5, mode="equal", statistic="s"),
        ntklib.check_test("t", g.standard_normal((1, 2000)), stats.norm.cdf, level=1e-6, statistic="s"),
        ntklib.check_sharpness("s", np.array([0.97]), np.array([1.0]), 0.95, statistic="s"),
    ]
    amounts = {"bound": 0.1, "identity": 1e-6, "agreement": 0.1, "probability": 0.1, "rate": 0.2, "test": 1.5,
               "sharpness": 0.9}
    before = len(ntklib.RECORDS)
    for r in reports:
        assert r.passed
        assert not ntklib.checks.mutate(r, amounts[r.kind]).passed, r.kind
    assert len(ntklib.RECORDS) == before
    # a mutation too small to make the statement false is accepted: mutate does not force failure
    assert ntklib.checks.mutate(reports[0], 0.9).passed
    assert ntklib.checks.mutate(reports[2], 1e-9).passed
    assert ntklib.checks.mutate(reports[-1], 0.99).passed          # 0.97 * 0.99 still reaches 0.95
    with pytest.raises(ValueError, match="amount"):
        ntklib.checks.mutate(reports[0], 1.5)
    with pytest.raises(ValueError, match="report"):
        ntklib.checks.mutate("not a report", 0.5)


def test_a_stated_false_statement_replaces_its_side_of_each_kind() -> None:
    """false_statement=(text, values): mutate(report, STATED) evaluates exactly that statement."""
    stated = ntklib.checks.STATED
    b = ntklib.check("b", np.array([0.5, 0.7]), np.ones(2), statistic="s",
                     false_statement=("the lecture's smaller bound", np.array([0.9, 0.6])))
    assert b.false_statement == "the lecture's smaller bound" and b.to_dict()["false_statement"] == b.false_statement
    m = ntklib.checks.mutate(b, stated)
    assert not m.passed and m.worst_ratio == pytest.approx(0.7 / 0.6)
    sh = ntklib.check_sharpness("s", np.array([0.98]), np.ones(1), 0.95, statistic="s",
                                false_statement=("an adversary with one direction per unit", np.array([0.9])))
    assert not ntklib.checks.mutate(sh, stated).passed
    i = ntklib.check_identity("i", np.array([1.0]), np.array([1.0]), np.array([1e-12]), statistic="s",
                              false_statement=("a formula 1e-9 too small", np.array([1.0 - 1e-9])))
    assert not ntklib.checks.mutate(i, stated).passed
    r = ntklib.check_slope("r", _sd_of_mean_fit(), -0.5, mode="equal", statistic="s",
                           false_statement=("the rate m^-1", -1.0))
    assert not ntklib.checks.mutate(r, stated).passed
    # a true alternative is accepted: mutate does not force failure
    ok = ntklib.check("b", np.array([0.5]), np.ones(1), statistic="s", false_statement=("x", np.array([0.6])))
    assert ntklib.checks.mutate(ok, stated).passed
    with pytest.raises(ValueError, match="carries no false_statement"):
        ntklib.checks.mutate(ntklib.check("b", np.array([0.5]), np.ones(1), statistic="s"), stated)
    with pytest.raises(ValueError, match="false_statement"):
        ntklib.check("b", np.array([0.5]), np.ones(1), statistic="s", false_statement=("", np.ones(1)))
    with pytest.raises(ValueError, match="2 entries"):
        ntklib.check("b", np.array([0.5]), np.ones(1), statistic="s", false_statement=("x", np.ones(2)))
    with pytest.raises(ValueError, match="amount"):
        ntklib.checks.mutate(b, "other")


def test_registry_verify_chapter_finds_every_problem(monkeypatch) -> None:
    from ntklib import registry

    monkeypatch.setattr(registry, "REGISTRY", {
        "good": registry.Verification("good", "ch", {"bound": 0.5}),
        "loose": registry.Verification("loose", "ch", {"bound": 0.9}),
        "missing": registry.Verification("missing", "ch", {"rate": 0.5}),
        "elsewhere": registry.Verification("elsewhere", "other", {"bound": 0.5}),
    })
    good = ntklib.check("good", np.array([0.9]), np.array([1.0]), statistic="s")
    with pytest.raises(AssertionError, match=r"missing \[rate\]: registered but not checked"):
        registry.verify_chapter("ch", [good])
    loose = ntklib.check("loose", np.array([0.5]), np.array([1.0]), statistic="s")     # 0.5 <= 0.9: survives
    unregistered = ntklib.check("new-lemma", np.array([0.5]), np.array([1.0]), statistic="s")
    with pytest.raises(AssertionError, match=r"new-lemma \[bound\]: not registered"):
        registry.verify_chapter("ch", [good, loose, unregistered])
    with pytest.raises(AssertionError, match="registered to ch, checked in other"):
        registry.verify_chapter("other", [good])
    monkeypatch.delitem(registry.REGISTRY, "missing")
    monkeypatch.delitem(registry.REGISTRY, "elsewhere")
    with pytest.raises(AssertionError, match=r"false statements accepted: loose \[bound\]"):
        registry.verify_chapter("ch", [good, loose])
    monkeypatch.delitem(registry.REGISTRY, "loose")
    results = registry.verify_chapter("ch", [good])
    assert results[0].rejected and results[0].mutated_ratio == pytest.approx(1.8)
    # a registered stated false statement: the check must carry it, and reject it
    monkeypatch.setitem(registry.REGISTRY, "stated", registry.Verification("stated", "ch", {"bound": "stated"}))
    bare = ntklib.check("stated", np.array([0.5]), np.array([1.0]), statistic="s")
    with pytest.raises(AssertionError, match="registered as 'stated' but the check carries no false_statement"):
        registry.verify_chapter("ch", [good, bare])
    true_alt = ntklib.check("stated", np.array([0.5]), np.array([1.0]), statistic="s",
                            false_statement=("a bound that is still true", np.array([0.6])))
    with pytest.raises(AssertionError, match=r"false statements accepted: stated \[bound\] with amount stated"):
        registry.verify_chapter("ch", [good, true_alt])
    false_alt = ntklib.check("stated", np.array([0.5]), np.array([1.0]), statistic="s",
                             false_statement=("the lecture's bound", np.array([0.4])))
    assert all(r.rejected for r in registry.verify_chapter("ch", [good, false_alt]))


def test_registry_entry_points_validate_their_arguments(tmp_path) -> None:
    """TypeError or ValueError naming the argument, never AttributeError or AssertionError; a chapter
    that does not exist is an error, not a vacuous pass."""
    from ntklib import registry

    good = ntklib.check("ch-fast", np.array([0.5]), np.array([1.0]), statistic="s")
    for bad in ([None], "abc", [3], 3, None, {"a": good}, (good, "x")):
        if bad is not None:
            with pytest.raises(TypeError, match=r"records(\[\d\])?="):
                registry.mutation_results(bad)
            with pytest.raises(TypeError, match=r"records(\[\d\])?="):
                registry.verify_chapter("chapters/a1-computing-fast", bad)
    for bad in (None, 3, b"chapters/01-setup", ["chapters/01-setup"]):
        with pytest.raises(TypeError, match="chapter="):
            registry.verify_chapter(bad, [])
    for bad in ("chapters/99-no-such-chapter", "", "  ", "chapters/02-taylor.md", "02-taylor"):
        with pytest.raises(ValueError, match="chapter=.*no such chapter"):
            registry.verify_chapter(bad, [])
    with pytest.raises(TypeError, match="root=3"):
        registry.verify_chapter("chapters/intro", [], root=3)
    # an existing document with no registered verification and no checks passes; under another root it is unknown
    assert registry.verify_chapter("chapters/intro", []) == []
    with pytest.raises(ValueError, match="no such chapter"):
        registry.verify_chapter("chapters/intro", [], root=tmp_path)
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "intro.md").write_text("# intro\n")
    assert registry.verify_chapter("chapters/intro", [], root=tmp_path) == []


# --- boundaries: each checker's comparison, exactly at and just past its limit ---------------------
#
# A checker that accepts a little more than it says (a doubled tolerance, <= for <, a Bonferroni
# factor lost) passes every true statement; only its boundary shows the difference.

def _up(x: float) -> float:
    return float(np.nextafter(x, np.inf))


def test_check_boundary_is_bound_plus_atol() -> None:
    b, atol = 0.75, 0.125
    assert ntklib.check("b", np.array([b]), np.array([b]), statistic="s").passed            # equality holds
    with pytest.raises(AssertionError):
        ntklib.check("b", np.array([_up(b)]), np.array([b]), statistic="s")
    report = ntklib.check("b", np.array([b + atol]), np.array([b]), statistic="s", atol=atol)
    assert report.passed and report.limit == b + atol
    with pytest.raises(AssertionError):
        ntklib.check("b", np.array([_up(b + atol)]), np.array([b]), statistic="s", atol=atol)
    with pytest.raises(AssertionError):                                               # not 2 atol
        ntklib.check("b", np.array([b + 1.5 * atol]), np.array([b]), statistic="s", atol=atol)
    assert ntklib.check("b", np.array([0.5, 0.25]), np.array([1.0, 1.0]), statistic="s").worst_ratio == 0.5


def test_check_identity_boundary_is_tol() -> None:
    ref, tol = 1.0, 2.0**-20
    r = ntklib.check_identity("i", np.array([ref + tol]), np.array([ref]), np.array([tol]), statistic="s")
    assert r.passed and r.worst_ratio == 1.0 and r.measured == tol and r.limit == tol
    for computed in (ref + 1.5 * tol, ref - 1.5 * tol, _up(ref + tol)):                # not 2 tol, not < 1.5 tol
        with pytest.raises(AssertionError):
            ntklib.check_identity("i", np.array([computed]), np.array([ref]), np.array([tol]), statistic="s")
    with pytest.raises(AssertionError):                                              # tol 0: exact only
        ntklib.check_identity("i", np.array([_up(ref)]), np.array([ref]), np.array([0.0]), statistic="s")
    assert ntklib.check_identity("i", np.array([ref]), np.array([ref]), np.array([0.0]), statistic="s").passed


def test_check_sharpness_boundary_is_the_floor() -> None:
    assert ntklib.check_sharpness("s", np.array([0.75]), np.array([1.0]), 0.75, statistic="s").passed
    with pytest.raises(AssertionError):
        ntklib.check_sharpness("s", np.array([float(np.nextafter(0.75, 0))]), np.array([1.0]), 0.75, statistic="s")


def test_check_agreement_boundary_is_the_bonferroni_quantile() -> None:
    eps, k = 1e-3, 4
    z = stats.norm.isf(eps / (2 * k))
    se = np.full(k, 0.01)
    inside = np.array([0.0, 0.0, 0.0, z * 0.01 * (1 - 1e-9)])
    report = ntklib.check_agreement("a", inside, se, np.zeros(k), statistic="s", false_failure=eps)
    assert report.passed and report.limit == pytest.approx(z * 0.01, rel=1e-15)
    with pytest.raises(AssertionError):
        ntklib.check_agreement("a", inside * (1 + 2e-9), se, np.zeros(k), statistic="s", false_failure=eps)


def test_check_failure_rate_boundaries() -> None:
    """A draw equal to its bound is not a failure; the upper confidence bound must be strictly below delta."""
    T, c = 200, 0.99
    draws = np.zeros((1, T))
    draws[0, :3] = 1.0                                                                # 3 draws at the bound
    assert ntklib.check_failure_rate("p", draws, np.array([1.0]), 0.05, statistic="s").rows[0][0] == 0
    draws[0, :3] = _up(1.0)                                                           # 3 draws just above it
    up = ntklib.clopper_pearson_upper(3, T, c)
    report = ntklib.check_failure_rate("p", draws, np.array([1.0]), _up(up), statistic="s", confidence=c)
    assert report.passed and report.rows[0][0] == 3 and report.measured == up
    with pytest.raises(AssertionError):                                               # upper == delta: fails
        ntklib.check_failure_rate("p", draws, np.array([1.0]), up, statistic="s", confidence=c)


def test_check_slope_boundaries() -> None:
    fit = ntklib.SlopeFit(slope=-0.5, intercept=0.0, stderr=0.05, ci_low=-0.6, ci_high=-0.4, confidence=0.95, points=5)

    def passed(p: float, mode: str) -> bool:
        try:
            return ntklib.check_slope("r", fit, p, mode=mode, statistic="s").passed
        except AssertionError:
            return False

    assert passed(-0.6, "at_most") and not passed(float(np.nextafter(-0.6, -1)), "at_most")
    assert passed(-0.6, "equal") and passed(-0.4, "equal")
    assert not passed(float(np.nextafter(-0.6, -1)), "equal") and not passed(_up(-0.4), "equal")
    assert passed(_up(-0.4), "below") and not passed(-0.4, "below")                    # strictly below
    with pytest.raises(AssertionError, match=r"worst ratio 2 "):                        # one half-width out
        ntklib.check_slope("r", fit, -0.3, mode="equal", statistic="s")


def test_check_slope_allowance() -> None:
    fit = ntklib.SlopeFit(slope=-0.5, intercept=0.0, stderr=0.05, ci_low=-0.6, ci_high=-0.4, confidence=0.95, points=5)

    def passed(p: float, allowance: float) -> bool:
        try:
            return ntklib.check_slope("r", fit, p, mode="equal", allowance=allowance, statistic="s").passed
        except AssertionError:
            return False

    assert not passed(-0.75, 0.0) and passed(-0.75, 0.15) and not passed(-0.75, 0.149)   # band [p - a, p + a]
    assert not passed(-0.25, 0.0) and passed(-0.25, 0.15) and not passed(-0.25, 0.149)
    with pytest.raises(AssertionError, match=r"worst ratio 2 "):                        # one half-width out of the band
        ntklib.check_slope("r", fit, -0.2, mode="equal", allowance=0.1, statistic="s")
    report = ntklib.check_slope("r", fit, -0.5, mode="equal", allowance=0.05, statistic="s",
                                false_statement=("off by 0.2", -0.7))
    assert not checks.mutate(report, checks.STATED).passed                              # the mutation keeps the band
    assert checks.rate_mode(report.rows[0][4]) == ("equal", 0.05)                       # the cell the dashboard reads
    assert checks.rate_mode("at_most") == ("at_most", 0.0)
    for bad in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="allowance"):
            ntklib.check_slope("r", fit, -0.5, mode="equal", allowance=bad, statistic="s")
    with pytest.raises(ValueError, match="allowance"):
        ntklib.check_slope("r", fit, -0.5, mode="at_most", allowance=0.1, statistic="s")


def test_check_test_boundary_is_the_level() -> None:
    sample = np.linspace(0.05, 0.95, 10) ** 1.3
    p = stats.kstest(sample, stats.uniform.cdf).pvalue
    assert ntklib.check_test("t", [sample], stats.uniform.cdf, level=p, statistic="s").passed
    with pytest.raises(AssertionError):
        ntklib.check_test("t", [sample], stats.uniform.cdf, level=_up(p), statistic="s")
