"""The release archive's offline site (tests/make_dist.py): nothing loaded from the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.make_dist import offline_site

LOCAL_SCRIPT = '<script defer="defer" src="{up}_static/mathjax/tex-chtml.js"></script>'


def _site(root: Path, extra: str = "") -> Path:
    (root / "chapters").mkdir(parents=True)
    (root / "index.html").write_text(f"<html><head>{LOCAL_SCRIPT.format(up='')}</head></html>")
    (root / "chapters" / "one.html").write_text(f"<html><head>{LOCAL_SCRIPT.format(up='../')}{extra}</head></html>")
    return root


def test_the_site_is_copied_as_it_is(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert offline_site(_site(tmp_path / "site"), out) == 2
    assert 'src="../_static/mathjax/tex-chtml.js"' in (out / "chapters" / "one.html").read_text()


@pytest.mark.parametrize("remote", ['<link rel="stylesheet" href="https://example.org/theme.css">',
                                    '<script async="async" src="https://example.org/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'])
def test_a_page_that_still_loads_from_the_network_is_refused(tmp_path: Path, remote: str) -> None:
    with pytest.raises(RuntimeError, match="example.org"):
        offline_site(_site(tmp_path / "site", remote), tmp_path / "out")
