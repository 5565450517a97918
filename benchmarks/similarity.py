#!/usr/bin/env python
"""Similar submissions on the fixture batch: precision, recall and time.

    python benchmarks/similarity.py [--repeat N]

The batch is tests/fixtures/notebooks/similar/ (written by tests/fixtures/make_similar_batch.py);
its MANIFEST.toml names the true copy pairs, every other pair is independent work. Prints every
pair found (true copy or not), the precision and recall over pairs, the time for the batch and, as
the comparison is over all pairs, that time extrapolated quadratically to 300 submissions (an
upper bound: reading and fingerprinting grow linearly).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.similarity import DEFAULT_HANDOUT, similar_pairs  # noqa: E402 - after the repository is on the path

MARKS = ("##\uc624\ub958\uc218\uc815##",)  # the course's "error fixed" mark on its corrected revision

BATCH = ROOT / "tests" / "fixtures" / "notebooks" / "similar"


def load_batch() -> tuple[dict[str, Path], list[Path], set[frozenset[str]]]:
    manifest = tomllib.loads((BATCH / "MANIFEST.toml").read_text(encoding="utf-8"))
    handout = [(BATCH / h).resolve() for h in manifest["handout"]]
    truth = {frozenset((c["a"], c["b"])) for c in manifest["copy"]}
    return {p.stem: p for p in sorted(BATCH.glob("*.ipynb"))}, handout, truth


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs to time (the best is kept)")
    ap.add_argument("--measure", type=int, default=300, metavar="N",
                    help="also time a batch of N submissions (the fixtures again under other names; 0: skip)")
    args = ap.parse_args()
    subs, handout, truth = load_batch()
    best = float("inf")
    pairs = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        pairs = similar_pairs(subs, handout)
        best = min(best, time.perf_counter() - t0)
    found = {frozenset((p.student_a, p.student_b)) for p in pairs}
    for p in pairs:
        mark = "copy" if frozenset((p.student_a, p.student_b)) in truth else "NOT A COPY"
        print(f"  {p.student_a} {p.student_b} score {p.score:.2f} shared {p.shared}  [{mark}]")
    for missed in sorted(tuple(sorted(m)) for m in truth - found):
        print(f"  missed: {missed[0]} {missed[1]}")
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    n = len(subs)
    print(f"{n} submissions, {n * (n - 1) // 2} pairs, {len(truth)} true copy pairs, {len(found)} flagged")
    print(f"precision {precision:.2f} ({hits}/{len(found)}), recall {recall:.2f} ({hits}/{len(truth)})")
    print(f"time for the batch: {best:.2f} s (best of {max(1, args.repeat)})")
    print(f"extrapolated to 300 submissions if it scales quadratically: {best * (300 / n) ** 2:.0f} s")
    # the handout as a TA would give it: the project's student notebook, which has neither of the
    # corpus's renderings; the corrected revision is then known only by its marks
    for label, kw in (("without handout_marks", {}), ("with the course's revision mark", {"handout_marks": MARKS})):
        got = {frozenset((p.student_a, p.student_b)) for p in similar_pairs(subs, DEFAULT_HANDOUT, **kw)}
        ok = len(got & truth)
        share = ok / len(got) if got else 1.0
        print(f"handout = the project's student notebook, {label}: precision {share:.2f} ({ok}/{len(got)}), "
              f"recall {ok / len(truth):.2f} ({ok}/{len(truth)})")
    if args.measure:
        names = list(subs)
        big = {f"{names[i % n]}_{i}": subs[names[i % n]] for i in range(args.measure)}
        t0 = time.perf_counter()
        many = similar_pairs(big, handout)
        print(f"measured: {args.measure} submissions in {time.perf_counter() - t0:.1f} s ({len(many)} pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
