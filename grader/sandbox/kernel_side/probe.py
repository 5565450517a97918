"""Kernel side, part 4 of 4 — the probe: how requests reach the kernel and replies leave it.

``install`` puts a ``Probe`` into the notebook's globals. Requests arrive three ways, tried
in this order by the grader: the direct line (a Unix socket served from the kernel's own
event loop, ``Probe.connect``), a ``grader_request`` shell message, or executed code that
calls ``Probe.handle``; the last two write the reply to a file.
"""

from grader.sandbox.kernel_side.history import History
from grader.sandbox.kernel_side.operations import perform, str_safe
from grader.sandbox.kernel_side.wire import _NP, _dumps, _loads

# -- shipped into the kernel from here on (see kernel_side.source) --
import contextlib as _contextlib
import os as _os
import signal as _signal
import socket as _socket
import sys as _sys
import types as _types
from typing import Any

# captured before the notebook runs (see the wire part)
_os_open, _os_write, _os_close, _os_read = _os.open, _os.write, _os.close, _os.read
_O_WRITE = _os.O_WRONLY | _os.O_CREAT | _os.O_TRUNC
_signal_set, _SIGINT, _int_handler = _signal.signal, _signal.SIGINT, _signal.default_int_handler
_socket_cls, _AF_UNIX, _SOCK_STREAM = _socket.socket, _socket.AF_UNIX, _socket.SOCK_STREAM
_from_bytes = int.from_bytes
_suppress = _contextlib.suppress

# The direct line's frames (see ``Probe.connect``): a request is b"GRQ1", an 8-byte id, a
# 4-byte big-endian length and the JSON text; its reply is b"GRP1", the same id, an 8-byte
# length and the JSON text.
REQUEST_MAGIC, REPLY_MAGIC = b"GRQ1", b"GRP1"


class Probe:
    """Installed in the kernel as a single global; the grader calls ``handle``."""

    def __init__(self, ns: dict[str, Any], outdir: str, kernel: Any = None) -> None:
        import numpy

        self.ns = ns
        self.np = _NP(numpy)
        self.outdir = outdir
        self.handles: dict[int, Any] = {}
        self.kernel = kernel
        self.history = History()

    def answer(self, req_text: str) -> str:
        req = _loads(req_text)
        reply = perform(req, self.ns, self.handles, self.np, history=self.history)
        try:
            return _dumps(reply)
        except BaseException as exc:
            error = {"type": "EncodeError", "message": str_safe(exc)[:300], "traceback": []}
            return _dumps({"ok": False, "error": error})

    def handle(self, req_text: str, out_name: str) -> None:
        text = self.answer(req_text)
        fd = _os_open(self.outdir + "/" + out_name, _O_WRITE, 0o600)
        try:
            _write_all(fd, text.encode("ascii"))
        finally:
            _os_close(fd)

    def connect(self, path: str) -> bool:
        """Open the direct line: the grader listens on the Unix socket ``path``; its requests
        are answered from the kernel's own event loop, between ipykernel's messages, with no
        status broadcasts, signing or thread hand-offs (a tenth of a shell message's cost).
        Only ever used while no cell runs. A request runs with Ctrl-C enabled, as a cell does,
        so the grader can interrupt a call that hangs."""
        loop = getattr(self.kernel, "io_loop", None)
        if loop is None:
            return False
        sock = _socket_cls(_AF_UNIX, _SOCK_STREAM)
        try:
            sock.connect(path)
        except BaseException:
            sock.close()
            raise
        fd = sock.detach()

        def close() -> None:
            with _suppress(BaseException):
                loop.remove_handler(fd)
            with _suppress(BaseException):
                _os_close(fd)

        def on_request(_fd: int, _events: int) -> None:
            try:
                head = _read_exact(fd, 16)
                if head is None or head[:4] != REQUEST_MAGIC:
                    close()  # the grader hung up (or the line is garbled): it reconnects if it wants
                    return
                text = _read_exact(fd, _from_bytes(head[12:16], "big"))
                if text is None:
                    close()
                    return
                saved = _signal_set(_SIGINT, _int_handler)
                try:
                    data = self.answer(text.decode("ascii")).encode("ascii")
                    _write_all(fd, REPLY_MAGIC + head[4:12] + len(data).to_bytes(8, "big") + data)
                finally:
                    _signal_set(_SIGINT, saved)
            except BaseException:  # interrupted, or the grader went away: this line is done
                close()

        with _suppress(BaseException):
            loop.remove_handler(fd)  # a stale entry: the notebook closed an earlier line's fd
        loop.add_handler(fd, on_request, loop.READ)
        return True


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n > 0:
        chunk = _os_read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[_os_write(fd, view):]


def quiet_grader() -> None:
    """In a grading kernel, ``import grader; grader.check()`` (a student's self-check cell, see
    grader/cell.py) does nothing: ``grader`` is a tiny module whose ``check`` returns None, and
    nothing of the real grader is imported or run here. Called before any cell runs."""

    def check(*_args: Any, **_kwargs: Any) -> None:
        return None

    stub = _types.ModuleType("grader", "The grader is not run inside a graded notebook: check() does nothing here.")
    stub.check = check  # type: ignore[attr-defined]  # the module's one function
    _sys.modules["grader"] = stub


def install(ns: dict[str, Any], outdir: str, name: str, kernel: Any = None, line: str | None = None) -> str:
    """Called once in the kernel: put a Probe into the user namespace under ``name``; when the
    kernel allows it, answer ``grader_request`` shell messages directly (no run_cell), and
    open the direct line to the socket ``line``. Returns how requests can reach it."""
    probe = Probe(ns, outdir, kernel)
    ns[name] = probe
    _sys.setrecursionlimit(max(_sys.getrecursionlimit(), 3000))
    if kernel is None:
        return "code"

    def handler(stream: Any, ident: Any, parent: Any) -> None:
        try:
            content = parent.get("content", {})
            probe.handle(content["req"], content["out"])
        finally:
            kernel.session.send(stream, "grader_reply", {"status": "ok"}, parent, ident)

    try:
        kernel.shell_handlers["grader_request"] = handler
    except BaseException:
        return "code"
    if line:
        try:
            if probe.connect(line):
                return "line"
        except BaseException:  # noqa: S110 - no direct line: shell messages still reach the probe
            pass
    return "message"
