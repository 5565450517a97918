"""Grade a folder of submissions with grader.batch.grade; run as a measured subprocess.

    python run_grader.py SUBMISSIONS OUT --jobs K --sandbox auto --summary SUMMARY.json [--rubric DIR]

Hidden tests are included (the TA's rubric, as `grader grade` loads it). Writes a small JSON
summary; the per-notebook results are the result.json files under OUT/submissions/.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("submissions", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--sandbox", default="auto")
    ap.add_argument("--assignment", default="week3_nn_basic")
    ap.add_argument("--summary", type=Path, required=True)
    ap.add_argument("--rubric", type=Path, help="grade with this rubric folder instead of rubrics/<assignment>")
    ap.add_argument("--one-core", action="store_true", help="pin this process (and so all it starts) to one CPU")
    args = ap.parse_args()
    if args.one_core:
        import os

        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    t0 = time.perf_counter()
    import grader.api
    import grader.batch

    rubric = grader.api.load_rubric(assignment=args.assignment, rubric=args.rubric)
    t_import = time.perf_counter() - t0
    summary = grader.batch.grade([args.submissions], args.out, rubric=rubric, jobs=args.jobs, sandbox=args.sandbox)
    args.summary.write_text(json.dumps({
        "total": summary.total,
        "skipped": summary.skipped,
        "by_status": summary.by_status,
        "seconds": summary.seconds,
        "import_and_rubric_seconds": t_import,
        "public_only": rubric.public_only,
        "interrupted": summary.interrupted,
    }), encoding="utf-8")
    return 130 if summary.interrupted else 0


if __name__ == "__main__":
    raise SystemExit(main())
