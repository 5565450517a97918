"""What rubric test modules import: ``points``, ``parametrize``, ``timeout``, and the checks.

    from grader.testing import expect, parametrize, points

    TASK = "gates"          # every test of this module belongs to this task of rubric.toml

    @points(12)             # the points this test is worth (shared among its 4 cases: 3 each)
    @parametrize("gate", ["AND", "NAND", "OR", "XOR"])
    def test_truth_table(student, reference, gate):
        for x1, x2 in [(0, 0), (0, 1), (1, 0), (1, 1)]:
            expect(student, reference, gate, x1, x2)

One way each: the task is the module's ``TASK``; visibility is the folder (``tests/public/``
ships to students with its expected values, ``tests/hidden/`` never leaves ``rubrics/``);
``@points(n)`` is points, and a task's tests add up to its ``points`` in rubric.toml.
Fixtures a test may ask for by parameter name: ``student``, ``reference``, ``rng`` (a NumPy
generator seeded from the test's name, so every run draws the same cases).
See ``rubrics/README.md``.
"""

from __future__ import annotations

from typing import Any, TypeVar
from collections.abc import Callable

from grader.checking import (
    Failed,
    PartialCredit,
    _Context,
    _ctx,
    close,
    credit,
    diagnose,
    fail,
    mistake,
    note,
    number,
    tolerance,
)
from grader.checks.gradient import localise
from grader.errors import RubricError
from grader.judging import (
    argument_order,
    call_as_written,
    expect,
    expect_global,
    judge_value,
    pick,
    probe,
    returns_bool,
)
from grader.matching import failing
from grader.training import final_values, perceptron_fit, train_neuron, training_ways

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "Failed", "PartialCredit", "argument_order", "call_as_written", "close", "credit", "diagnose", "expect",
    "expect_global", "fail", "failing", "judge_value", "mistake", "note", "number", "parametrize", "pick", "points",
    "localise_gradient", "probe", "returns_bool", "timeout", "tolerance", "final_values", "perceptron_fit",
    "train_neuron", "training_ways",
]
_INTERNAL = (_Context, _ctx)  # the runner sets each test's context through these


def localise_gradient(analytic: dict[str, Any], numeric: dict[str, Any], *, forward_agrees: bool,
                      source: str | None = None) -> None:
    """Attach to the running test which block of the student's gradient (``analytic``, by block;
    None for one not returned) disagrees with the centred differences (``numeric``), and by what
    clean factor or sign (``grader.checks.gradient.localise``). Deducts nothing."""
    _ctx.get().add_diagnosis(localise(analytic, numeric, forward_agrees=forward_agrees, source=source))


def _meta(fn: Any) -> dict[str, Any]:
    if not hasattr(fn, "__grader__"):
        fn.__grader__ = {}
    meta: dict[str, Any] = fn.__grader__
    return meta


def _number(value: Any, what: str, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (positive and value == 0) \
            or value != value:
        raise RubricError(f"{what} must be a {'positive' if positive else 'non-negative'} number, got {value!r}")
    return float(value)


def points(n: float) -> Callable[[F], F]:
    """The points this test is worth; a parametrized test's points are shared equally among
    its cases. The tests of a task add up to the task's ``points`` in rubric.toml."""
    value = _number(n, "@points(n)", positive=False)

    def deco(fn: F) -> F:
        _meta(fn)["points"] = value
        return fn
    return deco


def timeout(seconds: float) -> Callable[[F], F]:
    """Wall-clock seconds for the whole test (each case), on top of the per-call limit: the test
    stops at its next call into the notebook once they are spent, and scores 0 as a timeout."""
    value = _number(seconds, "@timeout(seconds)", positive=True)

    def deco(fn: F) -> F:
        _meta(fn)["timeout"] = value
        return fn
    return deco


def task(name: str) -> Any:
    """Removed: the task is the test module's ``TASK``."""
    raise RubricError(f"@task({name!r}) is gone: a test's task is its module's TASK = {name!r} "
                      "(put tests of another task in a module of their own)")


def hidden(fn: Any) -> Any:
    """Removed: visibility is the folder."""
    raise RubricError(f"@hidden ({getattr(fn, '__name__', fn)}) is gone: a test is hidden by living in "
                      "tests/hidden/ (and public in tests/public/); remove the decorator")


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
            cases.append((cid, dict(zip(names, vals, strict=True))))
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
