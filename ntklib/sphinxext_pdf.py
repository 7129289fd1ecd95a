"""The book as a PDF: what Sphinx's LaTeX builder needs beyond Jupyter Book's defaults.

``make pdf`` runs Jupyter Book's ``pdflatex`` builder on the build environment that ``make book``
left in ``_build/.doctrees``: no chapter is executed again, and the PDF shows the numbers the site
shows.  xelatex then typesets ``_build/latex/ntk-book.tex``; ``tests/test_pdf.py`` checks the result.

*Configuration* (at ``config-inited``, the same for every builder, so that the environment the
HTML and LaTeX builds share never looks changed to either):

- the document class is Sphinx's ``manual``: sphinx-jupyterbook-latex's ``jupyterBook`` class loads
  ``bbm`` and ``pgfplots`` for macros the book does not use, and Debian ships ``bbm`` only in
  texlive-fonts-extra (1.4 GB installed);
- the preamble is ``_static/latex/preamble.tex`` (Hangul, proofs, code cells, tables) followed by the
  book's TeX macros, generated from ``mathjax3_config`` in ``_config.yml``: one list of macros for
  the site and the PDF;
- the title page shows the version and release date from ``CITATION.cff``, and its back says how
  to cite that version (:func:`citation_text`);
- the index is sorted by makeindex (xindy, Sphinx's default for xelatex, is one more Debian
  package, with clisp, and sorts Hangul no better).

*Print layout* (at ``doctree-resolved``, on the assembled LaTeX document only; :func:`print_layout`):

- the root document (the site's home page) is an unnumbered first chapter;
- chapters the site numbers are numbered; a part of the table of contents whose caption starts
  with "Appendix" becomes lettered appendices; the other unnumbered parts are back matter,
  unnumbered and still listed in the contents;
- proofs are set as proofs ("Proof." ... ∎), not as boxed notes;
- solutions move from under their exercises to a chapter "Solutions to the exercises" that opens
  the back matter, one section per chapter, and each exercise gives the page of its solution:
  an instructor can print a chapter and hand it out as an assignment;
- LaTeX labels are added where references would otherwise dangle: sphinx-exercise labels an
  exercise ``exercise:<label>`` while cross-references ask for ``<doc>:<label>``, and links built
  with the site's anchors ask for ``<doc>:equation-<label>``;
- sections that print empty are dropped (a chapter's "References", whose citations become
  footnotes on the page that cites them);
- long tables break across pages and wide ones are set in landscape, with column widths in
  proportion to their content;
- the bibliography Sphinx gathers at the end of the book takes the place of the site's page
  that lists it;
- index entries starting with Hangul are listed under "Korean terms".

*The site's link* (directive ``pdf-link``): on the site, a paragraph linking the PDF, which the
HTML build copies next to the site as ``ntk-book-<version>.pdf``; in the PDF, nothing.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any, Iterator

import yaml
from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx import addnodes
from sphinx.util import texescape

__all__ = ["SOLUTIONS_TITLE", "citation_text", "print_layout", "read_citation", "setup", "site_pdf_name", "tex_macros"]

PREAMBLE = Path("_static") / "latex" / "preamble.tex"
SOLUTIONS_TITLE = "Solutions to the exercises"
# sphinx-jupyterbook-latex's preamble loads ucharclasses for two blocks; ours loads it with Korean
JBLATEX_UCHARCLASSES = r"\usepackage[Latin,Greek]{ucharclasses}"
LONG_TABLE = 9               # rows from which a table may break across pages (a longtable)
WIDE_TABLE = 7               # columns from which a table is set in landscape
KOREAN_TERMS = "Korean terms"   # the index entry under which terms starting with Hangul are listed


# --- configuration ----------------------------------------------------------------------------

def read_citation(root: Path) -> dict[str, Any]:
    """``CITATION.cff`` of the book at ``root``: the one source of the version the PDF shows."""
    return yaml.safe_load((Path(root) / "CITATION.cff").read_text(encoding="utf-8"))


def site_pdf_name(cff: dict[str, Any], stem: str = "ntk-book") -> str:
    """The PDF's file name on the site and in the release archive: ``<stem>-<version>.pdf``."""
    return f"{stem}-{cff['version']}.pdf"


def tex_macros(macros: dict[str, str | list]) -> str:
    r"""``\newcommand`` definitions of MathJax 3 macros (``{name: body}`` or ``{name: [body, nargs]}``)."""
    lines = []
    for name, body in macros.items():
        if isinstance(body, list):
            lines.append(f"\\newcommand{{\\{name}}}[{body[1]}]{{{body[0]}}}")
        else:
            lines.append(f"\\newcommand{{\\{name}}}{{{body}}}")
    return "\n".join(lines)


def _authors(cff: dict[str, Any]) -> str:
    names = []
    for a in cff.get("authors", []):
        names.append(a.get("name") or " ".join(p for p in (a.get("given-names"), a.get("family-names")) if p))
    return ", ".join(names)


def citation_text(cff: dict[str, Any], url: str | None) -> str:
    """How to cite the version ``cff`` describes, in one sentence (plain text)."""
    year = str(cff["date-released"])[:4]
    text = f"{_authors(cff)} ({year}). {cff['title']}. Version {cff['version']}."
    return f"{text} {url}" if url else text


def _release_date(cff: dict[str, Any]) -> str:
    date = cff["date-released"]
    date = date if isinstance(date, datetime.date) else datetime.date.fromisoformat(str(date))
    return f"{date.day} {date:%B %Y}"


def _title_pages(cff: dict[str, Any], url: str | None, cite_page: bool) -> dict[str, str]:
    """The ``maketitle`` element: version and date on the title page, how to cite on its back
    (with the page of the chapter on citing, labelled ``ntk-how-to-cite``, if ``cite_page``)."""
    esc = texescape.escape
    licences = " and ".join(cff.get("license", [])) if isinstance(cff.get("license"), list) else cff.get("license", "")
    back = "\n".join([
        r"\def\sphinxbackoftitlepage{\vspace*{\fill}\begin{flushleft}\small",
        r"\textbf{How to cite this version}\par\smallskip",
        esc(citation_text(cff, None)) + (f" \\url{{{url}}}" if url else "") + r"\par\medskip",
        (r"A BibTeX entry and the changes in each version: ``\nameref{ntk-how-to-cite}'',"
         r" page~\pageref{ntk-how-to-cite}.\par\medskip") if cite_page else "",
        esc(f"Licences: {licences}.") + r"\par\medskip" if licences else "",
        esc(f"Version {cff['version']}, released {_release_date(cff)}.") + r"\par",
        r"\end{flushleft}}",
    ])
    return {
        "maketitle": "\n".join([
            back,
            r"\renewcommand{\releasename}{Version}\renewcommand{\sphinxheadercomma}{, }",
            f"\\release{{{esc(str(cff['version']))}}}",
            f"\\date{{{esc(_release_date(cff))}}}",
            f"\\hypersetup{{pdfsubject={{Version {esc(str(cff['version']))}}}}}",
            r"\sphinxmaketitle",
        ]),
    }


def _config_inited(app: Any, config: Any) -> None:
    root = Path(app.confdir)
    cff = read_citation(root)
    url = (config.html_theme_options or {}).get("repository_url")
    preamble = str(config.latex_elements.get("preamble", "")).replace(JBLATEX_UCHARCLASSES, "")
    macros = tex_macros(config.mathjax3_config["tex"]["macros"])
    config.latex_elements = {
        **config.latex_elements,
        "papersize": "a4paper",
        "pointsize": "11pt",
        "cmappkg": "",        # cmap is for pdflatex; under xelatex it only warns
        "preamble": "\n".join([preamble, (root / PREAMBLE).read_text(encoding="utf-8"), macros]),
        **_title_pages(cff, url, bool(config.ntklib_pdf_cite_label)),
    }
    config.latex_theme = "manual"
    config.latex_use_xindy = False


# --- print layout -----------------------------------------------------------------------------

def _raw(tex: str) -> nodes.raw:
    return nodes.raw("", tex, format="latex")


def _label(doc: str, name: str) -> str:
    return f"\\phantomsection\\label{{\\detokenize{{{doc}:{name}}}}}"


def _walk(node: nodes.Element, doc: str, parent: nodes.Element | None = None) -> Iterator[tuple[nodes.Node, nodes.Element | None, str]]:
    """Every node under ``node`` with the element that holds it and the document it came from,
    top-down as the LaTeX writer sees them.  (sphinx-jupyterbook-latex moves children between
    nodes without updating their ``parent``, so parent links cannot be followed upwards.)"""
    if isinstance(node, addnodes.start_of_file):
        doc = node["docname"]
    yield node, parent, doc
    for child in list(node.children) if isinstance(node, nodes.Element) else []:
        yield from _walk(child, doc, node)


def _find(doctree: nodes.document, root: str, cls: type | tuple[type, ...]) -> list[tuple[Any, nodes.Element, str]]:
    return [(n, p, d) for n, p, d in _walk(doctree, root) if isinstance(n, cls)]


def _secnumber(env: Any, doc: str) -> tuple[int, ...]:
    return tuple(env.toc_secnumbers.get(doc, {}).get("", ()))


def _root_chapter(doctree: nodes.document, root: str, env: Any) -> None:
    """The root document's content, which sphinx-jupyterbook-latex puts before the first chapter
    without a heading, becomes an unnumbered chapter with the root's labels."""
    section = next((s for s, _, _ in _find(doctree, root, nodes.section) if s.get("docname") == root), None)
    if section is None:
        return
    title = texescape.escape(env.titles[root].astext())
    labels = "".join(_label(root, i) for i in section["ids"])
    section.insert(0, _raw(f"\\chapter*{{{title}}}\\addcontentsline{{toc}}{{chapter}}{{{title}}}"
                           f"\\markboth{{{title}}}{{{title}}}{labels}"))
    # a heading left with nothing under it (its footnote bibliography prints as footnotes)
    try:
        from sphinx_jupyterbook_latex.nodes import RootHeader
    except ImportError:      # pragma: no cover - Jupyter Book always installs it
        return
    children = section.children
    for i, child in reversed(list(enumerate(children))):
        if isinstance(child, RootHeader) and (i + 1 == len(children) or isinstance(children[i + 1], RootHeader)):
            section.remove(child)


def _proofs(doctree: nodes.document) -> None:
    """sphinx-proof's proof (a titleless note box whose text starts "Proof. ") as an amsthm proof."""
    from sphinx_proof.nodes import proof_node

    for proof, parent, _ in _find(doctree, "", proof_node):
        body: list[nodes.Node] = []
        for child in proof.children:
            body.extend(child.children if isinstance(child, nodes.admonition) else [child])
        first = body[0] if body else None
        if isinstance(first, nodes.paragraph) and first.children and isinstance(first[0], nodes.Text):
            text = first[0].astext()
            for prefix in ("Proof. ", "Proof."):
                if text.startswith(prefix):
                    first.replace(first[0], nodes.Text(text[len(prefix):]))
                    break
        if body and isinstance(body[-1], nodes.paragraph):
            body[-1] += _raw("\\qedhere")          # the square ends the last line, not a line of its own
        index = parent.index(proof)
        parent.remove(proof)
        parent[index:index] = [_raw("\\begin{proof}"), *body, _raw("\\end{proof}")]


def _exercise_labels(doctree: nodes.document, root: str) -> None:
    from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node

    for ex, parent, doc in _find(doctree, root, (exercise_node, exercise_enumerable_node)):
        parent.insert(parent.index(ex), _raw(_label(doc, ex["label"])))


def _equation_anchors(doctree: nodes.document, root: str) -> None:
    """Labels ``<doc>:equation-<label>`` (the site's anchors) next to each labelled equation."""
    for eq, parent, doc in _find(doctree, root, nodes.math_block):
        ids = [i for i in eq.get("ids", []) if i.startswith("equation-")]
        if ids:
            parent.insert(parent.index(eq), _raw("".join(_label(doc, i) for i in ids)))


def _solutions(doctree: nodes.document, root: str, env: Any) -> nodes.section | None:
    """Take every solution out of its chapter; return the chapter that collects them (or None)."""
    from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, solution_node

    exercises = {ex["label"]: ex for ex, _, _ in _find(doctree, root, (exercise_node, exercise_enumerable_node))}
    by_doc: dict[str, list[nodes.Node]] = {}
    for k, (sol, parent, doc) in enumerate(_find(doctree, root, solution_node)):
        anchor = f"ntk-solution-{k}"
        ex = exercises.get(sol.get("target_label"))
        if ex is not None:
            ex += nodes.paragraph("", "", _raw(f"\\hfill\\emph{{Solution on page~\\pageref{{{anchor}}}.}}"))
        parent.remove(sol)
        by_doc.setdefault(doc, []).extend([_raw(f"\\phantomsection\\label{{{anchor}}}"), sol])
    if not by_doc:
        return None
    chapter = nodes.section("", nodes.title("", SOLUTIONS_TITLE), ids=["ntk-solutions"])
    for doc, body in by_doc.items():
        number = ".".join(map(str, _secnumber(env, doc)))
        heading = f"{number}  {env.titles[doc].astext()}" if number else env.titles[doc].astext()
        section = nodes.section("", nodes.title("", heading), ids=[f"ntk-solutions-{doc.replace('/', '-')}"])
        section += addnodes.start_of_file("", *body, docname=doc)
        chapter += section
    return chapter


def _cite_label(doctree: nodes.document, env: Any, label: str) -> None:
    """The label ``ntk-how-to-cite`` at the section the std label ``label`` names (title page)."""
    doc, section_id, _ = env.domaindata["std"]["labels"].get(label, (None, None, None))
    for section, _, section_doc in _find(doctree, "", nodes.section):
        if section_id in section["ids"] and section_doc == doc:
            section.insert(1, _raw("\\phantomsection\\label{ntk-how-to-cite}"))
            return


def _structure(doctree: nodes.document, env: Any, solutions: nodes.section | None) -> None:
    r"""Lettered appendices before parts captioned "Appendix...", back matter (unnumbered) before the other
    unnumbered parts; the solutions chapter opens the back matter."""
    wrappers = [n for n in doctree.children if isinstance(n, nodes.compound) and "toctree-wrapper" in n["classes"]]
    appendix = backmatter = False
    for wrapper in wrappers:
        docs = [s["docname"] for s, _, _ in _find(wrapper, "", addnodes.start_of_file)]
        if any(_secnumber(env, d) for d in docs):
            continue
        index = doctree.index(wrapper)
        if str(wrapper.get("caption") or "").lower().startswith("appendi") and not backmatter:
            if not appendix:
                doctree.insert(index, _raw("\\ntkappendix"))
                appendix = True
        elif not backmatter:
            doctree.insert(index, [_raw("\\ntkbackmatter")] + ([solutions] if solutions is not None else []))
            backmatter = True
    if not backmatter:
        doctree += [_raw("\\ntkbackmatter")] + ([solutions] if solutions is not None else [])


def _appendix_titles(doctree: nodes.document) -> None:
    """An appendix titled "Appendix A: ..." on the site prints as "Appendix A. ...": LaTeX numbers it."""
    for title in list(doctree.findall(nodes.title)):
        text = title.astext()
        match = re.match(r"Appendix [A-Z]: ", text)
        if match and len(title.children) == 1 and isinstance(title.children[0], nodes.Text):
            title.replace(title.children[0], nodes.Text(text[match.end():]))


def _prints_empty(node: nodes.Node) -> bool:
    """No text and no image: a target, or the container a footnote bibliography leaves once
    Sphinx's LaTeX footnote transform has moved its footnotes to the pages that cite them."""
    return isinstance(node, nodes.target) or (
        isinstance(node, nodes.Element) and not node.astext().strip() and not any(node.findall(nodes.image)))


def _drop_empty_sections(doctree: nodes.document) -> None:
    for section, parent, _ in reversed(_find(doctree, "", nodes.section)):
        if parent is not None and all(isinstance(c, nodes.title) or _prints_empty(c) for c in section.children):
            parent.remove(section)


def _text_width(text: str) -> int:
    """Width of ``text`` in Latin characters: a Hangul syllable (East Asian wide) counts two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _tables(doctree: nodes.document) -> None:
    """Long or wide tables, unless their column widths are given, are set as longtables, which
    break across pages (Sphinx's default, tabulary, does not below 31 rows: a taller table runs
    off the page), with column widths in proportion to the mean width of their non-empty cells (at
    most 60 characters, at least the longest word or formula; a longtable's columns would
    otherwise not wrap).  Tables of
    :data:`WIDE_TABLE` columns or more are set on landscape pages in small type.  An uncaptioned
    long table says "(continued)" across pages rather than Sphinx's "Table <number> --
    continued", which names a number it never shows."""
    for table, parent, _ in _find(doctree, "", nodes.table):
        group = next(iter(table.findall(nodes.tgroup)), None)
        if group is None or "colwidths-given" in table["classes"]:
            continue
        rows = list(group.findall(nodes.row))
        colspecs = [c for c in group.children if isinstance(c, nodes.colspec)]
        wide = len(colspecs) >= WIDE_TABLE
        if not wide and len(rows) < LONG_TABLE:
            continue
        lengths: list[list[int]] = [[] for _ in colspecs]
        words = [4] * len(colspecs)
        for row in rows:
            for j, entry in enumerate(row.children[: len(colspecs)]):
                text = entry.astext()
                if not text.strip():
                    continue
                lengths[j].append(_text_width(text))
                longest_word = max(_text_width(w) for w in text.split())
                formulas = [len(m.astext()) for m in entry.findall(nodes.math)]        # TeX source: a formula does not break
                words[j] = max(words[j], min(24, longest_word + 2), min(40, max(formulas, default=0)))
        widths = [max(w, min(60, round(sum(n) / max(len(n), 1)))) for w, n in zip(words, lengths)]
        for colspec, width in zip(colspecs, widths):
            colspec["colwidth"] = width
        table["classes"] += ["colwidths-given", "longtable"]
        before = "\\begin{landscape}\\footnotesize" if wide else "\\begingroup"
        before += "" if any(isinstance(c, nodes.title) for c in table.children) else "\\ntkuncaptionedtable"
        index = parent.index(table)
        parent.insert(index + 1, _raw("\\end{landscape}" if wide else "\\endgroup"))
        parent.insert(index, _raw(before))


def _bibliography(doctree: nodes.document, env: Any) -> None:
    """Sphinx's LaTeX builder gathers every citation into one bibliography at the end of the book;
    it takes the place of the page that holds the ``bibliography`` directive on the site, whose
    own text (a web page's) is dropped, and whose labels move to it."""
    from sphinx.builders.latex.nodes import thebibliography

    keys = getattr(env, "domaindata", {}).get("cite", {}).get("bibliographies", {})
    docs = {getattr(key, "docname", None) for key in keys}      # sphinxcontrib-bibtex's directives
    bibliographies = _find(doctree, "", thebibliography)
    pages = [(sof, parent) for sof, parent, _ in _find(doctree, "", addnodes.start_of_file) if sof["docname"] in docs]
    if len(bibliographies) != 1 or len(pages) != 1:
        return
    (bib, bib_parent, _), (page, page_parent) = bibliographies[0], pages[0]
    doc = page["docname"]
    ids = dict.fromkeys([":doc", *(i for section in page.findall(nodes.section) for i in section["ids"])])
    bib_parent.remove(bib)
    labels = _raw("\\ntkchapterstart" + "".join(_label(doc, i) for i in ids))
    page_parent.replace(page, [labels, bib])


def _korean_index(doctree: nodes.document) -> None:
    """Index entries starting with Hangul become subentries of :data:`KOREAN_TERMS` (in the order
    of their syllables): makeindex groups entries by their first byte, and a Hangul syllable's
    first byte is no letter to head a group with."""
    for index, _, _ in _find(doctree, "", addnodes.index):
        index["entries"] = [
            (kind, f"{KOREAN_TERMS}; {text}" if kind == "single" and text and "\uac00" <= text[0] <= "\ud7a3" else text, *rest)
            for kind, text, *rest in index["entries"]
        ]


def print_layout(app: Any, doctree: nodes.document, docname: str) -> None:
    """Rearrange the assembled LaTeX document for print (see the module docstring)."""
    if app.builder.format != "latex" or docname != app.config.root_doc:
        return
    env = app.env
    _root_chapter(doctree, docname, env)
    if app.config.ntklib_pdf_cite_label:
        _cite_label(doctree, env, app.config.ntklib_pdf_cite_label)
    _proofs(doctree)
    _exercise_labels(doctree, docname)
    _equation_anchors(doctree, docname)
    solutions = _solutions(doctree, docname, env)
    _drop_empty_sections(doctree)
    _structure(doctree, env, solutions)
    _appendix_titles(doctree)
    _tables(doctree)
    _bibliography(doctree, env)
    _korean_index(doctree)


# --- the site's link to the PDF ---------------------------------------------------------------

_PDF_LINK_DOCS = "ntklib_pdf_link_docs"


class pdf_link(nodes.General, nodes.Element):
    """Where the directive ``pdf-link`` stood; replaced when the document is written."""


class PdfLinkDirective(Directive):
    """``pdf-link``: on the site, a paragraph linking the book's PDF, copied next to the site as
    ``<stem>-<version>.pdf`` (:func:`site_pdf_name`) when ``make pdf`` has built it; in the PDF
    itself, nothing."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        _link_docs(env).add(env.docname)
        return [pdf_link()]


def _link_docs(env: Any) -> set[str]:
    if not hasattr(env, _PDF_LINK_DOCS):
        setattr(env, _PDF_LINK_DOCS, set())
    return getattr(env, _PDF_LINK_DOCS)


def _built_pdf(app: Any) -> Path:
    """``_build/latex/<target>.pdf``: Jupyter Book writes the LaTeX build beside the HTML one."""
    target = Path(app.config.latex_documents[0][1]).with_suffix(".pdf").name
    return Path(app.outdir).parent / "latex" / target


def _resolve_pdf_links(app: Any, doctree: nodes.document, docname: str) -> None:
    found = _find(doctree, docname, pdf_link)
    if not found:
        return
    cff = read_citation(Path(app.confdir))
    pdf = _built_pdf(app)
    name = site_pdf_name(cff, pdf.stem)
    for node, parent, _ in found:
        if app.builder.format != "html":
            parent.remove(node)
            continue
        if pdf.is_file():
            para = nodes.paragraph("", "The whole book as one PDF, for printing and for citing a fixed version: ")
            para += nodes.reference("", name, refuri=posixpath.relpath(name, posixpath.dirname(docname) or "."))
            para += nodes.Text(f" (version {cff['version']}, {pdf.stat().st_size / 2**20:.1f} MB).")
        else:
            para = nodes.paragraph("", "This build of the site has no PDF of the book; ")
            para += nodes.literal("", "make pdf")
            para += nodes.Text(" makes one.")
        parent.replace(node, para)


def _copy_pdf(app: Any, exception: Exception | None) -> None:
    """Put the PDF next to the site, under the name the links use."""
    pdf = _built_pdf(app)
    if exception is None and app.builder.format == "html" and pdf.is_file():
        shutil.copyfile(pdf, Path(app.outdir) / site_pdf_name(read_citation(Path(app.confdir)), pdf.stem))


def _purge(app: Any, env: Any, docname: str) -> None:
    _link_docs(env).discard(docname)


def _merge(app: Any, env: Any, docnames: set[str], other: Any) -> None:
    _link_docs(env).update(_link_docs(other) & set(docnames))


def _updated(app: Any, env: Any) -> list[str]:
    # whether the PDF exists changes what these pages say: rewrite them on every build
    return sorted(_link_docs(env))


def setup(app: Any) -> dict[str, Any]:
    # the std label of the chapter on citing the book, whose page the back of the title page gives
    app.add_config_value("ntklib_pdf_cite_label", "", "")
    # after sphinx-jupyterbook-latex, which sets its class and preamble at config-inited (priority 500)
    app.connect("config-inited", _config_inited, priority=900)
    # after ntklib.sphinxext has put the dashboard's table in place (priority 500)
    app.connect("doctree-resolved", print_layout, priority=900)
    app.add_node(pdf_link)
    app.add_directive("pdf-link", PdfLinkDirective)
    app.connect("doctree-resolved", _resolve_pdf_links)
    app.connect("build-finished", _copy_pdf)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-updated", _updated)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
