"""Known mistake: db = mean(dz), averaged over the four samples instead of summed (db four times smaller)."""

import numpy as np

READS = ["sigmoid_prime", "X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = np.mean(dz)
    return dz, dw, db
