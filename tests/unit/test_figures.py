"""What the report plots (``grader.figures`` and the week-3 rubric's figures.py): the data each
figure holds, for the reference, for notebooks whose functions cannot be called, in a student
bundle (the reference's side replayed from expected.json), and the kernel's descend with losses."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import api, figures, rubric
from grader.errors import RubricError
from grader.namespaces import ReferenceNamespace, ReferenceSet

from conftest import ROOT, cells

FIXTURES = ROOT / "tests" / "fixtures" / "notebooks" / "week3"
GRID = np.linspace(-6, 6, 121)
COARSE = np.linspace(-6, 6, 49)


@pytest.fixture(scope="module")
def rb() -> rubric.Rubric:
    return rubric.load(ROOT / "rubrics" / "week3_nn_basic")


@pytest.fixture(scope="module")
def reference(rb: rubric.Rubric) -> ReferenceSet:
    return ReferenceSet(ReferenceNamespace(cells(), files=rb.files), [], rb.returns)


def by_name(found: list[Any]) -> dict[str, Any]:
    return {f.name: f for f in found}


def sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


def or_losses() -> np.ndarray:
    """The handout's 1,000 steps from its start, with NumPy: mean((A - Y)²) of each forward pass."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    Y = np.array([[0], [1], [1], [1]])
    W, b, out = np.array([[-0.79003947], [0.6826574]]), 0.0, []
    for _ in range(1000):
        Z = X @ W + b
        A = sigmoid(Z)
        out.append(float(np.mean((A - Y) ** 2)))
        dz = (A - Y) * A * (1 - A)
        W, b = W - X.T @ dz, b - float(np.sum(dz))
    return np.array(out)


def test_the_reference_as_the_student_gets_the_references_figures(rb: rubric.Rubric, reference: ReferenceSet) -> None:
    found = figures.collect(rb, ReferenceNamespace(cells(), files=rb.files), reference)
    assert [(f.name, f.kind, f.task) for f in found] == [
        ("step_function", "curve", "activations"), ("sigmoid", "curve", "activations"),
        ("relu", "curve", "activations"), ("sigmoid_prime", "curve", "backprop"),
        ("loss", "series", "training"), ("errors", "series", "perceptron"), ("regions", "regions", "perceptron"),
    ]
    f = by_name(found)
    assert all(not x.problem for x in found)
    want = {"step_function": (GRID > 0).astype(float), "sigmoid": sigmoid(GRID), "relu": np.maximum(GRID, 0),
            "sigmoid_prime": sigmoid(GRID) * (1 - sigmoid(GRID))}
    for name, values in want.items():
        data = f[name].data
        assert data["x"] == figures.rounded(GRID) and len(data["x"]) == 121
        assert data["reference"] == data["student"] == figures.rounded(values), name
    assert f["relu"].data["function"] == "ReLU"
    loss = f["loss"].data
    assert len(loss["x"]) <= 250 and loss["x"][0] == 1 and loss["x"][-1] == 1000 and loss["log"] is True
    np.testing.assert_allclose(loss["reference"], or_losses()[np.array(loss["x"]) - 1], rtol=1e-4)
    assert loss["student"] == loss["reference"]
    errors = f["errors"].data
    assert errors["x"] == list(range(1, 11)) and errors["student"] == errors["reference"]
    assert errors["reference"][-1] == 0 and errors["log"] is False
    regions = f["regions"].data
    assert regions["n"] == 50 and len(regions["grid"]) == 2500 and set(regions["grid"]) == {"+", "-"}
    assert regions["features"] == 2 and regions["refit"] is False
    assert len(regions["points"]) == len(regions["labels"]) == 100 and set(regions["labels"]) == {-1, 1}
    (x0, x1), (y0, y1) = regions["xlim"], regions["ylim"]
    for (px, py), label in zip(regions["points"], regions["labels"], strict=True):  # each point in its region
        col, row = round((px - x0) / (x1 - x0) * 49), round((py - y0) / (y1 - y0) * 49)
        assert regions["grid"][row * 50 + col] == ("+" if label == 1 else "-")
    assert len(json.dumps([x.to_dict() for x in found], separators=(",", ":"))) < 25_000


def test_a_sigmoid_that_raises_gets_a_problem_and_the_reference_alone(rb: rubric.Rubric,
                                                                       reference: ReferenceSet) -> None:
    student = ReferenceNamespace([*cells(), "def sigmoid(x):\n    raise TypeError('not today')\n"], files=rb.files)
    f = by_name(figures.collect(rb, student, reference))
    sig = f["sigmoid"]
    assert sig.problem == "sigmoid could not be called: TypeError: not today"
    assert "student" not in sig.data and sig.data["reference"] == figures.rounded(sigmoid(GRID))
    assert f["sigmoid_prime"].problem.startswith("sigmoid_prime could not be called: TypeError")
    assert f["loss"].problem and "student" not in f["loss"].data and len(f["loss"].data["reference"]) == 250
    assert not f["step_function"].problem and not f["errors"].problem


def test_a_step_function_for_scalars_only_gets_a_coarser_curve(rb: rubric.Rubric, reference: ReferenceSet) -> None:
    student = ReferenceNamespace([*cells(), "def step_function(x):\n    return 1 if x > 0 else 0\n"], files=rb.files)
    step = by_name(figures.collect(rb, student, reference))["step_function"]
    assert not step.problem
    assert step.data["x"] == figures.rounded(COARSE)
    assert step.data["student"] == step.data["reference"] == figures.rounded(COARSE > 0)


def test_wrong_sized_answers_and_missing_names_are_problems(rb: rubric.Rubric, reference: ReferenceSet) -> None:
    student = ReferenceNamespace([*cells(), "def ReLU(x):\n    return 0.0\n", "del sigmoid_prime\n",
                                  "X = np.column_stack([X, X[:, 0] + X[:, 1]])\n"], files=rb.files)
    f = by_name(figures.collect(rb, student, reference))
    assert f["relu"].problem == "ReLU gave 1 value where 121 were due" and "student" not in f["relu"].data
    assert f["sigmoid_prime"].problem == "sigmoid_prime is not defined in the notebook"
    regions = f["regions"].data
    assert regions["features"] == 3 and regions["refit"] is True and len(regions["grid"]) == 2500


def test_a_broken_figure_module_gives_no_figures_and_is_logged(tmp_path: Path, reference: ReferenceSet,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "rubrics" / "week3_nn_basic"
    shutil.copytree(ROOT / "rubrics" / "week3_nn_basic", folder)
    (folder / "figures.py").write_text("def figures(student, reference):\n    return [1 / 0]\n", encoding="utf-8")
    broken = rubric.load(folder)
    with caplog.at_level(logging.ERROR, logger="grader.figures"):
        assert figures.collect(broken, ReferenceNamespace(cells(), files=broken.files), reference) == []
    assert "ZeroDivisionError" in caplog.text
    with pytest.raises(ZeroDivisionError):
        figures.made(broken, ReferenceNamespace(cells(), files=broken.files), reference)


def test_report_figures_in_rubric_toml(tmp_path: Path) -> None:
    folder = tmp_path / "week3_nn_basic"
    shutil.copytree(ROOT / "rubrics" / "week3_nn_basic", folder)
    assert rubric.load(folder).figures_path == folder.resolve() / "figures.py"
    toml = (folder / "rubric.toml").read_text(encoding="utf-8")
    (folder / "rubric.toml").write_text(toml.replace('figures = "figures.py"', 'figures = "nowhere.py"'),
                                        encoding="utf-8")
    with pytest.raises(RubricError, match="nowhere.py"):
        rubric.load(folder)
    (folder / "rubric.toml").write_text(toml.replace('[report]\nfigures = "figures.py"', ""), encoding="utf-8")
    plain = rubric.load(folder)
    assert plain.figures_path is None
    assert figures.collect(plain, None, None) == []


def test_the_student_bundle_replays_the_figures_reference_side(rb: rubric.Rubric, reference: ReferenceSet) -> None:
    public = api.load_rubric(rubric=ROOT / "assignments" / "week3_nn_basic", public=True)
    assert public.figures_path is not None and public.figures_path.parent == ROOT / "assignments" / "week3_nn_basic"
    recorded = api.reference_for(public)
    student = [*cells(), "def step_function(x):\n    return 1 if x > 0 else 0\n"]
    ta = figures.made(rb, ReferenceNamespace(student, files=rb.files), reference)
    mine = figures.made(public, ReferenceNamespace(student, files=rb.files), recorded)  # raises on a missing reply
    assert [f.to_dict() for f in mine] == [f.to_dict() for f in ta]


def test_descend_with_losses_matches_a_numpy_loop(rb: rubric.Rubric) -> None:
    ns = ReferenceNamespace(cells(), files=rb.files)
    X, Y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), np.array([[0], [1], [1], [1]])
    kw: dict[str, Any] = {"X": X, "Y": Y, "W": np.array([[-0.79003947], [0.6826574]]), "b": 0.0, "steps": 1000,
                          "order": ["Y", "A", "Z"], "dw": 1, "db": 2}
    plain = ns.descend("sigmoid", "backpropagation", **kw)
    with_losses = ns.descend("sigmoid", "backpropagation", losses=True, **kw)
    assert "losses" not in plain
    np.testing.assert_allclose(with_losses["losses"], or_losses(), rtol=1e-9)
    for key in ("W", "b", "A"):
        np.testing.assert_array_equal(with_losses[key], plain[key])


def test_rounded_and_thin() -> None:
    assert figures.rounded([0.123456789, 123456.7, -2.0, float("nan"), float("inf"), 1e-9]) == [
        0.12346, 123460, -2, None, None, 1e-9]
    assert figures.thin(5) == [0, 1, 2, 3, 4]
    kept = figures.thin(1000)
    assert len(kept) == 250 and kept[0] == 0 and kept[-1] == 999


@pytest.mark.kernel
def test_in_a_real_kernel(rb: rubric.Rubric, reference: ReferenceSet) -> None:
    """The kernel's side: descend with losses as shipped, a scalar-only step_function called a
    number at a time, a sigmoid_prime that raises, under the figures' budget."""
    from grader import notebook as nbio
    from grader.namespaces import StudentNamespace
    from grader.sandbox.offline import setup_code
    from grader.sandbox.pool import start_session

    got = {}
    for name in ("step_function_scalar_only", "raises_in_call"):
        nb = nbio.load(FIXTURES / f"{name}.ipynb", name=name)
        with start_session(None, limits=rb.limits, files=rb.files, setup_code=setup_code(rb.serve_urls, rb.compat)) \
                as ks:
            ks.run_notebook(nb)
            student = StudentNamespace(ks, [str(c.source) for c in nb.cells if c.cell_type == "code"])
            got[name] = by_name(figures.collect(rb, student, reference))
            assert student.deadline is None
    step = got["step_function_scalar_only"]["step_function"]
    assert not step.problem and step.data["x"] == figures.rounded(COARSE)
    assert step.data["student"] == step.data["reference"]
    loss = got["step_function_scalar_only"]["loss"].data
    np.testing.assert_allclose(loss["student"], or_losses()[np.array(loss["x"]) - 1], rtol=1e-4)
    broken = got["raises_in_call"]["sigmoid_prime"]
    assert broken.problem.startswith("sigmoid_prime could not be called: ValueError") and "student" not in broken.data
