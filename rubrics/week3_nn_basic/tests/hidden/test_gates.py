"""Part 1, hidden: gates return 0/1 integers, also for float and NumPy inputs."""

import numpy as np

from grader.testing import expect, fail, parametrize, points

TASK = "gates"


@points(1)
@parametrize("gate", ["AND", "NAND", "OR", "XOR"])
def test_returns_zero_or_one(student, gate):
    for x1, x2 in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        got = student.call(gate, x1, x2)
        value = got.item() if isinstance(got, np.ndarray) and got.size == 1 else got
        if isinstance(value, float) or value not in (0, 1):
            fail(f"{gate}({x1}, {x2}) returned {value!r}; a gate returns the integer 0 or 1")


@points(1)
@parametrize("gate", ["AND", "NAND", "OR", "XOR"])
def test_float_inputs(student, reference, gate):
    for x1, x2 in [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]:
        expect(student, reference, gate, x1, x2)
