"""Known mistake: Perceptron.net_input without the bias weight[0].

NEEDS ENGINE SUPPORT: a method of the reference's Perceptron class (today a variant replaces
top-level functions only); the perceptron tests end in close(), which consults no variant."""

import numpy as np


def net_input(self, X):
    return np.dot(X, self.weight[1:])
