"""Terminal output: a student's summary, a batch's progress bar and final summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from grader.report.exports import clean_text
from grader.report.i18n import t

_STYLE = {"passed": "green", "failed": "red", "error": "dark_orange", "timeout": "yellow"}


def print_result(result: dict[str, Any], *, lang: str = "ko", console: Console | None = None) -> None:
    con = console or Console(highlight=False)
    con.print(Text(f"{result['submission']}  {t(result['status'], lang)}", style="bold"))
    if result.get("reason"):
        con.print(Text(clean_text(result["reason"], limit=500), style="yellow"))
    for note in result.get("notes", [])[:5]:
        con.print(Text(f"{t('notes', lang)}: {clean_text(note, limit=300)}", style="dim"))
    table = Table(show_header=True, header_style="bold")
    table.add_column(t("task", lang))
    table.add_column(t("score", lang), justify="right")
    for task in result["tasks"]:
        table.add_row(task["title"], f"{task['score']:g} / {task['max_score']:g}")
    table.add_row(Text(t("score", lang), style="bold"), Text(f"{result['score']:g} / {result['max_score']:g}", style="bold"))
    con.print(table)
    failed = [x for x in result["tests"] if x["status"] != "passed"]
    if not failed:
        con.print(Text(t("all_passed", lang), style="green"))
    else:
        con.print(Text(f"{t('failed_tests', lang)} ({len(failed)})", style="bold red"))
    for test in failed:
        line = Text(f"  ✗ {test['name']}", style=_STYLE.get(test["status"], "red"))
        line.append(f"  [{t(test['status'], lang)}]", style="dim")
        con.print(line)
        if test.get("visibility") == "hidden":
            continue
        if test.get("message"):
            con.print(Text("    " + clean_text(test["message"], limit=600)))
        for d in test.get("diagnoses", []):
            con.print(Text(f"    → {d['name']}: {clean_text(d['hint'], limit=400)}", style="cyan"))
    for test in result["tests"]:
        if test["status"] == "passed" and test.get("diagnoses") and test.get("visibility") != "hidden":
            for d in test["diagnoses"]:
                con.print(Text(f"  ✓ {test['name']}: {t('recognised', lang)} · {d['name']}", style="green"))


class BatchProgress:
    """A rich progress bar on a terminal; plain, flushed lines otherwise (CI logs, pipes)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.progress: Progress | None = None
        self.task: Any = None
        self.t0 = time.perf_counter()

    def __enter__(self) -> "BatchProgress":
        if self.tty:
            self.progress = Progress(
                TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.description}"),
                console=Console(stderr=True),
            )
            self.progress.__enter__()
        return self

    def update(self, done: int, total: int, result: dict[str, Any] | None) -> None:
        if self.progress is not None:
            if self.task is None:
                self.task = self.progress.add_task("", total=total)
            desc = f"{result['student']} {result['score']:g}" if result else ""
            self.progress.update(self.task, completed=done, total=total, description=desc)
            return
        if result is None:
            print(f"grading {total} submission(s)", file=sys.stderr, flush=True)
            return
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / done * (total - done) if done else 0.0
        print(f"[{done}/{total}] {result['submission']}: {result['status']} {result['score']:g}/{result['max_score']:g} "
              f"(elapsed {elapsed:.0f}s, eta {eta:.0f}s)", file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def print_summary(summary: Any, out: Path, assignment: str = "") -> None:
    con = Console(stderr=True, highlight=False)
    parts = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items())) or "nothing new"
    con.print(f"{summary.total} notebook(s): graded now {summary.graded_now} ({parts}), "
              f"already in the gradebook {summary.skipped}, {summary.seconds:.1f}s")
    failed = summary.by_status.get("crashed", 0) + summary.by_status.get("invalid", 0)
    if failed:
        con.print(f"[yellow]{failed} could not be graded normally (crashed or invalid): see their reports[/yellow]")
    for student, subs in summary.duplicates:
        con.print(f"[yellow]{student} has {len(subs)} submissions: {', '.join(subs)} (each graded separately)[/yellow]")
    if summary.interrupted:
        con.print("[yellow]interrupted: rerun the same command to resume; finished results are kept[/yellow]")
    con.print(f"gradebook: {out / 'gradebook.sqlite'}  grades: {out / f'grades_{assignment}.csv'}  reports: {out / 'submissions'}")
