"""A notebook making a known mistake is named, with its hint and credit, by the real rubric.

The notebook is the reference solution with one line changed, as a student would write it; its
code cells run in this process (as the reference's do), and the week-3 rubric's tests, public
and hidden, grade it against the reference and its variants, as ``grader grade`` does (the
``graded`` fixture, in conftest.py).
"""

from __future__ import annotations

from typing import Any

RIGHT = "    dw = np.dot(X.T, dz)\n"


def test_dw_averaged_is_named_with_its_hint_and_half_credit(graded: Any) -> None:
    tests, tasks = graded((RIGHT, "    dw = np.dot(X.T, dz) / len(X)\n"))
    dw = tests["test_backpropagation_dw"]
    assert [d["name"] for d in dw["diagnoses"]] == ["dw_averaged", "gradient_check"]
    gradient = dw["diagnoses"][1]  # dz and db right, dw a quarter of the finite differences
    assert [f"{b}: right" in gradient["detail_en"] for b in ("dz", "db")] == [True, True]
    assert "dw: exactly 0.25x the expected value. A quarter" in gradient["detail_en"]
    assert "len(X)로 나누면" in dw["diagnoses"][0]["hint"] and "four times smaller" in dw["diagnoses"][0]["hint_en"]
    assert "matches the known mistake dw_averaged (50% credit)" in dw["message"]
    assert (dw["score"], dw["max_score"]) == (1.92, 3.84)
    named = sorted(n for n, t in tests.items() if any(d["name"] == "dw_averaged" for d in t["diagnoses"]))
    assert named == ["hidden/test_another_problem[AND-dw]", "hidden/test_another_problem[XOR-dw]",
                     "hidden/test_dw_agrees_with_the_numerical_gradient",
                     "hidden/test_training_from_the_handouts_start",
                     "test_backpropagation_dw"]
    assert tests["test_backpropagation_dz"]["score"] == 2.88 and tests["test_backpropagation_db"]["score"] == 2.88
    # half of each named check: 24 - (3.84 + 2 * 0.64 + 1.92 + 3.84) / 2
    assert tasks == {"gates": 12.0, "activations": 14.0, "forward": 16.0, "backprop": 18.56, "training": 12.0,
                     "perceptron": 22.0}


def test_an_unknown_dw_mistake_is_not_named(graded: Any) -> None:
    """The variant names only its own mistake: dw / 3 matches nothing and scores 0 there."""
    tests, _tasks = graded((RIGHT, "    dw = np.dot(X.T, dz) / 3\n"))
    assert tests["test_backpropagation_dw"]["score"] == 0.0
    assert not any(d["name"] == "dw_averaged" for t in tests.values() for d in t["diagnoses"])
