"""The SQLite gradebook: one row per graded submission, safe to kill and to share.

The gradebook lives at ``OUT/gradebook.sqlite``. Each :meth:`Gradebook.record` is one
committed transaction, so a batch killed with ``kill -9`` loses at most the submission
that was in flight, and a rerun asks :meth:`Gradebook.is_done` to skip what is finished.

Three tables (their layout, version, creation and migration: ``grader.gradebook_schema``)::

    results    one row per (assignment, submission): the queryable columns plus the full
               result JSON, stored exactly as ``json.dumps(result.to_dict(), ensure_ascii=False,
               sort_keys=True)`` so that reading it back gives the same :class:`Result`;
               ``submitted_at``: when the notebook was handed in (Unix seconds, or NULL)
    tests      one row per test case of each stored result, for class statistics
    overrides  a TA's points for one part of one student's grade, with a comment, who and when
               (:class:`Override`); kept across reruns and ``--regrade`` until cleared

``graded_at`` is a column only; it never enters the result JSON (results are identical
across runs, invariant 4).

Concurrency: several processes on one machine may write at once (WAL journal, a busy
timeout, ``BEGIN IMMEDIATE`` and retries on "database is locked"). WAL needs shared memory,
so it does not work on network filesystems: when machines share one file over NFS/SMB,
open it with ``journal_mode="delete"``, or (better, and what the Dask executor does) send
results back to the one process that owns the gradebook.

Open one :class:`Gradebook` per process; a connection must not cross ``fork``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from grader.errors import GradebookError
from grader.gradebook_schema import SCHEMA_VERSION, GradebookFile
from grader.result import STATUSES, Result

__all__ = ["SCHEMA_VERSION", "STATUSES", "Gradebook", "GradebookError", "Override"]

_PAGE = 200  # rows fetched per query while streaming results()


@dataclass(frozen=True)
class Override:
    """A TA's points for one part (a rubric task, by name) of one student's grade.

    ``who`` is the OS user who set it, ``when`` the UTC time (ISO 8601, seconds). It replaces the
    part's score wherever a grade is shown (``grader.report.exports.effective``)."""

    assignment: str
    student: str
    part: str
    points: float
    comment: str
    who: str
    when: str

class Gradebook:
    """A grader gradebook in one SQLite file.

    >>> with Gradebook.open("OUT/gradebook.sqlite") as book:   # doctest: +SKIP
    ...     if not book.is_done(path, sha, rubric.version):
    ...         book.record(result)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        journal_mode: str = "wal",
    ) -> None:
        self._file = GradebookFile(path, timeout=timeout, journal_mode=journal_mode)
        self.path = self._file.path
        self.timeout = self._file.timeout

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, timeout: float = 30.0, journal_mode: str = "wal"
    ) -> Gradebook:
        """Open (creating if needed) the gradebook at *path*."""
        return cls(path, timeout=timeout, journal_mode=journal_mode)

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Gradebook({str(self.path)!r})"

    # -- write path ----------------------------------------------------------------------

    def record(self, result: Result, *, graded_at: datetime | None = None) -> None:
        """Store *result* (replacing an earlier one for the same submission), committed now.

        *graded_at* (default: now, UTC) goes into its own column, never into the JSON.
        """
        data = result.to_dict()
        try:
            text = json.dumps(data, ensure_ascii=False, sort_keys=True)
            text.encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise GradebookError(
                f"result for {result.submission!r} is not plain JSON ({exc}); "
                "convert NumPy values and decode file names before recording it"
            ) from exc
        when = (graded_at or datetime.now(timezone.utc)).isoformat(timespec="seconds")
        key = (result.assignment, result.submission)
        row = (
            *key, result.student, result.rubric_version, result.sha256, result.status, result.reason,
            float(result.score), float(result.max_score), int(result.passed), when, text,
        )
        columns = ", ".join(_RESULT_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _RESULT_COLUMNS[2:])
        test_rows = [
            (*key, position, t.name, t.task, t.visibility, t.status, float(t.score), float(t.max_score))
            for position, t in enumerate(result.tests)
        ]

        def write(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM tests WHERE assignment = ? AND submission = ?", key)
            # an upsert, not INSERT OR REPLACE: a regrade keeps the row's submitted_at
            db.execute(f"INSERT INTO results ({columns}) VALUES ({', '.join('?' * len(row))}) "
                       f"ON CONFLICT (assignment, submission) DO UPDATE SET {updates}", row)
            db.executemany("INSERT INTO tests VALUES (?,?,?,?,?,?,?,?,?)", test_rows)

        self._file.write(write)

    def forget(self, submission: str, *, assignment: str | None = None) -> int:
        """Delete the stored result(s) for *submission* so the next run regrades it."""
        where, args = _where(submission=submission, assignment=assignment)
        count = 0

        def write(db: sqlite3.Connection) -> None:
            nonlocal count
            db.execute(f"DELETE FROM tests {where}", args)
            count = db.execute(f"DELETE FROM results {where}", args).rowcount

        self._file.write(write)
        return count

    def set_submitted_times(self, assignment: str, times: Mapping[str, float]) -> None:
        """Record when each submission (path -> Unix seconds) was handed in, for ``--pick latest``.

        A submission without a stored result is passed over (it has no row to hold the time)."""
        rows = [(float(when), assignment, submission) for submission, when in times.items()]

        def write(db: sqlite3.Connection) -> None:
            db.executemany("UPDATE results SET submitted_at = ? WHERE assignment = ? AND submission = ?", rows)

        if rows:
            self._file.write(write)

    def submitted_times(self, *, assignment: str | None = None) -> dict[tuple[str, str], float]:
        """``{(assignment, submission): Unix seconds}`` of the submissions whose time is known."""
        where, args = _where(assignment=assignment)
        rows = self._file.read(
            f"SELECT assignment, submission, submitted_at FROM results {where} AND submitted_at IS NOT NULL", args)
        return {(r[0], r[1]): float(r[2]) for r in rows}

    # -- overrides -----------------------------------------------------------------------

    def set_override(
        self, assignment: str, student: str, part: str, points: float, comment: str, *,
        who: str | None = None, when: datetime | None = None,
    ) -> Override:
        """Store a TA's *points* for *part* of *student*'s grade (replacing an earlier override of
        that part). *who* defaults to the OS user, *when* to now (UTC). Checking *part* and
        *points* against the rubric is the caller's (``grader override`` does it)."""
        import getpass

        if who is None:
            try:
                who = getpass.getuser()
            except (OSError, KeyError, ImportError):  # no user name in this environment
                who = ""
        made = (when or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
        override = Override(assignment, _nfc(student), part, float(points), comment, who, made)

        def write(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO overrides VALUES (?,?,?,?,?,?,?)",
                       (override.assignment, override.student, override.part, override.points,
                        override.comment, override.who, override.when))

        self._file.write(write)
        return override

    def clear_override(self, assignment: str, student: str, part: str | None = None) -> int:
        """Remove *student*'s override of *part* (every part when None); how many were removed."""
        where, args = _where(assignment=assignment, student=_nfc(student), part=part)
        count = 0

        def write(db: sqlite3.Connection) -> None:
            nonlocal count
            count = db.execute(f"DELETE FROM overrides {where}", args).rowcount

        self._file.write(write)
        return count

    def overrides(self, *, assignment: str | None = None, student: str | None = None) -> list[Override]:
        """The overrides in force, ordered by assignment, student and part."""
        where, args = _where(assignment=assignment, student=None if student is None else _nfc(student))
        rows = self._file.read(
            "SELECT assignment, student, part, points, comment, who, made_at FROM overrides "
            f"{where} ORDER BY assignment, student, part", args)
        return [Override(r[0], r[1], r[2], float(r[3]), r[4], r[5], r[6]) for r in rows]

    # -- read path -----------------------------------------------------------------------

    def assignments(self) -> list[str]:
        """The assignments this gradebook holds results for, sorted."""
        return [r[0] for r in self._file.read("SELECT DISTINCT assignment FROM results ORDER BY assignment")]

    def is_done(
        self, submission: str, sha256: str, rubric_version: str, *, assignment: str | None = None
    ) -> bool:
        """True if a result exists for this path with this content hash and rubric version.

        Pass *assignment* when one gradebook holds several assignments.
        """
        where, args = _where(submission=submission, assignment=assignment)
        rows = self._file.read(
            f"SELECT 1 FROM results {where} AND sha256 = ? AND rubric_version = ? LIMIT 1",
            (*args, sha256, rubric_version),
        )
        return bool(rows)

    def get(self, submission: str, *, assignment: str | None = None) -> Result | None:
        """The stored result for *submission*, or None."""
        where, args = _where(submission=submission, assignment=assignment)
        rows = self._file.read(
            f"SELECT result_json FROM results {where} ORDER BY assignment LIMIT 1", args
        )
        return Result.from_json(rows[0][0]) if rows else None

    def results(self, *, assignment: str | None = None) -> Iterator[Result]:
        """Full results ordered by submission path, fetched a page at a time.

        Pages are keyed on the last row seen, so recording while iterating is safe.
        """
        for text in self._result_texts(assignment=assignment):
            yield Result.from_json(text)

    def result_texts(self, *, assignment: str | None = None) -> Iterator[str]:
        """The stored result JSON strings, exactly as recorded, ordered by submission path."""
        return self._result_texts(assignment=assignment)

    def _result_texts(self, *, assignment: str | None) -> Iterator[str]:
        filt, fargs = ("AND assignment = ?", (assignment,)) if assignment is not None else ("", ())
        last: tuple[str, str] | None = None
        while True:
            if last is None:
                sql = f"SELECT submission, assignment, result_json FROM results WHERE 1 {filt}"
                args: tuple[Any, ...] = fargs
            else:
                sql = (
                    "SELECT submission, assignment, result_json FROM results "
                    f"WHERE (submission, assignment) > (?, ?) {filt}"
                )
                args = (*last, *fargs)
            rows = self._file.read(f"{sql} ORDER BY submission, assignment LIMIT {_PAGE}", args)
            for _, _, text in rows:
                yield text
            if len(rows) < _PAGE:
                return
            last = (rows[-1][0], rows[-1][1])

    def __len__(self) -> int:
        return int(self._file.read("SELECT COUNT(*) FROM results")[0][0])

    def summary(self, *, assignment: str | None = None) -> dict[str, Any]:
        """Counts by status, number of submissions and students, passes, mean/median score.

        ``mean_score``/``median_score`` are None when nothing has a score yet.
        """
        where, args = _where(assignment=assignment)
        by_status = {status: 0 for status in STATUSES}
        for status, count in self._file.read(
            f"SELECT status, COUNT(*) FROM results {where} GROUP BY status ORDER BY status", args
        ):
            by_status[status] = count
        rows = self._file.read(f"SELECT score, max_score, passed, student FROM results {where}", args)
        scores = [r[0] for r in rows if r[0] is not None]
        percents = [100.0 * r[0] / r[1] for r in rows if r[0] is not None and r[1]]
        return {
            "submissions": len(rows),
            "students": len({_nfc(r[3]) for r in rows}),
            "by_status": by_status,
            "passed": sum(1 for r in rows if r[2]),
            "mean_score": statistics.fmean(scores) if scores else None,
            "median_score": statistics.median(scores) if scores else None,
            "mean_percent": statistics.fmean(percents) if percents else None,
        }

    def test_stats(self, *, assignment: str | None = None) -> list[dict[str, Any]]:
        """Per test: how many submissions passed/failed/errored/timed out, and the mean score."""
        where, args = _where(assignment=assignment)
        rows = self._file.read(
            "SELECT name, MIN(task), MIN(visibility), COUNT(*),"
            " SUM(status = 'passed'), SUM(status = 'failed'), SUM(status = 'error'),"
            " SUM(status = 'timeout'), AVG(score), MAX(max_score), MIN(position)"
            f" FROM tests {where} GROUP BY name ORDER BY MIN(position), name",
            args,
        )
        return [
            {
                "name": r[0], "task": r[1], "visibility": r[2], "count": r[3],
                "passed": r[4], "failed": r[5], "error": r[6], "timeout": r[7],
                "mean_score": r[8], "max_score": r[9],
            }
            for r in rows
        ]

    def duplicates(self, *, assignment: str | None = None) -> list[tuple[str, list[str]]]:
        """Students with more than one submission: ``[(student, [paths...]), ...]``.

        They are reported, never merged. Names are compared in Unicode NFC, so a folder
        name zipped on macOS (decomposed Hangul) matches the same name typed elsewhere.
        """
        where, args = _where(assignment=assignment)
        groups: dict[tuple[str, str], list[str]] = {}
        for assign, student, submission in self._file.read(
            f"SELECT assignment, student, submission FROM results {where} "
            "ORDER BY student, submission",
            args,
        ):
            groups.setdefault((assign, _nfc(student)), []).append(submission)
        return [
            (student, sorted(paths))
            for (_, student), paths in sorted(groups.items())
            if len(paths) > 1
        ]

    def integrity_check(self) -> list[str]:
        """SQLite's own consistency check: an empty list means the file is sound."""
        rows = self._file.read("PRAGMA integrity_check")
        return [] if rows == [("ok",)] else [str(r[0]) for r in rows]


_RESULT_COLUMNS = ("assignment", "submission", "student", "rubric_version", "sha256", "status", "reason",
                   "score", "max_score", "passed", "graded_at", "result_json")


def _where(**filters: str | None) -> tuple[str, tuple[str, ...]]:
    """``WHERE a = ? AND b = ?`` for the filters that are not None (always a valid clause)."""
    used = {k: v for k, v in filters.items() if v is not None}
    clause = " AND ".join(f"{k} = ?" for k in used) or "1"
    return f"WHERE {clause}", tuple(used.values())


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
