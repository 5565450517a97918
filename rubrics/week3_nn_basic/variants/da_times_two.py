# Known mistake: da = 2(A - Y), the derivative of sum((A-Y)^2) without the 1/2.
def backpropagation(Y, A, Z):
    da = 2 * (A - Y)
    dz = da * sigmoid_prime(Z)
    dw = np.dot(X.T, dz)
    db = np.sum(dz)
    return dz, dw, db


X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
W = np.array([[0.40316676], [-0.44345216]])
b = 1
for _ in range(1000):
    Z = np.dot(X, W) + b
    A = sigmoid(Z)
    dz, dw, db = backpropagation(Y, A, Z)
    W = W - dw
    b = b - db
