"""The check cell in a real kernel, driven by nbclient as Jupyter drives it.

Colab cannot be reached from a test; what makes Colab different for the cell is simulated: the
kernel's Python sees the grader only as a student installs it (a wheel of this checkout with the
week-3 bundle inside, ``pip install --no-deps --target T``, on ``PYTHONPATH``), its working folder
is an empty temporary one (no notebook file, no rubrics/), and the cell has only IPython's input
history to go on.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from markupsafe import escape
from nbclient import NotebookClient

from grader import api
from grader.report.i18n import t
from grader.wheels import build_wheel

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "notebooks" / "week3" / "backprop_da_times_two.ipynb"
CHECK = "import grader; grader.check()"

BEFORE = ("_before = (set(dir()), len(Out), __import__('os').getcwd(), dict(__import__('os').environ),"
          " len(__import__('sys').modules['matplotlib.pyplot'].get_fignums())"
          " if 'matplotlib.pyplot' in __import__('sys').modules else 0)")
AFTER = ("print(repr((sorted(set(dir()) - _before[0] - {'_before'}), len(Out) - _before[1],"
         " __import__('os').getcwd() == _before[2], dict(__import__('os').environ) == _before[3],"
         " (len(__import__('sys').modules['matplotlib.pyplot'].get_fignums())"
         " if 'matplotlib.pyplot' in __import__('sys').modules else 0) - _before[4],"
         " __import__('sys').modules['grader'].__file__)))")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The student's install: the grader with its bundled assignment, in a folder of its own."""
    base = tmp_path_factory.mktemp("student")
    wheel = build_wheel(base / "dist", version="0.0.0+cell",
                        extra={"assignments/week3_nn_basic": ROOT / "assignments" / "week3_nn_basic"},
                        package_data=("assignments/*/*", "assignments/*/*/*", "assignments/*/*/*/*"))
    target = base / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target),
               str(wheel)]
    subprocess.run(command, check=True, timeout=600)  # noqa: S603 - this Python, fixed arguments
    assert (target / "grader" / "assignments" / "week3_nn_basic" / "expected.json").is_file()
    return target


def _student_cells() -> list[str]:
    nb = nbformat.read(FIXTURE, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _notebook(sources: list[str]) -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_the_check_cell_shows_the_table_and_leaves_no_state(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "colab"
    work.mkdir()
    nb = _notebook([*_student_cells(), BEFORE, CHECK, AFTER])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    env["PYTHONPATH"] = str(installed)
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(work)}}).execute(env=env)

    check = nb.cells[-2]
    assert [o.output_type for o in check.outputs] == ["display_data"], check.outputs  # no error, no Out[...]
    page = check.outputs[0].data["text/html"]
    plain = check.outputs[0].data["text/plain"]
    assert "<table>" in page and "<script" not in page.lower()
    assert "da_times_two" in page and "da_times_two" in plain  # the known mistake, by name
    assert "backpropagation" in page and t("case_expected", "ko") in page  # its failing calls
    assert str(escape(t("cell_official", "ko"))) in page and t("cell_official", "ko") in plain
    assert "Traceback" not in page

    after = nb.cells[-1]
    assert [o.output_type for o in after.outputs] == ["stream"], after.outputs
    new_names, new_outs, same_cwd, same_env, new_figures, grader_file = ast.literal_eval(after.outputs[0].text)
    # IPython itself records every input as _i, _ii, _iii, _iN: not the cell's doing
    assert [n for n in new_names if not re.fullmatch(r"_i+\d*", n)] == ["grader"]
    assert (new_outs, same_cwd, same_env, new_figures) == (0, True, True, 0)
    assert Path(grader_file).resolve().is_relative_to(installed.resolve())  # the student's install, not this checkout
    assert list(work.iterdir()) == []  # the temporary folder is gone, nothing written beside the notebook


def test_the_tas_grader_ignores_the_check_cell(tmp_path: Path) -> None:
    rubric = api.load_rubric(assignment="week3_nn_basic")
    plain, with_cell = tmp_path / "plain.ipynb", tmp_path / "with_cell.ipynb"
    cells = _student_cells()
    nbformat.write(_notebook(cells), plain)
    nbformat.write(_notebook([*cells, CHECK]), with_cell)
    without = api.grade_file(plain, rubric)
    graded = api.grade_file(with_cell, rubric)
    assert graded.score == without.score and graded.status == without.status
    assert graded.cells == without.cells and len(cells) not in [c.index for c in graded.cells]
