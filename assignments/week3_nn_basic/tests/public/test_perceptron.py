"""Part 5: the Iris Perceptron: net_input (the student's part), predict, fit."""

import numpy as np

from grader.rubric import PACKAGE_DATA
from grader.testing import close, diagnose, points

TASK = "perceptron"


def iris():
    rows = [line.split(",") for line in (PACKAGE_DATA / "iris.data").read_text().splitlines() if line.strip()]
    X = np.array([[float(r[0]), float(r[2])] for r in rows[:100]])
    y = np.where(np.array([r[4] for r in rows[:100]]) == "Iris-setosa", -1, 1)
    return X, y


WEIGHT = np.array([-0.4, -0.68, 1.82])


@points(2)
def test_net_input(student):
    X, _ = iris()
    p = student.new("Perceptron", 0.01, 10)
    p.set("weight", WEIGHT.copy())
    close(p.call("net_input", X), X @ WEIGHT[1:] + WEIGHT[0], what="net_input(X)")


def test_predict(student):
    X, _ = iris()
    p = student.new("Perceptron", 0.01, 10)
    p.set("weight", WEIGHT.copy())
    got = p.call("predict", X)
    want = np.where(X @ WEIGHT[1:] + WEIGHT[0] >= 0.0, 1, -1)
    values = set(np.unique(np.asarray(got)).tolist()) if isinstance(got, (np.ndarray, list)) else set()
    if values and values <= {0, 1} and -1 in want:
        diagnose("perceptron_labels_0_1", "The perceptron's classes are −1 and +1 (np.where(net_input >= 0, 1, -1)); 0/1 labels break the update rule's (target − prediction).")
    close(got, want, what="predict(X)")


@points(2)
def test_fit_on_iris(student, reference):
    X, y = iris()
    p = student.new("Perceptron", 0.1, 10)
    p.call("fit", X, y)
    r = reference.new("Perceptron", 0.1, 10)
    r.call("fit", X, y)
    close(p.get("weight"), r.get("weight"), what="weight after fit")
    close(p.get("errors"), r.get("errors"), what="errors after fit")
