"""Part 1: the logic gates on their truth tables."""

from grader.testing import expect, parametrize, points

TASK = "gates"


@points(3)
@parametrize("gate", ["AND", "NAND", "OR", "XOR"])
@parametrize("x1, x2", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_truth_table(student, reference, gate, x1, x2):
    expect(student, reference, gate, x1, x2)
