"""Part 6, hidden: net_input on other inputs (other weights, another number of features)."""

from grader.testing import judge_value, mistake, parametrize, points

TASK = "perceptron"


@points(1.1)  # 0.55 per case
@parametrize("features", [2, 4])
def test_net_input_elsewhere(student, reference, rng, features):
    p = student.new("Perceptron", 0.01, 10)
    w = rng.normal(0, 1, features + 1)
    p.set("weight", w)
    X = rng.normal(0, 2, (7, features))
    mistakes = [(mistake("net_input_without_bias"), X @ w[1:]), (mistake("net_input_bias_twice"), X @ w[1:] + 2 * w[0])]
    judge_value(reference, "net_input", p.call("net_input", X), X @ w[1:] + w[0], mistakes,
                what=f"net_input(X) for {features} features")
