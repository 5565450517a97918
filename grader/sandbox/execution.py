"""Running a notebook's code cells in a kernel, cell by cell, with output kept within a cap.

Failures of the student's code (a cell that raises, hangs or kills the kernel) are recorded
per cell and handed to ``Recovery``, so later cells still get their chance; nothing here
raises for the notebook's own failures.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.config import Limits
from grader.sandbox.kernel import Kernel, bounded
from grader.sandbox.recovery import Recovery

# nbclient leaves a polling task whose queue.Empty nobody retrieves when a kernel dies: that is
# expected here (the death is handled) and must not clutter a TA's terminal
logging.getLogger("asyncio").setLevel(logging.CRITICAL)


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


def out_size(msg: dict[str, Any]) -> int:
    """About how many characters an output message would add to the notebook."""
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


def truncation_note(kept_limit: int) -> Any:
    text = f"[grader: output beyond {kept_limit // 1024} KiB was not kept]\n"
    new_output: Any = nbformat.v4.new_output  # nbformat is untyped
    return new_output("stream", name="stderr", text=text)


class CappedClient(NotebookClient):
    """nbclient that keeps at most ``kept_limit`` characters of output in memory.

    The first output over the cap is replaced by a note saying the rest was not kept; a
    ``clear_output`` cannot remove that note (the output it stands for is gone either way)."""

    kept_limit = 512 * 1024

    def reset_caps(self) -> None:
        self.kept = 0
        self.truncated = False
        self.last_reply: dict[str, Any] | None = None

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[no-untyped-def]  # nbclient's signature
        size = out_size(msg) + 128  # each output costs its JSON structure too (a flood of tiny prints)
        if msg.get("msg_type") == "error":
            content = msg["content"]
            content["evalue"] = str(content.get("evalue", ""))[:2000]
            content["traceback"] = [str(t)[:2000] for t in (content.get("traceback") or [])[-30:]]
            return super().output(outs, msg, display_id, cell_index)
        if self.kept + size > self.kept_limit:
            self.cut(outs)
            return None
        self.kept += size
        return super().output(outs, msg, display_id, cell_index)

    def cut(self, outs: list[Any]) -> None:
        """Output was not kept: say so, once."""
        if not self.truncated:
            self.truncated = True
            outs.append(truncation_note(self.kept_limit))


def _client(nb: nbformat.NotebookNode, kernel: Kernel, limits: Limits) -> CappedClient:
    client = CappedClient(
        nb,
        km=kernel.km,
        timeout=int(limits.cell_timeout),
        allow_errors=True,
        interrupt_on_timeout=False,
        startup_timeout=60,
        iopub_timeout=4,
        record_timing=False,
        store_widget_state=False,
        resources={"metadata": {"path": str(kernel.launch.work)}},
    )
    client.kept_limit = limits.max_output_kb * 1024
    client.reset_caps()

    def on_executed(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        client.last_reply = execute_reply

    client.on_cell_executed = on_executed
    client.kc = kernel.nb_kc
    return client


def run_notebook(nb: nbformat.NotebookNode, kernel: Kernel, recovery: Recovery, limits: Limits,
                 after_cell: Callable[[int], None]) -> ExecutionReport:
    """Execute every code cell (``after_cell(index)`` after each that ran); never raises for
    the notebook's own failures."""
    report = ExecutionReport()
    deadline = time.monotonic() + limits.submission_timeout
    client = _client(nb, kernel, limits)
    kc: Any = client.kc
    if not kernel.drain_nb_iopub():
        # no broadcast reached nbclient's client yet: let jupyter_client make sure it is subscribed
        bounded(kc.wait_for_ready, timeout=60)
    kc.allow_stdin = False
    kernel.notebook_client = client
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not str(cell.source).strip():
                continue
            if recovery.dead_for_good:
                report.cells.append(CellReport(index, "skipped", recovery.dead_for_good))
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                report.timed_out = True
                report.cells.append(CellReport(index, "skipped", "the notebook's time limit was reached"))
                continue
            client.timeout = max(1, int(min(limits.cell_timeout, remaining)))
            if _run_cell(client, cell, index, kernel, recovery, report):
                recovery.ok_cells.append((index, str(cell.source)))
            if report.cells[-1].status in ("ok", "error"):
                after_cell(index)
    finally:
        kernel.notebook_client = None
    with contextlib.suppress(Exception):
        kc = client.kc  # after a restart, the one fresh_nb_client gave it
        kc.stop_channels()
    report.restarts = recovery.restarts
    report.gave_up = recovery.dead_for_good
    report.events = list(recovery.events)
    report.output_truncated = client.truncated
    return report


def _run_cell(client: CappedClient, cell: Any, index: int, kernel: Kernel, recovery: Recovery,
              report: ExecutionReport) -> bool:
    """Run one cell and add its report; True when it ran without error (to replay)."""
    client.last_reply = None
    kernel.nb_output_lost()  # what an earlier cell's recovery left
    try:
        client.execute_cell(cell, index)
    except CellTimeoutError:
        report.cells.append(CellReport(index, "timeout", f"cell ran longer than {client.timeout} s and was stopped"))
        if kernel.nb_output_lost():  # the kernel lives: its connection closed on an output too big
            client.cut(cell.outputs)
        recovery.recover(f"cell {index} timed out")
        return False
    except DeadKernelError:
        detail = kernel.death_detail()
        report.cells.append(CellReport(index, "killed", f"the kernel died while running this cell ({detail})"))
        recovery.recover(f"the kernel died in cell {index} ({detail})")
        return False
    except Exception as exc:  # noqa: BLE001 - nbclient/zmq hiccups become a cell failure
        error = f"the grader could not run this cell: {type(exc).__name__}: {str(exc)[:200]}"
        report.cells.append(CellReport(index, "error", error))
        recovery.recover(f"cell {index} could not be run")
        return False
    reply: dict[str, Any] = client.last_reply or {}
    content: dict[str, Any] = reply.get("content", {})
    if any(isinstance(p, dict) and p.get("source") == "ask_exit" for p in content.get("payload") or []):
        # exit()/quit(): the kernel replies, then shuts down; never replay this cell
        error = "the cell called exit(), which stops the kernel; it was restarted"
        report.cells.append(CellReport(index, "killed", error))
        recovery.restart(f"cell {index} called exit()")
        return False
    if kernel.nb_output_lost():
        # an output over zmq's size limit closed nbclient's connection: the output was cut,
        # and the next cells need a new connection for theirs
        client.cut(cell.outputs)
        try:
            kernel.fresh_nb_client()
        except Exception:  # noqa: BLE001 - a kernel that cannot be reached again: recover as from a hang
            recovery.recover(f"cell {index}'s output could not be read")
    if content.get("status") == "error":
        ename = str(content.get("ename", "Error"))[:100]
        evalue = str(content.get("evalue", ""))[:300]
        report.cells.append(CellReport(index, "error", f"{ename}: {evalue}".rstrip(": ")))
        return False
    report.cells.append(CellReport(index, "ok"))
    return True
