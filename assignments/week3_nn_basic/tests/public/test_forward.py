"""Part 3: forward on the handout's network (init_network is given) and on another network.

The handout does not name the hidden activation: sigmoid (the lecture's), ReLU, and a sigmoid
on the output too are accepted readings (rubric.toml [[variants]])."""

import numpy as np

from grader.testing import expect, points

TASK = "forward"


@points(6)
def test_forward_on_the_handouts_network(student, reference):
    network = reference.call("init_network")  # the handout's W1, B1, W2, B2
    expect(student, reference, "forward", network, np.array([1, 0.5, 0.7]))
    # the same input negated: every hidden pre-activation is then negative, so a layer with no
    # activation at all no longer looks like ReLU
    expect(student, reference, "forward", network, np.array([-1, -0.5, -0.7]))


@points(4)
def test_forward_on_another_network(student, reference, rng):
    # weights of both signs, so that each hidden activation shows its shape
    net = {
        "W1": rng.normal(0, 1, (3, 4)), "B1": rng.normal(0, 1, 4),
        "W2": rng.normal(0, 1, (4, 2)), "B2": rng.normal(0, 1, 2),
    }
    expect(student, reference, "forward", net, rng.normal(0, 1, 3))
