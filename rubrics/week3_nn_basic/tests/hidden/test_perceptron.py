"""Part 6, hidden: net_input on other inputs (other weights, another number of features)."""

from grader.testing import close, parametrize, points

TASK = "perceptron"


@points(1.1)  # 0.55 per case
@parametrize("features", [2, 4])
def test_net_input_elsewhere(student, rng, features):
    p = student.new("Perceptron", 0.01, 10)
    w = rng.normal(0, 1, features + 1)
    p.set("weight", w)
    X = rng.normal(0, 2, (7, features))
    close(p.call("net_input", X), X @ w[1:] + w[0], what=f"net_input(X) for {features} features")
