"""Known mistake: dw = X * dz, the per-sample products left unsummed: (4, 2) where (2, 1) is due."""

import numpy as np

READS = ["sigmoid_prime", "X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = X * dz
    db = np.sum(dz)
    return dz, dw, db
