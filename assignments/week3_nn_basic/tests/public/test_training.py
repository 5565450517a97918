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


def _list_weights(student):
    """The shapes that show W was kept a Python list (the handout's W = [0.40316676, -0.44345216]):
    Z and A come out (4,), A − Y with Y (4, 1) broadcasts to (4, 4), dw to (2, 4)."""
    shapes = {}
    for name in ("W", "A", "dz", "dw"):
        try:
            value = student.get(name)
        except Exception:  # noqa: BLE001, S112 - not left by the notebook: nothing to show
            continue
        shapes[name] = "list" if isinstance(value, list) else tuple(np.shape(value))
    if shapes.get("W") != "list" and shapes.get("A") != (4,):  # a (2, 4) dw alone can have other causes
        return None
    seen = ", ".join(f"{k} {'a Python list' if v == 'list' else v}" for k, v in shapes.items())
    return {
        "en": f"What the notebook left: {seen}. With W a list, Z = X @ W + b has shape (4,) and so has A; in "
              "backpropagation A − Y (Y is a (4, 1) column) broadcasts a row against a column into a (4, 4) table, "
              "dz is (4, 4), dw = Xᵀ·dz is (2, 4), and the update W − dw cannot pair (2,) with (2, 4).",
        "ko": f"노트북에 남은 값: {seen}. W가 리스트이면 Z = X @ W + b 와 A의 모양이 (4,)가 되고, 역전파의 A − Y "
              "(Y는 (4, 1) 열벡터)가 행과 열로 브로드캐스트되어 (4, 4) 표가 됩니다. 그래서 dz는 (4, 4), dw = Xᵀ·dz는 "
              "(2, 4)가 되고, W − dw 는 (2,)와 (2, 4)를 맞출 수 없어 오류가 납니다.",
    }


def _explain(student):
    """Name the handout's slips (and a W kept a list) when the loop still has them."""
    walk = _list_weights(student)
    if walk is not None:
        diagnose("weights_kept_list_broadcast", detail=walk)
        return
    loops = _training_loops(getattr(student, "sources", []))
    if not loops:
        diagnose("training_loop_missing")
        return
    loop = loops[-1]
    for n in ast.walk(loop):
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) \
                and getattr(n.value.func, "id", "") == "backpropagation":
            diagnose("training_result_not_kept")
            return
    for n in ast.walk(loop):
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and getattr(n.target, "id", "") == "W" \
                and getattr(n.value, "id", "") == "dw":
            diagnose("training_gradient_ascent")
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
    try:
        A = _values(student, "A", 4)
        W = _values(student, "W", 2)
        b = _values(student, "b", 1)[0]
        if not np.array_equal((A > 0.5).astype(int), OR):
            fail("the loop did not learn OR (see the check above), so its outputs are not those of a trained neuron")
    except BaseException:
        _explain(student)
        raise
    want = 1 / (1 + np.exp(-(X @ W + b)))
    if not np.allclose(A, want, atol=0.02):
        fail(f"A = {np.round(A, 3).tolist()} is not sigmoid(XW + b) = {np.round(want, 3).tolist()} "
             "for the final W and b: A should come from the loop's last forward pass")
