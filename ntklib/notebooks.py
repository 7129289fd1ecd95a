"""Student notebooks: every executable chapter as an ``.ipynb`` that reads like the book in plain Jupyter.

The book's chapters are MyST Markdown notebooks.  Plain JupyterLab, Colab and VS Code render
CommonMark and MathJax/KaTeX only, so a chapter opened there shows MyST's roles and directives
raw.  This module converts each chapter into a notebook whose Markdown cells are plain
CommonMark + TeX, using what the book build resolved:

- ``{glue:text}`` numbers are the values the build computed (default seed), formatted as the
  site formats them; wall-clock measurements (glue keys starting with ``live_``) are not printed,
  the text points to the cell that measures them;
- ``prf:`` statements, exercises and margin notes become block quotes headed with the book's
  number and title ("**Lemma 2.1** (Lemma 5 of the lecture)"), proofs are marked, solutions sit
  in a ``<details>`` toggle (a solution's code cells have their input collapsed);
- cross-references become links with the site's text: to an anchor in the same notebook, to the
  other chapter's notebook, or to the page of the published site (glossary, errata, API);
- citations become author–year text linking to the notebook's reference list;
- a figure cell (code-cell metadata ``mystnb.figure``) is followed by its numbered caption;
- equation labels become ``\\tag{2.4}``, and the book's TeX macros are expanded, so no renderer
  needs a macro definition (KaTeX rejects redefining ``\\N``, and predefines it as ℕ).

The code cells are the chapter's, unchanged (cells tagged ``remove-cell`` are dropped,
``hide-input`` collapses the input), so running a notebook runs the chapter.

:func:`resolve_data` collects what the build resolved from the Sphinx environment into a plain
dictionary; :func:`convert` is a pure function of a chapter's source and that dictionary.  As a
Sphinx extension (``ntklib.notebooks`` in ``_config.yml``) the module writes, when an HTML build
finishes, ``_build/notebooks/<chapter>.ipynb`` and the same notebook as the page's ``.ipynb``
download; ``make notebooks`` copies them beside the sources (``chapters/<chapter>.ipynb``), where
the launch buttons find them, and ``tests/test_notebooks.py`` fails when a committed notebook
differs from the build's.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any, Callable

__all__ = ["chapter_code_cells", "convert", "expand_macros", "notebook_json", "resolve_data", "setup",
           "student_code_cells", "write_notebooks", "OUT_DIR", "RESOLVED"]

OUT_DIR = "notebooks"
"""Folder of ``_build`` (beside ``html``) the build writes the student notebooks to."""

RESOLVED = "resolved.json"
"""The build's resolved numbers, labels and glue values (:func:`resolve_data`), beside the notebooks."""

LIVE_PREFIX = "live_"
"""Glue keys that hold wall-clock measurements: not printed in the notebook's text."""

# ---------------------------------------------------------------------------------------------
# What the build resolved


def resolve_data(app: Any) -> dict[str, Any]:
    """Everything :func:`convert` needs from a finished Sphinx build, as plain JSON-able data.

    Keys: ``notebooks`` (document names converted), ``site`` (the published site's base URL),
    ``numbers`` (label -> [doc, kind, number]), ``labels`` (label -> [doc, anchor, title]),
    ``equations`` (label -> [doc, number]), ``terms`` (term -> [doc, anchor]), ``python``
    (object name -> [doc, anchor, objtype]), ``titles`` (doc -> title), ``glue``
    (doc -> key -> text/plain), ``bib`` (key -> [short author, year, formatted entry]),
    ``macros`` (name -> [body, nargs]), ``numfig_format``, ``eqref_format``, ``seed``,
    ``repository`` ([url, branch]).
    """
    from .seeding import base_seed

    env, config = app.env, app.config
    notebooks = sorted(doc for doc in env.found_docs if _is_notebook(env.doc2path(doc)))
    numbers: dict[str, list] = {}
    equations: dict[str, list] = {}
    for doc, kinds in env.toc_fignumbers.items():
        for kind, entries in kinds.items():
            for ident, number in entries.items():
                if kind == "displaymath":
                    equations[ident.removeprefix("equation-")] = [doc, ".".join(map(str, number))]
                else:
                    numbers[ident] = [doc, kind, ".".join(map(str, number))]
    std = env.domaindata["std"]
    labels = {name: [doc, anchor, str(title)] for name, (doc, anchor, title) in std["labels"].items()}
    terms = {name: [doc, anchor] for (kind, name), (doc, anchor) in std["objects"].items() if kind == "term"}
    python = {name: [entry[0], entry[1], entry[2]] for name, entry in env.domaindata["py"]["objects"].items()}
    titles = {doc: node.astext() for doc, node in env.titles.items()}
    glue: dict[str, dict[str, str]] = {}
    execute = Path(app.outdir).parent / "jupyter_execute"
    for doc in notebooks:
        path = execute / (doc + ".glue.json")
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        glue[doc] = {k: v["data"]["text/plain"] for k, v in data.items() if "text/plain" in v.get("data", {})}
    macros = {}
    for name, body in config.mathjax3_config["tex"]["macros"].items():
        macros[name] = [body[0], int(body[1])] if isinstance(body, list) else [body, 0]
    theme = config.html_theme_options or {}
    base = (config.html_baseurl or "").rstrip("/") + "/"
    return {
        "notebooks": notebooks, "site": base, "numbers": numbers, "labels": labels,
        "equations": equations, "terms": terms, "python": python, "titles": titles, "glue": glue,
        "bib": _bibliography(app), "macros": macros, "numfig_format": dict(config.numfig_format),
        "eqref_format": config.math_eqref_format or "({number})", "seed": base_seed(),
        "repository": [theme.get("repository_url", ""), theme.get("repository_branch", "main")],
        "budgets": dict(config.ntklib_notebook_budgets or {}),
    }


def _is_notebook(path: str | Path) -> bool:
    """A MyST Markdown source with a kernelspec (what Jupyter Book executes)."""
    path = Path(path)
    if path.suffix != ".md":
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return head.startswith("---") and "kernelspec:" in head.split("\n---", 1)[0]


def _bibliography(app: Any) -> dict[str, list[str]]:
    """key -> [author label, year, the entry formatted as the site formats it, in Markdown]."""
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    style = find_plugin("pybtex.style.formatting", app.config.bibtex_default_style)()
    backend = find_plugin("pybtex.backends", "markdown")()
    out = {}
    for name in app.config.bibtex_bibfiles:
        for key, entry in parse_file(str(Path(app.confdir) / name), bib_format="bibtex").entries.items():
            people = entry.persons.get("author") or entry.persons.get("editor") or []
            last = [" ".join(p.last_names) for p in people]
            who = (last[0] if len(last) == 1 else f"{last[0]} and {last[1]}" if len(last) == 2
                   else f"{last[0]} et al." if last else entry.fields.get("title", key))
            text = style.format_entry(key, entry).text.render(backend).replace("\n", " ")
            text = re.sub(r"\\([.\-()'!+#:,])", r"\1", text)      # escapes CommonMark does not need
            out[key] = [_tex_to_text(who), entry.fields.get("year", "n.d."), text]
    return out


def _tex_to_text(s: str) -> str:
    return s.replace("{", "").replace("}", "").replace("\\", "")


# ---------------------------------------------------------------------------------------------
# The conversion


class ConversionError(ValueError):
    """A construct the converter does not know; the build reports it."""


def convert(source: str, doc: str, data: dict[str, Any], *, budget_seconds: float | None = None) -> Any:
    """The student notebook of one chapter.

    Parameters
    ----------
    source : str
        The chapter's MyST Markdown notebook (jupytext's ``myst`` format).
    doc : str
        Its document name, e.g. ``chapters/02-taylor``.
    data : dict
        What the build resolved (:func:`resolve_data`).
    budget_seconds : float, optional
        How long running all its cells takes, stated in the first cell.

    Returns
    -------
    nbformat.NotebookNode
        Version 4.5, with deterministic cell ids, no outputs.

    Raises
    ------
    ConversionError
        On a role or directive it does not know, an unresolved reference or glue key.
    """
    import jupytext
    import nbformat

    nb = jupytext.reads(source, fmt="myst")
    md = _Markdown(doc, data)
    cells: list[Any] = []
    solution: str | None = None           # inside solution-start ... solution-end
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            text = cell.source
            start = _SOLUTION_START.search(text)
            end = _SOLUTION_END.search(text)
            if end:
                if solution is None:
                    raise ConversionError(f"{doc}: solution-end without solution-start")
                before, text = text[:end.start()], text[end.end():]
                if before.strip():
                    cells.append(nbformat.v4.new_markdown_cell(md.convert(before)))
                solution = None
            if start:
                before, text = text[:start.start()], text[start.end():]
                if before.strip():
                    cells.append(nbformat.v4.new_markdown_cell(md.convert(before)))
                target = start["arg"].strip()
                solution = target
                title = md.solution_title(target)
                cells.append(nbformat.v4.new_markdown_cell(
                    f"<details>\n<summary><b>{title}</b> (the code cell below; its input is folded: "
                    f"click ··· to show it)</summary>\n\n{md.convert(text).strip()}\n\n</details>"
                    if text.strip() else
                    f"<details>\n<summary><b>{title}</b></summary>\n\nThe solution is the code cell below: "
                    "its input is folded (click ··· to show it).\n\n</details>"))
                continue
            if text.strip():
                cells.append(nbformat.v4.new_markdown_cell(md.convert(text)))
        elif cell.cell_type == "code":
            meta: dict[str, Any] = {}
            if tags:
                meta["tags"] = list(tags)
            if {"hide-input", "remove-input"} & set(tags) or solution is not None:
                meta["jupyter"] = {"source_hidden": True}
            figure = cell.metadata.get("mystnb", {}).get("figure")
            if figure:
                meta["ntk_book"] = {"figure": figure.get("name", "")}
            cells.append(nbformat.v4.new_code_cell(cell.source, metadata=meta))
            if figure:
                cells.append(nbformat.v4.new_markdown_cell(md.figure_caption(figure.get("name"), str(figure.get("caption", "")))))
        # raw cells: none in the book
    if not cells or cells[0].cell_type != "markdown":
        raise ConversionError(f"{doc}: the first cell is not the title")
    cells[0].source = _insert_after_title(cells[0].source, md.about(budget_seconds))
    install = nbformat.v4.new_code_cell(md.install_cell(), metadata={"tags": ["install"]})
    cells.insert(1, install)
    for i, cell in enumerate(cells):
        cell.id = f"c{i:03d}"
        if cell.cell_type == "markdown":
            _assert_clean(cell.source, doc)
    out = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "ntk_book": {"source": doc + ".md", "generated_by": "ntklib.notebooks", "seed": data["seed"]},
    })
    out.nbformat, out.nbformat_minor = 4, 5
    return out


def chapter_code_cells(source: str) -> list[str]:
    """The code cells a chapter's student notebook must have, from the chapter's MyST source."""
    import jupytext

    return [c.source for c in jupytext.reads(source, fmt="myst").cells
            if c.cell_type == "code" and "remove-cell" not in c.metadata.get("tags", [])]


def student_code_cells(nb: Any) -> list[str]:
    """The code cells of a student notebook that come from its chapter (not the install cell)."""
    return [c.source for c in nb.cells if c.cell_type == "code" and "install" not in c.metadata.get("tags", [])]


def notebook_json(nb: Any) -> str:
    """The notebook as the text written to disk (stable: sorted keys, one-space indent)."""
    import nbformat

    return nbformat.writes(nb, version=4) + "\n"


_SOLUTION_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}(?P<arg>[^\n]*)\n(?P<opts>(?::[^\n]*\n)*)\1\s*$\n?", re.M)
_SOLUTION_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}[^\n]*\n\1\s*$\n?", re.M)
_ROLE = re.compile(r"\{(?P<name>[a-z][\w:-]*)\}`(?P<text>[^`]+)`")
_TARGET = re.compile(r"^\((?P<label>[^()\s]+)\)=\s*$")
_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}(?P<arg>[^\n]*)$")
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
_LEFTOVER = [re.compile(p) for p in (r"\{glue", r"\{prf:", r"^:label:", r"\{term\}", r"\{footcite", r"```\{",
                                      r"\{[a-z][\w:-]*\}`", r"^\([^()\s]+\)=\s*$")]


def _assert_clean(text: str, doc: str) -> None:
    for pattern in _LEFTOVER:
        m = pattern.search(_strip_code(text))
        if m:
            raise ConversionError(f"{doc}: raw MyST left in a Markdown cell: {m.group(0)!r} in {text[:200]!r}")


def _strip_code(text: str) -> str:
    """The text with fenced code blocks and code spans blanked (they may show MyST on purpose)."""
    text = re.sub(r"^(`{3,})(?!\{)[^\n]*\n.*?^\1\s*$", "", text, flags=re.M | re.S)
    return re.sub(r"(?<![`{}])(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", text)


def _insert_after_title(text: str, note: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("# ") or line.startswith("# <a"):
            return "\n".join(lines[:i + 1] + ["", note] + lines[i + 1:])
    return note + "\n\n" + text


class _Markdown:
    """Rewrites one chapter's MyST Markdown as CommonMark + TeX."""

    def __init__(self, doc: str, data: dict[str, Any]):
        self.doc, self.data = doc, data
        self.glue = data["glue"].get(doc, {})
        self.cited: list[str] = []
        names = sorted(data["macros"], key=len, reverse=True)
        self.macro_re = re.compile(r"\\(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z])") if names else None

    # -- blocks ------------------------------------------------------------------------------

    def convert(self, text: str) -> str:
        """One Markdown cell (or directive body), converted."""
        out: list[str] = []
        lines = text.split("\n")
        i = 0
        pending_anchor: str | None = None
        while i < len(lines):
            line = lines[i]
            target = _TARGET.match(line)
            if target:
                pending_anchor = target["label"]
                i += 1
                continue
            opening = _FENCE_OPEN.match(line)
            if opening:
                end = self._closing(lines, i, opening["fence"])
                block = self._directive(opening["name"], opening["arg"].strip(), lines[i + 1:end])
                if pending_anchor:
                    block = f'<a id="{pending_anchor}"></a>\n\n' + block
                    pending_anchor = None
                out.append(block)
                i = end + 1
                continue
            fence = re.match(r"^ {0,3}(`{3,}|~{3,})", line)
            if fence:               # a plain code block: copied as it is
                end = self._closing(lines, i, fence.group(1))
                out.extend(lines[i:end + 1])
                i = end + 1
                continue
            if line.strip().startswith("$$"):
                end, block = self._display_math(lines, i)
                out.append(block)
                i = end + 1
                continue
            if pending_anchor and line.strip():
                heading = re.match(r"^(#{1,6}) (.*)$", line)
                if heading:
                    line = f'{heading.group(1)} <a id="{pending_anchor}"></a>{heading.group(2)}'
                else:
                    out.append(f'<a id="{pending_anchor}"></a>')
                    out.append("")
                pending_anchor = None
            out.append(self.inline(line))
            i += 1
        if pending_anchor:
            out.append(f'<a id="{pending_anchor}"></a>')
        return self._expand_in_math("\n".join(out)).strip("\n")

    @staticmethod
    def _closing(lines: list[str], start: int, fence: str) -> int:
        char, n = fence[0], len(fence)
        for j in range(start + 1, len(lines)):
            stripped = lines[j].strip()
            if stripped and set(stripped) == {char} and len(stripped) >= n:
                return j
        raise ConversionError(f"unclosed fence {fence} opened at {lines[start]!r}")

    def _display_math(self, lines: list[str], i: int) -> tuple[int, str]:
        """``$$ ... $$`` (possibly ``$$ (label)``): the block, with ``\\tag`` and an anchor if labelled."""
        first = lines[i].strip()
        if first != "$$" and first.endswith("$$") and len(first) > 4:     # one-line display
            body, end, tail = first[2:-2], i, ""
        else:
            body_lines = [first[2:]] if first != "$$" else []
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith("$$"):
                body_lines.append(lines[end])
                end += 1
            if end == len(lines):
                raise ConversionError(f"{self.doc}: unclosed $$ at {first!r}")
            body, tail = "\n".join(body_lines), lines[end].strip()[2:].strip()
        label = re.fullmatch(r"\((?P<label>[^()]+)\)", tail)
        if tail and not label:
            raise ConversionError(f"{self.doc}: unexpected text after $$: {tail!r}")
        if not label:
            return end, f"$$\n{body.strip(chr(10))}\n$$"
        name = label["label"]
        if name not in self.data["equations"]:
            raise ConversionError(f"{self.doc}: equation {name!r} has no number")
        number = self.data["equations"][name][1]
        return end, f'<a id="{name}"></a>\n\n$$\n{body.strip(chr(10))}\n\\tag{{{number}}}\n$$'

    def _directive(self, name: str, arg: str, body_lines: list[str]) -> str:
        options, body = _options(body_lines)
        body_md = self.convert("\n".join(body)) if body else ""
        if name.startswith("prf:") and name != "prf:ref":
            kind = name.split(":", 1)[1]
            if kind == "proof":
                title = f" ({self.inline(arg)})" if arg else ""
                return f"*Proof{title}.* {body_md}\n\n<p align=\"right\">∎</p>" if not body_md.startswith(("$$", "<a", ">")) \
                    else f"*Proof{title}.*\n\n{body_md}\n\n<p align=\"right\">∎</p>"
            label = options.get("label", "")
            number = self._number(label, kind) if label and "nonumber" not in options else ""
            head = f"{kind.capitalize()} {number}".strip()
            title = f" ({self.inline(arg)})" if arg else ""
            anchor = f'<a id="{label}"></a>' if label else ""
            return _quote(f"{anchor}**{head}**{title}.\n\n{body_md}")
        if name == "exercise":
            label = options.get("label", "")
            number = self._number(label, "exercise") if label else ""
            title = f" ({self.inline(arg)})" if arg else ""
            anchor = f'<a id="{label}"></a>' if label else ""
            return _quote(f"{anchor}**Exercise {number}**{title}.\n\n{body_md}")
        if name == "solution":
            return f"<details>\n<summary><b>{self.solution_title(arg)}</b></summary>\n\n{body_md}\n\n</details>"
        if name == "margin":
            title = f"**{self.inline(arg)}.** " if arg else ""
            return _quote(f"{title}*(Margin note)* {body_md}" if title else f"*(Margin note)* {body_md}")
        if name in ("note", "important", "warning", "tip", "seealso", "admonition"):
            title = self.inline(arg) if arg else name.capitalize()
            return _quote(f"**{title}.** {body_md}")
        if name == "footbibliography":
            return self.references()
        raise ConversionError(f"{self.doc}: directive {{{name}}} has no notebook form")

    def _number(self, label: str, kind: str) -> str:
        entry = self.data["numbers"].get(label)
        if entry is None:
            raise ConversionError(f"{self.doc}: {kind} {label!r} has no number in the build")
        return entry[2]

    def solution_title(self, target: str) -> str:
        return f"Solution to Exercise {self._number(target, 'exercise')}"

    def figure_caption(self, name: str | None, caption: str) -> str:
        """The caption cell under a figure cell: anchor, "Fig. 2.1", the caption."""
        if not name:
            return self.convert(caption)
        number = self._number(name, "figure")
        prefix = self.data["numfig_format"].get("figure", "Fig. %s") % number
        return f'<a id="{name}"></a>**{prefix}.** {self.convert(caption)}'

    def references(self) -> str:
        if not self.cited:
            return ""
        return "\n".join(f'- <a id="ref-{key}"></a>{self.data["bib"][key][2]}' for key in self.cited)

    # -- inline ------------------------------------------------------------------------------

    def inline(self, text: str) -> str:
        return _ROLE.sub(lambda m: self._role(m["name"], m["text"]), text)

    def _role(self, name: str, text: str) -> str:
        explicit = _EXPLICIT.match(text)
        shown, target = (explicit["text"], explicit["target"]) if explicit else (None, text)
        if name == "glue:text":
            return self._glue(target if not explicit else text)
        if name == "prf:ref":
            doc, kind, number = self._where_numbered(target)
            return self._link(doc, target, shown or f"{kind.capitalize()} {number}")
        if name == "numref":
            doc, kind, number = self._where_numbered(target)
            fmt = shown or self.data["numfig_format"].get(kind, "%s")
            return self._link(doc, target, fmt.replace("{number}", number).replace("%s", number))
        if name == "eq":
            if target not in self.data["equations"]:
                raise ConversionError(f"{self.doc}: no equation {target!r}")
            doc, number = self.data["equations"][target]
            return self._link(doc, target, self.data["eqref_format"].replace("{number}", number),
                              site_anchor="equation-" + target)
        if name == "ref":
            if target not in self.data["labels"]:
                raise ConversionError(f"{self.doc}: no label {target!r}")
            doc, anchor, title = self.data["labels"][target]
            return self._link(doc, anchor, shown or title)
        if name == "doc":
            doc = str((Path(self.doc).parent / target).as_posix()) if not target.startswith("/") else target[1:]
            doc = _normpath(doc)
            return self._link(doc, "", shown or self.data["titles"].get(doc, doc))
        if name == "term":
            entry = self.data["terms"].get(target) or self.data["terms"].get(target.lower())
            if entry is None:
                raise ConversionError(f"{self.doc}: no glossary term {target!r}")
            return f"[{shown or target}]({self.data['site']}{entry[0]}.html#{entry[1]})"
        if name in ("func", "meth", "class", "mod", "data", "attr", "obj", "exc"):
            return self._python(name, shown, target)
        if name in ("footcite:p", "footcite:t", "cite:p", "cite:t"):
            return self._cite(name.endswith(":t"), target)
        if name == "math":
            return f"${text}$"
        raise ConversionError(f"{self.doc}: role {{{name}}} has no notebook form")

    def _glue(self, spec: str) -> str:
        key, _, fmt = spec.partition(":")
        if key not in self.glue:
            raise ConversionError(f"{self.doc}: glue key {key!r} not in the build's glue data")
        if key.startswith(LIVE_PREFIX):
            return "*[measured when you run the cell above]*"
        from myst_nb.core.variables import format_plain_text

        return format_plain_text(self.glue[key], fmt or "s")

    def _where_numbered(self, label: str) -> tuple[str, str, str]:
        entry = self.data["numbers"].get(label)
        if entry is None:
            raise ConversionError(f"{self.doc}: {label!r} has no number in the build")
        return entry[0], entry[1], entry[2]

    def _link(self, doc: str, anchor: str, text: str, site_anchor: str | None = None) -> str:
        """A link to ``anchor`` in ``doc``: same notebook, another notebook, or the site."""
        fragment = f"#{anchor}" if anchor else ""
        if doc == self.doc:
            return f"[{text}]({fragment})" if fragment else text
        if doc in self.data["notebooks"]:
            return f"[{text}]({_relative(self.doc, doc)}.ipynb{fragment})"
        site_fragment = f"#{site_anchor or anchor}" if (site_anchor or anchor) else ""
        return f"[{text}]({self.data['site']}{doc}.html{site_fragment})"

    def _python(self, role: str, shown: str | None, target: str) -> str:
        short = target.startswith("~")
        name = target.lstrip("~.")
        objects = self.data["python"]
        entry = objects.get(name)
        if entry is None:
            matches = [k for k in objects if k.endswith("." + name.split(".", 1)[-1]) and k.split(".")[-1] == name.split(".")[-1]]
            entry = objects[matches[0]] if len(matches) == 1 else None
        if entry is None:
            raise ConversionError(f"{self.doc}: no Python object {target!r} in the build")
        text = shown or (name.split(".")[-1] if short else name)
        if not shown and role in ("func", "meth"):
            text += "()"
        return f"[`{text}`]({self.data['site']}{entry[0]}.html#{entry[1]})"

    def _cite(self, textual: bool, keys: str) -> str:
        parts = []
        for key in (k.strip() for k in keys.split(",")):
            if key not in self.data["bib"]:
                raise ConversionError(f"{self.doc}: no bibliography entry {key!r}")
            if key not in self.cited:
                self.cited.append(key)
            who, year, _ = self.data["bib"][key]
            parts.append(f"[{who} ({year})](#ref-{key})" if textual else f"[{who}, {year}](#ref-{key})")
        return "; ".join(parts) if textual else "(" + "; ".join(parts) + ")"

    # -- TeX macros --------------------------------------------------------------------------

    def _expand_in_math(self, text: str) -> str:
        if self.macro_re is None:
            return text
        return expand_macros(text, self.data["macros"], self.macro_re)

    # -- the notebook's own cells ------------------------------------------------------------

    def about(self, budget_seconds: float | None) -> str:
        site = self.data["site"]
        page = f"{site}{self.doc}.html"
        run = (f" Running all cells takes at most about {budget_seconds:.0f} s."
               if budget_seconds else "")
        return "\n".join([
            "> **About this notebook.** It is a chapter of the book "
            f"[*Training near initialization: the NTK, executably*]({page}), generated from its source "
            f"`{self.doc}.md` by the book's build (`make notebooks`).",
            ">",
            f"> - **Numbers in the text** are those of the book's build at the default seed "
            f"{self.data['seed']}; the code cells recompute them (and `NTKLIB_SEED=<n>` redraws everything).",
            f"> - **Figures** are drawn by the code cells: run the notebook (*Run ▸ Run All Cells*).{run}",
            "> - Statements, proofs, exercises and margin notes are set as in the book; solutions are folded "
            "(click ▸ to open them). Links to other chapters open their notebooks; links to the glossary, "
            "the errata and the API open the book's website.",
        ])

    def install_cell(self) -> str:
        url, branch = self.data["repository"]
        return "\n".join([
            "# Colab, or any Jupyter without the book's package: install it (Binder has it already).",
            "import importlib.util",
            "",
            'if importlib.util.find_spec("ntklib") is None:',
            f'    %pip install --quiet "ntklib[book] @ git+{url}@{branch}"',
        ])


def _options(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    """A directive's ``:key: value`` options (or ``---`` YAML front) and the rest of its body."""
    options: dict[str, str] = {}
    i = 0
    if lines and lines[0].strip() == "---":
        import yaml

        end = next(j for j in range(1, len(lines)) if lines[j].strip() == "---")
        options = {k: str(v) for k, v in (yaml.safe_load("\n".join(lines[1:end])) or {}).items()}
        i = end + 1
    else:
        while i < len(lines) and re.match(r"^:[\w-]+:", lines[i]):
            key, _, value = lines[i][1:].partition(":")
            options[key] = value.strip()
            i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return options, lines[i:]


def _quote(text: str) -> str:
    """A block quote of ``text``; each math span is put on one line first, so no ``>`` enters TeX."""
    text = _one_line_math(text.strip("\n"))
    return "\n".join(("> " + line) if line.strip() else ">" for line in text.split("\n"))


_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?(?:\n[^$\n]+?)*\$", re.S)


def _one_line_math(text: str) -> str:
    def join(m: re.Match) -> str:
        s = m.group(0)
        if s.startswith("$$"):
            inner = " ".join(part.strip() for part in s[2:-2].split("\n") if part.strip())
            return f"$${inner}$$"
        return " ".join(part.strip() for part in s.split("\n"))

    return _MATH.sub(join, text)


def expand_macros(text: str, macros: dict[str, list], pattern: re.Pattern | None = None) -> str:
    """Replace every use of the book's TeX macros by its definition.

    ``macros`` maps a name (without backslash) to ``[body, nargs]``, as in ``_config.yml``'s
    ``mathjax3_config``; arguments are braced groups (or single tokens), substituted for
    ``#1 … #n``; arguments are expanded too.  Code spans and fenced code are left alone.
    """
    if pattern is None:
        names = sorted(macros, key=len, reverse=True)
        pattern = re.compile(r"\\(" + "|".join(map(re.escape, names)) + r")(?![A-Za-z])")
    pieces = re.split(r"(^`{3,}[^\n]*\n.*?^`{3,}\s*$|`[^`\n]+`)", text, flags=re.M | re.S)
    return "".join(p if i % 2 else _expand(p, macros, pattern) for i, p in enumerate(pieces))


def _expand(text: str, macros: dict[str, list], pattern: re.Pattern) -> str:
    out, pos = [], 0
    while True:
        m = pattern.search(text, pos)
        if not m:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:m.start()])
        body, nargs = macros[m.group(1)]
        j, args = m.end(), []
        for _ in range(nargs):
            while j < len(text) and text[j] == " ":
                j += 1
            if j < len(text) and text[j] == "{":
                depth, k = 0, j
                while k < len(text):
                    depth += {"{": 1, "}": -1}.get(text[k], 0) if text[k - 1:k] != "\\" or k == j else 0
                    if depth == 0:
                        break
                    k += 1
                args.append(text[j + 1:k])
                j = k + 1
            else:
                args.append(text[j:j + 1])
                j += 1
        for n, arg in enumerate(args, 1):
            body = body.replace(f"#{n}", _expand(arg, macros, pattern))
        if re.search(r"\\[A-Za-z]+$", body) and text[j:j + 1].isalpha():
            body += " "            # \norm{x}y: \right\rVert y, not the undefined \rVerty
        out.append(body)
        pos = j


def _relative(fromdoc: str, todoc: str) -> str:
    import os.path

    return os.path.relpath(todoc, os.path.dirname(fromdoc) or ".").replace("\\", "/")


def _normpath(doc: str) -> str:
    import posixpath

    return posixpath.normpath(doc)


# ---------------------------------------------------------------------------------------------
# Sphinx


def write_notebooks(data: dict[str, Any], root: Path, out: Path, budgets: dict[str, float] | None = None,
                    warn: Callable[[str, str], None] | None = None) -> list[Path]:
    """Convert every chapter of ``data["notebooks"]`` (sources under ``root``) into ``out/<name>.ipynb``.

    A notebook whose text is unchanged is not rewritten.  A chapter that fails to convert is
    reported through ``warn(doc, message)`` (default: raise).  Returns the paths written or kept.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in data["notebooks"]:
        source = (root / (doc + ".md")).read_text(encoding="utf-8")
        try:
            nb = convert(source, doc, data, budget_seconds=(budgets or {}).get(Path(doc).name))
        except ConversionError as exc:
            if warn is None:
                raise
            warn(doc, f"student notebook not written: {exc}")
            continue
        text = notebook_json(nb)
        target = out / (Path(doc).name + ".ipynb")
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def _build_finished(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    data = resolve_data(app)
    out = Path(app.outdir).parent / OUT_DIR
    written = write_notebooks(data, Path(app.srcdir), out, app.config.ntklib_notebook_budgets,
                              warn=lambda doc, message: logger.warning(message, location=doc))
    (out / RESOLVED).write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    for path in written:       # the page's download button offers _sources/<doc>.ipynb: the student notebook
        doc = next(d for d in data["notebooks"] if Path(d).name == path.stem)
        download = Path(app.outdir) / "_sources" / (doc + ".ipynb")
        download.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, download)


def setup(app: Any) -> dict[str, Any]:
    # seconds a run of all cells may take, per chapter (file stem); stated in the notebook's first
    # cell and enforced by the Binder check (tests/binder_check.py)
    app.add_config_value("ntklib_notebook_budgets", {}, "env")
    app.connect("build-finished", _build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    """``python -m ntklib.notebooks``: copy the build's notebooks beside the sources (``make notebooks``)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--build", default="_build", help="the book build (default: _build)")
    parser.add_argument("--root", default=".", help="the book's root (default: .)")
    parser.add_argument("--regenerate", action="store_true",
                        help=f"convert again from the sources and the build's {RESOLVED} (no Sphinx run)")
    args = parser.parse_args(argv)
    build, root = Path(args.build), Path(args.root)
    resolved = build / OUT_DIR / RESOLVED
    if not resolved.exists():
        parser.error(f"no {resolved}: build the book first (make book)")
    data = json.loads(resolved.read_text(encoding="utf-8"))
    if args.regenerate:
        write_notebooks(data, root, build / OUT_DIR, data.get("budgets"))
    for doc in data["notebooks"]:
        source = build / OUT_DIR / (Path(doc).name + ".ipynb")
        target = root / (doc + ".ipynb")
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
            print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
