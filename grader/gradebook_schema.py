"""The gradebook file's layout: its tables, its version, and how a file is created or recognised.

``PRAGMA application_id`` marks a grader gradebook, ``PRAGMA user_version`` its schema version.
A new file gets the tables; a file of this version is used as is; anything else is refused with
what to do (a newer grader's file, another program's database, not a database at all).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from grader.errors import GradebookError

SCHEMA_VERSION = 1
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
"""


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
        elif version < SCHEMA_VERSION:  # pragma: no cover - no older schema exists yet
            raise GradebookError(
                f"{path} has gradebook schema {version}, which this grader cannot "
                "migrate; regrade into a new --out folder"
            )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock ("database is locked", "busy")."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text
