"""Check that the Binder environment opens a chapter as a notebook and runs it (`make binder-check`).

What mybinder.org (repo2docker) does with ``binder/``, done here without Docker:

1. copy the repository's files (tracked, plus untracked ones that are not ignored) to a
   temporary directory, as a fresh clone would have them;
2. create a fresh virtual environment with the Python of ``binder/runtime.txt`` and, from the
   copy's root, ``pip install -r binder/requirements.txt`` (repo2docker's command; ``-e .``
   resolves against the working directory, the repository root);
3. run ``binder/postBuild`` with that environment first on ``PATH`` and ``NB_PYTHON_PREFIX``
   pointing at it, as repo2docker does;
4. start JupyterLab from that environment on 127.0.0.1 with a token, with empty user settings;
5. in headless Chromium (Playwright, Debian's ``/usr/bin/chromium``) open
   ``/lab/tree/<chapter>`` -- the URL the book's Binder button opens -- and check that the chapter
   opens in the Jupytext Notebook viewer (cells, not a Markdown editor), run its first code cell
   with Shift+Enter and wait for its execution count, then add a cell that prints from the
   chapter's imports and check its output.

It also checks that the environment holds the project's pins (pyproject.toml) and jupytext and
JupyterLab.  Prints each check and the time each step took; exits non-zero on a failure.
Not part of pytest: it installs a whole environment (minutes, and PyPI access).

    python tests/binder_check.py [--chapter chapters/01-setup.md] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("NTKLIB_CHROMIUM", "/usr/bin/chromium")
SCREENSHOT = ROOT / "_build" / "screenshots" / "binder-jupyterlab.png"
TIMINGS: dict[str, float] = {}
PASSED = [0]


class CheckFailed(Exception):
    pass


def step(name: str):
    """Context manager printing a step and recording how long it took."""

    class _Step:
        def __enter__(self):
            print(f"\n== {name}", flush=True)
            self.start = time.perf_counter()

        def __exit__(self, *exc):
            TIMINGS[name] = time.perf_counter() - self.start
            print(f"   ({TIMINGS[name]:.1f} s)", flush=True)

    return _Step()


def ok(message: str) -> None:
    PASSED[0] += 1
    print(f"   ok: {message}", flush=True)


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)
    ok(message)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("   $ " + " ".join(str(c) for c in cmd), flush=True)
    result = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise CheckFailed(f"command failed ({result.returncode}): {' '.join(map(str, cmd))}\n{tail}")
    return result


def repo_files() -> list[str]:
    """What a clone would hold: tracked files plus untracked ones that are not ignored."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=ROOT, check=True, capture_output=True).stdout.decode()
    return sorted(f for f in out.split("\0") if f and (ROOT / f).is_file())


def binder_python() -> str:
    """An interpreter of the version binder/runtime.txt names (``python-X.Y``)."""
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    if not match:
        raise CheckFailed(f"binder/runtime.txt should read python-X.Y, not {runtime!r}")
    want = f"{match[1]}.{match[2]}"
    for candidate in (f"python{want}", "python3", sys.executable):
        path = shutil.which(candidate) or (candidate if os.path.isabs(candidate) else None)
        if not path:
            continue
        got = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
        if got == want:
            ok(f"binder/runtime.txt asks for Python {want}; using {path}")
            return path
    raise CheckFailed(f"binder/runtime.txt asks for Python {want}, and no python{want} is on PATH")


def project_pins() -> dict[str, str]:
    """name -> version for every ``==`` pin of the project's runtime and book dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for req in project["dependencies"] + project["optional-dependencies"]["book"]:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;]+)\s*", req)
        if m:
            pins[m[1].lower().replace("_", "-")] = m[2]
    return pins


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_environment(work: Path) -> tuple[Path, dict[str, str]]:
    repo, env = work / "repo", work / "env"
    with step("copy the repository (as a clone has it)"):
        files = repo_files()
        for name in files:
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
        for name in ("requirements.txt", "runtime.txt", "postBuild"):
            require((repo / "binder" / name).is_file(), f"binder/{name} is in the repository")
        require(os.access(repo / "binder" / "postBuild", os.X_OK), "binder/postBuild is executable")
        ok(f"{len(files)} files copied to {repo}")

    with step("fresh virtual environment + pip install -r binder/requirements.txt"):
        run([binder_python(), "-m", "venv", str(env)])
        run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
        run([str(env / "bin" / "pip"), "install", "--quiet", "-r", "binder/requirements.txt"], cwd=repo)
        ok("binder/requirements.txt installed")

    environ = dict(os.environ, PATH=f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}",
                   NB_PYTHON_PREFIX=str(env), VIRTUAL_ENV=str(env))
    environ.pop("PYTHONPATH", None)
    with step("binder/postBuild"):
        run(["./binder/postBuild"], cwd=repo, env=environ)
        overrides = env / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
        require(overrides.is_file(), f"postBuild wrote {overrides.relative_to(env)}")
        viewers = json.loads(overrides.read_text())["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
        require(viewers.get("markdown") == "Jupytext Notebook",
                "JupyterLab's default viewer for Markdown is the Jupytext Notebook")

    with step("the environment has the project's pins, jupytext and JupyterLab"):
        freeze = run([str(env / "bin" / "python"), "-m", "pip", "list", "--format=json"]).stdout
        installed = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(freeze)}
        wrong = {name: (want, installed.get(name)) for name, want in project_pins().items()
                 if installed.get(name) != want}
        require(not wrong, f"every == pin of pyproject.toml (dependencies + book) holds"
                           + (f"; mismatches: {wrong}" if wrong else f" ({len(project_pins())} pins)"))
        require("jupytext" in installed, f"jupytext {installed.get('jupytext')} is installed")
        lab = installed.get("jupyterlab", "")
        require(lab.startswith("4."), f"JupyterLab {lab} is installed")
        require("ntklib" in installed, "ntklib is installed (editable, from the repository)")
        run([str(env / "bin" / "python"), "-m", "pip", "check"])
        ok("pip check: no broken requirements")
        servers = run([str(env / "bin" / "jupyter"), "server", "extension", "list"], env=environ)
        require("jupytext" in servers.stdout + servers.stderr, "jupytext's server extension is enabled")
        labext = run([str(env / "bin" / "jupyter"), "labextension", "list"], env=environ)
        require("jupytext" in labext.stdout + labext.stderr, "jupytext's JupyterLab extension is installed")
    return repo, environ


def check_lab(work: Path, repo: Path, environ: dict[str, str], chapter: str) -> None:
    from playwright.sync_api import sync_playwright

    env_dir = Path(environ["NB_PYTHON_PREFIX"])
    token, port = secrets.token_hex(16), free_port()
    base = f"http://127.0.0.1:{port}"
    lab_env = dict(environ)
    for var, sub in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")):
        lab_env[var] = str(work / "jupyter" / sub)     # nothing from this machine's user settings
    log = open(work / "jupyterlab.log", "w")
    cmd = [str(env_dir / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={repo}",
           f"--LabApp.user_settings_dir={work / 'jupyter' / 'user-settings'}",
           f"--LabApp.workspaces_dir={work / 'jupyter' / 'workspaces'}", "--allow-root"]
    with step("start JupyterLab"):
        print("   $ " + " ".join(cmd).replace(token, "<token>"), flush=True)
        server = subprocess.Popen(cmd, cwd=repo, env=lab_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with step("JupyterLab answers"):
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    raise CheckFailed(f"JupyterLab exited ({server.returncode}); see {work / 'jupyterlab.log'}")
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise CheckFailed("JupyterLab did not answer within 120 s")
                time.sleep(0.5)
            ok(f"JupyterLab is up at {base}")

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(60_000)
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
            page = context.new_page()
            try:
                _check_notebook_ui(page, f"{base}/lab/tree/{chapter}?token={token}", chapter)
            finally:
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=SCREENSHOT)
                print(f"   screenshot: {SCREENSHOT.relative_to(ROOT)}")
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _check_notebook_ui(page, url: str, chapter: str) -> None:
    name = Path(chapter).name
    with step(f"open {chapter} as a Binder link does (/lab/tree/{chapter})"):
        page.goto(url)
        panel = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Cell")).first
        panel.wait_for(state="visible", timeout=120_000)
        tab = page.locator(".jp-mod-current .lm-TabBar-tabLabel, .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
        require(name in " ".join(tab.all_text_contents()), f"the current tab is {name}")
        require(page.locator(".jp-NotebookPanel:visible").count() == 1,
                "it opened in a notebook panel (the Jupytext Notebook viewer)")
        require(page.locator(".jp-FileEditor:visible").count() == 0, "no Markdown text editor is shown")
        code_cells = panel.locator(".jp-CodeCell")
        code_cells.first.wait_for(timeout=60_000)
        panel.locator(".jp-MarkdownCell").first.wait_for(timeout=60_000)
        require(code_cells.count() > 0 and panel.locator(".jp-MarkdownCell").count() > 0,
                f"notebook cells are shown ({code_cells.count()} code and "
                f"{panel.locator('.jp-MarkdownCell').count()} Markdown cells rendered so far)")
        title = _first_heading(ROOT / chapter)
        try:
            panel.locator(".jp-MarkdownCell h1", has_text=title).first.wait_for(timeout=60_000)
        except Exception as exc:
            raise CheckFailed(f"the chapter's title {title!r} is not rendered as a heading") from exc
        ok(f"its Markdown cells render: the title is a heading ({title!r})")
        math = panel.locator(".jp-MarkdownCell mjx-container")
        try:
            math.first.wait_for(timeout=60_000)
        except Exception as exc:
            raise CheckFailed("no formula in the Markdown cells was typeset by MathJax") from exc
        ok(f"formulas are typeset ({math.count()} so far)")
        _require_defined_macros(panel)

    with step("run the first code cell (select it, Shift+Enter)"):
        _dismiss_dialogs(page)
        first = code_cells.first
        source = first.locator(".jp-InputArea-editor").inner_text()
        first.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        _dismiss_dialogs(page)
        prompt = first.locator(".jp-InputArea-prompt")
        try:
            page.wait_for_function("(el) => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(),
                                   timeout=180_000)
        except Exception as exc:
            raise CheckFailed(f"no execution count after Shift+Enter (prompt: {prompt.inner_text()!r})") from exc
        require(re.search(r"\[1\]", prompt.inner_text()) is not None,
                f"the cell ran: execution count {prompt.inner_text().strip()} "
                f"(cell starts {source.strip().splitlines()[0]!r})")
        errors = first.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        require(errors.count() == 0, "it produced no error output")

    with step("add a cell below, run it, read its output"):
        first.locator(".jp-InputArea-prompt").click()        # select the cell, command mode
        page.keyboard.press("Escape")
        page.keyboard.press("b")                             # insert a code cell below
        new = code_cells.nth(1)
        new.locator(".jp-InputArea-editor").click()
        page.keyboard.type("print('binder-check', ntklib.__name__, np.__version__)")
        page.keyboard.press("Shift+Enter")
        output = new.locator(".jp-OutputArea-output")
        output.first.wait_for(state="visible", timeout=120_000)
        text = output.first.inner_text()
        require(text.startswith("binder-check ntklib "), f"its output shows the chapter's imports: {text.strip()!r}")
        require(re.search(r"\[2\]", new.locator(".jp-InputArea-prompt").inner_text()) is not None,
                "execution count 2")


def _require_defined_macros(panel) -> None:
    """JupyterLab does not read _config.yml's MathJax macros; each chapter's first (removed-in-the-book)
    cell defines them with \\newcommand (tests/test_macros.py).  No formula may show an undefined macro."""
    undefined = panel.evaluate("""el => {
      const found = new Set();
      el.querySelectorAll('.jp-MarkdownCell mjx-container').forEach(c => {
        c.querySelectorAll('mjx-merror, [style*="color: red"], [mathcolor="red"]').forEach(e => {
          const t = (e.getAttribute('data-mjx-error') || e.textContent || '').trim();
          if (t) found.add(t.slice(0, 40));
        });
        const mml = c.querySelector('mjx-assistive-mml math, math');
        if (mml) mml.querySelectorAll('[mathcolor="red"]').forEach(e => found.add(e.textContent.trim()));
      });
      return Array.from(found);
    }""")
    require(not undefined, "no undefined TeX macro in the rendered cells"
            + (f" (undefined, in red: {sorted(undefined)[:12]})" if undefined else ""))


def _first_heading(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise CheckFailed(f"{path} has no '# ' title")


def _dismiss_dialogs(page) -> None:
    """Accept a kernel-selection dialog if JupyterLab shows one (it should not)."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count():
        print(f"   note: dialog shown: {dialog.first.inner_text()[:120]!r}")
        dialog.locator(".jp-mod-accept").first.click()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="chapters/01-setup.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    if not os.access(CHROMIUM, os.X_OK):
        print(f"binder-check: FAILED: no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="binder-check-"))
    start = time.perf_counter()
    failed = 0
    try:
        repo, environ = check_environment(work)
        check_lab(work, repo, environ, args.chapter)
    except Exception as exc:    # a failed check, or a timeout / error of the browser or a command
        message = str(exc) if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {exc}"
        print(f"\nbinder-check: FAILED: {message}")
        if not args.keep:
            print(f"(rerun with --keep to inspect {work})")
        failed = 1
    finally:
        print("\ntimings: " + ", ".join(f"{k}: {v:.1f} s" for k, v in TIMINGS.items()))
        print(f"total: {time.perf_counter() - start:.1f} s")
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"binder-check: {PASSED[0]} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
