"""Sphinx hooks for a book whose chapters call ntklib: re-execution on library changes, and the
verification dashboard.

*Re-execution.*  Jupyter Book re-executes a notebook only when Sphinx re-reads it, and Sphinx
re-reads only documents whose source changed.  A change to ntklib changes what the chapters
compute without touching their sources, so this extension fingerprints ntklib's source files
and, when the fingerprint differs from the one stored in the build environment, marks every
document outdated: with ``execute_notebooks: force`` every chapter then runs again against the
new code.  Files listed in the configuration value ``ntklib_extra_dependencies`` (paths relative
to the book's root) count as part of the fingerprint.

*Dashboard.*  Before a document is parsed (and so executed), ``NTKLIB_RECORD_FILE`` is pointed
at a file of its own, so every check its cells make is recorded there
(``ntklib.checks``).  The records are kept in the build environment per document, written to
``_static/verifications.json`` in the HTML output, and rendered by the directive
``verification-dashboard`` as one table of every verified statement, after all documents have
been read.  The table is therefore produced by the build from what the chapters computed and
changes whenever their numbers change.

*Checkout.*  The kernels that execute the chapters import the ntklib of the book being built: the
extension refuses to run from another checkout's ntklib (an editable install made elsewhere) and
puts the book's root first on the kernels' ``PYTHONPATH``, with ``NTKLIB_EXPECTED_ROOT`` set so
that a chapter importing any other ntklib fails (``ntklib._checkout``).

Enable with ``sphinx: extra_extensions: [ntklib.sphinxext]`` in ``_config.yml``.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.errors import ExtensionError

from ._checkout import assert_checkout, checkout_environment
from .checks import RECORD_FILE_ENV, STATED, rate_mode
from .registry import REGISTRY
from .reporting import fmt_ratio
from .seeding import base_seed

__all__ = ["dashboard_rows", "extra_digests", "file_digest", "file_digests", "load_build_records", "source_fingerprint", "setup"]

_ATTR = "ntklib_fingerprint"
_RECORDS = "ntklib_records"
_DASHBOARDS = "ntklib_dashboards"
STATIC_NAME = "verifications.json"
COLUMNS = ("Chapter", "Statement", "What is checked", "Worst value", "Holds when", "Ratio", "Result", "Seed",
           "Rejects")


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def source_fingerprint(root: Path | None = None) -> str:
    """SHA-256 over the names and contents of the ``*.py`` files under ``root`` (default: ntklib)."""
    root = Path(__file__).resolve().parent if root is None else Path(root)
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def file_digests(root: Path, names: Iterable[str]) -> dict[str, str | None]:
    """SHA-256 of each file ``root / name`` (``None`` if it is missing)."""
    return {name: file_digest(Path(root) / name) if (Path(root) / name).exists() else None for name in names}


def extra_digests(app: Any) -> dict[str, str | None]:
    """:func:`file_digests` of the files in ``ntklib_extra_dependencies``, relative to the book."""
    return file_digests(app.confdir, getattr(getattr(app, "config", None), "ntklib_extra_dependencies", None) or [])


def _fingerprint(app: Any) -> str:
    """ntklib's fingerprint plus the contents of the files in ``ntklib_extra_dependencies``."""
    h = hashlib.sha256(source_fingerprint().encode())
    for name, digest in extra_digests(app).items():
        h.update(f"{name}\0{digest or '<missing>'}".encode())
    return h.hexdigest()


def _outdated(app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    current = _fingerprint(app)
    if getattr(env, _ATTR, None) == current:
        return []
    setattr(env, _ATTR, current)
    return sorted(set(env.found_docs) - added - changed - removed)


# --- recording ------------------------------------------------------------------------------

def _record_file(app: Any, docname: str) -> Path:
    return Path(app.doctreedir) / "ntklib-records" / (docname + ".jsonl")


def _source_read(app: Any, docname: str, source: list[str]) -> None:
    path = _record_file(app, docname)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.environ[RECORD_FILE_ENV] = str(path)       # inherited by the kernel that executes the document


def _doctree_read(app: Any, doctree: nodes.document) -> None:
    env = app.env
    os.environ.pop(RECORD_FILE_ENV, None)
    path = _record_file(app, env.docname)
    store = _store(env)
    store.pop(env.docname, None)
    if path.exists():
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        store[env.docname] = {"source": file_digest(env.doc2path(env.docname)), "seed": base_seed(),
                              "records": records}


def _store(env: Any) -> dict[str, Any]:
    if not hasattr(env, _RECORDS):
        setattr(env, _RECORDS, {})
    return getattr(env, _RECORDS)


def _purge(app: Any, env: Any, docname: str) -> None:
    _store(env).pop(docname, None)
    getattr(env, _DASHBOARDS, set()).discard(docname)


def _updated(app: Any, env: Any) -> list[str]:
    # the dashboard depends on every chapter: rewrite it on every build
    return sorted(getattr(env, _DASHBOARDS, set()))


# --- the table --------------------------------------------------------------------------------

def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


def _mutation_text(label: str, kind: str, stated: str = "") -> str:
    amount = REGISTRY[label].mutations.get(kind) if label in REGISTRY else None
    if amount is None:
        return "unregistered"
    if amount == STATED:
        return stated or "unregistered (no false statement carried)"
    return {
        "bound": f"bound × {amount:g}",
        "sharpness": f"attained × {amount:g}",
        "identity": f"reference + {amount:g}·max(|ref|, 1)",
        "agreement": f"exact × {1 + amount:g}",
        "probability": f"bound × {amount:g}",
        "rate": f"exponent − {amount:g}",
        "test": f"law stretched × {amount:g}",
    }.get(kind, "?")


def dashboard_rows(chapters: dict[str, list[dict[str, Any]]], order: list[str] | None = None) -> list[tuple[str, ...]]:
    """One row of text cells per recorded check (see :data:`COLUMNS`), chapters in ``order``.

    The first two cells are the chapter's document name and the statement's label; the builder
    turns them into links.
    """
    docs = [d for d in (order or []) if d in chapters] + sorted(set(chapters) - set(order or []))
    rows = []
    for doc in docs:
        for r in chapters[doc]:
            rows.append((doc, r["label"], f"{r['kind']}: {r['statistic']}", *_measured_and_condition(r),
                         fmt_ratio(r["worst_ratio"]), "pass" if r["passed"] else "FAIL", str(r["seed"]),
                         _mutation_text(r["label"], r["kind"], r.get("false_statement", ""))))
    return rows


def _measured_and_condition(r: dict[str, Any]) -> tuple[str, str]:
    """The worst value found and the condition it must meet, in words, for each kind of check."""
    m, lim, kind = _fmt(r["measured"]), _fmt(r["limit"]), r["kind"]
    if kind == "rate":
        slope, lo, hi, p, cell = r["rows"][0][:5]
        mode, a = rate_mode(cell)
        measured = f"slope {_fmt(slope)}, interval [{_fmt(lo)}, {_fmt(hi)}]"
        if a:
            return measured, f"interval meets [{_fmt(p - a)}, {_fmt(p + a)}]"
        return measured, {"equal": f"interval contains {_fmt(p)}", "at_most": f"lower end ≤ {_fmt(p)}",
                          "below": f"upper end < {_fmt(p)}"}[mode]
    return {
        "bound": (m, f"≤ {lim}"),
        "sharpness": (f"reaches {m} of the bound", f"≥ claimed {lim}"),
        "identity": (f"|diff| {m}", f"≤ tol {lim}"),
        "agreement": (f"|error| {m}", f"≤ z·se {lim}"),
        "probability": (f"failure rate ≤ {m} (upper bound)", f"< δ = {lim}"),
        "test": (f"smallest p-value {m}", f"≥ level {lim}"),
    }.get(kind, (m, lim))


def load_build_records(html_dir: Path) -> dict[str, Any] | None:
    """The records a book build wrote to ``_static/verifications.json``, or ``None``."""
    path = Path(html_dir) / "_static" / STATIC_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


class dashboard_placeholder(nodes.General, nodes.Element):
    """Replaced by the table once every document has been read."""


class DashboardDirective(Directive):
    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        if not hasattr(env, _DASHBOARDS):
            setattr(env, _DASHBOARDS, set())
        getattr(env, _DASHBOARDS).add(env.docname)
        return [dashboard_placeholder()]


def _statement(app: Any, fromdoc: str, doc: str, label: str) -> nodes.Node:
    """The statement named by its number in the book, with its box title ("Lemma 2.1 (the lecture's
    Lemma 5, corrected)"), linked, then its label."""
    from .sphinxext_site import statement_target, statement_title

    target = statement_target(app.env, label)
    found, anchor, name = target if target else (doc, label, label)
    title = statement_title(app.env, label)
    link = nodes.reference("", "", refuri=app.builder.get_relative_uri(fromdoc, found) + "#" + anchor, internal=True)
    link += nodes.Text(name)
    link += title                       # sphinx-proof's title format puts it in parentheses: " (…)"
    para = nodes.paragraph()
    para += link
    para += nodes.Text(" ")
    para += nodes.literal(label, label)
    return para


def _doc_title(app: Any, fromdoc: str, doc: str) -> nodes.Node:
    """The chapter's number and title, linked to it."""
    number = app.env.toc_secnumbers.get(doc, {}).get("")
    title = app.env.titles.get(doc)
    text = (title.astext() if title else doc)
    if number:
        text = ".".join(map(str, number)) + ". " + text
    para = nodes.paragraph()
    para += nodes.strong("", "", nodes.reference("", text, refuri=app.builder.get_relative_uri(fromdoc, doc),
                                                 internal=True))
    return para


SHOWN = (1, 2, 3, 4, 5, 6, 8)
"""The columns of :data:`COLUMNS` the page shows; the chapter heads a group of rows, and the seed, the same in
every row of one build, is stated above the table."""


def _table(app: Any, fromdoc: str) -> list[nodes.Node]:
    store = _store(app.env)
    order = _toc_order(app.env)
    chapters = {doc: entry["records"] for doc, entry in store.items()}
    rows = dashboard_rows(chapters, order)
    failed = sum(row[6] == "FAIL" for row in rows)
    seeds = sorted({row[7] for row in rows})
    summary = nodes.paragraph(text=(
        f"{len(rows)} checks in {len(chapters)} documents; {len(rows) - failed} passed, {failed} failed; "
        f"seed {', '.join(seeds)}."))
    table = nodes.table(classes=["ntklib-dashboard"])
    group = nodes.tgroup(cols=len(SHOWN))
    table += group
    for _ in SHOWN:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += _row([nodes.paragraph(text=COLUMNS[i]) for i in SHOWN])
    body = nodes.tbody()
    group += body
    chapter = None
    for row in rows:
        if row[0] != chapter:
            chapter = row[0]
            heading = _row([_doc_title(app, fromdoc, chapter)])
            heading[0]["morecols"] = len(SHOWN) - 1
            heading["classes"].append("ntklib-dashboard-chapter")
            body += heading
        cells = [_statement(app, fromdoc, row[0], row[1])]
        cells += [nodes.paragraph(text=row[i]) for i in SHOWN[1:]]
        line = _row(cells)
        for i, entry in zip(SHOWN, line.children):     # the column, for the phone layout (ntklib.css)
            entry["classes"].append("ntklib-col-" + COLUMNS[i].lower().replace(" ", "-"))
        body += line
    return [summary, table]


def _row(cells: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for c in cells:
        entry = nodes.entry()
        entry += c
        row += entry
    return row


def _toc_order(env: Any) -> list[str]:
    """Documents in the order of the table of contents, starting from the root."""
    order: list[str] = []

    def walk(doc: str) -> None:
        if doc in order:
            return
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            walk(child)

    walk(env.config.root_doc)
    return order


def _doctree_resolved(app: Any, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(dashboard_placeholder)):
        node.replace_self(_table(app, docname))


def _build_finished(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    # the sources the chapters were executed against, so that a test run can tell a stale build
    payload = {"ntklib": source_fingerprint(), "extra_dependencies": extra_digests(app), "chapters": _store(app.env)}
    out = Path(app.outdir) / "_static" / STATIC_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def pin_checkout(app: Any) -> None:
    """Require this ntklib to be the book's (under ``app.confdir``), and make every kernel started from
    now on import it (``ntklib._checkout.checkout_environment``)."""
    try:
        assert_checkout(app.confdir)
    except ImportError as exc:
        raise ExtensionError(f"{exc} (the Makefile's `make book` does)") from None
    os.environ.update(checkout_environment(app.confdir))


def setup(app: Any) -> dict[str, Any]:
    pin_checkout(app)
    # data files that chapters read (e.g. benchmark results): a change re-executes the chapters
    app.add_config_value("ntklib_extra_dependencies", [], "env")
    app.connect("env-get-outdated", _outdated)
    app.connect("source-read", _source_read)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-purge-doc", _purge)
    app.connect("env-get-updated", _updated)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("build-finished", _build_finished)
    app.add_node(dashboard_placeholder)
    app.add_directive("verification-dashboard", DashboardDirective)
    # not parallel-read safe: the record file is passed to the executing kernel through the environment
    return {"version": "2", "parallel_read_safe": False, "parallel_write_safe": True, "env_version": 2}
