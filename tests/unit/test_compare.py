"""Tolerance comparison: what matches, and the one-line explanation when it does not."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from grader.checks.compare import Mismatch, compare, describe_value
from grader.sandbox.codec import HandleRef, Opaque


def mismatch(got: Any, want: Any, **kw: Any) -> Mismatch:
    m = compare(got, want, **kw)
    assert m is not None, f"{got!r} unexpectedly matched {want!r}"
    return m


# --- equal within tolerance ---------------------------------------------------------------

def test_equal_within_rtol_and_atol() -> None:
    want = np.array([0.81956037, 1.7977893])
    assert compare(want * (1 + 5e-7), want) is None
    assert mismatch(want * (1 + 5e-6), want).kind == "value"
    assert compare(want * (1 + 5e-6), want, rtol=1e-5) is None


def test_atol_governs_near_zero() -> None:
    assert compare(np.array([1e-9]), np.array([0.0])) is None
    assert compare(np.array([1e-7]), np.array([0.0])).kind == "value"  # type: ignore[union-attr]  # not None: asserted by this very line
    assert compare(np.array([1e-7]), np.array([0.0]), atol=1e-6) is None


def test_scalar_matches_0d_array_and_vice_versa() -> None:
    assert compare(0.5, np.array(0.5)) is None
    assert compare(np.array(0.5), 0.5) is None
    assert compare(np.float64(0.5), 0.5) is None
    m = mismatch(0.7, np.array(0.5))
    assert m.message.startswith("got 0.7, expected 0.5")
    assert "rtol=1e-06" in m.message


def test_ints_and_floats_compare_by_value() -> None:
    assert compare(1, 1.0) is None
    assert compare(np.array([0, 1, 1, 0]), np.array([0.0, 1.0, 1.0, 0.0])) is None
    assert compare(True, 1) is None
    assert mismatch(2, 1.0).kind == "value"


def test_bool_arrays() -> None:
    assert compare(np.array([True, False]), np.array([True, False])) is None
    m = mismatch(np.array([True, False, True]), np.array([True, True, True]))
    assert "1 of 3 elements differ" in m.message
    assert m.index == (1,)


def test_bigints_compare_without_overflow() -> None:
    assert compare(2**70, 2**70) is None
    assert compare(2**70 + 2**40, 2**70) is None  # relative difference 1e-9, within rtol
    assert mismatch(2**71, 2**70).kind == "value"


def test_lists_and_arrays_compare_by_value() -> None:
    assert compare([[1.0, 2.0], [3.0, 4.0]], np.array([[1.0, 2.0], [3.0, 4.0]])) is None
    assert compare(np.array([1.0, 2.0]), [1.0, 2.0]) is None


# --- shapes -------------------------------------------------------------------------------

def test_shape_mismatch_with_squeeze_hint() -> None:
    m = mismatch(np.zeros(2), np.zeros((2, 1)))
    assert m.kind == "shape"
    assert m.message.startswith("shape (2,), expected (2, 1)")
    assert "reshape/keepdims" in m.message
    assert m.details == {"got_shape": [2], "want_shape": [2, 1]}


def test_scalar_vs_length_1_array_gets_the_squeeze_hint() -> None:
    m = mismatch(0.5, np.array([0.5]))
    assert m.kind == "shape" and "length-1 axes" in m.message


def test_accidental_broadcast_hint() -> None:
    # weights kept as a list: A - Y with A (4,) and Y (4, 1) silently gives (4, 4)
    m = mismatch(np.zeros((4, 4)), np.zeros((4, 1)))
    assert m.kind == "shape"
    assert "shape (4, 4), expected (4, 1)" in m.message
    assert "accidental broadcast" in m.message


def test_plain_shape_mismatch_has_no_hint() -> None:
    m = mismatch(np.zeros(3), np.zeros(2))
    assert m.message == "shape (3,), expected (2,)"


@pytest.mark.parametrize("got_shape", [(2,), (2, 1), (1, 2), (1, 2, 1)])
def test_shape_squeeze_accepts_length_1_axes(got_shape: tuple[int, ...]) -> None:
    want = np.array([[-0.08670498], [-0.13983613]])
    got = want.reshape(got_shape)
    assert compare(got, want, shape="squeeze") is None
    assert mismatch(got * 2, want, shape="squeeze").kind == "value"


def test_shape_squeeze_still_refuses_other_shapes() -> None:
    assert mismatch(np.zeros(3), np.zeros((2, 1)), shape="squeeze").kind == "shape"


def test_shape_broadcast() -> None:
    assert compare(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([1.0, 1.0]), shape="broadcast") is None
    m = mismatch(np.zeros(3), np.zeros(4), shape="broadcast")
    assert m.kind == "shape" and "cannot broadcast" in m.message
    assert mismatch(np.array([[1.0, 2.0]]), np.array([1.0, 1.0]), shape="broadcast").kind == "value"


# --- non-finite values --------------------------------------------------------------------

def test_nan_where_a_finite_value_was_expected() -> None:
    m = mismatch(np.array([1.0, np.nan, 3.0]), np.array([1.0, 2.0, 3.0]))
    assert m.kind == "nonfinite"
    assert m.index == (1,)
    assert m.message == "nan at index [1] where 2 was expected"


def test_inf_where_a_finite_value_was_expected_2d() -> None:
    m = mismatch(np.array([[1.0, 2.0], [np.inf, 4.0]]), np.ones((2, 2)))
    assert m.kind == "nonfinite"
    assert m.message.startswith("inf at index [1, 0]")


def test_nan_scalar_where_finite_expected() -> None:
    m = mismatch(math.nan, 1.0)
    assert m.kind == "nonfinite" and "nan" in m.message


def test_nan_expected_and_nan_got_is_equal() -> None:
    assert compare(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) is None
    assert compare(math.nan, math.nan) is None


def test_matching_infinities_are_equal() -> None:
    assert compare(np.array([np.inf, -np.inf]), np.array([np.inf, -np.inf])) is None


def test_nan_where_inf_was_expected_differs() -> None:
    assert mismatch(np.array([np.nan]), np.array([np.inf])).kind == "value"


@pytest.mark.parametrize("got, want", [
    (5.0, math.inf),
    (np.array([1.0, 5.0]), np.array([1.0, np.inf])),
    (np.array([-np.inf]), np.array([np.inf])),
    (np.array([0.0, 1e9]), np.array([np.inf, -np.inf])),
])
def test_finite_or_opposite_value_where_inf_expected_differs(got: Any, want: Any) -> None:
    assert compare(got, want) is not None


def test_worst_index_and_max_error_when_expected_has_nan() -> None:
    m = mismatch(np.array([1.0, 5.0]), np.array([1.0, np.nan]))
    assert m.index == (1,)
    assert "at index [1] expected nan, got 5" in m.message
    assert "-1" not in m.message


# --- value messages -----------------------------------------------------------------------

def test_first_and_worst_index_and_counts() -> None:
    m = mismatch(np.array([1.0, 2.5, 3.0, 10.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    assert m.kind == "value"
    assert m.index == (1,)
    assert m.message.startswith("2 of 4 elements differ; first at index [1]: got 2.5, expected 2;")
    assert "worst at [3]" in m.message
    assert m.details["max_abs"] == pytest.approx(6.0)
    assert m.details["max_rel"] == pytest.approx(1.5)
    assert m.details["n_bad"] == 2 and m.details["n"] == 4


def test_multi_dimensional_indices() -> None:
    want = np.zeros((2, 3))
    got = want.copy()
    got[1, 2] = 0.5
    got[0, 1] = 0.1
    m = mismatch(got, want)
    assert m.index == (0, 1)
    assert "first at index [0, 1]" in m.message and "worst at [1, 2]" in m.message


# --- containers ---------------------------------------------------------------------------

def test_tuple_of_arrays_names_the_value() -> None:
    want = (np.array([0.1, 0.2]), -0.027, np.array([1.0, 2.0, 3.0]))
    assert compare(tuple(want), want) is None
    m = mismatch((want[0], want[1], np.array([1.0, 2.0, 4.0])), want)
    assert m.message.startswith("value 3 of 3: 1 of 3 elements differ")
    assert m.index == (2,)
    m = mismatch((want[0], 0.5, want[2]), want)
    assert m.message.startswith("value 2 of 3: got 0.5, expected -0.027")


def test_tuple_length_and_type_messages() -> None:
    want = (np.array([0.1, 0.2]), -0.027)
    m = mismatch((np.array([0.1, 0.2]), -0.027, 1.0), want)
    assert m.kind == "length" and m.message == "expected 2 values, got 3"
    m = mismatch(np.array([0.1, 0.2]), want)
    assert m.kind == "length" and "expected 2 values (a tuple), got an array of float64" in m.message


def test_list_got_for_tuple_want_is_fine() -> None:
    want = (np.array([0.1, 0.2]), -0.027)
    assert compare([np.array([0.1, 0.2]), -0.027], want) is None


def test_dicts_compare_per_key() -> None:
    want = {"W1": np.ones((3, 4)), "B1": np.zeros(4)}
    assert compare({"W1": np.ones((3, 4)), "B1": np.zeros(4), "extra": 1}, want) is None
    m = mismatch({"W1": np.ones((3, 4)), "B1": np.ones(4)}, want)
    assert m.message.startswith("['B1']: 4 of 4 elements differ")
    m = mismatch({"W1": np.ones((3, 4))}, want)
    assert m.message == "the dict is missing key 'B1'"
    m = mismatch([1, 2], want)
    assert m.kind == "type" and m.message == "expected a dict, got a list"
    m = mismatch({"W1": np.ones((4, 3)), "B1": np.zeros(4)}, want)
    assert m.kind == "shape" and m.message.startswith("['W1']: shape (4, 3), expected (3, 4)")


def test_ragged_list_is_a_type_mismatch() -> None:
    m = mismatch([[1.0, 2.0], [3.0]], np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert m.kind == "type"
    assert "expected a number or numeric array, got a list" in m.message


@pytest.mark.parametrize("got, text", [
    (None, "got None"),
    (Opaque("builtins.generator", "<generator object f at 0x1>"), "got a builtins.generator object"),
    (HandleRef(1, "Perceptron"), "got a Perceptron instance"),
    ("0.5", "got a str"),
    ({"a": 1}, "got a dict"),
    (np.array(["a"]), "got an array of <U1"),
])
def test_non_numeric_got_is_a_type_mismatch(got: Any, text: str) -> None:
    m = mismatch(got, np.array([0.5]))
    assert m.kind == "type"
    assert text in m.message


def test_non_numeric_wanted_values_compare_by_equality() -> None:
    assert compare("Iris-setosa", "Iris-setosa") is None
    assert compare(None, None) is None
    m = mismatch("a", "b")
    assert m.message == "expected 'b', got 'a'"


@pytest.mark.parametrize("want", [None, "done", Opaque("builtins.generator", "<gen>")])
def test_array_got_for_non_numeric_want_is_a_mismatch(want: Any) -> None:
    assert compare(np.array([1.0, 2.0]), want) is not None


# --- describe_value -----------------------------------------------------------------------

def test_describe_value_is_short_and_deterministic() -> None:
    assert describe_value(np.array([0.5, 1.0])) == "[0.5, 1. ] (shape (2,), float64)"
    assert describe_value(np.zeros((10, 10))) == "array of shape (10, 10)"
    assert describe_value(0.1 + 0.2) == "0.3"
    assert describe_value(Opaque("builtins.generator", "<g>")) == "a builtins.generator object"
    assert describe_value(HandleRef(2, "Perceptron")) == "a Perceptron instance"
    long = describe_value("x" * 500, limit=50)
    assert len(long) == 50 and long.endswith("...")
