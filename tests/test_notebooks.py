"""The student notebooks (ntklib.notebooks): the converter's forms, and the committed notebooks.

Committed notebooks (``chapters/<chapter>.ipynb``) must equal what the converter makes from the
current sources and the last build's resolved data (``_build/notebooks/resolved.json``): a stale
notebook fails here, with the command that refreshes it.  Their links must resolve, their
Markdown must hold no MyST role or directive, and their TeX no macro of the book's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from ntklib import notebooks

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
RESOLVED = BUILD / notebooks.OUT_DIR / notebooks.RESOLVED


# --------------------------------------------------------------------------------------------
# The converter, on a small chapter with hand-made build data

DATA = {
    "notebooks": ["chapters/02-b", "chapters/01-a"],
    "site": "https://example.org/book/",
    "numbers": {"lem-x": ["chapters/02-b", "lemma", "2.1"], "fig-y": ["chapters/02-b", "figure", "2.1"],
                "ex-z": ["chapters/02-b", "exercise", "2.1"], "thm-far": ["chapters/01-a", "theorem", "1.3"]},
    "labels": {"ch-a": ["chapters/01-a", "ch-a", "Chapter A"], "sec-q": ["chapters/02-b", "sec-q", "Q"],
               "err-1": ["chapters/errata", "err-1", "First erratum"]},
    "equations": {"eq-e": ["chapters/02-b", "2.4"]},
    "terms": {"Width": ["chapters/glossary", "term-Width"]},
    "python": {"ntklib.check": ["chapters/api", "ntklib.check", "function"]},
    "titles": {"chapters/01-a": "Chapter A"},
    "glue": {"chapters/02-b": {"k": "0.123456", "n": "40", "live_t": "3.2"}},
    "bib": {"kim2024": ["Kim", "2024", "Jisu Kim. A lecture. 2024."],
            "ab2020": ["Arora et al.", "2020", "S. Arora and others. A paper. 2020."]},
    "macros": {"norm": ["\\left\\lVert #1 \\right\\rVert", 1], "N": ["\\mathcal{N}", 0], "R": ["\\mathbb{R}", 0]},
    "numfig_format": {"figure": "Fig. %s"}, "eqref_format": "({number})", "seed": 2024,
    "repository": ["https://github.com/o/r", "main"], "budgets": {},
}

HEAD = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

+++ {"tags": ["remove-cell"]}

$$\\newcommand{\\N}{\\mathcal{N}}$$

+++

(ch-b)=
# Chapter B

Overview {footcite:p}`kim2024`, after {ref}`ch-a`.
"""


def _convert(body: str) -> nbformat.NotebookNode:
    return notebooks.convert(HEAD + body, "chapters/02-b", DATA, budget_seconds=60)


def _markdown(nb: nbformat.NotebookNode) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_statements_proofs_and_margin_notes_are_typeset_markdown() -> None:
    md = _markdown(_convert("""
```{prf:lemma} Lemma 5 of the lecture
:label: lem-x

For all $x$, $\\norm{x}_2 \\le 1$ and
$$
a = b
$$
```

```{prf:proof}
Obvious.
```

```{margin} Correction
The note says $\\N$.
```
"""))
    assert '> <a id="lem-x"></a>**Lemma 2.1** (Lemma 5 of the lecture).' in md
    assert "> $$a = b$$" in md                       # display math on one line inside the quote
    assert "*Proof.* Obvious." in md and "∎" in md
    assert "> **Correction.** *(Margin note)* The note says $\\mathcal{N}$." in md
    assert "\\norm" not in md and "\\N" not in md.replace("\\newcommand", "")


def test_roles_become_links_numbers_and_values() -> None:
    md = _markdown(_convert("""
See {prf:ref}`lem-x`, {prf:ref}`thm-far`, {numref}`fig-y`, {eq}`eq-e`, {ref}`sec-q`, {ref}`the errata <err-1>`,
{term}`width <Width>`, {func}`ntklib.check`, {footcite:t}`ab2020`; slope {glue:text}`k:.3f`
over {glue:text}`n` trials, {glue:text}`live_t:.1f` s.

## References

```{footbibliography}
```
"""))
    assert "[Lemma 2.1](#lem-x)" in md
    assert "[Theorem 1.3](01-a.ipynb#thm-far)" in md
    assert "[Fig. 2.1](#fig-y)" in md and "[(2.4)](#eq-e)" in md and "[Q](#sec-q)" in md
    assert "[Chapter A](01-a.ipynb#ch-a)" in md
    assert "[the errata](https://example.org/book/chapters/errata.html#err-1)" in md
    assert "[width](https://example.org/book/chapters/glossary.html#term-Width)" in md
    assert "[`ntklib.check()`](https://example.org/book/chapters/api.html#ntklib.check)" in md
    assert "([Kim, 2024](#ref-kim2024))" in md and "[Arora et al. (2020)](#ref-ab2020)" in md
    assert "slope 0.123\nover 40 trials" in md
    assert "3.2" not in md and "measured when you run" in md      # wall-clock values are not printed
    assert '- <a id="ref-kim2024"></a>Jisu Kim. A lecture. 2024.' in md


def test_equations_figures_exercises_and_solutions() -> None:
    nb = _convert("""
$$
x = 1
$$ (eq-e)

```{code-cell} ipython3
---
mystnb:
  figure:
    name: fig-y
    caption: A figure of {glue:text}`n` points.
tags: [hide-input]
---
fig = 1
```

```{exercise}
:label: ex-z

Do it.
```

```{solution} ex-z
:class: dropdown

Done.
```

````{solution-start} ex-z
:class: dropdown
````

```{code-cell} ipython3
answer = 42
```

````{solution-end}
````
""")
    md = _markdown(nb)
    assert '<a id="eq-e"></a>' in md and "\\tag{2.4}" in md
    assert '<a id="fig-y"></a>**Fig. 2.1.** A figure of 40 points.' in md
    assert '> <a id="ex-z"></a>**Exercise 2.1**.' in md
    assert "<details>\n<summary><b>Solution to Exercise 2.1</b></summary>\n\nDone.\n\n</details>" in md
    code = [c for c in nb.cells if c.cell_type == "code"]
    figure = next(c for c in code if c.source == "fig = 1")
    assert figure.metadata["ntk_book"] == {"figure": "fig-y"} and figure.metadata["jupyter"]["source_hidden"]
    after = nb.cells[nb.cells.index(figure) + 1]
    assert after.cell_type == "markdown" and after.source.startswith('<a id="fig-y"></a>**Fig. 2.1.**')
    solution = next(c for c in code if c.source == "answer = 42")
    assert solution.metadata["jupyter"]["source_hidden"]             # a solution's code is folded
    assert code[0].metadata["tags"] == ["install"] and "%pip install" in code[0].source
    assert nb.cells[0].source.startswith('# <a id="ch-b"></a>Chapter B\n\n> **About this notebook.**')
    assert "default seed 2024" in nb.cells[0].source and "60 s" in nb.cells[0].source
    assert [c.id for c in nb.cells] == [f"c{i:03d}" for i in range(len(nb.cells))]
    nbformat.validate(nb)


def test_unknown_constructs_and_unresolved_references_fail() -> None:
    for body in ["{glue:text}`missing`", "{prf:ref}`lem-none`", "```{dropdown} x\ny\n```", "{kbd}`C-c`",
                 "```{glue:figure} fig-y\n:name: fig-y\n\nA glued figure.\n```"]:
        with pytest.raises(notebooks.ConversionError):
            _convert(body)


def test_macros_expand_with_arguments_and_nesting() -> None:
    out = notebooks.expand_macros(r"$\norm{\norm{x}_2 + \N}$, $\R^d$, `\norm{code}`", DATA["macros"])
    assert out == (r"$\left\lVert \left\lVert x \right\rVert_2 + \mathcal{N} \right\rVert$, $\mathbb{R}^d$, "
                   r"`\norm{code}`")
    # a control word at the end of a definition is kept apart from a following letter
    assert notebooks.expand_macros(r"$\norm{x}y$", DATA["macros"]) == r"$\left\lVert x \right\rVert y$"


# --------------------------------------------------------------------------------------------
# The committed notebooks


def _resolved() -> dict:
    if not RESOLVED.is_file():
        pytest.skip(f"no {RESOLVED.relative_to(ROOT)}: build the book first (make book)")
    return json.loads(RESOLVED.read_text(encoding="utf-8"))


def _committed() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.ipynb"))


def test_every_chapter_has_a_fresh_student_notebook() -> None:
    data = _resolved()
    stale = []
    for doc in data["notebooks"]:
        path = ROOT / (doc + ".ipynb")
        source = (ROOT / (doc + ".md")).read_text(encoding="utf-8")
        expected = notebooks.notebook_json(notebooks.convert(source, doc, data,
                                                             budget_seconds=data["budgets"].get(Path(doc).name)))
        if not path.is_file() or path.read_text(encoding="utf-8") != expected:
            stale.append(path.relative_to(ROOT).as_posix())
    assert not stale, f"stale or missing student notebooks: {stale}; run `make notebooks` and commit them"
    extra = {p.stem for p in _committed()} - {Path(d).name for d in data["notebooks"]}
    assert not extra, f"notebooks without a chapter: {sorted(extra)}"


LINK = re.compile(r"\]\((?P<url>[^)\s]+)\)")


def _anchors(nb: nbformat.NotebookNode) -> set[str]:
    ids = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            ids |= set(re.findall(r'<a id="([^"]+)"></a>', cell.source))
            # JupyterLab's heading ids: the heading's text with spaces as hyphens
            ids |= {re.sub(r"<[^>]+>", "", h).strip().replace(" ", "-") for h in re.findall(r"^#+ (.*)$", cell.source, re.M)}
    return ids


@pytest.mark.parametrize("path", _committed(), ids=lambda p: p.stem)
def test_committed_notebook_reads_like_the_book(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["ntk_book"]["source"] == f"chapters/{path.stem}.md"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "notebooks are committed without outputs"
    macros = _macro_names()
    site = _site_url()
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        notebooks._assert_clean(cell.source, path.name)
        used = sorted({m for m in re.findall(r"\\([A-Za-z]+)", cell.source) if m in macros})
        assert not used, f"{path.name}: unexpanded TeX macros {used} in {cell.source[:120]!r}"
        for url in LINK.findall(cell.source):
            _require_link(path, nb, url, site)


def _require_link(path: Path, nb: nbformat.NotebookNode, url: str, site: str) -> None:
    if url.startswith("#"):
        assert url[1:] in _anchors(nb), f"{path.name}: link {url} has no target in the notebook"
    elif re.match(r"^[\w-]+\.ipynb(#|$)", url):
        name, _, fragment = url.partition("#")
        other = path.parent / name
        assert other.is_file(), f"{path.name}: link to a missing notebook {url}"
        if fragment:
            assert fragment in _anchors(nbformat.read(other, as_version=4)), f"{path.name}: {url} has no target"
    elif url.startswith(site):
        page, _, fragment = url[len(site):].partition("#")
        html = BUILD / "html" / page
        if not html.is_file():
            pytest.skip(f"no built site page {page} to check {url} against (make book)")
        if fragment:
            assert f'id="{fragment}"' in html.read_text(encoding="utf-8"), f"{path.name}: {url}: no such anchor"
    else:
        assert url.startswith(("https://", "http://")), f"{path.name}: relative link {url} resolves nowhere"


def _macro_names() -> set[str]:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return set(config["sphinx"]["config"]["mathjax3_config"]["tex"]["macros"])


def _site_url() -> str:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["html"]["baseurl"].rstrip("/") + "/"
