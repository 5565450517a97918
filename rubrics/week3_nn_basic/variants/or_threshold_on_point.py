"""Known mistake: OR's threshold on the (0, 1) and (1, 0) points (theta = 0.5 with total > theta): AND's table.

The reference's XOR calls OR, so it changes too (0 on every row)."""


def OR(x1, x2):
    w1, w2, theta = 0.5, 0.5, 0.5
    total = x1 * w1 + x2 * w2
    return 1 if total > theta else 0
