# Known mistake: sigmoid_prime returns sigmoid itself; backprop and training inherit it.
def sigmoid_prime(net):
    return sigmoid(net)


_retrain()
