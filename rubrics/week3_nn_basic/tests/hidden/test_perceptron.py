"""Part 5, hidden: seeded random linearly separable data, other rates and epochs."""

import numpy as np

from grader.testing import close, parametrize

TASK = "perceptron"


def _separable(rng, n=40):
    X = rng.normal(0, 1, (n, 2))
    w = np.array([1.5, -2.0])
    y = np.where(X @ w + 0.3 >= 0, 1, -1)
    return X, y


@parametrize("rate, niter", [(0.01, 10), (0.5, 5)])
def test_fit_random_separable(student, reference, rng, rate, niter):
    X, y = _separable(rng)
    p = student.new("Perceptron", rate, niter)
    p.call("fit", X, y)
    r = reference.new("Perceptron", rate, niter)
    r.call("fit", X, y)
    close(p.get("weight"), r.get("weight"), what="weight after fit")
    close(p.get("errors"), r.get("errors"), what="errors after fit")


def test_net_input_single_sample(student, rng):
    p = student.new("Perceptron", 0.01, 10)
    w = rng.normal(0, 1, 4)
    p.set("weight", w)
    x = rng.normal(0, 1, 3)
    close(p.call("net_input", x), x @ w[1:] + w[0], what="net_input(x) for one sample")
