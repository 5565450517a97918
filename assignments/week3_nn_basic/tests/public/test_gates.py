"""Part 1: the four gates on their truth tables, the only inputs the handout gives them.

A gate that is right there is also looked at just beside its inputs: a threshold that sits
exactly on the weighted sum of an input point (right only through > versus >=) and a gate
that answers True/False are named as notes, without deduction."""

from grader.testing import diagnose, expect, parametrize, points, probe, returns_bool

TASK = "gates"

ROWS = [(0, 0), (0, 1), (1, 0), (1, 1)]
NUDGE = 1e-9  # far below any threshold a gate should have, far above rounding


@points(12)  # 3 per gate
@parametrize("gate", ["AND", "NAND", "OR", "XOR"])
def test_truth_table(student, reference, gate):
    answers = [expect(student, reference, gate, x1, x2) for x1, x2 in ROWS]
    if any(returns_bool(a) for a in answers):
        diagnose("gate_returns_bool")
    nudged = [(x1 + d, x2 + d) for x1, x2 in ROWS for d in (-NUDGE, NUDGE)]
    probe(student, reference, gate, nudged, mistake="gate_threshold_on_input_point")
