"""Part 6: the Iris perceptron. net_input is the student's part of the class (any input: one
sample in fit, a matrix in plot_decision_regions); the preprocessing is the student's own
(features, scaling), so the student's class is fitted on the student's own X and y and compared
with the handout's algorithm run on the same data."""

import numpy as np

from grader.rubric import PACKAGE_DATA
from grader.testing import close, diagnose, fail, points

TASK = "perceptron"  # 22 points: 20.9 here, 1.1 in the hidden test

WEIGHT = np.array([-0.4, -0.68, 1.82])


def iris_features():
    rows = [line.split(",") for line in (PACKAGE_DATA / "iris.data").read_text().splitlines() if line.strip()]
    return np.array([[float(r[0]), float(r[2])] for r in rows[:100]])


@points(6.6)
def test_net_input_on_a_matrix(student):
    X = iris_features()
    p = student.new("Perceptron", 0.01, 10)
    p.set("weight", WEIGHT.copy())
    close(p.call("net_input", X), X @ WEIGHT[1:] + WEIGHT[0], what="net_input(X) for the 100 Iris rows")


@points(4.4)
def test_net_input_on_one_sample(student):
    x = iris_features()[60]
    p = student.new("Perceptron", 0.01, 10)
    p.set("weight", WEIGHT.copy())
    close(p.call("net_input", x), x @ WEIGHT[1:] + WEIGHT[0], what="net_input(x) for one sample (as fit calls it)")


@points(9.9)
def test_fit_on_your_own_data(student):
    X = np.asarray(student.get("X"))
    y = np.asarray(student.get("y"))
    if X.dtype.kind not in "biuf" or X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) < 2:
        fail(f"after preprocessing, X has shape {X.shape} ({X.dtype}) and y {y.shape}: "
             "expected X as (samples, features) numbers and y as (samples,) labels")
    labels = set(np.unique(y).tolist()) if y.dtype.kind in "biuf" else set()
    if labels != {-1, 1}:
        if labels == {0, 1}:
            diagnose("perceptron_labels_0_1",
                     "퍼셉트론의 레이블은 -1과 1입니다 (predict가 np.where(..., 1, -1)). "
                     "0/1 레이블이면 (target - predict)가 틀어집니다. / "
                     "The perceptron's classes are -1 and +1; 0/1 labels break the update (target - prediction).")
        fail(f"y holds {sorted(labels) if labels else y.dtype}: "
             "the perceptron's labels are -1 (setosa) and 1 (versicolor)")
    p = student.new("Perceptron", 0.1, 10)
    p.call("fit", X, y)
    weight, errors = _fit(X.astype(float), y, 0.1, 10)
    close(p.get("errors"), errors, what="errors per epoch, fitted on your X and y")
    close(p.get("weight"), weight, what="weight after fit on your X and y")


def _fit(X, y, rate, niter):
    """The handout's Perceptron.fit (given code), with net_input = X @ w[1:] + w[0]."""
    w = np.zeros(1 + X.shape[1])
    errors = []
    for _ in range(niter):
        err = 0
        for xi, target in zip(X, y, strict=True):  # len(X) == len(y): checked by the test
            delta = rate * (target - (1 if xi @ w[1:] + w[0] >= 0.0 else -1))
            w[1:] += delta * xi
            w[0] += delta
            err += int(delta != 0.0)
        errors.append(err)
    return w, errors
