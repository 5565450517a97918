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
from grader.report.view import CaseRow, build, one
from grader.result import Diagnosis

def print_result(result: ResultLike, *, lang: str = "ko", console: Console | None = None,
                 audience: str = "student") -> None:
    """A submission's report on the terminal, part by part (the same view as the HTML report)."""
    r = as_result(result)
    v = build(r, lang=lang, audience=audience)
    con = console or Console(highlight=False)
    con.print(Text(f"{r.submission}  {t(r.status, lang)}", style="bold"))
    head = Text(t("score_line", lang, score=v.score, max_score=v.max_score), style="bold")
    head.append(f"  {t('verdict_passed' if r.passed else 'verdict_not_passed', lang)}",
                style="green" if r.passed else "red")
    head.append(f"  {v.pass_line}", style="dim")
    con.print(head)
    if v.reason:
        con.print(Text(clean_text(v.reason, limit=500, lang=lang), style="yellow"))
    table = Table(show_header=True, header_style="bold")
    table.add_column(t("task", lang))
    table.add_column(t("score", lang), justify="right")
    for p in v.parts:
        table.add_row(t("part_number", lang, n=p.number, title=p.title), f"{one(p.score)} / {one(p.max_score)}")
    table.add_row(Text(t("score", lang), style="bold"), Text(f"{v.score} / {v.max_score}", style="bold"))
    con.print(table)
    con.print(Text(t("next_steps", lang), style="bold"))
    for i, step in enumerate(v.next_steps, 1):
        con.print(Text(f"  {i}. {step}"))
    shown: set[str] = set()  # a diagnosis several parts or functions share is written out once
    for p in v.parts:
        if p.score >= p.max_score and not p.groups and not p.hidden_failed:
            continue
        con.print(Text(f"\n{t('part_number', lang, n=p.number, title=p.title)}  {one(p.score)} / {one(p.max_score)}",
                       style="bold"))
        con.print(Text(f"  {p.verdict}"))
        for g in p.groups:
            con.print(Text(f"  {g.function or t('the_test_itself', lang)}", style="bold cyan"))
            for c in g.cases:
                con.print(_case_line(c, lang))
            if g.more:
                con.print(Text(f"    {t('case_more', lang, count=g.more)}", style="dim"))
            for d in g.diagnoses:
                _print_diagnosis(con, d, lang, shown)
        for d in p.gradchecks:
            _print_diagnosis(con, d, lang, shown)
        if p.hidden_passed or p.hidden_failed:
            con.print(Text(f"  {t('hidden_counts', lang, passed=p.hidden_passed, failed=p.hidden_failed)}",
                           style="dim"))
            for d in p.hidden_mistakes:
                _print_diagnosis(con, d, lang, shown)
    for p in v.parts:
        for n in p.notes:
            con.print(Text(f"  ✓ {t('part_number', lang, n=p.number, title=p.title)}: {n}", style="green dim"))
    for item in v.run:
        con.print(Text(f"  ! {item.text}", style="yellow"))
        if item.handout:
            con.print(Text(f"    {item.handout}", style="dim"))
        if item.replayed:
            con.print(Text(f"    {item.replayed}", style="dim"))
    for note in v.notes[:5]:
        con.print(Text(f"{t('notes', lang)}: {clean_text(note, limit=300, lang=lang)}", style="dim"))


def _case_line(c: CaseRow, lang: str) -> Text:
    hidden = f" [{t('hidden_badge', lang)}]" if c.hidden else ""
    call = (f"→ {c.part}: " if c.part else "") + clean_text(c.call, limit=300, lang=lang)
    if c.error:
        return Text(f"    ✗ {call}{hidden}: {t('case_error', lang)} {c.error}", style="red")
    line = Text(f"    ✗ {call}{hidden}", style="red")
    if c.expected or c.got:
        line.append(f"  {t('case_expected', lang)} {c.expected} · {t('case_got', lang)} {c.got}")
    if c.where:
        line.append(f" ({c.where})", style="dim")
    return line


def _print_diagnosis(con: Console, d: Diagnosis, lang: str, shown: set[str]) -> None:
    title = d.text("title", lang)
    con.print(Text(f"    → {t(d.label_key(), lang)}: {d.name}" + (f" · {title}" if title else ""), style="cyan"))
    words = [d.text("hint", lang), d.text("detail", lang)]
    key = "\n".join(words)
    if key in shown:
        con.print(Text(f"      {t('see_above', lang)}", style="dim"))
        return
    shown.add(key)
    if words[0]:
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
            desc = f"{r.student} {one(r.score)}" if r else ""
            self.progress.update(self.task, completed=done, total=total, description=desc)
            return
        if r is None:
            print(t("progress_start", self.lang, total=total), file=sys.stderr, flush=True)
            return
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / done * (total - done) if done else 0.0
        # the status stays a code here: the TA's log, grep-able like the gradebook's column
        print(t("progress_line", self.lang, done=done, total=total, submission=r.submission, status=r.status,
                score=one(r.score), max_score=one(r.max_score), elapsed=f"{elapsed:.0f}", eta=f"{eta:.0f}"),
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
    if getattr(summary, "dashboard", None) is not None:
        con.print(t("summary_dashboard", lang, dashboard=summary.dashboard))
