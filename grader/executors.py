"""Where a batch's submissions are graded: a local process pool, or a Dask cluster.

Both hand :class:`~grader.worker.Job` s to :class:`~grader.worker.Worker` s and yield one
:class:`~grader.result.Result` per job as it completes (``run_local``, ``run_dask``).

Dask: the same results as local grading, on many machines. How a course runs it::

    # one machine (reachable by the grading machines and by the TA's):
    dask scheduler                                   # listens on tcp://host:8786

    # each grading machine (grader and bubblewrap installed there, the same grader code):
    dask worker tcp://host:8786 --nworkers N --nthreads 1

    # the TA, anywhere that reaches the scheduler:
    grader grade submissions/ --out out/ --dask tcp://host:8786

``--nthreads 1`` matters: a worker process grades one submission at a time (the reference
solution runs in-process and keeps per-test state), so more threads per process only queue
behind a lock; scale with ``--nworkers`` (about one per core).

What goes where:

* The workers need no shared filesystem with the TA's machine. The rubric folder and its
  ``solutions/<assignment>/`` folder are packed into one in-memory tar.gz (``grader.bundle``),
  broadcast to every worker once (``client.scatter``), and unpacked once per worker process
  into a temp folder keyed by the archive's digest. Each task carries the bytes of ONE notebook, read by the
  parent just before it is submitted (never all at once).
* Each task grades one submission and returns its :class:`Result`. The parent records results in
  the gradebook as they complete, and writes ``result.json`` and ``report.html`` into the
  output folder itself; workers never write into it. **Executed notebooks are not kept in Dask
  mode** (``executed.ipynb`` is only written by local grading).
* At most ``4 x`` the cluster's total threads are in flight, so the parent's memory stays flat
  for thousands of submissions.
* A task whose worker dies is retried once by Dask (``retries=1``); a task that still fails
  (an exception, the worker lost twice) becomes a ``crashed`` result: every submission gets one.
* Before any submission, a probe task loads the rubric on a worker and returns the fingerprint
  of the grader code it runs (``code_fingerprint``); a worker running other code is refused.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from grader import worker
from grader.bundle import pack_rubric, unpack_rubric
from grader.config import Limits
from grader.errors import GraderError
from grader.result import Result
from grader.worker import Job, WorkerConfig

IN_FLIGHT_PER_THREAD = 4
CONNECT_TIMEOUT = 20  # seconds to reach the scheduler
MAX_RESUBMITS = 2  # times a job is sent again after the cluster lost its inputs


# -- local pool ---------------------------------------------------------------------------
def run_local(todo: list[Job], config: WorkerConfig, jobs: int) -> Iterator[Result]:
    """Yield results as pool workers finish them, keeping at most 2 x jobs in flight.

    Workers write each job's outputs under ``config.out``. A worker that dies (the OOM killer, a
    grader bug) costs only its submission: it gets a 'crashed' result and the pool is rebuilt.
    """
    if not todo:
        return
    from concurrent.futures.process import BrokenProcessPool

    if sys.platform.startswith("linux"):
        ctx = get_context("forkserver")
        # workers fork from a server that imported the grader once, instead of each importing it,
        # and the libraries the reference solution imports (0.4 s of CPU per worker otherwise), and
        # what draws the reports' plots
        ctx.set_forkserver_preload(["grader.api", "grader.worker", "grader.report.html", "nbclient",
                                    "jupyter_client", "pandas", "matplotlib.pyplot", "grader.report.plots",
                                    "matplotlib.backends.backend_agg"])
    else:
        ctx = get_context("spawn")
    _share_zygote(config.sandbox)
    queue = list(reversed(todo))
    rubric = None
    while queue:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=worker.start_pool_worker,
                                   initargs=(config,))
        pending: dict[Future[Result], Job] = {}
        broken = False
        try:
            while queue or pending:
                while queue and len(pending) < 2 * jobs and not broken:
                    job = queue.pop()
                    pending[pool.submit(worker.grade_job, job)] = job
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    job = pending.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        rubric = rubric or config.load_rubric()
                        yield worker.crashed_result(rubric, job, "the grading worker died (out of memory or "
                                                                 "killed); the submission was not graded")
                if broken:
                    # the others in flight are lost with the pool: grade them again in a new one
                    queue.extend(reversed(list(pending.values())))
                    pending.clear()
                    break
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


def _share_zygote(sandbox: str) -> None:
    """One warm-kernel zygote for the whole batch: workers ask it instead of starting their own."""
    from grader.sandbox import detect_mechanism, forkserver
    from grader.sandbox.launch import Launch, zygote_env

    with contextlib.suppress(Exception):  # no shared zygote: workers then start their own
        if detect_mechanism(sandbox)[0] != "forkserver":
            return
        env = Launch(Path("/"), Limits(), "forkserver", None).env()
        forkserver.share(zygote_env(env))


# -- the code a process runs ---------------------------------------------------------------
def fingerprint_of(root: Path) -> str:
    """sha256 over the Python sources under ``root`` (each file's relative path and bytes, in
    sorted order; caches skipped): equal for two folders exactly when their code is."""
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        if "__pycache__" in f.relative_to(root).parts:
            continue
        rel = f.relative_to(root).as_posix().encode()
        data = f.read_bytes()
        h.update(len(rel).to_bytes(4, "big") + rel + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The fingerprint of the grader package this process runs, computed once per process: the
    Dask preflight compares the workers' with this machine's."""
    return fingerprint_of(Path(__file__).resolve().parent)


def worker_fingerprint() -> str:
    """Run on every Dask worker (``client.run``; sent by reference, so each runs its own code)."""
    return code_fingerprint()


# -- Dask worker side -------------------------------------------------------------------------
# one grading at a time per worker process (kernel uid is per pid; the reference chdirs)
_LOCK = threading.Lock()


def _dask_worker(bundle: bytes, digest: str, rubric_name: str, config: WorkerConfig) -> worker.Worker:
    """This process's worker for the bundle: the rubric unpacked once (per digest and config), its
    reference run once; nothing is written into an output folder (the parent writes reports)."""
    wanted = WorkerConfig("", config.public_only, config.sandbox, dict(config.limit_overrides), out=None,
                          origin=digest, lang=config.lang)
    here = worker.current()
    if here is not None and here.config.key(where=False) == wanted.key(where=False):
        return here
    root = unpack_rubric(bundle, digest)
    with contextlib.suppress(Exception):  # not on a Dask worker (a test calls this directly)
        from distributed import get_worker

        from grader import cleanup

        # SIGTERM runs this process's clean-ups (kernels, tmpfs, folders); the handler can only be
        # installed from the main thread, where the worker's event loop runs
        get_worker().loop.add_callback(cleanup.on_terminate)
    return worker.start(replace(wanted, rubric_path=str(root / "rubric" / rubric_name)))


def _safe_name(submission: str) -> str:
    name = submission.rsplit("/", 1)[-1]
    if not name or name in (".", "..") or "\0" in name or len(name.encode("utf-8")) > 200:
        name = "submission.ipynb"
    return name


def _as_if_local(result: Result, temp: Path, original: str) -> Result:
    """Messages that name the file (e.g. "PATH: not valid JSON") name the parent's path, as locally."""
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    a, b = json.dumps(str(temp), ensure_ascii=False)[1:-1], json.dumps(original, ensure_ascii=False)[1:-1]
    return Result.from_json(text.replace(a, b)) if a in text else result


def grade_task(job: Job, data: bytes | None, bundle: bytes, digest: str, rubric_name: str,
               config: WorkerConfig) -> Result:
    """Runs on a Dask worker: grade one submission given its bytes; return its result."""
    with _LOCK:
        w = _dask_worker(bundle, digest, rubric_name, config)
        with tempfile.TemporaryDirectory(prefix="grader-sub-") as tmp:
            path = Path(tmp) / _safe_name(job.submission)
            if data is not None:
                path.write_bytes(data)
            # a submission unreadable by the parent stays missing here: grading calls it invalid
            return _as_if_local(w.grade(job, path), path, job.path)


def probe_task(bundle: bytes, digest: str, rubric_name: str, config: WorkerConfig) -> str:
    """Runs on a worker before any submission: unpack and load the rubric, run the reference;
    return the fingerprint of the grader code this worker runs."""
    with _LOCK:
        _dask_worker(bundle, digest, rubric_name, config)
    return code_fingerprint()


def _release_worker() -> None:
    """Each Dask worker's spare kernel (and its scratch tmpfs) at the end of a run."""
    with _LOCK:
        worker.close_current()


# -- parent side --------------------------------------------------------------------------
def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def run_dask(address: str, todo: list[Job], config: WorkerConfig) -> Iterator[Result]:
    """Grade ``todo`` on the Dask cluster at ``address``; yield each result as it completes.

    For every yielded result, ``result.json`` and ``report.html`` are already written under
    ``config.out`` by this process (executed notebooks are not kept in Dask mode).
    """
    if not todo:
        return
    # an optional dependency without type hints: its objects are Any here
    distributed: Any = importlib.import_module("dask.distributed")
    Client, as_completed = distributed.Client, distributed.as_completed

    rb = config.load_rubric()
    bundle = pack_rubric(rb)
    digest = hashlib.sha256(bundle).hexdigest()
    rubric_name = Path(rb.path).name
    out_path = Path(config.out or ".")
    on_workers = replace(config, out=None)

    def finish(result: Result) -> Result:
        return worker.write_outputs(result, worker.out_dir(out_path, result.submission),
                                    lang=config.lang or rb.language)

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        raise GraderError(
            f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {str(exc)[:200]}); "
            "start it with `dask scheduler` on that machine, or grade locally without --dask"
        ) from None
    pending: dict[Any, Job] = {}
    try:
        _wait_for_workers(client, address)
        bundle_f = client.scatter(bundle, broadcast=True, hash=False)
        _preflight(client, address, bundle_f, digest, rubric_name, on_workers)
        queue = list(reversed(todo))
        resubmitted: dict[str, int] = {}
        checked = 0.0
        limit = IN_FLIGHT_PER_THREAD

        def refresh_limit() -> int:
            nonlocal checked, limit
            now = time.monotonic()
            if now - checked > 5.0:
                checked = now
                # keep the last figure through a scheduler hiccup
                with contextlib.suppress(Exception):
                    limit = IN_FLIGHT_PER_THREAD * max(1, sum(client.nthreads().values()))
            return limit

        def submit() -> Any:
            job = queue.pop()
            fut = client.submit(grade_task, job, _read(job.path), bundle_f, digest, rubric_name, on_workers,
                                pure=False, retries=1)
            pending[fut] = job
            return fut

        ac = as_completed()
        while queue and len(pending) < refresh_limit():
            ac.add(submit())
        for fut in ac:
            job = pending.pop(fut)
            try:
                result = fut.result()
                if not isinstance(result, Result) or result.submission != job.submission:
                    raise TypeError(f"the worker returned {type(result).__name__} for {job.submission}")
            except Exception as exc:  # noqa: BLE001 - worker lost, task error: still a result
                kind = type(exc).__name__
                if kind == "FutureCancelledError" and resubmitted.get(job.submission, 0) < MAX_RESUBMITS:
                    # not cancelled by us: the cluster lost the task's input, usually the broadcast
                    # rubric when every worker holding it died; send it again and retry the job
                    resubmitted[job.submission] = resubmitted.get(job.submission, 0) + 1
                    if bundle_f.status != "finished":
                        _wait_for_workers(client, address)
                        bundle_f = client.scatter(bundle, broadcast=True, hash=False)
                    queue.append(job)
                    fut.release()
                    while queue and len(pending) < refresh_limit():
                        ac.add(submit())
                    continue
                if kind in ("KilledWorker", "FutureCancelledError"):
                    reason = ("the grading worker died while grading it, also when tried again (out of memory "
                              "or killed); the submission was not graded")
                else:
                    reason = f"grading on the Dask cluster failed ({kind}: {str(exc)[:300]})"
                result = worker.crashed_result(rb, job, reason)
            fut.release()
            while queue and len(pending) < refresh_limit():
                ac.add(submit())
            yield finish(result)
    finally:
        if pending:
            with contextlib.suppress(Exception):  # closing anyway
                client.cancel(list(pending))
        with contextlib.suppress(Exception):
            # each worker's spare kernel (and its scratch tmpfs): workers outlive the run, or are
            # stopped by their nanny without running the process's finalizers
            client.run(_release_worker)
        client.close()


def _preflight(client: Any, address: str, bundle_f: Any, digest: str, rubric_name: str,
               config: WorkerConfig) -> None:
    """Fail before anything is recorded when the workers cannot grade at all, or grade with other code.

    Otherwise a cluster without grader installed (or with other grader code, or a rubric that
    does not load there) would turn every submission into a 'crashed' row in the gradebook, or
    into results that differ from local grading. One worker loads the rubric and runs the
    reference (``probe_task``); every worker reports the fingerprint of its own grader code.
    """
    fut = client.submit(probe_task, bundle_f, digest, rubric_name, config, pure=False)
    try:
        probed = fut.result()
        prints = {str(addr): fp for addr, fp in client.run(worker_fingerprint).items()}
    except Exception as exc:  # reported as one clear error
        raise GraderError(
            f"the Dask workers at {address} cannot grade ({type(exc).__name__}: {str(exc)[:300]}); "
            "install grader (the same code as here) and bubblewrap on every worker machine"
        ) from exc
    finally:
        fut.release()
    ours = code_fingerprint()
    other = {addr: fp for addr, fp in sorted(prints.items()) if fp != ours}
    if probed != ours:
        other.setdefault("the worker that loaded the rubric", probed)
    if other:
        shown = ", ".join(f"{addr}: {str(fp)[:12]}" for addr, fp in list(other.items())[:5])
        more = f" and {len(other) - 5} more" if len(other) > 5 else ""
        raise GraderError(
            f"Dask workers at {address} run other grader code than this machine (code fingerprint "
            f"{shown}{more}; here {ours[:12]}: grader/**/*.py differ); their results would differ from "
            f"local grading. Install this grader ({Path(__file__).resolve().parent}) on every worker machine "
            "and restart the workers (`dask worker ...`), then run again"
        )


def _wait_for_workers(client: Any, address: str) -> None:
    """Block until the cluster has a worker, saying so on stderr every 30 s while it has none."""
    while True:
        try:
            client.wait_for_workers(1, timeout=30)
            return
        except TimeoutError:
            print(f"grader: waiting for Dask workers to join {address} "
                  f"(start them with `dask worker {address} --nworkers N --nthreads 1`)", file=sys.stderr, flush=True)


__all__ = ["code_fingerprint", "fingerprint_of", "grade_task", "pack_rubric", "probe_task", "run_dask", "run_local"]
