"""Written problem 3, hidden: the value(s), within the rubric's tolerance (4 significant digits)."""

from grader.testing import expect_global, parametrize, points

TASK = "q3"


@points(11.25)  # 3.75 per value
@parametrize("name", ["q3_w1", "q3_w2", "q3_b"])
def test_q3_values(student, reference, name):
    expect_global(student, reference, name)
