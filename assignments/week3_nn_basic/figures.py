"""What the week-3 report plots (the contract: ``grader.figures``).

The activations (step, sigmoid, ReLU, as part 2 defined them: what its tests judge) and
sigmoid_prime over [-6, 6] against the reference's; the OR neuron's loss over the handout's
1,000 steps from its start, driven with the student's sigmoid and backpropagation as the hidden
training test drives them, beside the reference's; the student's Perceptron fitted on the
student's own X and y: its errors per epoch beside the handout's algorithm on the same data,
and its decision regions over the first two features. Every student call goes through
``attempt``: what the notebook could not do becomes a figure's ``problem``. The reference's
calls never depend on the student's answers (a student bundle replays them from expected.json).
"""

import numpy as np

from grader.errors import StudentCodeProblem
from grader.figures import attempt, curve, numbers, problem, regions, series, thin
from grader.rubric import PACKAGE_DATA
from grader.testing import Failed, fail, final_values, perceptron_fit, train_neuron, training_ways

GRID = np.linspace(-6, 6, 121)
COARSE = np.linspace(-6, 6, 49)  # a function that rejects arrays is called one number at a time, here
CURVES = [  # figure, function in the notebook, task, definition (-1: the first, as part 2's tests judge it)
    ("step_function", "step_function", "activations", -1),
    ("sigmoid", "sigmoid", "activations", -1),
    ("relu", "ReLU", "activations", -1),
    ("sigmoid_prime", "sigmoid_prime", "backprop", None),
]

X_OR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
Y_OR = np.array([[0], [1], [1], [1]])
START_W, START_B, STEPS = [-0.79003947, 0.6826574], 0.0, 1000  # the handout's training start
RATE, EPOCHS, N = 0.1, 10, 50


def figures(student, reference):
    out = [_curve(student, reference, *c) for c in CURVES]
    out.append(_loss(student, reference))
    out.extend(_perceptron(student))
    return out


# -- activations ----------------------------------------------------------------------------
def _curve(student, reference, name, function, task, version):
    want = reference.call(function, GRID)
    coarse = reference.call(function, COARSE)  # asked always: the reference's calls never depend on the student
    kw = {} if version is None else {"version": version}
    got, prob = attempt(function, lambda: student.call(function, GRID, **kw))
    if not prob:
        values, prob = numbers(got, function, GRID.size)
        if not prob:
            return curve(name, task, function, GRID, want, values)
    elif "could not be called" in prob:
        # e.g. `if x > 0:` on an array: called one number at a time (as the handout's own plot
        # of sigmoid_prime does), on the coarser grid, the reference's values over it too
        values = []
        for x in COARSE:
            one, again = attempt(function, lambda x=x: student.call(function, float(x), **kw))
            if not again:
                one, again = numbers(one, function, 1)
            if again:
                break
            values.append(one[0])
        else:
            return curve(name, task, function, COARSE, coarse, values)
    return curve(name, task, function, GRID, want, problem=prob)


# -- the OR neuron's loss -------------------------------------------------------------------
def _train(ns, reference, **way):
    """The hidden training test's run (``train_neuron``, as tests/hidden/test_backprop.py drives
    it) with the loss of every step: (losses, the final W, b and A as one vector)."""
    out = train_neuron(ns, reference, X=X_OR, Y=Y_OR, W=np.array(START_W).reshape(2, 1), b=START_B, steps=STEPS,
                       losses=True, **way)
    losses, why = numbers(out.get("losses"), "the training", STEPS)
    if why:
        fail(why)
    return losses, final_values(out)


def _run(student, reference, **way):
    """(the student's run, '') or (None, why there is none)."""
    try:
        return _train(student, reference, **way), ""
    except Failed as exc:
        return None, str(exc)
    except StudentCodeProblem as exc:
        return None, problem("training with sigmoid and backpropagation", exc)


def _loss(student, reference):
    want, want_final = _train(reference, reference)
    keep = thin(STEPS)
    steps = [k + 1 for k in keep]
    log = bool(np.all(want > 0))
    run, prob = _run(student, reference)
    if run is None or not np.allclose(run[1], want_final, rtol=1e-4, atol=1e-6):
        for way in training_ways(student, run is None):
            other, _why = _run(student, reference, **way)
            if other is None:
                continue
            if run is None or np.allclose(other[1], want_final, rtol=1e-4, atol=1e-6):
                run, prob = other, ""
            if np.allclose(other[1], want_final, rtol=1e-4, atol=1e-6):
                break
    if run is None:
        return series("loss", "training", steps, want[keep], log=log, problem=prob)
    return series("loss", "training", steps, want[keep], run[0][keep], log=log)


# -- the perceptron -------------------------------------------------------------------------
def _handout_data():
    rows = [line.split(",") for line in (PACKAGE_DATA / "iris.data").read_text().splitlines() if line.strip()]
    X = np.array([[float(r[0]), float(r[2])] for r in rows[:100]])
    return X, np.where(np.array([r[4] for r in rows[:100]]) == "Iris-setosa", -1, 1)


def _fit(X, y, rate, niter):
    """The handout's Perceptron.fit with its net_input and predict: errors per epoch."""
    return perceptron_fit(X, y, rate, niter)[1]


def _own_data(student):
    """The student's X and y as the perceptron test takes them, or a problem."""
    X, prob = attempt("X", lambda: student.get("X"))
    y, prob2 = attempt("y", lambda: student.get("y"))
    if prob or prob2:
        return None, None, prob or prob2
    X, y = np.asarray(X), np.asarray(y)
    if X.dtype.kind not in "biuf" or X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) < 2 \
            or y.dtype.kind not in "biuf":
        return None, None, (f"after preprocessing, X has shape {X.shape} ({X.dtype}) and y {y.shape} ({y.dtype}): "
                            "expected X as (samples, features) numbers and y as (samples,) labels")
    return X.astype(float), y, ""


def _fitted(student, X, y):
    p, prob = attempt("Perceptron", lambda: student.new("Perceptron", RATE, EPOCHS))
    if not prob:
        _done, prob = attempt("Perceptron.fit", lambda: p.call("fit", X, y))
    return p, prob


def _perceptron(student):
    X, y, prob = _own_data(student)
    epochs = list(range(1, EPOCHS + 1))
    if prob:
        X0, y0 = _handout_data()
        return [series("errors", "perceptron", epochs, _fit(X0, y0, RATE, EPOCHS), problem=prob),
                _regions(None, X0, y0, 2, False, prob)]
    want = _fit(X, y, RATE, EPOCHS)
    p, prob = _fitted(student, X, y)
    errors = None
    if not prob:
        errors, prob = attempt("Perceptron.errors", lambda: p.get("errors"))
    if not prob:
        errors, prob = numbers(errors, "Perceptron.errors", EPOCHS)
    out = [series("errors", "perceptron", epochs, want, errors, problem=prob)]
    if X.shape[1] < 2:
        return [*out, _regions(None, np.column_stack([X[:, 0], np.zeros(len(X))]), y, X.shape[1], False,
                               "X has one feature: no regions over two")]
    refit = X.shape[1] > 2
    if refit:
        p, prob = _fitted(student, X[:, :2], y)
    return [*out, _regions(p, X[:, :2], y, X.shape[1], refit, prob)]


def _regions(p, X2, y, features, refit, prob):
    lo, hi = X2.min(axis=0), X2.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    lo, hi = lo - 0.25 * span, hi + 0.25 * span
    xs, ys = np.linspace(lo[0], hi[0], N), np.linspace(lo[1], hi[1], N)
    pred = None
    if not prob:
        xx, yy = np.meshgrid(xs, ys)
        got, prob = attempt("Perceptron.predict", lambda: p.call("predict", np.column_stack([xx.ravel(), yy.ravel()])))
        if not prob:
            pred, prob = numbers(got, "Perceptron.predict", N * N)
    return regions("perceptron", xlim=[lo[0], hi[0]], ylim=[lo[1], hi[1]], n=N, predictions=pred, points=X2,
                   labels=list(y), features=features, refit=refit, problem=prob)

