"""Written problem 4, hidden: the value(s), within the rubric's tolerance (4 significant digits)."""

from grader.testing import expect_global, parametrize, points

TASK = "q4"


@points(15)  # 3.75 per value
@parametrize("name", ["q4_h1", "q4_h2", "q4_o1", "q4_o2"])
def test_q4_values(student, reference, name):
    expect_global(student, reference, name)
