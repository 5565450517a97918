"""The data-only channel's grader side: encode arguments, decode replies as hostile input.

A reply comes from a file the student's kernel wrote. It is read with a size cap, parsed
as JSON, and rebuilt into plain Python/NumPy values only: no pickle, no object from the
kernel survives. Anything unexpected raises :class:`ChannelError` with a plain reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
import stat
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.errors import BadResult, ChannelError, MissingName, StudentError
from grader.sandbox import kernel_side

MAX_REPLY_BYTES = 64 * 1024 * 1024
MAX_DEPTH = kernel_side.MAX_DEPTH + 4
MAX_ELEMENTS = kernel_side.MAX_ITEMS
MAX_STR = 1_000_000
_DTYPES = {
    np.dtype(x).str
    for x in ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8")
}


@dataclass(frozen=True)
class Opaque:
    """A value the channel does not carry (a generator, a file, an arbitrary object)."""

    type: str
    repr: str

    def __str__(self) -> str:
        return f"<{self.type} object>"


@dataclass(frozen=True)
class HandleRef:
    """An instance living in the kernel (or the reference), addressed by number."""

    id: int
    type: str


class _ArgEncoder(kernel_side.Encoder):
    def encode(self, obj: Any, depth: int = 0) -> Any:
        if isinstance(obj, HandleRef):
            return {"t": "handle", "id": obj.id, "type": obj.type}
        if isinstance(getattr(obj, "ref", None), HandleRef):  # a namespaces.Instance passed back
            return {"t": "handle", "id": obj.ref.id, "type": obj.ref.type}
        if isinstance(obj, Opaque):
            raise ChannelError(f"an opaque {obj.type} cannot be sent back as an argument")
        return super().encode(obj, depth)


def encode_args(value: Any) -> Any:
    """Encode trusted grader data for a request (arguments, globals)."""
    try:
        return _ArgEncoder(np).encode(value)
    except kernel_side._TooBig as exc:  # noqa: SLF001 - same package, one codec
        raise ChannelError(f"argument too large: {exc}") from None


def read_reply(path: str, *, max_bytes: int = MAX_REPLY_BYTES) -> dict[str, Any]:
    """Read a reply file written by the kernel without following links or reading too much."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ChannelError("the kernel sent no result (the call was cut short)") from None
    except OSError as exc:
        raise ChannelError(f"the result file could not be opened ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ChannelError("the result is not a regular file")
        if st.st_size > max_bytes:
            raise ChannelError(
                f"the result is {st.st_size / 2**20:.0f} MiB, over the {max_bytes / 2**20:.0f} MiB limit"
            )
        chunks = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        raw = b"".join(chunks)
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise ChannelError("the result grew past the size limit while being read")
    return parse_reply(raw)


def parse_reply(raw: bytes) -> dict[str, Any]:
    """A reply's JSON text (from a file or the direct line) -> its dict, shape-checked."""
    try:
        reply = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ChannelError("the result is not valid JSON") from None
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise ChannelError("the result does not have the expected shape")
    return reply


class _Decoder:
    def __init__(self) -> None:
        self.elements = 0

    def count(self, n: int) -> None:
        self.elements += n
        if self.elements > MAX_ELEMENTS:
            raise ChannelError(f"the result has more than {MAX_ELEMENTS:,} elements")

    def decode(self, v: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ChannelError(f"the result is nested more than {MAX_DEPTH} levels deep")
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, int):
            if not -(2**63) < v < 2**63:
                raise ChannelError("an integer in the result is out of range")
            self.count(1)
            return v
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ChannelError("a bare non-finite float in the result")
            self.count(1)
            return v
        if isinstance(v, str):
            if len(v) > MAX_STR:
                raise ChannelError("a string in the result is too long")
            self.count(1)
            return v
        if isinstance(v, list):
            self.count(len(v))
            return [self.decode(x, depth + 1) for x in v]
        if not isinstance(v, dict):
            raise ChannelError("unexpected value in the result")
        t = v.get("t")
        if t == "tuple":
            items = _list(v.get("v"))
            self.count(len(items))
            return tuple(self.decode(x, depth + 1) for x in items)
        if t == "dict":
            pairs = _list(v.get("v"))
            self.count(len(pairs))
            out: dict[Any, Any] = {}
            for pair in pairs:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ChannelError("malformed dict in the result")
                key = self.decode(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise ChannelError("unhashable dict key in the result") from None
                out[key] = self.decode(pair[1], depth + 1)
            return out
        if t == "float":
            s = v.get("v")
            if s not in ("nan", "inf", "-inf"):
                raise ChannelError("malformed float in the result")
            return float(s)
        if t == "bigint":
            s = v.get("v")
            # ASCII digits only ('²'.isdigit() is True) and under Python's 4300-digit int() limit
            if not isinstance(s, str) or not re.fullmatch(r"-?[0-9]{1,4000}", s):
                raise ChannelError("malformed integer in the result")
            return int(s)
        if t == "complex":
            parts = _list(v.get("v"))
            if len(parts) != 2:
                raise ChannelError("malformed complex in the result")
            re_, im_ = (self.decode(p, depth + 1) for p in parts)
            if not all(isinstance(p, (int, float)) for p in (re_, im_)):
                raise ChannelError("malformed complex in the result")
            return complex(re_, im_)
        if t == "nd":
            return self.ndarray(v)
        if t == "handle":
            hid, typ = v.get("id"), v.get("type")
            if not isinstance(hid, int) or isinstance(hid, bool) or not isinstance(typ, str):
                raise ChannelError("malformed handle in the result")
            return HandleRef(hid, typ[:100])
        if t == "opaque":
            typ, rep = v.get("type"), v.get("repr")
            if not isinstance(typ, str) or not isinstance(rep, str):
                raise ChannelError("malformed object description in the result")
            return Opaque(typ[:200], rep[:200])
        raise ChannelError("unknown value kind in the result")

    def ndarray(self, v: dict[str, Any]) -> np.ndarray:
        dtype, shape, b64 = v.get("dtype"), v.get("shape"), v.get("b64")
        if not isinstance(dtype, str) or dtype not in _DTYPES:
            raise ChannelError(f"unsupported array dtype {str(dtype)[:20]!r} in the result")
        if (
            not isinstance(shape, list)
            or len(shape) > 32
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise ChannelError("malformed array shape in the result")
        if any(n > MAX_ELEMENTS for n in shape):
            raise ChannelError(f"an array axis in the result has more than {MAX_ELEMENTS:,} elements")
        size = math.prod(shape)
        self.count(size)
        if not isinstance(b64, str):
            raise ChannelError("malformed array data in the result")
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise ChannelError("malformed array data in the result") from None
        dt = np.dtype(dtype)
        if len(data) != size * dt.itemsize:
            raise ChannelError("array data does not match its shape in the result")
        arr: np.ndarray = np.frombuffer(data, dtype=dt).reshape(shape).copy()
        return arr


def _list(v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise ChannelError("malformed container in the result")
    return v


def decode_value(v: Any) -> Any:
    """Rebuild a plain value from its wire form, validating everything."""
    return _Decoder().decode(v)


def roundtrip(value: Any) -> Any:
    """Encode and decode ``value``: gives reference results the same types as student ones."""
    return decode_value(json.loads(json.dumps(encode_args(value), allow_nan=False)))


def interpret(reply: dict[str, Any], what: str) -> Any:
    """A probe's reply -> the decoded value, or the StudentCodeProblem it reports."""
    if reply.get("ok"):
        try:
            return decode_value(reply.get("value"))
        except ChannelError as exc:
            raise BadResult(what, str(exc)) from None
    if "missing" in reply:
        missing = reply["missing"]
        raise MissingName(str(missing)[:100] if isinstance(missing, str) else "?")
    if "toobig" in reply:
        raise BadResult(what, str(reply["toobig"])[:300])
    err = reply.get("error")
    if isinstance(err, dict):
        tb = err.get("traceback")
        tb = [str(x)[:500] for x in tb[-12:]] if isinstance(tb, list) else []
        raise StudentError(what, str(err.get("type", "Exception"))[:100], str(err.get("message", ""))[:500], tb)
    raise BadResult(what, "malformed reply")
