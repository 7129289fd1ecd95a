"""Sphinx hooks for the website: MathJax served from the site, corrections linked both ways, appendix
numbers, and statements named by the book's numbers.

*MathJax offline.*  With ``mathjax_path`` relative (``mathjax/tex-chtml.js``), the build copies
MathJax 3 into ``_static/mathjax/`` of the site from the PyPI package ``django-static-mathjax``
(a copy of the npm package ``mathjax-full`` 3.2.2, installed with the book's other dependencies):
the combined TeX-to-HTML component, its fonts, the TeX extensions it loads on demand and the
accessibility components its menu offers.  The site then typesets every formula with no network.
If the package is missing, the pages load MathJax from the CDN instead, with a warning.

*Corrections.*  A margin note that cites an errata entry (a reference to a label ``errata-*``)
gets an id, ``correction-<label>``, and the entry on the errata page ends with a link back to each
note that cites it.

*Appendices.*  Documents listed in ``ntklib_appendices`` sit in an unnumbered part of the book, so
Sphinx numbers their figures, equations and statements 1, 2, …; they get the appendix's letter,
as chapters get their number: Fig. A.1, (A.1), Proposition A.1.

*Statements in check reports.*  A report's HTML (:func:`ntklib.reporting.html_report`) names its
statement by label; on the site the label becomes a link named by the book's number, as in the
dashboard ("Lemma 2.1").

Enable with ``sphinx: extra_extensions: [ntklib.sphinxext_site]`` in ``_config.yml``.
"""

from __future__ import annotations

import html
import importlib.util
import re
import string
from pathlib import Path
from typing import Any

from docutils import nodes

__all__ = ["MATHJAX_PARTS", "appendix_numbers", "mathjax_source", "statement_target", "setup"]

MATHJAX_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y", "sre")
"""What of MathJax's ``es5`` directory the site needs: the combined component for TeX input and HTML
output, its web fonts, the TeX extensions it loads on demand (``\\require``, autoload), and the menu with
its accessibility components (explorer, speech rules)."""

_CORRECTIONS = "ntklib_corrections"
_TITLES = "ntklib_statement_titles"
_LABEL = re.compile(r'<code class="ntklib-label" data-label="([^"]+)">([^<]*)</code>')


def _logger() -> Any:
    from sphinx.util import logging

    return logging.getLogger(__name__)


# --- MathJax from the site --------------------------------------------------------------------

def mathjax_source() -> Path | None:
    """MathJax's ``es5`` directory from the package ``django-static-mathjax`` (``None`` if not installed)."""
    spec = importlib.util.find_spec("mathjax")
    for root in (spec.submodule_search_locations or []) if spec else []:
        es5 = Path(root) / "static" / "mathjax" / "es5"
        if (es5 / "tex-chtml.js").is_file():
            return es5
    return None


def _local_mathjax(config: Any) -> bool:
    path = getattr(config, "mathjax_path", "") or ""
    return not path.startswith(("http:", "https:", "/")) and path.startswith("mathjax/")


def _config_inited(app: Any, config: Any) -> None:
    if _local_mathjax(config) and mathjax_source() is None:
        _logger().warning("MathJax is not installed (pip install django-static-mathjax, as `make install` does): "
                          "the pages load it from the CDN and need the network to typeset formulas")
        config.mathjax_path = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/" + config.mathjax_path.split("/", 1)[1]


def _copy_mathjax(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html" or not _local_mathjax(app.config):
        return
    from sphinx.util.fileutil import copy_asset

    source = mathjax_source()
    target = Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        src = source / part
        dest = target / part
        if src.is_dir():
            copy_asset(str(src), str(dest))
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            copy_asset(str(src), str(dest.parent))
    copy_asset(str(source.parent / "LICENSE"), str(target))


# --- corrections: margin note <-> errata entry --------------------------------------------------

def _corrections(env: Any) -> dict[str, list[dict[str, str]]]:
    if not hasattr(env, _CORRECTIONS):
        setattr(env, _CORRECTIONS, {})
    return getattr(env, _CORRECTIONS)


def _section(node: nodes.Node) -> tuple[str, list[nodes.Node]]:
    """The id and the title (as nodes: it may hold math) of the section a node sits in."""
    parent = node.parent
    while parent is not None and not isinstance(parent, nodes.section):
        parent = parent.parent
    if parent is None or not parent.children or not isinstance(parent[0], nodes.title):
        return "", []
    return (parent["ids"][0] if parent["ids"] else ""), [child.deepcopy() for child in parent[0].children]


def _collect_corrections(app: Any, doctree: nodes.document) -> None:
    """Give every margin note that cites an ``errata-*`` label an id, and remember it for the errata page."""
    env = app.env
    found = []
    for aside in doctree.findall(nodes.sidebar):
        if "margin" not in aside["classes"]:
            continue
        labels = [ref["reftarget"] for ref in aside.findall(lambda n: isinstance(n, nodes.Element)
                                                            and str(n.get("reftarget", "")).startswith("errata-"))]
        for label in dict.fromkeys(labels):
            anchor = f"correction-{label}"
            if anchor in aside["ids"] or any(anchor == f["anchor"] for f in found):
                anchor = f"{anchor}-{len(found) + 1}"
            aside["ids"].append(anchor)
            section_id, section_title = _section(aside)
            found.append({"label": label, "anchor": anchor, "section": section_title, "section_id": section_id})
    _corrections(env).pop(env.docname, None)
    if found:
        _corrections(env)[env.docname] = found


def _backlinks(app: Any, doctree: nodes.document, docname: str) -> None:
    """End each errata entry with links back to the margin notes that cite it."""
    labels = app.env.domaindata["std"]["labels"]
    cited: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for doc, notes in sorted(_corrections(app.env).items()):
        for note in notes:
            cited.setdefault(note["label"], []).append((doc, note))
    for label, notes in cited.items():
        if label not in labels or labels[label][0] != docname:
            continue
        target = labels[label][1]
        section = next((s for s in doctree.findall(nodes.section) if target in s["ids"]), None)
        if section is None:
            continue
        para = nodes.paragraph(classes=["ntklib-backlinks"])
        para += nodes.Text("↩ Back to the margin note in ")
        for k, (doc, note) in enumerate(notes):
            if k:
                para += nodes.Text(" and ")
            numbers = app.env.toc_secnumbers.get(doc, {})
            number = numbers.get("#" + note.get("section_id", "")) or numbers.get("")
            title = note["section"] or [nodes.Text(app.env.titles[doc].astext() if doc in app.env.titles else doc)]
            link = nodes.reference("", "", refuri=app.builder.get_relative_uri(docname, doc) + "#" + note["anchor"],
                                   internal=True)
            link += nodes.Text("§" + ".".join(map(str, number)) + " " if number else "")
            link += [child.deepcopy() for child in title]
            para += link
        para += nodes.Text(".")
        index = next((i for i, child in enumerate(section.children) if isinstance(child, nodes.section)),
                     len(section.children))
        section.insert(index, para)


def _purge(app: Any, env: Any, docname: str) -> None:
    _corrections(env).pop(docname, None)
    getattr(env, _TITLES, {}).pop(docname, None)


# --- appendices: lettered numbers ---------------------------------------------------------------

def appendix_numbers(fignumbers: dict[str, dict[str, tuple]], letter: str) -> dict[str, dict[str, tuple]]:
    """Prefix every number of a document (figures, tables, equations, statements) with its appendix letter."""
    return {kind: {key: (letter, *num) if not (num and num[0] == letter) else tuple(num)
                   for key, num in numbers.items()}
            for kind, numbers in fignumbers.items()}


def _number_appendices(app: Any, env: Any) -> list[str]:
    appendices = [doc for doc in app.config.ntklib_appendices if doc in env.toc_fignumbers or doc in env.found_docs]
    for letter, doc in zip(string.ascii_uppercase, appendices):
        if doc in env.toc_fignumbers:
            env.toc_fignumbers[doc] = appendix_numbers(env.toc_fignumbers[doc], letter)
    return []


# --- statements named by the book's numbers -----------------------------------------------------

def _collect_titles(app: Any, doctree: nodes.document) -> None:
    """The title given to each sphinx-proof box (``{prf:lemma} <title>``), as nodes, by label."""
    titles = {}
    for node in doctree.findall(nodes.Element):
        if node.get("realtype") and node.get("label") and node.children and isinstance(node[0], nodes.title):
            titles[node["label"]] = [child.deepcopy() for child in node[0].children]
    store = getattr(app.env, _TITLES, None)
    if store is None:
        store = {}
        setattr(app.env, _TITLES, store)
    store[app.env.docname] = titles


def statement_title(env: Any, label: str) -> list[nodes.Node]:
    """The box title of a labelled statement (``[]`` if it has none)."""
    for titles in getattr(env, _TITLES, {}).values():
        if label in titles:
            return [child.deepcopy() for child in titles[label]]
    return []


def statement_target(env: Any, label: str) -> tuple[str, str, str] | None:
    """``(document, anchor, name)`` of a labelled statement, equation or section, named by its number in the
    book ("Lemma 2.1", "Equation (1.3)"), or by its title; ``None`` if the label is unknown."""
    proofs = getattr(env, "proof_list", {})
    if label in proofs:
        doc, kind = proofs[label]["docname"], proofs[label]["realtype"]
        number = env.toc_fignumbers.get(doc, {}).get(proofs[label]["countertype"], {}).get(label)
        return doc, label, f"{kind.title()} {'.'.join(map(str, number))}" if number else kind.title()
    equation = env.domaindata.get("math", {}).get("objects", {}).get(label)
    if equation:
        doc = equation[0]
        number = env.toc_fignumbers.get(doc, {}).get("displaymath", {}).get("equation-" + label)
        return doc, "equation-" + label, f"Equation ({'.'.join(map(str, number))})" if number else "Equation"
    std = env.domaindata["std"]["labels"].get(label)
    if std:
        return std[0], std[1], std[2] or label
    return None


def _name_report_statements(app: Any, doctree: nodes.document, docname: str) -> None:
    """In check reports' HTML, link the statement's label, named by its number in the book."""
    for raw in doctree.findall(nodes.raw):
        if raw.get("format") != "html" or "ntklib-label" not in raw.astext():
            continue

        def link(match: re.Match) -> str:
            target = statement_target(app.env, html.unescape(match[1]))
            if target is None:
                return match[0]
            doc, anchor, name = target
            uri = app.builder.get_relative_uri(docname, doc) + "#" + anchor
            return f'<a class="reference internal" href="{html.escape(uri)}">{html.escape(name)}</a> {match[0]}'

        text = _LABEL.sub(link, raw.astext())
        raw.replace_self(nodes.raw("", text, format="html"))


def _doctree_read(app: Any, doctree: nodes.document) -> None:
    _collect_corrections(app, doctree)
    _collect_titles(app, doctree)


def _doctree_resolved(app: Any, doctree: nodes.document, docname: str) -> None:
    if app.builder.format == "html":
        _name_report_statements(app, doctree, docname)
    _backlinks(app, doctree, docname)


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("ntklib_appendices", [], "env")
    app.connect("config-inited", _config_inited)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-purge-doc", _purge)
    # after Sphinx's own numbering (TocTreeCollector, priority 500)
    app.connect("env-get-updated", _number_appendices, priority=900)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("build-finished", _copy_mathjax)
    return {"version": "1", "parallel_read_safe": False, "parallel_write_safe": True, "env_version": 1}
