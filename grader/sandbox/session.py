"""One student's kernel: start it sandboxed, run the notebook, answer probe calls, clean up.

``KernelSession`` is the only object outside this package that touches student code, and it
hands back plain data only. Failures of the student's code (a cell that raises, hangs or
kills the kernel) are recorded per cell and recovered from: the kernel is restarted and the
cells that had worked are run again, so later cells and the tests still get their chance.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import select
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.config import Limits
from grader.errors import (
    BadResult,
    CallTimeout,
    ChannelError,
    KernelDied,
    MissingName,
    SandboxError,
    StudentError,
)
from grader.sandbox import codec, kernel_side
from grader.sandbox.launch import Launch, detect_mechanism, kernel_uid, kill_uid, release

log = logging.getLogger("grader.sandbox")
# nbclient leaves a polling task whose queue.Empty nobody retrieves when a kernel dies: that is
# expected here (the death is handled) and must not clutter a TA's terminal
logging.getLogger("asyncio").setLevel(logging.CRITICAL)

_KERNEL_SIDE_SOURCE = kernel_side.source()
MAX_MSG_BYTES = 8 * 2**20


@dataclass
class CellReport:
    index: int
    status: str  # ok | error | timeout | killed | skipped
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "status": self.status, "error": self.error}


@dataclass
class ExecutionReport:
    cells: list[CellReport] = field(default_factory=list)
    restarts: int = 0
    timed_out: bool = False
    gave_up: str = ""
    events: list[str] = field(default_factory=list)
    output_truncated: bool = False


def _bounded(fn: Any, *args: Any, timeout: float, **kwargs: Any) -> Any:
    """Run a jupyter_client coroutine to completion, but never for longer than ``timeout``."""
    import asyncio

    async def run() -> Any:
        return await asyncio.wait_for(fn(*args, **kwargs), timeout)

    return run_sync(run)()


class _KernelManager(AsyncKernelManager):
    """Clients share a zmq context whose sockets refuse huge messages and queue few."""

    uid: int | None = None
    zctx: zmq.Context | None = None

    def client(self, **kwargs: Any) -> Any:
        kwargs.setdefault("context", self.zctx)
        return super().client(**kwargs)

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self.uid is not None:
            os.chown(self.connection_file, self.uid, self.uid)


def _out_size(msg: dict[str, Any]) -> int:
    content = msg.get("content", {})
    n = 0
    for key in ("text", "evalue", "ename"):
        v = content.get(key)
        if isinstance(v, str):
            n += len(v)
    for v in (content.get("data") or {}).values():
        n += len(v) if isinstance(v, str) else len(json.dumps(v, default=str)) if v else 0
    for line in content.get("traceback") or []:
        n += len(line) if isinstance(line, str) else 0
    return n


class _CappedClient(NotebookClient):
    """nbclient that keeps at most ``kept_limit`` characters of output in memory."""

    kept_limit = 512 * 1024

    def reset_caps(self) -> None:
        self.kept = 0
        self.truncated = False
        self.last_reply: dict[str, Any] | None = None

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[no-untyped-def]
        size = _out_size(msg) + 128  # each output costs its JSON structure too (a flood of tiny prints)
        if msg.get("msg_type") == "error":
            content = msg["content"]
            content["evalue"] = str(content.get("evalue", ""))[:2000]
            content["traceback"] = [str(t)[:2000] for t in (content.get("traceback") or [])[-30:]]
            return super().output(outs, msg, display_id, cell_index)
        if self.kept + size > self.kept_limit:
            if not self.truncated:
                self.truncated = True
                outs.append(
                    nbformat.v4.new_output(
                        "stream",
                        name="stderr",
                        text=f"[grader: output beyond {self.kept_limit // 1024} KiB was not kept]\n",
                    )
                )
            return None
        self.kept += size
        return super().output(outs, msg, display_id, cell_index)


class KernelSession:
    """A sandboxed kernel for one submission. Use as a context manager."""

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        sandbox: str = "auto",
        files: dict[str, bytes] | None = None,
        setup_code: str = "",
    ) -> None:
        self.limits = limits or Limits()
        self.mechanism, self.mechanism_note = detect_mechanism(sandbox)
        self.files = files or {}
        self.setup_code = setup_code
        self.root: Path | None = None
        self.launch: Launch | None = None
        self.km: _KernelManager | None = None
        self.client: _CappedClient | None = None
        self.bc: Any = None  # blocking client for probes
        self.nb_kc: Any = None  # nbclient's async client
        self.probe_name = "_grader_probe_" + secrets.token_hex(6)
        self.probe_installed = False
        self.direct = False  # probe answers grader_request messages directly
        self.line: socket.socket | None = None  # the probe's direct line (kernel_side.Probe.connect)
        self.line_losses = 0
        self.ok_cells: list[tuple[int, str]] = []  # (index, source) of the cells that ran, for replay
        self.snapshots = True  # the kernel keeps what each global name held after each cell
        self.restarts = 0
        self.dead_for_good = ""
        self.timings: dict[str, float] = {}
        self.events: list[str] = []
        self.executing = False  # nbclient's own client is live only while cells run
        self.crashed: set[str] = set()
        self.test_events: list[str] = []  # hangs and crashes during graded calls, for the reason
        self.timeouts: dict[str, int] = {}
        self.test_restarts = 0

    # -- lifecycle -----------------------------------------------------------------------
    # One spare per process: a kernel launched (never used) while the previous submission is
    # graded, so its boot overlaps that work instead of adding to it. The housekeeper thread
    # makes it ready (the grader's setup code, the probe) and tears finished sessions down
    # (kill, unmount, delete), off the path of the submission being graded: together about
    # 45 ms of waiting per submission. It runs one task at a time, in order, so a finished
    # session is gone before the spare after next (which may reuse its uid) is launched.
    _spare: "KernelSession | None" = None
    _spare_key: Any = None
    _spare_ready: Any = None  # the housekeeper's future for the spare's _ready()
    _housekeeper: Any = None
    background = False  # this session's teardown goes to the housekeeper

    @classmethod
    def _housekeep(cls, fn: Any) -> Any:
        if cls._housekeeper is None:
            from concurrent.futures import ThreadPoolExecutor

            cls._housekeeper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grader-housekeeper")
        return cls._housekeeper.submit(fn)

    @classmethod
    def fresh(cls, *, limits: Limits, sandbox: str = "auto", files: dict[str, bytes] | None = None,
              setup_code: str = "", spare: bool = False) -> "KernelSession":
        """A started session; with ``spare``, take the prepared one and prepare the next.

        A spare has run nothing but the grader's setup code: every submission still gets a
        kernel no other submission touched."""
        import hashlib

        key = (limits, sandbox, setup_code, hashlib.sha256(repr(sorted((files or {}).items())).encode()).hexdigest())
        session = cls._spare if cls._spare is not None and cls._spare_key == key else None
        ready, cls._spare_ready = cls._spare_ready, None
        t0 = time.perf_counter()
        if ready is not None:
            ready.exception()  # wait for the housekeeper; a failure is the spare's launch_error (cold start)
        if cls._spare is not None and session is None:
            cls._spare.__exit__(None, None, None)
        cls._spare = None
        if session is not None and session.launch_error is not None:
            session.__exit__(None, None, None)
            session = None
        if session is None:
            session = cls(limits=limits, sandbox=sandbox, files=files, setup_code=setup_code)
        session.background = spare
        session.__enter__()
        if session.timings.get("kernel_start") is None:
            session.timings["kernel_start"] = time.perf_counter() - t0
        if spare:
            nxt = cls(limits=limits, sandbox=sandbox, files=files, setup_code=setup_code)
            try:
                nxt.launch_kernel()
                if nxt.launch_error is not None:
                    raise nxt.launch_error
                cls._spare, cls._spare_key = nxt, key
                cls._spare_ready = cls._housekeep(nxt._ready_spare)
            except Exception:  # noqa: BLE001 - no spare: the next submission starts cold
                nxt.__exit__(None, None, None)
        return session

    def _ready_spare(self) -> None:
        """In the housekeeper: what __enter__ would do, before any submission is given it."""
        try:
            self._ready()
        except Exception as exc:
            self.launch_error = exc
            raise
        self.started = True

    @classmethod
    def drop_spare(cls) -> None:
        """Release the spare and wait for the housekeeper's teardowns (a pool worker's end)."""
        if cls._spare_ready is not None:
            try:
                cls._spare_ready.result(timeout=120)
            except Exception:  # noqa: BLE001
                pass
            cls._spare_ready = None
        if cls._spare is not None:
            cls._spare.background = False
            cls._spare.__exit__(None, None, None)
            cls._spare = None
        if cls._housekeeper is not None:
            cls._housekeeper.shutdown(wait=True)
            cls._housekeeper = None

    launched = False
    started = False
    launch_error: Exception | None = None

    def __enter__(self) -> "KernelSession":
        if self.started:
            return self
        t0 = time.perf_counter()
        if not self.launched:
            try:
                self.launch_kernel()
            except Exception as exc:  # noqa: BLE001 - becomes a SandboxError below
                self.launch_error = exc
        if self.launch_error is not None:
            exc = self.launch_error
            self.__exit__(None, None, None)
            raise SandboxError(f"the kernel could not be started ({exc})") from exc
        try:
            self._ready()
        except Exception as exc:
            try:
                self._stderr.flush()
                tail = self.stderr_path.read_text(errors="replace").strip().splitlines()[-3:]
            except OSError:
                tail = []
            self.__exit__(None, None, None)
            detail = f"; the kernel said: {' | '.join(tail)[:400]}" if tail else ""
            raise SandboxError(f"the kernel could not be started ({exc}){detail}") from exc
        self.started = True
        self.timings["kernel_start"] = time.perf_counter() - t0
        return self

    def launch_kernel(self) -> None:
        """Create the scratch folder and launch the kernel without waiting for it to boot."""
        from grader.cleanup import KERNEL, at_exit

        self.launched = True
        self._at_exit = at_exit(self.__exit__, None, None, None, order=KERNEL)
        self.root = Path(tempfile.mkdtemp(prefix="grader-"))
        os.chmod(self.root, 0o700)  # other local users cannot look in before the tmpfs is mounted
        self.launch = Launch(self.root, self.limits, self.mechanism, kernel_uid(self.mechanism))
        if self.launch.uid is None and os.geteuid() == 0:
            self.mechanism = f"{self.mechanism}-as-root"  # recorded in the result: the kernel kept root
        self.launch.prepare()
        for name, data in self.files.items():
            target = self.launch.work / name
            target.write_bytes(data)
            if self.launch.uid is not None:
                os.chown(target, self.launch.uid, self.launch.uid)
        self._matplotlib_cache()
        specs = self.root / "spec"
        self.launch.kernelspec(specs, "grader")
        zctx = zmq.Context()
        zctx.setsockopt(zmq.MAXMSGSIZE, MAX_MSG_BYTES)
        zctx.setsockopt(zmq.RCVHWM, 200)
        actx = zmq.asyncio.Context()
        actx.setsockopt(zmq.MAXMSGSIZE, MAX_MSG_BYTES)
        actx.setsockopt(zmq.RCVHWM, 200)
        for ctx in (zctx, actx):
            # clients connect before the kernel binds: retry every 10 ms, not ZMQ's default 100 ms
            ctx.setsockopt(zmq.RECONNECT_IVL, 10)
        self.zctx, self.actx = zctx, actx
        km = _KernelManager(
            kernel_name="grader",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]),
            transport="ipc",
            connection_file=str(self.launch.ipc / "kernel.json"),
        )
        km.ip = str(self.launch.ipc / "k")
        km.uid = self.launch.uid
        km.zctx = actx
        km.shutdown_wait_time = 1.0
        self.km = km
        self.stderr_path = self.root / "kernel.stderr"
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in __exit__
        self._devnull = open(os.devnull, "wb")  # noqa: SIM115 - closed in __exit__
        try:
            run_sync(km.start_kernel)(
                cwd=str(self.launch.work), env=self.launch.env(),
                stdout=self._devnull, stderr=self._stderr,
            )
            # both clients subscribe while the kernel boots, so the waits after it are short
            self.nb_kc = km.client()
            self.nb_kc.start_channels()
            self._open_bc()
        except Exception as exc:  # noqa: BLE001 - reported by __enter__
            self.launch_error = exc

    def _matplotlib_cache(self) -> None:
        # a font cache built once by the grader saves each kernel about a second
        try:
            import matplotlib

            src = Path(matplotlib.get_cachedir())
            dst = self.launch.work / ".matplotlib"
            dst.mkdir(exist_ok=True)
            for f in src.glob("fontlist-*.json"):
                shutil.copy(f, dst / f.name)
            if self.launch.uid is not None:
                for p in [dst, *dst.iterdir()]:
                    os.chown(p, self.launch.uid, self.launch.uid)
        except Exception:  # noqa: BLE001 - an optimisation only
            pass

    def _open_bc(self) -> None:
        assert self.km is not None
        if self.bc is not None:
            self.bc.stop_channels()
        self.bc = self.km.blocking_client()
        self.bc.context = self.zctx
        self.bc.start_channels()

    def _ready(self) -> None:
        self._wait_ready(timeout=60)
        self.probe_installed = False
        if self.setup_code:
            self._run_code(self.setup_code, timeout=30)
        # before any cell runs: the probe captures builtins, json and numpy as they are now
        self._install_probe()

    def _connect(self) -> None:
        self._open_bc()
        self._ready()

    def _sync_key(self) -> None:
        """Sign with the key the kernel read. A restart may leave the manager holding a key the
        connection file (what the new kernel reads) does not have: every reply then fails the
        signature check ("Invalid Signature") and the submission would be lost."""
        try:
            info = json.loads(Path(self.km.connection_file).read_text(encoding="utf-8"))
            key = str(info.get("key", "")).encode()
            if key and key != self.km.session.key:
                self.km.session.key = key
        except (OSError, ValueError):
            pass

    def _fresh_nb_client(self) -> None:
        """After a timeout or a death, nbclient's client still has polling tasks for the cell it
        gave up on; they would compete for its sockets. The next cell gets a new client."""
        old = self.nb_kc
        try:
            old.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        self.nb_kc = self.km.client()
        self.nb_kc.start_channels()
        if self.client is not None:
            self.client.kc = self.nb_kc
        _bounded(self.nb_kc.wait_for_ready, timeout=30)  # its own timeout is infinite; ours is not

    def _drain_nb_iopub(self) -> int:
        """Discard what nbclient's client received before the first cell; how many messages.

        Any message at all proves its subscription is live (it subscribed while the kernel
        booted), which is what jupyter_client's wait_for_ready spends 200 ms establishing."""
        raw = zmq.Socket.shadow(self.nb_kc.iopub_channel.socket.underlying)
        n = 0
        while n < 10_000:
            try:
                raw.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            n += 1
        return n

    def _wait_ready(self, *, timeout: float) -> None:
        """Like jupyter_client's wait_for_ready, but polling every 50 ms instead of 200 ms-1 s:
        ready once the kernel answered kernel_info and its broadcasts reach us."""
        bc = self.bc
        deadline = time.monotonic() + timeout
        replied = broadcast = False
        while not (replied and broadcast):
            bc.kernel_info()
            until = time.monotonic() + 0.05
            while time.monotonic() < until and not (replied and broadcast):
                try:
                    msg = bc.get_shell_msg(timeout=0.01)
                    replied = replied or msg.get("msg_type") == "kernel_info_reply"
                except Empty:
                    pass
                try:
                    bc.iopub_channel.socket.recv_multipart(zmq.NOBLOCK)
                    broadcast = True
                except zmq.Again:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the kernel did not answer within {timeout:g} s")
            if not (replied and broadcast) and not self._alive():
                raise RuntimeError("the kernel died before it was ready")
        self._drain_iopub()

    def __exit__(self, *exc: Any) -> None:
        if getattr(self, "closed", False):
            return
        self.closed = True
        if self.background:
            try:
                self._housekeep(self._teardown)
                return
            except RuntimeError:  # the housekeeper was shut down (the process is ending)
                pass
        self._teardown()

    def _teardown(self) -> None:
        if getattr(self, "_at_exit", None) is not None:
            self._at_exit.cancel()  # else the finished session stays referenced until the process ends
            self._at_exit = None
        self._close_line()
        try:
            if self.nb_kc is not None:
                self.nb_kc.stop_channels()
        except Exception:  # noqa: BLE001 - teardown must go on
            pass
        try:
            if self.bc is not None:
                self.bc.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        try:
            if self.km is not None and self.km.has_kernel:
                # kill and reap first: jupyter_client would otherwise poll for the exit every 100 ms
                proc = getattr(self.km.provisioner, "process", None)
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=5)
                run_sync(self.km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001
            pass
        if self.launch is not None:
            kill_uid(self.launch.uid)
            release(self.launch)
        for fh in ("_stderr", "_devnull"):
            try:
                getattr(self, fh).close()
            except Exception:  # noqa: BLE001
                pass
        for ctx in ("zctx", "actx"):
            try:
                getattr(self, ctx).destroy(linger=0)
            except Exception:  # noqa: BLE001
                pass
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- notebook execution ----------------------------------------------------------------
    def run_notebook(self, nb: nbformat.NotebookNode) -> ExecutionReport:
        """Execute every code cell; never raises for the notebook's own failures."""
        assert self.km is not None
        t0 = time.perf_counter()
        report = ExecutionReport()
        deadline = time.monotonic() + self.limits.submission_timeout
        client = _CappedClient(
            nb,
            km=self.km,
            timeout=int(self.limits.cell_timeout),
            allow_errors=True,
            interrupt_on_timeout=False,
            startup_timeout=60,
            iopub_timeout=4,
            record_timing=False,
            store_widget_state=False,
            resources={"metadata": {"path": str(self.launch.work)}},
        )
        client.kept_limit = self.limits.max_output_kb * 1024
        client.reset_caps()

        def on_executed(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
            client.last_reply = execute_reply

        client.on_cell_executed = on_executed
        self.client = client
        client.kc = self.nb_kc
        if not self._drain_nb_iopub():
            # no broadcast reached nbclient's client yet: let jupyter_client make sure it is subscribed
            _bounded(client.kc.wait_for_ready, timeout=60)
        client.kc.allow_stdin = False
        self.executing = True
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if not str(cell.source).strip():
                continue
            if self.dead_for_good:
                report.cells.append(CellReport(index, "skipped", self.dead_for_good))
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                report.timed_out = True
                report.cells.append(CellReport(index, "skipped", "the notebook's time limit was reached"))
                continue
            client.timeout = max(1, int(min(self.limits.cell_timeout, remaining)))
            client.last_reply = None
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                report.cells.append(CellReport(index, "timeout", f"cell ran longer than {client.timeout} s and was stopped"))
                self._recover(f"cell {index} timed out", report)
                continue
            except DeadKernelError:
                detail = self._death_detail()
                report.cells.append(CellReport(index, "killed", f"the kernel died while running this cell ({detail})"))
                self._recover(f"the kernel died in cell {index} ({detail})", report)
                continue
            except Exception as exc:  # noqa: BLE001 - nbclient/zmq hiccups become a cell failure
                report.cells.append(CellReport(index, "error", f"the grader could not run this cell: {type(exc).__name__}: {str(exc)[:200]}"))
                self._recover(f"cell {index} could not be run", report)
                continue
            content = (client.last_reply or {}).get("content", {})
            asked_exit = any(isinstance(p, dict) and p.get("source") == "ask_exit" for p in content.get("payload") or [])
            if asked_exit:
                # exit()/quit(): the kernel replies, then shuts down; never replay this cell
                report.cells.append(CellReport(index, "killed", "the cell called exit(), which stops the kernel; it was restarted"))
                self._restart(f"cell {index} called exit()")
                continue
            if content.get("status") == "error":
                ename = str(content.get("ename", "Error"))[:100]
                evalue = str(content.get("evalue", ""))[:300]
                report.cells.append(CellReport(index, "error", f"{ename}: {evalue}".rstrip(": ")))
            else:
                report.cells.append(CellReport(index, "ok"))
                self.ok_cells.append((index, str(cell.source)))
            self._snapshot(index)
        self.executing = False
        try:
            client.kc.stop_channels()
        except Exception:  # noqa: BLE001
            pass
        report.restarts = self.restarts
        report.gave_up = self.dead_for_good
        report.events = list(self.events)
        report.output_truncated = client.truncated
        self.timings["execute"] = time.perf_counter() - t0
        return report

    def _death_detail(self) -> str:
        assert self.km is not None
        code = None
        try:
            proc = getattr(self.km.provisioner, "process", None)
            code = proc.poll() if proc is not None else None
        except Exception:  # noqa: BLE001
            pass
        if code is None:
            return "no exit status"
        if code < 0 or code > 128:
            import signal as _signal

            sig = -code if code < 0 else code - 128
            try:
                name = _signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            hints = {"SIGKILL": "killed: the memory limit, or the notebook killed itself", "SIGSEGV": "a segmentation fault", "SIGXCPU": "the CPU time limit"}
            return f"{name}, {hints[name]}" if name in hints else name
        return f"exit code {code}"

    def _alive(self) -> bool:
        try:
            return bool(run_sync(self.km.is_alive)())  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001
            return False

    def _recover(self, why: str, report: ExecutionReport | None = None, *, testing: bool = False) -> None:
        """After a timeout or death: interrupt, or restart and replay the cells that worked."""
        self.events.append(why)
        if self._alive():
            try:
                _bounded(self.km.interrupt_kernel, timeout=10)  # type: ignore[union-attr]
                self._run_code("None", timeout=5)
                if self.executing:
                    self._fresh_nb_client()
                return
            except Exception:  # noqa: BLE001 - any failure to recover in place means: restart
                pass
        self._restart(why, testing=testing)

    def _restart(self, why: str, *, testing: bool = False) -> None:
        """Restart and replay. Notebook execution may restart ``max_restarts`` times; the
        tests get their own, larger allowance (each culprit is called at most once more)."""
        assert self.km is not None
        if testing:
            if self.test_restarts >= 4 * self.limits.max_restarts:
                self.dead_for_good = f"gave up after {self.test_restarts} kernel restarts during the tests"
                return
            self.test_restarts += 1
        else:
            if self.restarts >= self.limits.max_restarts:
                self.dead_for_good = f"gave up after {self.restarts} kernel restarts"
                return
            self.restarts += 1
        for attempt in (1, 2):
            # a restart that fails (seen rarely: a reply failing its signature check) is retried
            # once from a clean kill before the submission is given up
            kill_uid(self.launch.uid)
            try:
                proc = getattr(self.km.provisioner, "process", None)
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
                _bounded(self.km.restart_kernel, now=True, timeout=60)
                self._sync_key()
                self._connect()
                if self.executing:
                    self._fresh_nb_client()
                break
            except Exception as exc:  # noqa: BLE001
                log.warning("restart attempt %d failed", attempt, exc_info=True)
                if attempt == 2:
                    self.dead_for_good = f"the kernel could not be restarted ({type(exc).__name__}: {str(exc)[:200]})"
                    return
                self.events.append(f"a restart failed ({type(exc).__name__}); retried")
        for index, source in self.ok_cells:
            try:
                self._run_code(source, timeout=self.limits.cell_timeout)
                self._snapshot(index)
            except (CallTimeout, KernelDied, _Unresponsive) as exc:
                self.events.append(f"replaying a cell after restart failed: {exc}")
                if not self._alive():
                    return self._restart("replay killed the kernel", testing=testing)

    # -- the data-only channel ---------------------------------------------------------------
    def _run_code(self, code: str, *, timeout: float) -> dict[str, Any]:
        """Run code silently in the kernel; return the execute_reply content."""
        msg_id = self.bc.execute(code, silent=True, store_history=False, allow_stdin=False)
        return self._wait_reply(msg_id, timeout)

    def _send_request(self, content: dict[str, Any], *, timeout: float) -> dict[str, Any]:
        """A ``grader_request`` shell message, answered by the probe without IPython's run_cell."""
        msg = self.bc.session.msg("grader_request", content)
        self.bc.shell_channel.send(msg)
        return self._wait_reply(msg["header"]["msg_id"], timeout, handler=True)

    def _wait_reply(self, msg_id: str, timeout: float, *, handler: bool = False) -> dict[str, Any]:
        bc = self.bc
        deadline = time.monotonic() + timeout
        idle_at: float | None = None
        while True:
            if self._drain_iopub(msg_id) and idle_at is None:
                idle_at = time.monotonic()
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Unresponsive(timeout)
            if handler and idle_at is not None and time.monotonic() - idle_at > 0.5:
                # the kernel went idle without answering: the student removed the handler
                raise ChannelError("the kernel no longer answers grader requests")
            try:
                msg = bc.get_shell_msg(timeout=min(left, 0.25))
            except Empty:
                if not self._alive():
                    raise KernelDied("a graded call", self._death_detail()) from None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg.get("content", {})

    def _drain_iopub(self, msg_id: str = "") -> bool:
        """Discard the kernel's broadcasts; True when it reported idle after ``msg_id``.

        Frames are read raw: printing and status chatter from student code is never decoded,
        except the small ``status`` messages that answer our own request."""
        sock = self.bc.iopub_channel.socket
        idle = False
        needle = msg_id.encode()
        for _ in range(10_000):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.Again:
                break
            except zmq.ZMQError:
                break
            if not msg_id or idle:
                continue
            try:
                at = frames.index(b"<IDS|MSG>")
                header, parent, content = frames[at + 2], frames[at + 3], frames[at + 5]
            except (ValueError, IndexError):
                continue
            if len(header) < 4096 and b'"status"' in header and needle in parent and b'"idle"' in content:
                idle = True
        return idle

    def _install_probe(self) -> None:
        self._close_line()
        with self._line_listener() as (path, accept):
            code = (
                "import builtins as __bi\n"
                "__g = {'__name__': '_grader_kernel_side', '__builtins__': dict(vars(__bi))}\n"
                f"exec(compile({_KERNEL_SIDE_SOURCE!r}, '<grader>', 'exec'), __g)\n"
                "try:\n    __k = get_ipython().kernel\nexcept Exception:\n    __k = None\n"
                f"__g['install'](globals(), {str(self.launch.out)!r}, {self.probe_name!r}, __k, {path if self.use_line else None!r})\n"
                "del __g, __k, __bi\n"
            )
            content = self._run_code(code, timeout=30)
            if content.get("status") != "ok":
                raise ChannelError(f"the probe could not be installed: {content.get('ename')}: {content.get('evalue')}")
            self.line = accept()
        self.probe_installed = True
        self.direct = True

    # -- the direct line ---------------------------------------------------------------------
    # Requests travel on a Unix socket the probe serves from the kernel's event loop: a shell
    # message costs the kernel about 1.3 ms of CPU (ipykernel's thread hand-offs, two status
    # broadcasts, signing), the line about a tenth of that, and a test makes over a hundred
    # requests. Everything read from it is hostile input, size-capped like a reply file. After
    # a timeout the line is closed (what is still in it is never read) and opened again for
    # the next request; shell messages, then executed code, remain the fallbacks.
    _FRAME_HEAD = 20
    use_line = True  # False: shell messages only (tests compare the two)

    @contextlib.contextmanager
    def _line_listener(self) -> Any:
        """Listen for the probe's connection: yields (socket path, accept()), or (None, ...)."""
        path = str(self.launch.ipc / f"line-{secrets.token_hex(4)}.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                srv.bind(path)
                if self.launch.uid is not None:
                    os.chown(path, self.launch.uid, self.launch.uid)
                srv.listen(1)
                srv.setblocking(False)
            except OSError:  # e.g. a socket path too long for this system: no line, shell messages
                yield None, lambda: None
                return

            def accept() -> socket.socket | None:
                # the kernel connected before it answered the code that told it to
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return None
                conn.setblocking(False)
                return conn

            yield path, accept
        finally:
            srv.close()
            try:
                os.unlink(path)
            except OSError:
                pass

    def _close_line(self) -> None:
        if self.line is not None:
            try:
                self.line.close()
            except OSError:
                pass
            self.line = None

    def _reopen_line(self) -> None:
        """After a lost line (a timeout): ask the probe for a new one, a few times per kernel."""
        if self.line_losses > 3 or not self.direct or not self.use_line:
            return
        with self._line_listener() as (path, accept):
            if path is None:
                return
            try:
                content = self._run_code(f"{self.probe_name}.connect({path!r})", timeout=5)
            except (_Unresponsive, KernelDied):
                return
            if content.get("status") == "ok":
                self.line = accept()

    def _snapshot(self, index: int) -> None:
        """Ask the probe to note what the global names hold after cell ``index`` (for calling a
        function as it worked where it was defined). Best effort: a kernel that does not
        answer at once simply gets no more snapshots (and its functions no such retries)."""
        if not self.snapshots or self.dead_for_good or not self.probe_installed:
            return
        try:
            if not self.request({"op": "snapshot", "cell": index}, what="a snapshot", timeout=5):
                self.snapshots = False
        except Exception:  # noqa: BLE001 - the kernel is busy, dead or the probe broken: stop taking them
            self.snapshots = False

    def _line_request(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]:
        """One request on the direct line; its reply, parsed. ChannelError: the line is not
        usable (it was closed): the caller falls back."""
        sock = self.line
        assert sock is not None
        payload = text.encode("ascii")
        rid = secrets.token_bytes(8)
        frame = kernel_side.REQUEST_MAGIC + rid + len(payload).to_bytes(4, "big") + payload
        deadline = time.monotonic() + timeout
        self._line_timeout = timeout
        view = memoryview(frame)
        while view:
            try:
                view = view[sock.send(view):]
            except BlockingIOError:
                self._line_wait(select.POLLOUT, deadline)
            except OSError:
                self._close_line()
                raise ChannelError("the direct line was closed") from None
        head = self._line_read(self._FRAME_HEAD, deadline)
        if head[:4] != kernel_side.REPLY_MAGIC or head[4:12] != rid:
            self._close_line()
            raise BadResult(what, "the kernel's reply was garbled")
        size = int.from_bytes(head[12:20], "big")
        if size > max_bytes:
            self._close_line()  # the rest of it is never read
            raise BadResult(what, f"the result is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
        raw = self._line_read(size, deadline)
        self._drain_iopub()  # what the call printed
        try:
            return codec.parse_reply(raw)
        except ChannelError as exc:
            raise BadResult(what, str(exc)) from None

    def _line_wait(self, event: int, deadline: float) -> None:
        poller = select.poll()
        poller.register(self.line, event)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._close_line()
                self.line_losses += 1
                raise _Unresponsive(self._line_timeout)
            if poller.poll(min(left, 0.25) * 1000):
                return
            if not self._alive():
                self._close_line()
                raise KernelDied("a graded call", self._death_detail())

    def _line_read(self, n: int, deadline: float) -> bytes:
        chunks = []
        while n > 0:
            try:
                chunk = self.line.recv(min(n, 1 << 20))  # type: ignore[union-attr]
            except BlockingIOError:
                self._line_wait(select.POLLIN, deadline)
                continue
            except OSError:
                chunk = b""
            if not chunk:  # the kernel closed its end: it died, or the line was interrupted
                self._close_line()
                if not self._alive():
                    raise KernelDied("a graded call", self._death_detail())
                raise ChannelError("the direct line was closed")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def request(self, req: dict[str, Any], *, what: str, timeout: float | None = None) -> Any:
        """Send one request; return decoded plain data or raise a StudentCodeProblem."""
        if self.dead_for_good:
            raise KernelDied(what, self.dead_for_good)
        # A function that killed the kernel, or hung twice, is not called again: each retry would
        # cost a restart or a full timeout and starve the tests of everything else.
        culprit = req.get("name") if req.get("op") in ("call", "method") else None
        if culprit in self.crashed:
            raise KernelDied(what, f"{culprit} crashed the kernel in an earlier test, so it was not called again")
        if self.timeouts.get(culprit, 0) >= 2:
            raise CallTimeout(what, timeout or self.limits.call_timeout, repeated=True)
        timeout = timeout or self.limits.call_timeout
        text = json.dumps(req, allow_nan=False, separators=(",", ":"))
        for attempt in (1, 2):
            if not self.probe_installed:
                try:
                    self._install_probe()
                except (_Unresponsive, KernelDied, ChannelError) as exc:
                    self._restart(f"installing the probe failed: {exc}", testing=True)
                    if self.dead_for_good:
                        raise KernelDied(what, self.dead_for_good) from None
                    self._install_probe()
            max_bytes = self.limits.max_result_mb * 2**20
            if self.line is None and self.probe_installed:
                self._reopen_line()
            reply = None
            try:
                if self.line is not None:
                    try:
                        reply = self._line_request(text, what=what, timeout=timeout, max_bytes=max_bytes)
                    except ChannelError:
                        pass  # the line is gone: this request takes a slower way, through a reply file
                if reply is None:
                    out_name = secrets.token_hex(8) + ".json"
                    out_path = str(self.launch.out / out_name)
                    handle = f"{self.probe_name}.handle({text!r}, {out_name!r})"
                    if self.direct:
                        try:
                            content = self._send_request({"req": text, "out": out_name}, timeout=timeout)
                        except ChannelError:
                            self.direct = False  # fall back to executing the call as code
                            content = self._run_code(handle, timeout=timeout)
                    else:
                        content = self._run_code(handle, timeout=timeout)
            except _Unresponsive:
                self.test_events.append(f"{what} did not finish within {timeout:g} s")
                if culprit:
                    self.timeouts[culprit] = self.timeouts.get(culprit, 0) + 1
                self._recover(f"{what} timed out", testing=True)
                raise CallTimeout(what, timeout) from None
            except KernelDied as exc:
                detail = self._death_detail()
                self.test_events.append(f"the kernel died during {what} ({detail})")
                if culprit:
                    self.crashed.add(culprit)
                self._restart(f"the kernel died during {what}", testing=True)
                raise KernelDied(what, detail) from exc
            if reply is not None:
                return _interpret(reply, what)
            try:
                reply = codec.read_reply(out_path, max_bytes=max_bytes)
            except ChannelError as exc:
                if content.get("status") == "error" and attempt == 1:
                    # the probe itself was broken (the student deleted or shadowed it): reinstall once
                    self.probe_installed = False
                    continue
                raise BadResult(what, str(exc)) from None
            finally:
                try:
                    os.unlink(out_path)
                except OSError:
                    pass
            return _interpret(reply, what)
        raise BadResult(what, "no usable reply")  # pragma: no cover


class _Unresponsive(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"no reply within {seconds:g} s")


def _interpret(reply: dict[str, Any], what: str) -> Any:
    if reply.get("ok"):
        try:
            return codec.decode_value(reply.get("value"))
        except ChannelError as exc:
            raise BadResult(what, str(exc)) from None
    if "missing" in reply:
        missing = reply["missing"]
        raise MissingName(str(missing)[:100] if isinstance(missing, str) else "?")
    if "toobig" in reply:
        raise BadResult(what, str(reply["toobig"])[:300])
    err = reply.get("error")
    if isinstance(err, dict):
        tb = err.get("traceback")
        tb = [str(x)[:500] for x in tb[-12:]] if isinstance(tb, list) else []
        raise StudentError(what, str(err.get("type", "Exception"))[:100], str(err.get("message", ""))[:500], tb)
    raise BadResult(what, "malformed reply")
