"""A grading worker: one per process of a local pool or a Dask cluster.

A :class:`Worker` loads the rubric and its limits once, runs the reference solution once (its
own :class:`~grader.api.ReferenceCache`), keeps one spare kernel booting for the next
submission, and grades one :class:`Job` at a time into a :class:`~grader.result.Result`; a
grading that fails becomes a 'crashed' result (:func:`crashed_result`), never an exception.

Imports go one way: ``batch`` -> ``executors`` (the local pool, Dask) -> ``worker`` -> ``api``.
The executors reach the process's worker through :func:`start` / :func:`current` (a pool's
initializer cannot hand an object to later tasks any other way); nothing else here is global.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import api
from grader import rubric as rubric_mod
from grader.config import Limits
from grader.result import Result


@dataclass(frozen=True)
class Job:
    """One submission to grade."""

    path: str          # absolute path of the notebook
    submission: str    # path relative to the graded folder, '/' separated, NFC
    student: str
    sha256: str


@dataclass(frozen=True)
class WorkerConfig:
    """What a worker needs to start (picklable: it travels to pool and Dask workers).

    ``out``: the batch's output folder, where the worker writes each job's ``result.json``,
    ``report.html``, ``feedback.html`` and ``executed.ipynb``; None when the parent writes them (Dask).
    ``origin``: where the rubric folder came from when it is a copy (the digest of the Dask
    bundle it was unpacked from), '' otherwise."""

    rubric_path: str
    public_only: bool
    sandbox: str = "auto"
    limit_overrides: dict[str, Any] = field(default_factory=dict)
    out: str | None = None
    origin: str = ""
    lang: str = ""  # the reports' language ('' = the rubric's)

    def key(self, *, where: bool = True) -> tuple[Any, ...]:
        """What makes two configurations grade alike (``where=False``: wherever the rubric is)."""
        overrides = tuple(sorted((k, str(v)) for k, v in self.limit_overrides.items()))
        place = (self.rubric_path, self.out) if where else ()
        return (*place, self.origin, self.public_only, self.sandbox, overrides, self.lang)

    def load_rubric(self) -> rubric_mod.Rubric:
        return rubric_mod.load(Path(self.rubric_path), public_only=self.public_only)


class Worker:
    """The rubric, the limits, the reference and the spare kernel of one grading process."""

    def __init__(self, config: WorkerConfig) -> None:
        from grader.cleanup import sweep_stale
        from grader.sandbox.pool import SparePool  # the kernel machinery loads here, in workers only

        self.config = config
        sweep_stale()  # scratch left by workers killed before they could clean up
        self.rubric = config.load_rubric()
        self.limits: Limits = (self.rubric.limits.override(config.limit_overrides, source="command line")
                               if config.limit_overrides else self.rubric.limits)
        self.references = api.ReferenceCache()
        self.spares = SparePool()
        self.closed = False
        # run the reference now, while the warm-kernel server boots; if it fails, the first test
        # that needs it reports it
        with contextlib.suppress(Exception):
            api.reference_for(self.rubric, self.references)

    def grade(self, job: Job, path: Path | None = None) -> Result:
        """Grade ``job`` (its file at ``path``, default ``job.path``); a failure is a 'crashed' result.

        With ``config.out``, also write its result.json, report.html and executed notebook there."""
        target = out_dir(Path(self.config.out), job.submission) if self.config.out else None
        try:
            result = api.grade_file(
                Path(path or job.path), self.rubric, submission=job.submission, student=job.student,
                sandbox=self.config.sandbox, limits=self.limits,
                executed_out=target / "executed.ipynb" if target else None,
                spare=self.spares,  # the next submission's kernel boots while this one is graded
                references=self.references,
            )
        except Exception as exc:  # noqa: BLE001 - invariant: every submission gets a result
            result = crashed_result(self.rubric, job, f"internal grader error ({type(exc).__name__}: "
                                                      f"{str(exc)[:300]}); please report it")
        return write_outputs(result, target, lang=self.config.lang or self.rubric.language) if target else result

    def close(self) -> None:
        """Release the spare kernel (and its scratch tmpfs); waits for the kernels' teardown."""
        if not self.closed:
            self.closed = True
            self.spares.close()


def crashed_result(rubric: rubric_mod.Rubric, job: Job, reason: str) -> Result:
    """A result for a submission whose grading itself failed (worker killed, grader bug)."""
    tests, tasks = api.unscored(rubric, "not run: " + reason)
    return Result.crashed(assignment=rubric.assignment, rubric_version=rubric.version, submission=job.submission,
                          student=job.student, sha256=job.sha256, pass_mark=rubric.pass_mark, reason=reason,
                          tests=tests, tasks=tasks, timings={"total": 0.0})


def out_dir(out: Path, submission: str) -> Path:
    """Where a submission's result.json, report.html and executed.ipynb go under ``out``."""
    rel = submission[:-6] if submission.endswith(".ipynb") else submission
    parts = [p for p in rel.split("/") if p not in ("", ".", "..")]
    return out.joinpath("submissions", *parts)


def write_outputs(result: Result, target: Path, *, lang: str) -> Result:
    """Write ``result.json`` (atomically), ``report.html`` (the TA's copy) and ``feedback.html``
    (the student's); a report that fails is noted in the returned result (``report_error``),
    never loses the grade."""
    from grader.report import html

    try:
        target.mkdir(parents=True, exist_ok=True)
        tmp = target / "result.json.tmp"
        tmp.write_text(result.to_json(), encoding="utf-8")
        tmp.replace(target / "result.json")
        html.write_both(result, target, lang=lang)
    except Exception as exc:  # noqa: BLE001 - a report that fails must not lose the grade
        return result.with_report_error(f"{type(exc).__name__}: {str(exc)[:200]}")
    return result


# -- the process's worker -----------------------------------------------------------------
_current: Worker | None = None
_at_exit: Any = None  # the finalizer that closes _current when the process ends


def start(config: WorkerConfig) -> Worker:
    """Make ``config``'s worker the process's (a pool initializer; a Dask task on a new config).

    A worker of another configuration is closed first: one spare kernel per process."""
    global _current, _at_exit  # the one process-wide slot (see the module docstring)
    if _current is not None and _current.config.key() == config.key() and not _current.closed:
        return _current
    close_current()
    from grader.cleanup import SPARE_KERNEL, at_exit

    here = Worker(config)
    # pool workers leave through os._exit, past atexit: release the spare kernel (and its
    # scratch tmpfs) in multiprocessing's own finalizers instead
    _current, _at_exit = here, at_exit(here.close, order=SPARE_KERNEL)
    return here


def current() -> Worker | None:
    """The process's worker, if one was started and is not closed."""
    return _current if _current is not None and not _current.closed else None


def close_current() -> None:
    """Close the process's worker, if any (a Dask worker's end of a batch)."""
    global _current, _at_exit  # see start()
    if _current is not None:
        here, handle, _current, _at_exit = _current, _at_exit, None, None
        here.close()
        if handle is not None:
            handle.cancel()


def start_pool_worker(config: WorkerConfig) -> None:
    """A local pool's initializer: die with the batch, then start the process's worker."""
    _die_with_parent()
    start(config)


def grade_job(job: Job) -> Result:
    """A local pool's task: grade one submission with the process's worker."""
    here = current()
    if here is None:
        raise RuntimeError("no grading worker in this process: the pool's initializer is worker.start_pool_worker")
    return here.grade(job)


def _die_with_parent() -> None:
    """A worker must not outlive a batch killed with kill -9 (its kernels die with it in turn)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            # PR_SET_PDEATHSIG. SIGTERM, not SIGKILL: the worker still ends, but through its clean-ups
            # (grader.cleanup.on_terminate: kernels stopped, tmpfs unmounted, folders removed)
            ctypes.CDLL(None).prctl(1, signal.SIGTERM)
            if os.getppid() == 1:  # the parent died before we got here
                os._exit(1)
        except OSError:
            pass
