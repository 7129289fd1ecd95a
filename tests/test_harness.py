"""The chapter harness fails the suite when a verification cell fails or a check is unregistered.

A throw-away chapter is run through the plugin in a separate pytest process.  It is named like
the appendix (``chapters/a1-computing-fast``), whose registry entry is one identity check
labelled ``ch-fast``, so that the registry audit appended to every chapter applies to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

NOTEBOOK = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter

```{{code-cell}} ipython3
import numpy as np
import ntklib
from myst_nb import glue
report = ntklib.check_identity("{label}", np.array([{computed}]), np.array([1.0]), np.array([1e-12]), statistic="demo")
glue("demo_value", float(report.measured), display=False)
```
"""


def _run(tmp_path: Path, label: str, computed: float, *extra: str) -> subprocess.CompletedProcess[str]:
    chapters = tmp_path / "chapters"
    chapters.mkdir(exist_ok=True)
    (chapters / "a1-computing-fast.md").write_text(NOTEBOOK.format(label=label, computed=computed))
    (chapters / "plain.md").write_text("# Not a notebook\n")          # no kernelspec: not collected
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.nbval_myst", "--nbval-lax", "--nbval-current-env",
           "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), str(chapters), "-q", "-rs",
           "--ntklib-records", str(tmp_path / "records"), "--ntklib-build", str(tmp_path / "_build"), *extra]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("label", "computed", "code", "expected"),
    [
        ("ch-fast", 1.5, 1, "ch-fast FAILED"),                             # the verification fails
        ("lem-new", 1.0, 1, "lem-new [identity]: not registered"),         # passes, but has no registered mutation
    ],
)
def test_harness_decides_the_outcome(tmp_path: Path, label: str, computed: float, code: int, expected: str) -> None:
    result = _run(tmp_path, label, computed)
    assert result.returncode == code, result.stdout + result.stderr
    assert expected in result.stdout, result.stdout
    assert (tmp_path / "records" / "a1-computing-fast.jsonl").exists()


def _fake_build(tmp_path: Path, records: list, glued: dict, extra: dict | None = None) -> None:
    """What `make book` leaves for the chapter: its records, glued numbers and data-file digests."""
    from ntklib import sphinxext

    html = tmp_path / "_build" / "html" / "_static"
    html.mkdir(parents=True, exist_ok=True)
    entry = {"source": sphinxext.file_digest(tmp_path / "chapters" / "a1-computing-fast.md"), "seed": 2024,
             "records": records}
    (html / "verifications.json").write_text(json.dumps(
        {"ntklib": sphinxext.source_fingerprint(), "extra_dependencies": extra or {},
         "chapters": {"chapters/a1-computing-fast": entry}}))
    glue = tmp_path / "_build" / "jupyter_execute" / "chapters"
    glue.mkdir(parents=True, exist_ok=True)
    (glue / "a1-computing-fast.glue.json").write_text(json.dumps(
        {k: {"data": {"text/plain": v}} for k, v in glued.items()}))


def test_determinism_compares_with_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NTKLIB_SEED", raising=False)
    first = _run(tmp_path, "ch-fast", 1.0)            # cell and audit pass; no build to compare with
    assert first.returncode == 0 and "2 passed, 1 skipped" in first.stdout, first.stdout
    records = [json.loads(x) for x in (tmp_path / "records" / "a1-computing-fast.jsonl").read_text().splitlines()]
    _fake_build(tmp_path, records, {"demo_value": "0.0"})
    same = _run(tmp_path, "ch-fast", 1.0)
    assert same.returncode == 0 and "3 passed" in same.stdout, same.stdout      # the determinism item ran
    _fake_build(tmp_path, records, {"demo_value": "1e-300"})
    glued = _run(tmp_path, "ch-fast", 1.0)
    assert glued.returncode == 1 and "glued numbers differ from the build: demo_value" in glued.stdout
    _fake_build(tmp_path, [dict(records[0], measured=1e-300)], {"demo_value": "0.0"})
    recorded = _run(tmp_path, "ch-fast", 1.0)
    assert recorded.returncode == 1 and "check records differ" in recorded.stdout
    # a data file the chapter reads changed after the build: the build is stale, nothing compared
    from ntklib import sphinxext

    (tmp_path / "results.json").write_text("{}")
    _fake_build(tmp_path, records, {"demo_value": "1e-300"}, extra={"results.json": "0" * 64})
    stale = _run(tmp_path, "ch-fast", 1.0)
    assert stale.returncode == 0 and "the book build is older than the sources" in stale.stdout, stale.stdout
    _fake_build(tmp_path, records, {"demo_value": "1e-300"},
                extra={"results.json": sphinxext.file_digest(tmp_path / "results.json")})
    current = _run(tmp_path, "ch-fast", 1.0)
    assert current.returncode == 1 and "glued numbers differ from the build: demo_value" in current.stdout



CLONE_CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter of the second clone

```{{code-cell}} ipython3
import pathlib
import numpy as np
import ntklib
pathlib.Path({out!r}).write_text(ntklib.__file__ + "\\n" + ntklib.CHECKOUT_MARKER)
ntklib.check_identity("ch-fast", np.array([1.0]), np.array([1.0]), np.array([1e-12]), statistic="demo")
```
"""


def _second_clone(tmp_path: Path) -> Path:
    """A copy of this checkout's library and harness whose ntklib carries a marker constant, and a chapter
    that writes down which ntklib its kernel imported."""
    import shutil

    clone = tmp_path / "clone"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("ntklib", "tests"):
        shutil.copytree(REPO / part, clone / part, ignore=ignore)
    init = clone / "ntklib" / "__init__.py"
    init.write_text(init.read_text() + '\nCHECKOUT_MARKER = "second clone"\n')
    (clone / "chapters").mkdir()
    (clone / "chapters" / "a1-computing-fast.md").write_text(CLONE_CHAPTER.format(out=str(tmp_path / "imported.txt")))
    (clone / "pytest.ini").write_text("[pytest]\n")
    return clone


def test_chapters_import_the_checkout_under_test(tmp_path: Path) -> None:
    """Run from a second clone, the harness's kernels import that clone's (modified) ntklib.

    This environment's ntklib is an install of another checkout (this one): without the harness's
    pinning, a kernel started in the clone's ``chapters/`` imports that one (shown first), and the
    clone's chapters would test unchanged code.
    """
    clone = _second_clone(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NTKLIB_EXPECTED_ROOT")}
    plain = subprocess.run([sys.executable, "-c", "import ntklib; print(ntklib.__file__)"], cwd=clone / "chapters",
                           env=env, capture_output=True, text=True, timeout=120)
    if plain.returncode == 0:
        assert not Path(plain.stdout.strip()).resolve().is_relative_to(clone.resolve()), plain.stdout
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.nbval_myst", "--nbval-lax", "--nbval-current-env",
           "-c", str(clone / "pytest.ini"), "--rootdir", str(clone), str(clone / "chapters"), "-q",
           "--ntklib-records", str(tmp_path / "records"), "--ntklib-build", str(tmp_path / "_build")]
    result = subprocess.run(cmd, cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    path, marker = (tmp_path / "imported.txt").read_text().splitlines()
    assert Path(path).resolve().is_relative_to(clone.resolve()) and marker == "second clone", (path, marker)


def test_ntklib_refuses_another_checkout(tmp_path: Path) -> None:
    """With NTKLIB_EXPECTED_ROOT set, importing ntklib from outside that root fails (ImportError)."""
    import ntklib

    env = {**os.environ, "NTKLIB_EXPECTED_ROOT": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", "import ntklib"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1 and "ImportError: ntklib is imported from" in result.stderr, result.stderr
    assert ntklib.assert_checkout(REPO) == REPO.resolve() / "ntklib"
    for elsewhere in (tmp_path, REPO / "tests"):           # another directory, or a sibling of ntklib
        with pytest.raises(ImportError, match="not from the checkout under test"):
            ntklib.assert_checkout(elsewhere)
    with pytest.raises(ValueError, match="no such directory"):
        ntklib.assert_checkout(tmp_path / "absent")
    with pytest.raises(TypeError, match="root=3"):
        ntklib.assert_checkout(3)
