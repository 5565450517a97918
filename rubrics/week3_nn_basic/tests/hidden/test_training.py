"""Part 4, hidden: the trained neuron solves OR, and the globals W, b, A agree with each other."""

import numpy as np

from grader.testing import fail, points

TASK = "training"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([0, 1, 1, 1])


def test_trained_neuron_classifies_or(student):
    A = np.asarray(student.get("A"), dtype=float).reshape(-1)
    if A.shape != (4,):
        fail(f"A has {A.size} values after training; the OR truth table has 4 rows")
    got = (A > 0.5).astype(int)
    if not np.array_equal(got, Y):
        fail(f"after 1,000 steps the neuron outputs {np.round(A, 3).tolist()}: rows {np.flatnonzero(got != Y).tolist()} are misclassified")


@points(0.5)
def test_final_W_and_b_classify_or(student):
    W = np.asarray(student.get("W"), dtype=float).reshape(-1)
    b = np.asarray(student.get("b"), dtype=float).reshape(-1)
    if W.shape != (2,) or b.shape != (1,):
        fail(f"W has shape {W.shape} and b {b.shape}; expected 2 weights and one bias")
    got = ((X @ W + b[0]) > 0).astype(int)
    if not np.array_equal(got, Y):
        fail(f"the final W = {np.round(W, 3).tolist()}, b = {b[0]:.3f} misclassify rows {np.flatnonzero(got != Y).tolist()} of OR")
