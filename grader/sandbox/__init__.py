"""The trust boundary: everything that starts, talks to or cleans up after student code.

Nothing outside this package imports jupyter_client, nbclient or zmq (a test checks it).
What leaves it is plain data: decoded values, cell reports, timings.

Its parts, one job each: ``Kernel`` (kernel.py: the sandboxed process and its connections),
``Channel`` (channel.py: the probe and the three transports that reach it), ``Recovery``
(recovery.py: restart and replay within budgets), ``run_notebook`` (execution.py: the cells,
output capped), ``KernelSession`` (session.py: the four for one submission) and ``SparePool``
(pool.py: the next submission's kernel booting while this one is graded).

Importing this package, or its codec, loads no kernel machinery: the session's names are
imported on first use (PEP 562), so the pure parts of the grader (checks, namespaces) can use
the codec's plain-data types without loading zmq. tests/unit/test_architecture.py checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.sandbox.codec import HandleRef, Opaque
from grader.sandbox.launch import detect_mechanism

if TYPE_CHECKING:
    from grader.sandbox.pool import SparePool
    from grader.sandbox.session import CellReport, ExecutionReport, KernelSession

__all__ = ["CellReport", "ExecutionReport", "HandleRef", "KernelSession", "Opaque", "SparePool", "detect_mechanism"]


def __getattr__(name: str) -> Any:
    if name in ("CellReport", "ExecutionReport", "KernelSession"):
        from grader.sandbox import session  # zmq and jupyter_client load here, when a kernel is wanted

        return getattr(session, name)
    if name == "SparePool":
        from grader.sandbox import pool

        return pool.SparePool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
