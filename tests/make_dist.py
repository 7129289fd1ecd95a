"""``make dist``: the release archive of one version of the book, to attach to the release.

``_build/dist/ntk-book-<version>.zip`` holds one folder ``ntk-book-<version>/`` with

- ``ntk-book-<version>.pdf``: the PDF, whose title page shows ``<version>``;
- ``html/``: the site, readable offline: MathJax 3 (npm's copy, ``make browser-deps``) is served
  from ``html/_static/mathjax/`` instead of the CDN the pages name (Binder and Live Code still
  need the network);
- ``CITATION.cff``, ``LICENSE``, ``LICENSE-CONTENT`` and a ``README.txt`` saying how to cite.

The version is ``CITATION.cff``'s (``tests/test_citation.py`` holds pyproject.toml, ntklib and the
how-to-cite page to it).  The script fails if the PDF says another version, if it is older than
the book's sources or not the copy the site links, or if a page still loads a script or style
sheet from the network.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ntklib.sphinxext_pdf import citation_text, read_citation, site_pdf_name  # noqa: E402

CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@3[^/\"']*/es5/")
REMOTE = re.compile(r"<script[^>]*\ssrc=\"https?://[^\"]*\"|<link[^>]*\srel=\"stylesheet\"[^>]*\shref=\"https?://[^\"]*\"")


def offline_site(site: Path, mathjax: Path, out: Path) -> int:
    """Copy ``site`` to ``out`` with MathJax served from ``out/_static/mathjax``; return the number
    of pages rewritten.  Raises ``RuntimeError`` if a page still loads anything remote."""
    shutil.copytree(site, out)
    shutil.copytree(mathjax, out / "_static" / "mathjax")
    rewritten, remote = 0, []
    for page in sorted(out.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        local = os.path.relpath(out / "_static" / "mathjax", page.parent).replace(os.sep, "/") + "/"
        new = CDN.sub(local, text)
        if new != text:
            page.write_text(new, encoding="utf-8")
            rewritten += 1
        remote += [f"{page.relative_to(out)}: {m}" for m in REMOTE.findall(new)]
    if remote:
        raise RuntimeError("pages still load from the network:\n" + "\n".join(remote[:10]))
    return rewritten


def pdf_version(pdf: Path) -> str | None:
    """The version in the PDF's metadata (its Subject is "Version <version>")."""
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    match = re.search(r"^Subject:\s+Version (\S+)$", info, re.M)
    return match.group(1) if match else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=ROOT / "_build")
    parser.add_argument("--mathjax", type=Path, default=ROOT / ".cache" / "npm" / "node_modules" / "mathjax" / "es5")
    args = parser.parse_args()

    cff = read_citation(ROOT)
    version = str(cff["version"])
    site, pdf = args.build / "html", args.build / "latex" / "ntk-book.pdf"
    for path, how in [(site / "index.html", "make book"), (pdf, "make pdf"), (args.mathjax / "tex-mml-chtml.js", "make browser-deps")]:
        if not path.is_file():
            sys.exit(f"{path} is missing: run `{how}`")
    sources = [ROOT / "_config.yml", *(ROOT / "chapters").glob("*.md"), *(ROOT / "ntklib").glob("*.py")]
    if any(p.stat().st_mtime > pdf.stat().st_mtime for p in sources):
        sys.exit(f"{pdf} is older than the book's sources: run `make pdf`")
    if not filecmp.cmp(pdf, site / site_pdf_name(cff), shallow=False):
        sys.exit(f"the site's copy of the PDF is not {pdf}: run `make pdf`")
    if pdf_version(pdf) != version:
        sys.exit(f"the PDF says version {pdf_version(pdf)}, CITATION.cff {version}: run `make pdf`")

    name = f"ntk-book-{version}"
    stage = args.build / "dist" / name
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    pages = offline_site(site, args.mathjax, stage / "html")
    shutil.copyfile(pdf, stage / site_pdf_name(cff))
    for file in ("CITATION.cff", "LICENSE", "LICENSE-CONTENT"):
        shutil.copyfile(ROOT / file, stage / file)
    url = (yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8")).get("repository") or {}).get("url")
    contents = [(site_pdf_name(cff), "the book as a PDF, for printing"),
                ("html/index.html", "the book as a website; opens offline in a browser, formulas included"),
                ("CITATION.cff", "citation metadata (Citation File Format)")]
    width = max(len(path) for path, _ in contents)
    (stage / "README.txt").write_text("\n".join([
        f"{cff['title']}",
        f"Version {version}, released {cff['date-released']}.",
        "",
        *(f"{path:<{width}}  {what}" for path, what in contents),
        "",
        "How to cite this version:",
        f"  {citation_text(cff, url)}",
        "",
        "Code: MIT licence (LICENSE). Text and figures: CC BY 4.0 (LICENSE-CONTENT).",
        "",
    ]), encoding="utf-8")
    archive = shutil.make_archive(str(args.build / "dist" / name), "zip", root_dir=stage.parent, base_dir=name)
    size = Path(archive).stat().st_size / 2**20
    print(f"{archive}: {size:.1f} MB (site: {pages} pages served MathJax locally; PDF version {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
