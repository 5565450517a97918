"""Part 4, hidden: problems of the handout's form, dw against finite differences, and the
handout's 1,000-step training run driven by the grader with the student's own functions."""

import numpy as np

from grader.checks.gradient import numeric_gradient, relative_error
from grader.testing import (Failed, call_as_written, credit, diagnose, expect, final_values, judge_value,
                            parametrize, pick, points, train_neuron, training_ways)

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


@points(0.96)
def test_sigmoid_prime_on_a_column(student, reference, rng):
    expect(student, reference, "sigmoid_prime", rng.normal(0, 3, (4, 1)))


@points(3.84)  # 0.64 per case
@parametrize("target", ["AND", "XOR"])
@parametrize("part", ["dz", "dw", "db"])
def test_another_problem(student, reference, rng, target, part):
    Y, _W, _b, Z, A = _problem(rng, target)
    expect(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X}, part=part, forms=_flat(Y, A, Z),
           instead="dw")


@points(1.92)
def test_dw_agrees_with_the_numerical_gradient(student, reference, rng):
    """dw against centred differences of ½Σ(A−Y)², A computed with the student's own sigmoid."""
    Y, W, b, Z, A_ref = _problem(rng, "NAND")

    def outputs(z):
        return np.asarray(student.call("sigmoid", z), dtype=float).reshape(4, 1)

    def loss(w):
        return 0.5 * float(np.sum((outputs(X @ w + b) - Y) ** 2))

    A = outputs(Z)
    if not np.allclose(A, A_ref, rtol=1e-6, atol=1e-9):
        # not the lecture's sigmoid: the gradient of that loss proves nothing (a constant sigmoid
        # makes every gradient 0); judge dw against the reference instead
        expect(student, reference, "backpropagation", Y, A_ref, Z, with_globals={"X": X}, part="dw",
               forms=_flat(Y, A_ref, Z))
        return
    try:
        out = call_as_written(student, reference, "backpropagation", Y, A, Z, with_globals={"X": X})
        dw = np.asarray(pick(reference, "backpropagation", out, "dw"), dtype=float)
    except Exception:  # noqa: BLE001 - judged below, with the other forms and the named mistakes
        dw = np.full(1, np.nan)
    num = numeric_gradient(loss, W)
    if dw.size == num.size and relative_error(dw.reshape(num.shape), num) <= 1e-5:
        return
    # not the gradient of the student's own loss: named when it is a known mistake; right
    # after all when it is the reference's dw (in another form, or with the helpers of its
    # own cell, when a later cell replaced the sigmoid used above)
    expect(student, reference, "backpropagation", Y, A_ref, Z, with_globals={"X": X}, part="dw",
           forms=_flat(Y, A_ref, Z))


_RUNS: dict[tuple[int, str], np.ndarray] = {}


def _run(ns, reference, **way):
    """The handout's loop: W, b from its start, Z = XW + b, A = sigmoid(Z), descend dw, db, with
    ``ns``'s functions (``way``: on flat A and Z, or which definitions: ``training_ways``); its
    end as one vector (W, b, A)."""
    return final_values(train_neuron(ns, reference, X=X, Y=np.array([[0], [1], [1], [1]]),
                                     W=np.array(START_W).reshape(2, 1), b=START_B, steps=STEPS, **way))


def _cached(key, ns, reference):
    """The run with ``ns``'s functions, once; a mistake whose gradient cannot drive the loop
    (a dw of the wrong shape) has no run: why it stopped, a text no student's run matches."""
    k = (id(reference), key)
    if k not in _RUNS:
        try:
            _RUNS[k] = _run(ns, reference)
        except Failed as exc:
            if key == "reference":
                raise
            _RUNS[k] = str(exc)
    return _RUNS[k]


@points(3.84)
def test_training_from_the_handouts_start(student, reference):
    """1,000 steps from W = [-0.79003947, 0.6826574], b = 0 with the student's sigmoid and
    backpropagation and the descent step W -= dw, b -= db; compared with the reference's run
    (W = [6.17943355, 6.17961387], b = -2.84359407). What the student's own loop did is judged
    in the training part."""
    want = _cached("reference", reference, reference)
    got, error = None, None
    try:
        got = _run(student, reference)
    except Exception as exc:  # noqa: BLE001 - judged below after the other ways
        error = exc
    if got is None or not np.allclose(got, want, rtol=1e-4, atol=1e-6):
        for way in training_ways(student, got is None):
            try:
                run = _run(student, reference, **way)
            except Exception:  # noqa: BLE001, S112 - the next way may work; this one is not the student's answer
                continue
            if got is None or np.allclose(run, want, rtol=1e-4, atol=1e-6):
                got = run
            if np.allclose(run, want, rtol=1e-4, atol=1e-6):
                break
    variants = reference.variants_for("backpropagation")
    if got is None:
        # stopped as a known mistake's run stops (a dw or db of its wrong shape): named
        stopped = {v.name: _cached(v.name, ns, reference) for v, ns in variants} if isinstance(error, Failed) else {}
        same = [v for v, _ns in variants if isinstance(stopped.get(v.name), str) and stopped[v.name] == str(error)]
        if same:
            best = max(same, key=lambda v: v.credit_in(TASK))
            for v in same:
                diagnose(v.name)
            if best.credit_in(TASK) > 0:
                credit(best.credit_in(TASK), best.name)
        raise error
    alternatives = [(vspec, (lambda vspec=vspec, ns=ns: _cached(vspec.name, ns, reference))) for vspec, ns in variants]
    judge_value(reference, "training", got, want, alternatives, rtol=1e-4, atol=1e-6,
                what="W, b and A after 1,000 steps from the handout's start")
