"""The committed student bundle must be what `grader generate` writes now (not stale)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from grader import authoring, rubric

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("assignment", ["week3_nn_basic", "week3_written"])
def test_bundle_is_up_to_date(assignment, tmp_path):
    rb = rubric.load(ROOT / "rubrics" / assignment)
    authoring.write_bundle(rb, tmp_path / assignment)
    committed = ROOT / "assignments" / assignment
    fresh = sorted(p.relative_to(tmp_path / assignment) for p in (tmp_path / assignment).rglob("*") if p.is_file())
    have = sorted(p.relative_to(committed) for p in committed.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)
    assert fresh == have, "run `grader generate " + assignment + "` and commit assignments/"
    for rel in fresh:
        assert filecmp.cmp(tmp_path / assignment / rel, committed / rel, shallow=False), (
            f"assignments/{assignment}/{rel} is stale: run `grader generate {assignment}`"
        )


def test_no_hidden_test_or_solution_ships_to_students():
    bundle = ROOT / "assignments" / "week3_nn_basic"
    assert not (bundle / "tests" / "hidden").exists()
    text = (bundle / "week3_nn_basic.ipynb").read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text
    assert "X @ self.weight[1:] + self.weight[0]" not in text  # the Perceptron's solution line
    assert "raise NotImplementedError()" in text
    assert not list(bundle.rglob("variants"))
