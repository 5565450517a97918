"""Written problem 1, hidden: the value(s), within the rubric's tolerance (4 significant digits)."""

from grader.testing import expect_global, points

TASK = "q1"


@points(7.5)
def test_q1_value(student, reference):
    expect_global(student, reference, "q1_sigmoid_derivative")
