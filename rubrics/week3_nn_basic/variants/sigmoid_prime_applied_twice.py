"""Known mistake: sigmoid(sig) * (1 - sigmoid(sig)) with sig = sigmoid(net): the sigmoid applied twice.

backpropagation calls sigmoid_prime, so it inherits the mistake."""

READS = ["sigmoid"]  # from the reference solution


def sigmoid_prime(net):
    sig = sigmoid(net)
    return sigmoid(sig) * (1 - sigmoid(sig))
