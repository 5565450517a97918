"""The library API: grade one notebook, check (student self-check), grade a folder.

Stages, one way: load/sanitise (notebook) -> execute (sandbox) -> probe + check (runner,
checks) -> score (scoring) -> render/store (report, gradebook). Each function here only wires
them; none raises for a student's mistake: failures become results.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from grader import figures
from grader import notebook as nbio
from grader import rubric as rubric_mod
from grader.config import Limits
from grader.errors import GraderError, NotebookError, RubricError, SandboxError
from grader.notes import note
from grader.namespaces import (
    LazyReference,
    Namespace,
    RecordedNamespace,
    ReferenceNamespace,
    ReferenceSet,
    StudentNamespace,
)
from grader.result import RESULT_SCHEMA, CellFailure, Result, TaskScore, TestResult, canonical_json
from grader.runner import not_run, run_tests
from grader.scoring import scored_parts

if TYPE_CHECKING:  # the kernel machinery loads when a kernel is wanted, not with this module
    from grader.sandbox.pool import SparePool


class ReferenceCache:
    """The reference solution, run once per rubric (its folder and content digest) by its owner.

    A batch worker owns one (``grader.worker.Worker``); library calls that pass none share the
    process's ``LIBRARY_REFERENCES``, so grading many notebooks in one process runs the reference
    once, as a worker does (a cache, not state: an entry is a pure function of the rubric)."""

    def __init__(self) -> None:
        self._sets: dict[tuple[str, str], ReferenceSet] = {}

    def get(self, rubric: rubric_mod.Rubric) -> ReferenceSet:
        key = (str(rubric.path), rubric.digest)
        if key not in self._sets:
            sources = reference_sources(rubric)
            main = ReferenceNamespace(sources, files=rubric.files)
            variants: list[tuple[Any, Namespace]] = [
                (v, LazyReference(lambda v=v, main=main: main.derive(v.source, prefix=f"{v.name}:")))
                for v in rubric.variants
            ]
            self._sets[key] = ReferenceSet(main, variants, rubric.returns)
        return self._sets[key]


LIBRARY_REFERENCES = ReferenceCache()


def reference_sources(rubric: rubric_mod.Rubric) -> list[str]:
    sol = rubric.solution_path()
    if not sol.is_file():
        raise RubricError(f"reference solution {sol} not found (rubric {rubric.path})")
    nb = nbformat.read(sol, as_version=4)
    return [nbio.remove_markers(c.source) for c in nb.cells if c.cell_type == "code"]


def reference_for(rubric: rubric_mod.Rubric, cache: ReferenceCache | None = None) -> ReferenceSet:
    """The ``reference`` fixture: the solution (TA) or the stored expected values (student)."""
    if rubric.public_only:
        if rubric.expected is None:
            raise RubricError(f"{rubric.path} has no expected.json; "
                              f"regenerate it with `grader generate {rubric.assignment}`")
        src = str(rubric.path / "expected.json")
        return ReferenceSet(
            RecordedNamespace(rubric.expected, source=src),
            [(v, RecordedNamespace(rubric.expected, source=src, prefix=f"{v.name}:")) for v in rubric.variants],
            rubric.returns,
        )
    return (cache or LIBRARY_REFERENCES).get(rubric)


def student_id(submission: str) -> str:
    """Who handed it in: the first folder of the path, else the file name without .ipynb."""
    parts = submission.split("/")
    name = parts[0] if len(parts) > 1 else Path(parts[0]).stem
    return unicodedata.normalize("NFC", name)


def unscored(rubric: rubric_mod.Rubric, message: str) -> tuple[list[TestResult], list[TaskScore]]:
    """Every test of the rubric not run (``message`` says why), scored: 0 of each task's points."""
    return scored_parts(not_run(rubric, message), rubric.tasks)


def _status(cells: list[CellFailure], report: Any, outcomes: list[dict[str, Any]]) -> tuple[str, str]:
    bad = [c for c in cells if c.status != "ok"]
    if report.gave_up:
        return "crashed", (f"the kernel kept dying and grading stopped early ({report.gave_up}); "
                           "tests that needed later cells scored 0")
    if report.timed_out:
        return "timeout", "the notebook did not finish within the time limit; cells after the limit were not run"
    if outcomes and all(o["status"] == "timeout" and o["message"].startswith("not run") for o in outcomes[-1:]):
        return "timeout", "the tests did not finish within the time limit"
    if bad:
        shown = "; ".join(f"cell {c.index}: {c.error or c.status}" for c in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        return "partial", f"{len(bad)} cell(s) failed ({shown}{more}); everything else was graded"
    return "graded", ""


def grade_notebook(
    path: Path,
    rubric: rubric_mod.Rubric,
    *,
    submission: str | None = None,
    student: str | None = None,
    sandbox: str = "auto",
    limits: Limits | None = None,
    executed_out: Path | None = None,
) -> dict[str, Any]:
    """Grade one notebook file; always returns a result, as its JSON-able dict (``Result.to_dict``).

    The library's entry point (``grade_file`` gives the typed :class:`~grader.result.Result`)."""
    return grade_file(path, rubric, submission=submission, student=student, sandbox=sandbox, limits=limits,
                      executed_out=executed_out).to_dict()


def grade_file(
    path: Path,
    rubric: rubric_mod.Rubric,
    *,
    submission: str | None = None,
    student: str | None = None,
    sandbox: str = "auto",
    limits: Limits | None = None,
    executed_out: Path | None = None,
    spare: SparePool | None = None,
    references: ReferenceCache | None = None,
) -> Result:
    """Grade one notebook file; always returns a :class:`Result` (a student's mistake never raises).

    ``spare``: the SparePool to take the kernel from (a batch worker's: the next one boots while
    this one is graded), else the kernel starts cold; ``references``: the cache the reference
    solution runs in (default: the process's ``LIBRARY_REFERENCES``)."""
    t0 = time.perf_counter()
    submission = submission or path.name
    data = b""
    with contextlib.suppress(OSError):  # unreadable: nbio.load says so and the result is 'invalid'
        data = path.read_bytes()
    ident: dict[str, Any] = {
        "assignment": rubric.assignment, "rubric_version": rubric.version, "submission": submission,
        "student": student or student_id(submission), "sha256": hashlib.sha256(data).hexdigest(),
        "pass_mark": rubric.pass_mark,
    }

    def total_time(timings: dict[str, float]) -> dict[str, float]:
        return {**timings, "total": round(time.perf_counter() - t0, 3)}

    limits = limits or rubric.limits
    try:
        nb = nbio.load(path, name=submission)
    except NotebookError as exc:
        tests, tasks = unscored(rubric, "not run: the notebook could not be read")
        return Result.invalid(**ident, reason=str(exc), tests=tests, tasks=tasks, timings=total_time({}))
    reference = reference_for(rubric, references)
    mechanism, notes, timings = "", [], {}
    try:
        from grader.sandbox.offline import setup_code
        from grader.sandbox.pool import start_session

        with start_session(spare, limits=limits, sandbox=sandbox, files=rubric.files,
                           setup_code=setup_code(rubric.serve_urls, rubric.compat)) as ks:
            mechanism = ks.mechanism
            report = ks.run_notebook(nb)
            t_tests = time.perf_counter()
            sources = [str(c.source) for c in nb.cells if c.cell_type == "code"]
            student_ns = StudentNamespace(ks, sources)
            if rubric.compat:
                notes += _compat_notes(student_ns)
            outcomes = run_tests(rubric, student=student_ns, reference=reference, budget=limits.tests_timeout)
            test_events = list(ks.test_events)  # what the figures do after this is not the grade's
            t_figures = time.perf_counter()
            figs = figures.collect(rubric, student_ns, reference, budget=limits.call_timeout)
            timings = {
                "kernel_start": round(ks.timings.get("kernel_start", 0.0), 3),
                "execute": round(ks.timings.get("execute", 0.0), 3),
                "tests": round(t_figures - t_tests, 3),
                "figures": round(time.perf_counter() - t_figures, 3),
            }
            if executed_out is not None:
                executed_out.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, executed_out)
    except SandboxError as exc:
        tests, tasks = unscored(rubric, "not run: the kernel could not be started")
        return Result.crashed(**ident, reason=str(exc), tests=tests, tasks=tasks, notes=notes, sandbox=mechanism,
                              timings=total_time(timings))
    ran = [c.index for c in report.cells if c.status == "ok"]
    cells = [_cell_failure(c, rubric, nb, ran) for c in report.cells if c.status != "ok"]
    notes += [note("note_handout_cell", index=c.index, title=c.slip_title) for c in cells if c.origin == "handout"]
    status, reason = _status([c for c in cells if c.origin != "handout"], report, outcomes)
    if test_events and status == "graded":
        # the notebook ran, but graded calls hung or crashed the kernel: say so
        shown = "; ".join(dict.fromkeys(test_events))
        status, reason = "partial", f"during the tests: {shown[:600]}; those tests scored 0, the rest was graded"
    tests, tasks = scored_parts(outcomes, rubric.tasks)
    return Result.scored(**ident, status=status, reason=reason, tests=tests, tasks=tasks, cells=cells, notes=notes,
                         sandbox=mechanism, timings=total_time(timings), figures=figs)


_COMPAT_NOTES = {"read_csv(eader=)": "note_read_csv_eader"}  # what the kernel saw -> the note's form


def _compat_notes(student: StudentNamespace) -> list[str]:
    """What of the course's old environment the notebook relied on (np.int and friends)."""
    try:
        used = student.session.request({"op": "compat"}, what="the environment notes", timeout=5)
    except Exception:  # noqa: BLE001 - notes only
        return []
    notes = []
    for what in used if isinstance(used, list) else []:
        if not isinstance(what, str):
            continue
        if what.startswith("np."):
            notes.append(note("note_np_alias", what=what, plain=what[3:]))
        else:
            notes.append(note(_COMPAT_NOTES[what]) if what in _COMPAT_NOTES else f"{what} was used")
    return notes[:10]


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _trim(text: str, lines: int, chars: int) -> str:
    """The last ``lines`` lines (at most ``chars`` characters) of ``text``, without terminal colours."""
    kept = _ANSI.sub("", text).rstrip().splitlines()
    out = "\n".join(kept[-lines:])
    cut = len(kept) > lines or len(out) > chars
    return ("…\n" if cut else "") + out[-chars:]


def _cell_outputs(cell: Any) -> tuple[str, str]:
    """What a cell printed and its traceback, trimmed for the report."""
    printed, trace = [], ""
    for out in getattr(cell, "outputs", None) or []:
        kind = out.get("output_type")
        if kind == "stream":
            printed.append(str(out.get("text", "")))
        elif kind == "error":
            trace = "\n".join(str(x) for x in out.get("traceback") or [])
    return _trim("".join(printed), 20, 1500), _trim(trace, 16, 2500)


def _cell_failure(cell: Any, rubric: rubric_mod.Rubric, nb: Any, ran: Sequence[int] = ()) -> CellFailure:
    """A cell that did not run cleanly, with what it printed and its traceback; for a cell that
    killed the kernel, the cells run again on the new one (``ran``: the cells that ran cleanly);
    marked as the handout's when its failure is one of the handout's own slips (the rubric's
    ``[[slips]]``)."""
    try:
        nb_cell: Any = nb.cells[cell.index]
    except (IndexError, KeyError, TypeError):
        nb_cell = None
    output, trace = _cell_outputs(nb_cell)
    replayed = tuple(i for i in ran if i < cell.index) if cell.status == "killed" else ()
    failure = CellFailure(cell.index, cell.status, cell.error, output=output, traceback=trace, replayed=replayed)
    if cell.status != "error" or not rubric.slips or nb_cell is None:
        return failure
    source = str(nb_cell.source)
    for slip in rubric.slips:
        if slip.matches(str(cell.error), source):
            return replace(failure, origin="handout", slip=slip.name, slip_title=slip.title, hint=slip.hint)
    return failure


PIP_NAMES = {"sklearn": "scikit-learn", "PIL": "pillow", "cv2": "opencv-python", "yaml": "pyyaml"}


def require_packages(rubric: rubric_mod.Rubric) -> None:
    """The modules the rubric's notebooks import must be importable where kernels run."""
    missing = rubric.missing_packages()
    if missing:
        import sys

        pip = " ".join(PIP_NAMES.get(m, m) for m in missing)
        raise RubricError(
            f"the {rubric.assignment} notebooks import {', '.join(missing)}, which this Python "
            f"({sys.executable}) cannot import, so every submission that uses it would lose points; "
            f"install it with `python -m pip install {pip}` (or reinstall the grader: `pip install -e .`) "
            "and run again"
        )


def result_json(result: Result | Mapping[str, Any]) -> str:
    """Canonical JSON text of a result: the same bytes for the same grading, timings aside."""
    return result.to_json() if isinstance(result, Result) else canonical_json(result)


def without_timings(result: Result | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(result, Result):
        return result.without_timings()
    return {k: v for k, v in result.items() if k != "timings"}


def load_rubric(
    *, assignment: str | None = None, rubric: Path | None = None, public: bool = False
) -> rubric_mod.Rubric:
    path = rubric_mod.resolve(assignment, rubric=rubric, public=public)
    public_only = public or (path / "expected.json").is_file() and not (path / "tests" / "hidden").is_dir()
    rb = rubric_mod.load(path, public_only=public_only)
    require_packages(rb)
    return rb


def guess_assignment(notebook: Path, *, public: bool = True) -> str | None:
    """The assignment a notebook is for: its ``grader`` metadata, else the rubrics' file globs."""
    try:
        meta = json.loads(notebook.read_text(encoding="utf-8-sig")).get("metadata", {})
        name = meta.get("grader", {}).get("assignment")
        if isinstance(name, str) and name:
            return name
    except (OSError, ValueError, AttributeError):
        pass
    try:
        base = rubric_mod.find_root() / ("assignments" if public else "rubrics")
    except RubricError:
        return None
    hits = []
    for toml in sorted(base.glob("*/rubric.toml")):
        try:
            rb = rubric_mod.load(toml.parent, public_only=True)
        except RubricError:
            continue
        if rb.grades_file(notebook.name):
            hits.append(rb.assignment)
    return hits[0] if len(hits) == 1 else None


def all_rubrics() -> list[rubric_mod.Rubric]:
    """Every TA rubric under rubrics/ (for grading a folder that holds several assignments)."""
    base = rubric_mod.find_root() / "rubrics"
    found = [rubric_mod.load(p.parent) for p in sorted(base.glob("*/rubric.toml"))]
    if not found:
        raise RubricError(f"no rubric found under {base}; pass --rubric")
    for rb in found:
        require_packages(rb)
    return found


def check(notebook: Path | None = None, *, assignment: str | None = None, rubric: Path | None = None,
          sandbox: str = "auto", limits: Limits | None = None, lang: str | None = None) -> dict[str, Any] | None:
    """Student self-check: public tests only, expected values from the assignment bundle.

    Given a notebook file: its result, as a dict. Without one, in Jupyter or Colab (the check
    cell, ``import grader; grader.check()``): what the kernel executed so far is checked in a
    separate grader process and shown in the cell as a table (``lang``: "ko", the default, or
    "en"); returns None. Without one outside IPython: a UsageError saying to pass the path."""
    if notebook is None:
        from grader import cell

        cell.check_in_notebook(assignment=assignment, lang=lang)
        return None
    rb = load_rubric(assignment=assignment, rubric=rubric, public=True)
    # given the TA's rubric folder: still public tests only, judged by the live reference
    rb.items = [i for i in rb.items if i.visibility == "public"]
    return grade_notebook(notebook, rb, submission=notebook.name, sandbox=sandbox, limits=limits)


__all__ = [
    "LIBRARY_REFERENCES", "RESULT_SCHEMA", "GraderError", "ReferenceCache", "Result", "check", "grade_file",
    "grade_notebook", "load_rubric", "reference_for", "result_json", "student_id", "unscored", "without_timings",
]
