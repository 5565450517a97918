"""Known mistake: sigmoid as 1 / (1 + exp(x)), that is sigmoid(-x): the curve mirrored.

Written with part 2's parameter; forward, sigmoid_prime and backpropagation call sigmoid, so
they change too."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(x))
