"""Unit tests of the PDF extension's helpers (ntklib/sphinxext_pdf.py); tests/test_pdf.py checks the PDF."""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes

from ntklib import sphinxext_pdf as pdf

ROOT = Path(__file__).resolve().parent.parent


def test_tex_macros_define_every_mathjax_macro_of_the_book() -> None:
    assert pdf.tex_macros({"R": r"\mathbb{R}", "norm": [r"\left\lVert #1 \right\rVert", 1]}) == (
        "\\newcommand{\\R}{\\mathbb{R}}\n\\newcommand{\\norm}[1]{\\left\\lVert #1 \\right\\rVert}")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    macros = config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]
    assert pdf.tex_macros(macros).count("\\newcommand") == len(macros)


def test_citation_names_the_version_year_and_authors() -> None:
    cff = {"title": "T", "version": "1.2.0", "date-released": datetime.date(2027, 3, 1),
           "authors": [{"name": "Team"}, {"given-names": "Ada", "family-names": "Lovelace"}]}
    assert pdf.citation_text(cff, "https://example.org/b") == "Team, Ada Lovelace (2027). T. Version 1.2.0. https://example.org/b"
    assert pdf.site_pdf_name(cff) == "ntk-book-1.2.0.pdf"
    assert pdf.read_citation(ROOT)["version"] in pdf.site_pdf_name(pdf.read_citation(ROOT))


def test_hangul_counts_twice_in_a_column_width() -> None:
    assert pdf._text_width("ab") == 2 and pdf._text_width("모형") == 4


def _table(columns: int, rows: int) -> nodes.table:
    group = nodes.tgroup(cols=columns)
    group += [nodes.colspec(colwidth=1) for _ in range(columns)]
    body = nodes.tbody()
    for i in range(rows):
        body += nodes.row("", *(nodes.entry("", nodes.paragraph(text="word " * (j + 1))) for j in range(columns)))
    group += body
    return nodes.table("", group)


def test_long_and_wide_tables_get_widths_and_break_across_pages() -> None:
    doc = nodes.document(None, None)
    short, long, wide = _table(3, 3), _table(3, 12), _table(8, 3)
    doc += [short, long, wide]
    pdf._tables(doc)
    assert "longtable" not in short["classes"]
    for table in (long, wide):
        assert {"longtable", "colwidths-given"} <= set(table["classes"])
        widths = [c["colwidth"] for c in table.findall(nodes.colspec)]
        assert widths == sorted(widths) and widths[0] < widths[-1]        # longer cells, wider columns
    raw = [n.astext() for n in doc.findall(nodes.raw)]
    assert any("landscape" in r for r in raw) and any("\\begingroup" in r for r in raw)


def test_index_entries_in_hangul_go_under_korean_terms() -> None:
    doc = nodes.document(None, None)
    index = addnodes.index(entries=[("single", "모형 (model)", "t1", "main", None), ("single", "Gram matrix", "t2", "", None)])
    doc += index
    pdf._korean_index(doc)
    assert [e[1] for e in index["entries"]] == [f"{pdf.KOREAN_TERMS}; 모형 (model)", "Gram matrix"]
