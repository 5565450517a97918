"""The engine end to end on real kernels: scores, JSON shape, determinism, outputs kept."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader import api

pytestmark = pytest.mark.kernel

FIXTURES = Path(__file__).parent.parent / "fixtures" / "notebooks" / "week3"


@pytest.fixture(scope="module")
def rubric():
    return api.load_rubric(assignment="week3_nn_basic")


def test_correct_notebook_gets_full_marks_with_all_fields(rubric):
    r = api.grade_notebook(FIXTURES / "passes_all.ipynb", rubric, submission="kim/passes_all.ipynb")
    assert r["status"] == "graded" and r["reason"] == ""
    assert r["score"] == r["max_score"] == 100.0
    assert r["student"] == "kim"
    keys = ("schema", "submission", "student", "status", "reason", "score", "max_score", "tests", "tasks", "sha256")
    for key in keys:
        assert key in r
    hidden = [t for t in r["tests"] if t["visibility"] == "hidden"]
    assert hidden, "hidden tests ran"
    for t in r["tests"]:
        assert {"name", "task", "score", "max_score", "visibility", "status", "message", "diagnoses"} <= set(t)
        assert t["status"] == "passed"


def test_same_submission_same_json(rubric):
    path = FIXTURES / "backprop_first_revision.ipynb"
    a = api.result_json(api.without_timings(api.grade_notebook(path, rubric)))
    b = api.result_json(api.without_timings(api.grade_notebook(path, rubric)))
    assert a == b


def test_syntax_error_costs_only_that_cell(rubric):
    r = api.grade_notebook(FIXTURES / "syntax_error_one_cell.ipynb", rubric)
    assert r["status"] == "partial"
    assert any("SyntaxError" in c["error"] for c in r["cells"])
    lost = {t["task"] for t in r["tests"] if t["status"] != "passed"}
    assert lost == {"activations"}
    relu = [t for t in r["tests"] if "ReLU" in t["name"] or "relu" in t["name"]]
    assert relu and all(t["status"] != "passed" for t in relu)
    assert "ReLU" in " ".join(t["message"] for t in relu)


def test_error_inside_a_graded_call_is_reported_with_its_location(rubric):
    r = api.grade_notebook(FIXTURES / "raises_in_call.ipynb", rubric)
    t = next(t for t in r["tests"] if t["name"] == "test_sigmoid_prime_on_an_array")
    assert t["status"] == "error"
    assert "sigmoid_prime(...) raised ValueError" in t["message"]
    assert "notebook cell, line" in t["message"] and "/tmp/" not in t["message"]  # noqa: S108 - looked for in text


def test_known_mistake_is_named_with_partial_credit(rubric):
    r = api.grade_notebook(FIXTURES / "backprop_first_revision.ipynb", rubric)
    # the original handout's db = sum(da): named, and the whole backprop part halved
    db = next(t for t in r["tests"] if t["name"] == "test_backpropagation_db")
    assert 0 < db["score"] < db["max_score"]
    # Σ da is also what backpropagation without σ'(z) gives for db: both named, this one first
    assert [d["name"] for d in db["diagnoses"] if d["kind"] == "mistake"] == ["db_from_da",
                                                                             "backprop_missing_sigmoid_prime"]
    assert "sum(dz)" in db["diagnoses"][0]["hint"]
    backprop = next(t for t in r["tests"] and r["tasks"] if t["name"] == "backprop")
    assert backprop["score"] == backprop["max_score"] / 2
    training = next(t for t in r["tasks"] if t["name"] == "training")
    assert training["score"] == training["max_score"]  # its loop trains: not counted twice


def test_accepted_reading_is_named_and_gets_full_credit(rubric):
    r = api.grade_notebook(FIXTURES / "forward_relu_hidden.ipynb", rubric)
    fwd = [t for t in r["tests"] if t["task"] == "forward"]
    assert all(t["score"] == t["max_score"] for t in fwd)
    kinds = {(d["name"], d["kind"]) for t in fwd for d in t["diagnoses"]}
    assert ("forward_relu_hidden", "accepted") in kinds


def test_executed_notebook_is_kept_with_output_capped(rubric, tmp_path):
    out = tmp_path / "executed.ipynb"
    limits = rubric.limits.override({"max_output_kb": 8}, source="test")
    r = api.grade_notebook(FIXTURES / "prints_in_training_loop.ipynb", rubric, limits=limits, executed_out=out)
    assert r["score"] == 100.0
    nb = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "output beyond 8 KiB was not kept" in text
    assert out.stat().st_size < 200_000


def test_unreadable_notebook_is_invalid_not_a_crash(rubric, tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text('{"cells": [', encoding="utf-8")
    r = api.grade_notebook(bad, rubric)
    assert r["status"] == "invalid"
    assert "not valid JSON" in r["reason"]
    assert r["score"] == 0 and all(t["status"] == "error" for t in r["tests"])


def test_cell_timeout_interrupts_and_grading_goes_on(rubric, tmp_path):
    nb = nbformat.read(FIXTURES / "passes_all.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("while True:\n    pass"))
    path = tmp_path / "loops.ipynb"
    nbformat.write(nb, path)
    limits = rubric.limits.override({"cell_timeout": 2}, source="test")
    r = api.grade_notebook(path, rubric, limits=limits)
    assert r["status"] == "partial"
    assert any(c["status"] == "timeout" for c in r["cells"])
    assert r["score"] == 100.0


def test_tests_timeout_from_the_caller_is_honoured(rubric):
    limits = rubric.limits.override({"tests_timeout": 0.001}, source="test")
    r = api.grade_notebook(FIXTURES / "passes_all.ipynb", rubric, limits=limits)
    not_run = [t for t in r["tests"] if t["status"] == "timeout" and t["message"].startswith("not run")]
    assert not_run, "the tests' time budget given by the caller was ignored"
    assert r["status"] == "timeout"


def test_the_handouts_own_failures_are_reported_apart_and_named(rubric, tmp_path):
    # the training loop left as the handout gives it does not learn: named, training lost
    r = api.grade_notebook(FIXTURES / "training_left_as_given.ipynb", rubric)
    assert r["status"] == "graded" and r["reason"] == ""
    assert any("np.int" in n for n in r["notes"])  # the handout's demo cell, noted, not deducted
    tasks = {t["name"]: t["score"] for t in r["tasks"]}
    assert tasks["training"] == 0 and r["score"] == 88.0
    names = {d["name"] for t in r["tests"] if t["task"] == "training" for d in t["diagnoses"]}
    assert names == {"training_result_not_kept"}
    # and without a call that keeps dw anywhere, the handout's own cells fail (W += dw: NameError):
    # reported apart, the result stays `graded`
    nb = nbformat.read(FIXTURES / "training_left_as_given.ipynb", as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("\ndw, db = backpropagation(Y, A, Z)\n", "\n")
    path = tmp_path / "never_kept.ipynb"
    nbformat.write(nb, path)
    r = api.grade_notebook(path, rubric)
    assert r["status"] == "graded" and r["reason"] == "", r["reason"]
    assert r["cells"] and all(c["origin"] == "handout" for c in r["cells"])
    assert {c["slip"] for c in r["cells"]} == {"gradient_never_kept", "training_loop_as_given"}
    assert any("handout's own code" in n for n in r["notes"])


def test_functions_are_called_as_written_and_judged_where_defined(rubric):
    r = api.grade_notebook(FIXTURES / "backprop_x_first.ipynb", rubric)
    assert r["score"] == 100.0, [t["message"] for t in r["tests"] if t["status"] != "passed"]
    r = api.grade_notebook(FIXTURES / "list_activations_redefined_sigmoid.ipynb", rubric)
    assert r["score"] == 100.0, [t["message"] for t in r["tests"] if t["status"] != "passed"]
    fwd = next(t for t in r["tests"] if t["name"] == "test_forward_on_the_handouts_network")
    assert any("helpers of its own cell 11" in n for n in fwd["notes"]), fwd["notes"]
