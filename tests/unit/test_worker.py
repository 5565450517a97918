"""The grading worker (one per pool or Dask process) and what the executors compare: crashed
results, outputs written without losing a grade, the process's one worker, the code fingerprint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import api, executors, worker
from grader.result import Result
from grader.worker import Job, WorkerConfig


@pytest.fixture(scope="module")
def rubric():
    return api.load_rubric(assignment="week3_nn_basic")


def test_crashed_result_scores_every_test_zero_and_keeps_the_job(rubric) -> None:
    job = Job("/nowhere/a.ipynb", "kim/a.ipynb", "kim", "ab" * 32)
    r = worker.crashed_result(rubric, job, "the grading worker died")
    assert (r.status, r.reason, r.submission, r.student, r.sha256) == (
        "crashed", "the grading worker died", "kim/a.ipynb", "kim", "ab" * 32)
    assert r.score == 0.0 and r.max_score == pytest.approx(rubric.max_score) and not r.passed
    assert len(r.tests) == len(rubric.items)
    assert all(t.score == 0 and t.message == "not run: the grading worker died" for t in r.tests)
    assert Result.from_json(r.to_json()) == r


def test_out_dir_stays_inside_out() -> None:
    assert worker.out_dir(Path("/o"), "김민준/week3.ipynb") == Path("/o/submissions/김민준/week3")
    assert worker.out_dir(Path("/o"), "../../etc/x.ipynb") == Path("/o/submissions/etc/x")


def test_write_outputs_keeps_the_grade_when_the_report_fails(rubric, tmp_path: Path, monkeypatch) -> None:
    r = worker.crashed_result(rubric, Job("/x.ipynb", "x.ipynb", "x", ""), "test")
    written = worker.write_outputs(r, tmp_path / "x", lang="en")
    assert written == r
    assert (tmp_path / "x" / "result.json").read_text(encoding="utf-8") == r.to_json()
    assert (tmp_path / "x" / "report.html").is_file()

    from grader.report import html

    def broken(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(html, "write", broken)
    noted = worker.write_outputs(r, tmp_path / "y", lang="en")
    assert noted.report_error == "OSError: disk full"
    assert json.loads((tmp_path / "y" / "result.json").read_text(encoding="utf-8"))["status"] == "crashed"


def test_config_key_ignores_where_the_rubric_was_unpacked() -> None:
    a = WorkerConfig("/scratch/grader-rubric-1/r", True, "bwrap", {"cell_timeout": 5}, origin="abc")
    b = WorkerConfig("/scratch/grader-rubric-2/r", True, "bwrap", {"cell_timeout": "5"}, origin="abc")
    assert a.key() != b.key() and a.key(where=False) == b.key(where=False)
    assert a.key(where=False) != WorkerConfig("", True, "bwrap", {}, origin="abc").key(where=False)


def test_a_pool_task_without_a_worker_says_so() -> None:
    assert worker.current() is None
    with pytest.raises(RuntimeError, match="start_pool_worker"):
        worker.grade_job(Job("/x.ipynb", "x.ipynb", "x", ""))


@pytest.mark.kernel
def test_the_process_worker_grades_writes_and_turns_a_grader_error_into_a_crashed_result(
        rubric, tmp_path: Path, monkeypatch) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [', encoding="utf-8")
    config = WorkerConfig(str(rubric.path), rubric.public_only, out=str(tmp_path / "out"))
    w = worker.start(config)
    released = []
    real_close = w.spares.close
    monkeypatch.setattr(w.spares, "close", lambda: (released.append(True), real_close()))
    try:
        assert worker.start(config) is w, "one worker per configuration and process"
        r = worker.grade_job(Job(str(bad), "bad.ipynb", "bad", ""))
        assert r.status == "invalid" and "bad.ipynb" in r.reason
        assert (tmp_path / "out" / "submissions" / "bad" / "result.json").read_text(encoding="utf-8") == r.to_json()

        def bug(*_a, **_k):
            raise KeyError("oops")

        monkeypatch.setattr(api, "grade_file", bug)
        crashed = w.grade(Job(str(bad), "bad.ipynb", "bad", "cd" * 32))
        assert crashed.status == "crashed" and "internal grader error (KeyError" in crashed.reason
        assert crashed.sha256 == "cd" * 32
    finally:
        worker.close_current()
    assert w.closed and worker.current() is None
    assert released == [True], "closing the worker releases its own spare kernel pool"


def test_code_fingerprint_changes_with_the_code(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "sub" / "b.py").write_text("y = 2\n")
    first = executors.fingerprint_of(tmp_path / "pkg")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.py").write_text("cache")
    (tmp_path / "pkg" / "notes.txt").write_text("not code")
    assert executors.fingerprint_of(tmp_path / "pkg") == first
    (tmp_path / "pkg" / "sub" / "b.py").write_text("y = 3\n")
    assert executors.fingerprint_of(tmp_path / "pkg") != first
    (tmp_path / "pkg" / "sub" / "b.py").write_text("y = 2\n")
    (tmp_path / "pkg" / "sub" / "b.py").rename(tmp_path / "pkg" / "b.py")  # same bytes, moved
    assert executors.fingerprint_of(tmp_path / "pkg") != first
    # the grader's own (uncached here: the cache is this process's first look at its code)
    assert executors.code_fingerprint.__wrapped__() == executors.fingerprint_of(Path(executors.__file__).parent)
