"""Written problems, hidden: the values, within the rubric's tolerance (4 significant digits)."""

from grader.testing import expect_global, parametrize, points, task


@task("q1")
@points(3)
def test_q1_value(student, reference):
    expect_global(student, reference, "q1_sigmoid_derivative")


@task("q3")
@points(3)
@parametrize("name", ["q3_w1", "q3_w2", "q3_b"])
def test_q3_values(student, reference, name):
    expect_global(student, reference, name)


@task("q4")
@points(3)
@parametrize("name", ["q4_h1", "q4_h2", "q4_o1", "q4_o2"])
def test_q4_values(student, reference, name):
    expect_global(student, reference, name)


@task("q5")
@points(3)
@parametrize("name", ["q5_J1", "q5_J2"])
def test_q5_values(student, reference, name):
    expect_global(student, reference, name)


@task("q6")
@points(3)
@parametrize("name", ["q6_w1_new", "q6_w2_new"])
def test_q6_values(student, reference, name):
    expect_global(student, reference, name)
