"""The checks the competitors (nbgrader, otter-grader) run, written once for both.

A representative subset of the public tests in ``rubrics/week3_nn_basic/tests/public``: gate
truth tables, the three activations (scalars, arrays, extreme sigmoid inputs), the forward
value for the given network, sigmoid_prime and backpropagation's dw/db for the given OR
neuron, and the perceptron's net_input/predict on the first 100 Iris rows. Points follow the
rubric's task points (the training task is not checked here).

Each check is the source of a function ``check(g)`` where ``g`` is the notebook's global
namespace after every cell ran: nbgrader puts ``check(globals())`` in an autograder test
cell at the end of the notebook; otter calls it from an exception-based test file whose
test function receives the namespace as ``env``. No check accepts the rubric's alternative
readings (ReLU hidden layer, sigmoid output, ``db = sum(da)``): those tools have no notion of
them, and the workload, not the verdict, is what the benchmark compares.
"""

from __future__ import annotations

CHECKS: list[tuple[str, int, str]] = [
    ("gates", 12, '''
def check(g):
    table = {"AND": [0, 0, 0, 1], "NAND": [1, 1, 1, 0], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
    for name, want in table.items():
        for (x1, x2), w in zip([(0, 0), (0, 1), (1, 0), (1, 1)], want):
            got = g[name](x1, x2)
            assert got == w, f"{name}({x1}, {x2}) returned {got!r}, expected {w}"
'''),
    ("activations", 14, '''
def check(g):
    import numpy as np
    step, sig, relu = g["step_function"], g["sigmoid"], g["ReLU"]
    for x in (-2.0, 0.0, 3.5):
        assert np.array_equal(np.asarray(step(x)), 1 if x > 0 else 0), f"step_function({x})"
    assert np.array_equal(np.asarray(step(np.array([-1.0, 0.0, 2.0]))), [0, 0, 1]), "step_function(array)"
    for x in (0.0, 1.0, -3.0):
        assert np.allclose(sig(x), 1 / (1 + np.exp(-x)), rtol=1e-6, atol=0), f"sigmoid({x})"
    xs = np.array([-1.0, 1.0, 2.0])
    assert np.allclose(sig(xs), 1 / (1 + np.exp(-xs)), rtol=1e-6, atol=0), "sigmoid(array)"
    ext = np.asarray(sig(np.array([-500000.0, 500000.0])), dtype=float)
    assert np.allclose(ext, [0.0, 1.0], rtol=0, atol=1e-12), f"sigmoid(+-500000) = {ext}"
    assert np.array_equal(np.asarray(relu(np.array([-1.0, 0.0, 2.5]))), [0.0, 0.0, 2.5]), "ReLU(array)"
'''),
    ("forward", 16, '''
def check(g):
    import numpy as np
    network = {
        "W1": np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8], [0.9, 1.0, 1.1, 1.2]]),
        "B1": np.array([0.1, 0.2, 0.3, 0.4]),
        "W2": np.array([[0.1, 0.5], [0.2, 0.6], [0.3, 0.7], [0.4, 0.8]]),
        "B2": np.array([-0.02393776, -0.35840482]),
    }
    got = np.asarray(g["forward"](network, np.array([1.0, 0.5, 0.7])), dtype=float)
    assert np.allclose(got.ravel(), [0.81956037, 1.7977893], rtol=1e-6, atol=1e-7), f"forward = {got}"
'''),
    ("backprop", 24, '''
def check(g):
    import numpy as np
    z = np.linspace(-5, 5, 11)
    s = 1 / (1 + np.exp(-z))
    assert np.allclose(g["sigmoid_prime"](z), s * (1 - s), rtol=1e-6, atol=1e-9), "sigmoid_prime"
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    Y = np.array([[0], [1], [1], [1]])
    W = np.array([[0.40316676], [-0.44345216]])
    Z = X @ W + 1
    A = 1 / (1 + np.exp(-Z))
    saved = g.get("X")
    g["X"] = X  # backpropagation reads the global X
    try:
        out = g["backpropagation"](Y, A, Z)
    finally:
        g["X"] = saved
    dw, db = out[-2], out[-1]
    assert np.allclose(np.ravel(dw), [-0.08670498, -0.13983613], rtol=1e-6, atol=1e-7), f"dw = {dw}"
    assert np.allclose(np.ravel(db), [-0.02735214], rtol=1e-6, atol=1e-7), f"db = {db}"
'''),
    ("perceptron", 22, '''
def check(g):
    import numpy as np
    with open("iris.data") as fh:
        rows = [line.split(",") for line in fh.read().splitlines() if line.strip()]
    X = np.array([[float(r[0]), float(r[2])] for r in rows[:100]])
    w = np.array([-0.4, -0.68, 1.82])
    p = g["Perceptron"](0.01, 10)
    p.weight = w.copy()
    assert np.allclose(p.net_input(X), X @ w[1:] + w[0], rtol=1e-6, atol=1e-9), "net_input(X)"
    assert np.array_equal(p.predict(X), np.where(X @ w[1:] + w[0] >= 0, 1, -1)), "predict(X)"
'''),
]

MAX_POINTS = sum(p for _, p, _ in CHECKS)


def nbgrader_cell_source(name: str, source: str) -> str:
    """An nbgrader autograder test cell: define the check, run it on the notebook's globals."""
    return f"# autograder test: {name}\n{source.strip()}\n\ncheck(globals())\ndel check\n"


def otter_test_file(name: str, points: int, source: str) -> str:
    """An otter-grader exception-based test file (OK_FORMAT = False) running the same check."""
    body = "\n".join("    " + line if line else "" for line in source.strip().splitlines())
    return (
        "from otter.test_files import test_case\n\n"
        "OK_FORMAT = False\n\n"
        f"name = {name!r}\n"
        "points = None\n\n\n"
        f"@test_case(points={points}, hidden=False)\n"
        f"def test_{name}(env):\n"
        f"{body}\n\n"
        "    check(env)\n"
    )
