"""The library API: grade one notebook, check (student self-check), grade a folder.

Stages, one way: load/sanitise (notebook) -> execute (sandbox) -> probe + check (runner,
checks) -> score (scoring) -> render/store (report, gradebook). Each function here only wires
them; none raises for a student's mistake: failures become results.
"""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from pathlib import Path
from typing import Any

import nbformat

from grader import notebook as nbio
from grader import rubric as rubric_mod
from grader.config import Limits
from grader.errors import GraderError, NotebookError, RubricError, SandboxError
from grader.namespaces import LazyReference, RecordedNamespace, ReferenceNamespace, ReferenceSet, StudentNamespace
from grader.runner import not_run, run_tests
from grader.scoring import score_tests, total

RESULT_SCHEMA = 1
_REFERENCES: dict[tuple[str, str], ReferenceNamespace] = {}


def reference_sources(rubric: rubric_mod.Rubric) -> list[str]:
    sol = rubric.solution_path()
    if not sol.is_file():
        raise RubricError(f"reference solution {sol} not found (rubric {rubric.path})")
    nb = nbformat.read(sol, as_version=4)
    return [nbio.remove_markers(c.source) for c in nb.cells if c.cell_type == "code"]


def reference_for(rubric: rubric_mod.Rubric) -> ReferenceSet:
    """The ``reference`` fixture: the solution (TA) or the stored expected values (student)."""
    if rubric.public_only:
        if rubric.expected is None:
            raise RubricError(f"{rubric.path} has no expected.json; regenerate it with `grader generate {rubric.assignment}`")
        src = str(rubric.path / "expected.json")
        return ReferenceSet(
            RecordedNamespace(rubric.expected, source=src),
            [(v, RecordedNamespace(rubric.expected, source=src, prefix=f"{v.name}:")) for v in rubric.variants],
            rubric.returns,
        )
    key = (str(rubric.path), rubric.digest)
    if key not in _REFERENCES:
        sources = reference_sources(rubric)
        main = ReferenceNamespace(sources, files=rubric.files)
        variants = [
            (v, LazyReference(lambda v=v: ReferenceNamespace([*sources, v.source], files=rubric.files, prefix=f"{v.name}:")))
            for v in rubric.variants
        ]
        _REFERENCES[key] = ReferenceSet(main, variants, rubric.returns)
    return _REFERENCES[key]


def student_id(submission: str) -> str:
    """Who handed it in: the first folder of the path, else the file name without .ipynb."""
    parts = submission.split("/")
    name = parts[0] if len(parts) > 1 else Path(parts[0]).stem
    return unicodedata.normalize("NFC", name)


def _status(cells: list[dict[str, Any]], report: Any, outcomes: list[dict[str, Any]]) -> tuple[str, str]:
    bad = [c for c in cells if c["status"] != "ok"]
    if report.gave_up:
        return "crashed", f"the kernel kept dying and grading stopped early ({report.gave_up}); tests that needed later cells scored 0"
    if report.timed_out:
        return "timeout", "the notebook did not finish within the time limit; cells after the limit were not run"
    if outcomes and all(o["status"] == "timeout" and o["message"].startswith("not run") for o in outcomes[-1:]):
        return "timeout", "the tests did not finish within the time limit"
    if bad:
        shown = "; ".join(f"cell {c['index']}: {c['error'] or c['status']}" for c in bad[:3])
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
    spare: bool = False,
) -> dict[str, Any]:
    """Grade one notebook file; always returns a result dict (schema ``RESULT_SCHEMA``).

    ``spare``: keep a fresh kernel booting for the next call (batch workers)."""
    t0 = time.perf_counter()
    submission = submission or path.name
    data = b""
    try:
        data = path.read_bytes()
    except OSError:
        pass
    result: dict[str, Any] = {
        "schema": RESULT_SCHEMA,
        "assignment": rubric.assignment,
        "rubric_version": rubric.version,
        "submission": submission,
        "student": student or student_id(submission),
        "sha256": hashlib.sha256(data).hexdigest(),
        "status": "graded",
        "reason": "",
        "score": 0.0,
        "max_score": round(rubric.max_score, 4),
        "pass_mark": rubric.pass_mark,
        "passed": False,
        "tasks": [],
        "tests": [],
        "cells": [],
        "notes": [],
        "sandbox": "",
        "timings": {},
    }
    limits = limits or rubric.limits
    try:
        nb = nbio.load(path, name=submission)
    except NotebookError as exc:
        return _finish_invalid(result, rubric, str(exc), t0)
    reference = reference_for(rubric)
    try:
        from grader.sandbox import KernelSession
        from grader.sandbox.offline import setup_code

        with KernelSession.fresh(limits=limits, sandbox=sandbox, files=rubric.files,
                                 setup_code=setup_code(rubric.serve_urls, rubric.compat), spare=spare) as ks:
            result["sandbox"] = ks.mechanism
            report = ks.run_notebook(nb)
            t_tests = time.perf_counter()
            sources = [str(c.source) for c in nb.cells if c.cell_type == "code"]
            student = StudentNamespace(ks, sources)
            if rubric.compat:
                result["notes"] += _compat_notes(student)
            outcomes = run_tests(rubric, student=student, reference=reference,
                                 budget=limits.tests_timeout)
            test_events = list(ks.test_events)
            result["timings"] = {
                "kernel_start": round(ks.timings.get("kernel_start", 0.0), 3),
                "execute": round(ks.timings.get("execute", 0.0), 3),
                "tests": round(time.perf_counter() - t_tests, 3),
            }
            if executed_out is not None:
                executed_out.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, executed_out)
    except SandboxError as exc:
        outcomes = not_run(rubric, "not run: the kernel could not be started")
        result.update(status="crashed", reason=str(exc))
        return _finish(result, rubric, outcomes, t0)
    cells = [c.to_dict() for c in report.cells if c.status != "ok"]
    for c in cells:
        _blame(c, rubric, nb)
        if c.get("origin") == "handout":
            result["notes"].append(f"cell {c['index']} failed because of the handout's own code, not yours: {c['slip_title']}")
    result["cells"] = cells
    status, reason = _status([c for c in cells if c.get("origin") != "handout"], report, outcomes)
    if test_events and status == "graded":
        # the notebook ran, but graded calls hung or crashed the kernel: say so
        shown = "; ".join(dict.fromkeys(test_events))
        status, reason = "partial", f"during the tests: {shown[:600]}; those tests scored 0, the rest was graded"
    result["status"], result["reason"] = status, reason
    return _finish(result, rubric, outcomes, t0)


_COMPAT_NOTES = {
    "read_csv(eader=)": "pd.read_csv(..., eader=None) (the handout's typo of header=) was read as header=None, as the handout meant",
}


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
            notes.append(f"{what} was used (the handout's own demo cell uses np.int): NumPy 1.24 removed it; the grader's kernel accepts it as the course's environment did (on a current NumPy write {what[3:]})")
        else:
            notes.append(_COMPAT_NOTES.get(what, f"{what} was used"))
    return notes[:10]


def _blame(cell: dict[str, Any], rubric: rubric_mod.Rubric, nb: Any) -> None:
    """Mark a failed cell whose failure is one of the handout's own slips (``[[slips]]``)."""
    if cell.get("status") != "error" or not rubric.slips:
        return
    try:
        source = str(nb.cells[cell["index"]].source)
    except (IndexError, KeyError, TypeError):
        return
    for slip in rubric.slips:
        if slip.matches(str(cell.get("error", "")), source):
            cell["origin"] = "handout"
            cell["slip"] = slip.name
            cell["slip_title"] = slip.title
            cell["hint"] = slip.hint
            return


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


def _finish_invalid(result: dict[str, Any], rubric: rubric_mod.Rubric, reason: str, t0: float) -> dict[str, Any]:
    outcomes = not_run(rubric, "not run: the notebook could not be read")
    result.update(status="invalid", reason=reason)
    return _finish(result, rubric, outcomes, t0)


def _finish(result: dict[str, Any], rubric: rubric_mod.Rubric, outcomes: list[dict[str, Any]], t0: float) -> dict[str, Any]:
    tests, tasks = score_tests(outcomes, rubric.tasks)
    result["tests"] = tests
    result["tasks"] = tasks
    result["score"], result["max_score"] = total(tasks)
    result["passed"] = result["score"] >= rubric.pass_mark
    result["timings"]["total"] = round(time.perf_counter() - t0, 3)
    return result


def result_json(result: dict[str, Any]) -> str:
    """Canonical JSON text of a result: the same bytes for the same grading, timings aside."""
    return json.dumps(result, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def without_timings(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "timings"}


def load_rubric(*, assignment: str | None = None, rubric: Path | None = None, public: bool = False) -> rubric_mod.Rubric:
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


def check(notebook: Path, *, assignment: str | None = None, rubric: Path | None = None,
          sandbox: str = "auto", limits: Limits | None = None) -> dict[str, Any]:
    """Student self-check: public tests only, expected values from the assignment bundle."""
    rb = load_rubric(assignment=assignment, rubric=rubric, public=True)
    # given the TA's rubric folder: still public tests only, judged by the live reference
    rb.items = [i for i in rb.items if i.visibility == "public"]
    return grade_notebook(notebook, rb, submission=notebook.name, sandbox=sandbox, limits=limits)


__all__ = [
    "GraderError", "RESULT_SCHEMA", "check", "grade_notebook", "load_rubric", "reference_for",
    "result_json", "student_id", "without_timings",
]
