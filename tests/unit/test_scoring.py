"""Scoring is a pure function: outcomes and task points in, scores out."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from grader.result import Result, ResultError, TaskScore
from grader.scoring import TaskSpec, score_tests, scored_parts


def outcome(task: str, fraction: float, weight: float = 1.0, name: str = "t") -> dict[str, Any]:
    return {"name": name, "task": task, "weight": weight, "fraction": fraction, "status": "x"}


def total(totals: list[dict[str, Any]]) -> tuple[float, float]:
    """A result's score and max_score: Result.scored totals the task scores."""
    r = Result.scored(assignment="a", rubric_version="1", submission="s", student="s", sha256="", pass_mark=0.0,
                      status="graded", reason="", tests=[], tasks=[TaskScore.from_dict(t) for t in totals])
    return r.score, r.max_score


TASKS = [TaskSpec("gates", "Gates", 12), TaskSpec("activations", "Activations", 14)]


def test_points_are_shared_by_weight_within_a_task() -> None:
    tests, totals = score_tests(
        [outcome("gates", 1, 1, "a"), outcome("gates", 1, 2, "b"), outcome("gates", 1, 1, "c")], TASKS
    )
    assert [t["max_score"] for t in tests] == [3.0, 6.0, 3.0]
    assert [t["score"] for t in tests] == [3.0, 6.0, 3.0]
    assert totals[0] == {"name": "gates", "title": "Gates", "score": 12.0, "max_score": 12.0}


def test_outcomes_lose_weight_and_fraction_but_keep_the_rest() -> None:
    tests, _ = score_tests([outcome("gates", 1)], TASKS)
    assert set(tests[0]) == {"name", "task", "status", "score", "max_score"}


def test_partial_fractions() -> None:
    tests, totals = score_tests(
        [outcome("activations", 0.5, name="a"), outcome("activations", 0.0, name="b"),
         outcome("activations", 1.0, name="c")],
        TASKS,
    )
    assert [t["score"] for t in tests] == [pytest.approx(2.3333), 0.0, pytest.approx(4.6667)]
    assert totals[1]["score"] == 7.0
    assert totals[1]["max_score"] == 14.0


@pytest.mark.parametrize("points, n", [(14, 3), (13.9, 7), (22, 9), (100 / 3, 6), (12, 48)])
def test_a_fully_earned_task_is_exactly_its_points(points: float, n: int) -> None:
    # per-test shares are rounded (14 / 3 = 4.6667); the task total must not be 13.9998 or 14.0001
    weights = itertools.islice(itertools.cycle([1 / 3, 0.1, 0.2, 1, 2, 0.7, 1 / 7, 3, 0.05]), n)
    outs = [outcome("t", 1.0, weight=w, name=str(i)) for i, w in enumerate(weights)]
    _, totals = score_tests(outs, [TaskSpec("t", "T", points)])
    assert totals[0]["score"] == totals[0]["max_score"] == round(points, 4)


def test_totals_sum_task_scores() -> None:
    _, totals = score_tests(
        [outcome("gates", 1, name="a"), outcome("gates", 0.5, name="b"), outcome("activations", 1, name="c")], TASKS
    )
    assert total(totals) == (9.0 + 14.0, 26.0)


def test_a_task_without_outcomes_scores_zero_of_its_points() -> None:
    _, totals = score_tests([outcome("gates", 1)], TASKS)
    assert totals[1] == {"name": "activations", "title": "Activations", "score": 0.0, "max_score": 14.0}
    assert total(totals) == (12.0, 26.0)


def test_outcomes_of_unknown_tasks_are_worth_nothing() -> None:
    tests, totals = score_tests([outcome("nope", 1)], TASKS)
    assert tests[0]["max_score"] == 0.0 and tests[0]["score"] == 0.0
    assert total(totals) == (0.0, 26.0)


def test_zero_weights_do_not_divide_by_zero() -> None:
    tests, totals = score_tests([outcome("gates", 1, weight=0)], TASKS)
    assert tests[0]["max_score"] == 0.0
    assert totals[0]["score"] == 0.0


@pytest.mark.parametrize("fraction, earned", [(1.5, 12.0), (-0.5, 0.0), (1e9, 12.0), (-1e9, 0.0)])
def test_fractions_are_clamped_to_0_1(fraction: float, earned: float) -> None:
    tests, totals = score_tests([outcome("gates", fraction)], TASKS)
    assert tests[0]["score"] == earned
    assert totals[0]["score"] == earned


def test_nan_fraction_earns_nothing() -> None:
    tests, totals = score_tests([outcome("gates", float("nan"))], TASKS)
    assert tests[0]["score"] == 0.0
    assert totals[0]["score"] == 0.0


def test_scoring_is_deterministic_and_pure() -> None:
    outs = [outcome("gates", 0.3, name="a"), outcome("activations", 1, 2, name="b")]
    before = [dict(o) for o in outs]
    assert score_tests(outs, TASKS) == score_tests(outs, TASKS)
    assert outs == before


def full(task: str, fraction: float, name: str) -> dict[str, Any]:
    return {**outcome(task, fraction, name=name), "visibility": "public", "message": "", "notes": [],
            "diagnoses": [{"name": "n", "kind": "mistake", "hint": "h"}], "details": {"first_difference": [1]}}


def test_scored_parts_are_the_typed_scores() -> None:
    outs = [full("gates", 0.5, "a"), full("activations", 1.0, "b")]
    tests, tasks = scored_parts(outs, TASKS)
    as_dicts = score_tests(outs, TASKS)
    assert [t.to_dict() for t in tests] == as_dicts[0]
    assert [t.to_dict() for t in tasks] == as_dicts[1]
    assert tests[0].details.first_difference == (1,) and tests[0].diagnoses[0].kind == "mistake"


def test_scored_parts_refuse_an_outcome_field_the_result_does_not_know() -> None:
    with pytest.raises(ResultError, match="unknown field.*'surprise'"):
        scored_parts([{**full("gates", 1.0, "a"), "surprise": 1}], TASKS)
