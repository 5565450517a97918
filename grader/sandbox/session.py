"""One student's kernel: start it sandboxed, run the notebook, answer probe calls, clean up.

``KernelSession`` is the only object outside this package that touches student code, and it
hands back plain data only. It is made of parts with one job each:

* ``Kernel`` (kernel.py): the sandboxed process and its connections;
* ``Channel`` (channel.py): the probe and the transports that carry requests to it;
* ``Recovery`` (recovery.py): restart and replay after a hang or a death, within budgets;
* ``run_notebook`` (execution.py): the notebook's cells, output capped;
* ``CallGuard`` (below): functions that crashed the kernel or hung are not called again.

A session exists only started (its constructor starts the kernel, or raises SandboxError);
``SparePool`` (pool.py) starts the next one while a submission is graded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import nbformat

from grader.config import Limits
from grader.errors import BadResult, CallTimeout, ChannelError, KernelDied, SandboxError
from grader.sandbox.channel import Channel, ProbeBroken
from grader.sandbox.codec import interpret
from grader.sandbox.execution import CellReport, ExecutionReport, run_notebook
from grader.sandbox.kernel import Kernel
from grader.sandbox.shell import Unresponsive
from grader.sandbox.launch import detect_mechanism
from grader.sandbox.recovery import Recovery


__all__ = ["CallGuard", "CellReport", "ExecutionReport", "KernelSession"]


class CallGuard:
    """Per-function bookkeeping of the tests' calls: a function that killed the kernel, or hung
    twice, is not called again (each retry would cost a restart or a full timeout and starve
    the tests of everything else); what happened, for the result's reason."""

    def __init__(self) -> None:
        self.crashed: set[str] = set()
        self.timeouts: dict[str, int] = {}
        self.events: list[str] = []  # hangs and crashes during graded calls

    def check(self, culprit: str | None, what: str, timeout: float) -> None:
        if culprit in self.crashed:
            raise KernelDied(what, f"{culprit} crashed the kernel in an earlier test, so it was not called again")
        if culprit is not None and self.timeouts.get(culprit, 0) >= 2:
            raise CallTimeout(what, timeout, repeated=True)

    def timed_out(self, culprit: str | None, what: str, timeout: float) -> None:
        self.events.append(f"{what} did not finish within {timeout:g} s")
        if culprit:
            self.timeouts[culprit] = self.timeouts.get(culprit, 0) + 1

    def died(self, culprit: str | None, what: str, detail: str) -> None:
        self.events.append(f"the kernel died during {what} ({detail})")
        if culprit:
            self.crashed.add(culprit)


class KernelSession:
    """A started, sandboxed kernel for one submission. Use as a context manager."""

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        sandbox: str = "auto",
        files: dict[str, bytes] | None = None,
        setup_code: str = "",
        kernel: Kernel | None = None,
        dispose: Callable[[Kernel], None] | None = None,
    ) -> None:
        """Start a kernel (or finish starting ``kernel``, launched for the same settings: a
        spare pool's); ``dispose`` closes it at the end (a pool hands that to its thread)."""
        self.limits = limits or Limits()
        t0 = time.perf_counter()
        if kernel is None:
            mechanism = detect_mechanism(sandbox)[0]
            kernel = Kernel(limits=self.limits, mechanism=mechanism, files=files or {})
        self.kernel = kernel
        self._dispose = dispose or Kernel.close
        self.setup_code = setup_code
        self.channel = Channel(kernel)
        self.recovery = Recovery(kernel, self.limits, prepare=self._prepare, after_replay=self._snapshot)
        self.guard = CallGuard()
        self.snapshots = True  # the kernel keeps what each global name held after each cell
        self.timings: dict[str, float] = {}
        self.closed = False
        try:
            kernel.shell.ready(timeout=60)
            self._prepare()
        except Exception as exc:
            tail = kernel.stderr_tail()
            self.close()
            detail = f"; the kernel said: {' | '.join(tail)[:400]}" if tail else ""
            raise SandboxError(f"the kernel could not be started ({exc}){detail}") from exc
        self.timings["kernel_start"] = time.perf_counter() - t0

    def _prepare(self) -> None:
        """The grader's setup code, then the probe (it captures builtins, json and numpy as
        they are before any cell runs)."""
        self.channel.installed = False
        if self.setup_code:
            self.kernel.shell.run_code(self.setup_code, timeout=30)
        self.channel.install()

    # -- what callers read -------------------------------------------------------------------
    @property
    def mechanism(self) -> str:
        return self.kernel.mechanism

    @property
    def test_events(self) -> list[str]:
        return self.guard.events

    @property
    def restarts(self) -> int:
        return self.recovery.restarts

    @property
    def test_restarts(self) -> int:
        return self.recovery.test_restarts

    # -- lifecycle -----------------------------------------------------------------------------
    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.channel.close()
        self._dispose(self.kernel)

    # -- the notebook ----------------------------------------------------------------------------
    def run_notebook(self, nb: nbformat.NotebookNode) -> ExecutionReport:
        """Execute every code cell; never raises for the notebook's own failures."""
        t0 = time.perf_counter()
        report = run_notebook(nb, self.kernel, self.recovery, self.limits, after_cell=self._snapshot)
        self.timings["execute"] = time.perf_counter() - t0
        return report

    def _snapshot(self, index: int) -> None:
        """Ask the probe to note what the global names hold after cell ``index`` (for calling a
        function as it worked where it was defined). Best effort: a kernel that does not
        answer at once simply gets no more snapshots (and its functions no such retries)."""
        if not self.snapshots or self.recovery.dead_for_good or not self.channel.installed:
            return
        try:
            if not self.request({"op": "snapshot", "cell": index}, what="a snapshot", timeout=5):
                self.snapshots = False
        except Exception:  # noqa: BLE001 - the kernel is busy, dead or the probe broken: stop taking them
            self.snapshots = False

    # -- requests ----------------------------------------------------------------------------------
    def request(self, req: dict[str, Any], *, what: str, timeout: float | None = None) -> Any:
        """Send one request; return decoded plain data or raise a StudentCodeProblem."""
        recovery = self.recovery
        if recovery.dead_for_good:
            raise KernelDied(what, recovery.dead_for_good)
        culprit = req.get("name") if req.get("op") in ("call", "method") else None
        self.guard.check(culprit, what, timeout or self.limits.call_timeout)
        timeout = timeout or self.limits.call_timeout
        text = json.dumps(req, allow_nan=False, separators=(",", ":"))
        max_bytes = self.limits.max_result_mb * 2**20
        for attempt in (1, 2):
            self._ensure_probe(what)
            try:
                reply = self.channel.send(text, what=what, timeout=timeout, max_bytes=max_bytes)
            except Unresponsive:
                self.guard.timed_out(culprit, what, timeout)
                recovery.recover(f"{what} timed out", testing=True)
                raise CallTimeout(what, timeout) from None
            except KernelDied as exc:
                detail = self.kernel.death_detail()
                self.guard.died(culprit, what, detail)
                recovery.restart(f"the kernel died during {what}", testing=True)
                raise KernelDied(what, detail) from exc
            except ProbeBroken as exc:
                if attempt == 2:
                    raise BadResult(what, str(exc)) from None
                self.channel.installed = False  # the student deleted or shadowed it: reinstall once
                continue
            return interpret(reply, what)
        raise AssertionError("unreachable")  # pragma: no cover

    def _ensure_probe(self, what: str) -> None:
        if self.channel.installed:
            return
        try:
            self.channel.install()
        except (Unresponsive, KernelDied, ChannelError) as exc:
            self.recovery.restart(f"installing the probe failed: {exc}", testing=True)
            if self.recovery.dead_for_good:
                raise KernelDied(what, self.recovery.dead_for_good) from None
            self.channel.install()
