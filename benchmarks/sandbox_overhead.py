"""What the sandbox costs per notebook: the same notebook graded under each mechanism, interleaved.

    python benchmarks/sandbox_overhead.py [--runs 5] [--notebook PATH]

Runs are interleaved (warm, cold, none, warm, cold, none, ...) so machine noise hits all alike;
prints the median wall time and the split into kernel start, execution and tests.
`rlimits` is the unsandboxed baseline (limits only, no namespaces); `bwrap` is a cold
sandboxed kernel; `forkserver` a warm one.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from grader import api
from grader.sandbox import detect_mechanism

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--notebook", type=Path, default=ROOT / "tests/fixtures/notebooks/week3/passes_all.ipynb")
    args = ap.parse_args()
    rb = api.load_rubric(assignment="week3_nn_basic")
    mechanisms = []
    for m in ("forkserver", "bwrap", "rlimits"):
        try:
            if detect_mechanism(m)[0] == m:
                mechanisms.append(m)
        except Exception as exc:  # noqa: BLE001 - a mechanism this machine lacks is skipped, said so
            print(f"skipping {m}: {exc}")
    for m in mechanisms:  # warm-up: reference, zygote, caches
        api.grade_notebook(args.notebook, rb, sandbox=m)
    rows: dict[str, list[dict[str, float]]] = {m: [] for m in mechanisms}
    for _ in range(args.runs):
        for m in mechanisms:
            t = time.perf_counter()
            r = api.grade_notebook(args.notebook, rb, sandbox=m)
            rows[m].append({**r["timings"], "wall": time.perf_counter() - t, "score": r["score"]})
    base = statistics.median(x["wall"] for x in rows.get("rlimits", rows[mechanisms[-1]]))
    print(f"{args.notebook.name}, median of {args.runs} interleaved runs")
    print(f"{'mechanism':12s} {'wall':>7s} {'start':>7s} {'execute':>8s} {'tests':>7s} {'vs rlimits':>11s}")
    for m in mechanisms:
        med = {k: statistics.median(x[k] for x in rows[m]) for k in ("wall", "kernel_start", "execute", "tests")}
        print(f"{m:12s} {med['wall']:7.3f} {med['kernel_start']:7.3f} {med['execute']:8.3f} {med['tests']:7.3f} "
              f"{med['wall'] - base:+10.3f}s")
        if any(x["score"] != rows[m][0]["score"] for x in rows[m]):
            raise SystemExit(f"{m}: the score changed between runs: {[x['score'] for x in rows[m]]}")


if __name__ == "__main__":
    main()
