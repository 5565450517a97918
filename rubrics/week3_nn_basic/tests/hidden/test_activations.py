"""Part 2, hidden: the same kinds of input as the handout's cells, other values."""

import numpy as np

from grader.testing import diagnose, expect, parametrize, points, returns_bool

TASK = "activations"

# This part's 14 points are shared in 13 equal units: 3 + 2 + 2 + 1 + 1 + 2 here, 1 + 1 hidden.
UNIT = 14 / 13


@points(UNIT)
@parametrize("fn", ["step_function", "sigmoid", "ReLU"])
def test_random_arrays(student, reference, rng, fn):
    got = expect(student, reference, fn, np.round(rng.normal(0, 4, 25), 3) + 0.0005, definition="first")
    if fn == "step_function" and returns_bool(got):
        diagnose("step_function_returns_bool")


@points(UNIT)
def test_sigmoid_on_a_column(student, reference, rng):
    # part 4 applies sigmoid to Z, a (4, 1) column
    expect(student, reference, "sigmoid", rng.normal(0, 2, (4, 1)))
