"""Grade many submissions: discover, skip what is done, grade in parallel, stream to the gradebook.

Where the grading happens is ``grader.executors`` (a local process pool or Dask), how one
submission is graded ``grader.worker``; this module only decides what to grade and records it.

The parent process only discovers files, hashes them, hands paths to workers and records each
result the moment it arrives (one SQLite transaction per result), so memory stays flat and a
batch stopped at any point resumes with nothing lost and nothing graded twice.
"""

from __future__ import annotations

import csv
import hashlib
import os
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import api, executors
from grader.errors import UsageError
from grader.gradebook import Gradebook
from grader.result import Result
from grader.rubric import Rubric
from grader.report.html import FEEDBACK
from grader.worker import Job, WorkerConfig, out_dir, write_outputs

SKIP_DIRS = {".ipynb_checkpoints", "__MACOSX", ".git", "__pycache__"}


@dataclass
class Summary:
    total: int = 0
    skipped: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    duplicates: list[tuple[str, list[str]]] = field(default_factory=list)
    interrupted: bool = False

    @property
    def graded_now(self) -> int:
        return sum(self.by_status.values())

    @property
    def without_result(self) -> int:
        """Submissions to grade that got no result (0 unless the batch was interrupted: every
        submission gets one, 'crashed' at worst); ``grader grade`` exits 1 when it is not 0."""
        return max(0, self.total - self.skipped - self.graded_now)


def discover(paths: list[Path], accept: Callable[[str], bool] = lambda name: True) -> Iterator[tuple[Path, str]]:
    """Yield ``(file, submission)`` for every notebook under ``paths``, in a stable order.

    Files named on the command line are always taken; inside folders, ``accept(file name)``
    picks the notebooks of this assignment (the rubric's match/exclude globs)."""
    for root in paths:
        if not root.exists():
            raise UsageError(f"{root} does not exist; pass a folder of submissions or .ipynb files")
        if root.is_file():
            yield root, unicodedata.normalize("NFC", root.name)
            continue
        found = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for name in filenames:
                if name.endswith(".ipynb") and not name.startswith(".") and accept(name):
                    p = Path(dirpath) / name
                    found.append((p, unicodedata.normalize("NFC", p.relative_to(root).as_posix())))
        yield from sorted(found, key=lambda x: x[1])


def read_roster(path: Path | None) -> dict[str, str]:
    """A CSV with columns ``path`` (or ``submission``) and ``student``: path -> student id."""
    if path is None:
        return {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise UsageError(f"roster {path} cannot be read ({exc.strerror})") from None
    if not rows or "student" not in rows[0] or not ({"path", "submission"} & set(rows[0])):
        raise UsageError(f"roster {path} needs a header with 'path' (or 'submission') and 'student' columns")
    key = "path" if "path" in rows[0] else "submission"
    return {unicodedata.normalize("NFC", r[key].strip()): r["student"].strip() for r in rows}


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()


# -- parent side --------------------------------------------------------------------------
def grade(
    paths: list[Path],
    out: Path,
    *,
    rubric: Rubric,
    jobs: int | None = None,
    regrade: bool = False,
    roster: Path | None = None,
    sandbox: str = "auto",
    limit_overrides: dict[str, Any] | None = None,
    dask: str | None = None,
    progress: Callable[[int, int, Result | None], None] | None = None,
    accept_all: bool = False,
    lang: str = "",
) -> Summary:
    """Grade every notebook under ``paths`` into ``out``; see the module docstring."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    names = read_roster(roster)
    summary = Summary()
    todo: list[Job] = []
    unreported: list[str] = []  # graded before, by a grader that wrote no feedback.html
    with Gradebook(out / "gradebook.sqlite") as gb:
        for path, submission in discover(paths, (lambda n: True) if accept_all else rubric.grades_file):
            summary.total += 1
            student = names.get(submission) or api.student_id(submission)
            sha = _sha(path)
            if not regrade and sha and gb.is_done(submission, sha, rubric.version, assignment=rubric.assignment):
                summary.skipped += 1
                if not (out_dir(out, submission) / FEEDBACK).is_file():
                    unreported.append(submission)
                continue
            todo.append(Job(str(path.resolve()), submission, student, sha))
        if progress:
            progress(0, len(todo), None)
        config = WorkerConfig(str(rubric.path), rubric.public_only, sandbox, dict(limit_overrides or {}),
                              out=str(out.resolve()), lang=lang)
        try:
            if dask:
                results = executors.run_dask(dask, todo, config)
            else:
                results = executors.run_local(todo, config, jobs or os.cpu_count() or 1)
            for done, result in enumerate(results, 1):
                gb.record(result)
                summary.by_status[result.status] = summary.by_status.get(result.status, 0) + 1
                if progress:
                    progress(done, len(todo), result)
        except KeyboardInterrupt:
            summary.interrupted = True
        for submission in unreported:  # its grade stands; its reports are written from it
            found = gb.get(submission, assignment=rubric.assignment)
            if found is not None:
                write_outputs(found, out_dir(out, submission), lang=lang or rubric.language)
        summary.duplicates = gb.duplicates(assignment=rubric.assignment)
        _export_csv(gb, out, rubric)
    summary.seconds = time.perf_counter() - t0
    return summary


def _export_csv(gb: Gradebook, out: Path, rubric: Rubric) -> None:
    from grader.report.exports import write_csv

    write_csv(gb.results(assignment=rubric.assignment), csv_path(out, rubric.assignment),
              tasks=[t.name for t in rubric.tasks])


def csv_path(out: Path, assignment: str) -> Path:
    return out / f"grades_{assignment}.csv"


__all__ = ["Job", "Summary", "csv_path", "discover", "grade", "out_dir", "read_roster"]
