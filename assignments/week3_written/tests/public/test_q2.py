"""Written problem 2, public: w1, w2, b are numbers, and step(w1·x1 + w2·x2 + b) separates the points."""

from grader.testing import fail, number, points

TASK = "q2"


@points(15)
def test_q2_separates_the_points(student):
    w1, w2, b = (number(student, n) for n in ("q2_w1", "q2_w2", "q2_b"))
    for (x1, x2), want in [((2, 2), 1), ((3, 1), 1), ((0, 0), 0), ((1, 0), 0)]:
        got = 1 if w1 * x1 + w2 * x2 + b > 0 else 0
        if got != want:
            fail(f"step({w1:g}·{x1} + {w2:g}·{x2} + {b:g}) = {got}, but ({x1}, {x2}) must give {want}")
