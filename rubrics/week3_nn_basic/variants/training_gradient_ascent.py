# Known mistake: the revised backprop, but the loop adds the gradient (W += dw, b += db).
_retrain(ascend=True)
