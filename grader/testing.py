"""What rubric test modules import: markers, ``close``, credit for known mistakes.

    from grader.testing import points, hidden, task, parametrize, close

    @task("gates")
    @parametrize("x1, x2", [(0, 0), (0, 1), (1, 0), (1, 1)])
    def test_AND(student, reference, x1, x2):
        close(student.call("AND", x1, x2), reference.call("AND", x1, x2))

Fixtures a test may ask for by parameter name: ``student``, ``reference``, ``rng`` (a NumPy
generator seeded from the test's name, so every run draws the same cases).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from grader.checks.compare import Mismatch, compare

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "Failed", "PartialCredit", "close", "credit", "diagnose", "fail", "hidden", "parametrize",
    "points", "task", "timeout", "tolerance",
]


def _meta(fn: Any) -> dict[str, Any]:
    if not hasattr(fn, "__grader__"):
        fn.__grader__ = {}
    return fn.__grader__  # type: ignore[no-any-return]


def points(weight: float) -> Callable[[F], F]:
    """Relative weight of this test within its task (default 1; split among parametrized cases)."""
    def deco(fn: F) -> F:
        _meta(fn)["weight"] = float(weight)
        return fn
    return deco


def hidden(fn: F) -> F:
    """Mark a test hidden: students see its name and verdict only. It must live in tests/hidden/."""
    _meta(fn)["visibility"] = "hidden"
    return fn


def task(name: str) -> Callable[[F], F]:
    def deco(fn: F) -> F:
        _meta(fn)["task"] = name
        return fn
    return deco


def timeout(seconds: float) -> Callable[[F], F]:
    """Time budget for this test's calls together (default: the rubric's call_timeout per call)."""
    def deco(fn: F) -> F:
        _meta(fn)["timeout"] = float(seconds)
        return fn
    return deco


def parametrize(argnames: str, values: list[Any], *, ids: list[str] | None = None) -> Callable[[F], F]:
    """Run the test once per value, like pytest's; stacking multiplies the cases."""
    names = [a.strip() for a in argnames.split(",") if a.strip()]

    def deco(fn: F) -> F:
        cases = []
        for i, v in enumerate(values):
            vals = tuple(v) if len(names) > 1 else (v,)
            if len(vals) != len(names):
                raise TypeError(f"parametrize({argnames!r}): case {i} has {len(vals)} values")
            cid = ids[i] if ids else "-".join(_id(x) for x in vals)
            cases.append((cid, dict(zip(names, vals))))
        prev = _meta(fn).get("cases")
        if prev:
            cases = [(f"{a}-{b}", {**ka, **kb}) for b, kb in prev for a, ka in cases]
        _meta(fn)["cases"] = cases
        return fn
    return deco


def _id(v: Any) -> str:
    if isinstance(v, (int, float, str, bool)) or v is None:
        return str(v)
    return type(v).__name__


class Failed(AssertionError):
    """A check failed; ``str()`` is the one-line explanation shown to the student."""

    def __init__(self, message: str, mismatch: Mismatch | None = None, *, got: Any = None, want: Any = None) -> None:
        super().__init__(message)
        self.mismatch = mismatch
        self.got = got
        self.want = want


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
    diagnoses: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_ctx: contextvars.ContextVar[_Context] = contextvars.ContextVar("grader_test_context", default=_Context())


def _current() -> _Context:
    return _ctx.get()


def tolerance() -> tuple[float, float]:
    """The rubric's default ``(rtol, atol)``."""
    c = _current()
    return c.rtol, c.atol


def close(got: Any, want: Any, *, rtol: float | None = None, atol: float | None = None,
          shape: str = "exact", what: str = "") -> None:
    """Assert ``got`` matches ``want`` within tolerance; fail with a one-line explanation."""
    c = _current()
    m = compare(got, want, rtol=c.rtol if rtol is None else rtol, atol=c.atol if atol is None else atol, shape=shape)
    if m is not None:
        raise Failed(f"{what}: {m.message}" if what else m.message, m, got=got, want=want)


def fail(message: str) -> None:
    raise Failed(message)


def diagnose(name: str, hint: str, *, kind: str = "mistake") -> None:
    """Attach a diagnosis (a recognised mistake or reading) to the running test's result."""
    _current().diagnoses.append({"name": name, "kind": kind, "hint": hint})


def note(text: str) -> None:
    """A remark shown with the test even when it passes (e.g. which reading was accepted)."""
    _current().notes.append(text)


def credit(fraction: float, mistake: str, hint: str) -> None:
    """Stop the test here with ``fraction`` of its points for a named, known mistake."""
    diagnose(mistake, hint)
    raise PartialCredit(fraction, mistake, hint)
