"""The build re-reads every chapter when ntklib's source changes."""

from __future__ import annotations

from types import SimpleNamespace

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
