r"""Checkers: compare what was measured with what a statement promises, and raise if it fails.

Seven kinds of statement, one checker each:

* :func:`~ntklib.check` — a deterministic bound ``empirical <= bound``, required in every trial;
* :func:`~ntklib.check_sharpness` — a claim of sharpness: a worst case that is attained (an exact
  maximizer or an adversary's value) reaches at least a claimed fraction of a bound;
* :func:`~ntklib.check_identity` — an exact identity ``computed == reference``, which floating
  point can only meet up to a stated rounding allowance;
* :func:`~ntklib.check_agreement` — an estimate agrees with an exact value within a z-multiple of its
  standard error (Monte Carlo against a closed form), with a stated false-failure probability;
* :func:`~ntklib.check_failure_rate` — a "with probability at least 1 − δ" statement: the one-sided
  Clopper–Pearson upper confidence bound on the failure frequency must be below δ;
* :func:`~ntklib.check_slope` — a rate: the confidence interval of a fitted log–log slope against the
  exponent the statement claims;
* :func:`~ntklib.check_test` — a distributional statement, through Kolmogorov–Smirnov tests at a
  stated level.

Each returns a :class:`~ntklib.CheckReport` (rendered as a table in a notebook), raises
:class:`AssertionError` naming the statement, the worst value, the bound, the ratio, the settings
and the seed when the statement fails, and records itself in :data:`~ntklib.checks.RECORDS` (and, if the
environment variable ``NTKLIB_RECORD_FILE`` names a file, appends one JSON line to it) so that
every verification in the book can be listed and re-run.

Every report can be re-evaluated on the same data against a deliberately false statement
(:func:`~ntklib.checks.mutate`): the bound scaled down, the reference or exact value shifted, the claimed rate
made faster, the claimed law stretched, the attained worst case weakened.  Better still, a check can
carry the false statement the text itself discusses (``false_statement=(description, values)``: the
lecture's version of a bound, an average case in place of a worst case, a weaker adversary), and
the registry can ask for exactly that statement to be rejected (amount
:data:`~ntklib.checks.STATED`).  :mod:`ntklib.registry` lists, for every verification in the book,
the mutation that must make it fail.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from . import _validate as v
from .reporting import fmt as _fmt, html_report, text_report
from .seeding import base_seed
from .stats import SlopeFit, clopper_pearson_upper

__all__ = [
    "CheckReport",
    "MUTATIONS",
    "RECORDS",
    "STATED",
    "RECORD_FILE_ENV",
    "check",
    "check_agreement",
    "check_failure_rate",
    "check_identity",
    "check_slope",
    "check_sharpness",
    "check_test",
    "mutate",
]

RECORD_FILE_ENV = "NTKLIB_RECORD_FILE"

RECORDS: list["CheckReport"] = []
"""Every report made in this process, in order."""

MUTATIONS: dict[str, str] = {
    "bound": "the bound multiplied by the amount (< 1): a constant too small",
    "identity": "the reference shifted by amount * max(|reference|, 1): a wrong identity",
    "agreement": "the exact value multiplied by 1 + amount: a wrong closed form",
    "probability": "the bound inside the event multiplied by the amount (< 1): a constant too small",
    "rate": "the claimed exponent lowered by the amount (> 0): a rate too fast",
    "test": "the samples multiplied by the amount: the claimed law stretched",
    "sharpness": "the attained values multiplied by the amount (< 1): a weaker adversary or worst case",
}
"""For each kind of check, the deliberately false statement that :func:`mutate` evaluates."""

STATED = "stated"
"""The mutation "amount" that means: the false statement the check itself carries (``false_statement=``)."""

_FALSE_KEYS = {"bound": "b", "sharpness": "a", "identity": "r", "agreement": "ex", "probability": "bnd", "rate": "p"}
"""Which side of each kind of check a stated false statement replaces (names of the replay arguments)."""


@dataclass(frozen=True, repr=False)
class CheckReport:
    """The outcome of one verification.

    Attributes
    ----------
    label : str
        The statement's label in the book (e.g. ``"lem-smooth"``).
    kind : str
        ``"bound"``, ``"sharpness"``, ``"identity"``, ``"agreement"``, ``"probability"``, ``"rate"`` or
        ``"test"``.
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
    measured : float
        The measured value of the worst setting: the empirical value (bound), the fraction of the
        bound attained (sharpness), the discrepancy (identity, agreement), the upper confidence
        bound on the failure rate (probability), the fitted slope (rate), the smallest p-value
        (test).
    limit : float
        What ``measured`` is compared with: the bound, the claimed fraction, the allowance, δ, the
        claimed exponent, the level.
    false_statement : str
        The false statement this check must reject, when the check carries one (see
        ``false_statement=`` of the checkers); empty otherwise.
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
    measured: float = float("nan")
    limit: float = float("nan")
    _worst_row: int = field(default=0, repr=False)
    _replay: tuple[Callable[..., "CheckReport"], dict[str, Any]] | None = field(
        default=None, repr=False, compare=False
    )
    false_statement: str = ""
    _alternative: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (without the data kept for :func:`~ntklib.checks.mutate`)."""
        d = {k: val for k, val in asdict(self).items() if not k.startswith("_")}
        d["rows"] = [[_plain(x) for x in row] for row in self.rows]
        return d

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        """The verdict line, what was measured, and the table (summarized when long; see :mod:`ntklib.reporting`)."""
        return text_report(self)

    def _repr_html_(self) -> str:
        """The same as HTML with inline styles, for JupyterLab and the site (:func:`ntklib.reporting.html_report`)."""
        return html_report(self)


def _plain(x: Any) -> Any:
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    return x


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}={value!r}: expected a non-empty string")
    return value


def _arrays(**named: ArrayLike) -> list[np.ndarray]:
    """Validate equally shaped, non-empty, finite arrays (no broadcasting), in the order given."""
    arrays = [v.array(name, value) for name, value in named.items()]
    v.same_shape(tuple(named), *arrays)
    if arrays[0].size == 0:
        raise ValueError(f"{next(iter(named))}: expected at least one value")
    return arrays


def _settings(settings: Mapping[str, ArrayLike] | None, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    if settings is not None and not isinstance(settings, Mapping):
        raise ValueError(f"settings={settings!r}: expected a mapping of column name to values")
    out: dict[str, np.ndarray] = {}
    for key, val in (settings or {}).items():
        arr = np.asarray(val)
        if arr.shape != shape:
            raise ValueError(
                f"settings[{key!r}] has shape {arr.shape}: expected {shape}, the shape of the measured values"
            )
        out[key] = arr.reshape(-1)
    return out


def _finish(report: CheckReport, false_statement: tuple[str, Any] | None = None) -> CheckReport:
    if false_statement is not None:
        report = _with_false_statement(report, false_statement)
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


def _with_false_statement(report: CheckReport, false_statement: object) -> CheckReport:
    """Attach a stated false statement ``(description, values)``: values replace the side of the check
    named in :data:`_FALSE_KEYS` (the bound, the attained values, the reference, the exact values, the
    claimed exponent) when the report is replayed by :func:`mutate` with amount :data:`~ntklib.checks.STATED`."""
    if (not isinstance(false_statement, tuple) or len(false_statement) != 2
            or not isinstance(false_statement[0], str) or not false_statement[0].strip()):
        raise ValueError(f"false_statement={false_statement!r}: expected a pair (description, values) with a "
                         "non-empty description")
    text, values = false_statement
    key = _FALSE_KEYS[report.kind]
    current = report._replay[1][key]
    if key == "p":
        alt: Any = v.real("false_statement values", values)
    else:
        alt = v.array("false_statement values", values)
        if alt.size != np.size(current):
            raise ValueError(f"false_statement values have {alt.size} entries: expected {np.size(current)}, "
                             f"one per setting of the check")
        alt = alt.reshape(np.shape(current))
    return replace(report, false_statement=text, _alternative=alt)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, with 0 / 0 = 0 and inf for a positive numerator over 0 (or a quotient beyond the float
    range): an infinitely violated statement."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = num / den
    r = np.where(den > 0, r, np.where(num <= 0, 0.0, np.inf))
    return r


def _rows(cols: dict[str, np.ndarray], *values: np.ndarray) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(c[i] for c in cols.values()) + tuple(val[i] for val in values) for i in range(values[0].size))


# --- deterministic bounds ---------------------------------------------------------------------

def check(
    label: str,
    empirical: ArrayLike,
    bound: ArrayLike,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    atol: float = 0.0,
    false_statement: tuple[str, ArrayLike] | None = None,
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
    false_statement : (str, array_like), optional
        The nearest false statement the text discusses, as a description and the values that replace
        ``bound`` (e.g. the lecture's version of the bound) on the same data; the registry's amount
        :data:`~ntklib.checks.STATED` makes the test suite require that this statement fails.

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
    emp, bnd = _arrays(empirical=empirical, bound=bound)
    tol = v.real("atol", atol, low=0.0)
    cols = _settings(settings, emp.shape)
    return _finish(_bound(label, emp.reshape(-1), bnd.reshape(-1), statistic, cols, tol), false_statement)


def _bound(label: str, e: np.ndarray, b: np.ndarray, statistic: str, cols: dict, tol: float) -> CheckReport:
    ratio = _ratio(e, b)
    with np.errstate(over="ignore"):
        ok = e <= b + tol
    worst = int(np.argmax(np.where(ok, ratio, np.inf)))
    note = f"rounding allowance atol={tol:.3g}" if tol > 0 else ""
    return CheckReport(
        label, "bound", statistic, (*cols, "empirical", "bound", "ratio"), _rows(cols, e, b, ratio),
        float(np.max(ratio)), bool(np.all(ok)), base_seed(), note, float(e[worst]), float(b[worst] + tol), worst,
        (_bound, dict(label=label, e=e, b=b, statistic=statistic, cols=cols, tol=tol)),
    )


# --- sharpness: a worst case attained ----------------------------------------------------------

def check_sharpness(
    label: str,
    attained: ArrayLike,
    bound: ArrayLike,
    floor: ArrayLike,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    atol: ArrayLike = 0.0,
    false_statement: tuple[str, ArrayLike] | None = None,
) -> CheckReport:
    r"""Check a claim of sharpness: ``attained + atol >= floor * bound`` in every entry.

    ``attained`` is a value the supremum of the statement is known to reach: an exact maximizer's
    value, or an adversary's (a lower bound on the supremum).  A prose claim such as "the adversary
    reaches 0.99 of the bound" is the statement ``attained / bound >= 0.99``; checking it makes a
    weaker adversary, or a worst case computed wrongly low, fail the build instead of silently
    making the bound look looser.

    Parameters
    ----------
    label : str
        The statement's label.
    attained, bound : array_like, same shape
        Attained worst cases and the bound they are held against (> 0), one entry per setting.
    floor : array_like
        The claimed fraction(s) of the bound, in (0, 1]: a scalar or an array of the same shape.
    statistic : str
        What was attained, and how.
    settings : mapping, optional
        Setting columns for the table.
    atol : array_like
        Rounding allowance on ``attained`` (default 0; a scalar or one per setting, >= 0): where the
        attained value is computed as a difference, say why the allowance covers its rounding.
    false_statement : (str, array_like), optional
        The nearest false statement the text discusses, as a description and the values that replace
        ``attained`` (e.g. what a weaker adversary attains) on the same data; the registry's amount
        :data:`~ntklib.checks.STATED` makes the test suite require that this statement fails.

    Returns
    -------
    CheckReport
        Columns: the settings, ``attained``, ``bound``, ``attained/bound``, ``floor``, ``ratio`` =
        floor / (attained/bound), at most 1 when the claim holds.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    att, bnd = _arrays(attained=attained, bound=bound)
    if np.any(bnd <= 0):
        raise ValueError(f"bound: expected strictly positive bounds, got minimum {bnd.min()!r}")
    fl = v.array("floor", floor)
    if fl.ndim == 0:
        fl = np.full(att.shape, float(fl))
    v.same_shape(("attained", "floor"), att, fl)
    if np.any(fl <= 0) or np.any(fl > 1):
        raise ValueError(f"floor: expected claimed fractions in (0, 1], got range [{fl.min()!r}, {fl.max()!r}]")
    tol = v.array("atol", atol)
    if tol.ndim == 0:
        tol = np.full(att.shape, float(tol))
    v.same_shape(("attained", "atol"), att, tol)
    if np.any(tol < 0):
        raise ValueError(f"atol: expected allowances >= 0, got minimum {tol.min()!r}")
    with np.errstate(over="ignore"):
        if not np.all(np.isfinite(att / bnd)):
            raise ValueError("attained, bound: attained/bound exceeds the float range; expected bounds not "
                             "vanishingly small against the attained values")
    cols = _settings(settings, att.shape)
    return _finish(_sharpness(label, att.reshape(-1), bnd.reshape(-1), fl.reshape(-1), tol.reshape(-1), statistic,
                              cols), false_statement)


def _sharpness(
    label: str, a: np.ndarray, b: np.ndarray, fl: np.ndarray, tol: np.ndarray, statistic: str, cols: dict
) -> CheckReport:
    with np.errstate(over="ignore", under="ignore"):
        frac = (a + tol) / b
    ratio = _ratio(fl, frac)
    worst = int(np.argmax(ratio))
    note = "the attained worst case must reach at least the claimed fraction of the bound"
    if np.any(tol > 0):
        note += f"; rounding allowance up to {tol.max():.3g} added to the attained values"
    return CheckReport(
        label, "sharpness", statistic, (*cols, "attained", "bound", "attained/bound", "floor", "ratio"),
        _rows(cols, a, b, a / b, fl, ratio), float(ratio.max()), bool(np.all(frac >= fl)), base_seed(),
        note, float(frac[worst]), float(fl[worst]), worst,
        (_sharpness, dict(label=label, a=a, b=b, fl=fl, tol=tol, statistic=statistic, cols=cols)),
    )


def check_identity(
    label: str,
    computed: ArrayLike,
    reference: ArrayLike,
    tol: ArrayLike,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    false_statement: tuple[str, ArrayLike] | None = None,
) -> CheckReport:
    r"""Check an exact identity up to rounding: ``|computed - reference| <= tol`` in every entry.

    Use it for statements that hold exactly in real arithmetic (an algebraic identity, a count),
    with ``tol`` a rounding allowance derived from the computation (say how in ``statistic``),
    or ``0.5`` for integer counts.

    Parameters
    ----------
    computed, reference : array_like, same shape
        The two sides of the identity, one entry per setting.
    tol : array_like
        Allowances (>= 0), of the same shape.
    statistic : str
        What the identity says and where the allowance comes from.
    settings : mapping, optional
        Setting columns for the table.
    false_statement : (str, array_like), optional
        The nearest false statement the text discusses, as a description and the values that replace
        ``reference`` on the same data; the registry's amount :data:`~ntklib.checks.STATED` makes
        the test suite require that this statement fails.

    Returns
    -------
    CheckReport
        Columns: the settings, ``computed``, ``reference``, ``|diff|``, ``tol``, ``ratio`` = ``|diff| / tol``.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    c, r, t = _arrays(computed=computed, reference=reference, tol=tol)
    if np.any(t < 0):
        raise ValueError(f"tol: expected allowances >= 0, got minimum {t.min()!r}")
    cols = _settings(settings, c.shape)
    return _finish(_identity(label, c.reshape(-1), r.reshape(-1), t.reshape(-1), statistic, cols), false_statement)


def _identity(label: str, c: np.ndarray, r: np.ndarray, t: np.ndarray, statistic: str, cols: dict) -> CheckReport:
    with np.errstate(over="ignore"):
        diff = np.abs(c - r)
    ratio = _ratio(diff, t)
    worst = int(np.argmax(ratio))
    return CheckReport(
        label, "identity", statistic, (*cols, "computed", "reference", "|diff|", "tol", "ratio"),
        _rows(cols, c, r, diff, t, ratio), float(ratio.max()), bool(np.all(diff <= t)), base_seed(),
        "exact in real arithmetic; tol is the rounding allowance", float(diff[worst]), float(t[worst]), worst,
        (_identity, dict(label=label, c=c, r=r, t=t, statistic=statistic, cols=cols)),
    )


# --- Monte Carlo against a closed form ------------------------------------------------------

def check_agreement(
    label: str,
    estimate: ArrayLike,
    stderr: ArrayLike,
    exact: ArrayLike,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    false_failure: float = 1e-6,
    false_statement: tuple[str, ArrayLike] | None = None,
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
    false_statement : (str, array_like), optional
        The nearest false statement the text discusses, as a description and the values that replace
        ``exact`` on the same data; the registry's amount :data:`~ntklib.checks.STATED` makes the
        test suite require that this statement fails.

    Returns
    -------
    CheckReport
        Columns: the settings, ``estimate``, ``exact``, ``|error|``, ``z*se``, ``ratio``.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    est, se, ex = _arrays(estimate=estimate, stderr=stderr, exact=exact)
    if np.any(se <= 0):
        raise ValueError("stderr: expected strictly positive standard errors")
    eps = v.probability("false_failure", false_failure)
    z = float(_st.norm.isf(eps / (2 * est.size)))
    if not np.isfinite(z):
        raise ValueError(f"false_failure={eps!r}: the Bonferroni quantile is not representable; expected "
                         f"false_failure >= {2 * est.size * np.finfo(float).tiny:.3g}")
    with np.errstate(over="ignore"):
        if not np.all(np.isfinite(z * se)):
            raise ValueError(f"stderr: z * stderr exceeds the float range (z = {z:.3g}); expected smaller standard errors")
    cols = _settings(settings, est.shape)
    return _finish(_agreement(label, est.reshape(-1), se.reshape(-1), ex.reshape(-1), statistic, cols, eps),
                   false_statement)


def _agreement(
    label: str, est: np.ndarray, se: np.ndarray, ex: np.ndarray, statistic: str, cols: dict, eps: float
) -> CheckReport:
    k = est.size
    z = float(_st.norm.isf(eps / (2 * k)))
    with np.errstate(over="ignore"):
        err = np.abs(est - ex)
        allow = z * se
        ratio = err / allow
    worst = int(np.argmax(ratio))
    note = f"z = {z:.3f} (Bonferroni over {k}); false-failure probability <= {eps:.1e}"
    return CheckReport(
        label, "agreement", statistic, (*cols, "estimate", "exact", "|error|", "z*se", "ratio"),
        _rows(cols, est, ex, err, allow, ratio), float(ratio.max()), bool(np.all(ratio <= 1.0)), base_seed(),
        note, float(err[worst]), float(allow[worst]), worst,
        (_agreement, dict(label=label, est=est, se=se, ex=ex, statistic=statistic, cols=cols, eps=eps)),
    )


# --- "with probability at least 1 - delta" ----------------------------------------------------

def check_failure_rate(
    label: str,
    empirical: ArrayLike,
    bound: ArrayLike,
    delta: float,
    *,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
    confidence: float = 0.99,
    false_statement: tuple[str, ArrayLike] | None = None,
) -> CheckReport:
    r"""Check a "with probability at least :math:`1-\delta`" statement from independent draws.

    Row :math:`k` of ``empirical`` holds the measured value in each of :math:`T` independent
    draws at setting :math:`k`; a draw *fails* when its value exceeds ``bound[k]``.  The statement
    is accepted iff, for every setting, the one-sided Clopper–Pearson upper bound at level
    ``confidence`` on the failure frequency is below :math:`\delta`: the data show, at that
    confidence, that the failure rate is below :math:`\delta`.  When the true failure rate is
    :math:`p \ll \delta` (a loose bound) the chance of a false failure is the chance that a
    Binomial(T, p) count reaches the smallest count whose upper bound is :math:`\ge \delta`;
    choose :math:`T` so that this is negligible.

    Parameters
    ----------
    empirical : array_like, shape (K, T)
        Measured values, one row per setting, one column per draw.
    bound : array_like, shape (K,)
        The statement's bound at each setting.
    delta : float
        The statement's :math:`\delta \in (0, 1)`.
    statistic : str
        What was measured in each draw.
    settings : mapping, optional
        Setting columns for the table (each of shape (K,)).
    confidence : float
        Level of the upper bound, in (0, 1).
    false_statement : (str, array_like), optional
        The nearest false statement the text discusses, as a description and the values that replace
        ``bound`` on the same data; the registry's amount :data:`~ntklib.checks.STATED` makes the
        test suite require that this statement fails.

    Returns
    -------
    CheckReport
        Columns: the settings, ``failures``, ``trials``, ``max value/bound`` (the largest ratio of
        any draw), ``upper`` (the confidence bound), ``delta``, ``ratio`` = upper/delta.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    emp = v.matrix("empirical", empirical)
    bnd = v.vector("bound", bound, length=emp.shape[0])
    if np.any(bnd <= 0):
        raise ValueError("bound: expected strictly positive bounds")
    d = v.probability("delta", delta)
    c = v.probability("confidence", confidence)
    cols = _settings(settings, bnd.shape)
    return _finish(_probability(label, emp, bnd, d, statistic, cols, c), false_statement)


def _probability(
    label: str, emp: np.ndarray, bnd: np.ndarray, d: float, statistic: str, cols: dict, c: float
) -> CheckReport:
    trials = emp.shape[1]
    ks = np.sum(emp > bnd[:, None], axis=1)
    up = np.array([clopper_pearson_upper(int(k), trials, c) for k in ks])
    with np.errstate(over="ignore"):
        largest = np.max(emp, axis=1) / bnd
        ratio = up / d
    worst = int(np.argmax(ratio))
    note = (f"one-sided Clopper-Pearson upper bound at {100 * c:g}% confidence over {trials} draws "
            f"must be below delta")
    return CheckReport(
        label, "probability", statistic, (*cols, "failures", "trials", "max value/bound", "upper", "delta", "ratio"),
        _rows(cols, ks, np.full(ks.size, trials), largest, up, np.full(ks.size, d), ratio),
        float(ratio.max()), bool(np.all(up < d)), base_seed(), note, float(up[worst]), d, worst,
        (_probability, dict(label=label, emp=emp, bnd=bnd, d=d, statistic=statistic, cols=cols, c=c)),
    )


# --- rates ------------------------------------------------------------------------------------

def check_slope(
    label: str,
    fit: SlopeFit,
    exponent: float,
    *,
    statistic: str,
    mode: str = "at_most",
    allowance: float = 0.0,
    false_statement: tuple[str, ArrayLike] | None = None,
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
    allowance : float, optional
        ``mode="equal"`` only: :math:`a \ge 0` such that the statement is that the slope lies in
        :math:`[p - a, p + a]` at the sizes fitted (an asymptotic exponent measured at finite sizes, whose
        correction the text bounds by :math:`a`); the check fails iff the interval misses
        :math:`[p - a, p + a]`.  Default 0: the exponent itself.
    false_statement : (str, array_like), optional
        The nearest false statement the text discusses, as a description and the values that replace
        ``exponent`` (a single number) on the same data; the registry's amount
        :data:`~ntklib.checks.STATED` makes the test suite require that this statement fails.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    if not isinstance(fit, SlopeFit):
        raise ValueError(f"fit={fit!r}: expected a SlopeFit from fit_loglog")
    p = v.real("exponent", exponent)
    if mode not in ("at_most", "equal", "below"):
        raise ValueError(f"mode={mode!r}: expected 'at_most', 'equal' or 'below'")
    allow = v.real("allowance", allowance)
    if not allow >= 0.0 or (allow > 0.0 and mode != "equal"):
        raise ValueError(f"allowance={allowance!r}: expected a finite number >= 0, and 0 unless mode='equal'")
    return _finish(_rate(label, fit, p, statistic, mode, allow), false_statement)


_ALLOWANCE = "equal ± "


def _rate_mode(mode: str, allow: float) -> str:
    """A rate report's ``mode`` cell: the mode, or ``"equal ± a"`` with an allowance (read by :func:`rate_mode`)."""
    return mode if allow == 0.0 else f"{_ALLOWANCE}{allow!r}"


def rate_mode(cell: str) -> tuple[str, float]:
    """The mode and the allowance of a rate report's ``mode`` cell (the inverse of how :func:`check_slope` writes it)."""
    return ("equal", float(cell.removeprefix(_ALLOWANCE))) if cell.startswith(_ALLOWANCE) else (cell, 0.0)


def _rate(label: str, fit: SlopeFit, p: float, statistic: str, mode: str, allow: float = 0.0) -> CheckReport:
    half = max((fit.ci_high - fit.ci_low) / 2.0, np.finfo(float).tiny)
    if mode == "at_most":
        passed = fit.ci_low <= p
        ratio = 1.0 + max(0.0, fit.ci_low - p) / half
    elif mode == "below":
        passed = fit.ci_high < p
        ratio = 1.0 + max(0.0, fit.ci_high - p) / half
    else:
        passed = fit.ci_low <= p + allow and p - allow <= fit.ci_high
        ratio = 1.0 + max(0.0, fit.ci_low - (p + allow), (p - allow) - fit.ci_high) / half
    rows = ((fit.slope, fit.ci_low, fit.ci_high, p, _rate_mode(mode, allow), ratio),)
    note = f"{100 * fit.confidence:.6g}% confidence interval over {fit.points} points"
    if fit.replicates > 1:
        note += f" and {fit.replicates} independent replicates (Student-t over the replicates' slopes)"
    if allow > 0.0:
        note += f"; the claim is a slope within {allow:.3g} of the exponent at the sizes fitted"
    return CheckReport(
        label, "rate", statistic, ("slope", "ci_low", "ci_high", "claimed", "mode", "ratio"), rows,
        float(ratio), bool(passed), base_seed(), note, float(fit.slope), p, 0,
        (_rate, dict(label=label, fit=fit, p=p, statistic=statistic, mode=mode, allow=allow)),
    )


# --- laws -------------------------------------------------------------------------------------

def check_test(
    label: str,
    samples: Sequence[ArrayLike],
    reference: Callable[[np.ndarray], np.ndarray] | Sequence[ArrayLike],
    *,
    level: float,
    statistic: str,
    settings: Mapping[str, ArrayLike] | None = None,
) -> CheckReport:
    r"""Check a distributional statement with Kolmogorov–Smirnov tests.

    For each setting, ``samples[k]`` holds independent draws whose law the statement claims: the
    law with cumulative distribution function ``reference`` (one-sample test) or the law of
    the independent draws ``reference[k]`` (two-sample test).  The statement is rejected iff some
    p-value is below ``level``.  If the null hypotheses hold exactly, the probability of a false
    failure is at most ``level`` times the number of tests (union bound); state how close to exact
    the null is when it holds only approximately (a limit theorem at finite size).

    Parameters
    ----------
    samples : sequence of array_like, each 1-D
        One sample per setting (a 2-D array is read row by row).
    reference : callable or sequence of array_like
        A vectorised CDF, or one reference sample per setting.
    level : float
        Significance level in (0, 1).
    statistic : str
        The test and what it compares.
    settings : mapping, optional
        Setting columns for the table.

    Returns
    -------
    CheckReport
        Columns: the settings, ``KS distance``, ``p-value``, ``level``, ``ratio`` = level/p-value.
    """
    label = _text("label", label)
    statistic = _text("statistic", statistic)
    xs = _samples("samples", samples)
    if callable(reference):
        refs: Callable[[np.ndarray], np.ndarray] | list[np.ndarray] = reference
    else:
        refs = _samples("reference", reference)
        if len(refs) != len(xs):
            raise ValueError(f"reference: expected {len(xs)} samples, one per setting, got {len(refs)}")
    a = v.probability("level", level)
    cols = _settings(settings, (len(xs),))
    return _finish(_test(label, xs, refs, a, statistic, cols))


def _samples(name: str, value: object) -> list[np.ndarray]:
    if (isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray))
            or np.ndim(value) == 0 or len(value) == 0):
        raise ValueError(f"{name}={value!r}: expected a non-empty sequence of 1-D samples")
    return [v.vector(f"{name}[{k}]", x, min_length=2) for k, x in enumerate(value)]


def _test(label: str, xs: list, refs: Any, a: float, statistic: str, cols: dict) -> CheckReport:
    results = [
        _st.kstest(x, refs) if callable(refs) else _st.ks_2samp(x, r)
        for x, r in zip(xs, refs if not callable(refs) else [None] * len(xs))
    ]
    dist = np.array([res.statistic for res in results])
    pv = np.array([res.pvalue for res in results])
    ratio = _ratio(np.full(pv.shape, a), pv)
    worst = int(np.argmax(ratio))
    kind = "one-sample" if callable(refs) else "two-sample"
    note = (f"{kind} KS; rejected iff a p-value is below {a:.1e}; false-failure probability "
            f"<= {a * pv.size:.1e} under exact nulls")
    return CheckReport(
        label, "test", statistic, (*cols, "KS distance", "p-value", "level", "ratio"),
        _rows(cols, dist, pv, np.full(pv.shape, a), ratio), float(ratio.max()), bool(np.all(pv >= a)),
        base_seed(), note, float(pv[worst]), a, worst,
        (_test, dict(label=label, xs=xs, refs=refs, a=a, statistic=statistic, cols=cols)),
    )


# --- deliberately false statements ---------------------------------------------------------------

def mutate(report: CheckReport, amount: float) -> CheckReport:
    """Re-evaluate a report's data against a deliberately false statement (see :data:`MUTATIONS`).

    Nothing is recorded and nothing is raised: the returned report's ``passed`` says whether the
    check would have accepted the false statement (it must not).

    Parameters
    ----------
    report : CheckReport
        A report made by one of the checkers in this process.
    amount : float or str
        The size of the mutation; its meaning depends on ``report.kind`` (:data:`MUTATIONS`).  Or
        :data:`~ntklib.checks.STATED`: the false statement the check carries (``false_statement=``).

    Returns
    -------
    CheckReport
        The report of the false statement.
    """
    if not isinstance(report, CheckReport) or report._replay is None:
        raise ValueError(f"report={report!r}: expected a CheckReport made by a checker in this process")
    fn, kw = report._replay
    kw = dict(kw)
    kind = report.kind
    if isinstance(amount, str):
        if amount != STATED:
            raise ValueError(f"amount={amount!r}: expected a number or {STATED!r}")
        if report._alternative is None:
            raise ValueError(f"amount={STATED!r}: the {report.label} [{kind}] check carries no false_statement")
        kw[_FALSE_KEYS[kind]] = report._alternative
        return fn(**kw)
    amt = v.real("amount", amount)
    if kind in ("bound", "probability", "sharpness"):
        if not 0 < amt < 1:
            raise ValueError(f"amount={amount!r}: expected a factor in (0, 1) for a {kind} check")
    elif kind == "rate" and amt <= 0:
        raise ValueError(f"amount={amount!r}: expected a positive shift of the exponent")
    with np.errstate(over="ignore", invalid="ignore"):      # a large amount may overflow: the statement fails
        if kind in ("bound", "probability", "sharpness"):
            key = {"bound": "b", "probability": "bnd", "sharpness": "a"}[kind]
            kw[key] = kw[key] * amt
        elif kind == "identity":
            kw["r"] = kw["r"] + amt * np.maximum(np.abs(kw["r"]), 1.0)
        elif kind == "agreement":
            kw["ex"] = kw["ex"] * (1.0 + amt)
        elif kind == "rate":
            kw["p"] = kw["p"] - amt
        elif kind == "test":
            kw["xs"] = [x * amt for x in kw["xs"]]
        else:  # pragma: no cover - every kind is handled above
            raise ValueError(f"report.kind={kind!r}: unknown kind")
        return fn(**kw)
