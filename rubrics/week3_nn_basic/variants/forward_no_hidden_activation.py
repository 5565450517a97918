"""Known mistake: no activation between the layers (z1 = a1): the network collapses to one linear map."""

import numpy as np


def forward(network, x):
    W1, W2 = network["W1"], network["W2"]
    b1, b2 = network["B1"], network["B2"]
    a1 = np.dot(x, W1) + b1
    z1 = a1
    a2 = np.dot(z1, W2) + b2
    y = a2
    return y
