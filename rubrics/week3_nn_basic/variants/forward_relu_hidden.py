# Accepted reading: ReLU in the hidden layer, identity output.
def forward(network, x):
    W1, W2 = network["W1"], network["W2"]
    B1, B2 = network["B1"], network["B2"]
    a1 = np.dot(x, W1) + B1
    z1 = np.maximum(0, a1)
    return np.dot(z1, W2) + B2
