"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader import notebook as nbio
from grader import rubric
from grader.namespaces import ReferenceNamespace, ReferenceSet
from grader.runner import run_tests
from grader.scoring import score_tests

ROOT = Path(__file__).resolve().parents[2]


def cells(change: tuple[str, str] | None = None) -> list[str]:
    nb = nbformat.read(ROOT / "solutions" / "week3_nn_basic" / "reference.ipynb", as_version=4)
    sources = [nbio.remove_markers(c.source) for c in nb.cells if c.cell_type == "code"]
    if change is None:
        return sources
    hits = [i for i, s in enumerate(sources) if change[0] in s]
    assert len(hits) == 1, change[0]
    sources[hits[0]] = sources[hits[0]].replace(change[0], change[1])
    return sources


@pytest.fixture(scope="module")
def graded() -> Any:
    """Grade the reference solution with one piece changed, ``(old, new)``, as a student would
    write it: its cells run in this process, the real week-3 rubric's tests, public and hidden."""
    def grade(change: tuple[str, str]) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
        rb = rubric.load(ROOT / "rubrics" / "week3_nn_basic")
        ref = cells()
        reference = ReferenceSet(
            ReferenceNamespace(ref, files=rb.files),
            [(v, ReferenceNamespace([*ref, v.source], files=rb.files, prefix=f"{v.name}:")) for v in rb.variants],
            rb.returns,
        )
        student = ReferenceNamespace(cells(change), files=rb.files)
        tests, tasks = score_tests(run_tests(rb, student=student, reference=reference, budget=600), rb.tasks)
        return {t["name"]: t for t in tests}, {t["name"]: t["score"] for t in tasks}
    return grade
