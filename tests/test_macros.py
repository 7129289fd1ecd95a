"""Every executable chapter defines the book's TeX macros for Jupyter, matching _config.yml.

The site's MathJax reads the macros from ``_config.yml`` (``mathjax3_config``); JupyterLab (Binder)
does not, so each chapter opens with a Markdown cell of ``\\newcommand`` definitions, tagged
``remove-cell`` so the book does not show it.  This test keeps the two lists identical.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.md") if "kernelspec" in jupytext.read(p).metadata)


def book_macros() -> dict[str, str | list]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"]


def macro_cell() -> str:
    """The Markdown cell that defines the macros in MathJax, one ``\\newcommand`` per line."""
    lines = []
    for name, body in book_macros().items():
        if isinstance(body, list):
            lines.append(f"\\newcommand{{\\{name}}}[{body[1]}]{{{body[0]}}}")
        else:
            lines.append(f"\\newcommand{{\\{name}}}{{{body}}}")
    return "$$\n" + "\n".join(lines) + "\n$$"


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_defines_the_book_macros(path: Path) -> None:
    first = jupytext.read(path).cells[0]
    assert first.cell_type == "markdown" and "remove-cell" in first.metadata.get("tags", []), (
        f"{path.name}: the first cell must be the macro cell, tagged remove-cell")
    assert first.source.strip() == macro_cell(), f"{path.name}: macros differ from _config.yml; expected\n{macro_cell()}"


if __name__ == "__main__":          # print the cell, to paste into a new chapter
    print(macro_cell())
