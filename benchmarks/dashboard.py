"""The class dashboard's cost: render ``OUT/index.html`` for a class of synthetic results.

    python benchmarks/dashboard.py                  # 300 results, 15 renders, Korean
    python benchmarks/dashboard.py --n 1000 --repeat 5 --lang en --keep /tmp/index.html

Makes ``--n`` whole results of the week-3 rubric's shape (six parts, two public and one hidden
test each, 100 points; seeded, so every run draws the same class): scores spread over the whole
range, about 8 % crashed and 3 % invalid (with their reasons), about 15 % partly graded, one to
three of eight named mistakes on most failed tests, some students with two submissions, 10
similar pairs and 5 overrides. Renders the page ``--repeat`` times (after one warm-up render that
loads the template) and prints the median and the fastest render time, and the page's size in
bytes (UTF-8, as ``write_dashboard`` writes it). No kernel, no gradebook: the results are built
in memory, as ``Gradebook.results()`` would hand them over.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from grader.gradebook import Override
from grader.report.dashboard import RunFacts, SimilarPair, render_dashboard
from grader.result import Diagnosis, Result, TaskScore, TestResult

PARTS = (("gates", "1. 논리 게이트", 12.0), ("activations", "2. 활성화 함수", 12.0), ("forward", "3. 순전파", 16.0),
         ("backprop", "4. 역전파", 24.0), ("training", "5. 뉴런 학습", 20.0), ("perceptron", "6. Iris 퍼셉트론", 16.0))
MISTAKES = [(f"mistake_{i}", part) for i, (part, _, _) in enumerate(PARTS + PARTS[:2])]
REASONS = ("the kernel died (SIGKILL): out of memory", "worker lost: the grading process ended unexpectedly",
           "not a notebook: the file is not JSON (Expecting value: line 1 column 1)")


def synthetic(n: int, seed: int = 14) -> list[Result]:
    """``n`` results of a class: varied scores, statuses and mistakes (see the module docstring)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible synthetic class, not a secret
    results = []
    for i in range(n):
        student = f"s{i:04d}" if rng.random() > 0.03 else f"s{i - 1:04d}"  # a few hand in twice
        roll = rng.random()
        status = "crashed" if roll < 0.08 else "invalid" if roll < 0.11 else "partial" if roll < 0.26 else "graded"
        skill = rng.betavariate(4, 2)
        tasks, tests = [], []
        for name, title, top in PARTS:
            share = 0.0 if status in ("crashed", "invalid") else min(1.0, max(0.0, rng.gauss(skill, 0.25)))
            score = round(top * round(share * 3) / 3, 4)
            tasks.append(TaskScore(name, title, score, top))
            for k, visibility in enumerate(("public", "public", "hidden")):
                ok = status not in ("crashed", "invalid") and score >= top * (k + 1) / 3 - 1e-9
                mistakes = () if ok or status in ("crashed", "invalid") else tuple(
                    Diagnosis(m, "mistake", f"hint of {m}", title=f"title of {m}", title_en=f"{m} in English")
                    for m, part in MISTAKES if part == name and rng.random() < 0.6)
                tests.append(TestResult(f"test_{name}_{k}", name, visibility,
                                        "passed" if ok else "error" if status in ("crashed", "invalid") else "failed",
                                        "" if ok else "wrong", top / 3 if ok else 0.0, top / 3, diagnoses=mistakes))
        common = {"assignment": "week3_nn_basic", "rubric_version": "9", "submission": f"{student}/week3_{i}.ipynb",
                  "student": student, "sha256": f"{i:064x}", "pass_mark": 60.0, "tests": tests, "tasks": tasks}
        if status == "crashed":
            results.append(Result.crashed(**common, reason=REASONS[i % 2], sandbox="bwrap"))
        elif status == "invalid":
            results.append(Result.invalid(**common, reason=REASONS[2]))
        else:
            results.append(Result.scored(**common, status=status, reason="", sandbox="bwrap"))
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="results in the class (default 300)")
    ap.add_argument("--repeat", type=int, default=15, help="timed renders (default 15)")
    ap.add_argument("--lang", default="ko", choices=("ko", "en"))
    ap.add_argument("--keep", type=Path, help="also write the page here, to look at")
    args = ap.parse_args(argv)
    results = synthetic(args.n)
    rng = random.Random(1)  # noqa: S311 - reproducible sample pairs, not a secret
    similar = [SimilarPair(f"s{rng.randrange(args.n):04d}", f"s{rng.randrange(args.n):04d}",
                           round(rng.uniform(0.7, 1.0), 3), f"similar/pair_{k}.html") for k in range(10)]
    overrides = [Override("week3_nn_basic", f"s{rng.randrange(args.n):04d}", PARTS[k][0], 10.0, "regraded by hand",
                          "ta", "2026-11-30T12:00:00+00:00") for k in range(5)]
    facts = RunFacts(date=datetime.now(timezone.utc), grader_version="bench", assignment="week3_nn_basic",
                     rubric_version="9", sandbox="bwrap", graded_now=args.n, skipped=0)

    def render() -> str:
        return render_dashboard(results, facts=facts, lang=args.lang, similar=similar, overrides=overrides)

    page = render()  # warm-up: loads and compiles the template
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        page = render()
        times.append(time.perf_counter() - t0)
    size = len(page.encode("utf-8"))
    if args.keep:
        args.keep.write_text(page, encoding="utf-8")
    statuses = {s: sum(r.status == s for r in results) for s in ("graded", "partial", "crashed", "invalid")}
    print(f"class: {args.n} results ({', '.join(f'{k} {v}' for k, v in statuses.items())}), lang {args.lang}")
    print(f"render: median {1000 * statistics.median(times):.1f} ms, fastest {1000 * min(times):.1f} ms "
          f"({args.repeat} renders)")
    print(f"page: {size:,} bytes ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
