"""Known mistake: XOR's outer gate a NAND, NAND(NAND, OR): the XNOR table, every row inverted."""

READS = ["NAND", "OR"]  # from the reference solution


def XOR(x1, x2):
    return NAND(NAND(x1, x2), OR(x1, x2))
