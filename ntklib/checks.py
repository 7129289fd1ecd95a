r"""Checkers: compare what was measured with what a statement promises, and raise if it fails.

Four kinds of statement, one checker each:

* :func:`~ntklib.check` — a deterministic bound ``empirical <= bound``, required in every trial;
* :func:`~ntklib.check_agreement` — an estimate agrees with an exact value within a z-multiple of its
  standard error (Monte Carlo against a closed form), with a stated false-failure probability;
* :func:`~ntklib.check_failure_rate` — a "with probability at least 1 − δ" statement: the one-sided
  Clopper–Pearson upper confidence bound on the failure frequency must be below δ;
* :func:`~ntklib.check_slope` — a rate: the confidence interval of a fitted log–log slope against the
  exponent the statement claims;
* :func:`~ntklib.check_test` — a distributional statement, through the p-values of a goodness-of-fit
  test at a stated level.

Each returns a :class:`~ntklib.CheckReport` (rendered as a table in a notebook), raises
:class:`AssertionError` naming the statement, the worst value, the bound, the ratio, the settings
and the seed when the statement fails, and records itself in :data:`~ntklib.checks.RECORDS` (and, if the
environment variable ``NTKLIB_RECORD_FILE`` names a file, appends one JSON line to it) so that
every verification in the book can be listed and re-run.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from . import _validate as v
from .seeding import base_seed
from .stats import SlopeFit, clopper_pearson_upper

__all__ = [
    "CheckReport",
    "RECORDS",
    "RECORD_FILE_ENV",
    "check",
    "check_agreement",
    "check_failure_rate",
    "check_slope",
    "check_test",
]

RECORD_FILE_ENV = "NTKLIB_RECORD_FILE"

RECORDS: list["CheckReport"] = []
"""Every report made in this process, in order."""


@dataclass(frozen=True, repr=False)
class CheckReport:
    """The outcome of one verification.

    Attributes
    ----------
    label : str
        The statement's label in the book (e.g. ``"lem-smooth"``).
    kind : str
        ``"bound"``, ``"agreement"``, ``"probability"``, ``"rate"`` or ``"test"``.
    statistic : str
        What was measured.
    columns : tuple of str
        Column names of ``rows``.
    rows : tuple of tuple
        One row per setting: the settings, then the measured value, the bound, the ratio.
    worst_ratio : float
        Largest measured/bound ratio; the statement holds iff it is at most 1 (for ``"rate"``,
        the distance of the claimed exponent from the interval, see :func:`~ntklib.check_slope`).
    passed : bool
    seed : int
        The base seed in force (``NTKLIB_SEED`` or the default).
    note : str
        How the decision was made (tolerances, confidence levels, false-failure probability).
    """

    label: str
    kind: str
    statistic: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    worst_ratio: float
    passed: bool
    seed: int
    note: str = ""
    _worst_row: int = field(default=0, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        d = asdict(self)
        d.pop("_worst_row")
        d["rows"] = [[_plain(x) for x in row] for row in self.rows]
        return d

    def _cells(self) -> list[list[str]]:
        return [[_fmt(x) for x in row] for row in self.rows]

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        cells = [list(self.columns)] + self._cells()
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        lines = [
            f"{self.label} [{self.kind}] {'PASS' if self.passed else 'FAIL'}: {self.statistic}; "
            f"worst ratio {self.worst_ratio:.4g}; seed {self.seed}"
        ]
        for r in cells:
            lines.append("  ".join(c.rjust(w) for c, w in zip(r, widths)))
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in self._cells()
        )
        verdict = "pass" if self.passed else "FAIL"
        caption = (
            f"<b>{html.escape(self.label)}</b> ({self.kind}): {html.escape(self.statistic)}. "
            f"Worst ratio {self.worst_ratio:.4g}, {verdict}, seed {self.seed}."
        )
        note = f"<br><small>{html.escape(self.note)}</small>" if self.note else ""
        return (
            f'<table class="ntklib-check"><caption style="caption-side: top">{caption}{note}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _plain(x: Any) -> Any:
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


def _fmt(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.4g}"
    return str(x)


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}={value!r}: expected a non-empty string")
    return value


def _settings(settings: Mapping[str, ArrayLike] | None, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for key, val in (settings or {}).items():
        arr = np.asarray(val)
        if arr.shape != shape:
            raise ValueError(
                f"settings[{key!r}] has shape {arr.shape}: expected {shape}, the shape of the measured values"
            )
        out[key] = arr.reshape(-1)
    return out


def _finish(report: CheckReport) -> CheckReport:
    RECORDS.append(report)
    path = os.environ.get(RECORD_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(report.to_dict()) + "\n")
    if not report.passed:
        row = dict(zip(report.columns, report.rows[report._worst_row]))
        where = ", ".join(f"{k}={_fmt(x)}" for k, x in row.items())
        raise AssertionError(
            f"{report.label} FAILED ({report.kind}): {report.statistic}; worst ratio "
            f"{report.worst_ratio:.4g} at {where}; seed {report.seed}. {report.note}"
        )
    return report


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    r = np.where(den > 0, r, np.where(num <= 0, 0.0, np.inf))
    return r


def check(
    label: str,
    empirical: ArrayLike,
    bound: ArrayLike,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    atol: float = 0.0,
) -> CheckReport:
    r"""Check a deterministic bound: ``empirical <= bound + atol`` in every entry.

    Parameters
    ----------
    label : str
        The statement's label.
    empirical, bound : array_like, same shape
        Measured worst cases and the statement's right-hand side, one entry per setting.
        No broadcasting: pass equal shapes.
    statistic : str
        What was measured, in words.
    settings : mapping of str to array_like, optional
        Setting columns for the table (each of the same shape as ``empirical``).
    atol : float
        Absolute allowance for floating-point rounding (default 0); state why when it is used.

    Returns
    -------
    CheckReport
        Columns: the settings, ``empirical``, ``bound``, ``ratio`` = empirical/bound.

    Raises
    ------
    AssertionError
        If any entry exceeds its bound by more than ``atol``.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    emp = v.array("empirical", empirical)
    bnd = v.array("bound", bound)
    v.same_shape(("empirical", "bound"), emp, bnd)
    if emp.size == 0:
        raise ValueError("empirical: expected at least one measured value")
    tol = v.real("atol", atol, low=0.0)
    cols = _settings(settings, emp.shape)
    e, b = emp.reshape(-1), bnd.reshape(-1)
    ratio = _ratio(e, b)
    ok = e <= b + tol
    worst = int(np.argmax(np.where(ok, ratio, np.inf)))
    rows = tuple(tuple(c[i] for c in cols.values()) + (e[i], b[i], ratio[i]) for i in range(e.size))
    note = f"rounding allowance atol={tol:.3g}" if tol > 0 else ""
    return _finish(
        CheckReport(
            label, "bound", statistic, (*cols, "empirical", "bound", "ratio"), rows,
            float(np.max(ratio)), bool(np.all(ok)), base_seed(), note, worst,
        )
    )


def check_agreement(
    label: str,
    estimate: ArrayLike,
    stderr: ArrayLike,
    exact: ArrayLike,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    false_failure: float = 1e-6,
) -> CheckReport:
    r"""Check that unbiased estimates agree with exact values within their sampling error.

    With :math:`K` entries, each passes iff :math:`|\hat\theta_k - \theta_k| \le z\,\mathrm{se}_k`
    where :math:`z = \Phi^{-1}(1 - \varepsilon / (2K))` (Bonferroni).  If every estimate is
    (approximately) normal with the given standard error, the probability that a true statement
    fails is at most :math:`\varepsilon` = ``false_failure``.

    Parameters
    ----------
    estimate, stderr, exact : array_like, same shape
        Estimates, their standard errors (> 0) and the exact values.
    statistic : str
        What was estimated.
    settings : mapping, optional
        Setting columns for the table.
    false_failure : float
        :math:`\varepsilon \in (0, 1)`.

    Returns
    -------
    CheckReport
        Columns: the settings, ``estimate``, ``exact``, ``|error|``, ``z*se``, ``ratio``.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    est = v.array("estimate", estimate)
    se = v.array("stderr", stderr)
    ex = v.array("exact", exact)
    v.same_shape(("estimate", "stderr", "exact"), est, se, ex)
    if est.size == 0:
        raise ValueError("estimate: expected at least one value")
    if np.any(se <= 0):
        raise ValueError("stderr: expected strictly positive standard errors")
    eps = v.probability("false_failure", false_failure)
    cols = _settings(settings, est.shape)
    k = est.size
    z = float(_st.norm.isf(eps / (2 * k)))
    err = np.abs(est - ex).reshape(-1)
    allow = z * se.reshape(-1)
    ratio = err / allow
    worst = int(np.argmax(ratio))
    rows = tuple(
        tuple(c[i] for c in cols.values()) + (est.reshape(-1)[i], ex.reshape(-1)[i], err[i], allow[i], ratio[i])
        for i in range(k)
    )
    note = f"z = {z:.3f} (Bonferroni over {k}); false-failure probability <= {eps:.1e}"
    return _finish(
        CheckReport(
            label, "agreement", statistic, (*cols, "estimate", "exact", "|error|", "z*se", "ratio"), rows,
            float(ratio.max()), bool(np.all(ratio <= 1.0)), base_seed(), note, worst,
        )
    )


def check_failure_rate(
    label: str,
    failures: ArrayLike,
    trials: int,
    delta: float,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    confidence: float = 0.99,
) -> CheckReport:
    r"""Check a "with probability at least :math:`1-\delta`" statement from failure counts.

    For each setting, ``failures`` of ``trials`` independent draws violated the statement.  The
    statement is accepted iff the one-sided Clopper–Pearson upper bound at level ``confidence``
    is below :math:`\delta`: the data show, at that confidence, that the failure rate is below
    :math:`\delta`.  When the true failure rate is :math:`p \ll \delta` (a loose bound) the chance
    of a false failure is the chance that a Binomial(trials, p) count reaches the smallest count
    whose upper bound is :math:`\ge \delta`; choose ``trials`` so that this is negligible.

    Parameters
    ----------
    failures : array_like of int
        Failure counts, one per setting.
    trials : int
        Draws per setting (the same for all).
    delta : float
        The statement's :math:`\delta \in (0, 1)`.
    statistic : str
        What counts as a failure.
    settings : mapping, optional
        Setting columns for the table.
    confidence : float
        Level of the upper bound, in (0, 1).

    Returns
    -------
    CheckReport
        Columns: the settings, ``failures``, ``trials``, ``upper`` (the confidence bound),
        ``delta``, ``ratio`` = upper/delta.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    raw = np.asarray(failures)
    if raw.dtype == object or not np.issubdtype(raw.dtype, np.integer) or raw.size == 0:
        raise ValueError(f"failures={raw!r}: expected a non-empty integer array of counts")
    n = v.integer("trials", trials, minimum=1)
    d = v.probability("delta", delta)
    c = v.probability("confidence", confidence)
    cols = _settings(settings, raw.shape)
    ks = raw.reshape(-1)
    up = np.array([clopper_pearson_upper(int(k), n, c) for k in ks])
    ratio = up / d
    worst = int(np.argmax(ratio))
    rows = tuple(tuple(col[i] for col in cols.values()) + (int(ks[i]), n, up[i], d, ratio[i]) for i in range(ks.size))
    note = f"one-sided Clopper-Pearson upper bound at {100 * c:g}% confidence must be below delta"
    return _finish(
        CheckReport(
            label, "probability", statistic, (*cols, "failures", "trials", "upper", "delta", "ratio"), rows,
            float(ratio.max()), bool(np.all(up < d)), base_seed(), note, worst,
        )
    )


def check_slope(
    label: str,
    fit: SlopeFit,
    exponent: float,
    *,
    statistic: str,
    mode: str = "at_most",
) -> CheckReport:
    r"""Check a rate against the confidence interval of a fitted log–log slope.

    ``mode="at_most"``: the statement says the quantity decays at least as fast as
    :math:`x^{p}` (slope :math:`\le p`); it fails iff the whole interval lies above :math:`p`.
    ``mode="equal"``: the statement says the rate is exactly :math:`p`; it fails iff :math:`p` is
    outside the interval.  ``mode="below"``: the data must show that the slope is below :math:`p`
    (e.g. :math:`p = 0`: the quantity decreases); it fails unless the whole interval lies below
    :math:`p`.  The reported ratio is the distance of :math:`p` outside the interval (on the failing
    side) in half-widths plus one, at most 1 when the statement holds.

    Parameters
    ----------
    fit : SlopeFit
        From :func:`ntklib.fit_loglog`.
    exponent : float
        The claimed exponent :math:`p`.
    statistic : str
        What was fitted.
    mode : {"at_most", "equal", "below"}
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    if not isinstance(fit, SlopeFit):
        raise ValueError(f"fit={fit!r}: expected a SlopeFit from fit_loglog")
    p = v.real("exponent", exponent)
    if mode not in ("at_most", "equal", "below"):
        raise ValueError(f"mode={mode!r}: expected 'at_most', 'equal' or 'below'")
    half = max((fit.ci_high - fit.ci_low) / 2.0, np.finfo(float).tiny)
    if mode == "at_most":
        passed = fit.ci_low <= p
        ratio = 1.0 + max(0.0, fit.ci_low - p) / half
    elif mode == "below":
        passed = fit.ci_high < p
        ratio = 1.0 + max(0.0, fit.ci_high - p) / half
    else:
        passed = fit.ci_low <= p <= fit.ci_high
        ratio = 1.0 + max(0.0, fit.ci_low - p, p - fit.ci_high) / half
    rows = ((fit.slope, fit.ci_low, fit.ci_high, p, mode, ratio),)
    note = f"{100 * fit.confidence:.6g}% confidence interval over {fit.points} points"
    return _finish(
        CheckReport(
            label, "rate", statistic, ("slope", "ci_low", "ci_high", "claimed", "mode", "ratio"), rows,
            float(ratio), bool(passed), base_seed(), note, 0,
        )
    )


def check_test(
    label: str,
    pvalues: ArrayLike,
    *,
    level: float,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
) -> CheckReport:
    r"""Check a distributional statement through goodness-of-fit p-values.

    Each entry is the p-value of a test whose null hypothesis is the statement (e.g. a
    Kolmogorov–Smirnov test against the claimed distribution).  The statement is rejected iff some
    p-value is below ``level``.  If the null hypotheses hold exactly, the probability of a false
    failure is at most ``level`` times the number of tests (union bound); state how close to exact
    the null is when it holds only approximately (a limit theorem at finite size).

    Parameters
    ----------
    pvalues : array_like
        p-values in [0, 1], one per setting.
    level : float
        Significance level in (0, 1).
    statistic : str
        The test and what it compares.
    settings : mapping, optional
        Setting columns for the table.

    Returns
    -------
    CheckReport
        Columns: the settings, ``p-value``, ``level``, ``ratio`` = level/p-value.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    p = v.array("pvalues", pvalues)
    if p.size == 0 or np.any(p < 0) or np.any(p > 1):
        raise ValueError("pvalues: expected a non-empty array of values in [0, 1]")
    a = v.probability("level", level)
    cols = _settings(settings, p.shape)
    pv = p.reshape(-1)
    ratio = _ratio(np.full(pv.shape, a), pv)
    worst = int(np.argmax(ratio))
    rows = tuple(tuple(c[i] for c in cols.values()) + (pv[i], a, ratio[i]) for i in range(pv.size))
    note = f"rejected iff a p-value is below {a:.1e}; false-failure probability <= {a * pv.size:.1e} under exact nulls"
    return _finish(
        CheckReport(
            label, "test", statistic, (*cols, "p-value", "level", "ratio"), rows,
            float(ratio.max()), bool(np.all(pv >= a)), base_seed(), note, worst,
        )
    )
