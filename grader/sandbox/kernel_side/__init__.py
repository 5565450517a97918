"""Code that runs inside the student's kernel (and, for the reference, in the grader).

It is shipped to the kernel as source text (``source()``), executed before any notebook cell
runs, and must import nothing from ``grader``: only a few standard modules and NumPy. It
turns a request (call a function, read a global, make an instance) into plain data, sent
back on the direct line or written to a result file. Nothing it produces is trusted: the
grader decodes it itself with size and type checks (``codec``).

Four parts, each a module here and shipped in this order, concatenated:

``wire``        values to plain JSON data and back (``Encoder``, ``Decoder``, the limits)
``history``     what the notebook's names held after each cell (``History``)
``operations``  one request against the notebook's globals (``perform``)
``probe``       how requests arrive and replies leave (``Probe``, ``install``)

A part starts with the imports of the earlier parts it uses (so that it is an ordinary,
type-checked module in the grader); only what follows its ``SHIPPED_FROM`` line is shipped,
where those names are already defined by the earlier parts. A test checks both halves.
"""

from __future__ import annotations

import functools
from pathlib import Path

from grader.sandbox.kernel_side.history import History
from grader.sandbox.kernel_side.operations import perform, str_safe
from grader.sandbox.kernel_side.probe import REPLY_MAGIC, REQUEST_MAGIC, Probe, install
from grader.sandbox.kernel_side.wire import MAX_DEPTH, MAX_ITEMS, Decoder, Encoder, _TooBig

__all__ = [
    "MAX_DEPTH", "MAX_ITEMS", "PARTS", "REPLY_MAGIC", "REQUEST_MAGIC", "SHIPPED_FROM", "Decoder", "Encoder",
    "History", "Probe", "_TooBig", "install", "perform", "shipped_part", "source", "str_safe",
]

PARTS = ("wire", "history", "operations", "probe")
SHIPPED_FROM = "# -- shipped into the kernel from here on (see kernel_side.source) --\n"
_HERE = Path(__file__).resolve().parent


def shipped_part(name: str) -> str:
    """The text of part ``name`` that goes into the kernel: everything after its marker line."""
    text = (_HERE / f"{name}.py").read_text(encoding="utf-8")
    _head, marker, body = text.partition(SHIPPED_FROM)
    if not marker:
        raise RuntimeError(f"grader/sandbox/kernel_side/{name}.py has no {SHIPPED_FROM.strip()!r} line")
    return body


@functools.lru_cache(maxsize=1)
def source() -> str:
    """The kernel side as one program, the parts in their order: executed in the kernel (with
    a private copy of builtins) it defines ``install`` and everything it needs."""
    return "".join(f"# ---- kernel_side/{name}.py ----\n{shipped_part(name)}\n" for name in PARTS)
