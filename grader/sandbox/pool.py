"""Spare kernels: the next submission's kernel boots while this one is graded.

A ``SparePool`` is an ordinary object: whoever grades many submissions in one process (a
batch worker) creates one, takes a started session from it per submission, and closes it at
the end::

    pool = SparePool()
    try:
        for path in notebooks:
            with pool.take(limits=limits, sandbox=sandbox, files=files, setup_code=code) as ks:
                ...  # ks is a started KernelSession, as KernelSession(...) gives
    finally:
        pool.close()

``take`` returns the spare when it was made for the same settings (limits, sandbox, files,
setup code), else starts a session cold; either way it launches the next spare before
returning. A spare has run nothing but the grader's setup code: every submission still gets
a kernel no other submission touched.

One housekeeper thread per pool makes the spare ready (the grader's setup code, the probe)
and closes finished sessions (kill, unmount, delete), off the path of the submission being
graded: together about 45 ms of waiting per submission. It runs one task at a time, in order,
so a finished session is gone before the spare after next (which may reuse its uid) is
launched. ``close()`` releases the spare and waits for the housekeeper's work; the pool can
be used again afterwards (it starts a new housekeeper).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from grader.config import Limits
from grader.sandbox.kernel import Kernel
from grader.sandbox.launch import detect_mechanism
from grader.sandbox.session import KernelSession


def _key(limits: Limits, sandbox: str, files: dict[str, bytes], setup_code: str) -> tuple[Any, ...]:
    digest = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()
    return (limits, sandbox, setup_code, digest)


class SparePool:
    """At most one spare kernel session, prepared in the background (see the module)."""

    def __init__(self) -> None:
        self._housekeeper: ThreadPoolExecutor | None = None
        self._spare: Future[KernelSession] | None = None
        self._spare_key: tuple[Any, ...] | None = None

    def take(self, *, limits: Limits, sandbox: str = "auto", files: dict[str, bytes] | None = None,
             setup_code: str = "") -> KernelSession:
        """A started session for these settings (the spare if it fits); launches the next.
        Raises SandboxError when no kernel could be started."""
        files = files or {}
        key = _key(limits, sandbox, files, setup_code)
        spare, spare_key = self._spare, self._spare_key
        self._spare = self._spare_key = None
        t0 = time.perf_counter()
        session = self._collect(spare) if spare is not None else None
        if session is not None and spare_key != key:
            session.close()
            session = None
        if session is not None:
            session.timings["kernel_start"] = time.perf_counter() - t0  # the wait for the spare
        else:
            session = KernelSession(limits=limits, sandbox=sandbox, files=files, setup_code=setup_code,
                                    dispose=self._dispose)
        self._launch_spare(limits, sandbox, files, setup_code, key)
        return session

    @staticmethod
    def _collect(spare: Future[KernelSession]) -> KernelSession | None:
        try:
            return spare.result()
        except Exception:  # noqa: BLE001 - the spare did not start (its kernel is closed): a cold start
            return None

    def _launch_spare(self, limits: Limits, sandbox: str, files: dict[str, bytes], setup_code: str,
                      key: tuple[Any, ...]) -> None:
        # launched here (this thread), made ready by the housekeeper
        try:
            kernel = Kernel(limits=limits, mechanism=detect_mechanism(sandbox)[0], files=files)
        except Exception:  # noqa: BLE001 - no spare: the next submission starts cold
            return

        def ready() -> KernelSession:
            return KernelSession(limits=limits, files=files, setup_code=setup_code, kernel=kernel,
                                 dispose=self._dispose)

        self._spare, self._spare_key = self._thread().submit(ready), key

    def _thread(self) -> ThreadPoolExecutor:
        if self._housekeeper is None:
            self._housekeeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-housekeeper")
        return self._housekeeper

    def _dispose(self, kernel: Kernel) -> None:
        """A finished session's kernel: closed by the housekeeper (at once if it is gone)."""
        try:
            self._thread().submit(kernel.close)
        except RuntimeError:  # the housekeeper was shut down (the process is ending)
            kernel.close()

    def close(self) -> None:
        """Release the spare and wait for the housekeeper's teardowns (a worker's end)."""
        spare, self._spare, self._spare_key = self._spare, None, None
        if spare is not None:
            with contextlib.suppress(Exception):  # a spare that failed is closed already
                spare.result(timeout=120).close()  # its kernel goes to the housekeeper, waited for below
        if self._housekeeper is not None:
            self._housekeeper.shutdown(wait=True)
            self._housekeeper = None


def start_session(spare: SparePool | None, *, limits: Limits, sandbox: str = "auto",
                  files: dict[str, bytes] | None = None, setup_code: str = "") -> KernelSession:
    """A started session: taken from ``spare`` when given, else started cold."""
    if spare is not None:
        return spare.take(limits=limits, sandbox=sandbox, files=files, setup_code=setup_code)
    return KernelSession(limits=limits, sandbox=sandbox, files=files, setup_code=setup_code)
