"""Whole-test matching: which known mistake explains a failing test, on every one of its cases.

``expect``, ``judge_value`` and ``expect_global`` record each case of a test (the student's
answer, the variants that could explain it) instead of stopping at the first wrong one; when
the test ends, ``settle`` names the mistakes whose mutant agrees with the answer on every case
(within the test's tolerance), the most specific first, and gives the test the credit the best
of them earns. A right answer never gets a mistake: nothing is named unless a case failed. An
error of a known form (``mistakes.toml`` ``error``) is named by ``name_error``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from grader.checking import Failed, PartialCredit, _current
from grader.checks.broadcast import walk
from grader.checks.compare import compare
from grader.errors import StudentError

__all__ = ["Case", "failing", "name_error", "record", "settle"]

NOT_RETURNED = object()  # a part the form the function returns does not have


@dataclass
class Case:
    """One judged call of a test."""

    label: str  # "backpropagation → dw"
    function: str  # the function called (a variant about it can explain the case)
    got: Any  # the student's answer as judged
    alternatives: list[tuple[Any, Callable[[], Any]]]  # (variant, its answer to the same call)
    tolerance: tuple[float, float, str]  # rtol, atol, shape rule
    passed: bool
    failure: Failed | None = None
    inputs: dict[str, Any] = field(default_factory=dict)  # the call's arrays by name (a broadcast's walk)
    cache: dict[str, Any] = field(default_factory=dict)
    reading: Any = None  # the accepted reading (or full-credit variant) the answer matched
    reading_note: str = ""
    shown_as: str = ""  # the function the report files it under, when not ``function`` (a value a test computed)

    def answer(self, vspec: Any) -> Any:
        """What ``vspec``'s mutant answers to this case (asked once); None when it is not about it."""
        if vspec.name not in self.cache:
            found = next((produce for v, produce in self.alternatives if v.name == vspec.name), None)
            self.cache[vspec.name] = None if found is None else (found(),)
        return self.cache[vspec.name]

    def agrees(self, vspec: Any) -> bool:
        answer = self.answer(vspec)
        if answer is None:  # the mutant does not change this function: it answers as the reference does
            return self.passed
        if answer[0] is NOT_RETURNED:
            return True
        rtol, atol, shape = self.tolerance
        return compare(self.got, answer[0], rtol=rtol, atol=atol, shape=shape) is None


def record(case: Case) -> None:
    _current().cases.append(case)


def failing() -> bool:
    """Whether a case of the running test has failed so far (the test will fail)."""
    return any(not c.passed for c in _current().cases)


def _explaining(cases: list[Case]) -> list[Any]:
    """The mistakes whose mutant agrees with the answer on every case, most specific first: one
    that replaces the function called before one reached through another function, then in
    the library's order."""
    seen: dict[str, tuple[int, Any]] = {}
    for case in cases:
        if case.passed:
            continue
        for vspec, _produce in case.alternatives:
            if vspec.kind == "mistake" and vspec.name not in seen:
                seen[vspec.name] = (len(seen), vspec)
    found = [(order, v) for order, v in seen.values() if all(c.agrees(v) for c in cases)]
    called = {c.function for c in cases if not c.passed}

    def key(item: tuple[int, Any]) -> tuple[int, int]:
        order, v = item
        direct = bool(called & set(getattr(v, "defines", ()) or (v.name,)))
        return (0 if direct else 1, order)

    return [v for _order, v in sorted(found, key=key)]


def settle() -> None:
    """End the running test: name what explains its failed cases and raise its verdict (nothing
    when every case passed). A ``scope = "task"`` mistake scales the whole part instead."""
    c = _current()
    failed = [k for k in c.cases if not k.passed]
    if not failed:
        for k in c.cases:
            if k.reading is not None:
                diagnose_variant(k.reading, "accepted" if k.reading.kind == "accepted" else "reading")
                if k.reading_note not in c.notes:
                    c.notes.append(k.reading_note)
        return
    first = failed[0]
    named = _explaining(c.cases)
    found_before, c.diagnoses = c.diagnoses, []  # the mistakes come first, then what the test found
    for vspec in named:
        diagnose_variant(vspec)
    _walk_broadcast(first)
    for d in found_before:
        c.add_diagnosis(d)
    if first.failure is None:
        raise AssertionError("a failed case without its failure")
    if not named:
        raise first.failure
    best = max(named, key=lambda v: v.credit_in(c.task))  # the first of the most generous
    fraction = best.credit_in(c.task)
    titles = " and ".join(v.name for v in named)  # the report gives each one's words in the reader's language
    known = "the known mistake" if len(named) == 1 else "the known mistakes"
    if fraction > 0 and getattr(best, "scope", "test") == "task":
        c.task_credit = fraction if c.task_credit is None else min(c.task_credit, fraction)
        c.task_message = f"{first.label}: matches {best.name}: this whole part earns {fraction:.0%} of its points"
        return
    if fraction > 0:
        raise PartialCredit(fraction, best.name, f"{first.label}: matches {known} {titles} ({fraction:.0%} credit)")
    f = first.failure
    message = str(f).removeprefix(f"{first.label}: ")
    raise Failed(f"{first.label}: matches {known} {titles}; {message}", f.mismatch, got=f.got, want=f.want,
                 call=f.call)


def diagnose_variant(vspec: Any, kind: str | None = None) -> None:
    """Attach ``vspec``'s diagnosis (a VariantSpec's or a Mistake's: its words from mistakes.toml
    when it has them)."""
    _current().add_diagnosis(vspec.diagnosis(kind=kind))


def _walk_broadcast(case: Case) -> None:
    """Name an accidental broadcast: the answer's shape is a broadcast of two of the call's
    inputs (or a product with one) where another shape was due."""
    f = case.failure
    if f is None or f.mismatch is None or f.mismatch.kind != "shape":
        return
    import numpy as np

    got, want = np.shape(f.got), np.shape(f.want)
    shapes = {k: tuple(np.shape(v)) for k, v in case.inputs.items() if isinstance(v, np.ndarray)}
    text = walk(case.label, tuple(got), tuple(want), shapes)
    if text is not None:
        c = _current()
        m = c.mistakes.get("accidental_broadcast")
        if m is not None:
            c.add_diagnosis(m.diagnosis(detail=text))


def name_error(exc: StudentError) -> None:
    """Name the known mistake an error raised by the student's code shows, if it is one: the
    error's form raised by the function called, or by a function it called on the way (the
    student's ``fit`` calling the student's ``net_input``)."""
    c = _current()
    if not c.mistakes:
        return
    called = re.match(r"(?:\w+\.)?(\w+)\(", exc.what or "")
    functions = [called.group(1)] if called else []
    functions += [m.group(1) for line in exc.traceback for m in re.finditer(r"\bin (\w+)", line)]
    text = f"{exc.exc_type}: {exc.exc_message}"
    for m in c.mistakes.values():
        if any(m.matches_error(f, text) for f in functions):
            c.add_diagnosis(m.diagnosis())
