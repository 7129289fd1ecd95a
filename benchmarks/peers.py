"""ntklib against Neural Tangents, the peer a user would pick, on the same model, side by side.

Usage (from the repository root; ``make bench-peers`` builds the environment and runs this):

    .cache/peers-venv/bin/python benchmarks/peers.py [--quick] [--output benchmarks/peers.json]

The model is the book's: :math:`f(x; W) = m^{-1/2}\\sum_j a_j\\sigma(w_j^\\top x)`, :math:`a_j = \\pm 1`
fixed, only :math:`W` trained.  Neural Tangents gets it as a plain jax function of :math:`W` (stored
``(d, m)``, the layout of its ``stax.Dense``: with ``(m, d)`` and a transpose its structured mode
no longer sees the structure and forms the Jacobians), and computes its empirical NTK with
``nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0, implementation=...)`` in each of its three
implementations, jit-compiled.  Both sides get the same :math:`W_0`, :math:`a` and :math:`X`.

Each configuration (n, m, d, activation) runs in a fresh child process, for float64 and float32:

1. compile every Neural Tangents implementation (timed apart) and read XLA's buffer assignment
   (``compiled.memory_analysis()``: temporaries and outputs); one that needs more than the memory
   cap is recorded as such, with that size, and not run;
2. call each implementation once: the peak resident memory it added (the kernel's high-water
   mark, reset through ``/proc/self/clear_refs`` just before the call, minus the resident memory
   just before it) and its agreement with ntklib's float64 Gram (max |difference| / max |K|), which
   must be within the precision's tolerance before anything is timed;
3. time them interleaved: in each round every implementation runs once, in a rotated order, wall
   and CPU time (all threads) per call; rounds repeat until the configuration's time budget is
   spent (at least 3 rounds; 1 if a single round exceeds the budget; a peer whose first call
   exceeds ``CALL_CAP_S`` is timed by that call).  Ratios are medians over rounds of the per-round
   ratio, so slow drifts of the machine's load cancel.  The best peer is chosen, and the targets
   read, by CPU time: on a shared machine wall time also counts the waits for a core (with
   ``--threads 1`` on a loaded machine, as the recorded run, CPU time is the work itself).

Also timed in the same rounds: the bare matrix products ntklib's Gram is built on, the
pre-activations :math:`W X^\\top` and :math:`S^\\top S`, per chunk, in the same precisions
(:math:`S^\\top S` in float32 for the ReLU, whose counts are exact in float32).

The analytic kernels (``nt.stax`` against :func:`ntklib.ntk_limit`) follow: ``stax.serial(Dense(m,
W_std=sqrt(d)), act, Dense(1))`` in NTK parameterization, whose ``ntk`` entry adds the readout
layer's contribution (its ``nngp``) to the first layer's; ``ntk - nngp`` is the kernel
:func:`ntklib.ntk_limit` computes.

Results (with the machine, the versions, the date and the load average) go to the output file
after each configuration; the appendix reads ``benchmarks/peers.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PRECISIONS = ("float64", "float32")
NT_IMPLEMENTATIONS = {"nt_structured": "STRUCTURED_DERIVATIVES",
                      "nt_jacobian_contraction": "JACOBIAN_CONTRACTION",
                      "nt_ntk_vector_products": "NTK_VECTOR_PRODUCTS"}
TOLERANCE = {"float64": 1e-10, "float32": 1e-5}      # max |K - K_ntklib64| / max |K| before timing
CALL_CAP_S = 60.0        # a peer whose first call takes longer is timed by that call alone


# --------------------------------------------------------------------------- measurement helpers

def _status_kib(key: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
    raise KeyError(key)


def peak_memory(fn):
    """``(result, (wall, cpu) seconds, MiB)``: ``fn()``'s result, its times, and the resident memory it
    added at its peak (VmHWM after the call, with the high-water mark reset just before, minus
    VmRSS before)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                  # resets VmHWM to the current RSS (Linux >= 4.0)
    before = _status_kib("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    seconds = (time.perf_counter() - start, time.process_time() - cpu)
    return out, seconds, (_status_kib("VmHWM") - before) / 1024


def interleaved(fns: dict, budget: float, min_rounds: int = 3, max_rounds: int = 201) -> dict:
    """Wall and CPU seconds of each callable per round, rounds in rotated order, until ``budget``."""
    names = list(fns)
    wall = {k: [] for k in names}
    cpu = {k: [] for k in names}
    start = time.perf_counter()
    for r in range(max_rounds):
        for k in names[r % len(names):] + names[: r % len(names)]:
            w0, c0 = time.perf_counter(), time.process_time()
            fns[k]()
            cpu[k].append(time.process_time() - c0)
            wall[k].append(time.perf_counter() - w0)
        spent = time.perf_counter() - start
        if (r + 1 >= min_rounds and spent >= budget) or (r == 0 and spent >= budget):
            break
    return {"wall": wall, "cpu": cpu}


def summarize(times: dict, reference: str) -> dict:
    """Medians per implementation and medians over rounds of each one's ratio to ``reference``
    (when it ran)."""
    out = {}
    for k in times["wall"]:
        out[k] = {"rounds": len(times["wall"][k]),
                  "wall_s": statistics.median(times["wall"][k]), "cpu_s": statistics.median(times["cpu"][k])}
        if reference in times["wall"]:
            out[k].update(
                ratio_wall=statistics.median(a / b for a, b in zip(times["wall"][k], times["wall"][reference])),
                ratio_cpu=statistics.median(a / max(b, 1e-9) for a, b in zip(times["cpu"][k], times["cpu"][reference])))
    return out


def environment() -> dict:
    import numpy as np
    from threadpoolctl import threadpool_info

    versions = {"numpy": np.__version__}
    for mod in ("scipy", "jax", "jaxlib", "neural_tangents", "tensorflow", "tf2jax"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod.replace("_", "-") if mod != "tensorflow" else "tensorflow-cpu")
        except Exception:                              # noqa: BLE001  (recorded as missing)
            versions[mod] = None
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), None)
    return {"versions": versions, "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "processor": model, "machine": platform.machine(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "blas": [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                     for p in threadpool_info()]}


# --------------------------------------------------------------------------- Neural Tangents side

def _nt():
    """Import jax (float64 enabled) and neural_tangents.

    neural-tangents 0.6.5 still reads two aliases that jax removed in 0.4.26,
    ``jax.interpreters.ad.source_info_util`` and ``jax.interpreters.ad.config``; they are restored
    (pointing at the objects they used to name) so that its structured mode runs on the pinned jax.
    """
    import warnings

    import jax
    import jax.extend.source_info_util
    import jax.interpreters.ad as ad

    jax.config.update("jax_enable_x64", True)
    if not hasattr(ad, "source_info_util"):
        ad.source_info_util = jax.extend.source_info_util
    if not hasattr(ad, "config"):
        ad.config = jax.config
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import neural_tangents as nt
    return jax, nt


def nt_model(jnp, activation: str, a, m: int):
    """:math:`f(W, X) = \\sigma(XW)a/\\sqrt m` with ``W`` of shape (d, m): the book's network."""
    import jax

    sigma = {"relu": jax.nn.relu, "tanh": jnp.tanh}[activation]
    scale = 1.0 / m**0.5

    def f(W, X):
        return sigma(X @ W) @ a * scale
    return f


def step(label: str) -> None:
    """Tell the parent which implementation runs now (so a crash can be attributed to it)."""
    print(f"STEP {label}", file=sys.stderr, flush=True)


def empirical(n: int, m: int, d: int, activation: str, budget: float, memory_cap_gib: float,
              crashed: dict | None = None) -> dict:
    """One configuration, both precisions: compile, memory, agreement, interleaved timing.

    ``crashed`` maps ``"precision/implementation"`` to the reason an earlier attempt died there;
    those are recorded and skipped."""
    crashed = crashed or {}
    import numpy as np

    import ntklib
    from ntklib import kernels, network

    jax, nt = _nt()
    jnp = jax.numpy
    g = ntklib.rng(f"peers-{n}-{m}-{d}")
    X = ntklib.sphere(n, d, g)
    W = g.standard_normal((m, d))
    a = np.where(g.random(m) < 0.5, -1.0, 1.0)
    K_ref = ntklib.ntk_gram(X, W=W, activation=activation)
    scale = float(np.abs(K_ref).max())
    results = {}
    for precision in PRECISIONS:
        dt = np.dtype(precision).type
        Xj, Wj, aj = jnp.asarray(X, dt), jnp.asarray(W.T, dt), jnp.asarray(a, dt)
        f = nt_model(jnp, activation, aj, m)
        impls = {"ntklib": lambda dt=dt: ntklib.ntk_gram(X, W=W, activation=activation, dtype=dt)}
        record = {}
        for name, impl in NT_IMPLEMENTATIONS.items():
            if f"{precision}/{name}" in crashed:
                record[name] = {"status": "crashed", "reason": crashed[f"{precision}/{name}"]}
                continue
            step(f"{precision}/{name}")
            fn = nt.empirical_ntk_fn(f, trace_axes=(), vmap_axes=0,
                                     implementation=getattr(nt.NtkImplementation, impl))
            start = time.perf_counter()
            compiled = jax.jit(fn).lower(Xj, None, Wj).compile()
            rec = {"compile_s": time.perf_counter() - start}
            ma = compiled.memory_analysis()
            rec["xla_buffers_mib"] = (ma.temp_size_in_bytes + ma.output_size_in_bytes) / 2**20
            if rec["xla_buffers_mib"] > memory_cap_gib * 1024:
                rec.update(status="memory", reason=f"needs {rec['xla_buffers_mib'] / 1024:.1f} GiB of XLA buffers "
                                                   f"(cap {memory_cap_gib:g} GiB)")
            else:
                impls[name] = lambda c=compiled: c(Xj, None, Wj).block_until_ready()
            record[name] = rec
        record["ntklib"] = {}
        # bare products: per chunk, W X^T in the working precision and S^T S (float32 for the ReLU)
        chunks = list(network._chunks(m, n, kernels.GRAM_CHUNK_ELEMENTS))
        width = chunks[0].stop
        Xc, Wc = X.astype(dt), W.astype(dt)
        Zbuf = np.empty((width, n), dt)
        S = kernels._derivatives(ntklib.get_activation(activation), Xc, Wc[:width], dt)

        def bare_products(Xc=Xc, Wc=Wc, Zbuf=Zbuf, S=S):
            for s in chunks:
                k = s.stop - s.start
                np.matmul(Wc[s], Xc.T, out=Zbuf[:k])
                S[:k].T @ S[:k]

        def bare_gram_product(S=S):
            for s in chunks:
                S[: s.stop - s.start].T @ S[: s.stop - s.start]

        for name in list(impls):
            step(f"{precision}/{name}")
            K, (first, first_cpu), rss = peak_memory(impls[name])
            K = np.asarray(K, dtype=float)
            err = float(np.abs(K - K_ref).max() / scale)
            record[name].update(first_call_s=first, first_call_cpu_s=first_cpu, peak_rss_mib=rss, max_rel_error=err)
            if err > TOLERANCE[precision] or not np.all(np.isfinite(K)):
                record[name].update(status="disagrees", reason=f"max relative error {err:.3g} > {TOLERANCE[precision]:g}")
                del impls[name]
            elif first > CALL_CAP_S and name != "ntklib":
                # too slow to repeat: its one call stands for its time (a lower bound on the ratio)
                record[name].update(status="ok", rounds=1, wall_s=first, cpu_s=first_cpu, once=True)
                del impls[name]
            else:
                record[name]["status"] = "ok"
        fns = dict(impls, bare_products=bare_products, bare_gram_product=bare_gram_product)
        times = summarize(interleaved(fns, budget), "ntklib")
        for name, t in times.items():
            record.setdefault(name, {"status": "ok"}).update(t)
        for name, rec in record.items():
            if rec.get("once"):
                rec.update(ratio_wall=rec["wall_s"] / times["ntklib"]["wall_s"],
                           ratio_cpu=rec["cpu_s"] / times["ntklib"]["cpu_s"])
        results[precision] = record
    return {"n": n, "m": m, "d": d, "activation": activation, "precisions": results,
            "threads": threads()}


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def analytic(n: int, d: int, activation: str, budget: float, memory_cap_gib: float, cap_s: float) -> dict:
    """``nt.stax`` against :func:`ntklib.ntk_limit`: agreement (``ntk - nngp``) and time."""
    import numpy as np

    import ntklib

    jax, nt = _nt()
    jnp = jax.numpy
    stax = nt.stax
    X = ntklib.sphere(n, d, ntklib.rng(f"peers-analytic-{n}-{d}"))
    layer = {"relu": stax.Relu(), "erf": stax.Erf(),
             "tanh": stax.ElementwiseNumerical(jnp.tanh, deg=25, df=lambda z: 1 / jnp.cosh(z) ** 2)}[activation]
    _, _, kernel_fn = stax.serial(stax.Dense(512, W_std=d**0.5, b_std=None), layer,
                                  stax.Dense(1, W_std=1.0, b_std=None))
    Xj = jnp.asarray(X)
    fn = jax.jit(lambda x: kernel_fn(x, None, ("nngp", "ntk")))
    start = time.perf_counter()
    compiled = fn.lower(Xj).compile()
    rec_nt = {"compile_s": time.perf_counter() - start}
    ma = compiled.memory_analysis()
    rec_nt["xla_buffers_mib"] = (ma.temp_size_in_bytes + ma.output_size_in_bytes) / 2**20
    record = {"nt_stax": rec_nt, "ntklib": {}}
    fns = {}
    # ntklib's quadrature: time one small block of pairs first and extrapolate, against the cap
    probe = X[: min(n, 20)]
    start = time.perf_counter()
    ntklib.ntk_limit(probe, activation=activation)
    estimate = (time.perf_counter() - start) * (n / probe.shape[0]) ** 2
    if estimate > cap_s:
        record["ntklib"].update(status="time", reason=f"estimated {estimate:.0f} s > cap {cap_s:g} s")
    else:
        fns["ntklib"] = lambda: ntklib.ntk_limit(X, activation=activation)
    if rec_nt["xla_buffers_mib"] > memory_cap_gib * 1024:
        rec_nt.update(status="memory", reason=f"needs {rec_nt['xla_buffers_mib'] / 1024:.1f} GiB of XLA buffers")
    else:
        def nt_call():
            out = compiled(Xj)
            return jax.block_until_ready(out)
        fns["nt_stax"] = nt_call
    values = {}
    for name in list(fns):
        out, (first, first_cpu), rss = peak_memory(fns[name])
        values[name] = np.asarray(out.ntk - out.nngp) if name == "nt_stax" else out
        record[name].update(first_call_s=first, first_call_cpu_s=first_cpu, peak_rss_mib=rss, status="ok")
    if len(values) == 2:
        ref = values["ntklib"]
        diff = np.abs(values["nt_stax"] - ref) / np.abs(ref).max()
        record["nt_stax"]["max_rel_error"] = float(diff.max())
        record["nt_stax"]["max_rel_error_off_diagonal"] = float((diff - np.diag(np.diag(diff))).max())
    if fns:
        for name, t in summarize(interleaved(fns, budget), "ntklib").items():
            record[name].update(t)
    return {"n": n, "d": d, "activation": activation, "implementations": record}


# --------------------------------------------------------------------------- driver

def sweep(quick: bool) -> tuple[list, list]:
    if quick:
        emp = [(n, m, 10, act) for n, m in ((100, 1000), (300, 10_000)) for act in ("relu", "tanh")]
        ana = [(n, 10, act) for n in (100, 300) for act in ("relu", "erf", "tanh")]
    else:
        emp = [(n, m, d, act) for n, m, d, act in itertools.product((100, 300, 1000, 3000), (1000, 10_000, 100_000),
                                                                  (10, 100), ("relu", "tanh"))]
        ana = [(n, d, act) for n, d, act in itertools.product((100, 300, 1000, 3000), (10, 100), ("relu", "erf", "tanh"))]
    return emp, ana


def child(spec: dict) -> dict:
    kind = spec.pop("kind")
    load = os.getloadavg()
    if kind == "empirical":
        out = empirical(**spec)
    else:
        spec.pop("crashed", None)
        out = analytic(**spec)
    return out | {"loadavg_before": load, "loadavg_after": os.getloadavg()}


def thread_environment(threads: int) -> dict:
    """The environment of a child whose BLAS and XLA use ``threads`` threads (0: as configured)."""
    env = dict(os.environ)
    if threads:
        env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        if threads == 1:
            env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                                " intra_op_parallelism_threads=1").strip()
    return env


def run_child(spec: dict, timeout: float, threads: int) -> dict:
    """Run one configuration in a fresh process.  If the process dies inside a Neural Tangents
    implementation (XLA has crashed at the largest sizes), run it again with that implementation
    recorded as crashed, so the others are still measured."""
    start = time.perf_counter()
    crashed: dict = {}
    for _ in range(7):
        try:
            proc = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec | {"crashed": crashed})],
                                  capture_output=True, text=True, timeout=timeout, env=thread_environment(threads))
        except subprocess.TimeoutExpired:
            return {**spec, "error": f"timed out after {timeout:g} s"}
        if proc.returncode == 0:
            return json.loads(proc.stdout.strip().splitlines()[-1]) | {"seconds": time.perf_counter() - start}
        steps = [line.split(None, 1)[1] for line in proc.stderr.splitlines() if line.startswith("STEP ")]
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit {proc.returncode}"
        if spec["kind"] != "empirical" or not steps or steps[-1].endswith("/ntklib") or steps[-1] in crashed:
            tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
            return {**spec, "error": f"{how} in {steps[-1] if steps else 'setup'}: {tail}"}
        crashed[steps[-1]] = f"the process died ({how}) in this implementation"
    return {**spec, "error": "too many crashes"}


def best_peer(record: dict) -> tuple[str | None, float | None, float | None]:
    """The Neural Tangents implementation with the smallest paired CPU-time ratio, and its ratios
    (wall, CPU)."""
    ran = [(r["ratio_cpu"], k, r["ratio_wall"]) for k, r in record.items()
           if k.startswith("nt_") and r.get("status") == "ok" and "ratio_cpu" in r]
    if not ran:
        return None, None, None
    cpu, name, wall = min(ran)
    return name, wall, cpu


def report_line(job: dict, res: dict) -> str:
    if job["kind"] == "analytic":
        head = f"analytic n={job['n']:5d} d={job['d']:3d} {job['activation']:4s}:"
        if "error" in res:
            return f"{head} ERROR {res['error']}"
        r = res["implementations"]
        return head + ", ".join(f" {k} {v.get('cpu_s', float('nan')) * 1e3:.2f} ms cpu ({v.get('status')})"
                                for k, v in r.items()) + \
            (f", agreement {r['nt_stax']['max_rel_error']:.2g}" if "max_rel_error" in r["nt_stax"] else "")
    head = f"n={job['n']:5d} m={job['m']:6d} d={job['d']:3d} {job['activation']:4s}"
    if "error" in res:
        return f"{head}  ERROR {res['error']}"
    lines = []
    for precision, rec in res["precisions"].items():
        name, wall, cpu = best_peer(rec)
        best = f"{name[3:]:24s} {wall:6.2f}x wall {cpu:6.2f}x cpu" if name else "no NT implementation ran"
        lines.append(f"{head} {precision}: ntklib {rec['ntklib']['cpu_s'] * 1e3:9.2f} ms cpu, best NT {best}, "
                     f"ntklib/bare products {rec['ntklib']['cpu_s'] / rec['bare_products']['cpu_s']:.2f} (cpu)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few small sizes (a smoke run)")
    parser.add_argument("--output", help="default: benchmarks/peers.json (benchmarks/peers-quick.json with --quick)")
    parser.add_argument("--budget", type=float, default=None, help="seconds of timing per configuration and precision")
    parser.add_argument("--memory-cap-gib", type=float, default=8.0, help="largest XLA buffer assignment run")
    parser.add_argument("--threads", type=int, default=0, choices=(0, 1),
                        help="1: BLAS and XLA on one thread each (for a loaded machine); 0: as configured")
    parser.add_argument("--workers", type=int, default=1, help="configurations run at once (each in its own process)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    budget = args.budget if args.budget is not None else (2.0 if args.quick else 8.0)
    out = Path(args.output or ROOT / "benchmarks" / ("peers-quick.json" if args.quick else "peers.json"))
    emp, ana = sweep(args.quick)
    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "quick": args.quick, "environment": environment(),
               "settings": {"budget_s": budget, "memory_cap_gib": args.memory_cap_gib, "tolerance": TOLERANCE,
                            "threads": args.threads or os.cpu_count(), "call_cap_s": CALL_CAP_S,
                            "workers": args.workers},
               "loadavg_start": os.getloadavg(), "empirical": [], "analytic": []}
    jobs = [{"kind": "empirical", "n": n, "m": m, "d": d, "activation": act, "budget": budget,
             "memory_cap_gib": args.memory_cap_gib} for n, m, d, act in emp]
    jobs += [{"kind": "analytic", "n": n, "d": d, "activation": act, "budget": budget,
              "memory_cap_gib": args.memory_cap_gib, "cap_s": 30.0 if args.quick else 60.0} for n, d, act in ana]
    # smallest first (a run cut short still covers the sweep from below); results stored in sweep order
    jobs.sort(key=lambda j: (j["n"] ** 2 * j.get("m", 300) + j["n"] * j.get("m", 300) * j["d"]))
    ok = True
    started = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run_child, dict(job), 3600, args.threads): job for job in jobs}
        for future in as_completed(futures):
            job, res = futures[future], future.result()
            ok &= "error" not in res
            results[job["kind"]].append(res)
            print(report_line(job, res), flush=True)
            for kind in ("empirical", "analytic"):
                results[kind].sort(key=lambda r: (r["n"], r.get("m", 0), r["d"], r["activation"]))
            out.write_text(json.dumps(results, indent=1) + "\n")
    results["loadavg_end"] = os.getloadavg()
    results["total_s"] = time.perf_counter() - started
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"results written to {out} ({results['total_s'] / 60:.0f} min)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
