# db = sum(da): the backpropagation of the first template revision (used by two variants).
def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = np.sum(da)
    return dz, dw, db
