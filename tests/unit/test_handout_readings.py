"""How the grader reads a notebook the way a careful TA would, without a kernel.

The student's side runs the real kernel-side code (``kernel_side.perform`` with a ``History``)
on a plain dict standing in for the notebook's globals; cells are ``exec``'d into it with a
snapshot after each, as the kernel session does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import api, checking, testing
from grader.errors import RubricError, StudentError
from grader.namespaces import Namespace, ReferenceNamespace, ReferenceSet, _interpret_local
from grader.rubric import SlipSpec, VariantSpec, load
from grader.runner import run_one
from grader.sandbox import kernel_side
from grader.sandbox.offline import setup_code
from grader.scoring import TaskSpec, score_tests
from helpers import judged

ROOT = Path(__file__).resolve().parents[2]


class Notebook(Namespace):
    """A notebook's globals with the kernel's history of definitions, answered by kernel_side."""

    label = "your notebook"

    def __init__(self, *cells: str) -> None:
        self.ns: dict[str, Any] = {"np": np, "__name__": "__main__"}
        self.handles: dict[int, Any] = {}
        self.history = kernel_side.History()
        self.sources = list(cells)
        for i, cell in enumerate(cells):
            exec(compile(textwrap.dedent(cell), f"<cell {i}>", "exec"), self.ns)  # noqa: S102 - test code
            self.history.snapshot(self.ns, i)

    def _request(self, req: dict[str, Any], what: str) -> Any:
        reply = kernel_side.perform(req, self.ns, self.handles, np, history=self.history)
        return _interpret_local(reply, what)


REFERENCE = """
import numpy as np

def sigmoid(x):
    return 1 / (1 + np.exp(-x))

def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)

def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = X.T @ dz
    db = np.sum(dz)
    return dz, dw, db
"""

DB_FROM_DA = VariantSpec(name="db_from_da", kind="mistake", credit=0.5, functions=("backpropagation",), file="",
                         title="db = sum(da)", hint="db is sum(dz)", source="", scope="task")

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([[0], [1], [1], [1]])
Z = X @ np.array([[0.40316676], [-0.44345216]]) + 1
A = 1 / (1 + np.exp(-Z))


def reference(*variants: tuple[VariantSpec, str]) -> ReferenceSet:
    returns = {"backpropagation": {"args": ["Y", "A", "Z"], "by_arity": {3: ["dz", "dw", "db"], 2: ["dw", "db"]},
                                   "shapes": {}, "shape": None}}
    main = ReferenceNamespace([REFERENCE])
    return ReferenceSet(main, [(v, ReferenceNamespace([REFERENCE, src])) for v, src in variants], returns)


@pytest.fixture
def context():
    token = testing._ctx.set(testing._Context(shape="squeeze", task="backprop"))
    yield checking._current()
    testing._ctx.reset(token)


def test_x_as_a_parameter_is_passed_where_the_signature_asks(context):
    for cell in ("def backpropagation(X, Y, A, Z):", "def backpropagation(Y, A, Z, x):"):
        nb = Notebook(REFERENCE.replace("def backpropagation(Y, A, Z):", cell))
        got = testing.expect(nb, reference(), "backpropagation", Y, A, Z, with_globals={"X": X}, part="dw")
        np.testing.assert_allclose(np.ravel(got), [-0.08670498, -0.13983613], atol=1e-7)
        assert testing.argument_order(nb, reference(), "backpropagation", ("X",))[-1 if "x)" in cell else 0] in ("X",)


def test_a_function_is_judged_as_it_worked_where_it_was_defined(context):
    # a later cell (the handout's "redefine sigmoid") breaks the helper of an earlier function
    nb = Notebook(REFERENCE, "def sigmoid(net):\n    return net")
    assert np.all(nb.call("sigmoid_prime", np.zeros(3)) == 0)  # broken as called after the whole notebook
    got = testing.expect(nb, reference(), "sigmoid_prime", np.linspace(-2, 2, 5))
    np.testing.assert_allclose(got, [0.10499359, 0.19661193, 0.25, 0.19661193, 0.10499359])
    assert any("helpers of its own cell 0 (sigmoid was redefined later)" in n for n in context.notes)
    # part 2 judges its own (first) definition, not the redefinition
    nb2 = Notebook("def sigmoid(x):\n    return np.exp(x) / (1 + np.exp(x))",
                   "def sigmoid(net):\n    return 1 / (1 + np.exp(-net))")
    with pytest.raises(testing.Failed, match="nan"):
        judged(nb2, reference(), "sigmoid", np.array([500000.0]), definition="first")
    testing.expect(nb2, reference(), "sigmoid", np.array([500000.0]))


def test_flat_inputs_the_notebook_uses_are_tried(context):
    nb = Notebook(REFERENCE.replace("da = A - Y", "da = A - Y.flatten()"))
    got = testing.expect(nb, reference(), "backpropagation", Y, A, Z, with_globals={"X": X}, part="dw",
                         forms=[(Y, A.ravel(), Z.ravel())])
    np.testing.assert_allclose(np.ravel(got), [-0.08670498, -0.13983613], atol=1e-7)
    assert any("shaped the way the notebook itself passes them" in n for n in context.notes)
    with pytest.raises(testing.Failed):  # without the form it is a (2, 4) broadcast
        judged(nb, reference(), "backpropagation", Y, A, Z, with_globals={"X": X}, part="dw")


def test_a_dw_db_form_has_its_dz_check_judge_dw(context):
    nb = Notebook(REFERENCE.replace("return dz, dw, db", "return dw, db").replace("da = A - Y", "da = Y - A"))
    with pytest.raises(testing.Failed, match="dw"):
        judged(nb, reference(), "backpropagation", Y, A, Z, with_globals={"X": X}, part="dz", instead="dw")


def test_db_from_da_halves_the_whole_task_and_is_named(context):
    variant = (DB_FROM_DA, "def backpropagation(Y, A, Z):\n    da = A - Y\n    dz = da * sigmoid_prime(Z)\n"
                           "    return dz, X.T @ dz, np.sum(da)\n")
    nb = Notebook(REFERENCE.replace("db = np.sum(dz)", "db = np.sum(da)"))
    judged(nb, reference(variant), "backpropagation", Y, A, Z, with_globals={"X": X}, part="db")
    assert context.task_credit == 0.5 and [d["name"] for d in context.diagnoses] == ["db_from_da"]
    outcomes = [
        {"task": "backprop", "weight": 1.0, "fraction": 1.0, "task_credit": 0.5, "name": "db"},
        {"task": "backprop", "weight": 3.0, "fraction": 1.0, "name": "dw"},
        {"task": "training", "weight": 1.0, "fraction": 1.0, "name": "t"},
    ]
    tests, tasks = score_tests(outcomes, [TaskSpec("backprop", "", 24.0), TaskSpec("training", "", 12.0)])
    assert [t["score"] for t in tasks] == [12.0, 12.0]
    assert sum(t["score"] for t in tests if t["task"] == "backprop") == 12.0


def test_equal_values_in_equivalent_shapes_are_equal(context):
    pairs = [(np.ones((1, 2)), np.ones(2)), (np.ones((4, 1)), np.ones(4)), (np.float64(3.0), np.full((1, 1), 3.0))]
    for got, want in pairs:
        testing.close(got, want)
    with pytest.raises(testing.Failed, match="broadcast"):
        testing.close(np.ones((4, 4)), np.ones((4, 1)))


def test_descend_trains_with_the_notebooks_functions_in_one_request():
    nb = Notebook(REFERENCE)
    out = nb.descend("sigmoid", "backpropagation", X=X, Y=Y, W=np.array([[-0.79003947], [0.6826574]]), b=0.0,
                     steps=1000, order=["Y", "A", "Z"], dw=1, db=2)
    np.testing.assert_allclose(np.ravel(out["W"]), [6.17943355, 6.17961387], atol=1e-7)
    assert abs(out["b"] - -2.84359407) < 1e-7
    bad = Notebook(REFERENCE.replace("return dz, dw, db", "return dz, np.ones((2, 4)), db"))
    assert "bad" in bad.descend("sigmoid", "backpropagation", X=X, Y=Y, W=np.zeros((2, 1)), b=0.0, steps=3,
                                order=["Y", "A", "Z"], dw=1, db=2)


def test_graded_calls_print_nothing(capsys):
    nb = Notebook("def noisy(x):\n    print('dz :', x)\n    return x")
    assert nb.call("noisy", 3) == 3
    assert capsys.readouterr().out == ""


def test_handout_slips_are_recognised_by_error_and_cell():
    rb = load(ROOT / "rubrics" / "week3_nn_basic")
    slips = {s.name: s for s in rb.slips}
    loop = ("for i in range(1000):\n    Z = np.dot(X, W) + b\n    A = sigmoid(Z)\n"
            "    backpropagation(Y, A, Z)\n    W += dw\n")
    assert slips["training_loop_as_given"].matches("ValueError: shapes (4,2) and (4,) not aligned", loop)
    kept = loop.replace("    backpropagation", "    dw, db = backpropagation")
    assert not slips["training_loop_as_given"].matches("ValueError: x", kept)
    assert slips["gradient_never_kept"].matches("NameError: name 'dw' is not defined", "W += dw\nb += db")
    assert slips["read_csv_eader"].matches("TypeError: read_csv() got an unexpected keyword argument 'eader'", "")
    assert not SlipSpec("x", "^NameError", "W", "", "").matches("NameError: y", "b = 1")


def test_a_cell_failing_by_the_handouts_own_code_does_not_make_the_result_partial():
    rb = load(ROOT / "rubrics" / "week3_nn_basic")
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("W += dw\nb += db")])
    cell = SimpleNamespace(index=0, status="error", error="NameError: name 'dw' is not defined")
    failure = api._cell_failure(cell, rb, nb)
    assert failure.origin == "handout" and failure.slip == "gradient_never_kept"


def test_the_course_environment_np_int_and_eader(tmp_path):
    (tmp_path / "iris.data").write_text("5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,Iris-setosa\n")
    url = "https://archive.ics.uci.edu/ml/machine-learning-databases/iris/iris.data"
    code = setup_code({url: "iris.data"}, compat=True) + textwrap.dedent(f"""
        import json, sys
        import numpy as np, pandas as pd
        y = (np.array([-1, 1, 2]) > 0).astype(np.int)
        df = pd.read_csv({url!r}, eader=None)
        print(json.dumps([y.tolist(), len(df), sys.modules["_grader_compat"].used, np.float is float]))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [[0, 1, 1], 2, ["np.int", "read_csv(eader=)", "np.float"], True]


def test_a_missing_kernel_package_is_a_clear_error_before_grading(monkeypatch):
    rb = load(ROOT / "rubrics" / "week3_nn_basic")
    assert "sklearn" in rb.packages and rb.missing_packages() == []
    monkeypatch.setattr(rb, "packages", [*rb.packages, "no_such_module_for_grader"])
    with pytest.raises(RubricError, match="no_such_module_for_grader.*pip install"):
        api.require_packages(rb)


def test_a_student_error_in_every_attempt_is_the_first_error(context):
    nb = Notebook("def sigmoid_prime(z):\n    raise ValueError('debug')")
    with pytest.raises(StudentError, match="debug"):
        judged(nb, reference(), "sigmoid_prime", np.zeros(3))


def test_the_runner_reports_a_task_scoped_reading_as_failed_with_full_test_credit():
    rb = load(ROOT / "rubrics" / "week3_nn_basic")
    item = next(i for i in rb.items if i.name == "test_backpropagation_db")
    student = Notebook(
        "X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])",
        REFERENCE.replace("db = np.sum(dz)", "db = np.sum(da)"),
    )
    out = run_one(rb, item, student=student, reference=api.reference_for(rb))
    assert out["status"] == "failed" and out["fraction"] == 1.0 and out["task_credit"] == 0.5
    assert "half" in out["message"] or "50%" in out["message"]


def test_reports_show_the_handouts_own_failures_apart_and_the_notes():
    from io import StringIO

    from rich.console import Console

    from grader.report.html import render
    from grader.report.terminal import print_result

    result = {
        "submission": "kim/week3.ipynb", "student": "kim", "status": "graded", "reason": "", "score": 88.0,
        "max_score": 100.0, "assignment": "week3_nn_basic", "rubric_version": "x", "sandbox": "forkserver",
        "schema": 1, "sha256": "", "pass_mark": 60.0, "passed": True, "timings": {},  # a whole result
        "tasks": [{"name": "training", "title": "training", "score": 0.0, "max_score": 12.0}], "tests": [],
        "cells": [{"index": 23, "status": "error", "error": "NameError: name 'dw' is not defined", "origin": "handout",
                   "slip": "gradient_never_kept", "slip_title": "dw and db were never computed",
                   "hint": "Keep the result: dw, db = backpropagation(Y, A, Z)."}],
        "notes": ["np.int was used <b>", "cell 23 failed because of the handout's own code"],
    }
    html = render(result, lang="en")
    assert "This comes from the handout&#39;s own code, not yours: dw and db were never computed" in html
    run = html.split('id="run"', 1)[1]
    assert "np.int was used &lt;b&gt;" in run and "np.int was used <b>" not in html
    assert "Fix the cells that failed first" not in html  # the handout's failure is not the student's to fix
    out = StringIO()
    print_result(result, lang="en", console=Console(file=out, width=200))
    assert "Notes: np.int was used" in out.getvalue()
