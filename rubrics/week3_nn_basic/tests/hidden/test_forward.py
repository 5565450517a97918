"""Part 3, hidden: seeded random networks and inputs, single and batch."""

import numpy as np

from grader.testing import expect, parametrize, points

TASK = "forward"


def _network(rng, n_in, n_hidden, n_out):
    return {
        "W1": rng.normal(0, 1, (n_in, n_hidden)), "B1": rng.normal(0, 1, n_hidden),
        "W2": rng.normal(0, 1, (n_hidden, n_out)), "B2": rng.normal(0, 1, n_out),
    }


@parametrize("sizes", [(3, 4, 2), (5, 3, 2), (2, 6, 3)], ids=["3-4-2", "5-3-2", "2-6-3"])
def test_random_network_single_input(student, reference, rng, sizes):
    net = _network(rng, *sizes)
    expect(student, reference, "forward", net, rng.normal(0, 1, sizes[0]))


@points(2)
def test_batch_input(student, reference, rng):
    net = _network(rng, 3, 4, 2)
    expect(student, reference, "forward", net, rng.normal(0, 1, (6, 3)))


def test_forward_on_the_notebooks_own_network(student, reference):
    """init_network is given; forward(init_network(), x) is what the notebook prints."""
    from grader.testing import close

    net = student.call("init_network")
    close(net, reference.call("init_network"), what="init_network() must return the given weights")
    expect(student, reference, "forward", net, np.array([1.0, 0.5, 0.7]))
