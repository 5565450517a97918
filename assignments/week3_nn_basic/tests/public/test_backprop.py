"""Part 4: sigmoid_prime and backpropagation(Y, A, Z), which reads the global X."""

import numpy as np

from grader.testing import close, expect, points

TASK = "backprop"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y = np.array([[0], [1], [1], [1]])
W = np.array([[0.40316676], [-0.44345216]])
B = 1


def _given():
    Z = X @ W + B
    return Z, 1 / (1 + np.exp(-Z))


def test_sigmoid_prime(student, reference):
    z = np.linspace(-5, 5, 11)
    got = expect(student, reference, "sigmoid_prime", z)
    s = 1 / (1 + np.exp(-z))
    close(got, s * (1 - s), what="against σ(z)(1 − σ(z))")


@points(2)
def test_backpropagation_dw(student, reference):
    Z, A = _given()
    expect(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X}, part="dw")


def test_backpropagation_db(student, reference):
    Z, A = _given()
    expect(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X}, part="db")


def test_backpropagation_dz(student, reference):
    Z, A = _given()
    expect(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X}, part="dz")
