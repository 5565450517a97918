"""Known mistake: Perceptron.predict returning 1/0 instead of 1/-1: fit's update (target - predict) goes wrong.

NEEDS ENGINE SUPPORT: a method of the reference's Perceptron class; shows only through fit (the
test's own run of the handout's algorithm with this predict), i.e. errors and weight after fit."""

import numpy as np


def predict(self, X):
    return np.where(self.net_input(X) >= 0.0, 1, 0)
