"""One submission's result: what grading found, as typed data, and its JSON form.

A :class:`Result` is made once, when grading ends (``Result.scored``, or ``Result.crashed`` /
``Result.invalid`` when it could not), travels from the worker to the batch, the gradebook and
the reports, and is written as ``result.json`` by :meth:`Result.to_json` (the same bytes for the
same grading, timings aside). :meth:`Result.from_json` / :meth:`Result.from_dict` read it back.

Fields of a result (JSON keys, in the order a reader meets them)::

    schema          RESULT_SCHEMA (1)
    assignment      the rubric's assignment name
    rubric_version  the rubric's version (a new version regrades)
    submission      the path relative to the graded folder ('/' separated, NFC)
    student         who handed it in
    sha256          of the notebook's bytes ('' when unreadable)
    status          graded | partial | timeout | crashed | invalid (STATUSES)
    reason          why the status is not 'graded', in plain words ('' when it is)
    score           points earned, the sum of the tasks' (rounded to 4 places)
    max_score       points available
    pass_mark       the rubric's pass mark
    passed          score >= pass_mark
    tasks           [TaskScore]: name, title, score, max_score
    tests           [TestResult]: name, task, visibility, status, message, score, max_score,
                    diagnoses [Diagnosis: name, kind, hint], notes [str],
                    details (Details: call, expected, got, first_difference; each when known),
                    cases [CaseResult] (the test's failed calls: function, label, call,
                    expected, got, where, error; each but function and label when known),
                    passed_cases (how many of its calls were right)
    cells           [CellFailure] of the cells that did not run cleanly: index, status, error,
                    and, when the handout's own code failed, origin ('handout'), slip,
                    slip_title, hint; output (what the cell printed, trimmed), traceback
                    (trimmed), replayed [cell indexes run again after the kernel restarted]
    notes           [str]: what the reader should know besides the tests
    figures         [Figure]: what the report plots (name, kind, task, data, problem), drawn
                    by ``grader.report.plots``; the data's form per kind is in ``grader.figures``
    sandbox         the sandbox mechanism the kernel ran in ('' when none started)
    timings         {stage: seconds}: kernel_start, execute, tests, total (ignored by comparisons)
    report_error    only when writing the HTML report failed (the grade is kept)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "RESULT_SCHEMA", "STATUSES", "CaseResult", "CellFailure", "Details", "Diagnosis", "Figure", "Result",
    "ResultError", "TaskScore", "TestResult", "canonical_json",
]

RESULT_SCHEMA = 1
STATUSES = ("graded", "partial", "timeout", "crashed", "invalid")


class ResultError(ValueError):
    """A dict or JSON text that is not a result of this schema (a grader bug or a foreign file)."""


def canonical_json(data: Mapping[str, Any]) -> str:
    """The canonical text of a result: sorted keys, one-space indent, UTF-8 as is, final newline."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def _r(x: float) -> float:
    return round(float(x) + 0.0, 4)


# -- reading dicts ------------------------------------------------------------------------
def _take(data: Mapping[str, Any], what: str, key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise ResultError(f"{what} lacks the field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float, (int, float))):
        raise ResultError(f"{what}: {key!r} is {type(value).__name__}, not {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__


def _only(data: Mapping[str, Any], what: str, known: Iterable[str]) -> None:
    extra = sorted(set(data) - set(known))
    if extra:
        raise ResultError(f"{what} has unknown field(s) {', '.join(map(repr, extra))}")


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ResultError(f"{what} is {type(value).__name__}, not an object")
    return value


_NUMBER = (int, float)


# -- the parts ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskScore:
    """A task's points: earned and available."""

    name: str
    title: str
    score: float
    max_score: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "score": self.score, "max_score": self.max_score}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskScore:
        what = "a task score"
        data = _mapping(data, what)
        _only(data, what, ("name", "title", "score", "max_score"))
        return cls(_take(data, what, "name", str), _take(data, what, "title", str),
                   _take(data, what, "score", _NUMBER), _take(data, what, "max_score", _NUMBER))


@dataclass(frozen=True)
class Diagnosis:
    """A named mistake, note or accepted reading a test recognised (``testing.diagnose``).

    ``hint`` and ``title`` are in the rubric's language, ``*_en`` their English; ``detail`` is
    what was found in this answer (a broadcast walked through, a gradient localised); ``table``
    rows of a gradient check (block, analytic, numeric, relative error, verdict)."""

    name: str
    kind: str
    hint: str
    title: str = ""
    title_en: str = ""
    hint_en: str = ""
    formula: str = ""
    detail: str = ""
    detail_en: str = ""
    table: tuple[tuple[str, ...], ...] = ()

    _TEXTS = ("title", "title_en", "hint_en", "formula", "detail", "detail_en")

    def text(self, field: str, lang: str) -> str:
        """``hint``, ``title`` or ``detail`` in ``lang``, else in the rubric's language."""
        own = str(getattr(self, field))
        if lang == "en":
            return str(getattr(self, f"{field}_en")) or own
        return own or str(getattr(self, f"{field}_en", ""))

    def without_findings(self) -> Diagnosis:
        """Only the mistake's name and words: what a hidden test may show (no detail and no
        table, which speak of the test's inputs and values)."""
        return replace(self, detail="", detail_en="", table=())

    def label_key(self) -> str:
        """The catalogue key of this kind of diagnosis (``grader.report.i18n``)."""
        return {"accepted": "recognised", "reading": "recognised", "note": "diagnosis_note",
                "gradient": "diagnosis_gradient"}.get(self.kind, "mistake")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "hint": self.hint}
        d.update({k: getattr(self, k) for k in self._TEXTS if getattr(self, k)})
        if self.table:
            d["table"] = [list(row) for row in self.table]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnosis:
        what = "a diagnosis"
        data = _mapping(data, what)
        _only(data, what, ("name", "kind", "hint", *cls._TEXTS, "table"))
        texts = {k: _take(data, what, k, str) for k in cls._TEXTS if k in data}
        rows = _take(data, what, "table", list) if "table" in data else []
        if not all(isinstance(r, list) and all(isinstance(c, str) for c in r) for r in rows):
            raise ResultError(f"{what}: 'table' must be rows of text")
        return cls(_take(data, what, "name", str), _take(data, what, "kind", str), _take(data, what, "hint", str),
                   table=tuple(tuple(r) for r in rows), **texts)


@dataclass(frozen=True)
class Details:
    """What a failed comparison showed: the call, the values (as text) and the first differing index."""

    call: str | None = None
    expected: str | None = None
    got: str | None = None
    first_difference: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.call is not None:
            out["call"] = self.call
        if self.expected is not None:
            out["expected"] = self.expected
        if self.got is not None:
            out["got"] = self.got
        if self.first_difference is not None:
            out["first_difference"] = list(self.first_difference)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Details:
        what = "a test's details"
        data = _mapping(data, what)
        _only(data, what, ("call", "expected", "got", "first_difference"))
        text = {k: _take(data, what, k, str) for k in ("call", "expected", "got") if k in data}
        index = None
        if "first_difference" in data:
            raw = _take(data, what, "first_difference", (list, tuple))
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
                raise ResultError(f"{what}: 'first_difference' holds something other than integers")
            index = tuple(raw)
        return cls(first_difference=index, **text)


@dataclass(frozen=True)
class CaseResult:
    """One failed call of a test, for the report: ``function`` called (what the report groups
    by), ``label`` (``backpropagation → dw``), the ``call`` with its inputs, the values as text
    and ``where`` they differ, or the ``error`` the call raised."""

    __test__ = False

    function: str
    label: str
    call: str = ""
    expected: str = ""
    got: str = ""
    where: str = ""
    error: str = ""

    _FIELDS = ("function", "label", "call", "expected", "got", "where", "error")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._FIELDS if getattr(self, k) or k in ("function", "label")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseResult:
        what = "a test's case"
        data = _mapping(data, what)
        _only(data, what, cls._FIELDS)
        return cls(**{k: _take(data, what, k, str) for k in cls._FIELDS if k in data or k in ("function", "label")})


@dataclass(frozen=True)
class TestResult:
    """One rubric test: its verdict, its share of the task's points and what it found."""

    __test__ = False  # not a pytest test class, whatever its name

    name: str
    task: str
    visibility: str
    status: str  # passed | failed | error | timeout
    message: str
    score: float
    max_score: float
    diagnoses: tuple[Diagnosis, ...] = ()
    notes: tuple[str, ...] = ()
    details: Details = field(default_factory=Details)
    cases: tuple[CaseResult, ...] = ()
    passed_cases: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name, "task": self.task, "visibility": self.visibility, "status": self.status,
            "message": self.message, "score": self.score, "max_score": self.max_score,
            "diagnoses": [d.to_dict() for d in self.diagnoses], "notes": list(self.notes),
            "details": self.details.to_dict(),
        }
        if self.cases:
            out["cases"] = [c.to_dict() for c in self.cases]
        if self.passed_cases:
            out["passed_cases"] = self.passed_cases
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestResult:
        what = f"the test {data.get('name', '?')!r}" if isinstance(data, Mapping) else "a test"
        data = _mapping(data, what)
        _only(data, what, ("name", "task", "visibility", "status", "message", "score", "max_score",
                           "diagnoses", "notes", "details", "cases", "passed_cases"))
        notes = _take(data, what, "notes", list)
        if not all(isinstance(n, str) for n in notes):
            raise ResultError(f"{what}: a note is not text")
        cases = tuple(CaseResult.from_dict(c) for c in (_take(data, what, "cases", list) if "cases" in data else []))
        passed_cases = _take(data, what, "passed_cases", int) if "passed_cases" in data else 0
        return cls(
            name=_take(data, what, "name", str), task=_take(data, what, "task", str),
            visibility=_take(data, what, "visibility", str), status=_take(data, what, "status", str),
            message=_take(data, what, "message", str), score=_take(data, what, "score", _NUMBER),
            max_score=_take(data, what, "max_score", _NUMBER),
            diagnoses=tuple(Diagnosis.from_dict(d) for d in _take(data, what, "diagnoses", list)),
            notes=tuple(notes), details=Details.from_dict(_take(data, what, "details", Mapping)),
            cases=cases, passed_cases=passed_cases,
        )


@dataclass(frozen=True)
class CellFailure:
    """A notebook cell that did not run cleanly; ``origin == 'handout'`` when the handout's own
    code failed (one of the rubric's ``[[slips]]``: ``slip``, ``slip_title`` and ``hint`` say which)."""

    index: int
    status: str  # error | timeout | killed | skipped
    error: str
    origin: str | None = None
    slip: str | None = None
    slip_title: str | None = None
    hint: str | None = None
    output: str = ""
    traceback: str = ""
    replayed: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status, "error": self.error}
        for key in ("origin", "slip", "slip_title", "hint"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        for key in ("output", "traceback"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.replayed:
            out["replayed"] = list(self.replayed)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellFailure:
        what = "a cell"
        data = _mapping(data, what)
        _only(data, what, ("index", "status", "error", "origin", "slip", "slip_title", "hint", "output",
                           "traceback", "replayed"))
        extra: dict[str, Any] = {k: _take(data, what, k, str) for k in ("origin", "slip", "slip_title", "hint",
                                                                        "output", "traceback") if k in data}
        if "replayed" in data:
            replayed = _take(data, what, "replayed", list)
            if not all(isinstance(i, int) and not isinstance(i, bool) for i in replayed):
                raise ResultError(f"{what}: 'replayed' holds something other than cell indexes")
            extra["replayed"] = tuple(replayed)
        return cls(_take(data, what, "index", int), _take(data, what, "status", str),
                   _take(data, what, "error", str), **extra)


@dataclass(frozen=True)
class Figure:
    """What the report plots for one part: ``kind`` (curve | series | regions) says the form
    of ``data`` (``grader.figures`` documents each); ``problem`` says, in plain words, why the
    student's side is missing (a function that could not be called), '' when it is there."""

    __test__ = False

    name: str
    kind: str
    task: str
    data: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "task": self.task, "data": dict(self.data)}
        if self.problem:
            out["problem"] = self.problem
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figure:
        what = "a figure"
        data = _mapping(data, what)
        _only(data, what, ("name", "kind", "task", "data", "problem"))
        return cls(_take(data, what, "name", str), _take(data, what, "kind", str), _take(data, what, "task", str),
                   dict(_take(data, what, "data", Mapping)),
                   _take(data, what, "problem", str) if "problem" in data else "")


# -- the result ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    """One submission's result; the fields are listed in the module docstring."""

    assignment: str
    rubric_version: str
    submission: str
    student: str
    sha256: str
    status: str
    reason: str
    score: float
    max_score: float
    pass_mark: float
    passed: bool
    tasks: tuple[TaskScore, ...] = ()
    tests: tuple[TestResult, ...] = ()
    cells: tuple[CellFailure, ...] = ()
    notes: tuple[str, ...] = ()
    sandbox: str = ""
    timings: Mapping[str, float] = field(default_factory=dict)
    report_error: str | None = None
    schema: int = RESULT_SCHEMA
    figures: tuple[Figure, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ResultError(f"the result for {self.submission!r} has status {self.status!r}, "
                              f"not one of {', '.join(STATUSES)}")

    # -- constructors ---------------------------------------------------------------------
    @classmethod
    def scored(
        cls, *, assignment: str, rubric_version: str, submission: str, student: str, sha256: str,
        pass_mark: float, status: str, reason: str, tests: Sequence[TestResult], tasks: Sequence[TaskScore],
        cells: Sequence[CellFailure] = (), notes: Sequence[str] = (), sandbox: str = "",
        timings: Mapping[str, float] | None = None, figures: Sequence[Figure] = (),
    ) -> Result:
        """A result whose score, max_score and passed follow from its tasks (the one place they do)."""
        score = _r(sum(t.score for t in tasks))
        max_score = _r(sum(t.max_score for t in tasks))
        return cls(
            assignment=assignment, rubric_version=rubric_version, submission=submission, student=student,
            sha256=sha256, status=status, reason=reason, score=score, max_score=max_score, pass_mark=pass_mark,
            passed=score >= pass_mark, tasks=tuple(tasks), tests=tuple(tests), cells=tuple(cells),
            notes=tuple(notes), sandbox=sandbox, timings=dict(timings or {}), figures=tuple(figures),
        )

    @classmethod
    def crashed(
        cls, *, assignment: str, rubric_version: str, submission: str, student: str, sha256: str,
        pass_mark: float, reason: str, tests: Sequence[TestResult], tasks: Sequence[TaskScore],
        notes: Sequence[str] = (), sandbox: str = "", timings: Mapping[str, float] | None = None,
    ) -> Result:
        """Grading itself failed (no kernel, the worker died, a grader bug): every test unscored."""
        return cls.scored(assignment=assignment, rubric_version=rubric_version, submission=submission,
                          student=student, sha256=sha256, pass_mark=pass_mark, status="crashed", reason=reason,
                          tests=tests, tasks=tasks, notes=notes, sandbox=sandbox, timings=timings)

    @classmethod
    def invalid(
        cls, *, assignment: str, rubric_version: str, submission: str, student: str, sha256: str,
        pass_mark: float, reason: str, tests: Sequence[TestResult], tasks: Sequence[TaskScore],
        timings: Mapping[str, float] | None = None,
    ) -> Result:
        """The file is not a notebook the grader can read (not JSON, not nbformat 4, too big...)."""
        return cls.scored(assignment=assignment, rubric_version=rubric_version, submission=submission,
                          student=student, sha256=sha256, pass_mark=pass_mark, status="invalid", reason=reason,
                          tests=tests, tasks=tasks, timings=timings)

    def with_report_error(self, error: str) -> Result:
        """This result, noting that its HTML report could not be written (the first error is kept)."""
        return self if self.report_error is not None else replace(self, report_error=error)

    def with_timing(self, stage: str, seconds: float) -> Result:
        return replace(self, timings={**self.timings, stage: seconds})

    # -- JSON -----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-able dict (what ``result.json`` holds)."""
        out: dict[str, Any] = {
            "schema": self.schema, "assignment": self.assignment, "rubric_version": self.rubric_version,
            "submission": self.submission, "student": self.student, "sha256": self.sha256,
            "status": self.status, "reason": self.reason, "score": self.score, "max_score": self.max_score,
            "pass_mark": self.pass_mark, "passed": self.passed,
            "tasks": [t.to_dict() for t in self.tasks], "tests": [t.to_dict() for t in self.tests],
            "cells": [c.to_dict() for c in self.cells], "notes": list(self.notes),
            "sandbox": self.sandbox, "timings": dict(self.timings),
        }
        if self.report_error is not None:
            out["report_error"] = self.report_error
        if self.figures:
            out["figures"] = [f.to_dict() for f in self.figures]
        return out

    def to_json(self) -> str:
        """The canonical text of ``result.json``: the same bytes for the same grading, timings aside."""
        return canonical_json(self.to_dict())

    def without_timings(self) -> dict[str, Any]:
        """The dict form without ``timings``: what two gradings of one submission must agree on."""
        out = self.to_dict()
        del out["timings"]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """Read a result back (from the gradebook, a ``result.json``); raises :class:`ResultError`."""
        data = _mapping(data, "a result")
        what = f"the result for {data.get('submission', '?')!r}"
        _only(data, what, ("schema", "assignment", "rubric_version", "submission", "student", "sha256", "status",
                           "reason", "score", "max_score", "pass_mark", "passed", "tasks", "tests", "cells",
                           "notes", "sandbox", "timings", "report_error", "figures"))
        schema = _take(data, what, "schema", int)
        if schema != RESULT_SCHEMA:
            raise ResultError(f"{what} has result schema {schema}; this grader reads schema {RESULT_SCHEMA}")
        timings = _take(data, what, "timings", Mapping)
        if not all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in timings.values()):
            raise ResultError(f"{what}: a timing is not a number")
        notes = data.get("notes", [])  # a crashed result of an earlier grader has none
        if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
            raise ResultError(f"{what}: 'notes' is not a list of text")
        report_error = data.get("report_error")
        if report_error is not None and not isinstance(report_error, str):
            raise ResultError(f"{what}: 'report_error' is not text")
        return cls(
            schema=schema, assignment=_take(data, what, "assignment", str),
            rubric_version=_take(data, what, "rubric_version", str),
            submission=_take(data, what, "submission", str), student=_take(data, what, "student", str),
            sha256=_take(data, what, "sha256", str), status=_take(data, what, "status", str),
            reason=_take(data, what, "reason", str), score=_take(data, what, "score", _NUMBER),
            max_score=_take(data, what, "max_score", _NUMBER), pass_mark=_take(data, what, "pass_mark", _NUMBER),
            passed=_take(data, what, "passed", bool),
            tasks=tuple(TaskScore.from_dict(t) for t in _take(data, what, "tasks", list)),
            tests=tuple(TestResult.from_dict(t) for t in _take(data, what, "tests", list)),
            cells=tuple(CellFailure.from_dict(c) for c in _take(data, what, "cells", list)),
            notes=tuple(notes), sandbox=_take(data, what, "sandbox", str), timings=dict(timings),
            report_error=report_error,
            figures=tuple(Figure.from_dict(f) for f in (_take(data, what, "figures", list) if "figures" in data
                                                        else [])),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Result:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ResultError(f"not a result: the text is not JSON ({exc})") from None
        return cls.from_dict(_mapping(data, "a result"))
