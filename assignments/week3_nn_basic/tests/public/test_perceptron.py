"""Part 6: the Iris perceptron. net_input is the student's part of the class (any input: one
sample in fit, a matrix in plot_decision_regions); the preprocessing is the student's own
(features, scaling), so the student's class is fitted on the student's own X and y and compared
with the handout's algorithm run on the same data. A net_input without the bias weight or with
it twice, and a predict that answers 0/1, are named when every value agrees with that mistake."""

import numpy as np

from grader.rubric import PACKAGE_DATA
from grader.testing import diagnose, fail, judge_value, mistake, perceptron_fit, points

TASK = "perceptron"  # 22 points: 20.9 here, 1.1 in the hidden test

WEIGHT = np.array([-0.4, -0.68, 1.82])


def iris_features():
    rows = [line.split(",") for line in (PACKAGE_DATA / "iris.data").read_text().splitlines() if line.strip()]
    return np.array([[float(r[0]), float(r[2])] for r in rows[:100]])


NET_INPUTS = {  # the handout's net_input, and the known mistakes' (weight w, input X)
    "": lambda X, w: X @ w[1:] + w[0],
    "net_input_without_bias": lambda X, w: X @ w[1:],
    "net_input_bias_twice": lambda X, w: X @ w[1:] + 2 * w[0],
}


def judge_net_input(student, reference, X, w, what):
    p = student.new("Perceptron", 0.01, 10)
    p.set("weight", w.copy())
    mistakes = [(mistake(name), net(X, w)) for name, net in NET_INPUTS.items() if name]
    judge_value(reference, "net_input", p.call("net_input", X), NET_INPUTS[""](X, w), mistakes, what=what)


@points(6.6)
def test_net_input_on_a_matrix(student, reference):
    judge_net_input(student, reference, iris_features(), WEIGHT, "net_input(X) for the 100 Iris rows")


@points(4.4)
def test_net_input_on_one_sample(student, reference):
    judge_net_input(student, reference, iris_features()[60], WEIGHT, "net_input(x) for one sample (as fit calls it)")


@points(9.9)
def test_fit_on_your_own_data(student, reference):
    X = np.asarray(student.get("X"))
    y = np.asarray(student.get("y"))
    if X.dtype.kind not in "biuf" or X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) < 2:
        fail(f"after preprocessing, X has shape {X.shape} ({X.dtype}) and y {y.shape}: "
             "expected X as (samples, features) numbers and y as (samples,) labels")
    labels = set(np.unique(y).tolist()) if y.dtype.kind in "biuf" else set()
    if labels != {-1, 1}:
        if labels == {0, 1}:
            diagnose("perceptron_labels_0_1")
        fail(f"y holds {sorted(labels) if labels else y.dtype}: "
             "the perceptron's labels are -1 (setosa) and 1 (versicolor)")
    p = student.new("Perceptron", 0.1, 10)
    p.call("fit", X, y)
    weight, errors = perceptron_fit(X, y, 0.1, 10)
    runs = {name: perceptron_fit(X, y, 0.1, 10, net, low) for name, net, low in (
        ("net_input_without_bias", NET_INPUTS["net_input_without_bias"], -1),
        ("net_input_bias_twice", NET_INPUTS["net_input_bias_twice"], -1),
        ("predict_returns_0_1", NET_INPUTS[""], 0))}
    judge_value(reference, "fit", p.get("errors"), errors, [(mistake(k), v[1]) for k, v in runs.items()],
                what="errors per epoch, fitted on your X and y")
    judge_value(reference, "fit", p.get("weight"), weight, [(mistake(k), v[0]) for k, v in runs.items()],
                what="weight after fit on your X and y")
