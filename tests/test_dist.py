"""The release archive's offline site (tests/make_dist.py): MathJax served from the site itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.make_dist import offline_site

CDN_SCRIPT = '<script async="async" src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'


def _site(root: Path, extra: str = "") -> Path:
    (root / "chapters").mkdir(parents=True)
    (root / "index.html").write_text(f"<html><head>{CDN_SCRIPT}</head></html>")
    (root / "chapters" / "one.html").write_text(f"<html><head>{CDN_SCRIPT}{extra}</head></html>")
    return root


def _mathjax(root: Path) -> Path:
    root.mkdir()
    (root / "tex-mml-chtml.js").write_text("// MathJax")
    return root


def test_pages_load_mathjax_from_the_site(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert offline_site(_site(tmp_path / "site"), _mathjax(tmp_path / "mj"), out) == 2
    assert 'src="_static/mathjax/tex-mml-chtml.js"' in (out / "index.html").read_text()
    assert 'src="../_static/mathjax/tex-mml-chtml.js"' in (out / "chapters" / "one.html").read_text()
    assert (out / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()


def test_a_page_that_still_loads_from_the_network_is_refused(tmp_path: Path) -> None:
    remote = '<link rel="stylesheet" href="https://example.org/theme.css">'
    with pytest.raises(RuntimeError, match="example.org"):
        offline_site(_site(tmp_path / "site", remote), _mathjax(tmp_path / "mj"), tmp_path / "out")
