"""The running test's verdict: ``close``, ``fail``, ``credit``, diagnoses and notes.

Each test runs with its own ``_Context`` (set by ``grader.runner``): the rubric's tolerances
and shape rule, its task, and what it found (diagnoses, notes, a credit for its whole task).
Test modules import these names from ``grader.testing``.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any

from grader.checks.compare import Mismatch, compare
from grader.errors import RubricError

__all__ = ["Failed", "PartialCredit", "close", "credit", "diagnose", "fail", "mistake", "note", "number", "tolerance"]


class Failed(AssertionError):
    """A check failed; ``str()`` is the one-line explanation shown to the student."""

    def __init__(self, message: str, mismatch: Mismatch | None = None, *, got: Any = None,
                 want: Any = None, call: str = "") -> None:
        super().__init__(message)
        self.mismatch = mismatch
        self.got = got
        self.want = want
        self.call = call


class PartialCredit(Exception):
    """Raised by ``credit``: the answer matches a known mistake worth a fraction of the points."""

    def __init__(self, fraction: float, mistake: str, hint: str) -> None:
        super().__init__(f"{mistake}: {hint}")
        self.fraction = fraction
        self.mistake = mistake
        self.hint = hint


@dataclass
class _Context:
    rtol: float = 1e-6
    atol: float = 1e-8
    shape: str = "exact"  # the rubric's default shape rule ([tolerance] shape)
    task: str = ""  # the running test's task (a variant may give a different credit per task)
    task_credit: float | None = None  # a scope = "task" reading seen: the whole task is scaled by it
    task_message: str = ""
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mistakes: dict[str, Any] = field(default_factory=dict)  # the rubric's library (grader.mistakes.Mistake)
    cases: list[Any] = field(default_factory=list)  # the judged calls so far (grader.matching.Case)

    def add_diagnosis(self, d: dict[str, Any]) -> None:
        """Attach ``d`` unless the test already carries that name."""
        if all(x["name"] != d["name"] for x in self.diagnoses):
            self.diagnoses.append(d)


# the default is never written to: the runner sets a fresh _Context around every test
_ctx: contextvars.ContextVar[_Context] = contextvars.ContextVar("grader_test_context", default=_Context())  # noqa: B039 - see above


def _current() -> _Context:
    return _ctx.get()


def tolerance() -> tuple[float, float]:
    """The rubric's default ``(rtol, atol)``."""
    c = _current()
    return c.rtol, c.atol


def close(got: Any, want: Any, *, rtol: float | None = None, atol: float | None = None,
          shape: str | None = None, what: str = "") -> None:
    """Assert ``got`` matches ``want`` within tolerance; fail with a one-line explanation.
    ``shape``: exact, squeeze or broadcast (default: the rubric's ``[tolerance] shape``)."""
    c = _current()
    m = compare(got, want, rtol=c.rtol if rtol is None else rtol, atol=c.atol if atol is None else atol,
                shape=shape or c.shape)
    if m is not None:
        raise Failed(f"{what}: {m.message}" if what else m.message, m, got=got, want=want)


def fail(message: str) -> None:
    raise Failed(message)


def diagnose(name: str, hint: str | None = None, *, kind: str | None = None,
             detail: dict[str, str] | None = None) -> None:
    """Attach a diagnosis to the running test's result: a mistake of the rubric's library by
    its name (its words come from mistakes.toml; ``detail``: what was found in this answer, by
    language), or, with ``hint``, one the test words itself."""
    c = _current()
    found = c.mistakes.get(name)
    if hint is None and found is None:
        raise RubricError(f"diagnose({name!r}): no such mistake in the rubric's mistakes.toml; add it there "
                       "(or give the hint)")
    if found is not None and hint is None:
        c.add_diagnosis(found.diagnosis(kind=kind, detail=detail))
        return
    d: dict[str, Any] = {"name": name, "kind": kind or "mistake", "hint": hint or ""}
    for lang, text in (detail or {}).items():
        d["detail" if lang == "ko" else f"detail_{lang}"] = text
    c.add_diagnosis(d)


def mistake(name: str) -> Any:
    """The rubric's mistake ``name`` (mistakes.toml), e.g. to weigh a value a test computed
    itself against it with ``judge_value``."""
    found = _current().mistakes.get(name)
    if found is None:
        raise RubricError(f"mistake({name!r}): no such mistake in the rubric's mistakes.toml")
    return found


def note(text: str) -> None:
    """A remark shown with the test even when it passes (e.g. which reading was accepted)."""
    _current().notes.append(text)


def credit(fraction: float, mistake: str, hint: str | None = None) -> None:
    """Stop the test here with ``fraction`` of its points for a named, known mistake: one of
    the rubric's mistakes.toml is described in its words (``hint``, if given, is then the
    test's message), any other by ``hint``."""
    known = _current().mistakes.get(mistake)
    diagnose(mistake, None if known is not None else hint)
    message = hint or f"matches the known mistake {mistake} ({fraction:.0%} credit)"
    raise PartialCredit(fraction, mistake, message)


def number(student: Any, name: str) -> float:
    """The notebook's global ``name`` as one finite number (a size-1 array counts); fails
    with a plain message otherwise (for answers written as numbers)."""
    import math

    import numpy as np

    v = student.get(name)
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        fail(f"{name} must be a finite number, got {v!r}")
    return float(v)
