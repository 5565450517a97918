"""Grade many submissions: discover, skip what is done, grade in parallel, stream to the gradebook.

The parent process only discovers files, hashes them, hands paths to workers and records each
result the moment it arrives (one SQLite transaction per result), so memory stays flat and a
batch stopped at any point resumes with nothing lost and nothing graded twice.
"""

from __future__ import annotations

import csv
import hashlib
import os
import sys
import time
import unicodedata
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterator

from grader import api
from grader.config import Limits
from grader.errors import UsageError
from grader.gradebook import Gradebook

SKIP_DIRS = {".ipynb_checkpoints", "__MACOSX", ".git", "__pycache__"}


@dataclass(frozen=True)
class Job:
    path: str          # absolute path of the notebook
    submission: str    # path relative to the graded folder, '/' separated, NFC
    student: str
    sha256: str


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


def out_dir(out: Path, submission: str) -> Path:
    rel = submission[:-6] if submission.endswith(".ipynb") else submission
    parts = [p for p in rel.split("/") if p not in ("", ".", "..")]
    return out.joinpath("submissions", *parts)


# -- worker side --------------------------------------------------------------------------
def _die_with_parent() -> None:
    """A worker must not outlive a batch killed with kill -9 (its kernels die with it in turn)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            if os.getppid() == 1:  # the parent died before we got here
                os._exit(1)
        except OSError:
            pass

_WORKER: dict[str, Any] = {}


def _init_worker(rubric_path: str, public_only: bool, sandbox: str, limit_overrides: dict[str, Any], out: str) -> None:
    from grader import rubric as rubric_mod

    _die_with_parent()
    from grader.cleanup import SPARE_KERNEL, at_exit
    from grader.sandbox import KernelSession

    # pool workers leave through os._exit, past atexit: release the spare kernel (and its
    # scratch tmpfs) in multiprocessing's own finalizers instead
    at_exit(KernelSession.drop_spare, order=SPARE_KERNEL)
    rb = rubric_mod.load(Path(rubric_path), public_only=public_only)
    limits = rb.limits.override(limit_overrides, source="command line") if limit_overrides else rb.limits
    _WORKER.update(rubric=rb, sandbox=sandbox, limits=limits, out=Path(out))
    try:
        api.reference_for(rb)  # run the reference solution now, while the warm-kernel server boots
    except Exception:  # noqa: BLE001 - the first test reports it
        pass


def grade_job(job: Job) -> dict[str, Any]:
    """Grade one submission in a worker; write its JSON, HTML and executed notebook."""
    rb = _WORKER["rubric"]
    target = out_dir(_WORKER["out"], job.submission)
    try:
        result = api.grade_notebook(
            Path(job.path), rb, submission=job.submission, student=job.student,
            sandbox=_WORKER["sandbox"], limits=_WORKER["limits"], executed_out=target / "executed.ipynb",
            spare=True,
        )
    except Exception as exc:  # noqa: BLE001 - invariant: every submission gets a result
        result = crashed_result(rb, job, f"internal grader error ({type(exc).__name__}: {str(exc)[:300]}); please report it")
    try:
        write_outputs(result, target, lang=rb.language)
    except Exception as exc:  # noqa: BLE001 - a report that fails must not lose the grade
        result.setdefault("report_error", f"{type(exc).__name__}: {str(exc)[:200]}")
    return result


def crashed_result(rb: Any, job: Job, reason: str) -> dict[str, Any]:
    """A result for a submission whose grading itself failed (worker killed, grader bug)."""
    from grader.runner import not_run

    result = {
        "schema": api.RESULT_SCHEMA, "assignment": rb.assignment, "rubric_version": rb.version,
        "submission": job.submission, "student": job.student, "sha256": job.sha256,
        "status": "crashed", "reason": reason, "score": 0.0, "max_score": 0.0, "pass_mark": rb.pass_mark,
        "passed": False, "tasks": [], "tests": [], "cells": [], "sandbox": "", "timings": {},
    }
    return api._finish(result, rb, not_run(rb, "not run: " + reason), time.perf_counter())


def write_outputs(result: dict[str, Any], target: Path, *, lang: str) -> None:
    from grader.report import html

    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "result.json.tmp"
    tmp.write_text(api.result_json(result), encoding="utf-8")
    tmp.replace(target / "result.json")
    html.write(result, target / "report.html", lang=lang)


# -- parent side --------------------------------------------------------------------------
def grade(
    paths: list[Path],
    out: Path,
    *,
    rubric: Any,
    jobs: int | None = None,
    regrade: bool = False,
    roster: Path | None = None,
    sandbox: str = "auto",
    limit_overrides: dict[str, Any] | None = None,
    dask: str | None = None,
    progress: Callable[[int, int, dict[str, Any] | None], None] | None = None,
    accept_all: bool = False,
) -> Summary:
    """Grade every notebook under ``paths`` into ``out``; see the module docstring."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    names = read_roster(roster)
    summary = Summary()
    todo: list[Job] = []
    with Gradebook(out / "gradebook.sqlite") as gb:
        for path, submission in discover(paths, (lambda n: True) if accept_all else rubric.grades_file):
            summary.total += 1
            student = names.get(submission) or api.student_id(submission)
            sha = _sha(path)
            if not regrade and sha and gb.is_done(submission, sha, rubric.version, assignment=rubric.assignment):
                summary.skipped += 1
                continue
            todo.append(Job(str(path.resolve()), submission, student, sha))
        if progress:
            progress(0, len(todo), None)
        init_args = (str(rubric.path), rubric.public_only, sandbox, dict(limit_overrides or {}), str(out.resolve()))
        try:
            if dask:
                from grader.executors import run_dask

                results = run_dask(dask, todo, init_args)
            else:
                results = _run_local(todo, init_args, jobs or os.cpu_count() or 1)
            done = 0
            for result in results:
                gb.record(result)
                done += 1
                summary.by_status[result["status"]] = summary.by_status.get(result["status"], 0) + 1
                if progress:
                    progress(done, len(todo), result)
        except KeyboardInterrupt:
            summary.interrupted = True
        summary.duplicates = gb.duplicates(assignment=rubric.assignment)
        _export_csv(gb, out, rubric)
    summary.seconds = time.perf_counter() - t0
    return summary


def _export_csv(gb: Gradebook, out: Path, rubric: Any) -> None:
    from grader.report.exports import write_csv

    write_csv(gb.results(assignment=rubric.assignment), csv_path(out, rubric.assignment), tasks=[t.name for t in rubric.tasks])


def csv_path(out: Path, assignment: str) -> Path:
    return out / f"grades_{assignment}.csv"


def _share_zygote(sandbox: str) -> None:
    """One warm-kernel zygote for the whole batch: workers ask it instead of starting their own."""
    from grader.sandbox import detect_mechanism, forkserver
    from grader.sandbox.launch import Launch, zygote_env

    try:
        if detect_mechanism(sandbox)[0] != "forkserver":
            return
        env = Launch(Path("/"), Limits(), "forkserver", None).env()
        forkserver.share(zygote_env(env))
    except Exception:  # noqa: BLE001 - workers then start their own
        pass


def _run_local(todo: list[Job], init_args: tuple[Any, ...], jobs: int) -> Iterator[dict[str, Any]]:
    """Yield results as workers finish them, keeping at most 2 x jobs in flight.

    A worker that dies (the OOM killer, a grader bug) costs only its submission: it gets a
    'crashed' result and the pool is rebuilt for the rest.
    """
    if not todo:
        return
    from concurrent.futures.process import BrokenProcessPool

    from grader import rubric as rubric_mod

    if sys.platform.startswith("linux"):
        ctx = get_context("forkserver")
        # workers fork from a server that imported the grader once, instead of each importing it,
        # and the libraries the reference solution imports (0.4 s of CPU per worker otherwise)
        ctx.set_forkserver_preload(["grader.api", "grader.batch", "grader.report.html", "nbclient", "jupyter_client",
                                    "pandas", "matplotlib.pyplot"])
    else:
        ctx = get_context("spawn")
    _share_zygote(init_args[2])
    queue = list(reversed(todo))
    rb = None
    while queue:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=init_args)
        pending: dict[Future[dict[str, Any]], Job] = {}
        broken = False
        try:
            while queue or pending:
                while queue and len(pending) < 2 * jobs and not broken:
                    job = queue.pop()
                    pending[pool.submit(grade_job, job)] = job
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = pending.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        rb = rb or rubric_mod.load(Path(init_args[0]), public_only=init_args[1])
                        yield crashed_result(rb, job, "the grading worker died (out of memory or killed); the submission was not graded")
                if broken:
                    # the others in flight are lost with the pool: grade them again in a new one
                    queue.extend(reversed(list(pending.values())))
                    pending.clear()
                    break
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


__all__ = ["Job", "Summary", "discover", "grade", "grade_job", "out_dir", "read_roster"]
