"""The chapter harness fails the suite when a verification cell fails, and passes otherwise."""

from __future__ import annotations

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
ntklib.check("lem-demo", np.array([{empirical}]), np.array([1.0]), statistic="demo")
```
"""


def _run(tmp_path: Path, empirical: float) -> subprocess.CompletedProcess[str]:
    chapters = tmp_path / "chapters"
    chapters.mkdir()
    (chapters / "demo.md").write_text(NOTEBOOK.format(empirical=empirical))
    (chapters / "plain.md").write_text("# Not a notebook\n")          # no kernelspec: not collected
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.nbval_myst", "--nbval-lax", "--nbval-current-env",
           "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), str(chapters), "-q"]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(("empirical", "code"), [(0.5, 0), (2.0, 1)])
def test_verification_cell_decides_the_outcome(tmp_path: Path, empirical: float, code: int) -> None:
    result = _run(tmp_path, empirical)
    assert result.returncode == code, result.stdout + result.stderr
    assert "1 passed" in result.stdout if code == 0 else "lem-demo FAILED" in result.stdout
