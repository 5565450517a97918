"""Known mistake: da = 2(A - Y), the derivative of sum((A - Y)^2) without the 1/2."""

import numpy as np

READS = ["sigmoid_prime", "X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = 2 * (A - Y)
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = np.sum(dz)
    return dz, dw, db
