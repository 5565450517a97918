"""The data-only channel: every wire type round-trips, hostile replies are refused.

``kernel_side`` is the half that runs in the student's kernel (encode results, carry out
requests); ``codec`` is the grader's half (encode arguments, decode replies as hostile input).
"""

from __future__ import annotations

import base64
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from grader.errors import ChannelError
from grader.sandbox import codec, kernel_side
from grader.sandbox.codec import HandleRef, Opaque


def from_kernel(value: Any, *, handles: dict[int, Any] | None = None, own_module: str = "__main__") -> Any:
    """What the grader gets when the kernel returns ``value``: encode, JSON, decode."""
    wire = kernel_side.Encoder(np, handles, own_module).encode(value)
    return codec.decode_value(json.loads(json.dumps(wire, allow_nan=False)))


def to_kernel(value: Any) -> Any:
    """What a student's function receives when a test passes ``value`` as an argument."""
    wire = json.loads(json.dumps(codec.encode_args(value), allow_nan=False))
    return kernel_side.Decoder(np).decode(wire)


def nd(dtype: str, shape: list[Any], data: bytes = b"") -> dict[str, Any]:
    return {"t": "nd", "dtype": dtype, "shape": shape, "b64": base64.b64encode(data).decode()}


def write_reply(tmp_path: Path, content: bytes | str, name: str = "reply.json") -> str:
    p = tmp_path / name
    p.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(p)


# --- round trips --------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    0, -7, 2**63 - 1, -(2**63) + 1, 2**63, -(2**63), 10**40, -(10**40),
    0.5, -1e300, 5e-324, True, False, None, "", "가나다 ✓", "x" * 1000,
])
def test_scalars_round_trip_with_type(value: Any) -> None:
    for got in (from_kernel(value), codec.roundtrip(value), to_kernel(value)):
        assert got == value
        assert type(got) is type(value)


def test_bigints_travel_as_text_not_as_lossy_floats() -> None:
    wire = kernel_side.Encoder(np).encode(10**30 + 1)
    assert wire == {"t": "bigint", "v": str(10**30 + 1)}
    assert from_kernel(10**30 + 1) == 10**30 + 1


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinities_round_trip(value: float) -> None:
    assert from_kernel(value) == value
    assert to_kernel(value) == value


def test_nan_round_trips_as_a_float_nan() -> None:
    for got in (from_kernel(math.nan), codec.roundtrip(math.nan), to_kernel(math.nan)):
        assert isinstance(got, float) and math.isnan(got)


def test_complex_round_trips_including_nonfinite_parts() -> None:
    assert from_kernel(3 - 4j) == 3 - 4j
    got = from_kernel(complex(math.inf, math.nan))
    assert got.real == math.inf and math.isnan(got.imag)
    assert to_kernel(1 + 2j) == 1 + 2j


def test_tuples_and_lists_stay_distinct_at_every_level() -> None:
    value = ([1, (2, 3)], (4, [5, 6]), [], ())
    got = from_kernel(value)
    assert got == value
    assert type(got) is tuple and type(got[0]) is list and type(got[0][1]) is tuple
    assert type(got[1][1]) is list and got[2] == [] and got[3] == ()
    assert to_kernel(value) == value and type(to_kernel(value)[1]) is tuple


def test_dicts_keep_non_string_keys() -> None:
    value = {1: "one", (2, 3): [4], "W1": 0.5, None: True, 2.5: {"nested": (1,)}}
    for got in (from_kernel(value), codec.roundtrip(value), to_kernel(value)):
        assert got == value
        assert (2, 3) in got and 1 in got and "1" not in got


ALLOWED = ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"]


@pytest.mark.parametrize("dtype", ALLOWED)
def test_arrays_of_every_allowed_dtype_round_trip(dtype: str) -> None:
    arr = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
    for got in (from_kernel(arr), codec.roundtrip(arr), to_kernel(arr)):
        assert isinstance(got, np.ndarray)
        assert got.dtype == np.dtype(dtype)
        assert got.shape == (2, 3, 4)
        np.testing.assert_array_equal(got, arr)


def test_float_arrays_keep_nan_and_inf_elements() -> None:
    arr = np.array([np.nan, np.inf, -np.inf, 1.5])
    got = from_kernel(arr)
    np.testing.assert_array_equal(got, arr)  # NaN positions compare equal here


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(-1.25), np.int64(-3), np.uint8(200), np.bool_(True)])
def test_numpy_scalars_arrive_as_0d_arrays_not_shape_1(scalar: np.generic) -> None:
    for got in (from_kernel(scalar), codec.roundtrip(scalar)):
        assert isinstance(got, np.ndarray)
        assert got.shape == ()
        assert got.dtype == scalar.dtype
        assert got.item() == scalar.item()


def test_0d_array_keeps_shape_both_ways() -> None:
    arr = np.array(7.0)
    assert from_kernel(arr).shape == ()
    assert to_kernel(arr).shape == ()


def test_empty_and_zero_length_axes_keep_their_shape() -> None:
    for shape in [(0,), (3, 0), (0, 4, 2)]:
        got = from_kernel(np.zeros(shape))
        assert got.shape == shape


@pytest.mark.parametrize("dtype", [">f8", ">i4", ">u2", ">f4"])
def test_big_endian_arrays_arrive_with_the_same_values(dtype: str) -> None:
    arr = np.array([[1, 2, 3], [250, 5, 6]], dtype=dtype)
    wire = kernel_side.Encoder(np).encode(arr)
    assert wire["dtype"].startswith("<")
    got = from_kernel(arr)
    np.testing.assert_array_equal(got, arr.astype(arr.dtype.newbyteorder("=")))


def test_non_contiguous_views_are_sent_in_logical_order() -> None:
    base = np.arange(12.0).reshape(3, 4)
    for view in (base.T, base[:, ::2], base[::-1]):
        np.testing.assert_array_equal(from_kernel(view), view)


class _Hostile(np.ndarray):
    def tolist(self) -> Any:  # a subclass that lies to whoever asks it politely
        return [0]

    def __repr__(self) -> str:
        return "nothing to see"


@pytest.mark.parametrize("make", [
    pytest.param(lambda a: np.matrix(a), marks=pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")),
    lambda a: np.ma.masked_array(a, mask=[[False, True], [False, False]]),
    lambda a: a.view(_Hostile),
])
def test_ndarray_subclasses_are_lowered_to_plain_arrays(make: Any) -> None:
    base = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = from_kernel(make(base))
    assert type(got) is np.ndarray
    np.testing.assert_array_equal(got, base)


def test_object_arrays_of_numbers_become_float_arrays() -> None:
    arr = np.array([1, 2.5, np.int64(3)], dtype=object)
    got = from_kernel(arr)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [1.0, 2.5, 3.0])


def test_object_arrays_of_other_things_become_opaque() -> None:
    got = from_kernel(np.array([1, None, "x"], dtype=object))
    assert isinstance(got, Opaque)
    assert "object" in got.type


@pytest.mark.parametrize("arr", [np.array([1 + 2j]), np.array(["ab", "c"]), np.array(["2024-01-01"], dtype="M8[D]")])
def test_arrays_of_unsupported_dtypes_become_opaque(arr: np.ndarray) -> None:
    got = from_kernel(arr)
    assert isinstance(got, Opaque)
    assert got.type.startswith("numpy.ndarray")


def test_pandas_series_and_frames_arrive_as_arrays() -> None:
    s = from_kernel(pd.Series([1.5, 2.5, 3.5]))
    assert isinstance(s, np.ndarray) and s.shape == (3,)
    np.testing.assert_array_equal(s, [1.5, 2.5, 3.5])
    df = from_kernel(pd.DataFrame({"a": [1, 2], "b": [3, 4]}))
    np.testing.assert_array_equal(df, [[1, 3], [2, 4]])


class Thing:
    def __repr__(self) -> str:
        return "Thing()"


def test_instances_of_the_notebooks_classes_become_handles() -> None:
    handles: dict[int, Any] = {}
    a, b = Thing(), Thing()
    got = from_kernel([a, b], handles=handles, own_module=Thing.__module__)
    assert got == [HandleRef(1, "Thing"), HandleRef(2, "Thing")]
    assert handles[1] is a and handles[2] is b


def test_handles_sent_back_as_arguments_resolve_to_the_same_object() -> None:
    obj = Thing()
    wire = json.loads(json.dumps(codec.encode_args([HandleRef(1, "Thing")])))
    assert kernel_side.Decoder(np, {1: obj}).decode(wire) == [obj]


def test_other_objects_become_opaque_descriptions() -> None:
    gen = (i for i in range(3))
    got = from_kernel(gen)
    assert isinstance(got, Opaque)
    assert got.type == "builtins.generator"
    assert got.repr.startswith("<generator")
    assert str(got) == "<builtins.generator object>"
    assert isinstance(from_kernel(Thing()), Opaque)  # not the kernel's own module: no handle


def test_int_and_float_subclasses_are_not_trusted_as_numbers() -> None:
    class Sneaky(float):
        def __eq__(self, other: object) -> bool:
            return True

    assert isinstance(from_kernel(Sneaky(1.0)), Opaque)


def test_opaque_cannot_be_sent_back_as_an_argument() -> None:
    with pytest.raises(ChannelError, match="opaque"):
        codec.encode_args([Opaque("builtins.generator", "<generator>")])


def test_argument_too_large_is_a_channel_error() -> None:
    with pytest.raises(ChannelError, match="too large"):
        codec.encode_args(np.zeros(kernel_side.MAX_ITEMS + 1, dtype=bool))


# --- hostile replies: decode_value --------------------------------------------------------

def nested(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


def test_moderate_nesting_is_accepted() -> None:
    assert codec.decode_value(nested(kernel_side.MAX_DEPTH)) == nested(kernel_side.MAX_DEPTH)


@pytest.mark.parametrize("wire, match", [
    (nested(codec.MAX_DEPTH + 2), "nested"),
    ([0] * (codec.MAX_ELEMENTS + 1), "elements"),
    (nd("|b1", [codec.MAX_ELEMENTS + 1]), "elements"),
    (nd("<f8", [2**40, 2**40]), "elements"),
    (nd("O", [1], b"\0" * 8), "dtype"),
    (nd("|O", [1], b"\0" * 8), "dtype"),
    (nd("<U5", [1], b"\0" * 20), "dtype"),
    (nd("V8", [1], b"\0" * 8), "dtype"),
    (nd("|V8", [1], b"\0" * 8), "dtype"),
    (nd("<c16", [1], b"\0" * 16), "dtype"),
    (nd("<M8[D]", [1], b"\0" * 8), "dtype"),
    (nd("<f8", [3], b"\0" * 16), "does not match"),
    (nd("<f8", [2, 2], b"\0" * 40), "does not match"),
    (nd("<f8", [-1], b""), "shape"),
    (nd("<f8", [True], b"\0" * 8), "shape"),
    (nd("<f8", [2.0], b"\0" * 16), "shape"),
    (nd("<f8", "2", b"\0" * 16), "shape"),
    (nd("<f8", [1] * 33, b"\0" * 8), "shape"),
    ({"t": "nd", "dtype": "<f8", "shape": [1], "b64": "!!!notbase64!!"}, "data"),
    ({"t": "nd", "dtype": "<f8", "shape": [1], "b64": 12}, "data"),
    (math.nan, "non-finite"),
    (math.inf, "non-finite"),
    ([1.0, -math.inf], "non-finite"),
    (2**63, "out of range"),
    (-(2**70), "out of range"),
    ("x" * (codec.MAX_STR + 1), "too long"),
    ({"t": "float", "v": "1.5"}, "float"),
    ({"t": "bigint", "v": "12a"}, "integer"),
    ({"t": "bigint", "v": "1" * 6000}, "integer"),
    ({"t": "bigint", "v": 12}, "integer"),
    ({"t": "complex", "v": [1]}, "complex"),
    ({"t": "complex", "v": ["a", "b"]}, "complex"),
    ({"t": "tuple", "v": "abc"}, "container"),
    ({"t": "dict", "v": [[1]]}, "dict"),
    ({"t": "dict", "v": [[[1, 2], 3]]}, "unhashable"),
    ({"t": "handle", "id": True, "type": "Perceptron"}, "handle"),
    ({"t": "handle", "id": "1", "type": "Perceptron"}, "handle"),
    ({"t": "opaque", "type": 3, "repr": ""}, "object"),
    ({"t": "pickle", "v": "gASVAAAAAAAAAAA="}, "unknown"),
    ({"a": 1}, "unknown"),
])
def test_hostile_values_are_refused(wire: Any, match: str) -> None:
    with pytest.raises(ChannelError, match=match):
        codec.decode_value(wire)


def test_decoded_arrays_are_writable_copies() -> None:
    got = codec.decode_value(nd("<f8", [2], np.array([1.0, 2.0]).tobytes()))
    got[0] = 5.0  # frombuffer alone would give a read-only view of the reply (this would raise)
    assert got[0] == 5.0


def test_opaque_and_handle_descriptions_are_truncated() -> None:
    got = codec.decode_value({"t": "opaque", "type": "T" * 5000, "repr": "r" * 5000})
    assert len(got.type) <= 200 and len(got.repr) <= 200
    h = codec.decode_value({"t": "handle", "id": 3, "type": "P" * 5000})
    assert h.id == 3 and len(h.type) <= 100


@pytest.mark.parametrize("text", ["--5", "²", pytest.param("9" * 4500, id="4500-digits")])
def test_malformed_bigint_text_is_a_channel_error(text: str) -> None:
    with pytest.raises(ChannelError):
        codec.decode_value({"t": "bigint", "v": text})


@pytest.mark.parametrize("dtype", [["<f8"], {"x": 1}])
def test_unhashable_dtype_is_a_channel_error(dtype: Any) -> None:
    with pytest.raises(ChannelError):
        codec.decode_value({"t": "nd", "dtype": dtype, "shape": [1], "b64": "AAAAAAAAAAA="})


@pytest.mark.parametrize("shape", [[0, 2**70], [0, 2**40, 2**40]])
def test_zero_size_array_with_absurd_axes_is_a_channel_error(shape: list[int]) -> None:
    with pytest.raises(ChannelError):
        codec.decode_value(nd("<f8", shape))


# --- hostile replies: read_reply ----------------------------------------------------------

def test_read_reply_accepts_a_plain_reply(tmp_path: Path) -> None:
    path = write_reply(tmp_path, json.dumps({"ok": True, "value": [1, {"t": "tuple", "v": [2]}]}))
    reply = codec.read_reply(path)
    assert reply["ok"] is True
    assert codec.decode_value(reply["value"]) == [1, (2,)]


def test_read_reply_missing_file_means_no_result(tmp_path: Path) -> None:
    with pytest.raises(ChannelError, match="no result"):
        codec.read_reply(str(tmp_path / "absent.json"))


def test_read_reply_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    path = write_reply(tmp_path, json.dumps({"ok": True, "value": "x" * 500}))
    with pytest.raises(ChannelError, match="limit"):
        codec.read_reply(path, max_bytes=100)
    assert codec.read_reply(path, max_bytes=10_000)["ok"] is True


def test_read_reply_does_not_follow_a_symlink(tmp_path: Path) -> None:
    secret = tmp_path / "grader_secret.json"
    secret.write_text(json.dumps({"ok": True, "value": "hidden expected values"}))
    link = tmp_path / "reply.json"
    link.symlink_to(secret)
    with pytest.raises(ChannelError, match="could not be opened"):
        codec.read_reply(str(link))


def test_read_reply_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "reply.json"
    os.mkfifo(fifo)
    with pytest.raises(ChannelError, match="not a regular file"):
        codec.read_reply(str(fifo))


def test_read_reply_refuses_a_directory(tmp_path: Path) -> None:
    (tmp_path / "reply.json").mkdir()
    with pytest.raises(ChannelError):
        codec.read_reply(str(tmp_path / "reply.json"))


@pytest.mark.parametrize("content, match", [
    (b'{"ok": true, "value": "\xff\xfe"}', "not valid JSON"),
    (b"\x80\x81\x82", "not valid JSON"),
    (b'{"ok": true, "value": [1, 2', "not valid JSON"),
    (b"", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    (b'[{"ok": true}]', "expected shape"),
    (b'"ok"', "expected shape"),
    (b'{"value": 1}', "expected shape"),
    (b'{"ok": 1, "value": 1}', "expected shape"),
    (b'{"ok": "true"}', "expected shape"),
])
def test_read_reply_refuses_malformed_files(tmp_path: Path, content: bytes, match: str) -> None:
    with pytest.raises(ChannelError, match=match):
        codec.read_reply(write_reply(tmp_path, content))


def test_nan_literal_in_a_reply_is_refused_when_decoded(tmp_path: Path) -> None:
    # Python's json accepts NaN/Infinity literals; the value decoder must not.
    reply = codec.read_reply(write_reply(tmp_path, '{"ok": true, "value": [1.0, NaN]}'))
    with pytest.raises(ChannelError, match="non-finite"):
        codec.decode_value(reply["value"])


# --- kernel_side.perform ------------------------------------------------------------------

class Counter:
    def __init__(self, start: int = 0) -> None:
        self.n = start

    def bump(self, by: int = 1) -> int:
        self.n += by
        return self.n

    def boom(self) -> None:
        raise ZeroDivisionError("division by zero in bump")


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class NotAStr:
    def __repr__(self) -> Any:
        return 42


class Custom(BaseException):
    pass


class BadMessage(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str fails too")


def make_ns() -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "__main__"}
    exec(  # noqa: S102 - test namespace, our own code
        "X = 10\n"
        "def times_x(k):\n    return X * k\n"
        "def uses_y():\n    return Y\n"
        "def explode():\n    global X\n    X = -1\n    raise ValueError('bad input: ' + str(X))\n",
        ns,
    )
    ns.update({
        "add": lambda a, b: a + b,
        "Counter": Counter,
        "exits": lambda: exit_(3),
        "custom": lambda: raise_(Custom("not an Exception")),
        "interrupt": lambda: raise_(KeyboardInterrupt()),
        "generator_exit": lambda: raise_(GeneratorExit()),
        "bad_message": lambda: raise_(BadMessage()),
        "recurse": recurse,
        "huge": lambda: np.zeros(kernel_side.MAX_ITEMS + 1, dtype=bool),
        "deep": lambda: nested(kernel_side.MAX_DEPTH + 5),
        "many": lambda: [None] * (kernel_side.MAX_ITEMS + 1),
        "unprintable": lambda: Unprintable(),
        "not_a_str": lambda: NotAStr(),
    })
    return ns


def exit_(code: int) -> None:
    raise SystemExit(code)


def raise_(exc: BaseException) -> None:
    raise exc


def recurse(n: int = 0) -> int:
    return recurse(n + 1)


def perform(req: dict[str, Any], ns: dict[str, Any], handles: dict[int, Any] | None = None,
            own_module: str = __name__) -> dict[str, Any]:
    """One request, with JSON on both sides exactly as between grader and kernel."""
    handles = {} if handles is None else handles
    reply = kernel_side.perform(json.loads(json.dumps(req)), ns, handles, np, own_module=own_module)
    return json.loads(json.dumps(reply, allow_nan=False))


def call(name: str, *args: Any, globals_: dict[str, Any] | None = None) -> dict[str, Any]:
    req: dict[str, Any] = {"op": "call", "name": name, "args": codec.encode_args(list(args))}
    if globals_ is not None:
        req["globals"] = {k: codec.encode_args(v) for k, v in globals_.items()}
    return req


def value(reply: dict[str, Any]) -> Any:
    assert reply["ok"] is True, reply
    return codec.decode_value(reply["value"])


def test_call_passes_decoded_arguments_and_returns_the_encoded_value() -> None:
    ns = make_ns()
    assert value(perform(call("add", 2, 3), ns)) == 5
    got = value(perform(call("add", np.array([1.0, 2.0]), np.array([10.0, 20.0])), ns))
    np.testing.assert_array_equal(got, [11.0, 22.0])
    assert value(perform(call("add", (1,), (2, 3)), ns)) == (1, 2, 3)


def test_call_with_keyword_arguments() -> None:
    ns = make_ns()
    req = {"op": "call", "name": "add", "args": codec.encode_args([1]), "kwargs": {"b": codec.encode_args(41)}}
    assert value(perform(req, ns)) == 42


def test_get_and_has() -> None:
    ns = make_ns()
    assert value(perform({"op": "get", "name": "X"}, ns)) == 10
    assert perform({"op": "has", "name": "X"}, ns) == {"ok": True, "value": True}
    assert perform({"op": "has", "name": "nope"}, ns) == {"ok": True, "value": False}


@pytest.mark.parametrize("req", [
    {"op": "call", "name": "nope", "args": []},
    {"op": "get", "name": "nope"},
])
def test_missing_names_are_reported_as_missing(req: dict[str, Any]) -> None:
    assert perform(req, make_ns()) == {"ok": False, "missing": "nope"}


def test_instances_method_getattr_setattr() -> None:
    ns, handles = make_ns(), {}
    ref = value(perform(call("Counter", 5), ns, handles))
    assert ref == HandleRef(1, "Counter")
    method = {"op": "method", "handle": ref.id, "name": "bump", "args": codec.encode_args([2])}
    assert value(perform(method, ns, handles)) == 7
    assert value(perform(method, ns, handles)) == 9  # state lives in the kernel
    assert value(perform({"op": "getattr", "handle": ref.id, "name": "n"}, ns, handles)) == 9
    assert perform({"op": "setattr", "handle": ref.id, "name": "n", "value": codec.encode_args(100)}, ns, handles)["ok"]
    assert handles[1].n == 100
    assert value(perform({"op": "getattr", "handle": ref.id, "name": "n"}, ns, handles)) == 100


def test_missing_attribute_and_method_are_reported_as_missing() -> None:
    ns, handles = make_ns(), {}
    value(perform(call("Counter"), ns, handles))
    assert perform({"op": "getattr", "handle": 1, "name": "weight"}, ns, handles) == {"ok": False, "missing": "weight"}
    reply = perform({"op": "method", "handle": 1, "name": "fit", "args": []}, ns, handles)
    assert reply == {"ok": False, "missing": "fit"}


def test_exception_in_a_method_is_an_error_reply() -> None:
    ns, handles = make_ns(), {}
    value(perform(call("Counter"), ns, handles))
    reply = perform({"op": "method", "handle": 1, "name": "boom", "args": []}, ns, handles)
    assert reply["ok"] is False
    assert reply["error"]["type"] == "ZeroDivisionError"
    assert "division by zero" in reply["error"]["message"]


def test_globals_override_applies_during_the_call_and_is_restored() -> None:
    ns = make_ns()
    assert value(perform(call("times_x", 2, globals_={"X": 7}), ns)) == 14
    assert ns["X"] == 10
    assert value(perform(call("times_x", 2), ns)) == 20


def test_globals_that_did_not_exist_are_removed_afterwards() -> None:
    ns = make_ns()
    got = value(perform(call("uses_y", globals_={"Y": np.array([1.0, 2.0])}), ns))
    np.testing.assert_array_equal(got, [1.0, 2.0])
    assert "Y" not in ns


def test_globals_are_restored_when_the_function_raises() -> None:
    ns = make_ns()
    reply = perform(call("explode", globals_={"X": 99, "Z": 1}), ns)
    assert reply["ok"] is False and reply["error"]["type"] == "ValueError"
    assert ns["X"] == 10  # neither the override nor the function's own write survives
    assert "Z" not in ns


@pytest.mark.parametrize("name, exc_type", [
    ("exits", "SystemExit"),
    ("custom", "Custom"),
    ("interrupt", "KeyboardInterrupt"),
    ("generator_exit", "GeneratorExit"),
    ("recurse", "RecursionError"),
])
def test_any_base_exception_becomes_an_error_reply(name: str, exc_type: str) -> None:
    reply = perform(call(name), make_ns())
    assert reply["ok"] is False
    assert reply["error"]["type"] == exc_type
    assert isinstance(reply["error"]["traceback"], list)
    assert len(reply["error"]["traceback"]) <= 12


def test_error_reply_carries_message_and_student_frames_only() -> None:
    reply = perform(call("explode"), make_ns())
    err = reply["error"]
    assert err["message"] == "bad input: -1"
    assert not any("kernel_side" in line for line in err["traceback"])
    assert any("explode" in line for line in err["traceback"])


def test_exception_whose_str_raises_is_still_reported() -> None:
    reply = perform(call("bad_message"), make_ns())
    assert reply["ok"] is False
    assert reply["error"]["type"] == "BadMessage"
    assert isinstance(reply["error"]["message"], str)


@pytest.mark.parametrize("name", ["huge", "deep", "many"])
def test_results_over_the_limits_are_toobig(name: str) -> None:
    reply = perform(call(name), make_ns())
    assert reply["ok"] is False
    assert "toobig" in reply


def test_object_whose_repr_raises_becomes_unrepresentable_opaque() -> None:
    # own_module is the notebook's, not this module: these objects are not handles
    got = value(perform(call("unprintable"), make_ns(), own_module="__main__"))
    assert isinstance(got, Opaque)
    assert got.repr == "<unrepresentable>"
    got = value(perform(call("not_a_str"), make_ns(), own_module="__main__"))
    assert got.repr == "<unrepresentable>"


def test_unknown_op_is_a_protocol_error() -> None:
    reply = perform({"op": "exec", "name": "X", "args": []}, make_ns())
    assert reply["ok"] is False and reply["error"]["type"] == "ProtocolError"


def test_probe_writes_its_reply_file(tmp_path: Path) -> None:
    ns = make_ns()
    kernel_side.install(ns, str(tmp_path), "__probe")
    ns["__probe"].handle(json.dumps(call("add", 1, 2)), "r1.json")
    reply = codec.read_reply(str(tmp_path / "r1.json"))
    assert codec.decode_value(reply["value"]) == 3
