# Accepted reading: sigmoid hidden layer and sigmoid on the output (the lecture's diagrams).
def forward(network, x):
    W1, W2 = network["W1"], network["W2"]
    B1, B2 = network["B1"], network["B2"]
    z1 = 1 / (1 + np.exp(-(np.dot(x, W1) + B1)))
    return 1 / (1 + np.exp(-(np.dot(z1, W2) + B2)))
