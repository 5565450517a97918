"""Grade a batch on a Dask cluster: the same results as local grading, on many machines.

How a course runs it::

    # one machine (reachable by the grading machines and by the TA's):
    dask scheduler                                   # listens on tcp://host:8786

    # each grading machine (grader and bubblewrap installed there, the same grader version):
    dask worker tcp://host:8786 --nworkers N --nthreads 1

    # the TA, anywhere that reaches the scheduler:
    grader grade submissions/ --out out/ --dask tcp://host:8786

``--nthreads 1`` matters: a worker process grades one submission at a time (the reference
solution runs in-process and keeps per-test state), so more threads per process only queue
behind a lock; scale with ``--nworkers`` (about one per core).

What goes where:

* The workers need no shared filesystem with the TA's machine. The rubric folder and its
  ``solutions/<assignment>/`` folder are packed into one in-memory tar.gz, broadcast to every
  worker once (``client.scatter``), and unpacked once per worker process into a temp folder
  keyed by the archive's digest. Each task carries the bytes of ONE notebook, read by the
  parent just before it is submitted (never all at once).
* Each task grades one submission and returns its result dict. The parent records results in
  the gradebook as they complete, and writes ``result.json`` and ``report.html`` into the
  output folder itself; workers never write into it. **Executed notebooks are not kept in Dask
  mode** (``executed.ipynb`` is only written by local grading).
* At most ``4 x`` the cluster's total threads are in flight, so the parent's memory stays flat
  for thousands of submissions.
* A task whose worker dies is retried once by Dask (``retries=1``); a task that still fails
  (an exception, the worker lost twice) becomes a ``crashed`` result: every submission gets one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from grader import batch
from grader.cleanup import FOLDER, at_exit

IN_FLIGHT_PER_THREAD = 4
CONNECT_TIMEOUT = 20  # seconds to reach the scheduler
MAX_RESUBMITS = 2  # times a job is sent again after the cluster lost its inputs

# -- worker side --------------------------------------------------------------------------
# digest -> folder the rubric bundle was unpacked into (once per worker process)
_BUNDLES: dict[str, Path] = {}
# (digest, public_only, sandbox, limit overrides) -> (rubric, limits)
_STATES: dict[tuple[Any, ...], tuple[Any, Any]] = {}
# one grading at a time per worker process (kernel uid is per pid; the reference chdirs)
_LOCK = threading.Lock()


def _unpack(bundle: bytes, digest: str) -> Path:
    if digest in _BUNDLES and _BUNDLES[digest].is_dir():
        return _BUNDLES[digest]
    root = Path(tempfile.mkdtemp(prefix=f"grader-rubric-{digest[:16]}-"))
    at_exit(shutil.rmtree, root, True, order=FOLDER)
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root, filter="data")
        else:  # pragma: no cover - Python without extraction filters
            for m in tar.getmembers():
                if m.name.startswith("/") or ".." in PurePosixPath(m.name).parts or not (m.isfile() or m.isdir()):
                    raise ValueError(f"unsafe member {m.name!r} in the rubric bundle")
            tar.extractall(root)
    _BUNDLES[digest] = root
    return root


def _state(bundle: bytes, digest: str, rubric_name: str, init_args: tuple[Any, ...]) -> tuple[Any, Any]:
    _rubric_path, public_only, sandbox, overrides, _out = init_args
    key = (digest, public_only, sandbox, tuple(sorted((k, str(v)) for k, v in overrides.items())))
    if key not in _STATES:
        root = _unpack(bundle, digest)
        out = root / "out"  # the worker's own scratch out folder; nothing is written there in Dask mode
        # also runs the reference solution once, now, rather than in the first test
        batch._init_worker(str(root / "rubric" / rubric_name), public_only, sandbox, overrides, str(out))
        _STATES[key] = (batch._WORKER["rubric"], batch._WORKER["limits"])
    return _STATES[key]


def _safe_name(submission: str) -> str:
    name = submission.rsplit("/", 1)[-1]
    if not name or name in (".", "..") or "\0" in name or len(name.encode("utf-8")) > 200:
        name = "submission.ipynb"
    return name


def _as_if_local(result: dict[str, Any], temp: Path, original: str) -> dict[str, Any]:
    """Messages that name the file (e.g. "PATH: not valid JSON") name the parent's path, as locally."""
    text = json.dumps(result, ensure_ascii=False)
    a, b = json.dumps(str(temp), ensure_ascii=False)[1:-1], json.dumps(original, ensure_ascii=False)[1:-1]
    return json.loads(text.replace(a, b)) if a in text else result


def grade_task(job: batch.Job, data: bytes | None, bundle: bytes, digest: str, rubric_name: str,
               init_args: tuple[Any, ...]) -> dict[str, Any]:
    """Runs on a Dask worker: grade one submission given its bytes; return the result dict."""
    from grader import api

    with _LOCK:
        rb, limits = _state(bundle, digest, rubric_name, init_args)
        with tempfile.TemporaryDirectory(prefix="grader-sub-") as tmp:
            path = Path(tmp) / _safe_name(job.submission)
            if data is not None:
                path.write_bytes(data)
            # a submission unreadable by the parent stays missing here: grade_notebook calls it invalid
            try:
                result = api.grade_notebook(
                    path, rb, submission=job.submission, student=job.student,
                    sandbox=init_args[2], limits=limits, executed_out=None,
                    spare=True,  # as batch.grade_job: the next kernel boots while this one is graded
                )
            except Exception as exc:  # noqa: BLE001 - invariant: every submission gets a result
                result = batch.crashed_result(
                    rb, job, f"internal grader error ({type(exc).__name__}: {str(exc)[:300]}); please report it")
            return _as_if_local(result, path, job.path)


# -- parent side --------------------------------------------------------------------------
def pack_rubric(rubric: Any) -> bytes:
    """The rubric folder and its ``solutions/<assignment>/`` folder as an in-memory tar.gz.

    Layout: ``rubric/<rubric folder name>/...`` and ``solutions/<assignment>/...``, so that
    ``rubric.solution_path()`` (``path/../../solutions/<assignment>/<solution>``) resolves
    inside the unpacked copy. Deterministic: sorted members, fixed mtimes and owners.
    """
    buf = io.BytesIO()

    def add_tree(tar: tarfile.TarFile, src: Path, arc: str) -> None:
        for f in sorted(src.rglob("*")):
            rel = f.relative_to(src)
            if "__pycache__" in rel.parts or any(p.startswith(".") for p in rel.parts):
                continue
            info = tarfile.TarInfo(f"{arc}/{rel.as_posix()}")  # mtime 0, owner root: reproducible
            if f.is_file():  # symlinks are followed: the worker gets the content
                data = f.read_bytes()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
            elif f.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)

    # mtime=0 in the gzip header too, so the same rubric gives the same digest
    import gzip

    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        add_tree(tar, Path(rubric.path), f"rubric/{Path(rubric.path).name}")
        sol = rubric.solution_path().parent
        if sol.is_dir():
            add_tree(tar, sol, f"solutions/{rubric.assignment}")
    return buf.getvalue()


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def run_dask(address: str, todo: list[batch.Job], init_args: tuple[Any, ...]) -> Iterator[dict[str, Any]]:
    """Grade ``todo`` on the Dask cluster at ``address``; yield each result as it completes.

    ``init_args`` is ``(rubric_path, public_only, sandbox, limit_overrides, out)`` as for
    ``batch._init_worker``. For every yielded result, ``result.json`` and ``report.html`` are
    already written under ``out`` (executed notebooks are not kept in Dask mode).
    """
    if not todo:
        return
    from dask.distributed import Client, as_completed

    from grader import rubric as rubric_mod

    rubric_path, public_only, _sandbox, _over, out = init_args
    rb = rubric_mod.load(Path(rubric_path), public_only=public_only)
    bundle = pack_rubric(rb)
    digest = hashlib.sha256(bundle).hexdigest()
    rubric_name = Path(rb.path).name
    out_path = Path(out)

    def finish(result: dict[str, Any]) -> dict[str, Any]:
        try:
            batch.write_outputs(result, batch.out_dir(out_path, result["submission"]), lang=rb.language)
        except Exception as exc:  # noqa: BLE001 - a report that fails must not lose the grade
            result.setdefault("report_error", f"{type(exc).__name__}: {str(exc)[:200]}")
        return result

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        from grader.errors import GraderError

        raise GraderError(
            f"cannot reach the Dask scheduler at {address} ({type(exc).__name__}: {str(exc)[:200]}); "
            "start it with `dask scheduler` on that machine, or grade locally without --dask"
        ) from None
    pending: dict[Any, batch.Job] = {}
    try:
        _wait_for_workers(client, address)
        bundle_f = client.scatter(bundle, broadcast=True, hash=False)
        _preflight(client, address, bundle_f, digest, rubric_name, init_args)
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
            fut = client.submit(grade_task, job, _read(job.path), bundle_f, digest, rubric_name, init_args,
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
                if not isinstance(result, dict) or result.get("submission") != job.submission:
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
                result = batch.crashed_result(rb, job, reason)
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
            client.run(_release_spare)
        client.close()


def _release_spare() -> None:
    from grader.sandbox import KernelSession

    KernelSession.drop_spare()


def _grader_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("grader")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def probe_task(bundle: bytes, digest: str, rubric_name: str, init_args: tuple[Any, ...]) -> str:
    """Runs on a worker before any submission: unpack and load the rubric, run the reference."""
    with _LOCK:
        _state(bundle, digest, rubric_name, init_args)
    return _grader_version()


def _preflight(client: Any, address: str, bundle_f: Any, digest: str, rubric_name: str,
               init_args: tuple[Any, ...]) -> None:
    """Fail before anything is recorded when the workers cannot grade at all.

    Otherwise a cluster without grader installed (or with another version, or a rubric that
    does not load there) would turn every submission into a 'crashed' row in the gradebook.
    """
    from grader.errors import GraderError

    fut = client.submit(probe_task, bundle_f, digest, rubric_name, init_args, pure=False)
    try:
        theirs = fut.result()
    except Exception as exc:  # reported as one clear error
        raise GraderError(
            f"the Dask workers at {address} cannot grade ({type(exc).__name__}: {str(exc)[:300]}); "
            "install grader (the same version as here) and bubblewrap on every worker machine"
        ) from exc
    finally:
        fut.release()
    ours = _grader_version()
    if theirs != ours:
        raise GraderError(
            f"the Dask workers at {address} run grader {theirs}, this machine {ours}; results would "
            "differ from local grading: install the same grader version everywhere"
        )


def _wait_for_workers(client: Any, address: str) -> None:
    """Block until the cluster has a worker, saying so on stderr every 30 s while it has none."""
    import sys

    while True:
        try:
            client.wait_for_workers(1, timeout=30)
            return
        except TimeoutError:
            print(f"grader: waiting for Dask workers to join {address} "
                  f"(start them with `dask worker {address} --nworkers N --nthreads 1`)", file=sys.stderr, flush=True)


__all__ = ["grade_task", "pack_rubric", "probe_task", "run_dask"]
