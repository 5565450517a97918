"""One sandboxed kernel process and its connections: launched, answering, restarted, closed.

A ``Kernel`` exists only once its scratch folder is prepared, its process launched and both
its clients connected (``shell``, the one the grader talks on, and nbclient's): a launch that
fails raises ``SandboxError`` and leaves nothing behind, so no attribute is ever missing.
``shell.ready()`` waits until the process answers. The kernel knows nothing of notebooks,
probes or budgets: it says whether the process lives and why it died, interrupts and restarts
it, gives nbclient a new client after a hang or a death, and cleans everything up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from grader.config import Limits
from grader.errors import SandboxError
from grader.sandbox.launch import Launch, kernel_uid, kill_uid, release
from grader.sandbox.shell import Shell

MAX_MSG_BYTES = 8 * 2**20
_DEATHS = {
    "SIGKILL": "killed: the memory limit, or the notebook killed itself",
    "SIGSEGV": "a segmentation fault",
    "SIGXCPU": "the CPU time limit",
}


def bounded(fn: Any, *args: Any, timeout: float, **kwargs: Any) -> Any:
    """Run a jupyter_client coroutine to completion, but never for longer than ``timeout``."""

    async def run() -> Any:
        return await asyncio.wait_for(fn(*args, **kwargs), timeout)

    return run_sync(run)()


def _quietly(fn: Callable[..., Any], *args: Any) -> Callable[[], None]:
    def run() -> None:
        with contextlib.suppress(Exception):  # teardown must go on
            fn(*args)

    return run


class _KernelManager(AsyncKernelManager):
    """Clients share a zmq context whose sockets refuse huge messages and queue few."""

    uid: int | None = None
    zctx: zmq.Context[Any] | None = None

    def client(self, **kwargs: Any) -> Any:
        kwargs.setdefault("context", self.zctx)
        return super().client(**kwargs)

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self.uid is not None:
            os.chown(self.connection_file, self.uid, self.uid)


def _contexts() -> tuple[zmq.Context[Any], zmq.asyncio.Context]:
    zctx = zmq.Context()
    actx = zmq.asyncio.Context()
    for ctx in (zctx, actx):
        ctx.setsockopt(zmq.MAXMSGSIZE, MAX_MSG_BYTES)
        ctx.setsockopt(zmq.RCVHWM, 200)
        # clients connect before the kernel binds: retry every 10 ms, not ZMQ's default 100 ms
        ctx.setsockopt(zmq.RECONNECT_IVL, 10)
    return zctx, actx


class Kernel:
    """A launched sandboxed kernel (see the module's docstring). Close it with ``close()``."""

    def __init__(self, *, limits: Limits, mechanism: str, files: dict[str, bytes]) -> None:
        from grader.cleanup import KERNEL, at_exit

        self.limits = limits
        self.closed = False
        self.notebook_client: Any = None  # nbclient's client while a notebook runs (its kc follows restarts)
        self._cleanup = contextlib.ExitStack()
        try:
            self._at_exit = at_exit(self.close, order=KERNEL)
            self._cleanup.callback(self._at_exit.cancel)  # else a closed kernel stays referenced
            self.root = Path(tempfile.mkdtemp(prefix="grader-"))
            self._cleanup.callback(shutil.rmtree, self.root, ignore_errors=True)
            os.chmod(self.root, 0o700)  # other local users cannot look in before the tmpfs is mounted
            self.launch = Launch(self.root, limits, mechanism, kernel_uid(mechanism))
            self._cleanup.callback(_quietly(release, self.launch))
            self._cleanup.callback(_quietly(kill_uid, self.launch.uid))
            self.mechanism = mechanism
            if self.launch.uid is None and os.geteuid() == 0:
                self.mechanism = f"{mechanism}-as-root"  # recorded in the result: the kernel kept root
            self.launch.prepare()
            self._write_files(files)
            self.zctx, self.actx = _contexts()
            self._cleanup.callback(_quietly(self.actx.destroy, 0))
            self._cleanup.callback(_quietly(self.zctx.destroy, 0))
            self.km = self._manager()
            self.stderr_path = self.root / "kernel.stderr"
            self._stderr = self._cleanup.enter_context(open(self.stderr_path, "wb"))  # noqa: SIM115 - closed by close()
            devnull = self._cleanup.enter_context(open(os.devnull, "wb"))  # noqa: SIM115 - closed by close()
            self._cleanup.callback(_quietly(self._shutdown))
            run_sync(self.km.start_kernel)(cwd=str(self.launch.work), env=self.launch.env(),
                                           stdout=devnull, stderr=self._stderr)
            # both clients subscribe while the kernel boots, so the waits after it are short
            self.nb_kc: Any = self.km.client()
            self.nb_kc.start_channels()
            self._nb_monitor: tuple[Any, zmq.Socket[bytes]] | None = None
            self._watch_nb_iopub()
            self._cleanup.callback(_quietly(lambda: self.nb_kc.stop_channels()))
            self.shell = self._open_shell()
            self._cleanup.callback(_quietly(lambda: self.shell.close()))
        except Exception as exc:
            self._cleanup.close()
            self.closed = True
            raise SandboxError(f"the kernel could not be started ({exc})") from exc

    def _write_files(self, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            target = self.launch.work / name
            target.write_bytes(data)
            if self.launch.uid is not None:
                os.chown(target, self.launch.uid, self.launch.uid)
        # a font cache built once by the grader saves each kernel about a second
        with contextlib.suppress(Exception):  # an optimisation only
            import matplotlib

            src = Path(matplotlib.get_cachedir())
            dst = self.launch.work / ".matplotlib"
            dst.mkdir(exist_ok=True)
            for f in src.glob("fontlist-*.json"):
                shutil.copy(f, dst / f.name)
            if self.launch.uid is not None:
                for p in [dst, *dst.iterdir()]:
                    os.chown(p, self.launch.uid, self.launch.uid)

    def _manager(self) -> _KernelManager:
        specs = self.root / "spec"
        self.launch.kernelspec(specs, "grader")
        km = _KernelManager(
            kernel_name="grader",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs)]),
            transport="ipc",
            connection_file=str(self.launch.ipc / "kernel.json"),
        )
        km.ip = str(self.launch.ipc / "k")
        km.uid = self.launch.uid
        km.zctx = self.actx
        km.shutdown_wait_time = 1.0
        return km

    def _open_shell(self) -> Shell:
        return Shell(self.km, self.zctx, alive=self.alive, death_detail=self.death_detail)

    def stderr_tail(self, lines: int = 3) -> list[str]:
        try:
            self._stderr.flush()
            return self.stderr_path.read_text(errors="replace").strip().splitlines()[-lines:]
        except (OSError, ValueError):
            return []

    # -- the process -------------------------------------------------------------------------
    def alive(self) -> bool:
        try:
            return bool(run_sync(self.km.is_alive)())
        except Exception:  # noqa: BLE001 - a manager that cannot tell: dead
            return False

    def death_detail(self) -> str:
        code = None
        with contextlib.suppress(Exception):
            proc = getattr(self.km.provisioner, "process", None)
            code = proc.poll() if proc is not None else None
        if code is None:
            return "no exit status"
        if code < 0 or code > 128:
            sig = -code if code < 0 else code - 128
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            return f"{name}, {_DEATHS[name]}" if name in _DEATHS else name
        return f"exit code {code}"

    def _kill(self, wait: float) -> None:
        # kill and reap first: jupyter_client would otherwise poll for the exit every 100 ms
        proc = getattr(self.km.provisioner, "process", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=wait)

    def interrupt(self) -> None:
        bounded(self.km.interrupt_kernel, timeout=10)

    def restart(self) -> None:
        """Kill the process and start it again on the same connection, with a new ``shell``
        (not yet ready: ``shell.ready()`` waits for the new process).

        The HMAC key is settled before the new process starts: the connection file is written
        again from the manager's own key (the kernel's uid can write its folder, and a kernel
        that finds no file invents a key of its own), so the new kernel reads the key every
        client signs and verifies with. No client of the old process reads the new one's
        messages: nbclient's gets a new client after ``restart`` (``fresh_nb_client``)."""
        kill_uid(self.launch.uid)
        self._kill(wait=10)
        self.km.cleanup_connection_file()  # restart_kernel writes it again, with km.session.key
        bounded(self.km.restart_kernel, now=True, timeout=60)
        self._sync_key()
        self.shell.close()
        self.shell = self._open_shell()

    def _sync_key(self) -> None:
        """Sign with the key the kernel read, should the file not hold the manager's."""
        try:
            info = json.loads(Path(self.km.connection_file).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        key = str(info.get("key", "")).encode()
        if key and key != self.km.session.key:
            self.km.session.key = key

    def close(self) -> None:
        """Stop the clients, kill the process and its uid, unmount and delete the scratch folder."""
        if self.closed:
            return
        self.closed = True
        self._cleanup.close()

    def _shutdown(self) -> None:
        if self.km.has_kernel:
            self._kill(wait=5)
            run_sync(self.km.shutdown_kernel)(now=True)

    # -- nbclient's client -------------------------------------------------------------------
    def fresh_nb_client(self) -> None:
        """After a timeout or a death, nbclient's client still has polling tasks for the cell it
        gave up on; they would compete for its sockets. The next cell gets a new client."""
        with contextlib.suppress(Exception):
            self.nb_kc.stop_channels()
        self.nb_kc = self.km.client()
        self.nb_kc.start_channels()
        self._watch_nb_iopub()
        if self.notebook_client is not None:
            self.notebook_client.kc = self.nb_kc
        bounded(self.nb_kc.wait_for_ready, timeout=30)  # its own timeout is infinite; ours is not

    def _watch_nb_iopub(self) -> None:
        if self._nb_monitor is not None:
            with contextlib.suppress(Exception):
                self._nb_monitor[0].close(linger=0)
        sock = self.nb_kc.iopub_channel.socket
        owner = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
        self._nb_monitor = (owner, zmq.Socket.shadow(owner.underlying))

    def nb_output_lost(self) -> bool:
        """Whether nbclient's client lost its broadcasts since the last call.

        zmq refuses a message over MAX_MSG_BYTES (one print of tens of MB: ipykernel sends what
        was printed in 0.2 s as one message) by closing the connection, for good: that output
        is lost, and so is every later one unless the client is replaced."""
        if self._nb_monitor is None:
            return False
        lost = False
        while True:
            try:
                self._nb_monitor[1].recv_multipart(zmq.NOBLOCK)
            except zmq.ZMQError:
                return lost
            lost = True

    def drain_nb_iopub(self) -> int:
        """Discard what nbclient's client received before the first cell; how many messages.

        Any message at all proves its subscription is live (it subscribed while the kernel
        booted), which is what jupyter_client's wait_for_ready spends 200 ms establishing."""
        raw: zmq.Socket[bytes] = zmq.Socket.shadow(self.nb_kc.iopub_channel.socket.underlying)
        n = 0
        while n < 10_000:
            try:
                raw.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            n += 1
        return n
