# Accepted reading: ReLU hidden layer, sigmoid output.
def forward(network, x):
    W1, W2 = network["W1"], network["W2"]
    B1, B2 = network["B1"], network["B2"]
    z1 = np.maximum(0, np.dot(x, W1) + B1)
    return 1 / (1 + np.exp(-(np.dot(z1, W2) + B2)))
