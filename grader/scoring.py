"""Pure scoring: test outcomes and the rubric's task points in, scores out.

``score_tests`` works on the runner's outcome dicts; ``scored_parts`` gives the same scores as
the typed parts of a :class:`grader.result.Result` (the result's totals follow from its tasks).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from grader.result import TaskScore, TestResult


@dataclass(frozen=True)
class TaskSpec:
    name: str
    title: str
    points: float


def _r(x: float) -> float:
    return round(float(x) + 0.0, 4)


def _clamp(fraction: float) -> float:
    """A fraction in [0, 1]; NaN (a test's ratio gone wrong) earns nothing, not everything."""
    f = float(fraction)
    return 0.0 if f != f else max(0.0, min(1.0, f))


def score_tests(
    outcomes: Sequence[Mapping[str, Any]], tasks: Iterable[TaskSpec]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Fill ``score``/``max_score`` of each outcome; return ``(tests, task_totals)``.

    A task's points are shared among its tests in proportion to their weights; a test earns
    ``fraction`` (0..1) of its share. Outcomes need ``task``, ``weight`` and ``fraction``.
    """
    tasks = list(tasks)
    weights: dict[str, float] = defaultdict(float)
    # a reading with scope = "task" (e.g. the handout's db = sum(da): half the backprop part)
    # scales every test of its task, whichever test showed it
    factor: dict[str, float] = defaultdict(lambda: 1.0)
    for o in outcomes:
        weights[o["task"]] += o["weight"]
        if "task_credit" in o:
            factor[o["task"]] = min(factor[o["task"]], _clamp(o["task_credit"]))
    points = {t.name: t.points for t in tasks}
    scored = []
    for o in outcomes:
        share = points.get(o["task"], 0.0) * o["weight"] / weights[o["task"]] if weights[o["task"]] else 0.0
        out = {k: v for k, v in o.items() if k not in ("weight", "fraction", "task_credit")}
        out["max_score"] = _r(share)
        out["score"] = _r(share * _clamp(o["fraction"]) * factor[o["task"]])
        scored.append(out)
    totals = []
    for t in tasks:
        # from the unrounded shares, so a task fully earned is exactly its points
        w = weights.get(t.name, 0.0)
        earned = sum(o["weight"] * _clamp(o["fraction"]) for o in outcomes if o["task"] == t.name)
        got = t.points * earned / w * factor[t.name] if w else 0.0
        totals.append({"name": t.name, "title": t.title, "score": _r(got), "max_score": _r(t.points)})
    return scored, totals


def scored_parts(
    outcomes: Sequence[Mapping[str, Any]], tasks: Iterable[TaskSpec]
) -> tuple[list[TestResult], list[TaskScore]]:
    """``score_tests`` as the typed parts of a result; the outcomes are the runner's, every field
    of a test (a field the result does not know is a grader bug, and raises ``ResultError``)."""
    tests, totals = score_tests(outcomes, tasks)
    return [TestResult.from_dict(t) for t in tests], [TaskScore.from_dict(t) for t in totals]
