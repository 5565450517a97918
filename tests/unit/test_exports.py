"""Export writers: CSV, Gradescope results.json, JUnit XML, Markdown summary."""

from __future__ import annotations

import copy
import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from grader.result import Result, ResultError
from grader.report.exports import (
    clean_text,
    gradescope_result,
    safe_dirname,
    write_csv,
    write_gradescope,
    write_junit,
    write_markdown_summary,
)

HIDDEN_SECRET = "expected [0 1 1 0] for x=(1, 1)"  # noqa: S105 -- a hidden test's message, not a password
HIDDEN_HINT = "XOR = AND(NAND(x1, x2), OR(x1, x2))"  # a mistake's words: shown even on a hidden test


def make_result(student: str = "김민준", filename: str = "week3_assignmet2(수정).ipynb",
                **overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "schema": 1,
        "assignment": "week3_nn_basic",
        "rubric_version": "1",
        "submission": f"{student}/{filename}",
        "student": student,
        "sha256": "ab" * 32,
        "status": "graded",
        "reason": "",
        "score": 87.5,
        "max_score": 100.0,
        "pass_mark": 60.0,
        "passed": True,
        "tasks": [
            {"name": "gates", "title": "논리 게이트", "score": 10.0, "max_score": 10.0},
            {"name": "activations", "title": "활성화 함수", "score": 17.5, "max_score": 20.0},
            {"name": "backprop", "title": "역전파", "score": 60.0, "max_score": 70.0},
        ],
        "tests": [
            {"name": "test_AND[0-1]", "task": "gates", "score": 0.5, "max_score": 0.5,
             "visibility": "public", "status": "passed", "message": "", "diagnoses": []},
            {"name": "test_sigmoid_large", "task": "activations", "score": 0.0,
             "max_score": 2.5, "visibility": "public", "status": "error",
             "message": "\x1b[0;31mOverflowError\x1b[0m: math range error\x00\x07 at x=500000",
             "diagnoses": []},
            {"name": "test_backprop_db", "task": "backprop", "score": 0.0, "max_score": 10.0,
             "visibility": "public", "status": "failed",
             "message": "db: expected -0.02735214, got -0.10753744 <b>&</b> `x`",
             "diagnoses": [{"name": "db_from_da", "kind": "mistake", "hint": "db를 da의 합으로 계산했습니다"}]},
            {"name": "test_hidden_xor[1-1]", "task": "gates", "score": 0.0, "max_score": 1.0,
             "visibility": "hidden", "status": "failed", "message": HIDDEN_SECRET,
             "diagnoses": [{"name": "xor_as_or", "kind": "mistake", "hint": HIDDEN_HINT,
                            "detail": HIDDEN_SECRET}]},
            {"name": "test_hidden_forward", "task": "backprop", "score": 0.0, "max_score": 1.0,
             "visibility": "hidden", "status": "timeout", "message": HIDDEN_SECRET,
             "diagnoses": []},
            {"name": "test_hidden_or", "task": "gates", "score": 1.0, "max_score": 1.0,
             "visibility": "hidden", "status": "passed", "message": HIDDEN_SECRET,
             "diagnoses": []},
        ],
        "cells": [{"index": 3, "status": "error",
                   "error": "NameError: name 'np' is not defined"}],
        "sandbox": "bwrap",
        "timings": {"kernel_start": 0.6, "execute": 1.2, "tests": 0.3, "total": 2.2},
    }
    for test in result["tests"]:
        test.update(notes=[], details={})
    result.update(overrides)
    return result


@pytest.fixture
def results() -> list[dict[str, Any]]:
    crashed = make_result("이서연", "week3.ipynb", status="crashed", score=0.0, passed=False,
                          reason="커널이 종료되었습니다 (os._exit in cell 5)", tasks=[], tests=[])
    evil = make_result("=HYPERLINK(\"http://x\")", "a.ipynb", score=30.0, passed=False,
                       reason="-2+3 cmd|' /C calc'!A0")
    evil["tasks"] = evil["tasks"][:1]
    return [make_result(), crashed, evil]


# -- CSV --------------------------------------------------------------------------------


def test_csv_has_bom_and_reads_back(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    path = tmp_path / "out" / "grades.csv"
    assert write_csv(iter(results), path) == [path]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["student", "submission", "status", "score", "max_score", "passed",
                             "reason", "override_comment", "other_submissions", "gates", "activations", "backprop"]
    assert rows[0]["student"] == "김민준"
    assert rows[0]["submission"] == "김민준/week3_assignmet2(수정).ipynb"
    # scores for people: one decimal (result.json keeps them in full)
    assert (rows[0]["score"], rows[0]["max_score"], rows[0]["passed"]) == ("87.5", "100.0", "true")
    assert (rows[0]["gates"], rows[0]["activations"], rows[0]["backprop"]) == ("10.0", "17.5", "60.0")
    assert rows[1]["status"] == "crashed"
    assert rows[1]["reason"].startswith("커널이")
    assert rows[1]["gates"] == "" and rows[1]["passed"] == "false"


def test_csv_defuses_spreadsheet_formulas(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    path = tmp_path / "grades.csv"
    write_csv(results, path)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        evil = list(csv.DictReader(handle))[2]
    assert evil["student"] == "'=HYPERLINK(\"http://x\")"
    assert evil["reason"].startswith("'-2+3")
    assert evil["backprop"] == ""  # task missing from this result


def test_csv_explicit_task_order(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    path = tmp_path / "grades.csv"
    write_csv(results, path, tasks=["backprop", "gates"])
    with open(path, encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[-2:] == ["backprop", "gates"]


# -- Gradescope -------------------------------------------------------------------------


def test_gradescope_layout_and_format(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    written = write_gradescope(results, tmp_path / "gs")
    assert [p.relative_to(tmp_path / "gs").as_posix() for p in written] == [
        "김민준/results.json", "이서연/results.json", '=HYPERLINK(_http___x_)/results.json',
    ]
    data = json.loads(written[0].read_text(encoding="utf-8"))
    assert set(data) == {"score", "output", "visibility", "tests"}
    assert data["score"] == 87.5
    assert data["visibility"] == "visible"
    assert "NameError" in data["output"]
    for test in data["tests"]:
        assert {"name", "score", "max_score", "status", "visibility", "output"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "after_published")
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["test_AND[0-1]"] == {
        "name": "test_AND[0-1]", "score": 0.5, "max_score": 0.5, "status": "passed",
        "visibility": "visible", "output": "", "tags": ["gates"],
    }
    db = by_name["test_backprop_db"]
    assert db["status"] == "failed"
    assert "got -0.10753744" in db["output"] and "db_from_da" in db["output"]
    sigmoid = by_name["test_sigmoid_large"]
    assert sigmoid["status"] == "failed" and sigmoid["output"].startswith("error: ")
    assert "\x1b" not in sigmoid["output"] and "\x00" not in sigmoid["output"]
    assert by_name["test_hidden_xor[1-1]"]["visibility"] == "after_published"
    crashed = json.loads(written[1].read_text(encoding="utf-8"))
    assert crashed["score"] == 0.0 and crashed["tests"] == []
    assert crashed["output"].startswith("crashed: 커널이")


def test_gradescope_never_leaks_hidden_messages(tmp_path: Path,
                                                results: list[dict[str, Any]]) -> None:
    for path in write_gradescope(results, tmp_path):
        text = path.read_text(encoding="utf-8")
        assert HIDDEN_SECRET not in text
    hidden = {t["name"]: t for t in gradescope_result(results[0])["tests"]
              if t["visibility"] == "after_published"}
    # the verdict and the mistake's name and words (invariant 7); never the message or a detail
    assert hidden["test_hidden_xor[1-1]"]["output"] == f"hidden test: failed\nxor_as_or: {HIDDEN_HINT}"
    assert hidden["test_hidden_forward"]["output"] == "hidden test: timeout"
    assert hidden["test_hidden_or"]["output"] == ""
    # in the Gradescope autograder the words follow the report's language (the mistake's own words too)
    korean = {t["name"]: t for t in gradescope_result(results[0], lang="ko")["tests"]}
    assert korean["test_hidden_xor[1-1]"]["output"].startswith("비공개 테스트: failed\nxor_as_or")
    assert HIDDEN_SECRET not in json.dumps(korean, ensure_ascii=False)
    # a test with a visibility other than public is treated as hidden, not shown
    odd = make_result()
    odd["tests"][2]["visibility"] = "unknown"
    (db,) = [t for t in gradescope_result(odd)["tests"] if t["name"] == "test_backprop_db"]
    assert db["visibility"] == "after_published" and "expected" not in db["output"]


def test_gradescope_duplicate_students_get_separate_folders(tmp_path: Path) -> None:
    results = [make_result("김민준", "a.ipynb", score=50.0), make_result("김민준", "b.ipynb")]
    written = write_gradescope(results, tmp_path)
    assert [p.parent.name for p in written] == ["김민준", "김민준_2"]
    assert json.loads(written[0].read_text(encoding="utf-8"))["score"] == 50.0


@pytest.mark.parametrize(("name", "expected"), [
    ("김민준", "김민준"),
    ("../../etc", "_.._etc"),
    ("a/b\\c:d", "a_b_c_d"),
    ("  ..  ", "_"),
    ("CON", "_CON"),
    ("이\x00서\n연", "이서_연"),  # NUL is dropped like any XML-illegal character
])
def test_safe_dirname(name: str, expected: str) -> None:
    assert safe_dirname(name) == expected


def test_safe_dirname_caps_bytes_not_characters() -> None:
    name = safe_dirname("가" * 300)
    assert len(name.encode("utf-8")) <= 200 and set(name) == {"가"}


# -- JUnit ------------------------------------------------------------------------------


def test_junit_parses_and_counts(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    path = tmp_path / "ci" / "junit.xml"
    assert write_junit(results, path) == [path]
    root = ET.parse(path).getroot()  # noqa: S314 -- the writer's own output, not untrusted XML
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [r["submission"] for r in results]
    first = suites[0]
    assert (first.get("tests"), first.get("failures"), first.get("errors")) == ("6", "3", "1")
    cases = {c.get("name"): c for c in first.findall("testcase")}
    assert cases["test_AND[0-1]"].get("classname") == "gates"
    assert list(cases["test_AND[0-1]"]) == []
    assert cases["test_sigmoid_large"].find("error") is not None
    failure = cases["test_backprop_db"].find("failure")
    assert failure is not None
    assert failure.get("message") == "db: expected -0.02735214, got -0.10753744 <b>&</b> `x`"
    assert cases["test_hidden_forward"].find("failure").get("type") == "timeout"
    props = {p.get("name"): p.get("value") for p in first.iter("property")}
    assert props["student"] == "김민준" and props["passed"] == "true"
    crashed = suites[1]
    (case,) = crashed.findall("testcase")
    assert case.get("name") == "notebook"
    assert case.find("error").get("message").startswith("커널이")
    assert root.get("tests") == str(sum(int(s.get("tests")) for s in suites))


def test_junit_strips_control_characters_and_hides_hidden(tmp_path: Path) -> None:
    result = make_result(student="김\x01민준\x1b[31m")
    result["tests"][2]["message"] = "bad\x00\x08\x0b\x0c\ud800\ufffe bytes\ttab\nline2"
    path = tmp_path / "junit.xml"
    write_junit([result], path)
    raw = path.read_text(encoding="utf-8")
    for ch in "\x00\x01\x08\x0b\x0c\x1b\ufffe":
        assert ch not in raw
    assert HIDDEN_SECRET not in raw
    root = ET.parse(path).getroot()  # noqa: S314 -- our own output; it parses: nothing illegal left
    (case,) = [c for c in root.iter("testcase") if c.get("name") == "test_backprop_db"]
    assert case.find("failure").text.startswith("bad bytes\ttab\nline2")
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["student"] == "김민준"


def test_clean_text_keeps_korean_and_caps_length() -> None:
    assert clean_text("역전파\x1b[1;32m 통과\x1b[0m\x7f") == "역전파 통과\x7f"
    capped = clean_text("가" * 50, limit=10)
    assert capped.startswith("가" * 10) and "40 more characters" in capped


# -- Markdown ---------------------------------------------------------------------------


def test_markdown_summary(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    path = tmp_path / "summary.md"
    assert write_markdown_summary(results[0], path) == [path]
    text = path.read_text(encoding="utf-8")
    assert text.startswith("## ✅ 김민준 — week3\\_nn\\_basic: 87.5 / 100.0 ")
    assert "| 논리 게이트 | 10.0 | 10.0 |" in text
    assert "| 역전파 | 60.0 | 70.0 |" in text
    assert "test\\_backprop\\_db" in text
    assert "got -0.10753744 <b>&</b> `x`" in text  # verbatim inside a fenced block
    assert "  ```text\n" in text
    assert "test\\_AND" not in text.split("###", 1)[1].split("비공개 테스트")[0]  # passed: not listed
    assert HIDDEN_SECRET not in text and "xor_as_or" not in text
    assert "| 문제 | 점수 | 만점 |" in text  # the catalogue's words: a task is a 문제
    assert "test\\_hidden\\_xor\\[1-1\\] (실패)" in text  # statuses in the reader's words
    assert "비공개 테스트 3개 중 2개 실패" in text
    assert "NameError" in text


def test_markdown_summary_english_and_crashed(tmp_path: Path,
                                              results: list[dict[str, Any]]) -> None:
    path = tmp_path / "summary.md"
    write_markdown_summary(results[1], path, lang="en")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("## ❌ 이서연")
    assert "**Status:** crashed — 커널이 종료되었습니다 (os.\\_exit in cell 5)" in text


def test_markdown_escapes_html_and_fences(tmp_path: Path) -> None:
    result = make_result(student="<img src=x onerror=alert(1)>")
    result["tests"][2]["message"] = "```\n# not a heading\n```"
    path = tmp_path / "summary.md"
    write_markdown_summary(result, path)
    text = path.read_text(encoding="utf-8")
    assert "<img" not in text and "&lt;img" in text
    assert "  ````text\n  ```\n  # not a heading\n  ```\n  db_from_da: " in text
    assert "\n  ````\n" in text


# -- the input: a Result ---------------------------------------------------------------


def test_writers_take_a_result_and_a_dict_alike(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    typed = [Result.from_dict(r) for r in results]
    for name, items in (("dicts", results), ("typed", typed)):
        out = tmp_path / name
        write_csv(items, out / "g.csv")
        write_gradescope(items, out / "gs")
        write_junit(items, out / "j.xml")
        write_markdown_summary(items[0], out / "s.md")
    for path in (tmp_path / "typed").rglob("*.*"):
        assert path.read_bytes() == (tmp_path / "dicts" / path.relative_to(tmp_path / "typed")).read_bytes()


def test_half_a_result_is_refused_not_reported(tmp_path: Path) -> None:
    half = make_result()
    del half["passed"]
    with pytest.raises(ResultError, match="passed"):
        write_markdown_summary(half, tmp_path / "s.md")
    assert not (tmp_path / "s.md").exists()


# -- purity -----------------------------------------------------------------------------


def test_writers_do_not_modify_results(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(results)
    write_csv(results, tmp_path / "a.csv")
    write_gradescope(results, tmp_path / "gs")
    write_junit(results, tmp_path / "j.xml")
    write_markdown_summary(results[0], tmp_path / "s.md")
    assert results == before
    assert not list(tmp_path.rglob("*.tmp")), "no temporary files left behind"


def test_writers_are_deterministic(tmp_path: Path, results: list[dict[str, Any]]) -> None:
    outputs = []
    for run in ("one", "two"):
        out = tmp_path / run
        paths = [*write_csv(results, out / "g.csv"), *write_gradescope(results, out / "gs"),
                 *write_junit(results, out / "j.xml"),
                 *write_markdown_summary(results[0], out / "s.md")]
        outputs.append([(p.relative_to(out), p.read_bytes()) for p in paths])
    assert outputs[0] == outputs[1]
