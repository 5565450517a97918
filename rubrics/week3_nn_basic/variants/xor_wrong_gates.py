"""Known mistake: XOR built from the wrong gates, OR(NAND, AND) in place of AND(NAND, OR): 1 on every row."""

READS = ["AND", "NAND", "OR"]  # from the reference solution


def XOR(x1, x2):
    return OR(NAND(x1, x2), AND(x1, x2))
