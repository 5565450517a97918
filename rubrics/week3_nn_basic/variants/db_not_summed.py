"""Known mistake: db = dz, the per-sample terms of dE/db left unsummed: (4, 1) where one number is due."""

import numpy as np

READS = ["sigmoid_prime", "X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = dz
    return dz, dw, db
