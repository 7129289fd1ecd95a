"""How a check report reads: verdict line, padded right-aligned table, summary of long tables."""

from __future__ import annotations

import re

import numpy as np
import pytest

import ntklib
from ntklib import reporting


def _long_report(worst: int = 17, ratio: float = 0.99996) -> ntklib.CheckReport:
    """90 rows like Lemma 5's check: 3 activations x 2 perturbations x 5 widths x 3 radii."""
    acts = np.repeat(["tanh", "sigmoid", "softplus"], 30)
    pert = np.tile(np.repeat(["random", "adversary"], 15), 3)
    m = np.tile(np.repeat([10, 100, 1000, 10_000, 100_000], 3), 6)
    B = np.tile([0.5, 2.0, 8.0], 30)
    bound = np.linspace(0.1, 1.0, 90)
    emp = bound * np.linspace(0.05, 0.9, 90)
    emp[worst] = bound[worst] * ratio
    return ntklib.check("lem-smooth", emp, bound, statistic="remainder",
                        settings={"activation": acts, "perturbation": pert, "m": m, "B": B})


def test_value_columns_match_every_checker() -> None:
    s = {"s": np.array([1, 2])}
    fit = ntklib.fit_loglog(np.array([1.0, 2.0, 4.0, 8.0]), np.array([1.0, 0.5, 0.26, 0.124]))
    reports = [
        ntklib.check("a", np.ones(2), np.full(2, 2.0), statistic="x", settings=s),
        ntklib.check_sharpness("b", np.ones(2), np.ones(2), 0.5, statistic="x", settings=s),
        ntklib.check_identity("c", np.ones(2), np.ones(2), np.full(2, 1e-9), statistic="x", settings=s),
        ntklib.check_agreement("d", np.ones(2), np.ones(2), np.ones(2), statistic="x", settings=s),
        ntklib.check_failure_rate("e", np.zeros((2, 400)), np.ones(2), 0.1, statistic="x", settings=s),
        ntklib.check_test("f", [np.linspace(-2, 2, 50)] * 2, [np.linspace(-2, 2, 50)] * 2, level=1e-6,
                          statistic="x", settings=s),
    ]
    for r in reports:
        assert reporting.setting_columns(r) == ("s",), r.kind
    assert reporting.setting_columns(ntklib.check_slope("g", fit, -1.0, statistic="x", mode="equal")) == ()
    assert set(reporting.VALUE_COLUMNS) == {r.kind for r in reports} | {"rate"}


def test_ratio_never_rounds_onto_one() -> None:
    assert reporting.fmt_ratio(0.99996) == "0.99996"
    assert reporting.fmt_ratio(1.00004) == "1.00004"
    assert reporting.fmt_ratio(1.0) == "1"
    assert reporting.fmt_ratio(0.12345678) == "0.1235"
    assert reporting.fmt_ratio(float("inf")) == "inf"


def test_short_tables_are_shown_whole() -> None:
    r = ntklib.check("x", np.ones(12), np.full(12, 2.0), statistic="s", settings={"m": np.arange(12)})
    assert reporting.summary(r) is None
    assert "<details" not in r._repr_html_() and r._repr_html_().count("<tr") == 13


def test_long_table_summary_groups_by_leading_settings_and_keeps_the_worst() -> None:
    r = _long_report()
    rows, how = reporting.summary(r)
    assert how == "the worst row for each activation and perturbation"
    assert len(rows) == 6 and r._worst_row == 17 and 17 in rows
    ratios = [row[-1] for row in r.rows]
    for i in rows:                                  # each kept row is the worst of its group
        group = [j for j, row in enumerate(r.rows) if row[:2] == r.rows[i][:2]]
        assert ratios[i] == max(ratios[j] for j in group)


def test_summary_falls_back_to_the_largest_ratios() -> None:
    n = 40
    r = ntklib.check("x", np.linspace(0.1, 0.5, n)[::-1], np.ones(n), statistic="s", settings={"m": np.arange(n)})
    rows, how = reporting.summary(r)
    assert how == "the 12 rows with the largest ratio" and rows == list(range(12))


def test_verdict_names_label_result_ratio_and_where() -> None:
    r = _long_report()
    line = reporting.verdict(r)
    assert line.startswith("lem-smooth: PASS, worst ratio 0.99996 at activation = tanh, perturbation = adversary, m = 10")
    assert "\n" not in line
    text = str(r)
    assert text.splitlines()[0] == line and "6 of 90 rows" in text


def test_html_verdict_on_top_padded_right_aligned_and_toggle() -> None:
    r = _long_report()
    page = r._repr_html_()
    assert page.index("ntklib-verdict") < page.index("<table")
    assert re.search(r'class="ntklib-badge"[^>]*>PASS<', page) and "<b>0.99996</b>" in page
    assert "<details" in page and "All 90 rows" in page
    assert page.count("<tr") == 1 + 6 + 1 + 90                # summary head and rows, full head and rows
    assert re.search(r'<td style="[^"]*padding:0\.2em 0\.75em[^"]*text-align:right;">100000</td>', page)
    assert re.search(r'<td style="[^"]*text-align:left;">tanh</td>', page)
    assert 'class="ntklib-worst"' in page


def test_html_shows_the_false_statement_and_a_failure() -> None:
    r = ntklib.check("x", np.ones(2), np.full(2, 2.0), statistic="s",
                     false_statement=("the lecture's constant", np.full(2, 0.5)))
    assert "rejects: the lecture&#x27;s constant" in r._repr_html_()
    with pytest.raises(AssertionError):
        ntklib.check("y", np.full(2, 3.0), np.ones(2), statistic="s")
    failed = ntklib.RECORDS[-1]
    assert ">FAIL<" in failed._repr_html_() and reporting.verdict(failed).startswith("y: FAIL, worst ratio 3")
