"""Diagnoses: the known-mistakes library, whole-test matching, error forms, notes, broadcasts,
gradient localisation, and what a hidden test may show.

Graded the way ``test_known_mistakes`` grades: the reference solution with one piece changed
as a student would write it, its cells run in this process, the real week-3 rubric's tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader import rubric
from grader.checks.broadcast import walk
from grader.checks.gradient import clean_factor, localise
from grader.errors import RubricError
from grader.mistakes import load_mistakes, parse_mistakes
from grader.report import exports, html
from grader.result import Diagnosis, TestResult

ROOT = Path(__file__).resolve().parents[2]
WEEK3 = ROOT / "rubrics" / "week3_nn_basic"
TASKS = {"gates", "activations", "forward", "backprop", "training", "perceptron"}
XOR = "    return AND(NAND(x1, x2), OR(x1, x2))"
BACKPROP_DZ = "    dz = da * sigmoid_prime(Z)\n"


def names(test: dict[str, Any], *kinds: str) -> list[str]:
    return [d["name"] for d in test["diagnoses"] if not kinds or d["kind"] in kinds]


# -- the library --------------------------------------------------------------------------------


def test_the_week3_library_has_every_mistake_in_both_languages() -> None:
    found = load_mistakes(WEEK3, TASKS)
    assert len(found) >= 25
    for m in found:
        assert set(m.titles) == {"ko", "en"} and set(m.hints) == {"ko", "en"}, m.name
    by = {m.name: m for m in found}
    for name in ("step_function_scalar_only", "sigmoid_prime_forgot_derivative", "sigmoid_prime_on_preactivation",
                 "forward_no_bias", "forward_elementwise_product", "forward_weights_swapped", "db_from_da",
                 "da_times_two", "backprop_missing_sigmoid_prime", "da_sign_flipped", "dw_x_not_transposed",
                 "dw_averaged", "weights_kept_list_broadcast", "training_gradient_ascent",
                 "training_result_not_kept", "net_input_without_bias", "net_input_bias_twice",
                 "predict_returns_0_1", "xor_wrong_gates", "sigmoid_overflow_large_negative",
                 "gate_threshold_on_input_point", "step_function_returns_bool"):
        assert name in by, name
    assert by["dw_x_not_transposed"].matches_error(
        "backpropagation", "ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
        "signature (n?,k),(k,m?)->(n?,m?) (size 4 is different from 2)")
    assert not by["dw_x_not_transposed"].matches_error("forward", "ValueError: matmul: Input operand 1 has a mismatch")
    assert by["sigmoid_overflow_large_negative"].note and by["sigmoid_overflow_large_negative"].credit_in("x") == 0


@pytest.mark.parametrize(("entry", "message"), [
    ({"name": "a", "task": "gates", "title": "t", "hint": "h", "colour": 1}, "unknown key"),
    ({"name": "a", "task": "nowhere", "title": "t", "hint": "h"}, "not a task"),
    ({"name": "a", "task": "gates", "title": "t", "hint": "h", "variant": "v.py",
      "error": {"function": "f", "text": "x"}}, "not both"),
    ({"name": "a", "task": "gates", "title": "t", "hint": "h", "error": {"function": "f", "text": "("}},
     "not a regular expression"),
    ({"name": "a", "task": "gates", "title": "t", "hint": "h", "credit": 0.5}, "go with a variant"),
    ({"name": "a", "task": "gates", "title": "t", "hint": "h", "note": True, "variant": "v.py", "credit": 0.5},
     "never deducted"),
    ({"name": "A b", "task": "gates", "title": "t", "hint": "h"}, "snake_case"),
    ({"name": "a", "task": "gates", "title": {"fr": "t"}, "hint": "h"}, "unknown language"),
])
def test_a_malformed_entry_is_refused_with_what_to_fix(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(RubricError, match=message):
        parse_mistakes([entry], Path("mistakes.toml"), TASKS)


def test_duplicate_names_are_refused() -> None:
    entry = {"name": "a", "task": "gates", "title": "t", "hint": "h"}
    with pytest.raises(RubricError, match="duplicate mistake name"):
        parse_mistakes([entry, entry], Path("mistakes.toml"), TASKS)


def test_mistakes_matched_by_value_are_variants_with_their_words() -> None:
    rb = rubric.load(WEEK3)
    v = next(v for v in rb.variants if v.name == "db_from_da")
    assert (v.kind, v.credit, v.scope) == ("mistake", 0.5, "task") and v.mistake is not None
    d = v.diagnosis()
    assert d["hint"].startswith("db는") and d["hint_en"].startswith("db is") and d["title_en"]


# -- whole-test matching ------------------------------------------------------------------------


def test_a_mistake_is_named_only_when_it_agrees_on_every_case(graded: Any) -> None:
    # XNOR: row by row it agrees with xor_wrong_gates on (0, 0) and (1, 1), and with the OR on the
    # threshold on (0, 1) and (1, 0); over the whole truth table only xor_gives_xnor explains it
    tests, _ = graded((XOR, "    return NAND(NAND(x1, x2), OR(x1, x2))"))
    assert names(tests["test_truth_table[XOR]"]) == ["xor_gives_xnor"]
    assert "matches the known mistake" in tests["test_truth_table[XOR]"]["message"]
    tests, _ = graded((XOR, "    return OR(NAND(x1, x2), AND(x1, x2))"))
    assert names(tests["test_truth_table[XOR]"]) == ["xor_wrong_gates"]


def test_an_answer_no_mistake_explains_is_not_named(graded: Any) -> None:
    tests, _ = graded((XOR, "    return 1 if x1 == 1 else 0"))  # 0, 0, 1, 1: no mutant gives that
    xor = tests["test_truth_table[XOR]"]
    assert xor["status"] == "failed" and names(xor) == [] and "known mistake" not in xor["message"]


def test_colliding_mistakes_are_both_named_the_most_specific_first(graded: Any) -> None:
    # σ'(A) in backpropagation gives exactly what a sigmoid_prime applying σ twice gives there:
    # the one that replaces the function called is named first
    tests, _ = graded((BACKPROP_DZ, "    dz = da * sigmoid_prime(A)\n"))
    assert names(tests["test_backpropagation_dz"], "mistake") == ["dz_sigmoid_prime_of_a",
                                                                   "sigmoid_prime_applied_twice"]
    assert tests["test_sigmoid_prime_on_an_array"]["status"] == "passed"  # its own sigmoid_prime is right
    # without σ'(Z), db = Σ(A − Y) is also the original handout's db = Σ da: both, db_from_da first
    tests, _ = graded((BACKPROP_DZ, "    dz = da\n"))
    assert names(tests["test_backpropagation_db"], "mistake") == ["db_from_da", "backprop_missing_sigmoid_prime"]
    assert names(tests["test_backpropagation_dz"], "mistake") == ["backprop_missing_sigmoid_prime"]


def test_a_reading_that_explains_only_some_cases_is_not_claimed(graded: Any) -> None:
    # no hidden activation: at x it equals the accepted ReLU reading, at −x it does not
    tests, _ = graded(("    z1 = sigmoid(a1)\n", "    z1 = a1\n"))
    forward = tests["test_forward_on_the_handouts_network"]
    assert forward["status"] == "failed"
    assert names(forward) == ["forward_no_hidden_activation"]  # not "accepted: forward_relu_hidden"


def test_a_right_answer_is_never_diagnosed(graded: Any) -> None:
    tests, tasks = graded((RIGHT_DW, RIGHT_DW))
    assert sum(tasks.values()) == pytest.approx(100.0)
    assert [(n, names(t)) for n, t in tests.items() if names(t)] == []


RIGHT_DW = "    dw = np.dot(X.T, dz)\n"


# -- error forms, notes, the gradient -----------------------------------------------------------


def test_an_error_of_a_known_form_is_named() -> None:
    from grader import checking, matching
    from grader.errors import StudentError

    ctx = checking._Context(mistakes=rubric.load(WEEK3).mistakes)
    token = checking._ctx.set(ctx)
    try:
        text = ("matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature "
                "(n?,k),(k,m?)->(n?,m?) (size 4 is different from 2)")
        matching.name_error(StudentError("backpropagation(...)", "ValueError", text, ["in backpropagation: X @ dz"]))
        # raised inside the student's net_input while their fit ran: named after the function it came from
        matching.name_error(StudentError("Perceptron.fit(...)", "ValueError",
                                         "shapes (2,) and (3,) not aligned: 2 (dim 0) != 3 (dim 0)",
                                         ["notebook cell, line 34, in net_input: return np.dot(X, self.weight)"]))
        # the same words from a function the form is not about: not named
        matching.name_error(StudentError("forward(...)", "ValueError", text, []))
    finally:
        checking._ctx.reset(token)
    assert [d["name"] for d in ctx.diagnoses] == ["dw_x_not_transposed", "net_input_all_weights"]
    assert ctx.diagnoses[0]["hint_en"] and ctx.diagnoses[0]["title"]


def test_a_note_is_shown_with_full_marks(graded: Any) -> None:
    tests, tasks = graded(("    w1, w2, theta = 0.5, 0.5, 0.7\n    total = x1 * w1 + x2 * w2\n"
                           "    return 1 if total > theta else 0\n",
                           "    w1, w2, theta = 0.5, 0.5, 1.0\n    total = x1 * w1 + x2 * w2\n"
                           "    return 1 if total >= theta else 0\n"))
    assert tasks["gates"] == 12.0
    test = tests["test_truth_table[AND]"]
    assert test["status"] == "passed" and test["diagnoses"][0]["kind"] == "note"
    assert names(test) == ["gate_threshold_on_input_point"]


def test_the_gradient_is_localised_by_block_and_factor(graded: Any) -> None:
    tests, _ = graded(("    da = A - Y\n", "    da = 2 * (A - Y)\n"))
    dw = tests["test_backpropagation_dw"]
    assert names(dw) == ["da_times_two", "gradient_check"]
    gradient = dw["diagnoses"][1]
    assert gradient["kind"] == "gradient"
    assert "Your forward pass agrees with the reference's" in gradient["detail_en"]
    assert "dz, dw, db: exactly 2x the expected value. The ½ in the loss" in gradient["detail_en"]
    assert "Start with dz" in gradient["detail_en"]
    assert [row[0] for row in gradient["table"]] == ["dz", "dw", "db"]
    assert all(row[4] == "exactly 2x" for row in gradient["table"])


@pytest.mark.parametrize(("factor", "words"), [(2.0, "The ½ in the loss"), (-1.0, "The sign is flipped"),
                                               (0.25, "A quarter")])
def test_clean_factors_are_told_apart(factor: float, words: str) -> None:
    numeric = {"dz": np.array([0.1, -0.2, 0.3, -0.05]), "dw": np.array([0.4, -0.1]), "db": np.array([0.15])}
    analytic = {k: v * factor for k, v in numeric.items()}
    d = localise(analytic, numeric, forward_agrees=True, source="dz")
    assert f"exactly {factor:g}x the expected value. {words}" in d["detail_en"]
    assert clean_factor(numeric["dz"] + [0, 0.01, 0, 0], numeric["dz"]) is None
    assert clean_factor(numeric["dz"], numeric["dz"]) is None  # right is not "1x"
    # one number is some factor of any other: only a telling factor is said for a one-number block
    odd = localise({**numeric, "db": numeric["db"] * 3.9859}, numeric, forward_agrees=True)
    assert "db: off" in odd["detail_en"] and "3.9859" not in odd["detail_en"]


# -- broadcasts ---------------------------------------------------------------------------------


def test_a_broadcast_is_walked_through() -> None:
    text = walk("backpropagation → dz", (4, 4), (4, 1), {"Y": (4, 1), "A": (4,), "Z": (4,)})
    assert text is not None and "A (4,) and Y (4, 1) broadcast to (4, 4)" in text["en"]
    text = walk("backpropagation → dw", (2, 4), (2, 1), {"Y": (4, 1), "A": (4,), "X": (4, 2)})
    assert text is not None and "The extra axis of 4 comes from a (4, 4) table" in text["en"]
    assert "브로드캐스트" in text["ko"]
    # equal by the rubric, or simply smaller: nothing to walk through
    assert walk("f", (2,), (2, 1), {"A": (4,), "Y": (4, 1)}) is None
    assert walk("f", (4,), (4, 4), {"A": (4,), "Y": (4, 1)}) is None


# -- hidden tests stay hidden -------------------------------------------------------------------


def _hidden_result() -> dict[str, Any]:
    values = "db: expected -0.3127, got -0.6254 on Y = [[0], [1], [1], [1]]"
    test = {"name": "hidden/test_another_problem[AND-db]", "task": "backprop", "visibility": "hidden",
            "status": "failed", "score": 0.0, "max_score": 1.0, "message": values, "notes": [], "details": {},
            "diagnoses": [{"name": "da_times_two", "kind": "mistake", "hint": "손실의 미분은 A − Y 입니다",
                           "hint_en": "The derivative of the loss is A − Y", "title": "da = 2(A − Y)",
                           "detail": values, "detail_en": values, "table": [["db", "-0.6254", "-0.3127"]]}]}
    return {"schema": 1, "assignment": "week3_nn_basic", "rubric_version": "1", "submission": "kim/week3.ipynb",
            "student": "kim", "sha256": "", "status": "graded", "reason": "", "score": 0.0, "max_score": 1.0,
            "pass_mark": 60.0, "passed": False, "tasks": [{"name": "backprop", "title": "4", "score": 0.0,
                                                            "max_score": 1.0}],
            "tests": [test], "notes": [], "cells": [], "timings": {}, "sandbox": "none"}


def test_a_hidden_test_shows_the_mistake_but_never_its_values() -> None:
    result = _hidden_result()
    for lang, hint in (("ko", "손실의 미분은 A − Y 입니다"), ("en", "The derivative of the loss is A − Y")):
        page = html.render(result, lang=lang)
        assert "da_times_two" in page and hint in page
        assert "-0.6254" not in page and "-0.3127" not in page
    out = exports.gradescope_result(result)["tests"][0]["output"]
    assert "da_times_two" in out and "-0.6254" not in out


def test_a_diagnosis_round_trips_and_strips_its_findings() -> None:
    d = Diagnosis.from_dict(_hidden_result()["tests"][0]["diagnoses"][0])
    assert Diagnosis.from_dict(d.to_dict()) == d
    bare = d.without_findings()
    assert (bare.detail, bare.detail_en, bare.table) == ("", "", ()) and bare.hint == d.hint
    assert d.text("hint", "en") == "The derivative of the loss is A − Y" and d.text("hint", "ko").startswith("손실")
    assert TestResult.from_dict(dict(_hidden_result()["tests"][0])).diagnoses[0].name == "da_times_two"
