"""The class dashboard, ``OUT/index.html``: how a whole batch did, on one self-contained page.

:func:`render_dashboard` turns the results of a batch (``Gradebook.results()``) and the facts of
the run (:class:`RunFacts`) into one HTML page; :func:`write_dashboard` writes it atomically as
``OUT/index.html``. The page holds, in the reader's language (every word from the catalogue,
``grader.report.i18n``):

- an overview (submissions, graded, passed, mean and median) and a score histogram (CSS bars:
  no image, no script);
- per part and per test pass rates, public and hidden tests marked, over the submissions that
  could be graded;
- the most common named mistakes (diagnoses of kind ``mistake``): how many submissions made
  each, and who (a link to each one's report);
- a table of students: status, score per part, total, mistakes, and a link to the TA's report
  ``submissions/<path>/report.html`` (the folder ``grader.worker.out_dir`` computes, relative to
  ``OUT``). A small inline script sorts the table by a clicked column heading and filters its
  rows by a text box; without JavaScript the table is plain HTML, in the results' order;
- the submissions that could not be graded (status ``crashed`` or ``invalid``) and why;
- the run's facts (:class:`RunFacts`: date, grader and rubric versions, sandbox, how many were
  graded now or skipped as already done);
- when given, similar pairs (:class:`SimilarPair`) and scores changed by hand
  (``grader.gradebook.Override``, as ``Gradebook.overrides()`` gives them), also flagged in the
  students' table. Every grade shown (parts, total, passed, histogram, means) is the grade with the
  overrides in force (``grader.report.exports.effective``, as in every export); the pass rates
  per test are what the tests found.

Safety: every value is escaped (autoescape); a Content-Security-Policy forbids any network and
any script but the page's own, allowed by the SHA-256 of its exact text, computed here at render
time; a similar pair's link is kept only when it is a relative path (no scheme, no host).
Scores are shown to one decimal (:func:`grader.report.view.one`).
"""

from __future__ import annotations

import base64
import hashlib
import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from markupsafe import Markup

from grader.gradebook import Override
from grader.report.exports import Effective, _atomic_write, clean_text, effective
from grader.report.html import REPORT
from grader.report.i18n import t
from grader.report.templating import ENV
from grader.report.view import _numbers, _part_title, one
from grader.result import Result, TaskScore

__all__ = ["DASHBOARD", "NOT_GRADED", "Override", "RunFacts", "SimilarPair", "render_dashboard", "report_link",
           "script_hash", "write_dashboard"]

DASHBOARD = "index.html"
NOT_GRADED = ("crashed", "invalid")  # statuses of a submission that got no real grade
BINS = 10  # histogram bars: tenths of the maximum
MAX_NAMED_STUDENTS = 40  # students listed under one mistake; the rest are counted
REASON_LIMIT = 600  # characters of a not-graded submission's reason shown


# The page's one script: sorts the students' table by a clicked heading (numbers by data-value,
# first click descending; text ascending), filters its rows by the text box (which it shows: the
# box is hidden without JavaScript), and says how many rows are shown. No innerHTML, no eval.
SCRIPT = """
(function () {
  var table = document.getElementById('students');
  if (!table || !table.tHead || !table.tBodies.length) return;
  var body = table.tBodies[0], heads = table.tHead.rows[0].cells;
  var rows = Array.prototype.slice.call(body.rows);
  rows.forEach(function (r, i) { r.setAttribute('data-index', String(i)); });
  table.classList.add('js');
  function value(row, i, numeric) {
    var cell = row.cells[i], v = cell.getAttribute('data-value');
    if (v === null) v = cell.textContent.trim();
    if (!numeric) return v;
    var n = parseFloat(v);
    return isNaN(n) ? -Infinity : n;
  }
  function sort(i, th) {
    var numeric = th.getAttribute('data-sort') === 'number';
    var now = th.getAttribute('aria-sort');
    var dir = now ? (now === 'ascending' ? -1 : 1) : (numeric ? -1 : 1);
    rows.sort(function (a, b) {
      var x = value(a, i, numeric), y = value(b, i, numeric);
      var c = numeric ? (x < y ? -1 : x > y ? 1 : 0) : String(x).localeCompare(String(y));
      return c * dir || (a.getAttribute('data-index') - b.getAttribute('data-index'));
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var k = 0; k < heads.length; k++) heads[k].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    if (!th.hasAttribute('data-sort')) return;
    th.tabIndex = 0;
    th.addEventListener('click', function () { sort(i, th); });
    th.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(i, th); }
    });
  });
  var bar = document.getElementById('filter-bar'), box = document.getElementById('filter');
  var shown = document.getElementById('shown');
  if (!bar || !box || !shown) return;
  bar.hidden = false;
  function filter() {
    var q = box.value.trim().toLowerCase(), n = 0;
    rows.forEach(function (r) {
      var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
      r.hidden = !hit;
      if (hit) n++;
    });
    shown.textContent = shown.getAttribute('data-template')
      .replace('{shown}', String(n)).replace('{total}', String(rows.length));
  }
  box.addEventListener('input', filter);
  filter();
})();
"""


def script_hash(script: str = SCRIPT) -> str:
    """The CSP source that allows exactly ``script`` (``'sha256-<base64>'`` of its UTF-8 bytes)."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# -- what the caller gives -------------------------------------------------------------------
class _RunCounts(Protocol):
    """What :meth:`RunFacts.of_run` reads of a run: ``grader.batch.Summary`` has it."""

    @property
    def graded_now(self) -> int: ...

    @property
    def skipped(self) -> int: ...

    @property
    def interrupted(self) -> bool: ...


@dataclass(frozen=True)
class RunFacts:
    """The facts of the run the dashboard was made after.

    ``graded_now`` / ``skipped`` are None when the page is rebuilt without grading (after an
    override, say); ``sandbox`` '' means: say the sandboxes the results record; ``date`` is
    shown in UTC (a naive datetime is taken as UTC)."""

    date: datetime
    grader_version: str
    assignment: str
    rubric_version: str
    sandbox: str = ""
    graded_now: int | None = None
    skipped: int | None = None
    interrupted: bool = False

    @classmethod
    def of_run(cls, summary: _RunCounts, *, grader_version: str, assignment: str, rubric_version: str,
               sandbox: str = "", date: datetime | None = None) -> RunFacts:
        """The facts of a ``grader.batch.grade`` run from its ``Summary``, dated now unless given."""
        return cls(date=date or datetime.now(timezone.utc), grader_version=grader_version, assignment=assignment,
                   rubric_version=rubric_version, sandbox=sandbox, graded_now=summary.graded_now,
                   skipped=summary.skipped, interrupted=summary.interrupted)


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose own code is near-identical: ``score`` in [0, 1] (shown as a
    percentage), ``link`` a path relative to ``OUT`` of the side-by-side page ('' for none).
    ``render_dashboard`` also takes ``grader.similarity.Pair`` as it is, and dicts of these keys."""

    student_a: str
    student_b: str
    score: float
    link: str = ""


class _PairLike(Protocol):
    """A pair as ``grader.similarity.Pair`` has it (a ``link`` attribute is read when there is one)."""

    @property
    def student_a(self) -> str: ...

    @property
    def student_b(self) -> str: ...

    @property
    def score(self) -> float: ...


PairLike = SimilarPair | _PairLike | Mapping[str, Any]


def _pair(item: PairLike) -> SimilarPair:
    if isinstance(item, SimilarPair):
        return item
    if isinstance(item, Mapping):
        return SimilarPair(str(item["student_a"]), str(item["student_b"]), float(item["score"]),
                           str(item.get("link", "") or ""))
    return SimilarPair(str(item.student_a), str(item.student_b), float(item.score),
                       str(getattr(item, "link", "") or ""))


def _override(item: Override | Mapping[str, Any], assignment: str) -> Override:
    """``item`` as the gradebook's Override (a dict's ``assignment`` defaults to the run's)."""
    if isinstance(item, Override):
        return item
    when = item.get("when", "")
    return Override(str(item.get("assignment") or assignment), str(item["student"]), str(item["part"]),
                    float(item["points"]), str(item.get("comment", "")), str(item.get("who", "")),
                    when.isoformat(timespec="seconds") if isinstance(when, datetime) else str(when or ""))


# -- what the page shows -----------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    name: str
    label: str  # "1. title" in the reader's language
    max_score: float


@dataclass
class Bar:
    label: str
    count: int
    width: float  # percent of the widest bar


@dataclass
class Rate:
    """A part's or a test's pass rate over the graded submissions."""

    name: str
    label: str
    count: int
    passed: int
    visibility: str = ""
    part: str = ""
    mean: float = 0.0
    max_score: float = 0.0
    failed: int = 0
    error: int = 0
    timeout: int = 0

    @property
    def percent(self) -> float:
        return 100.0 * self.passed / self.count if self.count else 0.0

    @property
    def mean_percent(self) -> float:
        return 100.0 * self.mean / self.max_score if self.max_score else 0.0


@dataclass
class Who:
    student: str
    link: str


@dataclass
class Mistake:
    name: str
    title: str
    hint: str
    parts: list[str] = field(default_factory=list)
    who: list[Who] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.who)


@dataclass
class Row:
    """One submission in the students' table."""

    student: str
    submission: str
    link: str
    status: str
    scores: list[str]  # one per part ('' when the result has no such part)
    values: list[float]  # the same, as numbers to sort by (-1 for none)
    total: float
    max_score: float
    passed: bool
    mistakes: list[str]
    overridden: bool = False
    similar: bool = False
    changed: list[str] = field(default_factory=list)  # the parts whose score a TA set


@dataclass
class NotGraded:
    student: str
    submission: str
    link: str
    status: str
    reason: str


def report_link(submission: str) -> str:
    """The TA's report of ``submission`` relative to ``OUT``, as a URL path: the folder
    ``grader.worker.out_dir`` makes (``submissions/<path without .ipynb>/``), each part
    percent-encoded (a name may hold ``#``, ``?``, spaces or Hangul)."""
    rel = submission[:-6] if submission.endswith(".ipynb") else submission
    parts = [p for p in rel.split("/") if p not in ("", ".", "..")]
    return "/".join(["submissions", *(quote(p, safe="") for p in parts), REPORT])


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _relative_link(link: str) -> str:
    """``link`` when it is a relative path (no scheme such as ``javascript:``, no host), with
    what a URL path may not hold percent-encoded (a ``%`` escape kept); else ''."""
    link = link.strip()
    if not link or _SCHEME.match(link) or link.startswith(("/", "\\")) or any(ord(c) < 32 for c in link):
        return ""
    return quote(link, safe="/%#")


def _when(value: str | datetime) -> str:
    """A time as ``2026-11-30 19:05 UTC`` (a naive one taken as UTC); text that is no ISO 8601
    time as it is."""
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _parts(results: list[Result], lang: str) -> list[Part]:
    """Every task of the results, in the order first met, titled from the first result that has it."""
    seen: dict[str, TaskScore] = {}
    for r in results:
        for task in r.tasks:
            seen.setdefault(task.name, task)
    tasks = tuple(seen.values())
    return [Part(task.name, t("part_number", lang, n=n, title=_part_title(task, lang)), task.max_score)
            for n, task in zip(_numbers(tasks), tasks, strict=True)]


def _histogram(graded: list[Result], shown: Mapping[str, Effective]) -> tuple[list[Bar], bool]:
    """Bars of the graded submissions' scores (as shown: overrides in force) in tenths of the
    maximum; True when the labels are points (one maximum for all), False when percentages."""
    maxima = {r.max_score for r in graded}
    points = len(maxima) == 1 and next(iter(maxima)) > 0
    top = next(iter(maxima)) if points else 100.0
    counts = [0] * BINS
    for r in graded:
        share = shown[r.submission].score / r.max_score if r.max_score else 0.0
        counts[min(BINS - 1, max(0, int(share * BINS + 1e-9)))] += 1
    widest = max(counts) or 1
    step = top / BINS
    return [Bar(f"{_bound(i * step)}–{_bound((i + 1) * step)}", c, 100.0 * c / widest)
            for i, c in enumerate(counts)], points


def _bound(x: float) -> str:
    """A histogram bar's end: whole (``10``) when it is, else one decimal (``2.5``)."""
    return str(round(x)) if abs(x - round(x)) < 1e-9 else one(x)


def _rates(graded: list[Result], parts: list[Part],
           shown: Mapping[str, Effective] | None = None) -> tuple[list[Rate], list[Rate]]:
    """Each part's mean score (as shown) and full marks, and each test's verdicts, over ``graded``."""
    labels = {p.name: p.label for p in parts}
    part_rates = []
    for p in parts:
        scores = [(shown[r.submission].parts[task.name] if shown else task.score, task.max_score)
                  for r in graded for task in r.tasks if task.name == p.name]
        full = sum(1 for score, top in scores if top and score >= top - 1e-9)
        part_rates.append(Rate(p.name, p.label, len(scores), full, mean=statistics.fmean([s for s, _ in scores])
                               if scores else 0.0, max_score=p.max_score))
    tests: dict[str, Rate] = {}
    sums: dict[str, float] = {}
    for r in graded:
        for x in r.tests:
            rate = tests.setdefault(x.name, Rate(x.name, x.name, 0, 0, visibility=x.visibility,
                                                 part=labels.get(x.task, x.task), max_score=x.max_score))
            rate.count += 1
            rate.passed += x.status == "passed"
            rate.failed += x.status == "failed"
            rate.error += x.status == "error"
            rate.timeout += x.status == "timeout"
            sums[x.name] = sums.get(x.name, 0.0) + x.score
    for name, rate in tests.items():
        rate.mean = sums[name] / rate.count
    return part_rates, list(tests.values())


def _mistakes(results: list[Result], labels: Mapping[str, str],
              lang: str) -> tuple[list[Mistake], dict[str, list[str]]]:
    """The named mistakes, most common first, and each submission's (by submission path)."""
    found: dict[str, Mistake] = {}
    own: dict[str, list[str]] = {}
    for r in results:
        mine: list[str] = []
        for x in r.tests:
            for d in x.diagnoses:
                if d.kind != "mistake":
                    continue
                m = found.setdefault(d.name, Mistake(d.name, d.text("title", lang) or d.name,
                                                     clean_text(d.text("hint", lang), limit=400, lang=lang)))
                part = labels.get(x.task, x.task)
                if part not in m.parts:
                    m.parts.append(part)
                if d.name not in mine:
                    mine.append(d.name)
                    m.who.append(Who(r.student, report_link(r.submission)))
        own[r.submission] = [found[name].title for name in mine]
    return sorted(found.values(), key=lambda m: (-m.count, m.name)), own


def _row(r: Result, shown: Effective, parts: list[Part], mistakes: list[str], changed: set[tuple[str, str]],
         similar: set[str]) -> Row:
    scores = [one(shown.parts[p.name]) if p.name in shown.parts else "" for p in parts]
    values = [float(shown.parts[p.name]) if p.name in shown.parts else -1.0 for p in parts]
    mine = [p.name for p in parts if (_nfc(r.student), p.name) in changed and p.name in shown.parts]
    return Row(r.student, r.submission, report_link(r.submission), r.status, scores, values, shown.score, r.max_score,
               shown.score >= r.pass_mark if shown.comments else r.passed, mistakes, bool(mine), r.student in similar,
               mine)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _sandboxes(facts: RunFacts, results: list[Result]) -> str:
    if facts.sandbox:
        return facts.sandbox
    return ", ".join(sorted({r.sandbox for r in results if r.sandbox})) or "-"


def render_dashboard(
    results: Iterable[Result], *, facts: RunFacts, lang: str = "ko",
    similar: Sequence[PairLike] = (), overrides: Sequence[Override | Mapping[str, Any]] = (),
) -> str:
    """The class dashboard of ``results`` (read once) in ``lang``; see the module docstring."""
    rows_in = list(results)
    graded = [r for r in rows_in if r.status not in NOT_GRADED]
    parts = _parts(rows_in, lang)
    labels = {p.name: p.label for p in parts}
    pairs = [_pair(p) for p in similar]
    changes = [_override(o, facts.assignment) for o in overrides]
    shown = {r.submission: effective(r, changes) for r in rows_in}
    part_rates, test_rates = _rates(graded, parts, shown)
    mistakes, own_mistakes = _mistakes(graded, labels, lang)
    histogram, in_points = _histogram(graded, shown)
    pass_marks = sorted({r.pass_mark for r in rows_in})
    scores = [shown[r.submission].score for r in graded]
    rows = [_row(r, shown[r.submission], parts, own_mistakes.get(r.submission, []),
                 {(_nfc(o.student), o.part) for o in changes if o.assignment == r.assignment},
                 {p.student_a for p in pairs} | {p.student_b for p in pairs}) for r in rows_in]
    versions = sorted({r.rubric_version for r in rows_in})
    by_status = {status: 0 for status in ("graded", "partial", "timeout", "crashed", "invalid")}
    for r in rows_in:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    return ENV.get_template("dashboard.html.j2").render(
        lang=lang, facts=facts, when=_when(facts.date), sandbox=_sandboxes(facts, rows_in),
        other_versions=[v for v in versions if v != facts.rubric_version],
        total=len(rows_in), graded=len(graded),
        passed=sum(1 for row in rows if row.passed and row.status not in NOT_GRADED),
        pass_mark=one(pass_marks[0]) if len(pass_marks) == 1 else " / ".join(one(m) for m in pass_marks),
        mean=one(statistics.fmean(scores)) if scores else "-",
        median=one(statistics.median(scores)) if scores else "-",
        by_status={k: v for k, v in by_status.items() if v},
        histogram=histogram, in_points=in_points, parts=parts, part_rates=part_rates, test_rates=test_rates,
        mistakes=mistakes, max_named=MAX_NAMED_STUDENTS,
        rows=rows,
        not_graded=[NotGraded(r.student, r.submission, report_link(r.submission), r.status,
                              clean_text(r.reason, limit=REASON_LIMIT, lang=lang)) for r in rows_in
                    if r.status in NOT_GRADED],
        similar=[(p, _relative_link(p.link)) for p in sorted(pairs, key=lambda p: -p.score)],
        overrides=[(o, labels.get(o.part, o.part), _when(o.when)) for o in changes],
        script=Markup(SCRIPT), script_hash=script_hash(SCRIPT),  # noqa: S704 - the module's constant, no data
        t=lambda key, **values: t(key, lang, **values), one=one,
    )


def write_dashboard(
    out: Path, results: Iterable[Result], *, facts: RunFacts, lang: str = "ko",
    similar: Sequence[PairLike] = (), overrides: Sequence[Override | Mapping[str, Any]] = (),
) -> Path:
    """Write ``out/index.html`` atomically (a reader never sees half a page); its path."""
    page = render_dashboard(results, facts=facts, lang=lang, similar=similar, overrides=overrides)
    return _atomic_write(out / DASHBOARD, lambda fh: fh.write(page))


# -- several assignments in one output folder: OUT/index.html links their dashboards ---------------


@dataclass(frozen=True)
class LandingEntry:
    """One assignment's line on the landing page: its dashboard and its counts (overrides in force)."""

    assignment: str
    href: str
    submissions: int
    graded: int
    passed: int
    mean: str


def landing_entry(assignment: str, page: str, results: Iterable[Result],
                  overrides: Sequence[Override] = ()) -> LandingEntry:
    """The counts the assignment's own dashboard (the file *page* beside the landing page) shows
    first: submissions, graded, passed, mean."""
    rows = list(results)
    graded = [r for r in rows if r.status not in NOT_GRADED]
    shown = [effective(r, overrides) for r in graded]
    scores = [e.score for e in shown]
    return LandingEntry(assignment, quote(page), len(rows), len(graded),
                        sum(1 for r, e in zip(graded, shown, strict=True) if e.score >= r.pass_mark),
                        one(statistics.fmean(scores)) if scores else "-")


def render_landing(entries: Sequence[LandingEntry], *, lang: str = "ko", date: datetime | None = None) -> str:
    """``OUT/index.html`` when the folder holds several assignments: a link to each dashboard."""
    return ENV.get_template("landing.html.j2").render(
        lang=lang, entries=entries, when=_when(date or datetime.now(timezone.utc)),
        t=lambda key, **values: t(key, lang, **values),
    )


def write_landing(out: Path, entries: Sequence[LandingEntry], *, lang: str = "ko",
                  date: datetime | None = None) -> Path:
    """Write ``out/index.html`` (the landing page) atomically; its path."""
    page = render_landing(entries, lang=lang, date=date)
    return _atomic_write(out / DASHBOARD, lambda fh: fh.write(page))
