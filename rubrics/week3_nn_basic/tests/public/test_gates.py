"""Part 1: the four gates on their truth tables, the only inputs the handout gives them."""

from grader.testing import expect, parametrize, points

TASK = "gates"

ROWS = [(0, 0), (0, 1), (1, 0), (1, 1)]


@points(12)  # 3 per gate
@parametrize("gate", ["AND", "NAND", "OR", "XOR"])
def test_truth_table(student, reference, gate):
    for x1, x2 in ROWS:
        expect(student, reference, gate, x1, x2)
