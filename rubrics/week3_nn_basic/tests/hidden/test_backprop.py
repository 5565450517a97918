"""Part 4, hidden: problems of the handout's form, dw against finite differences, and the
handout's 1,000-step training run driven by the grader with the student's own functions."""

import numpy as np

from grader.checks.gradient import numeric_gradient, relative_error
from grader.testing import call_as_written, expect, fail, judge_value, parametrize, pick, points

TASK = "backprop"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
TARGETS = {"AND": [0, 0, 0, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}
START_W, START_B, STEPS = [-0.79003947, 0.6826574], 0.0, 1000  # the handout's training start


def _problem(rng, target):
    Y = np.array(TARGETS[target]).reshape(4, 1)
    W = rng.normal(0, 1, (2, 1))
    b = float(rng.normal())
    Z = X @ W + b
    return Y, W, b, Z, 1 / (1 + np.exp(-Z))


def _flat(Y, A, Z):
    return [(Y, A.ravel(), Z.ravel()), (Y.ravel(), A.ravel(), Z.ravel())]


@points(1)
def test_sigmoid_prime_on_a_column(student, reference, rng):
    expect(student, reference, "sigmoid_prime", rng.normal(0, 3, (4, 1)))


@points(4)
@parametrize("target", ["AND", "XOR"])
@parametrize("part", ["dz", "dw", "db"])
def test_another_problem(student, reference, rng, target, part):
    Y, _W, _b, Z, A = _problem(rng, target)
    expect(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X}, part=part, forms=_flat(Y, A, Z))


@points(2)
def test_dw_agrees_with_the_numerical_gradient(student, reference, rng):
    """dw against centred differences of ½Σ(A−Y)², A computed with the student's own sigmoid."""
    Y, W, b, Z, A_ref = _problem(rng, "NAND")

    def outputs(z):
        return np.asarray(student.call("sigmoid", z), dtype=float).reshape(4, 1)

    def loss(w):
        return 0.5 * float(np.sum((outputs(X @ w + b) - Y) ** 2))

    A = outputs(Z)
    try:
        out = call_as_written(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X})
        dw = np.asarray(pick(reference, "backpropagation", out, "dw"), dtype=float)
    except Exception:  # noqa: BLE001 - judged below, with the other forms and the named mistakes
        dw = np.full(1, np.nan)
    num = numeric_gradient(loss, W)
    if dw.size == num.size and relative_error(dw.reshape(num.shape), num) <= 1e-5:
        return
    expect(student, reference, "backpropagation", Y, A_ref, Z, with_globals={"X": X}, part="dw",
           forms=_flat(Y, A_ref, Z))
    err = relative_error(dw.reshape(num.shape), num) if dw.size == num.size else float("inf")
    fail(f"dw disagrees with the numerical gradient of ½Σ(A−Y)² (relative error {err:.2g}, should be < 1e-5)")


_RUNS: dict[tuple[int, str], np.ndarray] = {}


def _run(ns, reference, flat=False):
    """The handout's loop: W, b from its start, Z = XW + b, A = sigmoid(Z), descend dw, db."""
    Y = np.array([[0], [1], [1], [1]])
    W = np.array(START_W, dtype=float).reshape(2, 1)
    b = START_B
    A = np.zeros((4, 1))
    for _ in range(STEPS):
        Z = X @ W + b
        A = np.asarray(ns.call("sigmoid", Z), dtype=float).reshape(4, 1)
        args = (Y, A.ravel(), Z.ravel()) if flat else (Y, A, Z)
        out = call_as_written(ns, reference, "backpropagation", *args, with_globals={"X": X})
        dw = np.asarray(pick(reference, "backpropagation", out, "dw"), dtype=float)
        db = np.asarray(pick(reference, "backpropagation", out, "db"), dtype=float)
        if dw.size != 2 or db.size != 1:
            fail(f"after a step of training, dw has shape {dw.shape} and db {db.shape}: "
                 "expected 2 weights' gradients and one bias gradient")
        W = W - dw.reshape(2, 1)
        b = b - float(db.reshape(-1)[0])
        if not np.all(np.isfinite(W)):
            break
    return np.concatenate([W.ravel(), [b], A.ravel()])


def _cached(key, ns, reference):
    k = (id(reference), key)
    if k not in _RUNS:
        _RUNS[k] = _run(ns, reference)
    return _RUNS[k]


@points(4)
def test_training_from_the_handouts_start(student, reference):
    """1,000 steps from W = [-0.79003947, 0.6826574], b = 0 with the student's sigmoid and
    backpropagation and the descent step W -= dw, b -= db; compared with the reference's run
    (W = [6.17943355, 6.17961387], b = -2.84359407). What the student's own loop did is judged
    in the training part."""
    want = _cached("reference", reference, reference)
    try:
        got = _run(student, reference)
    except Exception:  # noqa: BLE001 - a backpropagation that only takes flat (4,) inputs
        got = None
    if got is None or not np.allclose(got, want, rtol=1e-4, atol=1e-6):
        try:
            flat = _run(student, reference, flat=True)
            if got is None or np.allclose(flat, want, rtol=1e-4, atol=1e-6):
                got = flat
        except Exception:  # noqa: BLE001
            if got is None:
                raise
    alternatives = [(vspec, (lambda vspec=vspec, ns=ns: _cached(vspec.name, ns, reference)))
                    for vspec, ns in reference.variants_for("backpropagation")]
    judge_value(reference, "training", got, want, alternatives, rtol=1e-4, atol=1e-6,
                what="W, b and A after 1,000 steps from the handout's start")
