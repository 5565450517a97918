"""The Result type: typed parts, the exact JSON text of result.json, and reading it back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from grader.result import (
    RESULT_SCHEMA,
    CellFailure,
    Details,
    Diagnosis,
    Result,
    ResultError,
    TaskScore,
    TestResult,
    canonical_json,
)



def sample() -> dict[str, Any]:
    return {
        "schema": 1, "assignment": "week3_nn_basic", "rubric_version": "2026.11-2",
        "submission": "김민준/week3.ipynb", "student": "김민준", "sha256": "ab" * 32,
        "status": "partial", "reason": "1 cell(s) failed", "score": 61.5, "max_score": 100.0,
        "pass_mark": 60.0, "passed": True,
        "tasks": [{"name": "gates", "title": "논리 게이트", "score": 10.0, "max_score": 12.0}],
        "tests": [
            {"name": "test_xor", "task": "gates", "visibility": "hidden", "status": "failed",
             "message": "XOR(1, 1): expected 0, got 1", "score": 0.0, "max_score": 2.0,
             "diagnoses": [{"name": "xor_as_or", "kind": "mistake", "hint": "XOR는 OR가 아닙니다"}],
             "notes": ["judged where defined"],
             "details": {"call": "XOR(1, 1)", "expected": "0", "got": "1", "first_difference": [0, 1]}},
            {"name": "test_and", "task": "gates", "visibility": "public", "status": "passed", "message": "",
             "score": 1.5, "max_score": 1.5, "diagnoses": [], "notes": [], "details": {}},
        ],
        "cells": [
            {"index": 2, "status": "error", "error": "AttributeError: module 'numpy' has no attribute 'int'",
             "origin": "handout", "slip": "np_int", "slip_title": "np.int", "hint": "write int"},
            {"index": 5, "status": "timeout", "error": "cell ran longer than 10 s and was stopped"},
        ],
        "notes": ["np.int was used"], "sandbox": "bwrap",
        "timings": {"kernel_start": 0.1, "execute": 1.25, "tests": 0.2, "total": 1.6},
    }


def test_round_trip_is_byte_identical_to_the_dict_text() -> None:
    data = sample()
    result = Result.from_dict(data)
    assert result.to_dict() == data
    text = result.to_json()
    assert text == json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
    assert "김민준" in text and text.endswith("}\n") and '\n "assignment"' in text
    assert Result.from_json(text) == result
    assert Result.from_json(text.encode("utf-8")).to_json() == text


def test_typed_parts() -> None:
    result = Result.from_dict(sample())
    assert result.tasks == (TaskScore("gates", "논리 게이트", 10.0, 12.0),)
    xor = result.tests[0]
    assert xor.diagnoses == (Diagnosis("xor_as_or", "mistake", "XOR는 OR가 아닙니다"),)
    assert xor.details == Details(call="XOR(1, 1)", expected="0", got="1", first_difference=(0, 1))
    assert result.tests[1].details == Details() and result.tests[1].details.to_dict() == {}
    assert result.cells[0].origin == "handout" and result.cells[1] == CellFailure(5, "timeout", result.cells[1].error)
    assert "origin" not in result.cells[1].to_dict()


def test_report_error_appears_only_when_set() -> None:
    result = Result.from_dict(sample())
    assert "report_error" not in result.to_dict()
    noted = result.with_report_error("OSError: disk full").with_report_error("second")
    assert noted.to_dict()["report_error"] == "OSError: disk full"
    assert Result.from_json(noted.to_json()) == noted


def test_without_timings_and_with_timing() -> None:
    result = Result.from_dict(sample()).with_timing("total", 9.5)
    assert result.timings["total"] == 9.5
    assert "timings" not in result.without_timings()


def _unscored(task: str, max_score: float) -> TestResult:
    return TestResult(name="t", task=task, visibility="public", status="error", message="not run: x",
                      score=0.0, max_score=max_score)


def test_crashed_and_invalid_constructors_total_their_tasks() -> None:
    ident = dict(assignment="a", rubric_version="1", submission="s.ipynb", student="s", sha256="", pass_mark=60.0)
    tasks = [TaskScore("g", "G", 0.0, 12.0), TaskScore("h", "H", 0.0, 88.0)]
    crashed = Result.crashed(**ident, reason="the worker died", tests=[_unscored("g", 12.0)], tasks=tasks)
    assert (crashed.status, crashed.score, crashed.max_score, crashed.passed) == ("crashed", 0.0, 100.0, False)
    assert crashed.to_dict()["notes"] == [] and crashed.sandbox == ""
    invalid = Result.invalid(**ident, reason="not JSON", tests=[], tasks=tasks, timings={"total": 0.01})
    assert invalid.status == "invalid" and invalid.timings == {"total": 0.01}
    passed = Result.scored(**ident, status="graded", reason="", tests=[], tasks=[TaskScore("g", "G", 60.00001, 100.0)])
    assert passed.score == 60.0 and passed.passed


def test_a_crashed_result_without_notes_is_read() -> None:
    data = sample()
    del data["notes"]
    assert Result.from_dict(data).notes == ()


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("sha256"), "lacks the field 'sha256'"),
    (lambda d: d.update(status="done"), "status 'done'"),
    (lambda d: d.update(score="61.5"), "'score' is str"),
    (lambda d: d.update(passed=1), "'passed' is int"),
    (lambda d: d.update(schema=2), "schema 2"),
    (lambda d: d.update(extra=1), "unknown field"),
    (lambda d: d["tests"][0].pop("visibility"), "test_xor.*'visibility'"),
    (lambda d: d["tests"][0]["details"].update(first_difference=["0"]), "integers"),
    (lambda d: d["cells"][0].update(index=True), "'index' is bool"),
])
def test_what_is_not_a_result_is_refused(change: Any, message: str) -> None:
    data = sample()
    change(data)
    with pytest.raises(ResultError, match=message):
        Result.from_dict(data)


def test_not_json() -> None:
    with pytest.raises(ResultError, match="not JSON"):
        Result.from_json("{")
    with pytest.raises(ResultError, match="not an object"):
        Result.from_json("[]")


def test_canonical_json_and_schema() -> None:
    assert canonical_json({"b": 1, "a": "ㄱ"}) == '{\n "a": "ㄱ",\n "b": 1\n}\n'
    assert Result.from_dict(sample()).schema == RESULT_SCHEMA
