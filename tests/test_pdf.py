"""The book's PDF (``make pdf``: ``_build/latex/ntk-book.pdf``), read as its readers get it.

``make test`` builds the PDF before the test suite wherever xelatex is installed; these tests only
read it, with its LaTeX log and ``.aux``, and the build environment (``_build/.doctrees``) the site
and the PDF were both written from.  They fail on:

- the LaTeX log: a "Missing character" (a glyph no loaded font has, which LaTeX drops silently:
  Hangul without its font), an undefined reference or citation, a missing file, an error, a
  request to rerun, or any other LaTeX or package warning;
- the text (``pdftotext``): an unresolved reference ``??``, a raw MyST role or directive
  (``{glue:text}``, ``{prf:ref}``, ``{term}``, ...), an image's text stand-in (``<Figure size ...>``),
  a Hangul word of the glossary missing;
- figures: a numbered figure of the site that is not a numbered, captioned figure of the PDF with
  the same number (lettered in appendices), or whose page carries no image; an equation of a
  numbered chapter numbered differently from the site;
- the title page without the title and ``CITATION.cff``'s version, or without how to cite on its back;
- the site without a copy of this PDF, named by version, linked from the pages that say ``pdf-link``;
- an exercise whose solution is not in the chapter of solutions at the back.

It also renders a few pages (title, back of the title page, the first proof, the first figure,
the glossary) to PNG under ``_build/pdf-pages/`` for a person to look at.

Without a built PDF, poppler-utils or a build environment (or with a PDF older than a source it
is made from) the tests skip and say what is missing; with ``NTKLIB_REQUIRE_PDF=1`` (as
``.ci/run`` sets) they fail instead.
"""

from __future__ import annotations

import filecmp
import os
import pickle
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LATEX = ROOT / "_build" / "latex"
PDF = LATEX / "ntk-book.pdf"
ENVIRONMENT = ROOT / "_build" / ".doctrees" / "environment.pickle"
PAGES = ROOT / "_build" / "pdf-pages"
SITE = ROOT / "_build" / "html"
REQUIRE = os.environ.get("NTKLIB_REQUIRE_PDF") == "1"
HANGUL = re.compile(r"[\uac00-\ud7a3]+")
# A MyST role or directive left as source text: {name}` or {name:sub}` or ```{name}
RAW_MYST = re.compile(r"\{[a-z][a-z0-9_-]*(?::[a-z][a-z0-9_-]*)?\}`|`{3}\{")
FIGURE_CAPTION = r"^Fig(?:\.|ure) {}:"


def _unavailable(reason: str) -> None:
    message = f"PDF test not run: {reason}"
    if REQUIRE:
        pytest.fail(message + " (NTKLIB_REQUIRE_PDF=1)", pytrace=False)
    pytest.skip(message)


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@dataclass
class Book:
    """The built PDF and what it was built from."""

    env: object                        # the Sphinx build environment (toc, figure numbers, exercises)

    @cached_property
    def pages(self) -> list[str]:
        """The text of each page (``pdftotext`` separates pages with form feeds)."""
        return _run("pdftotext", "-enc", "UTF-8", str(PDF), "-").split("\f")[:-1]

    @cached_property
    def text(self) -> str:
        return "\n".join(self.pages)

    @cached_property
    def log(self) -> str:
        return (LATEX / "ntk-book.log").read_text(encoding="utf-8", errors="replace")

    @cached_property
    def images_per_page(self) -> dict[int, int]:
        """Number of images drawn on each page (``pdfimages -list``), pages counted from 1."""
        counts: dict[int, int] = {}
        for line in _run("pdfimages", "-list", str(PDF)).splitlines()[2:]:
            page = int(line.split()[0])
            counts[page] = counts.get(page, 0) + 1
        return counts

    def docs(self) -> list[str]:
        """The book's documents in the order of the table of contents."""
        order: list[str] = []

        def walk(doc: str) -> None:
            if doc not in order:
                order.append(doc)
                for child in self.env.toctree_includes.get(doc, []):
                    walk(child)

        walk(self.env.config.root_doc)
        return order

    def site_figures(self) -> list[tuple[str, tuple[int, ...]]]:
        """Every numbered figure of the site, as (document, number), in reading order."""
        out = []
        for doc in self.docs():
            numbers = self.env.toc_fignumbers.get(doc, {}).get("figure", {})
            out.extend((doc, tuple(n)) for n in sorted(numbers.values()))
        return out

    def pdf_figures(self) -> list[str]:
        """The number of every figure LaTeX typeset with a caption, in order (from the .aux file)."""
        aux = (LATEX / "ntk-book.aux").read_text(encoding="utf-8", errors="replace")
        return re.findall(r"\\contentsline \{figure\}\{\\numberline \{([^}]*)\}", aux)

    def page_of(self, pattern: str, start: int = 0) -> int | None:
        """Index (from 0) of the first page from ``start`` whose text matches ``pattern``."""
        rx = re.compile(pattern, re.M)
        return next((i for i in range(start, len(self.pages)) if rx.search(self.pages[i])), None)


def _sources() -> list[Path]:
    """What the PDF is made from: chapters, configuration, bibliography, ntklib, the preamble.
    (The build environment itself is rewritten by every build, changed or not.)"""
    files = [ROOT / name for name in ("_config.yml", "_toc.yml", "references.bib", "CITATION.cff")]
    files += sorted((ROOT / "chapters").glob("*.md")) + sorted((ROOT / "ntklib").glob("*.py"))
    return files + sorted((ROOT / "_static" / "latex").glob("*"))


@pytest.fixture(scope="module")
def book() -> Book:
    if not PDF.is_file():
        _unavailable(f"no PDF at {PDF}; run `make pdf` (needs xelatex: see the Makefile's TEX_PACKAGES)")
    missing = [tool for tool in ("pdftotext", "pdfimages", "pdftoppm") if shutil.which(tool) is None]
    if missing:
        _unavailable(f"{', '.join(missing)} not found; install Debian's poppler-utils")
    if not ENVIRONMENT.is_file():
        _unavailable(f"no build environment at {ENVIRONMENT}; run `make pdf`")
    newer = [p.relative_to(ROOT).as_posix() for p in _sources() if p.stat().st_mtime > PDF.stat().st_mtime]
    if newer:
        _unavailable(f"the PDF is older than {', '.join(newer)}; run `make pdf`")
    with ENVIRONMENT.open("rb") as f:
        return Book(env=pickle.load(f))


# --- the LaTeX log ----------------------------------------------------------------------------

def test_no_missing_glyphs(book: Book) -> None:
    missing = sorted(set(re.findall(r"Missing character: There is no (.+)$", book.log, re.M)))
    assert not missing, "characters no font has, dropped from the PDF:\n" + "\n".join(missing)


def test_every_reference_resolves(book: Book) -> None:
    undefined = sorted(set(re.findall(r"(?:Reference|Hyper reference|Citation) `([^']+)' on page \d+ undefined", book.log)))
    assert not undefined, "undefined references:\n" + "\n".join(undefined)
    assert "There were undefined references" not in book.log
    assert "Label(s) may have changed" not in book.log, "latexmk stopped before the references settled"
    unresolved = [i + 1 for i, page in enumerate(book.pages) if "??" in page]
    assert not unresolved, f"unresolved references (??) on pages {unresolved}"


def test_no_errors_or_warnings_in_the_log(book: Book) -> None:
    errors = re.findall(r"^! .*$|^.*File `[^']+' not found.*$", book.log, re.M)
    assert not errors, "\n".join(errors)
    warnings = re.findall(r"^(?:LaTeX|Package|Class) \S* ?Warning: .*$|^LaTeX Warning: .*$", book.log, re.M)
    assert not warnings, "LaTeX warnings:\n" + "\n".join(sorted(set(warnings)))


# --- the text ---------------------------------------------------------------------------------

def test_no_raw_markup_in_the_text(book: Book) -> None:
    raw = sorted({m.group(0) for m in RAW_MYST.finditer(book.text)})
    assert not raw, f"raw MyST markup in the PDF: {raw}"
    for stand_in in ("<Figure size", "<IPython.core.display", "<matplotlib."):
        assert stand_in not in book.text, f"an output printed as its text stand-in: {stand_in}"


def test_the_glossary_keeps_its_korean_terms(book: Book) -> None:
    words = set(HANGUL.findall((ROOT / "chapters" / "glossary.md").read_text(encoding="utf-8")))
    assert words, "the glossary has no Hangul to look for"
    missing = sorted(w for w in words if w not in book.text)
    assert not missing, f"Hangul of the glossary missing from the PDF's text: {missing}"


# --- figures ----------------------------------------------------------------------------------

def test_every_figure_is_numbered_captioned_and_drawn(book: Book) -> None:
    site = book.site_figures()
    assert site, "the site has no numbered figures: nothing to compare"
    pdf_numbers = book.pdf_figures()
    assert len(pdf_numbers) == len(site), f"{len(site)} numbered figures on the site, {len(pdf_numbers)} in the PDF"
    numbered = {doc for doc in book.docs() if book.env.toc_secnumbers.get(doc, {}).get("")}
    page = 0
    for (doc, number), pdf_number in zip(site, pdf_numbers):
        site_number = ".".join(map(str, number))
        if doc in numbered:
            assert pdf_number == site_number, f"{doc}: figure {site_number} on the site is {pdf_number} in the PDF"
        else:                       # an unnumbered part: lettered in the PDF (A.1), unprefixed on the site (1)
            assert pdf_number.rsplit(".", 1)[-1] == str(number[-1]), f"{doc}: figure {site_number} is {pdf_number}"
        found = book.page_of(FIGURE_CAPTION.format(re.escape(pdf_number)), page)
        assert found is not None, f"no caption 'Fig. {pdf_number}:' in the PDF's text after page {page + 1}"
        assert book.images_per_page.get(found + 1, 0) > 0, f"figure {pdf_number} (page {found + 1}) has no image"
        page = found


def test_equations_have_the_sites_numbers(book: Book) -> None:
    aux = (LATEX / "ntk-book.aux").read_text(encoding="utf-8", errors="replace")
    pdf = dict(re.findall(r"\\newlabel\{equation:([^}]+)\}\{\{([^}]*)\}", aux))
    site = {f"{doc}:{eq[len('equation-'):]}": ".".join(map(str, n)) for doc in book.docs()
            for eq, n in book.env.toc_fignumbers.get(doc, {}).get("displaymath", {}).items()}
    assert site, "the site has no numbered equations: nothing to compare"
    numbered = {doc for doc in book.docs() if book.env.toc_secnumbers.get(doc, {}).get("")}
    wrong = {label: (number, pdf.get(label)) for label, number in site.items()
             if label.rsplit(":", 1)[0] in numbered and pdf.get(label) != number}
    assert not wrong, f"equations numbered differently (site, PDF): {wrong}"


# --- title page, exercises --------------------------------------------------------------------

def test_title_page_gives_the_version_and_how_to_cite(book: Book) -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    title, back = (" ".join(p.split()) for p in book.pages[:2])
    assert " ".join(cff["title"].split()) in title
    assert f"Version {cff['version']}" in title, f"the title page does not show version {cff['version']}"
    assert "How to cite" in back and f"Version {cff['version']}" in back
    info = _run("pdfinfo", str(PDF))
    assert re.search(rf"^Subject:\s+Version {re.escape(str(cff['version']))}$", info, re.M), info


def test_solutions_are_at_the_back(book: Book) -> None:
    registry = getattr(book.env, "sphinx_exercise_registry", {})
    solutions = sum(1 for v in registry.values() if v["type"].startswith("solution"))
    if not solutions:
        pytest.skip("the book has no solutions")
    first_exercise = book.page_of(r"^Solution on page \d+\.$")
    assert first_exercise is not None, "no exercise gives the page of its solution"
    start = book.page_of(r"(?i)^solutions to the exercises$", first_exercise)
    assert start is not None, "no chapter 'Solutions to the exercises' after the exercises"
    before = "\n".join(book.pages[:start])
    after = "\n".join(book.pages[start:])
    assert len(re.findall(r"^Solution to ", after, re.M)) == solutions
    assert not re.findall(r"^Solution to ", before, re.M), "a solution is printed under its exercise"
    assert len(re.findall(r"^Solution on page \d+\.$", before, re.M)) == solutions


def test_the_site_links_this_pdf(book: Book) -> None:
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    name = f"{PDF.stem}-{cff['version']}.pdf"
    copy = SITE / name
    assert copy.is_file() and filecmp.cmp(copy, PDF, shallow=False), f"{copy} is not this PDF: run `make pdf`"
    pages = [p for p in sorted((ROOT / "chapters").glob("*.md")) if "{pdf-link}" in p.read_text(encoding="utf-8")]
    assert pages, "no page of the site links the PDF (directive pdf-link)"
    for source in pages:
        html = (SITE / "chapters" / source.with_suffix(".html").name).read_text(encoding="utf-8")
        assert f'href="../{name}"' in html, f"{source.name}: no link to {name} on the site"


# --- pages for a person to look at ------------------------------------------------------------

def test_render_pages_for_review(book: Book) -> None:
    glossary_words = set(HANGUL.findall((ROOT / "chapters" / "glossary.md").read_text(encoding="utf-8")))
    glossary = max(range(len(book.pages)), key=lambda i: sum(w in book.pages[i] for w in glossary_words))
    first_figure = book.pdf_figures()[0]
    chosen = {
        "title": 0,
        "how-to-cite": 1,
        "proof": book.page_of(r"^Proof\."),
        "figure": book.page_of(FIGURE_CAPTION.format(re.escape(first_figure))),
        "glossary": glossary,
    }
    if PAGES.exists():
        shutil.rmtree(PAGES)
    PAGES.mkdir(parents=True)
    for name, index in chosen.items():
        assert index is not None, f"no page to show for {name}"
        prefix = PAGES / f"{name}-p{index + 1}"
        _run("pdftoppm", "-png", "-r", "80", "-singlefile", "-f", str(index + 1), "-l", str(index + 1), str(PDF), str(prefix))
        png = prefix.with_suffix(".png")
        assert png.stat().st_size > 5_000, f"{png} looks blank"
