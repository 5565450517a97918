"""Walk a student through an accidental broadcast: where a wrong shape came from.

``walk`` gets the answer's shape, the shape that was due and the shapes of the call's inputs,
and explains, in Korean and English, which two inputs NumPy broadcast against each other
(a (4,) row against a (4, 1) column gives a 4x4 table) or which product carried such a table on.
Pure: shapes in, words out.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np

from grader.report.i18n import LANGUAGES, t

__all__ = ["walk"]

Shape = tuple[int, ...]


def _broadcast(a: Shape, b: Shape) -> Shape | None:
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


def _size(shape: Shape) -> int:
    return int(np.prod(shape)) if shape else 1


def _row_and_column(shapes: dict[str, Shape]) -> list[tuple[str, str, int]]:
    """Pairs (row, column, n): an input of shape (n,) and another of shape (n, 1)."""
    return [(a, b, sa[0]) for (a, sa), (b, sb) in permutations(shapes.items(), 2)
            if len(sa) == 1 and sb == (sa[0], 1) and sa[0] > 1]


def _texts(key: str, **values: object) -> dict[str, str]:
    return {lang: t(key, lang, head=t("broadcast_head", lang, label=values["label"], got=values["got"],
                                      want=values["want"]), **values) for lang in LANGUAGES}


def walk(label: str, got: Shape, want: Shape, inputs: dict[str, Shape]) -> dict[str, str] | None:
    """Why ``label`` came out ``got`` where ``want`` was due, by language; None when the shape
    is not a broadcast of the inputs (then there is nothing to walk through)."""
    if got == want or _size(got) <= _size(want) or len(got) < 2:
        return None
    pairs = sorted(((a, b, sa, sb) for (a, sa), (b, sb) in permutations(inputs.items(), 2)
                    if a < b and sa != sb and _broadcast(sa, sb) == got and got not in (sa, sb)),
                   key=lambda p: (len(p[2]) + len(p[3]), p[0]))
    if pairs:
        a, b, sa, sb = pairs[0]
        return _texts("broadcast_pair", label=label, got=got, want=want, a=a, b=b, sa=sa, sb=sb)
    for row, column, n in _row_and_column(inputs):
        if n in got:
            return _texts("broadcast_table", label=label, got=got, want=want, n=n, nn=n * n, row=row,
                          srow=inputs[row], column=column, scolumn=inputs[column])
    lengths = {s[0] for s in inputs.values() if s and s[0] > 1}
    stretched = [g for g, w in zip(got, want, strict=False) if w == 1 and g > 1] if len(got) == len(want) else []
    found = next((g for g in stretched if g in lengths), None)
    if found is not None:
        return _texts("broadcast_stretched", label=label, got=got, want=want, n=found)
    return None
