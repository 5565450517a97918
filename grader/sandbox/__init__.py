"""The trust boundary: everything that starts, talks to or cleans up after student code.

Nothing outside this package imports jupyter_client, nbclient or zmq (a test checks it).
What leaves it is plain data: decoded values, cell reports, timings.
"""

from grader.sandbox.codec import HandleRef, Opaque
from grader.sandbox.launch import detect_mechanism
from grader.sandbox.session import CellReport, ExecutionReport, KernelSession

__all__ = ["CellReport", "ExecutionReport", "HandleRef", "KernelSession", "Opaque", "detect_mechanism"]
