# Known mistake: the first template revision: db = sum(da), and the loop adds the gradient.
def backpropagation(Y, A, Z):
    da = A - Y
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = np.sum(da)
    return dz, dw, db


_retrain(ascend=True)
