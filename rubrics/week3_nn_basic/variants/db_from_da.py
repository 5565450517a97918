# Known mistake: db = sum(da) with the revised (descending) update.
def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = np.sum(da)
    return dz, dw, db


_retrain()
