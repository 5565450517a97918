"""The gradebook file: its tables, its version, how a file is created or recognised, and the
one connection a process holds to it (:class:`GradebookFile`).

``PRAGMA application_id`` marks a grader gradebook, ``PRAGMA user_version`` its schema version.
A new file gets the tables; a file of this version is used as is; a file of an older version is
brought up to date in place by the steps of :data:`MIGRATIONS` (one transaction, so two graders
opening it at once migrate it once); anything else is refused with what to do (a newer grader's
file, another program's database, not a database at all).

Versions: 1 results and tests; 2 adds ``overrides`` (a TA's points for a part, with who and when)
and ``results.submitted_at`` (when the notebook was handed in: its git commit time, else its file
time, in Unix seconds; what ``--pick latest`` reads).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from grader.errors import GradebookError

_T = TypeVar("_T")

SCHEMA_VERSION = 2
"""Stored in ``PRAGMA user_version``; bump it (and add a migration) when the tables change."""

APPLICATION_ID = 0x47524442  # "GRDB": marks the file as a grader gradebook (PRAGMA application_id)

JOURNAL_MODES = ("wal", "delete", "truncate", "persist")

TABLES = """
CREATE TABLE results (
    assignment     TEXT NOT NULL,
    submission     TEXT NOT NULL,
    student        TEXT NOT NULL,
    rubric_version TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    score          REAL,
    max_score      REAL,
    passed         INTEGER,
    graded_at      TEXT NOT NULL,
    result_json    TEXT NOT NULL,
    submitted_at   REAL,
    PRIMARY KEY (assignment, submission)
) WITHOUT ROWID;
CREATE INDEX results_by_submission ON results (submission);
CREATE INDEX results_by_student ON results (assignment, student);
CREATE TABLE tests (
    assignment  TEXT NOT NULL,
    submission  TEXT NOT NULL,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    task        TEXT,
    visibility  TEXT,
    status      TEXT,
    score       REAL,
    max_score   REAL,
    PRIMARY KEY (assignment, submission, position)
) WITHOUT ROWID;
CREATE INDEX tests_by_name ON tests (assignment, name);
CREATE TABLE overrides (
    assignment  TEXT NOT NULL,
    student     TEXT NOT NULL,
    part        TEXT NOT NULL,
    points      REAL NOT NULL,
    comment     TEXT NOT NULL DEFAULT '',
    who         TEXT NOT NULL DEFAULT '',
    made_at     TEXT NOT NULL,
    PRIMARY KEY (assignment, student, part)
) WITHOUT ROWID;
"""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    # version 1 -> 2: a TA's overrides; when each notebook was handed in
    1: (
        "ALTER TABLE results ADD COLUMN submitted_at REAL",
        TABLES[TABLES.index("CREATE TABLE overrides"):].strip().rstrip(";"),
    ),
}
"""From version N, the statements that make it version N + 1 (run in order, in one transaction)."""


def check_journal_mode(mode: str) -> str:
    if mode.lower() not in JOURNAL_MODES:
        raise GradebookError(
            f"unknown journal_mode {mode!r}; use 'wal' (one machine) "
            "or 'delete' (a file shared over a network filesystem)"
        )
    return mode.lower()


def set_journal_mode(db: sqlite3.Connection, mode: str) -> None:
    (current,) = db.execute("PRAGMA journal_mode").fetchone()
    if str(current).lower() != mode:
        db.execute(f"PRAGMA journal_mode = {mode}").fetchone()


def ensure_schema(db: sqlite3.Connection, path: Path) -> None:
    """Create the tables in a new file, or check that ``path`` is a gradebook this grader reads.

    One ``BEGIN IMMEDIATE`` transaction, so two processes opening a new file at once create the
    tables once."""
    db.execute("BEGIN IMMEDIATE")
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        (app_id,) = db.execute("PRAGMA application_id").fetchone()
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type='table'")]
        if version == 0 and app_id == 0 and not tables:
            # statement by statement: executescript() would COMMIT our transaction
            for statement in TABLES.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif app_id != APPLICATION_ID:
            what = f"tables: {', '.join(sorted(tables))}" if tables else "unknown SQLite file"
            raise GradebookError(
                f"{path} is not a grader gradebook ({what}); choose another --out folder or delete it"
            )
        elif version > SCHEMA_VERSION:
            raise GradebookError(
                f"{path} was written by a newer grader (gradebook schema {version}; "
                f"this grader reads up to {SCHEMA_VERSION}); upgrade grader, "
                "or choose another --out folder"
            )
        elif version < SCHEMA_VERSION:
            if any(step not in MIGRATIONS for step in range(version, SCHEMA_VERSION)):
                raise GradebookError(
                    f"{path} has gradebook schema {version}, which this grader cannot "
                    "migrate; regrade into a new --out folder"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock ("database is locked", "busy")."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class GradebookFile:
    """The one connection a process holds to a gradebook file: opened (the file created or
    recognised), used by this process only, locked statements retried, each write one
    ``BEGIN IMMEDIATE`` transaction. :class:`grader.gradebook.Gradebook` asks it the questions."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        journal_mode: str = "wal",
    ) -> None:
        self.path = Path(path)
        self.timeout = float(timeout)
        self._pid = os.getpid()
        self._conn: sqlite3.Connection | None = None
        mode = check_journal_mode(journal_mode)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise GradebookError(
                f"cannot create the folder for {self.path}: {exc.strerror}; "
                "choose another --out folder"
            ) from exc
        try:
            # isolation_level=None: no implicit transactions; every write below opens its own
            # BEGIN IMMEDIATE so that the write lock is taken up front (no upgrade deadlocks).
            self._conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=True
            )
            self._conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self.retry(lambda: set_journal_mode(self._db, mode))
            self._conn.execute("PRAGMA synchronous = FULL")
            self.retry(lambda: ensure_schema(self._db, self.path))
        except sqlite3.DatabaseError as exc:
            self.close()
            if "unable to open" in str(exc) or "readonly" in str(exc):
                raise GradebookError(
                    f"cannot open {self.path} for writing ({exc}); check that the folder is "
                    "writable, or choose another --out folder"
                ) from exc
            raise GradebookError(
                f"{self.path} is not a grader gradebook ({exc}); "
                "choose another --out folder or delete it"
            ) from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise GradebookError(f"the gradebook {self.path} is closed; open it again")
        if os.getpid() != self._pid:
            raise GradebookError(
                f"the gradebook {self.path} was opened in process {self._pid} and used in "
                f"process {os.getpid()}; open one Gradebook per process"
            )
        return self._conn

    def retry(self, fn: Callable[[], _T]) -> _T:
        """Run *fn*, retrying while another writer holds the lock, up to 2 x timeout."""
        deadline = time.monotonic() + 2 * self.timeout
        delay = 0.01
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise GradebookError(
                        f"{self.path} stayed locked for {2 * self.timeout:.0f} s ({exc}); "
                        "another grader is writing to it. Wait for it to finish, or use "
                        "another --out folder"
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter between retries, not a secret
                delay = min(delay * 2, 1.0)

    def write(self, fn: Callable[[sqlite3.Connection], None]) -> None:
        db = self._db

        def attempt() -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                fn(db)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        try:
            self.retry(attempt)
        except sqlite3.DatabaseError as exc:
            raise GradebookError(
                f"could not write to {self.path} ({exc}); check free disk space and "
                "permissions, or use another --out folder"
            ) from exc

    def read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.retry(lambda: self._db.execute(sql, args).fetchall())
        except sqlite3.DatabaseError as exc:
            raise GradebookError(
                f"could not read {self.path} ({exc}); if the file is damaged, "
                "move it aside and regrade into a new --out folder"
            ) from exc
