"""Part 4, hidden: random problems, and dw against finite differences of the student's loss."""

import numpy as np

from grader.checks.gradient import numeric_gradient, relative_error
from grader.testing import expect, fail, parametrize, points

TASK = "backprop"


def _problem(rng, n, d):
    X = rng.normal(0, 1, (n, d))
    Y = (rng.random((n, 1)) > 0.5).astype(float)
    W = rng.normal(0, 1, (d, 1))
    b = float(rng.normal())
    return X, Y, W, b


@parametrize("n, d", [(6, 2), (8, 3)])
def test_random_problem(student, reference, rng, n, d):
    X, Y, W, b = _problem(rng, n, d)
    Z = X @ W + b
    A = 1 / (1 + np.exp(-Z))
    expect(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X}, part="dw")
    expect(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X}, part="db")


@points(2)
def test_dw_matches_numerical_gradient(student, rng):
    """dw against centred differences of ½Σ(A−Y)², A computed with the student's own sigmoid."""
    X, Y, W, b = _problem(rng, 6, 3)

    def loss(w):
        A = np.asarray(student.call("sigmoid", X @ w + b), dtype=float)
        return 0.5 * float(np.sum((A.reshape(Y.shape) - Y) ** 2))

    Z = X @ W + b
    A = np.asarray(student.call("sigmoid", Z), dtype=float).reshape(Y.shape)
    out = student.call("backpropagation", Y, A, Z, with_globals={"X": X})
    if not isinstance(out, (tuple, list)) or len(out) not in (2, 3):
        fail("backpropagation must return (dz, dw, db) or (dw, db)")
    dw = np.asarray(out[-2], dtype=float)
    num = numeric_gradient(loss, W)
    if dw.size != num.size:
        fail(f"dw has {dw.size} elements; the weights have {num.size}")
    err = relative_error(dw.reshape(num.shape), num)
    if err > 1e-5:
        fail(f"dw disagrees with the numerical gradient of ½Σ(A−Y)² (relative error {err:.2g}, should be < 1e-5)")


@parametrize("shape", [(5,), (3, 4)], ids=["1d", "2d"])
def test_sigmoid_prime_random(student, reference, rng, shape):
    expect(student, reference, "sigmoid_prime", rng.normal(0, 4, shape))


def test_sigmoid_prime_extremes(student, reference):
    # σ'(±1000) is 0, not nan
    expect(student, reference, "sigmoid_prime", np.array([-1000.0, 0.0, 1000.0]), atol=1e-12)
