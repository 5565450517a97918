"""Known mistake: forward without the biases B1 and B2."""

import numpy as np

READS = ["sigmoid"]  # from the reference solution


def forward(network, x):
    W1, W2 = network["W1"], network["W2"]
    a1 = np.dot(x, W1)
    z1 = sigmoid(a1)
    a2 = np.dot(z1, W2)
    y = a2
    return y
