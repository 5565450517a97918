"""A minimal nbgrader course, generated at run time, grading the week-3 assignment.

    course/
      nbgrader_config.py
      source/ps1/week3.ipynb      the reference solution with nbgrader metadata + test cells
      source/ps1/iris.data
      release/ps1/...             made by `nbgrader generate_assignment ps1`
      submitted/<student>/ps1/week3.ipynb + iris.data

The source notebook: every code cell holding a ``### BEGIN SOLUTION`` region is an nbgrader
solution cell; the checks of ``checks.py`` are appended as autograder test cells (locked,
with points). A submission is what a student of that course would hand in: their notebook
(the fixture, as it is) followed by the release's test cells, with the same metadata. nbgrader
restores the kernelspec and the test cells' source from its database when it autogrades.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

from _tools.checks import CHECKS, nbgrader_cell_source

ASSIGNMENT = "ps1"
NOTEBOOK = "week3.ipynb"


def _meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: int | None = None) -> dict:
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
         "solution": solution, "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


def test_cells(with_ids: bool) -> list[dict]:
    cells = []
    for name, points, source in CHECKS:
        cell = {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {**_meta(f"test_{name}", solution=False, grade=True, locked=True, points=points),
                         "deletable": False, "editable": False},
            "outputs": [],
            "source": nbgrader_cell_source(name, source),
        }
        if with_ids:
            cell["id"] = f"test-{name}"
        cells.append(cell)
    return cells


def build_course(root: Path, reference: Path, iris: Path) -> Path:
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(textwrap.dedent(f"""\
        c = get_config()
        c.CourseDirectory.root = {str(root)!r}
        c.CourseDirectory.course_id = "week3bench"
        # the course's defaults otherwise: 30 s per cell, errors allowed, kernelspec from the source
        """), encoding="utf-8")
    src = root / "source" / ASSIGNMENT
    src.mkdir(parents=True)
    nb = json.loads(reference.read_text(encoding="utf-8"))
    for i, cell in enumerate(nb["cells"]):
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and "### BEGIN SOLUTION" in text:
            cell["metadata"].update(_meta(f"solution_{i}", solution=True, grade=False, locked=False))
    nb["cells"].extend(test_cells(with_ids=nb.get("nbformat_minor", 0) >= 5))
    (src / NOTEBOOK).write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    shutil.copy(iris, src / "iris.data")
    return root


def submit(root: Path, student: str, notebook: Path, iris: Path) -> Path:
    """Put a fixture into submitted/<student>/ps1/ as that course's student would hand it in."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    nb["cells"].extend(test_cells(with_ids=nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) >= 5))
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    shutil.copy(iris, folder / "iris.data")
    return folder


SCORES_SCRIPT = r"""
import json, sys
from nbgrader.api import Gradebook
out = {}
with Gradebook("sqlite:///" + sys.argv[1]) as gb:
    for student in gb.students:
        try:
            sub = gb.find_submission(sys.argv[2], student.id)
        except Exception:
            continue
        out[student.id] = [sub.score, sub.max_score]
print(json.dumps(out))
"""
