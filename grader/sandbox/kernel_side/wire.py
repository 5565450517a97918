"""Kernel side, part 1 of 4 — the wire: values to plain JSON data and back.

Results are encoded here (``Encoder``) and the grader's arguments decoded (``Decoder``). The
grader never trusts what comes out: it decodes replies itself with size and type checks
(``codec.parse_reply``, ``codec.decode_value``), so a student who patches ``json`` or
``numpy`` can only garble the results of their own functions.

Wire format (JSON): plain JSON scalars/lists/str-keyed dicts never appear bare; every value
is one of
    null, true/false, int (|x| < 2**63), float (finite), str, list of values,
    {"t": "tuple", "v": [...]}, {"t": "dict", "v": [[k, v], ...]},
    {"t": "float", "v": "nan" | "inf" | "-inf"}, {"t": "complex", "v": [re, im]},
    {"t": "bigint", "v": "123..."},
    {"t": "nd", "dtype": "<f8", "shape": [..], "b64": "..."},
    {"t": "handle", "id": n, "type": "Perceptron"},
    {"t": "opaque", "type": "generator", "repr": "..."}
"""

# -- shipped into the kernel from here on (see kernel_side.source) --
import binascii as _binascii
import json as _json
import math as _math
from typing import Any

# Captured when this code is executed, which in the kernel is before any notebook cell runs:
# whatever the notebook later patches (json, base64, builtins, numpy attributes), the probe
# keeps using these. (Executed with a private copy of builtins, for the same reason.)
_b2a = _binascii.b2a_base64
_a2b = _binascii.a2b_base64
_isfinite = _math.isfinite
try:
    _scan = _json.scanner.c_make_scanner(_json.JSONDecoder())  # type: ignore[attr-defined] # C accelerator, untyped
except (AttributeError, TypeError):  # a Python without the C accelerator
    _scan = _json.scanner.py_make_scanner(_json.JSONDecoder())  # type: ignore[attr-defined] # see above
try:
    _c_encoder = _json.encoder.c_make_encoder(  # type: ignore[attr-defined] # C accelerator, untyped
        None, None, _json.encoder.c_encode_basestring_ascii,  # type: ignore[attr-defined] # see above
        None, ":", ",", False, False, False)
except (AttributeError, TypeError):
    _c_encoder = None
_py_encoder = _json.JSONEncoder(ensure_ascii=True, allow_nan=False, separators=(",", ":")).iterencode


def _dumps(obj: Any) -> str:
    if _c_encoder is not None:
        return "".join(_c_encoder(obj, 0))
    return "".join(_py_encoder(obj))


def _loads(text: str) -> Any:
    return _scan(text, 0)[0]


class _NP:
    """NumPy's entry points, captured once (a notebook may rebind np.asarray and friends)."""

    def __init__(self, np: Any) -> None:
        self.ndarray = np.ndarray
        self.generic = np.generic
        self.asarray = np.asarray
        self.frombuffer = np.frombuffer
        self.dtype = np.dtype


MAX_DEPTH = 64
MAX_ITEMS = 2_000_000  # list items + array elements per result
REPR_LIMIT = 200
_ND_KINDS = "biuf"


class _TooBig(Exception):
    pass


def _short_repr(obj: Any) -> str:
    try:
        text = repr(obj)
    except BaseException:  # a hostile __repr__ may raise anything
        text = "<unrepresentable>"
    if not isinstance(text, str):
        text = "<unrepresentable>"
    return text[:REPR_LIMIT]


class Encoder:
    def __init__(self, np: Any = None, handles: dict[int, Any] | None = None, own_module: str = "__main__") -> None:
        self.np = np
        self.handles = handles if handles is not None else {}
        self.own_module = own_module
        self.items = 0

    def _count(self, n: int) -> None:
        self.items += n
        if self.items > MAX_ITEMS:
            raise _TooBig(f"result has more than {MAX_ITEMS} elements")

    def encode(self, obj: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise _TooBig(f"result is nested more than {MAX_DEPTH} levels deep")
        np = self.np
        t = type(obj)
        if obj is None or t is bool or t is str:
            self._count(1)
            return obj
        if np is not None and isinstance(obj, np.ndarray):
            # subclasses (matrix, masked, hostile overrides) are lowered to the base class
            return self._nd(obj.view(np.ndarray))
        if np is not None and isinstance(obj, np.generic):
            return self._nd(np.asarray(obj))
        if t is int:
            self._count(1)
            if -(2**63) < obj < 2**63:
                return obj
            return {"t": "bigint", "v": str(obj)}
        if t is float:
            self._count(1)
            if _isfinite(obj):
                return obj
            return {"t": "float", "v": "nan" if obj != obj else ("inf" if obj > 0 else "-inf")}
        if t is complex:
            self._count(1)
            return {"t": "complex", "v": [self.encode(obj.real, depth + 1), self.encode(obj.imag, depth + 1)]}
        if t is list:
            self._count(len(obj))
            return [self.encode(v, depth + 1) for v in obj]
        if t is tuple:
            self._count(len(obj))
            return {"t": "tuple", "v": [self.encode(v, depth + 1) for v in obj]}
        if t is dict:
            self._count(len(obj))
            return {"t": "dict", "v": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in obj.items()]}
        mod = getattr(t, "__module__", "")
        name = getattr(t, "__name__", "object")
        if mod.startswith("pandas") and name in ("DataFrame", "Series") and np is not None:
            try:
                return self._nd(np.asarray(obj.to_numpy()))
            except BaseException:  # noqa: S110 - a hostile to_numpy: the object is shown as opaque below
                pass
        if mod == self.own_module and isinstance(name, str):
            hid = len(self.handles) + 1
            self.handles[hid] = obj
            return {"t": "handle", "id": hid, "type": name[:100]}
        return {"t": "opaque", "type": (mod + "." + name)[:200] if mod else name[:200], "repr": _short_repr(obj)}

    def _nd(self, arr: Any) -> Any:
        if arr.dtype.kind not in _ND_KINDS:
            if arr.dtype.kind == "O" and arr.size <= 10000:
                # object arrays of numbers: lower to float if every item is a real number
                try:
                    arr = arr.astype(float)
                except BaseException:
                    return {"t": "opaque", "type": "numpy.ndarray[object]", "repr": _short_repr(arr)}
            elif arr.dtype.kind == "c":
                return {"t": "opaque", "type": "numpy.ndarray[complex]", "repr": _short_repr(arr)}
            else:
                return {"t": "opaque", "type": f"numpy.ndarray[{arr.dtype.str}]", "repr": _short_repr(arr)}
        self._count(int(arr.size))
        # not ascontiguousarray: it turns 0-d arrays (NumPy scalars) into shape (1,)
        arr = arr.copy(order="C")
        dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        data = arr.astype(dt, copy=False).tobytes()
        return {"t": "nd", "dtype": dt.str, "shape": list(arr.shape), "b64": _b2a(data, newline=False).decode("ascii")}


class Decoder:
    """Decode grader-sent arguments inside the kernel (trusted input, so no limits)."""

    def __init__(self, np: Any = None, handles: dict[int, Any] | None = None) -> None:
        self.np = np
        self.handles = handles if handles is not None else {}

    def decode(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict):
            return v
        t = v["t"]
        if t == "tuple":
            return tuple(self.decode(x) for x in v["v"])
        if t == "dict":
            return {self.decode(k): self.decode(x) for k, x in v["v"]}
        if t == "float":
            return float(v["v"])
        if t == "bigint":
            return int(v["v"])
        if t == "complex":
            return complex(self.decode(v["v"][0]), self.decode(v["v"][1]))
        if t == "nd":
            arr = self.np.frombuffer(_a2b(v["b64"]), dtype=self.np.dtype(v["dtype"]))
            return arr.reshape(v["shape"]).copy()
        if t == "handle":
            return self.handles[v["id"]]
        raise ValueError(f"cannot decode {t!r}")
