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

from grader.report.adapt import ResultLike, as_result
from grader.report.exports import clean_text
from grader.report.i18n import CONSOLE_LANG, t
from grader.result import Diagnosis

_STYLE = {"passed": "green", "failed": "red", "error": "dark_orange", "timeout": "yellow"}


def print_result(result: ResultLike, *, lang: str = "ko", console: Console | None = None) -> None:
    r = as_result(result)
    con = console or Console(highlight=False)
    con.print(Text(f"{r.submission}  {t(r.status, lang)}", style="bold"))
    if r.reason:
        con.print(Text(clean_text(r.reason, limit=500, lang=lang), style="yellow"))
    for note in r.notes[:5]:
        con.print(Text(f"{t('notes', lang)}: {clean_text(note, limit=300, lang=lang)}", style="dim"))
    table = Table(show_header=True, header_style="bold")
    table.add_column(t("task", lang))
    table.add_column(t("score", lang), justify="right")
    for task in r.tasks:
        table.add_row(task.title, f"{task.score:g} / {task.max_score:g}")
    table.add_row(Text(t("score", lang), style="bold"), Text(f"{r.score:g} / {r.max_score:g}", style="bold"))
    con.print(table)
    failed = [x for x in r.tests if x.status != "passed"]
    if not failed:
        con.print(Text(t("all_passed", lang), style="green"))
    else:
        con.print(Text(f"{t('failed_tests', lang)} ({len(failed)})", style="bold red"))
    shown: set[str] = set()  # a diagnosis several tests share (a gradient check) is written out once
    for test in failed:
        line = Text(f"  ✗ {test.name}", style=_STYLE.get(test.status, "red"))
        line.append(f"  [{t(test.status, lang)}]", style="dim")
        con.print(line)
        hidden = test.visibility == "hidden"
        if test.message and not hidden:
            con.print(Text("    " + clean_text(test.message, limit=600, lang=lang)))
        for d in test.diagnoses:
            _print_diagnosis(con, d.without_findings() if hidden else d, lang, shown)
    for test in r.tests:
        if test.status == "passed":
            for d in test.diagnoses:
                if d.kind in ("accepted", "reading"):
                    con.print(Text(f"  ✓ {test.name}: {t('recognised', lang)} · {d.name}", style="green"))
                else:  # a note beside full marks
                    con.print(Text(f"  ✓ {test.name}: {t(d.label_key(), lang)} · {d.name}", style="cyan"))
                    con.print(Text(f"    {clean_text(d.text('hint', lang), limit=400, lang=lang)}", style="dim"))


def _print_diagnosis(con: Console, d: Diagnosis, lang: str, shown: set[str]) -> None:
    title = d.text("title", lang)
    con.print(Text(f"    → {t(d.label_key(), lang)}: {d.name}" + (f" · {title}" if title else ""), style="cyan"))
    words = [d.text("hint", lang), d.text("detail", lang)]
    key = "\n".join(words)
    if key in shown:
        con.print(Text(f"      {t('see_above', lang)}", style="dim"))
        return
    shown.add(key)
    con.print(Text(f"      {clean_text(words[0], limit=400, lang=lang)}", style="cyan"))
    if words[1]:
        con.print(Text(f"      {clean_text(words[1], limit=900, lang=lang)}", style="dim"))


class BatchProgress:
    """A rich progress bar on a terminal; plain, flushed lines otherwise (CI logs, pipes)."""

    def __init__(self, lang: str = CONSOLE_LANG) -> None:
        self.lang = lang
        self.tty = sys.stderr.isatty()
        self.progress: Progress | None = None
        self.task: Any = None
        self.t0 = time.perf_counter()

    def __enter__(self) -> BatchProgress:
        if self.tty:
            self.progress = Progress(
                TextColumn(f"[bold]{t('progress_label', self.lang)}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TextColumn(t("progress_eta", self.lang)), TimeRemainingColumn(),
                TextColumn("{task.description}"),
                console=Console(stderr=True),
            )
            self.progress.__enter__()
        return self

    def update(self, done: int, total: int, result: ResultLike | None) -> None:
        r = None if result is None else as_result(result)
        if self.progress is not None:
            if self.task is None:
                self.task = self.progress.add_task("", total=total)
            desc = f"{r.student} {r.score:g}" if r else ""
            self.progress.update(self.task, completed=done, total=total, description=desc)
            return
        if r is None:
            print(t("progress_start", self.lang, total=total), file=sys.stderr, flush=True)
            return
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / done * (total - done) if done else 0.0
        # the status stays a code here: the TA's log, grep-able like the gradebook's column
        print(t("progress_line", self.lang, done=done, total=total, submission=r.submission, status=r.status,
                score=f"{r.score:g}", max_score=f"{r.max_score:g}", elapsed=f"{elapsed:.0f}", eta=f"{eta:.0f}"),
              file=sys.stderr, flush=True)

    def __exit__(self, *exc: Any) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)


def print_summary(summary: Any, out: Path, assignment: str = "", *, lang: str = CONSOLE_LANG) -> None:
    con = Console(stderr=True, highlight=False)
    # statuses stay codes: they are the gradebook's and the CSV's words
    parts = ", ".join(f"{k} {v}" for k, v in sorted(summary.by_status.items())) or t("summary_nothing_new", lang)
    con.print(t("summary_counts", lang, total=summary.total, graded_now=summary.graded_now, parts=parts,
                skipped=summary.skipped, seconds=f"{summary.seconds:.1f}"))
    failed = summary.by_status.get("crashed", 0) + summary.by_status.get("invalid", 0)
    if failed:
        con.print(f"[yellow]{t('summary_not_normal', lang, count=failed)}[/yellow]")
    for student, subs in summary.duplicates:
        line = t("summary_duplicate", lang, student=student, count=len(subs), submissions=", ".join(subs))
        con.print(f"[yellow]{line}[/yellow]")
    if summary.interrupted:
        con.print(f"[yellow]{t('summary_interrupted', lang)}[/yellow]")
    con.print(t("summary_files", lang, gradebook=out / "gradebook.sqlite", grades=out / f"grades_{assignment}.csv",
                reports=out / "submissions"))
