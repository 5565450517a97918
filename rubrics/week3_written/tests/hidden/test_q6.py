"""Written problem 6, hidden: the value(s), within the rubric's tolerance (4 significant digits)."""

from grader.testing import expect_global, parametrize, points

TASK = "q6"


@points(18.75)  # 9.375 per value
@parametrize("name", ["q6_w1_new", "q6_w2_new"])
def test_q6_values(student, reference, name):
    expect_global(student, reference, name)
