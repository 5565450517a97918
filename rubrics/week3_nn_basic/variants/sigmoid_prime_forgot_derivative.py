# Known mistake: sigmoid_prime returns sigmoid itself; backpropagation inherits it.
def sigmoid_prime(net):
    return sigmoid(net)
