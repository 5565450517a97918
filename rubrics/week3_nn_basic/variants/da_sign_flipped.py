"""Known mistake: da = Y - A (the negative of dE/dA): dz, dw and db all change sign."""

import numpy as np

READS = ["sigmoid_prime", "X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = Y - A
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = np.sum(dz)
    return dz, dw, db
