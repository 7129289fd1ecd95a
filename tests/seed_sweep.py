"""Seed sweep: execute every chapter under N values of NTKLIB_SEED and tabulate each verification.

Usage (``make seeds N=20`` does this):

    python tests/seed_sweep.py --seeds 20 [--jobs 2] [--output seed_sweep.json] [--chapters chapters/02-taylor.md ...]

Every check in the chapters records itself (the plugin's ``--ntklib-records`` directory), including
the ones that fail, so one run per seed gives, for every verification label, how often it passed.
Each chapter's registry audit also runs under every seed: a mutation that some seed fails to reject
makes that seed's pytest run fail.  The script
prints the table and exits with status 1 if any verification failed for any seed.  It is not part
of the test suite (20 seeds take about half an hour on two cores).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_seed(seed: int, workdir: Path, chapters: list[str]) -> tuple[int, list[dict], int]:
    """Run the chapters through nbval with NTKLIB_SEED=seed; return the records and pytest's exit code."""
    folder = workdir / f"records-{seed}"
    env = {**os.environ, "NTKLIB_SEED": str(seed)}
    proc = subprocess.run([sys.executable, "-m", "pytest", *chapters, "-q", "-p", "no:cacheprovider",
                           "--ntklib-records", str(folder)], cwd=ROOT, env=env, capture_output=True, text=True)
    records = [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]
    if proc.returncode != 0:
        failed = [line for line in proc.stdout.splitlines() if line.startswith("FAILED")]
        print(f"seed {seed}: pytest failures:\n  " + "\n  ".join(failed), flush=True)
    return seed, records, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="number of seeds (0, 1, ..., N-1 offset by --first)")
    parser.add_argument("--first", type=int, default=1, help="first seed")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", default=str(ROOT / "seed_sweep.json"))
    parser.add_argument("--chapters", nargs="+", default=["chapters"], help="chapter files (default: all)")
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    failures: list[tuple[int, str, float]] = []
    exit_codes = {}
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        for seed, records, code in pool.map(lambda s: run_seed(s, Path(tmp), args.chapters), seeds):
            exit_codes[seed] = code
            for r in records:
                key = f"{r['label']} [{r['kind']}]"
                table[key]["pass" if r["passed"] else "fail"] += 1
                if not r["passed"]:
                    failures.append((seed, key, r["worst_ratio"]))
            print(f"seed {seed}: {len(records)} checks, pytest exit {code}", flush=True)
    width = max(len(k) for k in table)
    print(f"\n{'verification':{width}s}  pass  fail")
    for key in sorted(table):
        print(f"{key:{width}s}  {table[key]['pass']:4d}  {table[key]['fail']:4d}")
    for seed, key, ratio in failures:
        print(f"FAILED: seed {seed}: {key} (worst ratio {ratio:.4g})")
    Path(args.output).write_text(json.dumps({"seeds": list(seeds), "exit_codes": exit_codes,
                                             "table": {k: dict(v) for k, v in table.items()},
                                             "failures": failures}, indent=2) + "\n")
    ok = not failures and all(code == 0 for code in exit_codes.values())
    print(f"\n{len(list(seeds))} seeds, {sum(sum(c.values()) for c in table.values())} checks, "
          f"{len(failures)} failures; results in {args.output}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
