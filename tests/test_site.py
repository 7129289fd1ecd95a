"""Browser test of the built site (``_build/html``), page by page, as a reader's browser shows it.

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) opens every HTML page of
the site from a local ``http.server`` on 127.0.0.1.  No machine here reaches a CDN, so the MathJax
URL the pages load is answered from the copy of ``mathjax@3`` that ``make browser-deps`` installs
from npm into ``.cache/npm``; every other external request is aborted.  For each page:

- MathJax ran: every ``.math`` element was typeset, no MathJax error node, and no raw TeX
  (``$...$``, ``\\(``, ``\\[``, ``\\begin{``, a ``\\command``) is left in the text outside code;
- every ``<img>`` loaded (``naturalWidth > 0``) and every local resource answered;
- every internal link and cross-reference resolves: the target file exists and a ``#fragment``
  names an element id on the target page;
- no uncaught JavaScript error;
- on ``chapters/`` pages: the download button offers the page's ``.md`` source and the
  repository and issue buttons point at ``_config.yml``'s repository; on notebook chapters also the Binder, Colab and Live Code (Thebe) launch buttons, the
  Binder link opening the chapter's student notebook (``chapters/<chapter>.ipynb``) in JupyterLab,
  the Colab link the same notebook, and the download button offering it as ``.ipynb``.

A full-page screenshot of every ``chapters/*.html`` page goes to ``_build/screenshots/``.

Without Chromium, the local MathJax copy, Playwright or a built site (or with a build older than
a chapter's source) the tests skip and say what is missing; with ``NTKLIB_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets) they fail instead.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("NTKLIB_SITE_DIR", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path(os.environ.get("NTKLIB_CHROMIUM", "/usr/bin/chromium"))
# `make browser-deps` installs mathjax@3 from npm here (git-ignored, and outside the book's
# sources: _config.yml's exclude_patterns lists .cache).
MATHJAX = Path(os.environ.get("NTKLIB_MATHJAX_DIR", ROOT / ".cache" / "npm" / "node_modules" / "mathjax"))
# The MathJax 3 build Sphinx points the pages at (sphinx.ext.mathjax's default mathjax_path).
MATHJAX_URL = re.compile(r"^https://cdn\.jsdelivr\.net/npm/mathjax@3[^/]*/(?P<path>es5/[^?#]+)")
REQUIRE = os.environ.get("NTKLIB_REQUIRE_BROWSER") == "1"
PAGE_TIMEOUT_MS = 30_000
# Known upstream errors, ignored by name.  Sphinx 7.4 writes an inline script added through
# app.add_js_file(None, body=...) twice (sphinx-doc/sphinx#13402, fixed in Sphinx 8.2; Jupyter Book
# 1.x pins Sphinx < 8), so sphinx-thebe's `const THEBE_JS_URL = ...` is declared a second time and
# that second copy throws.  The first copy defines everything; _check_buttons checks Thebe's
# entry points exist.
KNOWN_JS_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)


def _pages() -> list[str]:
    """Every HTML page of the built site, relative to its root (theme templates excluded)."""
    if not SITE.is_dir():
        return ["(site not built)"]
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not any(part.startswith("_") for part in p.relative_to(SITE).parts)
    )


def _unavailable(reason: str) -> None:
    message = f"browser test not run: {reason}"
    if REQUIRE:
        pytest.fail(message + " (NTKLIB_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(message)


# --------------------------------------------------------------------------------------------
# Fixtures: one server, one browser for the whole session.


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site at {SITE}; run `make book` first")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser_context(site_url):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM}; install it with `apt-get install chromium chromium-driver`")
    if not (MATHJAX / "es5" / "tex-mml-chtml.js").is_file():
        _unavailable(f"no local MathJax 3 at {MATHJAX}; run `make browser-deps` (npm install mathjax@3.2.2)")

    local = urlsplit(site_url).netloc

    def route(r):
        url = r.request.url
        if urlsplit(url).netloc == local:
            return r.continue_()
        match = MATHJAX_URL.match(url)
        if match:
            target = (MATHJAX / match["path"]).resolve()
            if target.is_file() and MATHJAX.resolve() in target.parents:
                return r.fulfill(path=target, headers={"access-control-allow-origin": "*"})
            return r.fulfill(status=404, body=f"not in the local MathJax copy: {match['path']}")
        return r.abort("blockedbyclient")    # no network here: nothing else may hang a page

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.route("**/*", route)
        yield context
        context.close()
        browser.close()


@functools.cache
def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


@functools.cache
def _is_notebook(source: Path) -> bool:
    """A chapter whose jupytext front matter declares a kernel (what nbval executes)."""
    import jupytext

    return "kernelspec" in jupytext.read(source).metadata


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refresh: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            self.refresh = a.get("content")


@functools.cache
def _parse(path: Path) -> _Ids:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


# --------------------------------------------------------------------------------------------
# What the page is asked, in the browser.

_JS_WAIT_IMAGES = """async () => {
  await Promise.all(Array.from(document.images).map(img => img.complete ? null :
    new Promise(done => { img.addEventListener('load', done); img.addEventListener('error', done); })));
  return Array.from(document.images).map(img => ({src: img.getAttribute('src'), width: img.naturalWidth}));
}"""

_JS_MATH = """async () => {
  const info = {loaded: !!(window.MathJax && window.MathJax.version), version: null, math: 0,
                untypeset: [], errors: []};
  if (info.loaded) {
    await window.MathJax.startup.promise;
    info.version = window.MathJax.version;
  }
  const math = Array.from(document.querySelectorAll('.math')).filter(e => !e.closest('pre, code'));
  info.math = math.length;
  info.untypeset = math.filter(e => !e.querySelector('mjx-container'))
                       .map(e => e.textContent.trim().slice(0, 80));
  // Error nodes, and undefined macros (not errors: MathJax's noundefined extension shows them in
  // red), each with the TeX it came from.
  if (info.loaded) {
    for (const item of window.MathJax.startup.document.math) {
      const root = item.typesetRoot;
      if (!root) continue;
      const tex = JSON.stringify(String(item.math).slice(0, 80));
      root.querySelectorAll('mjx-merror, [data-mjx-error]').forEach(e => info.errors.push(
          (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 100) + ' in ' + tex));
      root.querySelectorAll('mjx-assistive-mml [mathcolor="red"]').forEach(e => info.errors.push(
          'undefined macro ' + e.textContent.trim().slice(0, 40) + ' in ' + tex));
    }
  }
  return info;
}"""

# The page's text as a reader sees it, less code (where TeX may be meant literally) and less the
# typeset formulas themselves.
_JS_TEXT = """() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight')
       .forEach(e => e.remove());
  return clone.textContent;
}"""

_JS_LINKS = """() => Array.from(document.querySelectorAll('a[href]')).map(a => ({
  href: a.href, raw: a.getAttribute('href'), text: a.textContent.trim().slice(0, 60)}))"""

_JS_IDS = """() => Array.from(document.querySelectorAll('[id], a[name]')).map(e => e.id || e.getAttribute('name'))"""

_RAW_TEX = re.compile(
    r"\$\$|\$[^$\s][^$\n]*\$"                 # $...$ and $$ left by the parser
    r"|\\[()\[\]]"                             # \( \) \[ \] delimiters MathJax did not take
    r"|\\begin\{|\\end\{"                      # environments
    r"|\\[A-Za-z]{2,}"                         # any other TeX command
)


def _raw_tex(text: str) -> list[str]:
    found = []
    for m in _RAW_TEX.finditer(text):
        start, end = max(0, m.start() - 30), min(len(text), m.end() + 30)
        found.append(f"{m.group()}  in: {' '.join(text[start:end].split())}")
    return found[:5]


def _check_links(page, page_file: Path, site_url: str) -> list[str]:
    problems = []
    own_ids = set(page.evaluate(_JS_IDS))
    for link in page.evaluate(_JS_LINKS):
        href = link["href"]
        if not href.startswith(site_url):
            continue                                  # external, mailto:, javascript:
        parts = urlsplit(href)
        rel = unquote(parts.path)[len(urlsplit(site_url).path):]
        target = SITE / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"{link['raw']!r} ({link['text']!r}): no file {target.relative_to(SITE)}")
            continue
        fragment = unquote(parts.fragment)
        if fragment and target.suffix == ".html":
            ids = own_ids if target == page_file else _parse(target).ids
            if fragment not in ids:
                problems.append(f"{link['raw']!r} ({link['text']!r}): no id {fragment!r} in "
                                f"{target.relative_to(SITE)}")
    return problems


def _check_buttons(page, rel: str) -> list[str]:
    """The header buttons of a chapters/ page, against _config.yml's repository."""
    stem = Path(rel).stem
    source = ROOT / "chapters" / f"{stem}.md"
    repo = _config()["repository"]
    url, branch = repo["url"].rstrip("/"), repo.get("branch", "main")
    path = "/".join(p for p in (repo.get("path_to_book", "").strip("/"), "chapters", f"{stem}.md") if p)
    problems = []

    def attr(selector: str, name: str = "href") -> str | None:
        loc = page.locator(selector)
        return loc.first.get_attribute(name) if loc.count() else None

    download = attr("a.btn-download-source-button")
    if download is None or not download.endswith(f"_sources/chapters/{stem}.md"):
        problems.append(f"download button for the .md source missing or wrong: {download!r}")
    if attr("a.btn-source-repository-button") != url:
        problems.append(f"repository button missing or not {url}: "
                        f"{attr('a.btn-source-repository-button')!r}")
    if not (attr("a.btn-source-issues-button") or "").startswith(f"{url}/issues/new"):
        problems.append("issues button missing or not pointing at the repository's issues")

    if _is_notebook(source):
        launch = _config()["launch_buttons"]
        owner_repo = urlsplit(url).path.strip("/")
        # the launch buttons open the student notebook beside the source (ntklib.notebooks)
        path = path.removesuffix(".md") + ".ipynb"
        binder = f"{launch['binderhub_url'].rstrip('/')}/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{path}"
        # (Bootstrap moves `title` into a tooltip, so buttons are found by class and text.)
        binder_link = page.locator(".dropdown-launch-buttons a.dropdown-item", has_text="Binder")
        found = binder_link.first.get_attribute("href") if binder_link.count() else None
        if found != binder:
            problems.append(f"Binder button missing or not {binder}: {found!r}")
        colab = f"{launch['colab_url'].rstrip('/')}/github/{owner_repo}/blob/{branch}/{path}"
        colab_link = page.locator(".dropdown-launch-buttons a.dropdown-item", has_text="Colab")
        found = colab_link.first.get_attribute("href") if colab_link.count() else None
        if found != colab:
            problems.append(f"Colab button missing or not {colab}: {found!r}")
        notebook = attr("a.btn-download-notebook-button")
        served = SITE / "_sources" / "chapters" / f"{stem}.ipynb"
        student = ROOT / "chapters" / f"{stem}.ipynb"
        if notebook is None or not notebook.endswith(f"_sources/chapters/{stem}.ipynb"):
            problems.append(f"download button for the .ipynb missing or wrong: {notebook!r}")
        elif not (served.is_file() and student.is_file() and served.read_bytes() == student.read_bytes()):
            problems.append(f"the .ipynb download is not the student notebook chapters/{stem}.ipynb")
        thebe = page.locator("button.btn-launch-thebe")
        if not thebe.count() or "Live Code" not in thebe.first.text_content():
            problems.append("Live Code (Thebe) button missing")
        if not page.evaluate("() => typeof initThebeSBT === 'function' && typeof THEBE_JS_URL === 'string'"):
            problems.append("the Live Code button's script (sphinx-thebe) is not loaded")
        config = page.locator('script[type="text/x-thebe-config"]')
        config = config.first.text_content() if config.count() else ""
        if f'repo: "{owner_repo}"' not in config or f'ref: "{branch}"' not in config:
            problems.append(f"Thebe's binderOptions do not name {owner_repo} at {branch}: {config!r}")
        # A reader opens the launch menu: Binder and Live Code are shown.
        page.locator(".dropdown-launch-buttons > button").first.click()
        for name, item in (("Binder", binder_link), ("Live Code", thebe)):
            if item.count() and not item.first.is_visible():
                problems.append(f"the launch menu does not show {name} when opened")
        page.keyboard.press("Escape")
    return problems


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rel", _pages())
def test_page(rel: str, browser_context, site_url) -> None:
    page_file = SITE / rel
    if not page_file.is_file():
        _unavailable(f"no built site at {SITE}; run `make book` first")
    source = ROOT / "chapters" / f"{Path(rel).stem}.md"
    if rel.startswith("chapters/") and source.is_file():
        # The download button offers this copy of the source: it must be the current one.
        copy = SITE / "_sources" / "chapters" / source.name
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            _unavailable(f"the built site is older than chapters/{source.name}; run `make book` "
                         "(`make test` builds it first)")
    page = browser_context.new_page()
    js_errors: list[str] = []
    bad_requests: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    page.on("requestfailed", lambda r: bad_requests.append(f"{r.url}: {r.failure}")
            if r.url.startswith(site_url) else None)
    page.on("response", lambda r: bad_requests.append(f"{r.url}: HTTP {r.status}")
            if r.status >= 400 else None)
    try:
        refresh = _parse(page_file).refresh
        if refresh:                                   # index.html: a redirect to the first page
            target = refresh.split("url=", 1)[-1].strip()
            assert (page_file.parent / target).is_file(), f"{rel} redirects to missing {target}"
            page.goto(site_url + rel)
            page.wait_for_url(f"**/{target}")
            return

        page.goto(site_url + rel, wait_until="load")
        problems: list[str] = []

        math = page.evaluate(_JS_MATH)
        if math["math"] and not math["loaded"]:
            problems.append(f"{math['math']} formulas but MathJax did not load")
        if math["untypeset"]:
            problems.append(f"formulas MathJax did not typeset: {math['untypeset'][:3]}")
        if math["errors"]:
            problems.append(f"MathJax errors: {list(dict.fromkeys(math['errors']))[:5]}")
        if raw := _raw_tex(page.evaluate(_JS_TEXT)):
            problems.append(f"raw TeX in the page's text: {raw}")

        for img in page.evaluate(_JS_WAIT_IMAGES):
            if not img["width"]:
                problems.append(f"image did not load: {img['src']}")

        problems += _check_links(page, page_file, site_url)

        if rel.startswith("chapters/"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{Path(rel).stem}.png", full_page=True)
            problems += _check_buttons(page, rel)

        problems += [f"request failed: {r}" for r in dict.fromkeys(bad_requests)]
        problems += [f"JavaScript error: {e}" for e in js_errors if e not in KNOWN_JS_ERRORS]
        assert not problems, f"{rel}:\n  " + "\n  ".join(problems)
    finally:
        page.close()
