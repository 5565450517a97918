"""Known mistake: sigmoid_prime as net * (1 - net): the form s(1 - s) applied to the pre-activation.

backpropagation calls sigmoid_prime, so it inherits the mistake."""


def sigmoid_prime(net):
    return net * (1 - net)
