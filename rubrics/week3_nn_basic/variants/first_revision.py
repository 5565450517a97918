# Known mistake: the first template revision: db = sum(da), and the loop adds the gradient.
_retrain(ascend=True)
