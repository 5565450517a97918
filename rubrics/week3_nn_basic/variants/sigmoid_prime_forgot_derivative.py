"""Known mistake: sigmoid_prime returns sigmoid itself; backpropagation inherits it."""

READS = ["sigmoid"]  # from the reference solution


def sigmoid_prime(net):
    return sigmoid(net)
