"""Known mistake: dz = da, the chain rule's sigmoid_prime(Z) factor left out."""

import numpy as np

READS = ["X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = A - Y
    dz = da
    dw = np.dot(X.T, dz)
    db = np.sum(dz)
    return dz, dw, db
