"""Compare two grading output folders result by result, timings aside.

    python benchmarks/compare_results.py BEFORE_OUT AFTER_OUT

Prints every submission whose result.json differs (timings and the random names of scratch
folders aside) (the differing keys, with both values) and
exits 1 when any does. Used to show that a refactor changed only the structure: grade the
fixtures before and after, then compare.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

IGNORED = {"timings"}
# a sandbox's scratch folder gets a random name per run (tempfile.mkdtemp)
SCRATCH = re.compile(r"/tmp/grader-[A-Za-z0-9_-]+")  # noqa: S108 - a pattern matched in text, no file is made


def _unscratched(text: str) -> str:
    return SCRATCH.sub("<scratch>", text)


def _walk(a: Any, b: Any, where: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key in IGNORED:
                continue
            if key not in a or key not in b:
                out.append(f"{where}.{key}: {'missing before' if key not in a else 'missing after'}")
            else:
                _walk(a[key], b[key], f"{where}.{key}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{where}: {len(a)} items before, {len(b)} after")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):  # lengths compared just above
            _walk(x, y, f"{where}[{i}]", out)
    elif a != b and not (isinstance(a, str) and isinstance(b, str) and _unscratched(a) == _unscratched(b)):
        out.append(f"{where}: {str(a)[:160]!r} -> {str(b)[:160]!r}")


def results(folder: Path) -> dict[str, dict[str, Any]]:
    return {str(p.relative_to(folder)): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(folder.rglob("result.json"))}


def main(argv: list[str]) -> int:
    before, after = (results(Path(a)) for a in argv[:2])
    changed = 0
    for name in sorted(set(before) | set(after)):
        diffs: list[str] = []
        if name not in before or name not in after:
            diffs.append("only " + ("after" if name not in before else "before"))
        else:
            _walk(before[name], after[name], "", diffs)
        if diffs:
            changed += 1
            print(name)
            for line in diffs:
                print("   ", line)
    print(f"{len(before)} before, {len(after)} after, {changed} differ (timings aside)")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
