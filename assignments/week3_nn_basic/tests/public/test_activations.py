"""Part 2: step_function, sigmoid and ReLU on scalars, lists and arrays."""

import numpy as np

from grader.testing import expect, parametrize, points

TASK = "activations"


@parametrize("x", [-2.0, 0.0, 3.5])
def test_step_function_scalar(student, reference, x):
    expect(student, reference, "step_function", x)


def test_step_function_array(student, reference):
    expect(student, reference, "step_function", np.array([-1.0, 0.0, 2.0]))


@parametrize("x", [0.0, 1.0, -3.0])
def test_sigmoid_scalar(student, reference, x):
    expect(student, reference, "sigmoid", x)


def test_sigmoid_array(student, reference):
    expect(student, reference, "sigmoid", np.array([-1.0, 1.0, 2.0]))


@points(2)
def test_sigmoid_extreme_inputs(student, reference):
    # sigmoid(500000) must be exactly 1.0 and sigmoid(-500000) 0.0, without nan
    expect(student, reference, "sigmoid", np.array([-500000.0, 500000.0]), atol=1e-12)


def test_relu_array(student, reference):
    expect(student, reference, "ReLU", np.array([-1.0, 0.0, 2.5]))
