"""Run rubric tests in the trusted process; every outcome is plain data.

A test gets its fixtures (``student``, ``reference``, ``rng``), runs, and ends in one of:
passed, failed (an assert or ``close`` said no, or a named mistake earned partial credit),
error (the student's code raised), timeout (a call ran past the per-call limit, the test past
its ``@timeout``, or the submission's tests past ``tests_timeout``). A bug in a test is
reported as an error that names the test, never swallowed.
"""

from __future__ import annotations

import hashlib
import linecache
import re
import time
import traceback
from typing import Any

import numpy as np

from grader import checking, matching
from grader.errors import GraderError, MissingName, RubricError, StudentCodeProblem, StudentError
from grader.rubric import Rubric, TestItem


def _seed(rubric_seed: int, name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{rubric_seed}:{name}".encode()).digest()[:8], "little")


def _assert_source(exc: BaseException) -> str:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return "a check failed"
    line = linecache.getline(last.tb_frame.f_code.co_filename, last.tb_lineno).strip()
    return f"check failed: `{line}`" if line else "a check failed"


def run_tests(rubric: Rubric, *, student: Any, reference: Any, budget: float | None = None,
              items: list[TestItem] | None = None) -> list[dict[str, Any]]:
    """Run ``items`` (default: all of the rubric's) and return outcome dicts in order."""
    outcomes = []
    deadline = time.monotonic() + (budget if budget is not None else rubric.limits.tests_timeout)
    for item in items if items is not None else rubric.items:
        if time.monotonic() > deadline:
            outcomes.append(_outcome(item, "timeout", 0.0, "not run: the time for this submission's tests ran out"))
            continue
        outcomes.append(run_one(rubric, item, student=student, reference=reference))
    return outcomes


def _details(exc: checking.Failed) -> dict[str, Any]:
    """Input, expected, got and the first differing element, for the report."""
    from grader.checks.compare import describe_value

    d: dict[str, Any] = {}
    if exc.call:
        d["call"] = exc.call
    if exc.mismatch is not None:
        d["expected"] = describe_value(exc.want, 300)
        d["got"] = describe_value(exc.got, 300)
        if exc.mismatch.index is not None:
            d["first_difference"] = list(exc.mismatch.index)
    return d


_MAX_CASES = 12  # failed calls kept per test for the report (a 100-row table says no more than 12)


def _preview(value: Any) -> str:
    """A value as the report shows it: in full when small, else its first and last elements
    and its shape (never only "array of shape (11,)")."""
    from grader.checks.compare import describe_value

    if isinstance(value, np.ndarray) and value.size > 8 and value.dtype.kind in "biuf":
        flat = np.array2string(value.ravel(), precision=6, threshold=6, edgeitems=3, separator=", ")
        return f"{flat.replace(chr(10), '')} (shape {value.shape}, {value.dtype})"
    return describe_value(value, 300)


def _case_dict(function: str, label: str, exc: checking.Failed | None) -> dict[str, Any]:
    """One failed call as the report shows it: the call, the values and where they differ."""
    case: dict[str, Any] = {"function": function, "label": label}
    if exc is not None:
        d = _details(exc)
        case.update({k: d[k] for k in ("call",) if k in d})
        if exc.mismatch is not None:
            case["expected"], case["got"] = _preview(exc.want), _preview(exc.got)
        m = exc.mismatch
        if m is not None and m.index is not None and len(m.index) > 0:  # the first element that differs
            case["where"] = "[" + ", ".join(map(str, m.index)) + "]"
        elif m is not None and m.kind != "value":  # what differs (the report words it: mismatch_<kind>)
            case["where"] = m.kind
    return case


def _called(text: str) -> str:
    """The function a call's text names (``sigmoid(...)`` -> ``sigmoid``), '' for none."""
    m = re.match(r"\s*(?:\w+\.)?(\w+)\(", text or "")
    return m.group(1) if m else ""


def _with_cases(out: dict[str, Any], ctx: checking._Context, exc: BaseException | None) -> dict[str, Any]:
    """Add the test's failed calls (``cases``) and how many of its calls were right to its
    outcome; a test that judged no call itself (a global, a training run) gets its failure as
    its one case."""
    judged = ctx.cases
    out["passed_cases"] = sum(1 for c in judged if c.passed)
    cases = [_case_dict(c.shown_as or c.function, c.label, c.failure) for c in judged if not c.passed]
    if isinstance(exc, MissingName):
        cases.append({"function": exc.name, "label": exc.name, "where": "missing"})  # the report words it
    elif isinstance(exc, StudentCodeProblem):
        what = getattr(exc, "what", "") or ""
        error = f"{exc.exc_type}: {exc.exc_message}".rstrip(": ") if isinstance(exc, StudentError) else str(exc)
        if isinstance(exc, StudentError) and exc.traceback:
            error += f" ({exc.traceback[-1][:200]})"
        function = _called(exc.call or what)
        cases.append({"function": function, "label": function or what, "call": exc.call or what, "error": error})
    elif not cases and out["status"] != "passed":
        details = out.get("details") or {}
        function = _called(str(details.get("call", "")))
        case = {"function": function, "label": function or out["name"], "where": out["message"]}
        case.update({k: details[k] for k in ("call", "expected", "got") if k in details})
        cases.append(case)
    out["cases"] = cases[:_MAX_CASES]
    return out


def _outcome(item: TestItem, status: str, fraction: float, message: str,
             diagnoses: list[dict[str, Any]] | None = None, notes: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": item.name, "task": item.task, "weight": item.points, "visibility": item.visibility,
        "status": status, "fraction": fraction, "message": message,
        "diagnoses": diagnoses or [], "notes": notes or [], "details": {},
    }


def run_one(rubric: Rubric, item: TestItem, *, student: Any, reference: Any) -> dict[str, Any]:
    ctx = checking._Context(rtol=rubric.rtol, atol=rubric.atol, shape=rubric.shape, task=item.task,
                            mistakes=rubric.mistakes)
    token = checking._ctx.set(ctx)
    if item.timeout is not None:
        student.deadline = time.monotonic() + item.timeout
    kwargs = dict(item.params)
    for name in item.fixtures:
        if name == "student":
            student.begin_test(item.name)
            kwargs[name] = student
        elif name == "reference":
            reference.begin_test(item.name)
            kwargs[name] = reference
        elif name == "rng":
            kwargs[name] = np.random.default_rng(_seed(rubric.seed, item.name))
    try:
        out, exc = _run_func(item, kwargs, ctx)
        if item.timeout is not None and time.monotonic() > student.deadline:
            out = _outcome(item, "timeout", 0.0, f"stopped: this test ran longer than its {item.timeout:g} s "
                           "(@timeout in the rubric)", ctx.diagnoses, ctx.notes)
        return _with_cases(out, ctx, exc)
    finally:
        checking._ctx.reset(token)
        if item.timeout is not None:
            student.deadline = None


def _run_func(item: TestItem, kwargs: dict[str, Any],
              ctx: checking._Context) -> tuple[dict[str, Any], BaseException | None]:
    """Run the test function; its outcome and what ended it (every way a test can end is one
    except). A wrong answer does not stop the test: its other cases are judged too, and at its end the known
    mistake that explains them all is named (``grader.matching``); the first failure is the
    test's, whatever its later calls raised."""
    try:
        try:
            item.func(**kwargs)
        except RubricError:
            raise
        except Exception:
            if not matching.failing():
                raise
        matching.settle()
    except checking.PartialCredit as pc:
        out = _outcome(item, "failed", pc.fraction, pc.hint, ctx.diagnoses, ctx.notes)
        if ctx.task_credit is not None:
            out["task_credit"] = ctx.task_credit
        return out, pc
    except checking.Failed as exc:
        out = _outcome(item, "failed", 0.0, str(exc), ctx.diagnoses, ctx.notes)
        out["details"] = _details(exc)
        return out, exc
    except AssertionError as exc:
        return _outcome(item, "failed", 0.0, str(exc) or _assert_source(exc), ctx.diagnoses, ctx.notes), exc
    except StudentCodeProblem as exc:
        if isinstance(exc, StudentError):
            matching.name_error(exc)
        msg = str(exc)
        if isinstance(exc, StudentError) and exc.traceback:
            msg += f" ({exc.traceback[-1][:200]})"
        return _outcome(item, exc.status, 0.0, msg, ctx.diagnoses, ctx.notes), exc
    except RubricError as exc:
        return _outcome(item, "error", 0.0, f"grader problem, tell your TA: {exc}", ctx.diagnoses, ctx.notes), exc
    except GraderError as exc:
        return _outcome(item, "error", 0.0, str(exc), ctx.diagnoses, ctx.notes), exc
    except Exception as exc:  # noqa: BLE001 - a test tripping over a strange value
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return _outcome(
            item, "error", 0.0,
            f"the test could not use what the notebook returned ({type(exc).__name__}: {str(exc)[:200]}; "
            f"{item.module}.py line {frame.lineno})",
            ctx.diagnoses, ctx.notes,
        ), exc
    if ctx.task_credit is not None:
        out = _outcome(item, "failed", 1.0, ctx.task_message, ctx.diagnoses, ctx.notes)
        out["task_credit"] = ctx.task_credit
        return out, None
    return _outcome(item, "passed", 1.0, "", ctx.diagnoses, ctx.notes), None


def not_run(rubric: Rubric, message: str, status: str = "error") -> list[dict[str, Any]]:
    """Outcomes for every test when the notebook could not be graded at all."""
    return [_outcome(item, status, 0.0, message) for item in rubric.items]
