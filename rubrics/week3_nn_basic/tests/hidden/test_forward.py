"""Part 3, hidden: random networks of the handout's form (3 inputs, 4 hidden, 2 outputs)."""

from grader.testing import expect, parametrize, points

TASK = "forward"


@points(6)
@parametrize("case", [1, 2, 3])
def test_random_network(student, reference, rng, case):
    for _ in range(case):  # a different network per case, all from this test's seeded rng
        net = {
            "W1": rng.normal(0, 1, (3, 4)), "B1": rng.normal(0, 1, 4),
            "W2": rng.normal(0, 1, (4, 2)), "B2": rng.normal(0, 1, 2),
        }
        x = rng.normal(0, 1, 3)
    expect(student, reference, "forward", net, x)
