"""The data-only channel to the probe in a kernel: one request, by the first way that works.

The probe (``kernel_side``) is installed in the kernel before any cell runs. A request (a
JSON text) reaches it by one of three transports, tried in order:

1. ``DirectLine``: a Unix socket the probe serves from the kernel's event loop. A shell
   message costs the kernel about 1.3 ms of CPU (ipykernel's thread hand-offs, two status
   broadcasts, signing), the line about a tenth of that, and a test makes over a hundred
   requests. Everything read from it is hostile input, size-capped like a reply file. After a
   timeout the line is closed (what is still in it is never read) and opened again for the
   next request, a few times per kernel.
2. ``ShellMessage``: a ``grader_request`` shell message the probe answers without IPython's
   run_cell, with a reply file.
3. ``ExecutedCode``: ``probe.handle(...)`` executed as silent code, with a reply file.

A transport that finds itself unusable raises ``TransportGone`` and the next one is tried;
timeouts (``Unresponsive``) and deaths (``KernelDied``) go to the caller, which recovers.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from grader.errors import BadResult, ChannelError, KernelDied
from grader.sandbox import codec, kernel_side
from grader.sandbox.kernel import Kernel
from grader.sandbox.shell import Unresponsive

_KERNEL_SIDE_SOURCE = kernel_side.source()
_FRAME_HEAD = 20


class TransportGone(Exception):
    """This transport cannot carry the request: try the next one."""


class ProbeBroken(Exception):
    """The probe itself failed (the student deleted or shadowed it): reinstall it once."""


class Transport(Protocol):
    def usable(self) -> bool: ...

    def send(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]: ...


class DirectLine:
    """Requests on a Unix socket served by the probe (see the module's docstring)."""

    enabled = True  # False: no line, shell messages only (tests compare the two)

    def __init__(self, kernel: Kernel, probe_name: str, may_reopen: Callable[[], bool]) -> None:
        self.kernel = kernel
        self.probe_name = probe_name
        self.may_reopen = may_reopen  # False once the kernel stopped answering shell requests
        self.sock: socket.socket | None = None
        self.losses = 0

    @contextlib.contextmanager
    def listener(self) -> Iterator[tuple[str | None, Any]]:
        """Listen for the probe's connection: yields (socket path, accept()), or (None, ...)."""
        launch = self.kernel.launch
        path = str(launch.ipc / f"line-{secrets.token_hex(4)}.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                srv.bind(path)
                if launch.uid is not None:
                    os.chown(path, launch.uid, launch.uid)
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
            with contextlib.suppress(OSError):
                os.unlink(path)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None

    def usable(self) -> bool:
        if self.sock is None:
            self._reopen()
        return self.sock is not None

    def _reopen(self) -> None:
        """After a lost line (a timeout): ask the probe for a new one, a few times per kernel."""
        if self.losses > 3 or not self.enabled or not self.may_reopen():
            return
        with self.listener() as (path, accept):
            if path is None:
                return
            try:
                content = self.kernel.shell.run_code(f"{self.probe_name}.connect({path!r})", timeout=5)
            except (Unresponsive, KernelDied):
                return
            if content.get("status") == "ok":
                self.sock = accept()

    def send(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]:
        try:
            return self._request(text, what=what, timeout=timeout, max_bytes=max_bytes)
        except ChannelError:
            raise TransportGone from None  # the line is gone: this request takes a slower way

    def _request(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]:
        payload = text.encode("ascii")
        rid = secrets.token_bytes(8)
        frame = kernel_side.REQUEST_MAGIC + rid + len(payload).to_bytes(4, "big") + payload
        deadline = time.monotonic() + timeout
        view = memoryview(frame)
        while view:
            try:
                view = view[self._sock().send(view):]
            except BlockingIOError:
                self._wait(select.POLLOUT, deadline, timeout)
            except OSError:
                self.close()
                raise ChannelError("the direct line was closed") from None
        head = self._read(_FRAME_HEAD, deadline, timeout)
        if head[:4] != kernel_side.REPLY_MAGIC or head[4:12] != rid:
            self.close()
            raise BadResult(what, "the kernel's reply was garbled")
        size = int.from_bytes(head[12:20], "big")
        if size > max_bytes:
            self.close()  # the rest of it is never read
            raise BadResult(what, f"the result is {size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit")
        raw = self._read(size, deadline, timeout)
        self.kernel.shell.drain_iopub()  # what the call printed
        try:
            return codec.parse_reply(raw)
        except ChannelError as exc:
            raise BadResult(what, str(exc)) from None

    def _sock(self) -> socket.socket:
        if self.sock is None:
            raise ChannelError("the direct line was closed")
        return self.sock

    def _wait(self, event: int, deadline: float, timeout: float) -> None:
        poller = select.poll()
        poller.register(self._sock(), event)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                self.losses += 1
                raise Unresponsive(timeout)
            if poller.poll(min(left, 0.25) * 1000):
                return
            if not self.kernel.alive():
                self.close()
                raise KernelDied("a graded call", self.kernel.death_detail())

    def _read(self, n: int, deadline: float, timeout: float) -> bytes:
        chunks = []
        while n > 0:
            try:
                chunk = self._sock().recv(min(n, 1 << 20))
            except BlockingIOError:
                self._wait(select.POLLIN, deadline, timeout)
                continue
            except OSError:
                chunk = b""
            if not chunk:  # the kernel closed its end: it died, or the line was interrupted
                self.close()
                if not self.kernel.alive():
                    raise KernelDied("a graded call", self.kernel.death_detail())
                raise ChannelError("the direct line was closed")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)


def _read_reply_file(kernel: Kernel, out_name: str, content: dict[str, Any], what: str,
                     max_bytes: int) -> dict[str, Any]:
    out_path = str(kernel.launch.out / out_name)
    try:
        return codec.read_reply(out_path, max_bytes=max_bytes)
    except ChannelError as exc:
        if content.get("status") == "error":
            raise ProbeBroken(str(exc)) from None
        raise BadResult(what, str(exc)) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(out_path)


class ExecutedCode:
    """``probe.handle(request, reply file)`` run as silent code: works while IPython does."""

    def __init__(self, kernel: Kernel, probe_name: str) -> None:
        self.kernel = kernel
        self.probe_name = probe_name

    def usable(self) -> bool:
        return True

    def send(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]:
        out_name = secrets.token_hex(8) + ".json"
        content = self.kernel.shell.run_code(f"{self.probe_name}.handle({text!r}, {out_name!r})", timeout=timeout)
        return _read_reply_file(self.kernel, out_name, content, what, max_bytes)


class ShellMessage:
    """A ``grader_request`` shell message, answered by the probe without IPython's run_cell."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.answers = False  # the probe registered its handler (set by Channel.install)

    def usable(self) -> bool:
        return self.answers

    def send(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]:
        out_name = secrets.token_hex(8) + ".json"
        bc = self.kernel.shell.bc
        msg = bc.session.msg("grader_request", {"req": text, "out": out_name})
        bc.shell_channel.send(msg)
        try:
            content = self.kernel.shell.wait_reply(msg["header"]["msg_id"], timeout, handler=True)
        except ChannelError:
            self.answers = False  # the student removed the handler: executed code from now on
            raise TransportGone from None
        return _read_reply_file(self.kernel, out_name, content, what, max_bytes)


class Channel:
    """The probe in one kernel and the transports that reach it, in order."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.probe_name = "_grader_probe_" + secrets.token_hex(6)
        self.installed = False
        self.shell = ShellMessage(kernel)
        self.line = DirectLine(kernel, self.probe_name, may_reopen=lambda: self.shell.answers)
        self.transports: list[Transport] = [self.line, self.shell, ExecutedCode(kernel, self.probe_name)]

    def install(self) -> None:
        """Install the probe (before any cell runs: it captures builtins, json and numpy as
        they are now) and open its direct line."""
        self.line.close()
        with self.line.listener() as (path, accept):
            out = str(self.kernel.launch.out)
            line = path if self.line.enabled else None
            code = (
                "import builtins as __bi\n"
                "__g = {'__name__': '_grader_kernel_side', '__builtins__': dict(vars(__bi))}\n"
                f"exec(compile({_KERNEL_SIDE_SOURCE!r}, '<grader>', 'exec'), __g)\n"
                "try:\n    __k = get_ipython().kernel\nexcept Exception:\n    __k = None\n"
                "__g['quiet_grader']()\n"  # a notebook's `import grader; grader.check()` does nothing here
                f"__g['install'](globals(), {out!r}, {self.probe_name!r}, __k, {line!r})\n"
                "del __g, __k, __bi\n"
            )
            content = self.kernel.shell.run_code(code, timeout=30)
            if content.get("status") != "ok":
                raise ChannelError(f"the probe could not be installed: {content.get('ename')}: {content.get('evalue')}")
            self.line.sock = accept()
        self.installed = True
        self.shell.answers = True

    def send(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]:
        """One request by the first usable transport; its reply (a dict, not yet interpreted).
        Unresponsive, KernelDied and ProbeBroken go to the caller."""
        for transport in self.transports:
            if not transport.usable():
                continue
            try:
                return transport.send(text, what=what, timeout=timeout, max_bytes=max_bytes)
            except TransportGone:
                continue
        raise BadResult(what, "no usable reply")  # pragma: no cover - executed code is always usable

    def close(self) -> None:
        self.line.close()
