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
import json
import os
import subprocess
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
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
    handouts: list[tuple[str, str]] = field(default_factory=list)
    """``(submission, handout)``: notebooks left out as untouched copies of the handout."""
    dashboard: Path | None = None
    """The class dashboard written after the run (``OUT/index.html``)."""

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
    """A CSV with columns ``path`` (or ``submission``) and ``student``: path -> student id.

    A row with an empty path (a student who handed nothing in) maps no path: see :func:`roster_students`."""
    return {p: student for p, student in _roster_rows(path) if p}


def roster_students(path: Path | None) -> list[str] | None:
    """Every student of the roster, in its order, once each (NFC), including those whose path is
    empty (they handed nothing in); None without a roster."""
    if path is None:
        return None
    return list(dict.fromkeys(unicodedata.normalize("NFC", s) for _, s in _roster_rows(path) if s))


def _roster_rows(path: Path | None) -> list[tuple[str, str]]:
    if path is None:
        return []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise UsageError(f"roster {path} cannot be read ({exc.strerror})") from None
    if not rows or "student" not in rows[0] or not ({"path", "submission"} & set(rows[0])):
        raise UsageError(f"roster {path} needs a header with 'path' (or 'submission') and 'student' columns")
    key = "path" if "path" in rows[0] else "submission"
    return [(unicodedata.normalize("NFC", (r[key] or "").strip()), (r["student"] or "").strip()) for r in rows]


# -- when a notebook was handed in -------------------------------------------------------------
def submitted_times(files: Sequence[tuple[Path, str]]) -> dict[str, float]:
    """``submission -> Unix seconds`` it was handed in: the last git commit that touched the file
    when it lies in a git checkout (``git log -1 --format=%ct``; a clone gives every file the
    clone's time, so the commit is what tells), else its modification time. Unreadable: left out."""
    out: dict[str, float] = {}
    in_git: dict[Path, bool] = {}
    for path, submission in files:
        folder = path.parent
        if folder not in in_git:
            in_git[folder] = _git(folder, "rev-parse", "--is-inside-work-tree") == "true"
        when = _git(folder, "log", "-1", "--format=%ct", "--", path.name) if in_git[folder] else ""
        if when.isdigit():
            out[submission] = float(when)
            continue
        try:
            out[submission] = path.stat().st_mtime
        except OSError:
            continue
    return out


def _git(folder: Path, *args: str) -> str:
    """git's one-line answer in *folder*, '' when git is absent or says no."""
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True,  # noqa: S603, S607 - fixed git arguments, git from PATH as a TA's shell finds it
                              timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


# -- the handout among the submissions ---------------------------------------------------------
def code_signature(path: Path) -> tuple[str, ...] | None:
    """A notebook's code as compared with the handout's: each non-empty code cell's source with
    trailing spaces and blank lines removed (outputs, metadata and markdown ignored); None when
    the file is not a readable notebook."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        cells = data.get("cells", []) if isinstance(data, dict) else []
    except (OSError, ValueError):
        return None
    out = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        text = "".join(src) if isinstance(src, list) else str(src)
        lines = [line.rstrip() for line in text.splitlines() if line.strip()]
        if lines:
            out.append("\n".join(lines))
    return tuple(out)


def handout_paths(rubric: Rubric, extra: Sequence[Path] = ()) -> list[Path]:
    """The handouts a submission may be an untouched copy of: *extra* (the course's file, given
    with ``--handout``), the course's own files the rubric keeps (``rubrics/<a>/handout/*.ipynb``:
    week 3's, as the course hands it out) and the project's student notebook
    (``assignments/<a>/<notebook>``)."""
    own = rubric.path.parent.parent / "assignments" / rubric.assignment / rubric.notebook
    course = sorted((rubric.path / "handout").glob("*.ipynb"))
    return [p for p in dict.fromkeys([*extra, *course, own]) if p.is_file()]


def has_notebooks(paths: list[Path], rubric: Rubric) -> bool:
    """Whether ``paths`` hold any notebook this rubric grades (its match/exclude globs)."""
    return next(discover(paths, rubric.grades_file), None) is not None


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
    handouts: Sequence[Path] = (),
) -> Summary:
    """Grade every notebook under ``paths`` into ``out``; see the module docstring.

    A notebook whose code is the handout's (:func:`handout_paths`: *handouts* and the project's
    student notebook; compared by :func:`code_signature`) is left out and listed in
    ``Summary.handouts``. When each notebook was handed in is stored for ``--pick latest``."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    names = read_roster(roster)
    summary = Summary()
    todo: list[Job] = []
    unreported: list[str] = []  # graded before, by a grader that wrote no feedback.html
    blanks: dict[tuple[str, ...], str] = {}
    for handout in [] if accept_all else handout_paths(rubric, handouts):  # accept_all: grade every one
        sig = code_signature(handout)
        if sig:  # a handout without code would match every empty notebook
            blanks.setdefault(sig, str(handout))
    found = list(discover(paths, (lambda n: True) if accept_all else rubric.grades_file))
    if blanks:
        kept = []
        for path, submission in found:
            same = blanks.get(code_signature(path) or ("<unreadable>",))
            if same is None:
                kept.append((path, submission))
            else:
                summary.handouts.append((submission, same))
        found = kept
    with Gradebook(out / "gradebook.sqlite") as gb:
        for path, submission in found:
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
            stored = gb.get(submission, assignment=rubric.assignment)
            if stored is not None:
                write_outputs(stored, out_dir(out, submission), lang=lang or rubric.language)
        gb.set_submitted_times(rubric.assignment, submitted_times(found))
        summary.duplicates = gb.duplicates(assignment=rubric.assignment)
        write_grades_csv(gb, out, rubric.assignment, tasks=[t.name for t in rubric.tasks])
    if found:  # the class's pages: similar pairs and the dashboard (after the gradebook is closed)
        from grader import classview

        own = {names.get(s) or api.student_id(s): p for p, s in sorted(found, key=lambda f: f[1])}
        summary.seconds = time.perf_counter() - t0
        summary.dashboard = classview.after_run(out, rubric, summary, submissions=own, lang=lang,
                                                handouts=handout_paths(rubric, handouts))
    summary.seconds = time.perf_counter() - t0
    return summary


def write_grades_csv(gb: Gradebook, out: Path, assignment: str, *, tasks: Sequence[str] | None = None) -> Path:
    """``OUT/grades_<assignment>.csv``: every graded notebook, the TA's overrides in force (rewritten
    after each run and each ``grader override``, so it is never stale)."""
    from grader.report.exports import write_csv

    return write_csv(gb.results(assignment=assignment), csv_path(out, assignment), tasks=tasks,
                     overrides=gb.overrides(assignment=assignment))[0]


def csv_path(out: Path, assignment: str) -> Path:
    return out / f"grades_{assignment}.csv"


__all__ = [
    "Job", "Summary", "code_signature", "csv_path", "discover", "grade", "handout_paths", "has_notebooks", "out_dir",
    "read_roster", "roster_students", "submitted_times", "write_grades_csv",
]
