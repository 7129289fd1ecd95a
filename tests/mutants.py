"""Library mutation testing: does the suite catch a bug in ntklib, not only a false statement?

Usage (``make mutants`` does this)::

    python tests/mutants.py [--jobs 2] [--only ID ...] [--list] [--timeout 900]

Each *mutant* below is one small semantic change of ntklib of the kind a contributor makes: a
missing ``1/sqrt(m)``, sigma instead of sigma', a wrong constant, an off-by-one, a non-strict
comparison, a doubled tolerance, a weakened adversary.  For each, the script copies the checkout
(its tracked and new files, as they are in the working tree) into a temporary directory, applies
the change there, and runs pytest with ``-x`` on the unit tests and then the chapters that use the
mutated code (a static map, fastest and most specific first), stopping at the first failure.  The
mutant is *killed* if something fails; a mutant that passes everything *survived*, and the suite
has a gap.  The harness pins each chapter's kernel to the copy (``NTKLIB_EXPECTED_ROOT``), so the
chapters run against the mutated library.

The checkout itself is never modified (the copies are deleted on exit, also after Ctrl-C, which
stops the running pytest processes).  A mutant whose original text is no longer in its file (the
code was rewritten) is reported as *stale*: update its text.  Mutants that cannot change any
result are listed as *equivalent*, with the reason, and not run.

The script prints the kill table (id, module, description, outcome, what killed it, time) and exits
with status 1 if any mutant survived, is stale, or made pytest error out.  Not part of
``make test``: run it after changing ntklib or its tests (about 15 minutes on two cores).
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    """One semantic change: each ``(old, new)`` replaces text that occurs exactly once in ``path``."""

    id: str
    path: str
    changes: tuple[tuple[str, str], ...]
    description: str
    tests: tuple[str, ...] = ()          # pytest arguments run first (default: the module's, see TARGETS)
    equivalent: str = ""                 # why the change cannot alter any result (then it is not run)

    @property
    def module(self) -> str:
        return Path(self.path).stem


def M(id: str, path: str, old: str, new: str, description: str, *more: tuple[str, str], tests: tuple[str, ...] = (),
      equivalent: str = "") -> Mutant:
    return Mutant(id, f"ntklib/{path}", ((old, new), *more), description, tests, equivalent)


# Unit tests and chapters that exercise each module, most specific (and fastest) first.
TARGETS: dict[str, tuple[str, ...]] = {
    "_validate": ("tests/test_bad_input.py", "tests/test_validation.py"),
    "_checkout": ("tests/test_harness.py::test_ntklib_refuses_another_checkout", "tests/test_sphinxext.py",
                  "tests/test_harness.py::test_chapters_import_the_checkout_under_test"),
    "activations": ("tests/test_activations.py", "tests/test_network.py", "tests/test_numerical_edges.py",
                    "tests/test_kernels.py", "chapters/02-taylor.md", "chapters/01-setup.md"),
    "bounds": ("tests/test_bounds.py", "tests/test_numerical_edges.py", "tests/test_checks.py",
               "tests/test_worst_case.py", "chapters/02-taylor.md", "chapters/04-optimization.md"),
    "checks": ("tests/test_checks.py", "tests/test_worst_case.py", "chapters/01-setup.md", "chapters/02-taylor.md"),
    "data": ("tests/test_data.py", "tests/test_training.py", "chapters/01-setup.md", "chapters/03-kernel.md"),
    "kernels": ("tests/test_kernels.py", "tests/test_numerical_edges.py", "chapters/03-kernel.md",
                "chapters/a1-computing-fast.md"),
    "network": ("tests/test_network.py", "tests/test_training.py", "tests/test_kernels.py",
                "chapters/01-setup.md", "chapters/a1-computing-fast.md"),
    "plotting": ("tests/test_plotting.py", "chapters/01-setup.md"),
    "registry": ("tests/test_checks.py", "tests/test_harness.py", "chapters/a1-computing-fast.md"),
    "seeding": ("tests/test_seeding.py", "chapters/a1-computing-fast.md"),
    "sphinxext": ("tests/test_sphinxext.py", "tests/test_harness.py"),
    "stats": ("tests/test_stats.py", "tests/test_checks.py", "chapters/01-setup.md", "chapters/03-kernel.md"),
    "training": ("tests/test_training.py", "chapters/01-setup.md"),
    "worst_case": ("tests/test_worst_case.py", "tests/test_numerical_edges.py", "chapters/02-taylor.md"),
    "flows": ("tests/test_flows.py", "chapters/04-optimization.md"),
    "notebooks": ("tests/test_notebooks.py",),
    "sphinxext_pdf": ("tests/test_sphinxext_pdf.py",),
    "sphinxext_site": ("tests/test_sphinxext_site.py",),
    "reporting": ("tests/test_reporting.py", "tests/test_checks.py"),
}

MUTANTS: list[Mutant] = [
    # --- input validation
    M("validate-inf", "_validate.py", "if arr.size and not np.all(np.isfinite(arr)):",
      "if arr.size and np.any(np.isnan(arr)):", "arrays: infinities accepted (only NaN refused)"),
    M("validate-open-end", "_validate.py", "if low is not None and (x < low or (low_open and x == low)):",
      "if low is not None and x < low:", "numbers: an open interval accepts its end (lr = 0, delta = 0)"),
    M("validate-bool", "_validate.py", 'if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):',
      "if not isinstance(value, numbers.Integral):", "integers: True and False accepted as 1 and 0"),
    M("checkout-parent", "_checkout.py", "if not PACKAGE_DIR.is_relative_to(expected):",
      "if not PACKAGE_DIR.is_relative_to(expected.parent):", "checkout: ntklib accepted from a sibling directory"),
    M("checkout-on-import", "_checkout.py", "if os.environ.get(EXPECTED_ROOT_ENV):\n    assert_checkout()",
      "if False:\n    assert_checkout()", "checkout: importing ntklib no longer checks NTKLIB_EXPECTED_ROOT"),
    # --- activations
    M("tanh-smoothness", "activations.py", '"tanh": (np.tanh, _tanh_d1, _tanh_d2, 4.0 / (3.0 * np.sqrt(3.0))),',
      '"tanh": (np.tanh, _tanh_d1, _tanh_d2, 2.0 / (3.0 * np.sqrt(3.0))),', "tanh: smoothness constant halved"),
    M("sigmoid-d1", "activations.py", "    return q / (1.0 + q) ** 2\n", "    return q / (1.0 + q)\n",
      "sigmoid': a square lost"),
    M("erf-d2-sign", "activations.py", "return (-4.0 / np.sqrt(np.pi)) * (np.asarray(z) * _gauss(z))",
      "return (4.0 / np.sqrt(np.pi)) * (np.asarray(z) * _gauss(z))", "erf'': wrong sign"),
    M("relu-d1-at-zero", "activations.py", "return (np.asarray(z) > 0).astype(np.float64)",
      "return (np.asarray(z) >= 0).astype(np.float64)", "ReLU': 1 at z = 0 instead of the documented 0"),
    # --- bounds
    M("lemma5-half", "bounds.py", "value = np.ldexp(L * r * r / 2.0, 2 * (ex + eB))",
      "value = np.ldexp(L * r * r, 2 * (ex + eB))", "Lemma 5: the factor 1/2 lost (a bound twice too loose)"),
    M("lemma5-rate", "bounds.py", "r = mx * mB / np.sqrt(np.sqrt(m_))", "r = mx * mB / np.sqrt(m_)",
      "Lemma 5: m^(-1) instead of m^(-1/2)"),
    M("lemma7-constant", "bounds.py", "return _lemma7(B, m, delta, 2.0, 1.0)", "return _lemma7(B, m, delta, 1.0, 1.0)",
      "Lemma 7: first constant 1 instead of 2"),
    M("lemma7-log-power", "bounds.py", "c2 * (-np.log(d)) ** 0.25", "c2 * (-np.log(d)) ** 0.5",
      "Lemma 7: log(1/delta)^(1/2) instead of ^(1/4)"),
    M("thm12-sigma-min-squared", "bounds.py",
      "value = np.ldexp(mL * np.sqrt(1152.0) * mR * (mA / mI) / mI / mI, eL + eR + eA - 3 * eI)",
      "value = np.ldexp(mL * np.sqrt(1152.0) * mR * (mA / mI) / mI, eL + eR + eA - 2 * eI)",
      "Theorem 12: sigma_min^2 (the lecture's) instead of sigma_min^3"),
    M("thm12-risk-rate", "bounds.py", "-(t_ * s * s / 2.0)", "-(t_ * s * s)", "Theorem 12: risk decays at twice the rate"),
    M("thm12-displacement", "bounds.py", "value = np.ldexp(3.0 * np.sqrt(8.0) * mR", "value = np.ldexp(np.sqrt(8.0) * mR",
      "Theorem 12: displacement constant 3 lost"),
    # --- checkers
    M("check-strict", "checks.py", "        ok = e <= b + tol\n", "        ok = e < b + tol\n",
      "check: a value equal to its bound fails (non-strict comparison made strict)"),
    M("check-atol-doubled", "checks.py", "        ok = e <= b + tol\n", "        ok = e <= b + 2 * tol\n",
      "check: twice the stated rounding allowance"),
    M("identity-tol-doubled", "checks.py", "bool(np.all(diff <= t))", "bool(np.all(diff <= 2 * t))",
      "check_identity: accepts twice its tolerance"),
    M("failure-rate-equality", "checks.py", "bool(np.all(up < d))", "bool(np.all(up <= d))",
      "check_failure_rate: accepts an upper confidence bound equal to delta"),
    M("failure-rate-count", "checks.py", "ks = np.sum(emp > bnd[:, None], axis=1)",
      "ks = np.sum(emp >= bnd[:, None], axis=1)", "check_failure_rate: a draw at its bound counts as a failure"),
    M("agreement-bonferroni", "checks.py", "z = float(_st.norm.isf(eps / (2 * k)))", "z = float(_st.norm.isf(eps / 2))",
      "check_agreement: the Bonferroni factor lost"),
    M("slope-point-estimate", "checks.py", "        passed = fit.ci_low <= p\n", "        passed = fit.slope <= p\n",
      "check_slope: the point estimate instead of the interval"),
    M("slope-allowance-doubled", "checks.py", "passed = fit.ci_low <= p + allow and p - allow <= fit.ci_high",
      "passed = fit.ci_low <= p + 2 * allow and p - 2 * allow <= fit.ci_high",
      "check_slope (equal): accepts twice its allowance"),
    M("slope-below-equality", "checks.py", "passed = fit.ci_high < p", "passed = fit.ci_high <= p",
      "check_slope (below): the interval's end may equal the exponent"),
    M("test-level-strict", "checks.py", "bool(np.all(pv >= a))", "bool(np.all(pv > a))",
      "check_test: a p-value equal to the level rejects"),
    M("sharpness-strict", "checks.py", "bool(np.all(frac >= fl))", "bool(np.all(frac > fl))",
      "check_sharpness: attaining exactly the claimed fraction fails"),
    M("mutate-weaker", "checks.py", "            kw[key] = kw[key] * amt\n", "            kw[key] = kw[key] / amt\n",
      "mutate: the bound enlarged (a weaker statement) instead of scaled down"),
    # --- data
    M("sphere-normalization", "data.py", "return g / np.linalg.norm(g, axis=1, keepdims=True)",
      "return g / np.linalg.norm(g)", "sphere: the whole sample normalized, not each point"),
    M("lecture-domain-bias", "data.py", "np.full((n, 1), 1.0 / np.sqrt(d))", "np.full((n, 1), 1.0 / d)",
      "lecture_domain: last coordinate 1/d instead of 1/sqrt(d)"),
    # --- kernels
    M("gram-missing-1/m", "kernels.py", "K = np.ldexp((Xs @ Xps.T) * S / m,", "K = np.ldexp((Xs @ Xps.T) * S,",
      "Gram: the 1/m lost"),
    M("gram-sigma-for-dsigma", "kernels.py", "            np.greater(z, 0, out=z)\n", "            np.maximum(z, 0, out=z)\n",
      "Gram (ReLU): sigma instead of sigma'"),
    M("relu-limit-2pi", "kernels.py", "c * _antipodal(X, Xp, _supplements(U, Up)) / (2.0 * np.pi)",
      "c * _antipodal(X, Xp, _supplements(U, Up)) / np.pi", "ReLU limit kernel: 1/pi instead of 1/(2 pi)"),
    M("relu-unit-angle", "kernels.py", "return t * np.arccos(-t) / (2.0 * np.pi)", "return t * np.arccos(t) / (2.0 * np.pi)",
      "relu_ntk_unit: theta instead of pi - theta"),
    M("antipodal-no-correction", "kernels.py", "        r = (y - p) - err\n", "        r = y - p\n",
      "ReLU limit near antipodal pairs: the exact product's error term dropped"),
    M("quadrature-nodes", "kernels.py", "nodes = order * max(1.0, r * r)", "nodes = order * max(1.0, r)",
      "smooth limit kernel: quadrature nodes grow like the norm, not its square"),
    M("preactivation-nan", "kernels.py", "if not reach <= limit:", "if reach > limit:",
      "Gram: the pre-activation bound's NaN case let through",
      equivalent="reach is NaN only as 0 * inf (all inputs 0, a weight row's norm overflowing): every pre-activation "
                 "is then 0, and the kernel is 0 either way"),
    # --- network
    M("ntk-scale", "network.py", "            return float(np.sqrt(m))\n", "            return float(m)\n",
      "NTK scaling: alpha = m (the 1/sqrt(m) lost)"),
    M("grad-sigma", "network.py", "(self.coef * self.a * self.activation.d1(W @ x))",
      "(self.coef * self.a * self.activation.sigma(W @ x))", "gradient: sigma instead of sigma'"),
    M("jvp-direction", "network.py", "(self.activation.d1(X @ W[s].T) * (X @ V[s].T))",
      "(self.activation.d1(X @ W[s].T) * (X @ W[s].T))", "jvp: the point instead of the direction"),
    M("symmetric-init", "network.py", "a = np.concatenate([signs, -signs])", "a = np.concatenate([signs, signs])",
      "symmetric initialization: twin units with equal signs (f(W0) != 0)"),
    M("outputs-at-init-scale", "network.py", "out[start : start + t] = (alpha / m) *",
      "out[start : start + t] = (1.0 / np.sqrt(m)) *", "outputs_at_init: the NTK scale whatever the scale argument"),
    M("network-finite", "network.py", "    if not np.all(np.isfinite(value)):\n", "    if np.all(np.isnan(value)):\n",
      "network methods: inf and partly-NaN results returned silently", tests=("tests/test_bad_input.py",)),
    # --- plotting
    M("plot-fit-at-y", "plotting.py", 'ax.loglog(xv, fit.predict(xv), ":"', 'ax.loglog(xv, fit.predict(yv), ":"',
      "rate_plot: the fit evaluated at the measurements instead of x"),
    # --- registry
    M("registry-rejected", "registry.py", "m.worst_ratio, not m.passed))", "m.worst_ratio, m.passed))",
      "registry: a mutation counted as rejected when it passed"),
    M("registry-unchecked", "registry.py", "if entry.chapter == chapter:", "if entry.chapter == chapter and False:",
      "registry: registered but unchecked labels not reported"),
    # --- seeding
    M("seed-env-ignored", "seeding.py", "s = base_seed() if seed is None else", "s = DEFAULT_SEED if seed is None else",
      "rng: NTKLIB_SEED ignored"),
    # --- sphinxext
    M("build-pin", "sphinxext.py", "    os.environ.update(checkout_environment(app.confdir))\n", "",
      "build: kernels no longer pinned to the book's checkout"),
    M("fingerprint-names-only", "sphinxext.py", "        h.update(path.read_bytes())\n", "",
      "build: ntklib's fingerprint ignores file contents (no re-execution after a change)"),
    # --- statistics
    M("ols-dof", "stats.py", "dof = xv.shape[0] - 2", "dof = xv.shape[0] - 1",
      "fit_loglog: the slope interval's degrees of freedom off by one"),
    M("clopper-pearson", "stats.py", "float(_st.beta.ppf(c, k + 1, n - k))", "float(_st.beta.ppf(c, k, n - k + 1))",
      "clopper_pearson_upper: the lower bound's parameters"),
    M("mean-ci-ddof", "stats.py", "xs.std(ddof=1)", "xs.std()", "mean_ci: the biased standard deviation"),
    M("weighted-se", "stats.py", "se = float(np.ldexp(1.0 / np.sqrt(sxx), e))", "se = float(np.ldexp(1.0 / sxx, e))",
      "fit_loglog (known errors): the standard error's square root lost"),
    # --- training
    M("noise-sqrt-lr", "training.py", "W += eta * sd * rng.standard_normal(W.shape)",
      "W += np.sqrt(eta) * sd * rng.standard_normal(W.shape)", "noisy GD: noise scaled by sqrt(lr) instead of lr"),
    M("mse-gradient-factor", "training.py", "return net._vjp(X, W, 2.0 * (net._output(X, W) - y) / X.shape[0])",
      "return net._vjp(X, W, (net._output(X, W) - y) / X.shape[0])", "mse_gradient: the factor 2 lost"),
    M("sgd-replacement", "training.py", "idx = rng.choice(X.shape[0], size=b, replace=False)",
      "idx = rng.choice(X.shape[0], size=b, replace=True)", "SGD: minibatches drawn with replacement"),
    M("record-last-step", "training.py", "if t % every == 0 or t == k:", "if t % every == 0:",
      "train: the last step not recorded when it is not a multiple of record_every"),
    # --- worst cases
    M("smooth-one-direction", "worst_case.py", "signs = np.where(plus >= minus, 1.0, -1.0)", "signs = np.ones(k)",
      "smooth adversary weakened: every unit moved in the + direction (no choice per unit)",
      ("total = float(np.sum(np.maximum(plus, minus)))", "total = float(np.sum(plus))")),
    M("smooth-ranking", "worst_case.py", "order = np.argsort(-s * a * act.d2(z), kind=\"stable\")",
      "order = np.argsort(s * a * act.d2(z), kind=\"stable\")", "smooth adversary: units ranked from the wrong end"),
    M("linearization-one-sign", "worst_case.py",
      "    for order, c in _sign_classes(z, a):\n        value, k_A, k = _linearization_value(c, B)",
      "    for order, c in _sign_classes(z, a)[:1]:\n        value, k_A, k = _linearization_value(c, B)",
      "linearization adversary weakened: one output sign only"),
    M("taylor-one-sign", "worst_case.py",
      "    for order, c in _sign_classes(z, a):\n        value, k = taylor_sup(c, B)",
      "    for order, c in _sign_classes(z, a)[:1]:\n        value, k = taylor_sup(c, B)",
      "Lemma 7 exact worst case: one output sign only"),
    M("taylor-sup-k", "worst_case.py", "return (float(values[i]), i + 1) if values[i] > 0 else (0.0, 0)",
      "return (float(values[i]), i) if values[i] > 0 else (0.0, 0)", "taylor_sup: the maximizing k off by one"),
    M("order-statistics-gamma", "worst_case.py", "total = S[-1] + g.standard_gamma(n + 1 - k)",
      "total = S[-1] + g.standard_gamma(n - k)", "smallest_abs_normals: off by one in the order statistics"),
    M("remainder-kernel", "worst_case.py", "_GL_WEIGHTS = _GL_W / 2.0 * (1.0 - _GL_U)", "_GL_WEIGHTS = _GL_W / 2.0 * _GL_U",
      "Taylor remainder: integral weight u instead of 1 - u"),
    M("unit-tolerance", "worst_case.py", "if not abs(norm - 1.0) <= UNIT_TOLERANCE:", "if not abs(norm - 1.0) <= 1.0:",
      "Adversary.weights: any x up to norm 2 accepted as a unit input"),
    # gradient flows (chapter 4)
    M("flows-tangent-decay", "flows.py", "        decay = np.exp(-np.outer(p.lam, t))\n",
      "        decay = np.exp(-np.outer(p.lam, t) / 2)\n", "tangent flow: half the decay rate of each mode"),
    M("flows-bound-rate", "flows.py", '"bound": R0 * np.exp(-taus * p.sigma_min**2 / 2)',
      '"bound": R0 * np.exp(-taus * p.sigma_min**2)', "Theorem 12's risk bound with rate sigma_min^2 instead of sigma_min^2 / 2"),
    M("flows-tail-no-allowance", "flows.py", "TailCertificate(bool(path + e < r)", "TailCertificate(bool(path < r)",
      "tail certificate: the integrator's error allowance dropped"),
    M("flows-risk-half", "flows.py", '"risk": 0.5 * np.sum(residual**2, axis=0)', '"risk": 0.25 * np.sum(residual**2, axis=0)',
      "flow runs: the network's risk halved"),
    # reporting
    M("report-verdict", "reporting.py", "{'PASS' if report.passed else 'FAIL'}", "{'PASS'}",
      "check report: the verdict line says PASS whatever the outcome"),
    # the book's extensions: student notebooks, PDF layout, site numbering
    M("notebook-solution-unfolded", "notebooks.py",
      'return f"<details>\\n<summary><b>{self.solution_title(arg)}</b></summary>\\n\\n{body_md}\\n\\n</details>"',
      'return f"**{self.solution_title(arg)}**\\n\\n{body_md}"', "student notebooks: solutions shown, not folded"),
    M("pdf-hangul-width", "sphinxext_pdf.py", 'return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)',
      "return len(text)", "PDF tables: a Hangul syllable counted as one Latin character"),
    M("site-appendix-letter", "sphinxext_site.py", "return {kind: {key: (letter, *num) if not (num and num[0] == letter) else tuple(num)",
      "return {kind: {key: (letter, *num)", "appendix numbering: the letter added again on a second pass"),
]


@dataclass
class Outcome:
    mutant: Mutant
    status: str                 # killed, SURVIVED, equivalent, STALE, ERROR
    by: str = ""
    seconds: float = 0.0
    log: str = field(default="", repr=False)


def _checkout_files(root: Path) -> list[str]:
    """The checkout's files as they are in the working tree: tracked and new, not ignored."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                         capture_output=True, check=True)
    return [p for p in out.stdout.decode().split("\0") if p and (root / p).is_file()]


def _copy(root: Path, dest: Path, files: list[str]) -> None:
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)


RUNNING: set[subprocess.Popen] = set()
STOP = threading.Event()


def _pytest(copy: Path, args: list[str], timeout: float) -> tuple[int | None, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NTKLIB_")}
    env.update(PYTHONPATH=str(copy), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header",
           "-rfE", *args]
    proc = subprocess.Popen(cmd, cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)      # its own process group: stopped by _kill_running
    RUNNING.add(proc)
    if STOP.is_set():
        _kill_running()
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return None, proc.communicate()[0]
    finally:
        RUNNING.discard(proc)


def _kill_running() -> None:
    for proc in list(RUNNING):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _first_failure(log: str) -> str:
    for line in log.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            name = line.split(" ", 1)[1].split(" - ")[0]
            return re.sub(r"\[.*\]$", "[...]", name) if len(name) > 90 else name
    return "?"


def run_mutant(mutant: Mutant, copies: "queue.Queue[Path]", timeout: float) -> Outcome:
    if mutant.equivalent:
        return Outcome(mutant, "equivalent", mutant.equivalent)
    if STOP.is_set():
        return Outcome(mutant, "ERROR", "interrupted")
    copy = copies.get()
    start = time.perf_counter()
    target = copy / mutant.path
    original = target.read_text()
    try:
        text = original
        for old, new in mutant.changes:
            if text.count(old) != 1:
                return Outcome(mutant, "STALE", f"{text.count(old)} occurrences of {old.strip()[:50]!r}")
            text = text.replace(old, new)
        target.write_text(text)
        args = list(dict.fromkeys([*mutant.tests, *TARGETS[mutant.module]]))
        code, log = _pytest(copy, args, timeout)
        seconds = time.perf_counter() - start
        if code is None:
            return Outcome(mutant, "killed", f"timeout after {timeout:.0f} s", seconds, log)
        if code == 1:
            return Outcome(mutant, "killed", _first_failure(log), seconds, log)
        if code == 0:
            return Outcome(mutant, "SURVIVED", "ran " + " ".join(args), seconds, log)
        return Outcome(mutant, "ERROR", f"pytest exit code {code}", seconds, log)
    finally:
        target.write_text(original)
        copies.put(copy)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--only", nargs="*", default=None, help="mutant ids to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--check", action="store_true", help="check that every mutant applies to the checkout, and exit")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutant before it counts as killed")
    args = parser.parse_args()
    ids = [m.id for m in MUTANTS]
    assert len(set(ids)) == len(ids), "duplicate mutant ids"
    assert all(m.module in TARGETS for m in MUTANTS), "a mutant's module has no TARGETS entry"
    chosen = [m for m in MUTANTS if args.only is None or m.id in args.only]
    unknown = set(args.only or []) - set(ids)
    if unknown:
        parser.error(f"unknown mutant ids: {sorted(unknown)}")
    if args.list:
        for m in chosen:
            print(f"{m.id:28s} {m.module:12s} {m.description}")
        return 0
    if args.check:
        stale = [f"{m.id}: {(ROOT / m.path).read_text().count(old)} occurrences of {old.strip()[:60]!r} in {m.path}"
                 for m in chosen for old, _ in m.changes if (ROOT / m.path).read_text().count(old) != 1]
        print("\n".join(stale) or f"all {len(chosen)} mutants apply")
        return 1 if stale else 0
    modules = {p.stem for p in (ROOT / "ntklib").glob("*.py") if p.stem not in ("__init__",)}
    uncovered = sorted(modules - {m.module for m in MUTANTS})
    files = _checkout_files(ROOT)
    start = time.perf_counter()
    # Ctrl-C, and a plain kill (SIGTERM), stop the run cleanly; SIGINT also when inherited as ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="ntklib-mutants-") as tmp:
        copies: queue.Queue[Path] = queue.Queue()
        for j in range(max(1, args.jobs)):
            dest = Path(tmp) / f"copy-{j}"
            _copy(ROOT, dest, files)
            copies.put(dest)
        print(f"{len(chosen)} mutants, {args.jobs} at a time, each in a copy of {ROOT} under {tmp}", flush=True)
        outcomes: list[Outcome] = []
        pool = ThreadPoolExecutor(max_workers=max(1, args.jobs))
        futures = [pool.submit(run_mutant, m, copies, args.timeout) for m in chosen]
        try:
            for f in futures:
                o = f.result()
                outcomes.append(o)
                print(f"  {o.mutant.id:28s} {o.status:10s} {o.seconds:6.1f} s  {o.by}", flush=True)
        except KeyboardInterrupt:
            STOP.set()                            # queued mutants do not start; running ones are killed
            _kill_running()
            pool.shutdown(wait=True, cancel_futures=True)
            print("\ninterrupted: pytest processes stopped, copies removed; the checkout was never changed")
            return 130
        pool.shutdown()
    total = time.perf_counter() - start
    _table(outcomes)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("killed", "SURVIVED", "equivalent", "STALE", "ERROR")}
    print(f"\n{len(outcomes)} mutants: " + ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n)
          + f"; {total / 60:.1f} min with {args.jobs} jobs")
    if uncovered:
        print(f"modules without a mutant: {', '.join(uncovered)}")
    for o in outcomes:
        if o.status in ("SURVIVED", "ERROR"):
            print(f"\n--- {o.mutant.id} ({o.status}): last lines of pytest's output\n" + "\n".join(o.log.splitlines()[-15:]))
    return 0 if counts["SURVIVED"] + counts["STALE"] + counts["ERROR"] == 0 else 1


def _table(outcomes: list[Outcome]) -> None:
    rows = [("id", "module", "mutant", "outcome", "killed by / reason", "time")]
    rows += [(o.mutant.id, o.mutant.module, o.mutant.description, o.status, o.by,
              f"{o.seconds:.1f} s" if o.seconds else "") for o in outcomes]
    widths = [min(max(len(r[i]) for r in rows), cap) for i, cap in enumerate((28, 12, 60, 10, 70, 8))]
    print()
    for r in rows:
        print("  ".join(c[:w].ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    sys.exit(main())
