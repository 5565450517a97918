"""Part 2: step_function, sigmoid and ReLU on what the handout's cells give them.

The handout prints step_function(-1), (0.5), (500000), plots it over np.linspace(-1, 1, 100);
prints sigmoid(np.array([-5, -1, 0, 0.1, 5, 500000])), plots it over np.linspace(-10, 10, 100)
and, redefined in part 4, over scalars one at a time; plots ReLU over np.arange(-3, 3, .1).
The functions of this part are judged as this part defined them (definition="first"): part 4
redefines sigmoid, and what it redefines is judged there. A step that answers True/False, a
step that is 1 at exactly 0, and a sigmoid that breaks on large negative inputs are named as
notes, without deduction: the handout never passes such inputs."""

import numpy as np

from grader.testing import diagnose, expect, points, probe, returns_bool

TASK = "activations"

# This part's 14 points are shared in 13 equal units: 3 + 2 + 2 + 1 + 1 + 2 here, 1 + 1 hidden.
UNIT = 14 / 13


@points(3 * UNIT)
def test_step_function_on_the_handouts_scalars(student, reference):
    answers = [expect(student, reference, "step_function", x, definition="first") for x in (-1, 0.5, 500000)]
    if any(returns_bool(a) for a in answers):
        diagnose("step_function_returns_bool")


@points(2 * UNIT)
def test_step_function_on_the_plotted_array(student, reference):
    if returns_bool(expect(student, reference, "step_function", np.linspace(-1, 1, 100), definition="first")):
        diagnose("step_function_returns_bool")
    probe(student, reference, "step_function", [(np.array([0.0]),)], mistake="step_function_at_zero",
          definition="first")


@points(2 * UNIT)
def test_sigmoid_on_the_handouts_array(student, reference):
    expect(student, reference, "sigmoid", np.array([-5, -1, 0, 0.1, 5, 500000]), definition="first")
    probe(student, reference, "sigmoid", [(np.array([-1000.0, -800.0]),)], mistake="sigmoid_overflow_large_negative",
          definition="first")


@points(UNIT)
def test_sigmoid_on_the_plotted_array(student, reference):
    expect(student, reference, "sigmoid", np.linspace(-10, 10, 100), definition="first")


@points(UNIT)
def test_sigmoid_on_scalars(student, reference):
    for x in (-10.0, -0.2, 0.0, 3.4):
        expect(student, reference, "sigmoid", x)


@points(2 * UNIT)
def test_relu_on_the_plotted_array(student, reference):
    expect(student, reference, "ReLU", np.arange(-3, 3, .1), definition="first")
