"""Browser test of the built site (``_build/html``): every page, at a laptop's width and a phone's, offline.

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright) opens every HTML page of
the site from a local ``http.server`` on 127.0.0.1, at 1400 px and at 390 px wide, with every request
to another host blocked: the site must work with no network (a classroom, a train, an archived
copy).  MathJax is served by the site itself (``_static/mathjax``).  For each page and width:

- MathJax ran: every ``.math`` element was typeset, no MathJax error node, and no raw TeX
  (``$...$``, ``\\(``, ``\\[``, ``\\begin{``, a ``\\command``) is left in the text outside code;
- every ``<img>`` loaded, every local resource answered, and the page asked nothing of the network;
- nothing is clipped: no formula or table is wider than its box unless the box scrolls and shows the
  scroll cue (``_static/ntklib.js``), the page does not scroll sideways, and at 1400 px every
  display equation fits the text column (long ones are broken with ``aligned``/``split``);
- margin notes: each "Correction" note links to its errata entry and carries the id the entry
  links back to; below 992 px margin notes are full-width, not floats;
- no uncaught JavaScript error; a full-page screenshot goes to ``_build/screenshots/<page>-<width>.png``.

At 1400 px also: every internal link and cross-reference resolves (the target file exists and a
``#fragment`` names an element id on the target page); one search box; one numbering per result
(headings, contents, statement boxes and the dashboard name results by the book's numbers, a
lecture's number only as "the lecture's Lemma 5"); figures numbered by chapter ("Fig. 2.1",
"Fig. A.1"); errata entries link back to their margin notes; on ``chapters/`` pages the download,
repository and issue buttons, and on notebook chapters the Binder, Colab and Live Code (Thebe)
buttons, Binder and Colab opening the chapter's student notebook (``chapters/<chapter>.ipynb``) and
the download button offering it as ``.ipynb``.

``test_figures_legible`` measures each figure the site shows (matplotlib's PNG or SVG): its text on
screen is ``theme size (pt) × image px per pt × rendered width / natural width``, with the smallest
text size of ``ntklib.set_theme()``; it must be at least 0.75 × the body text's size.
``test_live_code_offline`` clicks Live Code with the network blocked and expects a clear message.

Without Chromium, Playwright or a built site (or with a build older than a chapter's source) the
tests skip and say what is missing; with ``NTKLIB_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets) they
fail instead.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("NTKLIB_SITE_DIR", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path(os.environ.get("NTKLIB_CHROMIUM", "/usr/bin/chromium"))
REQUIRE = os.environ.get("NTKLIB_REQUIRE_BROWSER") == "1"
PAGE_TIMEOUT_MS = 30_000
WIDTHS = (1400, 390)                 # a laptop, a phone
DESKTOP = WIDTHS[0]
LEGIBLE = 0.75                       # figure text on screen >= this x the body text's size
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
# Fixtures: one server, one browser, one context per width for the whole module.


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site at {SITE}; run `make book` first")
    for old in SCREENSHOTS.glob("*.png"):              # this run's screenshots only
        old.unlink()
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
def browser(site_url):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"no Chromium at {CHROMIUM}; install it with `apt-get install chromium chromium-driver`")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def contexts(browser, site_url):
    """One browser context per width; every request to another host is blocked (no network)."""
    local = urlsplit(site_url).netloc
    made = {}

    def route(r):
        if urlsplit(r.request.url).netloc == local:
            return r.continue_()
        return r.abort("internetdisconnected")

    def get(width: int):
        if width not in made:
            context = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            context.route("**/*", route)
            made[width] = context
        return made[width]

    yield get
    for context in made.values():
        context.close()


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


# Formulas and tables wider than their box.  For each MathJax container and each table of the
# article: walk up from it to the first box that does not let content overflow visibly; if that box
# is narrower than its content it either clips (overflow hidden: a failure) or scrolls (it must
# carry the cue ntklib.js sets); with no such box, the content must stay inside the text column.
_JS_OVERFLOW = """() => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const column = article.getBoundingClientRect();
  const tex = new Map();
  if (window.MathJax && MathJax.startup && MathJax.startup.document) {
    for (const item of MathJax.startup.document.math) if (item.typesetRoot) tex.set(item.typesetRoot, String(item.math));
  }
  const name = (el) => el.tagName === 'MJX-CONTAINER'
      ? (el.hasAttribute('display') ? 'display equation ' : 'formula ') + JSON.stringify((tex.get(el) || '').trim().slice(0, 70))
      : 'table ' + JSON.stringify(el.textContent.trim().replace(/\\s+/g, ' ').slice(0, 50));
  const out = [];
  for (const el of [...document.querySelectorAll('mjx-container'), ...article.querySelectorAll('table')]) {
    if (!article.contains(el) || el.closest('details:not([open])')) continue;
    const inner = el.tagName === 'MJX-CONTAINER' ? (el.querySelector('mjx-math') || el) : el;
    const r = inner.getBoundingClientRect();
    if (r.width === 0) continue;
    let verdict = null, box = el;
    for (; box && box !== article.parentElement; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX === 'visible') continue;
      const b = box.getBoundingClientRect();
      if (box.scrollWidth <= box.clientWidth + 1 || (r.left >= b.left - 1 && r.right <= b.right + 1)) { verdict = 'fits'; break; }
      if (style.overflowX === 'hidden' || style.overflowX === 'clip') { verdict = 'clipped'; break; }
      const cue = box.classList.contains('ntklib-overflows') && style.boxShadow !== 'none';
      verdict = cue ? 'scrolls' : 'scrolls with no cue';
      break;
    }
    if (verdict === null) verdict = (r.right > column.right + 1 || r.left < column.left - 1) ? 'overflows the text column' : 'fits';
    if (verdict !== 'fits') out.push({what: name(el), verdict, display: el.hasAttribute('display'),
                                     width: Math.round(r.width), box: box ? Math.round(box.clientWidth) : null});
  }
  // what sticks out of the window, when the page scrolls sideways: the outermost such elements that
  // no scrolling or clipping box contains
  const free = (e) => { for (let a = e; a && a !== document.body; a = a.parentElement) {
                          const style = getComputedStyle(a);
                          if (style.position === 'fixed' || (a !== e && style.overflowX !== 'visible')) return false; }
                        return true; };
  const page = document.documentElement.scrollWidth - window.innerWidth;
  const wide = page <= 1 ? [] : Array.from(document.body.querySelectorAll('*')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
      && free(e) && !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
      .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                        + ' ' + JSON.stringify(e.textContent.trim().slice(0, 40)));
  return {items: out, page, wide};
}"""

# Margin notes: title, links, id, and how they are laid out.
_JS_MARGINS = """() => {
  const article = document.querySelector('article.bd-article section') || document.querySelector('article.bd-article');
  const text = article ? article.getBoundingClientRect().width : window.innerWidth;
  return Array.from(document.querySelectorAll('aside.margin')).map(a => ({
    title: (a.querySelector('.sidebar-title') || {textContent: ''}).textContent.trim(),
    links: Array.from(a.querySelectorAll('a[href]')).map(x => x.getAttribute('href')),
    id: a.id, float: getComputedStyle(a).float, width: a.getBoundingClientRect().width, text}));
}"""

# Texts that name results: headings, both tables of contents, statement boxes, dashboard cells,
# figure numbers; and the search controls a reader can see.
_JS_NAMES = """() => {
  const texts = (sel) => Array.from(document.querySelectorAll(sel)).map(e => e.textContent.replace(/\\s+/g, ' ').trim());
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
                                   getComputedStyle(e).visibility !== 'hidden'; };
  return {
    headings: texts('article h1, article h2, article h3, article h4'),
    toc: texts('.bd-toc a, nav.bd-docs-nav a'),
    boxes: texts('div.proof > p.admonition-title'),
    dashboard: texts('table.ntklib-dashboard td:first-child'),
    figures: texts('article figcaption .caption-number, article .caption .caption-number'),
    search: Array.from(document.querySelectorAll('.search-button-field, .search-button'))
                 .filter(e => !e.closest('dialog') && visible(e)).length,
    // errata entries: labelled sections below the page's title (a label's id may sit on a span)
    backlinks: Array.from(document.querySelectorAll('article [id^="errata-"]')).map(e => e.closest('section'))
                 .filter(s => s && !s.querySelector(':scope > h1'))
                 .map(s => ({id: s.id, links: s.querySelectorAll(':scope > p.ntklib-backlinks a').length})),
  };
}"""

# Each image of the article: where it comes from, its natural and rendered width; and the body text size.
_JS_FIGURES = """() => ({
  body: parseFloat(getComputedStyle(document.querySelector('article p') || document.body).fontSize),
  images: Array.from(document.querySelectorAll('article img')).map(img => ({
    src: img.getAttribute('src'), natural: img.naturalWidth, rendered: img.getBoundingClientRect().width}))
})"""

# A second numbering: a result named by a bare number ("Lemma 5", not "Lemma 2.1") unless it is
# introduced as the lecture's, or the form "X of the lecture".  Sphinx typesets ' as ’.
_RESULT = r"(?:Lemma|Theorem|Proposition|Corollary|Remark|Assumption|Definition)"
_SECOND_NUMBERING = re.compile(rf"(?<!lecture's )(?<!lecture’s )\b{_RESULT} \d+\b(?![.\d])|\b{_RESULT} \d+(?:\.\d+)? of the lecture")
# A result named by the book's number, perhaps with the lecture's: "Lemma 2.1 (the lecture's Lemma 5".
_BOOK_NAME = re.compile(rf"\b({_RESULT} (?:\d+|[A-Z])\.\d+)(?: \(the lecture['’]s ({_RESULT} \d+))?")
_BOX = re.compile(r'<p class="admonition-title"><span class="caption-number">([^<]+?)\s*</span>\s*(?:\(([^<]*))?')


@functools.cache
def _statement_boxes() -> dict[str, str]:
    """Every numbered statement box of the site: its name ("Lemma 2.1") and the start of its title."""
    boxes = {}
    for path in SITE.rglob("*.html"):
        for m in _BOX.finditer(path.read_text(encoding="utf-8", errors="replace")):
            boxes[m[1].strip()] = html.unescape(m[2] or "").replace("’", "'")
    return boxes


_FIGURE_NUMBER = re.compile(r"^(Fig\.|Table|Listing) (\d+|[A-Z])\.\d+\b")

# --------------------------------------------------------------------------------------------


def _check_overflow(page, width: int) -> list[str]:
    page.evaluate("() => { if (window.ntklibUpdateScrollCues) ntklibUpdateScrollCues(); }")
    result = page.evaluate(_JS_OVERFLOW)
    problems = []
    if result["page"] > 1:
        problems.append(f"the page scrolls sideways by {result['page']} px: {result['wide']}")
    for item in result["items"]:
        if item["verdict"] != "scrolls":
            problems.append(f"{item['what']} ({item['width']} px) {item['verdict']} (box {item['box']} px)")
        elif width >= DESKTOP and item["display"]:
            problems.append(f"{item['what']} ({item['width']} px) is wider than the text column "
                            f"({item['box']} px) at {width} px: break it with aligned or split")
    return problems


def _check_margins(page, width: int) -> list[str]:
    problems = []
    for note in page.evaluate(_JS_MARGINS):
        if note["title"].startswith("Correction"):
            if not any(re.search(r"errata\.html#errata-", href) for href in note["links"]):
                problems.append(f"margin note {note['title']!r} does not link to its errata entry: {note['links']}")
            elif not note["id"].startswith("correction-"):
                problems.append(f"margin note {note['title']!r} has no id for the errata entry to link back to")
        if width < 992 and (note["float"] != "none" or note["width"] < 0.9 * note["text"]):
            problems.append(f"margin note {note['title']!r} at {width} px: float {note['float']}, "
                            f"{note['width']:.0f} of {note['text']:.0f} px")
    return problems


def _check_names(page) -> list[str]:
    names = page.evaluate(_JS_NAMES)
    problems = []
    if names["search"] != 1:
        problems.append(f"{names['search']} search boxes visible at {DESKTOP} px; expected one")
    boxes = _statement_boxes()
    for where in ("headings", "toc", "boxes", "dashboard"):
        for text in names[where]:
            if m := _SECOND_NUMBERING.search(text):
                problems.append(f"a second numbering in the {where}: {m.group()!r} in {text!r} "
                                "(name it by the book's number; the lecture's as \"the lecture's Lemma 5\")")
            for m in _BOOK_NAME.finditer(text):
                if m[1] not in boxes:
                    problems.append(f"the {where} name {m[1]!r}, which no statement box of the site has: {text!r}")
                elif m[2] and f"the lecture's {m[2]}" not in boxes[m[1]]:
                    problems.append(f"the {where} call {m[1]} the lecture's {m[2]}; its box says "
                                    f"{boxes[m[1]]!r}: {text!r}")
    for text in names["figures"]:
        if not _FIGURE_NUMBER.match(text):
            problems.append(f"figure not numbered by chapter: {text!r}")
    for entry in names["backlinks"]:
        if not entry["links"]:
            problems.append(f"errata entry {entry['id']!r} has no link back to the margin note that marks it")
    return problems


def _load(context, site_url: str, rel: str):
    """Open a page; return it with the lists of failed local requests, network requests and JS errors."""
    page = context.new_page()
    local_failures: list[str] = []
    network: list[str] = []
    js_errors: list[str] = []
    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    page.on("requestfailed", lambda r: (local_failures if r.url.startswith(site_url) else network).append(
        f"{r.url}: {r.failure}"))
    page.on("response", lambda r: local_failures.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
    page.goto(site_url + rel, wait_until="load")
    return page, local_failures, network, js_errors


def _visit(context, site_url: str, rel: str, width: int) -> tuple[list[str], dict | None]:
    """Everything test_page checks of one page at one width: the problems found, and what the page's
    images measure (for test_figures_legible).  Takes the screenshot."""
    page_file = SITE / rel
    refresh = _parse(page_file).refresh
    if refresh:                                       # index.html: a redirect to the first page
        target = refresh.split("url=", 1)[-1].strip()
        if not (page_file.parent / target).is_file():
            return [f"{rel} redirects to missing {target}"], None
        page = context.new_page()
        try:
            page.goto(site_url + rel)
            page.wait_for_url(f"**/{target}")
        finally:
            page.close()
        return [], None
    page, local_failures, network, js_errors = _load(context, site_url, rel)
    try:
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

        problems += _check_overflow(page, width)
        problems += _check_margins(page, width)
        figures = page.evaluate(_JS_FIGURES)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)        # (before the buttons check opens a menu)
        page.screenshot(path=SCREENSHOTS / f"{Path(rel).stem}-{width}.png", full_page=True)
        if width == DESKTOP:
            problems += _check_links(page, page_file, site_url)
            problems += _check_names(page)
            if rel.startswith("chapters/"):
                problems += _check_buttons(page, rel)
        problems += [f"request failed: {r}" for r in dict.fromkeys(local_failures)]
        problems += [f"needs the network: {r}" for r in dict.fromkeys(network)]
        problems += [f"JavaScript error: {e}" for e in js_errors if e not in KNOWN_JS_ERRORS]
        return problems, figures
    finally:
        page.close()


@pytest.fixture(scope="module")
def narrow(browser, site_url):
    """The pages at the narrow widths, visited in a second thread with its own browser while the main
    thread visits them at the desktop width (Playwright's sync API keeps to the thread that started it):
    two cores render at once.  Maps (rel, width) to a future of _visit's result."""
    import concurrent.futures

    from playwright.sync_api import sync_playwright

    local = urlsplit(site_url).netloc
    state: dict = {}

    def context(width: int):
        if "browser" not in state:
            state["pw"] = sync_playwright().start()
            state["browser"] = state["pw"].chromium.launch(executable_path=str(CHROMIUM), headless=True)
        if width not in state:
            ctx = state["browser"].new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
            ctx.set_default_timeout(PAGE_TIMEOUT_MS)
            ctx.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).netloc == local
                      else r.abort("internetdisconnected"))
            state[width] = ctx
        return state[width]

    def close():
        if "browser" in state:
            state["browser"].close()
            state["pw"].stop()

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="narrow-pages")
    futures = {(rel, width): pool.submit(lambda r=rel, w=width: _visit(context(w), site_url, r, w))
               for width in WIDTHS if width != DESKTOP for rel in _pages() if (SITE / rel).is_file()}
    try:
        yield futures
    finally:
        for future in futures.values():
            future.cancel()
        pool.submit(close).result()
        pool.shutdown()


_FIGURES: dict[tuple[int, str], dict] = {}
"""What test_page measured of each page's images, for test_figures_legible."""


def _require_current(rel: str) -> None:
    """Skip (or fail) unless the page is built from the current source."""
    if not (SITE / rel).is_file():
        _unavailable(f"no built site at {SITE}; run `make book` first")
    source = ROOT / "chapters" / f"{Path(rel).stem}.md"
    if rel.startswith("chapters/") and source.is_file():
        # The download button offers this copy of the source: it must be the current one.
        copy = SITE / "_sources" / "chapters" / source.name
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            _unavailable(f"the built site is older than chapters/{source.name}; run `make book` "
                         "(`make test` builds it first)")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("rel", _pages())
def test_page(rel: str, width: int, contexts, narrow, site_url) -> None:
    _require_current(rel)
    if width == DESKTOP:
        problems, figures = _visit(contexts(width), site_url, rel, width)
    else:
        problems, figures = narrow[rel, width].result(timeout=10 * PAGE_TIMEOUT_MS / 1000)
    if figures is not None:
        _FIGURES[width, rel] = figures
    assert not problems, f"{rel} at {width} px:\n  " + "\n  ".join(problems)


@functools.cache
def _theme_text_points() -> float:
    """The smallest text size (points) of ``ntklib.set_theme()``: tick labels, legends, axis labels, titles."""
    import matplotlib
    from matplotlib.font_manager import FontProperties

    import ntklib

    with matplotlib.rc_context():
        ntklib.set_theme()
        rc = matplotlib.rcParams
        keys = ("font.size", "xtick.labelsize", "ytick.labelsize", "legend.fontsize", "axes.labelsize",
                "axes.titlesize", "legend.title_fontsize")
        return min(FontProperties(size=rc[k] if rc[k] is not None else rc["font.size"]).get_size_in_points()
                   for k in keys)


def _pixels_per_point(path: Path) -> float | None:
    """Image pixels per typographic point of a matplotlib figure (dpi / 72 for PNG, 4/3 for SVG); None
    if the image was not drawn by matplotlib."""
    if path.suffix == ".svg":
        head = path.read_text(encoding="utf-8", errors="replace")[:2000]
        return 96 / 72 if "matplotlib" in head.lower() else None
    if path.suffix != ".png":
        return None
    from PIL import Image

    with Image.open(path) as img:
        if "matplotlib" not in str(img.info.get("Software", "")).lower():
            return None
        dpi = img.info.get("dpi", (72.0, 72.0))[0]
    return float(dpi) / 72


def figure_legibility(width: int, rel: str, measured: dict) -> list[dict]:
    """For each matplotlib image of a page: its size and the on-screen size of its smallest text."""
    out = []
    points = _theme_text_points()
    for img in measured["images"]:
        path = (SITE / rel).parent / unquote(urlsplit(img["src"]).path)
        ppp = _pixels_per_point(path.resolve()) if path.is_file() else None
        if ppp is None or not img["natural"] or not img["rendered"]:
            continue
        scale = img["rendered"] / img["natural"]
        out.append({"image": path.name, "natural": img["natural"], "rendered": round(img["rendered"]),
                    "dpi": round(ppp * 72), "text_px": points * ppp * scale,
                    "needed_px": LEGIBLE * measured["body"]})
    return out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("rel", [p for p in _pages() if p.startswith("chapters/")])
def test_figures_legible(rel: str, width: int, contexts, site_url) -> None:
    """Each figure's smallest text, as shown, is at least 0.75 x the body text."""
    _require_current(rel)
    if (width, rel) not in _FIGURES:                          # run alone: measure the page here
        page, *_ = _load(contexts(width), site_url, rel)
        page.evaluate(_JS_WAIT_IMAGES)
        _FIGURES[width, rel] = page.evaluate(_JS_FIGURES)
        page.close()
    small = [f for f in figure_legibility(width, rel, _FIGURES[width, rel]) if f["text_px"] < f["needed_px"]]
    assert not small, (
        f"{rel} at {width} px: figure text smaller than {LEGIBLE} x the body text "
        f"({small[0]['needed_px']:.1f} px; theme's smallest text {_theme_text_points():.1f} pt):\n  "
        + "\n  ".join(f"{f['image']}: {f['natural']} px at {f['dpi']} dpi shown at {f['rendered']} px: "
                      f"text {f['text_px']:.1f} px" for f in small))


def test_live_code_offline(contexts, site_url) -> None:
    """Live Code with no network ends in a clear message, not an endless "Loading"."""
    rel = next((p for p in _pages() if p.startswith("chapters/") and (ROOT / "chapters" / (Path(p).stem + ".md")).is_file()
                and _is_notebook(ROOT / "chapters" / (Path(p).stem + ".md"))), None)
    if rel is None:
        _unavailable("no notebook chapter in the built site")
    page, *_ = _load(contexts(DESKTOP), site_url, rel)
    try:
        page.locator(".dropdown-launch-buttons > button").first.click()
        page.locator("button.btn-launch-thebe").first.click()
        message = page.locator(".thebe-launch-button.ntklib-live-code-offline")
        message.wait_for(state="visible", timeout=10_000)
        text = message.text_content()
        assert "Live Code is not available" in text and "network" in text, text
        # the whole message inside its box, and the box above the text that follows it
        assert message.evaluate("""e => e.scrollHeight <= e.clientHeight + 1 && (!e.nextElementSibling ||
            e.nextElementSibling.getBoundingClientRect().top >= e.getBoundingClientRect().bottom - 1)"""), \
            "the Live Code message overlaps the text"
    finally:
        page.close()
