# Shared by the training variants: re-run the assignment's 1,000-step loop on the OR data
# (the reference notebook later reuses X for Iris) with this variant's backpropagation.
def _retrain(ascend=False):
    global X, W, b, Z, A
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    W = np.array([[0.40316676], [-0.44345216]])
    b = 1
    for _ in range(1000):
        Z = np.dot(X, W) + b
        A = sigmoid(Z)
        dz, dw, db = backpropagation(Y, A, Z)
        W = W + dw if ascend else W - dw
        b = b + db if ascend else b - db
