"""For assignment authors: ``generate`` the student bundle, ``validate`` the rubric.

``generate`` writes ``assignments/<a>/``: the student notebook (solution regions replaced by
marked blanks), the public tests, ``rubric.toml``, the figure module, data files, and
``expected.json``: every reply of the reference (and of its accepted readings and known
mistakes) that the public tests and the figure module ask for, so ``grader check`` runs on a
student's machine without the solution. Hidden tests and variant sources never leave ``rubrics/``.

Both first check the rubric in this process (``check_rubric``): every variant builds on the
reference and answers every call the tests make, and every test passes on the reference; any
mistake stops them with a RubricError naming the file and what to fix. ``validate`` then proves
the rubric on real kernels: the reference scores full marks, the blank scores 0 without
crashing, each fixture in the rubric's MANIFEST.toml scores what it says.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from collections.abc import Callable

import nbformat

from grader import api
from grader import notebook as nbio
from grader import rubric as rubric_mod
from grader.errors import RubricError
from grader.namespaces import Namespace, ReferenceNamespace, ReferenceSet
from grader.runner import run_tests
from grader.variants import DERIVED, derived_functions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def student_notebook(rb: rubric_mod.Rubric) -> nbformat.NotebookNode:
    """The reference with every solution region replaced by a marked blank, outputs cleared."""
    ref = nbformat.read(rb.solution_path(), as_version=4)
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "grader": {"assignment": rb.assignment, "rubric_version": rb.version},
    }
    for i, cell in enumerate(ref.cells):
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(nbio.strip_solutions(cell.source))
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source)
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        new["id"] = cell.get("id") or f"cell-{i}"
        nb.cells.append(new)
    made: nbformat.NotebookNode = nb
    return made


def _eager_reference(rb: rubric_mod.Rubric, recorder: dict[str, Any] | None) -> ReferenceSet:
    """The reference and every variant built now (a variant that fails to build is named), each
    asked on every call a test makes (``eager``), keeping their replies in ``recorder``."""
    sources = api.reference_sources(rb)
    main = ReferenceNamespace(sources, files=rb.files)
    main.recorder = recorder
    variants: list[tuple[Any, Namespace]] = []
    for v in rb.variants:
        where = f"{rb.path / v.file} (variant {v.name})"
        missing = [n for n in (*v.defines, *v.reads) if n not in main.ns]
        if missing:
            raise RubricError(f"{where}: needs {', '.join(missing)}, which the reference solution does not define "
                              "after running its cells; fix the name or the reference")
        try:
            ns = ReferenceNamespace([*sources, v.source], files=rb.files, prefix=f"{v.name}:")
        except RubricError as exc:
            raise RubricError(f"{where}: fails when defined after the reference's cells ({exc}); "
                              "fix the variant file") from exc
        ns.recorder = recorder
        variants.append((v, ns))
    reference = ReferenceSet(main, variants, rb.returns)
    reference.eager = True
    return reference


def _on_the_reference(rb: rubric_mod.Rubric, items: list[rubric_mod.TestItem], reference: ReferenceSet) -> None:
    """Run ``items`` with the reference as the student: each must pass; else a RubricError
    naming each test, its file and what went wrong (a test's own error, a variant that raised)."""
    student = ReferenceNamespace(api.reference_sources(rb), files=rb.files)
    outcomes = run_tests(rb, student=student, reference=reference, items=items, budget=600)
    bad = [(i, o) for i, o in zip(items, outcomes, strict=True) if o["status"] != "passed"]
    if bad:
        raise RubricError(
            f"{rb.path}: {len(bad)} test(s) do not pass with the reference solution as the student (each must; "
            "a variant that raises is named): "
            + "; ".join(f"{o['name']} (tests/{i.visibility}/{i.module}.py): {o['status']}: "
                        f"{o['message'].removeprefix('grader problem, tell your TA: ')[:600]}" for i, o in bad[:5])
        )


def check_rubric(rb: rubric_mod.Rubric) -> None:
    """What ``grader validate`` and ``grader generate`` prove before anything is graded or
    written (loading the rubric already checked its form, its points and its variants' files):
    every variant builds and answers every call the tests make, and every test, public and
    hidden, passes with the reference as the student. Raises a RubricError naming what to fix."""
    _on_the_reference(rb, rb.items, _eager_reference(rb, None))


def record_expected(rb: rubric_mod.Rubric) -> dict[str, Any]:
    """Run the public tests, then the figure module, with the reference as the student; keep
    every reference reply (the report's figures replay theirs in a student bundle too)."""
    recorder: dict[str, Any] = {}
    reference = _eager_reference(rb, recorder)  # every variant asked on every call: all replies recorded
    _on_the_reference(rb, [i for i in rb.items if i.visibility == "public"], reference)
    _figures_on_the_reference(rb, reference)
    return dict(sorted(recorder.items()))


def _figures_on_the_reference(rb: rubric_mod.Rubric, reference: ReferenceSet) -> None:
    """Run the rubric's figure module with the reference as the student: it must work and give
    every figure its student's side (else a RubricError naming the module)."""
    if rb.figures_path is None:
        return
    from grader import figures

    student = ReferenceNamespace(api.reference_sources(rb), files=rb.files)
    try:
        found = figures.made(rb, student, reference, budget=600)
    except Exception as exc:
        raise RubricError(f"{rb.figures_path}: the figure module fails with the reference solution as the student "
                          f"({type(exc).__name__}: {str(exc)[:300]}); fix it") from exc
    bad = [f"{f.name}: {f.problem}" for f in found if f.problem]
    if bad:
        raise RubricError(f"{rb.figures_path}: with the reference solution as the student, figures lack the "
                          f"student's side ({'; '.join(bad)[:600]}); fix the figure module")


def generate(assignment: str, *, root: Path | None = None) -> list[Path]:
    root = root or rubric_mod.find_root()
    rb = rubric_mod.load(root / "rubrics" / assignment)
    check_rubric(rb)
    target = root / "assignments" / assignment
    return write_bundle(rb, target)


def write_bundle(rb: rubric_mod.Rubric, target: Path) -> list[Path]:
    if target.exists():
        shutil.rmtree(target)
    (target / "tests" / "public").mkdir(parents=True)
    written: list[Path] = []
    nb_path = target / rb.notebook
    nbformat.write(student_notebook(rb), nb_path)
    written.append(nb_path)
    for name in ("rubric.toml", "mistakes.toml"):
        if (rb.path / name).is_file():
            shutil.copy(rb.path / name, target / name)
            written.append(target / name)
    for f in sorted((rb.path / "tests" / "public").glob("test_*.py")):
        shutil.copy(f, target / "tests" / "public" / f.name)
        written.append(target / "tests" / "public" / f.name)
    for name, data in sorted(rb.files.items()):
        (target / name).write_bytes(data)  # beside the notebook, where students' code reads it
        written.append(target / name)
    if rb.figures_path is not None:  # the report's figures: its reference side is replayed from expected.json
        module = target / rb.figures_path.relative_to(rb.path)
        module.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(rb.figures_path, module)
        written.append(module)
    if rb.variants:  # which functions each variant changes (its source stays in rubrics/)
        (target / DERIVED).write_text(derived_functions(rb.variants), encoding="utf-8")
        written.append(target / DERIVED)
    expected = record_expected(rb)
    exp_path = target / "expected.json"
    exp_path.write_text(json.dumps(expected, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    written.append(exp_path)
    return written


def _manifest(rb: rubric_mod.Rubric) -> tuple[Path | None, dict[str, Any]]:
    if not rb.fixtures:
        return None, {}
    folder = (rb.path / rb.fixtures).resolve()
    man = folder / "MANIFEST.toml"
    if not man.is_file():
        raise RubricError(f"{rb.path}/rubric.toml names fixtures {folder}, which has no MANIFEST.toml")
    return folder, tomllib.loads(man.read_text(encoding="utf-8"))


TA_TOLERANCE = 1.0  # points between the grader and the TA's score a corpus notebook may differ


def validate(assignment: str, *, root: Path | None = None, sandbox: str = "auto", jobs: int | None = None,
             echo: Callable[[str], Any] = lambda s: None) -> dict[str, Any]:
    """Grade the reference (must score full marks), the generated blank (0) and every notebook
    of the rubric's corpus (``fixtures``/MANIFEST.toml): each within ``TA_TOLERANCE`` points of
    the ``ta_score`` a TA wrote there by hand."""
    from grader import batch

    root = root or rubric_mod.find_root()
    rb = rubric_mod.load(root / "rubrics" / assignment)
    api.require_packages(rb)
    check_rubric(rb)
    echo("ok  the rubric: every variant builds and answers, every test passes on the reference")
    folder, manifest = _manifest(rb)
    checks: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        ref_nb = nbformat.read(rb.solution_path(), as_version=4)
        nbformat.write(ref_nb, subs / "_reference.ipynb")
        nbformat.write(student_notebook(rb), subs / "_blank.ipynb")
        expected: dict[str, tuple[float, float, str]] = {
            "_reference": (rb.max_score, 0.01, "the reference solution"),
            "_blank": (0.0, 0.01, "the generated student notebook, untouched"),
        }
        for name, entry in manifest.items():
            if not isinstance(entry, dict) or folder is None:
                continue
            if not isinstance(entry.get("ta_score"), (int, float)) or isinstance(entry.get("ta_score"), bool):
                raise RubricError(f"{folder / 'MANIFEST.toml'}: [{name}] has no ta_score: write, by hand, the score a "
                                  "careful TA gives this notebook (and one line why)")
            src = folder / f"{name}.ipynb"
            if not src.is_file():
                raise RubricError(f"fixture {src} listed in MANIFEST.toml is missing")
            shutil.copy(src, subs / f"{name}.ipynb")
            expected[name] = (float(entry["ta_score"]), TA_TOLERANCE, str(entry.get("why", "")))
        out = Path(tmp) / "out"
        summary = batch.grade([subs], out, rubric=rb, jobs=jobs, sandbox=sandbox, accept_all=True)
        for name, (want, tol, why) in sorted(expected.items()):
            res = json.loads((batch.out_dir(out, f"{name}.ipynb") / "result.json").read_text(encoding="utf-8"))
            ok = abs(res["score"] - want) <= tol + 1e-9 and res["status"] not in ("crashed", "invalid")
            checks.append({"name": name, "expected": want, "score": res["score"], "status": res["status"], "ok": ok,
                           "why": why})
            echo(f"{'ok ' if ok else 'BAD'} {name:36s} TA {want:6.1f}  grader {res['score']:6.1f}  ({res['status']})"
                 + ("" if ok else f"  TA: {why}"))
    ok = all(c["ok"] for c in checks)
    diffs = [abs(c["score"] - c["expected"]) for c in checks if not c["name"].startswith("_")]
    return {
        "ok": ok,
        "checks": checks,
        "summary": {"assignment": assignment, "notebooks": len(checks), "ok": sum(c["ok"] for c in checks),
                    "bad": [c["name"] for c in checks if not c["ok"]], "seconds": round(summary.seconds, 1),
                    "mean_abs_diff_from_ta": round(sum(diffs) / len(diffs), 2) if diffs else 0.0},
    }
