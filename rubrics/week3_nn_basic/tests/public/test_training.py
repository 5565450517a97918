"""Part 5: the notebook's own 1,000-step training loop, judged by what it leaves behind.

The handout invites other starts (a random W, zeros), so no single trajectory is required: the
final W and b must classify OR, and A (the outputs of the last step) must be the neuron's
outputs, sigmoid(XW + b), and classify OR too. The handout's loop as given does not learn: it
calls backpropagation(Y, A, Z) without keeping dw and db, and adds the gradient (W += dw). A
loop left that way is named here."""

import ast

import numpy as np

from grader.testing import diagnose, fail, points

TASK = "training"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
OR = np.array([0, 1, 1, 1])


def _training_loops(sources):
    """The notebook's for-loops that call backpropagation (its training loops)."""
    loops = []
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.For, ast.While)) and any(
                isinstance(n, ast.Call) and getattr(n.func, "id", "") == "backpropagation" for n in ast.walk(node)
            ):
                loops.append(node)
    return loops


def _explain(student):
    """Name the handout's slips when the loop still has them."""
    loops = _training_loops(getattr(student, "sources", []))
    if not loops:
        diagnose("training_loop_missing", "No loop calling backpropagation was found: "
                                          "the training cell did not run as a loop of 1,000 steps.")
        return
    loop = loops[-1]
    for n in ast.walk(loop):
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) \
                and getattr(n.value.func, "id", "") == "backpropagation":
            diagnose("training_result_not_kept",
                     "훈련 루프가 backpropagation(Y, A, Z)를 호출만 하고 결과를 받지 않습니다 "
                     "(원본 과제의 코드 그대로). "
                     "dw, db = backpropagation(Y, A, Z) 처럼 받아야 W와 b가 바뀝니다. / "
                     "The loop calls backpropagation(Y, A, Z) without keeping its result "
                     "(the handout's code as given): write dw, db = backpropagation(Y, A, Z).")
            return
    for n in ast.walk(loop):
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and getattr(n.target, "id", "") == "W" \
                and getattr(n.value, "id", "") == "dw":
            diagnose("training_gradient_ascent",
                     "W += dw 는 손실이 커지는 방향입니다 (원본 과제의 코드). "
                     "dw가 ∂E/∂W 이면 W -= dw, b -= db 로 내려가야 합니다. / "
                     "W += dw climbs the loss (the handout's code as given): "
                     "with dw = ∂E/∂W, descend with W -= dw and b -= db.")
            return


def _values(student, name, n):
    value = np.asarray(student.get(name), dtype=float).reshape(-1)
    if value.size != n:
        fail(f"after training, {name} has {value.size} values (shape {np.shape(student.get(name))}); "
             f"expected {n}"
             + (" (a (4, 4) A comes from W kept a Python list: A - Y broadcasts)" if value.size == 16 else ""))
    if not np.all(np.isfinite(value)):
        fail(f"after training, {name} holds nan or inf: {np.round(value, 3).tolist()}")
    return value


@points(6)
def test_trained_outputs_classify_or(student):
    try:
        A = _values(student, "A", 4)
        got = (A > 0.5).astype(int)
        if not np.array_equal(got, OR):
            fail(f"after training, A = {np.round(A, 3).tolist()}: rows {np.flatnonzero(got != OR).tolist()} "
                 "of OR are wrong (A > 0.5 should be [0, 1, 1, 1])")
    except BaseException:
        _explain(student)
        raise


@points(4)
def test_trained_weights_classify_or(student):
    try:
        W = _values(student, "W", 2)
        b = _values(student, "b", 1)[0]
        got = ((X @ W + b) > 0).astype(int)
        if not np.array_equal(got, OR):
            fail(f"the final W = {np.round(W, 3).tolist()}, b = {b:.3f} misclassify rows "
                 f"{np.flatnonzero(got != OR).tolist()} of OR")
    except BaseException:
        _explain(student)
        raise


@points(2)
def test_outputs_are_the_neurons(student):
    A = _values(student, "A", 4)
    W = _values(student, "W", 2)
    b = _values(student, "b", 1)[0]
    if not np.array_equal((A > 0.5).astype(int), OR):
        fail("the loop did not learn OR (see the check above), so its outputs are not those of a trained neuron")
    want = 1 / (1 + np.exp(-(X @ W + b)))
    if not np.allclose(A, want, atol=0.02):
        fail(f"A = {np.round(A, 3).tolist()} is not sigmoid(XW + b) = {np.round(want, 3).tolist()} "
             "for the final W and b: A should come from the loop's last forward pass")
