"""What a person reads about one submission, part by part: the report's content, apart from its look.

:func:`build` turns a :class:`~grader.result.Result` into a :class:`ReportView` for one reader:
the TA (``audience="ta"``: hidden tests in full) or the student (``"student"``: a hidden test
shows only whether it passed and the names of the mistakes it found, never its inputs, values,
messages or details: invariant 7). The HTML report (``grader.report.html``) and the terminal
(``grader.report.terminal``) both show this view, so they say the same things.

Every word comes from the catalogue (``grader.report.i18n``) or from the result's own data (the
rubric's words, the student's values and errors, cleaned of terminal codes and capped here;
escaping is the writer's job). Scores are shown to one decimal (:func:`one`); ``result.json``
keeps them in full.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from grader import notes
from grader.figures import explain
from grader.report.exports import clean_text
from grader.report.i18n import t
from grader.result import CaseResult, CellFailure, Diagnosis, Figure, Result, TaskScore, TestResult

__all__ = ["CaseRow", "FunctionGroup", "PartView", "ReportView", "RunItem", "build", "gradcheck_cell", "one"]

MAX_CASES_SHOWN = 6  # failed calls shown per function; the rest are counted


def one(x: float) -> str:
    """A score as people read it: one decimal (``15.6944`` -> ``15.7``)."""
    return f"{float(x) + 0.0:.1f}"


@dataclass(frozen=True)
class CaseRow:
    """One failed call: what was called, what was due, what came back, where they differ."""

    call: str
    expected: str
    got: str
    where: str
    error: str
    hidden: bool = False
    part: str = ""  # the part of the answer judged ("dw" of backpropagation's), '' for the whole


@dataclass
class FunctionGroup:
    """The failed calls of one function in one part, and the mistakes named on them."""

    function: str
    cases: list[CaseRow] = field(default_factory=list)
    more: int = 0
    diagnoses: list[Diagnosis] = field(default_factory=list)


@dataclass
class PartView:
    """One part of the assignment as the reader sees it."""

    number: int
    name: str
    title: str
    score: float
    max_score: float
    verdict: str
    groups: list[FunctionGroup] = field(default_factory=list)
    hidden_passed: int = 0
    hidden_failed: int = 0
    hidden_mistakes: list[Diagnosis] = field(default_factory=list)
    gradchecks: list[Diagnosis] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)

    @property
    def lost(self) -> float:
        return max(0.0, self.max_score - self.score)


@dataclass(frozen=True)
class RunItem:
    """One thing that happened while the notebook ran (a failed cell and what it left)."""

    index: int
    status: str
    text: str
    handout: str = ""
    replayed: str = ""
    output: str = ""
    traceback: str = ""


@dataclass(frozen=True)
class OverrideRow:
    """A TA's points for one part, as the TA's copy shows it."""

    part: str
    points: float
    max_score: float
    was: float
    comment: str
    who: str
    when: str


@dataclass
class ReportView:
    """The whole report for one reader."""

    audience: str
    lang: str
    result: Result
    parts: list[PartView]
    next_steps: list[str]
    pass_line: str
    run: list[RunItem]
    reason: str
    notes: list[str]
    overrides: list[OverrideRow] = field(default_factory=list)
    in_force: float | None = None  # the total with the TA's overrides, when there are any

    @property
    def score(self) -> str:
        return one(self.result.score)

    @property
    def max_score(self) -> str:
        return one(self.result.max_score)


def _clean(text: object, limit: int, lang: str) -> str:
    return clean_text(text, limit=limit, lang=lang)


def build(result: Result, *, lang: str = "ko", audience: str = "student",
          overrides: Sequence[Any] = ()) -> ReportView:
    """The report of ``result`` for ``audience`` ("ta" or "student") in ``lang``; ``overrides``
    (the gradebook's ``Override``s, anyone's) are shown in the TA's copy with the grade in force."""
    if audience not in ("ta", "student"):
        raise ValueError(f"audience must be 'ta' or 'student', not {audience!r}")
    full = audience == "ta"
    parts = [_part(n, task, [x for x in result.tests if x.task == task.name],
                   [f for f in result.figures if f.task == task.name], result, lang, full)
             for n, task in zip(_numbers(result.tasks), result.tasks, strict=True)]
    run = [_run_item(c, lang) for c in result.cells]
    rows, in_force = _overrides(result, overrides, lang) if full else ([], None)
    return ReportView(
        overrides=rows, in_force=in_force,
        audience=audience, lang=lang, result=result, parts=parts,
        next_steps=_next_steps(parts, run, result, lang, full),
        pass_line=t("pass_line_passed" if result.passed else "pass_line_not_passed", lang,
                    mark=one(result.pass_mark), missing=one(max(0.0, result.pass_mark - result.score))),
        run=run, reason=_reason(result, lang),
        # a handout cell's failure is said in the run already
        notes=[_clean(notes.explain(n, lang), 500, lang) for n in result.notes
               if notes.form_of(n) != "note_handout_cell"],
    )


def _overrides(result: Result, overrides: Sequence[Any], lang: str) -> tuple[list[OverrideRow], float | None]:
    """The TA's overrides of this student's parts, and the total in force (None without any)."""
    from grader.report.exports import effective

    shown = effective(result, overrides)
    if not shown.comments:
        return [], None
    titles = {task.name: task for task in result.tasks}
    student = unicodedata.normalize("NFC", result.student)
    rows = [OverrideRow(_part_title(titles[o.part], lang), float(o.points), titles[o.part].max_score,
                        titles[o.part].score, _clean(o.comment, 500, lang), _clean(o.who, 100, lang), o.when)
            for o in overrides if o.assignment == result.assignment and o.part in titles
            and unicodedata.normalize("NFC", o.student) == student]
    return rows, shown.score


def _reason(result: Result, lang: str) -> str:
    """Why the result is not simply 'graded': in the catalogue's words when cells failed (the
    run section says which), else the grading's own sentence."""
    if result.status == "partial" and any(c.origin != "handout" for c in result.cells):
        return t("reason_partial_cells", lang)
    return _clean(result.reason, 2000, lang)


_NUMBERED = re.compile(r"^\s*(\d+)\.\s*")


def _numbers(tasks: tuple[TaskScore, ...]) -> list[int]:
    """The parts' numbers: the rubric's own (``4. 역전파``) when every title has a different one,
    else 1, 2, 3... in order (never two parts numbered alike)."""
    found = [_NUMBERED.match(task.title) for task in tasks]
    numbers = [int(m.group(1)) for m in found if m]
    if len(numbers) == len(tasks) and len(set(numbers)) == len(numbers):
        return numbers
    return list(range(1, len(tasks) + 1))


def _part_title(task: TaskScore, lang: str) -> str:
    """The part's title: the rubric's (its language), or the catalogue's English name of it."""
    title = _NUMBERED.sub("", task.title)  # the report numbers the parts itself
    if lang != "ko":
        english = t(f"part_{task.name}", lang)
        if english != f"part_{task.name}":
            return english
    return title


def _where(where: str, lang: str) -> str:
    """Where an answer differs, in words: the first differing element, or what differs (the
    runner's code: shape, type, nonfinite, length); a test's own sentence as it is."""
    if where.startswith("[") and where.endswith("]"):
        return t("case_where_index", lang, index=where)
    word = t(f"mismatch_{where}", lang)
    return _clean(where, 300, lang) if word == f"mismatch_{where}" else word


def _case_row(case: CaseResult, lang: str, hidden: bool) -> CaseRow:
    part = case.label.split(" → ", 1)[1] if " → " in case.label else ""
    return CaseRow(call=_clean(case.call, 400, lang), expected=_clean(case.expected, 400, lang),
                   got=_clean(case.got, 400, lang), where=_where(case.where, lang),
                   error=_clean(case.error, 600, lang), hidden=hidden, part=part)


def _part(number: int, task: TaskScore, tests: list[TestResult], figures: list[Figure], result: Result,
          lang: str, full: bool) -> PartView:
    part = PartView(number, task.name, _part_title(task, lang), task.score, task.max_score, "",
                    figures=figures, captions=_captions(figures, lang))
    groups: dict[str, FunctionGroup] = {}
    seen: set[str] = set()
    for test in tests:
        hidden = test.visibility == "hidden"
        shown_in_full = full or not hidden
        if hidden and not full:
            if test.status == "passed":
                part.hidden_passed += 1
            else:
                part.hidden_failed += 1
        if test.status == "passed":  # its notes and accepted readings (a hidden test's: name and words only)
            part.notes += [_note(d if shown_in_full else d.without_findings(), lang) for d in test.diagnoses]
            if shown_in_full:
                part.notes += [_clean(n, 400, lang) for n in test.notes]
            continue
        if not shown_in_full:
            for d in test.diagnoses:
                if d.kind != "gradient" and d.name not in {x.name for x in part.hidden_mistakes}:
                    part.hidden_mistakes.append(d.without_findings())
            continue
        cases = test.cases or (CaseResult(function="", label=test.name, where=test.message),)
        if any(not c.function and not c.call for c in cases):  # name the check by its test
            cases = tuple(c if c.function or c.call else replace(c, call=_test_words(test.name)) for c in cases)
        names = []
        for case in cases:
            key = case.function  # '' for a test's check of values: shown under the catalogue's words for that
            group = groups.setdefault(key, FunctionGroup(key))
            names.append(key)
            row = _case_row(case, lang, hidden)
            if row in group.cases:  # the same call judged again (a hidden test repeating a public one)
                continue
            if len(group.cases) < MAX_CASES_SHOWN:
                group.cases.append(row)
            else:
                group.more += 1
        for d in test.diagnoses:
            if d.kind == "gradient":
                key = d.text("detail", lang) + repr(d.table)
                if key not in seen:
                    seen.add(key)
                    part.gradchecks.append(d)
                continue
            group = groups[names[0]]
            if d.name not in {x.name for x in group.diagnoses}:
                group.diagnoses.append(d)
        part.notes += [_clean(n, 400, lang) for n in test.notes]
    part.groups = list(groups.values())
    named = {d.name for g in part.groups for d in g.diagnoses}
    part.hidden_mistakes = [d for d in part.hidden_mistakes if d.name not in named]  # said above already
    part.notes = list(dict.fromkeys(n for n in part.notes if n))
    part.verdict = _verdict(part, tests, result, lang, full)
    return part


def _test_words(name: str) -> str:
    """A test's name as words: ``test_trained_weights_classify_or`` -> ``trained weights classify or``."""
    return name.split("[")[0].removeprefix("test_").replace("_", " ")


def _function_names(part: PartView, lang: str) -> list[str]:
    return [g.function or t("the_test_itself", lang) for g in part.groups]


def _note(d: Diagnosis, lang: str) -> str:
    words = d.text("hint", lang)
    label = t(d.label_key(), lang)
    title = d.text("title", lang)
    return _clean(f"{label}: {d.name}" + (f" ({title})" if title else "") + (f". {words}" if words else ""), 600, lang)


def _verdict(part: PartView, tests: list[TestResult], result: Result, lang: str, full: bool) -> str:
    if not full:  # the student's copy counts hidden tests apart
        tests = [x for x in tests if x.visibility != "hidden"]
    failed = [x for x in tests if x.status != "passed"]
    if result.status in ("crashed", "invalid") and part.score == 0:
        return t("verdict_not_run", lang, reason=_clean(result.reason, 200, lang))
    if not failed and part.score >= part.max_score:
        return t("verdict_all_right", lang, count=len(tests))
    functions = _function_names(part, lang)
    listed = ", ".join(functions[:4]) + (" …" if len(functions) > 4 else "")
    if not functions:  # the student's copy, where only hidden tests failed
        words = [t("verdict_hidden_only", lang, failed=part.hidden_failed)]
    else:
        words = [t("verdict_none", lang, functions=listed) if part.score <= 0 else
                 t("verdict_some", lang, failed=len(failed), total=len(tests), functions=listed)]
        if part.hidden_failed:
            words.append(t("verdict_hidden_too", lang, failed=part.hidden_failed))
    mistakes = [d for g in part.groups for d in g.diagnoses if d.kind == "mistake"] + part.hidden_mistakes
    if mistakes:
        d = mistakes[0]
        words.append(t("verdict_mistake", lang, title=d.text("title", lang) or d.name))
    return " ".join(words)


def _captions(figures: list[Figure], lang: str) -> list[str]:
    out = []
    for f in figures:
        data = f.data
        if f.kind == "curve":
            out.append(t("figure_curve", lang, function=str(data.get("function", f.name))))
        elif f.kind == "regions":
            out.append(t("figure_regions", lang))
            if data.get("refit"):
                out.append(t("figure_regions_first_two", lang, features=data.get("features", "?")))
        else:
            out.append(t(f"figure_{f.name}", lang))
        if f.problem:
            name = t(f"figure_name_{f.name}", lang)
            what = str(f.data.get("function", f.name)) if name == f"figure_name_{f.name}" else name
            out.append(t("figure_problem", lang, what=what, problem=_clean(explain(f.problem, lang), 300, lang)))
    return out


def _run_item(cell: CellFailure, lang: str) -> RunItem:
    error = _clean(cell.error, 400, lang)
    text = t(f"run_cell_{cell.status}", lang, index=cell.index, error=error)
    if text == f"run_cell_{cell.status}":  # a status the catalogue does not know: still said
        text = t("cell_error", lang, index=cell.index, error=error or cell.status)
    handout = ""
    if cell.origin == "handout":
        handout = t("run_handout", lang, title=_clean(cell.slip_title, 300, lang), hint=_clean(cell.hint, 500, lang))
    replayed = t("run_replayed", lang, cells=", ".join(map(str, cell.replayed))) if cell.replayed else ""
    return RunItem(cell.index, cell.status, text, handout, replayed, _clean(cell.output, 1600, lang),
                   _clean(cell.traceback, 2600, lang))


def _next_steps(parts: list[PartView], run: list[RunItem], result: Result, lang: str, full: bool) -> list[str]:
    steps = []
    own_cells = [str(r.index) for r in run if not r.handout and r.status in ("error", "timeout", "killed")]
    if own_cells:
        steps.append(t("next_fix_cells", lang, cells=", ".join(own_cells)))
    for p in sorted((p for p in parts if p.lost >= 0.05), key=lambda p: -p.lost)[:3]:
        functions = _function_names(p, lang)
        what = (t("next_fix_functions", lang, functions=", ".join(functions[:3])) if functions
                else t("next_hidden_only", lang))
        steps.append(t("next_fix_part", lang, part=t("part_number", lang, n=p.number, title=p.title),
                       lost=one(p.lost), what=what))
    if not steps:
        return [t("next_all_done", lang)]
    if not full:
        steps.append(t("next_rerun", lang))
    return steps


_FACTOR = re.compile(r"^exactly (-?[\d.e+-]+)x$")


def gradcheck_cell(column: int, text: str, lang: str) -> str:
    """A gradient-check table's cell in ``lang``: the verdict column (and a 'shape (…)' value)
    are words, the rest numbers."""
    if text.startswith("shape "):
        return t("gradcheck_cell_shape", lang, shape=text[len("shape "):])
    if column != 4:
        return text
    m = _FACTOR.match(text)
    if m:
        return t("gradcheck_cell_factor", lang, r=m.group(1))
    word = t(f"gradcheck_cell_{text}", lang)
    return text if word == f"gradcheck_cell_{text}" else word
