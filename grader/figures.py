"""What the report plots, collected while a submission is graded (``collect``).

A rubric names its figure module in rubric.toml (``[report] figures = "figures.py"``, relative
to the rubric folder; no key, no figures). That module defines ``figures(student, reference)``
returning a list of :class:`grader.result.Figure`, built with the helpers here. It runs in the
grader, after the tests, against the same ``student`` (the notebook's kernel) and ``reference``
(the solution, or in a student bundle the replies recorded in ``expected.json`` by ``grader
generate``, which runs the module on the reference for that): so the module must not contain or
need solutions, and its reference calls must not depend on the student's answers.

The figure contract (``Figure(name, kind, task, data, problem)``)
-----------------------------------------------------------------

A result carries ``figures``: what the report plots, as JSON-able data (stored in result.json
and the gradebook, so small: floats rounded to 5 significant digits, at most ~250 points per
series; whole numbers are ints, a value that is not finite is ``null``). Task names: gates, activations, forward,
backprop, training, perceptron. ``problem`` is '' or plain English words saying why the
student's side is missing ("sigmoid could not be called: TypeError: ..."); then ``data`` has no
"student" key but still the reference's. Kinds and their ``data``:

- ``curve`` (one function over x; names step_function, sigmoid, relu on task activations;
  sigmoid_prime on task backprop): ``{"function": name, "x": [...], "reference": [...],
  "student": [...]}``; ``function`` is the name called in the notebook (``ReLU`` for the figure
  ``relu``). When the student's function rejects an array it is called one number at a time on
  a coarser grid, and ``x`` is that grid (the reference's values are over it too).
- ``series`` (name "loss", task training: mean((A − Y)²) per step over the handout's 1,000
  steps of the OR neuron from the handout's start, student's functions vs the reference's,
  x = step numbers, downsampled; name "errors", task perceptron: misclassifications per epoch,
  x = 1..epochs): ``{"x": [...], "reference": [...], "student": [...], "log": bool}`` (``log``:
  draw the values on a log scale).
- ``regions`` (name "regions", task perceptron): the student's fitted perceptron's predictions
  on a grid over the first two features of the student's own X: ``{"xlim": [lo, hi], "ylim":
  [lo, hi], "n": N, "grid": "<N*N chars '+' (class 1), '-' (class -1), '?' (anything else);
  row-major, first row at ylim[0]>", "points": [[x1, x2], ...], "labels": [±1 ...], "features":
  <how many features the student's X has>, "refit": bool (true when X had more than 2 features
  and a fresh Perceptron of the student's class was fitted on the first two to draw this)}``.
  With a ``problem`` there is no "grid" (and the points are the handout's data when the
  student's X could not be used).

``collect`` never raises for a student's problem: every student call in a figure module goes
through ``attempt``, which turns what the student's code did (raised, missing, too slow) into
a ``problem`` text; a bug of the figure module itself (or of its reference side) is logged and
gives no figures at all, never a failed grading.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from grader.errors import CallTimeout, KernelDied, MissingName, StudentCodeProblem, StudentError
from grader.result import Figure

__all__ = ["KINDS", "MAX_POINTS", "TEST_NAME", "attempt", "collect", "curve", "made", "numbers", "problem", "regions",
           "rounded", "series", "thin"]

log = logging.getLogger(__name__)

KINDS = ("curve", "series", "regions")
MAX_POINTS = 250  # per series
TEST_NAME = "figures"  # what the namespaces are told runs (begin_test): the figures keep their own reference tape

_MODULES: dict[tuple[str, str], ModuleType] = {}


def collect(rubric: Any, student: Any, reference: Any, *, budget: float = 10.0) -> list[Figure]:
    """The rubric's figures for this submission: its figure module's ``figures(student,
    reference)``, every student call within ``budget`` seconds in all. [] when the rubric has
    no figure module, or when the module itself fails (logged): never raises."""
    try:
        return made(rubric, student, reference, budget=budget)
    except Exception:
        log.exception("the figure module %s failed: no figures for this submission",
                      getattr(rubric, "figures_path", None))
        return []


def made(rubric: Any, student: Any, reference: Any, *, budget: float = 10.0) -> list[Figure]:
    """``collect`` without the safety net: a failing figure module raises (``grader generate``
    runs it on the reference this way, recording the reference's replies it asks for)."""
    path = getattr(rubric, "figures_path", None)
    if path is None:
        return []
    make = _module(Path(path), str(getattr(rubric, "digest", ""))).figures
    saved = getattr(student, "deadline", None)
    student.begin_test(TEST_NAME)
    reference.begin_test(TEST_NAME)
    student.deadline = time.monotonic() + budget
    try:
        found = list(make(student, reference))
    finally:
        student.deadline = saved
    for f in found:
        if not isinstance(f, Figure) or f.kind not in KINDS:
            raise TypeError(f"figures() gave {f!r}, not a Figure of a kind among {', '.join(KINDS)}")
        json.dumps(f.to_dict(), allow_nan=False)  # JSON as stored: no NaN, no arrays
    return found


def _module(path: Path, digest: str) -> ModuleType:
    """The figure module, imported once per file and rubric digest."""
    key = (str(path), digest)
    if key not in _MODULES:
        name = f"_grader_figures_{abs(hash(key)):x}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"{path} cannot be imported")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[key] = module
    return _MODULES[key]


# -- for figure modules --------------------------------------------------------------------
def problem(what: str, exc: BaseException) -> str:
    """Plain English words for why ``what`` (``sigmoid``) gave the figure nothing."""
    if isinstance(exc, MissingName):
        return f"{exc.name} is not defined in the notebook"
    if isinstance(exc, StudentError):
        message = f": {exc.exc_message[:200]}" if exc.exc_message else ""
        return f"{what} could not be called: {exc.exc_type}{message}"
    if getattr(exc, "status", "") == "timeout" and not isinstance(exc, CallTimeout):
        return f"{what} was not called: the time for the figures ran out"
    if isinstance(exc, CallTimeout):
        return f"{what} did not finish in time"
    if isinstance(exc, KernelDied):
        return f"the notebook's kernel died during {what}"
    return f"{what} could not be used: {str(exc)[:200]}"


# what ``problem`` and ``numbers`` write, read back into the reader's words (grader.report.i18n)
_WORDS = [
    (re.compile(r"(?P<name>\S+) is not defined in the notebook"), "figure_why_missing"),
    (re.compile(r"(?P<what>.+?) could not be called: (?P<error>.+)", re.S), "figure_why_raised"),
    (re.compile(r"(?P<what>.+?) was not called: the time for the figures ran out"), "figure_why_budget"),
    (re.compile(r"(?P<what>.+?) did not finish in time"), "figure_why_timeout"),
    (re.compile(r"the notebook's kernel died during (?P<what>.+)"), "figure_why_died"),
    (re.compile(r"(?P<what>.+?) gave (?P<kind>.+), not numbers"), "figure_why_not_numbers"),
    (re.compile(r"(?P<what>.+?) gave (?P<got>\d+) values? where (?P<want>\d+) were due"), "figure_why_count"),
]


def explain(problem: str, lang: str) -> str:
    """A figure's ``problem`` in ``lang``: the forms written here in the catalogue's words, any
    other (a figure module's own sentence) as it is."""
    from grader.report.i18n import read_back

    return read_back(problem, _WORDS, lang)


def attempt(what: str, call: Callable[[], Any]) -> tuple[Any, str]:
    """``(call(), '')``, or ``(None, problem)`` when the student's code did not answer."""
    try:
        return call(), ""
    except StudentCodeProblem as exc:
        return None, problem(what, exc)


def numbers(value: Any, what: str, size: int | None = None) -> tuple[np.ndarray, str]:
    """``value`` as a flat float array (True/False as 1/0), or ``(empty, problem)`` when it is
    not numbers or not ``size`` of them."""
    empty = np.zeros(0)
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            return empty, f"{what} gave {_kind(value)}, not numbers"
        flat = arr.astype(float).reshape(-1)
    except (TypeError, ValueError):
        return empty, f"{what} gave {_kind(value)}, not numbers"
    if size is not None and flat.size != size:
        return empty, f"{what} gave {flat.size} value{'' if flat.size == 1 else 's'} where {size} were due"
    return flat, ""


def _kind(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__}{' of shape ' + str(tuple(shape)) if shape is not None else ''}"


def rounded(values: Any) -> list[float | None]:
    """Numbers to 5 significant digits, whole numbers as ints (``null`` for nan and inf):
    what the JSON stores."""
    out: list[float | None] = []
    for v in np.asarray(values, dtype=float).reshape(-1).tolist():
        if not math.isfinite(v):
            out.append(None)
        elif v.is_integer() and abs(v) < 2**53:
            out.append(int(v))
        else:
            out.append(round(v, 4 - math.floor(math.log10(abs(v)))) + 0.0)
    return out


def thin(n: int, limit: int = MAX_POINTS) -> list[int]:
    """At most ``limit`` indices of ``n`` points, evenly spread, the first and the last kept."""
    if n <= limit:
        return list(range(n))
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})


def curve(name: str, task: str, function: str, x: Sequence[float], reference: Any, student: Any = None, *,
          problem: str = "") -> Figure:
    """A ``curve`` figure: the reference's and (unless ``problem``) the student's values over ``x``."""
    data: dict[str, Any] = {"function": function, "x": rounded(x), "reference": rounded(reference)}
    if not problem:
        data["student"] = rounded(student)
    return Figure(name, "curve", task, data, problem)


def series(name: str, task: str, x: Sequence[float], reference: Any, student: Any = None, *, log: bool = False,
           problem: str = "") -> Figure:
    """A ``series`` figure (x and the values already at most ``MAX_POINTS`` long)."""
    data: dict[str, Any] = {"x": rounded(x), "reference": rounded(reference), "log": bool(log)}
    if not problem:
        data["student"] = rounded(student)
    return Figure(name, "series", task, data, problem)


def regions(task: str, *, xlim: Sequence[float], ylim: Sequence[float], n: int, predictions: Any,
            points: Any, labels: Sequence[Any], features: int, refit: bool, problem: str = "") -> Figure:
    """A ``regions`` figure: ``predictions`` of the n×n grid (row-major, first row at ylim[0])
    as '+', '-' and '?'; ``points`` (k, 2) and their ``labels``, thinned to ``MAX_POINTS``."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    keep = thin(len(pts))
    data: dict[str, Any] = {
        "xlim": rounded(xlim), "ylim": rounded(ylim), "n": int(n),
        "points": [rounded(pts[i]) for i in keep], "labels": [_label(labels[i]) for i in keep],
        "features": int(features), "refit": bool(refit),
    }
    if not problem:
        pred = np.asarray(predictions, dtype=float).reshape(-1)
        data["grid"] = "".join("+" if v == 1 else "-" if v == -1 else "?" for v in pred.tolist())
    return Figure("regions", "regions", task, data, problem)


def _label(value: Any) -> int | float | None:
    v = float(value)
    if not math.isfinite(v):
        return None
    return int(v) if v.is_integer() else rounded([v])[0]
