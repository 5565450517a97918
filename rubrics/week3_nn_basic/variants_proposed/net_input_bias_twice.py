"""Known mistake: Perceptron.net_input with the bias weight[0] added twice.

NEEDS ENGINE SUPPORT: a method of the reference's Perceptron class (see net_input_without_bias)."""

import numpy as np


def net_input(self, X):
    return np.dot(X, self.weight[1:]) + 2 * self.weight[0]
