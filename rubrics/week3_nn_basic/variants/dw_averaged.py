"""Known mistake: dw averaged over the samples (X.T @ dz / len(X)) instead of summed."""

import numpy as np

READS = ["sigmoid_prime", "X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz) / len(X)
    db = np.sum(dz)
    return dz, dw, db
