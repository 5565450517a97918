"""Part 3: init_network and forward on the assignment's network."""

import numpy as np

from grader.testing import expect, points

TASK = "forward"

X = np.array([1.0, 0.5, 0.7])


@points(2)
def test_forward_given_network(student, reference):
    network = reference.call("init_network")
    expect(student, reference, "forward", network, X)


def test_forward_seeded_network(student, reference, rng):
    # weights of both signs, so each hidden activation shows its shape (ReLU vs sigmoid vs none)
    net = {
        "W1": rng.normal(0, 1, (3, 4)), "B1": rng.normal(0, 1, 4),
        "W2": rng.normal(0, 1, (4, 2)), "B2": rng.normal(0, 1, 2),
    }
    expect(student, reference, "forward", net, rng.normal(0, 1, 3))
