"""The build re-reads every chapter when ntklib's source changes, and tabulates what the chapters checked."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

import ntklib
from ntklib import sphinxext


def test_fingerprint_marks_everything_outdated_once(monkeypatch, tmp_path) -> None:
    data = tmp_path / "results.json"
    data.write_text("{}")
    app = SimpleNamespace(confdir=str(tmp_path), config=SimpleNamespace(ntklib_extra_dependencies=["results.json"]))
    env = SimpleNamespace(found_docs={"intro", "ch1", "ch2"})
    assert sphinxext._outdated(app, env, {"ch2"}, set(), set()) == ["ch1", "intro"]   # first build: all
    assert sphinxext._outdated(app, env, set(), set(), set()) == []                  # nothing changed
    data.write_text('{"new": 1}')
    assert sphinxext._outdated(app, env, set(), set(), set()) == ["ch1", "ch2", "intro"]  # data changed
    monkeypatch.setattr(sphinxext, "source_fingerprint", lambda: "changed")
    assert sphinxext._outdated(app, env, set(), {"ch1"}, set()) == ["ch2", "intro"]  # library changed


def test_fingerprint_depends_on_content(tmp_path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    first = sphinxext.source_fingerprint(tmp_path)
    assert first == sphinxext.source_fingerprint(tmp_path) and len(first) == 64
    (tmp_path / "a.py").write_text("x = 2\n")
    assert sphinxext.source_fingerprint(tmp_path) != first
    assert sphinxext.source_fingerprint() != first          # the real package has its own


def _record(label: str, kind: str, passed: bool = True) -> dict:
    rows = [[-0.5, -0.6, -0.4, -0.5, "equal", 1.0]] if kind == "rate" else [[0.5, 1.0, 0.5]]
    return {"label": label, "kind": kind, "statistic": "s", "measured": 0.5, "limit": 1.0, "worst_ratio": 0.5,
            "passed": passed, "seed": 2024, "rows": rows}


def test_records_follow_the_document_being_read(tmp_path, monkeypatch) -> None:
    """source-read points NTKLIB_RECORD_FILE at the document's file; doctree-read stores what was recorded."""
    monkeypatch.delenv("NTKLIB_RECORD_FILE", raising=False)
    src = tmp_path / "ch1.md"
    src.write_text("# ch1\n")
    env = SimpleNamespace(docname="ch1", doc2path=lambda doc: tmp_path / f"{doc}.md")
    app = SimpleNamespace(doctreedir=str(tmp_path / ".doctrees"), env=env)
    sphinxext._source_read(app, "ch1", [""])
    path = sphinxext._record_file(app, "ch1")
    assert os.environ["NTKLIB_RECORD_FILE"] == str(path)
    ntklib.check("lem-smooth", np.array([0.5]), np.array([1.0]), statistic="s")     # what a cell would do
    sphinxext._doctree_read(app, None)
    assert "NTKLIB_RECORD_FILE" not in os.environ
    stored = sphinxext._store(env)["ch1"]
    assert [r["label"] for r in stored["records"]] == ["lem-smooth"]
    assert stored["source"] == sphinxext.file_digest(src) and stored["seed"] == ntklib.base_seed()
    sphinxext._source_read(app, "ch1", [""])                 # a re-read starts from an empty file
    sphinxext._doctree_read(app, None)
    assert "ch1" not in sphinxext._store(env)


def test_dashboard_rows_follow_the_records_and_the_registry() -> None:
    chapters = {"chapters/02-taylor": [_record("lem-smooth", "bound")],
                "chapters/01-setup": [_record("prop-init-variance", "rate", passed=False)]}
    rows = sphinxext.dashboard_rows(chapters, ["chapters/01-setup", "chapters/02-taylor"])
    assert [r[:3] for r in rows] == [("chapters/01-setup", "prop-init-variance", "rate: s"),
                                     ("chapters/02-taylor", "lem-smooth", "bound: s")]
    assert rows[0][6] == "FAIL" and rows[1][6] == "pass"
    assert rows[0][3:5] == ("slope -0.5, interval [-0.6, -0.4]", "interval contains -0.5")
    assert rows[1][3:5] == ("0.5", "≤ 1")
    assert rows[1][-1] == "bound × 0.99" and rows[0][-1] == "exponent − 0.5"
    assert len(rows[0]) == len(sphinxext.COLUMNS)
    changed = {k: [dict(r, measured=0.6) for r in v] for k, v in chapters.items()}
    assert sphinxext.dashboard_rows(changed) != sphinxext.dashboard_rows(chapters)   # numbers change the table
    assert sphinxext.dashboard_rows({"x": [_record("unknown", "bound")]})[0][-1] == "unregistered"
    sharp = sphinxext.dashboard_rows({"x": [_record("unknown", "sharpness")]})[0]
    assert sharp[3:5] == ("reaches 0.5 of the bound", "≥ claimed 1")


def test_dashboard_names_a_stated_false_statement(monkeypatch) -> None:
    from ntklib import registry

    monkeypatch.setitem(registry.REGISTRY, "thm", registry.Verification("thm", "x", {"bound": "stated"}))
    record = dict(_record("thm", "bound"), false_statement="the lecture's sigma_min^2 threshold")
    assert sphinxext.dashboard_rows({"x": [record]})[0][-1] == "the lecture's sigma_min^2 threshold"


def test_the_build_pins_its_kernels_to_the_book_checkout(monkeypatch, tmp_path) -> None:
    """The extension refuses another checkout's ntklib and points the kernels at the book's."""
    import pytest
    from pathlib import Path
    from sphinx.errors import ExtensionError

    root = Path(ntklib.__file__).resolve().parents[1]
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setenv("NTKLIB_EXPECTED_ROOT", "/unset")         # restored (or removed) after the test
    sphinxext.pin_checkout(SimpleNamespace(confdir=str(root)))
    assert os.environ["NTKLIB_EXPECTED_ROOT"] == str(root)
    assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(root), "/elsewhere"]
    with pytest.raises(ExtensionError, match="not from the checkout under test"):
        sphinxext.pin_checkout(SimpleNamespace(confdir=str(tmp_path)))
