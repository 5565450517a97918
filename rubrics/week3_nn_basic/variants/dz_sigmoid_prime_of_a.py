"""Known mistake: dz = da * sigmoid_prime(A): the derivative taken at the output A, not at Z."""

import numpy as np

READS = ["sigmoid_prime", "X"]  # from the reference solution


def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(A)
    dw = np.dot(X.T, dz)
    db = np.sum(dz)
    return dz, dw, db
