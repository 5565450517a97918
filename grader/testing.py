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
    "Failed", "PartialCredit", "close", "credit", "diagnose", "expect", "expect_global", "fail",
    "hidden", "note", "parametrize", "points", "task", "timeout", "tolerance",
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
            cid = ids[i] if ids else "-".join(_id(x, i) for x in vals)
            cases.append((cid, dict(zip(names, vals))))
        prev = _meta(fn).get("cases")
        if prev:
            cases = [(f"{a}-{b}", {**ka, **kb}) for b, kb in prev for a, ka in cases]
        _meta(fn)["cases"] = cases
        return fn
    return deco


def _id(v: Any, index: int) -> str:
    if isinstance(v, (int, float, str, bool)) or v is None:
        return str(v)
    if isinstance(v, tuple) and all(isinstance(x, (int, float, str, bool)) for x in v):
        return "-".join(str(x) for x in v)
    return f"{type(v).__name__}{index}"  # e.g. ndarray0, ndarray1: unique per case


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


# --- judging against the reference, its accepted readings and its known mistakes ---------

_NOT_RETURNED = object()


def _describe_call(name: str, args: tuple[Any, ...], with_globals: dict[str, Any] | None) -> str:
    from grader.checks.compare import describe_value

    text = f"{name}(" + ", ".join(describe_value(a, 60) for a in args) + ")"
    if with_globals:
        text += " with " + ", ".join(f"{k} = {describe_value(v, 60)}" for k, v in with_globals.items())
    return text


def _pick(raw: Any, name: str, spec: dict[str, Any], part: str | None) -> Any:
    """Take ``part`` out of a result according to the rubric's ``[returns.NAME]``."""
    by_arity: dict[int, list[str]] = spec.get("by_arity", {})
    if not by_arity or part is None:
        return raw
    if isinstance(raw, (tuple, list)) and len(raw) in by_arity:
        names = by_arity[len(raw)]
        return raw[names.index(part)] if part in names else _NOT_RETURNED
    forms = " or ".join(f"({', '.join(v)})" for _k, v in sorted(by_arity.items(), reverse=True))
    got = f"{len(raw)} values" if isinstance(raw, (tuple, list)) else f"a single {type(raw).__name__}"
    raise Failed(f"{name} returned {got}; expected {forms}")


def _judge(name: str, part: str | None, call_text: str, got_raw: Any, want_raw: Any,
           alternatives: list[tuple[Any, Callable[[], Any]]], spec: dict[str, Any],
           rtol: float | None, atol: float | None, shape: str | None, eager: bool = False) -> Any:
    c = _current()
    if eager:  # `grader generate` records every alternative's reply, matched or not
        for _vspec, produce in alternatives:
            try:
                produce()
            except Exception:  # noqa: BLE001 - a variant that does not apply
                pass
    rtol = c.rtol if rtol is None else rtol
    atol = c.atol if atol is None else atol
    shape = shape or spec.get("shapes", {}).get(part or "", spec.get("shape", "exact"))
    label = f"{name} → {part}" if part else name
    got = _pick(got_raw, name, spec, part)
    if got is _NOT_RETURNED:
        n = len(got_raw)
        note(f"{label}: not part of the accepted {n}-value form ({', '.join(spec['by_arity'][n])}); not checked")
        return None
    want = _pick(want_raw, name, spec, part)
    m = compare(got, want, rtol=rtol, atol=atol, shape=shape)
    if m is None:
        return got
    # ordered: accepted readings first, then named mistakes
    for vspec, produce in sorted(alternatives, key=lambda a: a[0].kind != "accepted"):
        try:
            alt = _pick(produce(), name, spec, part)
        except Exception:  # noqa: BLE001 - a variant that does not apply to these inputs
            continue
        if alt is _NOT_RETURNED or compare(got, alt, rtol=rtol, atol=atol, shape=shape) is not None:
            continue
        if vspec.kind == "accepted":
            diagnose(vspec.name, vspec.hint or vspec.title, kind="accepted")
            note(f"{label}: recognised reading '{vspec.title}', accepted")
            return got
        diagnose(vspec.name, vspec.hint or vspec.title)
        if vspec.credit > 0:
            raise PartialCredit(vspec.credit, vspec.name,
                                f"{label}: matches the known mistake '{vspec.title}' ({vspec.credit:.0%} credit)")
        raise Failed(f"{label}: matches the known mistake '{vspec.title}'; {m.message}", m, got=got, want=want, call=call_text)
    raise Failed(f"{label}: {m.message}", m, got=got, want=want, call=call_text)


def expect(student: Any, reference: Any, name: str, *args: Any, part: str | None = None,
           with_globals: dict[str, Any] | None = None, rtol: float | None = None,
           atol: float | None = None, shape: str | None = None) -> Any:
    """Call ``name(*args)`` in both and judge: the reference, then accepted readings, then
    known mistakes (``[[variants]]``), unpacking and shape rules from ``[returns.NAME]``.
    Returns the student's (unpacked) value when it is accepted."""
    call_text = _describe_call(name, args, with_globals)
    got_raw = student.call(name, *args, with_globals=with_globals)
    want_raw = reference.call(name, *args, with_globals=with_globals)
    spec = getattr(reference, "returns", {}).get(name, {})
    alts = [
        (vspec, (lambda ns=ns: ns.call(name, *args, with_globals=with_globals)))
        for vspec, ns in getattr(reference, "variants_for", lambda n: [])(name)
    ]
    return _judge(name, part, call_text, got_raw, want_raw, alts, spec, rtol, atol, shape,
                  getattr(reference, "eager", False))


def expect_global(student: Any, reference: Any, name: str, *, part: str | None = None,
                  rtol: float | None = None, atol: float | None = None, shape: str | None = None) -> Any:
    """Judge the global ``name`` left by the notebook (e.g. trained weights)."""
    got_raw = student.get(name)
    want_raw = reference.get(name)
    spec = getattr(reference, "returns", {}).get(name, {})
    alts = [(vspec, (lambda ns=ns: ns.get(name))) for vspec, ns in getattr(reference, "variants_for", lambda n: [])(name)]
    return _judge(name, part, f"the global {name} after the notebook ran", got_raw, want_raw, alts, spec,
                  rtol, atol, shape, getattr(reference, "eager", False))
