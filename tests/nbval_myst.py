"""pytest plugin: run the book's MyST Markdown notebooks through nbval.

nbval collects only ``.ipynb`` files and reads them with ``nbformat.read``.  The chapters are
MyST Markdown notebooks (jupytext front matter with a kernelspec), so this plugin collects
``chapters/*.md`` that declare a kernel and hands nbval the notebook that jupytext reads from
them.  No ``.ipynb`` copy is written.  Loaded by ``-p tests.nbval_myst`` (see pyproject.toml).
"""

from __future__ import annotations

import types
from pathlib import Path
from unittest import mock

import jupytext
import nbformat
import nbval.plugin
import pytest


def is_notebook(path: Path) -> bool:
    """A ``.md`` file under ``chapters/`` whose jupytext metadata declares a kernel."""
    if path.suffix != ".md" or path.parent.name != "chapters":
        return False
    return "kernelspec" in jupytext.read(path).metadata


def _reader(path: str, as_version: int = 4) -> nbformat.NotebookNode:
    return jupytext.read(path, as_version=as_version)


class MystNotebook(nbval.plugin.IPyNbFile):
    """nbval's notebook collector, reading the file through jupytext."""

    def collect(self):
        proxy = types.SimpleNamespace(**{k: getattr(nbformat, k) for k in dir(nbformat) if not k.startswith("__")})
        proxy.read = _reader
        with mock.patch.object(nbval.plugin, "nbformat", proxy):
            yield from super().collect()


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if is_notebook(file_path):
        return MystNotebook.from_parent(parent, path=file_path)
    return None
