"""Part 2, hidden: seeded random arrays of several shapes, lists, ints, extremes."""

import numpy as np

from grader.testing import expect, parametrize, points

TASK = "activations"

SHAPES = [(7,), (3, 4), (2, 3, 2)]


@parametrize("fn", ["step_function", "sigmoid", "ReLU"])
@parametrize("shape", SHAPES, ids=["1d", "2d", "3d"])
def test_random_arrays(student, reference, rng, fn, shape):
    x = rng.normal(0, 3, size=shape)
    expect(student, reference, fn, x)


@parametrize("fn", ["step_function", "sigmoid", "ReLU"])
def test_python_list(student, reference, fn):
    expect(student, reference, fn, [-2.0, -0.5, 0.5, 2.0])


@parametrize("fn", ["step_function", "ReLU"])
def test_integer_array(student, reference, fn):
    expect(student, reference, fn, np.array([-3, 0, 4]))


@points(2)
def test_sigmoid_extremes_everywhere(student, reference):
    x = np.array([[-1e6, -745.0, -40.0], [40.0, 710.0, 1e6]])
    expect(student, reference, "sigmoid", x, atol=1e-12)
