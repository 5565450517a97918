"""The SQLite gradebook: resume, kill-safety, concurrent writers, duplicates, round trips."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
import time
import unicodedata
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from grader.gradebook import SCHEMA_VERSION, Gradebook, GradebookError
from grader.result import Result, ResultError


def make_result(*args: Any, **kwargs: Any) -> Result:
    return Result.from_dict(result_dict(*args, **kwargs))


def result_dict(
    student: str = "김민준",
    filename: str = "week3_assignmet2(수정).ipynb",
    *,
    score: float = 87.5,
    status: str = "graded",
    content: str = "v1",
    rubric_version: str = "1",
    assignment: str = "week3_nn_basic",
) -> dict[str, Any]:
    return {
        "schema": 1,
        "assignment": assignment,
        "rubric_version": rubric_version,
        "submission": f"{student}/{filename}",
        "student": student,
        "sha256": hashlib.sha256(f"{student}/{filename}/{content}".encode()).hexdigest(),
        "status": status,
        "reason": "" if status == "graded" else "커널이 응답하지 않습니다 (timeout after 60 s)",
        "score": score,
        "max_score": 100.0,
        "pass_mark": 60.0,
        "passed": score >= 60.0,
        "tasks": [
            {"name": "gates", "title": "논리 게이트", "score": 10.0, "max_score": 10.0},
            {"name": "backprop", "title": "역전파", "score": score - 10.0, "max_score": 90.0},
        ],
        "tests": [
            {"name": "test_AND[0-1]", "task": "gates", "score": 0.5, "max_score": 0.5,
             "visibility": "public", "status": "passed", "message": "", "diagnoses": [],
             "notes": [], "details": {}},
            {"name": "test_backprop_db", "task": "backprop", "score": 0.0, "max_score": 5.0,
             "visibility": "public", "status": "failed",
             "message": "db: expected -0.02735214, got -0.10753744",
             "diagnoses": [{"name": "db_from_da", "kind": "mistake", "hint": "db는 dz의 합입니다"}],
             "notes": [], "details": {"expected": "-0.02735214", "got": "-0.10753744"}},
            {"name": "test_hidden_xor", "task": "gates", "score": 0.0, "max_score": 2.0,
             "visibility": "hidden", "status": "timeout", "message": "expected [0 1 1 0]",
             "diagnoses": [], "notes": [], "details": {}},
        ],
        "cells": [{"index": 3, "status": "error",
                   "error": "NameError: name 'np' is not defined"}],
        "notes": [],
        "sandbox": "bwrap",
        "timings": {"kernel_start": 0.6, "execute": 1.2, "tests": 0.3, "total": 2.2},
    }


def canonical(result: Result) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, sort_keys=True)


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    return tmp_path / "OUT" / "gradebook.sqlite"


# -- basics -----------------------------------------------------------------------------


def test_creates_file_and_schema_version(book_path: Path) -> None:
    with Gradebook.open(book_path) as book:
        assert len(book) == 0
    assert book_path.exists()
    conn = sqlite3.connect(book_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_record_and_read_back_byte_identical(book_path: Path) -> None:
    result = make_result()
    before = canonical(result)
    with Gradebook(book_path) as book:
        book.record(result)
        assert canonical(result) == before, "record() must not modify the result"
        assert list(book.result_texts()) == [before]
        (loaded,) = list(book.results())
        assert canonical(loaded) == before
        assert book.get(result.submission) == result
    # and across a reopen, and across two separate recordings (graded_at differs)
    with Gradebook(book_path) as book:
        book.record(make_result(), graded_at=datetime(2030, 1, 1, tzinfo=timezone.utc))
        assert list(book.result_texts()) == [before]


def test_graded_at_is_a_column_not_in_json(book_path: Path) -> None:
    with Gradebook(book_path) as book:
        book.record(make_result(), graded_at=datetime(2026, 3, 14, 9, 26, tzinfo=timezone.utc))
        (loaded,) = list(book.results())
    assert "graded_at" not in loaded.to_dict()
    conn = sqlite3.connect(book_path)
    graded_at, text = conn.execute("SELECT graded_at, result_json FROM results").fetchone()
    assert graded_at == "2026-03-14T09:26:00+00:00"
    assert "graded_at" not in text
    conn.close()


def test_queryable_columns_and_test_rows(book_path: Path) -> None:
    with Gradebook(book_path) as book:
        book.record(make_result(score=42.0, status="partial"))
    conn = sqlite3.connect(book_path)
    row = conn.execute(
        "SELECT submission, student, assignment, rubric_version, status, reason, score, "
        "max_score, passed FROM results"
    ).fetchone()
    assert row[:5] == ("김민준/week3_assignmet2(수정).ipynb", "김민준", "week3_nn_basic", "1",
                       "partial")
    assert row[5].startswith("커널이")
    assert row[6:] == (42.0, 100.0, 0)
    tests = conn.execute(
        "SELECT name, task, visibility, status, score, max_score FROM tests ORDER BY position"
    ).fetchall()
    assert tests[0] == ("test_AND[0-1]", "gates", "public", "passed", 0.5, 0.5)
    assert tests[2][2:4] == ("hidden", "timeout")
    conn.close()


def test_record_replaces_and_drops_old_test_rows(book_path: Path) -> None:
    with Gradebook(book_path) as book:
        book.record(make_result(score=50.0))
        newer = make_result(score=90.0, content="v2")
        newer = replace(newer, tests=newer.tests[:1])
        book.record(newer)
        assert len(book) == 1
        stored = book.get(newer.submission)
        assert stored is not None and stored.score == 90.0
        assert [s["count"] for s in book.test_stats()] == [1]


def test_results_ordered_by_submission_and_streamed_in_pages(book_path: Path) -> None:
    names = [f"학생{i:03d}" for i in range(450)]  # more than one page (200 rows)
    with Gradebook(book_path) as book:
        for name in reversed(names):
            book.record(make_result(name))
        book.record(make_result("other", assignment="week4_cnn"))
        got = [r.submission for r in book.results(assignment="week3_nn_basic")]
        assert got == sorted(got) and len(got) == 450
        assert len(list(book.results())) == 451
        # recording while iterating neither skips nor repeats rows
        seen = []
        for i, result in enumerate(book.results(assignment="week3_nn_basic")):
            seen.append(result.student)
            if i == 10:
                book.record(make_result("학생000", score=12.0, content="v9"))
        assert seen == names


def test_rejects_incomplete_or_non_json_results(book_path: Path) -> None:
    incomplete = result_dict()
    del incomplete["sha256"]
    with pytest.raises(ResultError, match="sha256"):
        Result.from_dict(incomplete)  # what is not a whole result never reaches the gradebook
    with pytest.raises(ResultError, match="status 'done'"):
        make_result(status="done")
    with Gradebook(book_path) as book:
        odd = replace(make_result(), timings={"total": object()})  # type: ignore[dict-item]  # on purpose
        with pytest.raises(GradebookError, match="not plain JSON"):
            book.record(odd)
        undecoded = "\udcb1\udce8"  # cp949 bytes a zip name was never decoded from
        bad_name = replace(make_result(), student=undecoded, submission=undecoded + "/week3.ipynb")
        with pytest.raises(GradebookError, match="decode file names"):
            book.record(bad_name)
        assert len(book) == 0


def test_unopenable_path_says_what_to_do(tmp_path: Path) -> None:
    target = tmp_path / "gradebook.sqlite"
    target.mkdir()  # a folder where the file should be: fails for root too
    with pytest.raises(GradebookError, match="cannot open .* choose another --out folder"):
        Gradebook(target)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    with pytest.raises(GradebookError, match="cannot create the folder"):
        Gradebook(tmp_path / "notes.txt" / "gradebook.sqlite")


# -- resume -----------------------------------------------------------------------------


def test_is_done_only_for_same_hash_and_rubric_version(book_path: Path) -> None:
    result = make_result()
    sub, sha = result.submission, result.sha256
    with Gradebook(book_path) as book:
        assert not book.is_done(sub, sha, "1")
        book.record(result)
        assert book.is_done(sub, sha, "1")
        assert book.is_done(sub, sha, "1", assignment="week3_nn_basic")
        assert not book.is_done(sub, sha, "1", assignment="week4_cnn")
        assert not book.is_done(sub, sha, "2"), "a new rubric version regrades"
        assert not book.is_done(sub, "0" * 64, "1"), "an edited notebook regrades"
        assert not book.is_done("이서연/week3.ipynb", sha, "1")
    with Gradebook(book_path) as book:  # survives reopening: that is the point
        assert book.is_done(sub, sha, "1")
        assert book.forget(sub) == 1
        assert not book.is_done(sub, sha, "1")


# -- kill safety ------------------------------------------------------------------------


def _record_forever(path: str, counter: Any) -> None:
    with Gradebook(path) as book:
        i = 0
        while True:
            result = make_result(f"학생{i:05d}", score=float(i % 100))
            result = replace(result, tests=result.tests * 50)  # a bigger transaction to be killed inside
            book.record(result)
            with counter.get_lock():
                counter.value = i + 1
            i += 1


@pytest.mark.parametrize("kill_after", [1, 25])
def test_sigkill_loses_at_most_the_submission_in_flight(book_path: Path, kill_after: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    counter = ctx.Value("i", 0)
    child = ctx.Process(target=_record_forever, args=(str(book_path), counter))
    child.start()
    try:
        deadline = time.monotonic() + 60
        while counter.value < kill_after:
            assert child.is_alive(), "the recording child died on its own"
            assert time.monotonic() < deadline, "the child recorded nothing in 60 s"
            time.sleep(0.001)
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        committed = counter.value  # recorded and acknowledged before the kill
    finally:
        if child.is_alive():
            child.kill()
            child.join()
    assert child.exitcode == -signal.SIGKILL
    with Gradebook(book_path) as book:
        assert book.integrity_check() == []
        students = [r.student for r in book.results()]
        assert students[:committed] == [f"학생{i:05d}" for i in range(committed)]
        assert len(students) in (committed, committed + 1)  # +1: killed after COMMIT
        for result in book.results():
            assert len(result.tests) == 150
        # the lock died with the child: writing works straight away
        book.record(make_result("이서연"))
        assert book.get("이서연/week3_assignmet2(수정).ipynb") is not None


# -- concurrency ------------------------------------------------------------------------


def _record_batch(path: str, worker: int, count: int, barrier: Any) -> None:
    barrier.wait()  # all open the (fresh) file at once: schema creation races too
    with Gradebook(path) as book:
        for i in range(count):
            book.record(make_result(f"w{worker}-학생{i:03d}", score=float(i)))


def test_four_processes_fifty_records_each(book_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [
        ctx.Process(target=_record_batch, args=(str(book_path), w, 50, barrier))
        for w in range(4)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with Gradebook(book_path) as book:
        assert book.integrity_check() == []
        students = {r.student for r in book.results()}
        assert students == {f"w{w}-학생{i:03d}" for w in range(4) for i in range(50)}
        assert book.summary()["submissions"] == 200
        assert book.test_stats()[0]["count"] == 200


def test_locked_write_waits_then_succeeds(book_path: Path) -> None:
    with Gradebook(book_path, timeout=0.2) as book:
        blocker = sqlite3.connect(book_path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(GradebookError, match="stayed locked"):
            book.record(make_result())
        assert time.monotonic() - started >= 0.2
        blocker.execute("ROLLBACK")
        blocker.close()
        book.record(make_result())
        assert len(book) == 1


def test_use_after_fork_or_close_is_refused(book_path: Path) -> None:
    book = Gradebook(book_path)
    book._file._pid = -1  # as if this object had been inherited through fork()
    with pytest.raises(GradebookError, match="one Gradebook per process"):
        book.is_done("a", "b", "1")
    book._file._pid = os.getpid()
    book.close()
    with pytest.raises(GradebookError, match="closed"):
        len(book)


# -- what is not a gradebook ------------------------------------------------------------


def test_foreign_sqlite_file_is_refused(book_path: Path) -> None:
    book_path.parent.mkdir(parents=True)
    conn = sqlite3.connect(book_path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(GradebookError, match=r"not a grader gradebook \(tables: photos\).*--out"):
        Gradebook(book_path)


def test_non_sqlite_file_is_refused(book_path: Path) -> None:
    book_path.parent.mkdir(parents=True)
    book_path.write_bytes(b"this is a CSV, not a database\n" * 100)
    with pytest.raises(GradebookError, match="not a grader gradebook.*delete it"):
        Gradebook(book_path)


def test_newer_schema_is_refused_with_upgrade_advice(book_path: Path) -> None:
    Gradebook(book_path).close()
    conn = sqlite3.connect(book_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(GradebookError, match="newer grader.*upgrade grader"):
        Gradebook(book_path)


def test_delete_journal_mode_for_network_filesystems(book_path: Path) -> None:
    with Gradebook(book_path, journal_mode="delete") as book:
        book.record(make_result())
    conn = sqlite3.connect(book_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    with pytest.raises(GradebookError, match="journal_mode"):
        Gradebook(book_path, journal_mode="memory")


# -- summary and duplicates -------------------------------------------------------------


def test_summary_counts_and_scores(book_path: Path) -> None:
    with Gradebook(book_path) as book:
        assert book.summary()["mean_score"] is None
        book.record(make_result("김민준", score=90.0))
        book.record(make_result("이서연", score=40.0, status="partial"))
        book.record(make_result("박지호", score=0.0, status="timeout"))
        book.record(make_result("최유나", score=80.0))
        summary = book.summary()
    assert summary["submissions"] == 4
    assert summary["students"] == 4
    assert summary["by_status"] == {"graded": 2, "partial": 1, "timeout": 1, "crashed": 0,
                                    "invalid": 0}
    assert summary["passed"] == 2
    assert summary["mean_score"] == pytest.approx(52.5)
    assert summary["median_score"] == pytest.approx(60.0)


def test_two_notebooks_for_one_student_are_reported_not_merged(book_path: Path) -> None:
    with Gradebook(book_path) as book:
        book.record(make_result("김민준", "week3_assignmet2(수정).ipynb"))
        book.record(make_result("김민준", "week3_assignmet2.ipynb", score=50.0))
        # the same name zipped on macOS arrives decomposed (NFD)
        book.record(make_result(unicodedata.normalize("NFD", "이서연"), "a.ipynb"))
        book.record(make_result("이서연", "b.ipynb"))
        book.record(make_result("박지호", "week3.ipynb"))
        book.record(make_result("김민준", "w4.ipynb", assignment="week4_cnn"))
        assert len(book) == 6
        dups = book.duplicates()
        assert book.duplicates(assignment="week4_cnn") == []
    assert dups == [
        ("김민준", ["김민준/week3_assignmet2(수정).ipynb", "김민준/week3_assignmet2.ipynb"]),
        ("이서연", sorted([f"{unicodedata.normalize('NFD', '이서연')}/a.ipynb",
                          "이서연/b.ipynb"])),
    ]


def test_test_stats_per_test(book_path: Path) -> None:
    with Gradebook(book_path) as book:
        book.record(make_result("김민준"))
        passing = make_result("이서연")
        passing = replace(passing, tests=tuple(replace(t, status="passed", score=t.max_score) for t in passing.tests))
        book.record(passing)
        stats = {s["name"]: s for s in book.test_stats()}
    assert list(stats) == ["test_AND[0-1]", "test_backprop_db", "test_hidden_xor"]
    assert stats["test_backprop_db"]["passed"] == 1
    assert stats["test_backprop_db"]["failed"] == 1
    assert stats["test_backprop_db"]["mean_score"] == pytest.approx(2.5)
    assert stats["test_hidden_xor"]["timeout"] == 1
    assert stats["test_hidden_xor"]["visibility"] == "hidden"
