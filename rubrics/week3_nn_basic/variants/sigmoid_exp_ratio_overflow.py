"""Known mistake: sigmoid as exp(x) / (1 + exp(x)): inf / inf = nan at the handout's 500000.

Equal to the reference (within tolerance) everywhere else the tests look; matching it needs
nan to equal nan."""

import numpy as np


def sigmoid(x):
    return np.exp(x) / (1 + np.exp(x))
