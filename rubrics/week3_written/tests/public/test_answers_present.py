"""Written problems, public: every answer is defined as a finite number; q2 by behaviour.

The values themselves are checked by hidden tests: public expected values ship to students.
"""

import math

import numpy as np

from grader.testing import fail, points, task


def _number(student, name):
    v = student.get(name)
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        fail(f"{name} must be a finite number, got {v!r}")
    return float(v)


def _all_numbers(student, *names):
    for name in names:
        _number(student, name)


@task("q1")
def test_q1_is_a_number(student):
    _all_numbers(student, "q1_sigmoid_derivative")


@task("q2")
@points(2)
def test_q2_separates_the_points(student):
    w1, w2, b = (_number(student, n) for n in ("q2_w1", "q2_w2", "q2_b"))
    for (x1, x2), want in [((2, 2), 1), ((3, 1), 1), ((0, 0), 0), ((1, 0), 0)]:
        got = 1 if w1 * x1 + w2 * x2 + b > 0 else 0
        if got != want:
            fail(f"step({w1:g}·{x1} + {w2:g}·{x2} + {b:g}) = {got}, but ({x1}, {x2}) must give {want}")


@task("q3")
def test_q3_are_numbers(student):
    _all_numbers(student, "q3_w1", "q3_w2", "q3_b")


@task("q4")
def test_q4_are_numbers(student):
    _all_numbers(student, "q4_h1", "q4_h2", "q4_o1", "q4_o2")


@task("q5")
def test_q5_are_numbers(student):
    _all_numbers(student, "q5_J1", "q5_J2")


@task("q6")
def test_q6_are_numbers(student):
    _all_numbers(student, "q6_w1_new", "q6_w2_new")
