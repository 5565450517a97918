"""Part 4: the globals W, b, A after the 1,000-step training loop."""

from grader.testing import expect_global, parametrize

TASK = "training"


@parametrize("name", ["W", "b", "A"])
def test_after_training(student, reference, name):
    expect_global(student, reference, name, rtol=1e-5, atol=1e-7)
