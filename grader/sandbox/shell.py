"""The grader's own connection to a kernel: silent code, its replies, broadcasts drained raw.

A ``Shell`` is jupyter_client's blocking client, opened on a started kernel (the blocking
client subscribes while the kernel boots, so the waits after it are short) and replaced when
the kernel restarts. It reads nothing the student's code prints: broadcasts are discarded as
raw frames, except the small ``status`` messages that answer the grader's own requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from queue import Empty
from typing import Any

import zmq

from grader.errors import ChannelError, KernelDied


class Unresponsive(Exception):
    """The kernel did not answer within the time given (it lives, but is busy)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no reply within {seconds:g} s")


class Shell:
    """The blocking client of one kernel process; ``alive``/``death_detail`` ask the kernel."""

    def __init__(self, km: Any, context: zmq.Context[Any], *, alive: Callable[[], bool],
                 death_detail: Callable[[], str]) -> None:
        self.bc: Any = km.blocking_client()
        self.bc.context = context
        self.bc.start_channels()
        self.alive = alive
        self.death_detail = death_detail

    def close(self) -> None:
        self.bc.stop_channels()

    def ready(self, *, timeout: float) -> None:
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
            if not (replied and broadcast) and not self.alive():
                raise RuntimeError("the kernel died before it was ready")
        self.drain_iopub()

    def run_code(self, code: str, *, timeout: float) -> dict[str, Any]:
        """Run code silently in the kernel; return the execute_reply content."""
        msg_id = self.bc.execute(code, silent=True, store_history=False, allow_stdin=False)
        return self.wait_reply(msg_id, timeout)

    def wait_reply(self, msg_id: str, timeout: float, *, handler: bool = False) -> dict[str, Any]:
        """The content of the shell reply to ``msg_id``. Unresponsive after ``timeout``;
        KernelDied if the process is gone; with ``handler`` (a grader_request), ChannelError
        when the kernel went idle without answering (the student removed the handler)."""
        deadline = time.monotonic() + timeout
        idle_at: float | None = None
        while True:
            if self.drain_iopub(msg_id) and idle_at is None:
                idle_at = time.monotonic()
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unresponsive(timeout)
            if handler and idle_at is not None and time.monotonic() - idle_at > 0.5:
                raise ChannelError("the kernel no longer answers grader requests")
            try:
                msg = self.bc.get_shell_msg(timeout=min(left, 0.25))
            except Empty:
                if not self.alive():
                    raise KernelDied("a graded call", self.death_detail()) from None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return dict(msg.get("content", {}))

    def drain_iopub(self, msg_id: str = "") -> bool:
        """Discard the kernel's broadcasts; True when it reported idle after ``msg_id``.

        Frames are read raw: printing and status chatter from student code is never decoded,
        except the small ``status`` messages that answer our own request."""
        sock = self.bc.iopub_channel.socket
        idle = False
        needle = msg_id.encode()
        for _ in range(10_000):
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.ZMQError:  # zmq.Again included: nothing more
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
