"""Accepted reading: ReLU in the hidden layer, identity output."""

import numpy as np


def forward(network, x):
    W1, W2 = network["W1"], network["W2"]
    b1, b2 = network["B1"], network["B2"]
    z1 = np.maximum(0, np.dot(x, W1) + b1)
    return np.dot(z1, W2) + b2
