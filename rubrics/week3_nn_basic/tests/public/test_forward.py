"""Part 3: init_network and forward on the assignment's network."""

import numpy as np

from grader.testing import close, expect, points

TASK = "forward"

X = np.array([1.0, 0.5, 0.7])


def test_init_network(student, reference):
    got = student.call("init_network")
    want = reference.call("init_network")
    close(got, want, what="init_network()")


@points(2)
def test_forward_given_network(student, reference):
    network = reference.call("init_network")
    expect(student, reference, "forward", network, X)
