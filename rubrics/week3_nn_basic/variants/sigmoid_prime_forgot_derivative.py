# Known mistake: sigmoid_prime returns sigmoid itself; backprop and training inherit it.
def sigmoid_prime(net):
    return sigmoid(net)


X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
W = np.array([[0.40316676], [-0.44345216]])
b = 1
for _ in range(1000):
    Z = np.dot(X, W) + b
    A = sigmoid(Z)
    dz, dw, db = backpropagation(Y, A, Z)
    W = W - dw
    b = b - db
