"""How a :class:`~ntklib.CheckReport` reads: a one-line verdict, a summary of long tables, text and HTML.

A report opens with its verdict: the statement's label, pass or fail, the worst ratio (at most 1
when the statement holds) and the setting where it occurred.  Its table follows, numbers
right-aligned in padded cells.  A table longer than :data:`SUMMARY_ROWS` rows is summarized by
:func:`summary` (the worst row of each group of settings, the worst row overall always among
them) and the full table sits behind a toggle (an HTML ``<details>`` element, which the site and
JupyterLab both open on a click).  The HTML carries its own inline styles, so a notebook shows the
same table as the site; the site adds only a scroll cue (``_static/ntklib.css``).
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:                                   # pragma: no cover
    from .checks import CheckReport

__all__ = ["SUMMARY_ROWS", "VALUE_COLUMNS", "fmt", "fmt_ratio", "html_report", "setting_columns", "summary",
           "text_report", "verdict"]

SUMMARY_ROWS = 12
"""Tables longer than this are summarized, with the full table behind a toggle."""

VALUE_COLUMNS = {"bound": 3, "sharpness": 5, "identity": 5, "agreement": 5, "probability": 6, "rate": 6, "test": 4}
"""For each kind of check, how many columns at the end of a row are measured values (the rest are settings)."""

_LIMIT = {
    "bound": "empirical ≤ bound in every setting",
    "sharpness": "attained/bound ≥ floor in every setting",
    "identity": "|diff| ≤ tol in every setting",
    "agreement": "|error| ≤ z·se in every setting",
    "probability": "upper confidence bound on the failure rate < δ in every setting",
    "rate": "the claimed exponent on the stated side of the interval",
    "test": "every p-value ≥ level",
}

# Inline styles: the same look in JupyterLab (whose own table style they override) and on the site.
_CELL = "padding:0.2em 0.75em;white-space:nowrap;border:none;"
_STYLE = {
    "box": "margin:0.5em 0;max-width:100%;font-size:0.9em;line-height:1.4;",
    "verdict": "margin:0 0 0.3em 0;font-size:1.05em;",
    "pass": "display:inline-block;padding:0 0.45em;border-radius:0.25em;background:#1a7f37;color:#fff;font-weight:600;",
    "fail": "display:inline-block;padding:0 0.45em;border-radius:0.25em;background:#cf222e;color:#fff;font-weight:600;",
    "detail": "margin:0 0 0.4em 0;opacity:0.85;",
    "scroll": "overflow-x:auto;max-width:100%;",
    "table": "border-collapse:collapse;margin:0.2em 0;font-variant-numeric:tabular-nums;width:auto;",
    "th": _CELL + "font-weight:600;border-bottom:1px solid currentColor;vertical-align:bottom;",
    "td": _CELL,
    "worst": "font-weight:600;background:rgba(127,127,127,0.15);",
    "summary": "cursor:pointer;margin:0.3em 0;",
}


def fmt(x: Any) -> str:
    """A table cell: integers whole, reals to 4 significant digits, booleans as yes/no."""
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.4g}"
    return str(x)


def fmt_ratio(x: float) -> str:
    """A ratio to 4 significant digits, but never rounded onto 1 from either side (0.99996 is not "1")."""
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    for digits in range(4, 17):
        text = f"{x:.{digits}g}"
        if x == 1.0 or float(text) != 1.0:
            return text
    return repr(x)


def _cells(report: "CheckReport", i: int) -> list[str]:
    """Row ``i`` as text, the ratio column by :func:`fmt_ratio`."""
    return [fmt_ratio(x) if name == "ratio" and _is_number(x) else fmt(x)
            for name, x in zip(report.columns, report.rows[i])]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def setting_columns(report: "CheckReport") -> tuple[str, ...]:
    """The names of the report's setting columns (those before its measured values)."""
    return tuple(report.columns[: len(report.columns) - VALUE_COLUMNS.get(report.kind, 1)])


def _ratios(report: "CheckReport") -> list[float]:
    col = report.columns.index("ratio") if "ratio" in report.columns else len(report.columns) - 1
    out = []
    for row in report.rows:
        r = float(row[col]) if _is_number(row[col]) else float("nan")
        out.append(-math.inf if math.isnan(r) else r)
    return out


def summary(report: "CheckReport", limit: int = SUMMARY_ROWS) -> tuple[list[int], str] | None:
    """Which rows to show when the table is long, and what they are; ``None`` if it is short.

    The settings are grouped by their leading columns, as many as keep the number of groups at most
    ``limit`` (the check's author orders the columns from the coarsest setting to the finest), and
    the worst row (largest ratio) of each group is kept; the worst row overall is always among them.
    If the first setting column alone has more than ``limit`` values (or there are no settings), the
    ``limit`` rows with the largest ratios are kept.

    Returns
    -------
    (indices, description) or None
        Row indices in table order, and a phrase saying how they were chosen.
    """
    n = len(report.rows)
    if n <= limit:
        return None
    ratios = _ratios(report)
    names = setting_columns(report)
    depth = 0
    for k in range(1, len(names) + 1):
        if len({tuple(map(fmt, row[:k])) for row in report.rows}) > limit:
            break
        depth = k
    if depth == 0:
        picks = set(sorted(range(n), key=lambda i: -ratios[i])[:limit])
        how = f"the {limit} rows with the largest ratio"
    else:
        best: dict[tuple[str, ...], int] = {}
        for i, row in enumerate(report.rows):
            key = tuple(map(fmt, row[:depth]))
            if key not in best or ratios[i] > ratios[best[key]]:
                best[key] = i
        picks = set(best.values())
        how = "the worst row for each " + _join(names[:depth])
    picks.add(report._worst_row)
    return sorted(picks), how


def _join(words: tuple[str, ...] | list[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _where(report: "CheckReport") -> str:
    """Where the worst ratio occurred, in words."""
    row = report.rows[report._worst_row]
    if report.kind == "rate":
        slope, lo, hi, p, mode = row[:5]
        return f"fitted slope {fmt(slope)}, interval [{fmt(lo)}, {fmt(hi)}], claimed {fmt(p)} ({mode})"
    names = setting_columns(report)
    if not names:
        return ""
    return "at " + ", ".join(f"{k} = {fmt(x)}" for k, x in zip(names, row))


def verdict(report: "CheckReport") -> str:
    """The report in one line: label, pass or fail, worst ratio and where it occurred."""
    where = _where(report)
    return (f"{report.label}: {'PASS' if report.passed else 'FAIL'}, worst ratio {fmt_ratio(report.worst_ratio)}"
            + (f" {where}" if where else "") + f" (holds when {_LIMIT.get(report.kind, 'the ratio is at most 1')})")


def _details(report: "CheckReport") -> list[str]:
    lines = [f"{report.kind}: {report.statistic}"]
    if report.note:
        lines.append(report.note)
    if report.false_statement:
        lines.append(f"rejects: {report.false_statement}")
    lines.append(f"seed {report.seed}")
    return lines


def text_report(report: "CheckReport") -> str:
    """Plain text: the verdict, the details, then the table (its summary when long)."""
    short = summary(report)
    rows = short[0] if short else range(len(report.rows))
    cells = [list(report.columns)] + [_cells(report, i) for i in rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(report.columns))]
    lines = [verdict(report), *("  " + d for d in _details(report))]
    if short:
        lines.append(f"{len(rows)} of {len(report.rows)} rows: {short[1]} (all rows: report.rows)")
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _table(report: "CheckReport", rows: list[int] | range) -> str:
    numeric = [all(_is_number(report.rows[i][j]) for i in rows) for j in range(len(report.columns))]

    def cell(tag: str, text: str, j: int) -> str:
        align = "right" if numeric[j] else "left"
        return f'<{tag} style="{_STYLE[tag]}text-align:{align};">{html.escape(text)}</{tag}>'

    head = "".join(cell("th", c, j) for j, c in enumerate(report.columns))
    body = []
    for i in rows:
        worst = i == report._worst_row and len(report.rows) > 1
        attrs = f' class="ntklib-worst" style="{_STYLE["worst"]}"' if worst else ""
        body.append(f"<tr{attrs}>" + "".join(cell("td", c, j) for j, c in enumerate(_cells(report, i))) + "</tr>")
    return (f'<div class="ntklib-scroll" style="{_STYLE["scroll"]}"><table class="ntklib-check" style="{_STYLE["table"]}">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def html_report(report: "CheckReport") -> str:
    """HTML for a notebook or the site: verdict on top, padded right-aligned table, long tables summarized."""
    badge = (f'<span class="ntklib-badge" style="{_STYLE["pass" if report.passed else "fail"]}">'
             f'{"PASS" if report.passed else "FAIL"}</span>')
    where = _where(report)
    verdict_html = (
        f'<div class="ntklib-verdict" style="{_STYLE["verdict"]}">{badge} '
        f'<code class="ntklib-label" data-label="{html.escape(report.label)}">{html.escape(report.label)}</code>: '
        f'worst ratio <b>{fmt_ratio(report.worst_ratio)}</b>'
        + (f" {html.escape(where)}" if where else "")
        + f' <span style="opacity:0.8">(holds when {html.escape(_LIMIT.get(report.kind, "the ratio is at most 1"))})</span></div>'
    )
    details = f'<div class="ntklib-detail" style="{_STYLE["detail"]}">' + " · ".join(
        html.escape(d) for d in _details(report)) + "</div>"
    short = summary(report)
    if short is None:
        body = _table(report, range(len(report.rows)))
    else:
        rows, how = short
        body = (f'<div class="ntklib-summary-note">{len(rows)} of {len(report.rows)} rows: {html.escape(how)}; '
                f"the worst row overall is highlighted.</div>" + _table(report, rows)
                + f'<details class="ntklib-all"><summary style="{_STYLE["summary"]}">All {len(report.rows)} rows</summary>'
                + _table(report, range(len(report.rows))) + "</details>")
    return f'<div class="ntklib-report" style="{_STYLE["box"]}">{verdict_html}{details}{body}</div>'
