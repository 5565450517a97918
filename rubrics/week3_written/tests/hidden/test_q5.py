"""Written problem 5, hidden: the value(s), within the rubric's tolerance (4 significant digits)."""

from grader.testing import expect_global, parametrize, points

TASK = "q5"


@points(11.25)  # 5.625 per value
@parametrize("name", ["q5_J1", "q5_J2"])
def test_q5_values(student, reference, name):
    expect_global(student, reference, name)
