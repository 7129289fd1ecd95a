"""pytest plugin: run the book's MyST Markdown notebooks through nbval, then audit what they verified.

nbval collects only ``.ipynb`` files and reads them with ``nbformat.read``.  The chapters are
MyST Markdown notebooks (jupytext front matter with a kernelspec), so this plugin collects
``chapters/*.md`` that declare a kernel and hands nbval the notebook that jupytext reads from
them.  No ``.ipynb`` copy is written.  Loaded by ``-p tests.nbval_myst`` (see pyproject.toml).

Two items follow each chapter's cells:

``mutations``
    a cell run in the chapter's kernel, :func:`ntklib.registry.verify_chapter`: every check the
    chapter made is registered and rejects its registered false statement;
``determinism``
    the numbers the chapter glued and the records of its checks, from this run, must equal those
    of the book build in ``_build`` (same seed, same numbers, bit for bit).  Glued names that start
    with ``live_`` are wall-clock measurements (the appendix's live benchmark) and are exempt.  Skipped when there is
    no build of the same sources (``make test`` builds first, so under it the item always runs).

The kernel of every chapter imports the ntklib of this checkout (the directory above ``tests/``):
the harness puts the checkout first on the kernel's ``PYTHONPATH`` and sets
``NTKLIB_EXPECTED_ROOT``, so that importing ntklib from anywhere else (a virtual environment's
editable install of another clone) raises ImportError; the audit cell asserts it once more.

Each chapter's checks are recorded as JSON lines in ``--ntklib-records`` (default: a temporary
directory), ``<chapter>.jsonl``; the seed sweep reads them from there.
"""

from __future__ import annotations

import json
import os
import tempfile
import types
from pathlib import Path
from unittest import mock

import jupytext
import nbformat
import nbval.plugin
import pytest

from ntklib import assert_checkout, sphinxext
from ntklib._checkout import checkout_environment
from ntklib.checks import RECORD_FILE_ENV
from ntklib.seeding import base_seed

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
LIVE_PREFIX = "live_"          # glued wall-clock timings: not reproducible, not compared


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--ntklib-records", default=None,
                     help="directory for the chapters' check records (<chapter>.jsonl); default: a temporary one")
    parser.addoption("--ntklib-build", default=str(BUILD),
                     help="the book build to compare glued numbers and check records with (default: _build)")


def pytest_configure(config: pytest.Config) -> None:
    assert_checkout(ROOT)           # this process, too, tests the checkout the harness belongs to
    folder = config.getoption("--ntklib-records", None) or tempfile.mkdtemp(prefix="ntklib-records-")
    config._ntklib_records = Path(folder)
    config._ntklib_records.mkdir(parents=True, exist_ok=True)


def is_notebook(path: Path) -> bool:
    """A ``.md`` file under ``chapters/`` whose jupytext metadata declares a kernel."""
    if path.suffix != ".md" or path.parent.name != "chapters":
        return False
    return "kernelspec" in jupytext.read(path).metadata


def docname(path: Path, root: Path = ROOT) -> str:
    """The chapter's Sphinx document name relative to ``root``, e.g. ``chapters/02-taylor``."""
    return path.resolve().relative_to(root.resolve()).with_suffix("").as_posix()


def _audit_cell(doc: str) -> nbformat.NotebookNode:
    source = (
        "import ntklib.registry\n"
        f"ntklib.assert_checkout({str(ROOT)!r})\n"
        f"_mutations = ntklib.registry.verify_chapter({doc!r})\n"
        "print(f'{len(_mutations)} checks; each rejects its registered false statement')"
    )
    return nbformat.v4.new_code_cell(source, metadata={"ntklib": "mutations"})


class MystNotebook(nbval.plugin.IPyNbFile):
    """nbval's notebook collector, reading the file through jupytext, plus the audit items."""

    def collect(self):
        doc = docname(Path(self.fspath), self.config.rootpath)

        def reader(path: str, as_version: int = 4) -> nbformat.NotebookNode:
            nb = jupytext.read(path, as_version=as_version)
            nb.cells.append(_audit_cell(doc))
            return nb

        proxy = types.SimpleNamespace(**{k: getattr(nbformat, k) for k in dir(nbformat) if not k.startswith("__")})
        proxy.read = reader
        self.glued: dict[str, str] = {}
        with mock.patch.object(nbval.plugin, "nbformat", proxy):
            yield from super().collect()
        yield Determinism.from_parent(self, name="determinism")

    @property
    def record_file(self) -> Path:
        return self.config._ntklib_records / (Path(self.fspath).stem + ".jsonl")

    def setup(self) -> None:
        # the kernel inherits the environment at start: point its record file at this chapter's, and
        # its imports at this checkout
        self.record_file.unlink(missing_ok=True)
        env = {RECORD_FILE_ENV: str(self.record_file), **checkout_environment(ROOT)}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            super().setup()
        finally:
            for k, old in saved.items():
                if old is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = old


def glued_numbers(outputs) -> dict[str, str]:
    """Name → text/plain of every ``glue`` output among notebook outputs."""
    found = {}
    for out in outputs or []:
        meta = out.get("metadata", {}).get("scrapbook") if isinstance(out, dict) else None
        if meta:
            prefix = meta.get("mime_prefix", "")
            text = out.get("data", {}).get(prefix + "text/plain")
            if text is not None:
                found[meta["name"]] = text
    return found


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    if isinstance(item.parent, MystNotebook) and isinstance(item, nbval.plugin.IPyNbCell):
        item.parent.glued.update(glued_numbers(item.test_outputs))


class Determinism(pytest.Item):
    """This run's glued numbers and check records equal the book build's."""

    def runtest(self) -> None:
        nb: MystNotebook = self.parent
        doc = docname(Path(nb.fspath), self.config.rootpath)
        build = Path(self.config.getoption("--ntklib-build"))
        built = sphinxext.load_build_records(build / "html")
        if built is None or doc not in built["chapters"]:
            pytest.skip("no book build to compare with (run `make book` first)")
        entry = built["chapters"][doc]
        extras = built.get("extra_dependencies", {})
        if (entry["source"] != sphinxext.file_digest(Path(nb.fspath)) or built["ntklib"] != sphinxext.source_fingerprint()
                or sphinxext.file_digests(self.config.rootpath, extras) != extras):
            pytest.skip("the book build is older than the sources (run `make book` first)")
        if entry["seed"] != base_seed():
            pytest.skip(f"the book was built with seed {entry['seed']}, this run uses {base_seed()}")
        glue_file = build / "jupyter_execute" / (doc + ".glue.json")
        built_glue = {k: v["data"]["text/plain"] for k, v in json.loads(glue_file.read_text()).items()
                      if "text/plain" in v.get("data", {})} if glue_file.exists() else {}
        differ = sorted(k for k in set(built_glue) | set(nb.glued)
                        if built_glue.get(k) != nb.glued.get(k) and not k.startswith(LIVE_PREFIX))
        assert not differ, "glued numbers differ from the build: " + ", ".join(
            f"{k}: build {built_glue.get(k)} vs now {nb.glued.get(k)}" for k in differ[:10])
        records = [json.loads(line) for line in nb.record_file.read_text().splitlines()] if nb.record_file.exists() else []
        assert records == entry["records"], "check records differ from the build's"
        assert sphinxext.dashboard_rows({doc: records}) == sphinxext.dashboard_rows({doc: entry["records"]})

    def reportinfo(self):
        return self.path, 0, f"{self.parent.name}::determinism"


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if is_notebook(file_path):
        return MystNotebook.from_parent(parent, path=file_path)
    return None
