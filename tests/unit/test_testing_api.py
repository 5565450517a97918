"""What rubric tests import: markers, close, credit, and expect() judging against variants.

Namespaces are faked: ``FakeNamespace._request`` calls plain Python functions, so no
kernel and no reference notebook are needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from grader import testing
from grader.errors import MissingName, RubricError
from grader.matching import settle
from grader.namespaces import Namespace, ReferenceSet
from grader.rubric import VariantSpec
from grader.sandbox import codec
from helpers import judged
from grader.testing import (
    Failed,
    PartialCredit,
    close,
    credit,
    diagnose,
    expect,
    expect_global,
    fail,
    note,
    parametrize,
    points,
    timeout,
    tolerance,
)


class FakeNamespace(Namespace):
    """Requests go to Python callables and globals; values cross the real codec both ways."""

    label = "fake"

    def __init__(self, **objects: Any) -> None:
        self.objects = objects
        self.requests: list[dict[str, Any]] = []

    def _request(self, req: dict[str, Any], what: str) -> Any:
        self.requests.append(req)
        name = req["name"]
        if name not in self.objects:
            raise MissingName(name)
        obj = self.objects[name]
        if req["op"] == "get":
            return codec.roundtrip(obj)
        assert req["op"] == "call", req
        args = codec.decode_value(req["args"])
        kwargs = {k: codec.decode_value(v) for k, v in req.get("kwargs", {}).items()}
        glob = {k: codec.decode_value(v) for k, v in req.get("globals", {}).items()}
        if glob:
            kwargs["_globals"] = glob
        return codec.roundtrip(obj(*args, **kwargs))


def variant(name: str, kind: str, credit: float, functions: tuple[str, ...], hint: str = "") -> VariantSpec:
    return VariantSpec(name=name, kind=kind, credit=credit, functions=functions, file=f"variants/{name}.py",
                       title=f"title of {name}", hint=hint, source="")


@pytest.fixture
def ctx() -> Iterator[testing._Context]:
    """A fresh per-test context, as the runner sets one around each rubric test."""
    c = testing._Context(rtol=1e-6, atol=1e-8)
    token = testing._ctx.set(c)
    yield c
    testing._ctx.reset(token)




@pytest.mark.parametrize("marker, message", [
    (lambda: testing.task("gates"), "TASK = 'gates'"),
    (lambda: testing.hidden(lambda s: None), "tests/hidden/"),
])
def test_removed_markers_say_what_replaces_them(marker: Callable[[], Any], message: str) -> None:
    with pytest.raises(RubricError, match=message):
        marker()


@pytest.mark.parametrize("value", [-1, "3", True, float("nan")])
def test_points_must_be_a_number(value: Any) -> None:
    with pytest.raises(RubricError, match="@points"):
        points(value)


@pytest.mark.parametrize("value", [0, -2, "5"])
def test_timeout_must_be_positive(value: Any) -> None:
    with pytest.raises(RubricError, match="@timeout"):
        timeout(value)


def test_parametrize_single_and_multiple_names() -> None:
    @parametrize("x", [0.0, -2, "s", None, True])
    def test_a(x: Any) -> None:
        pass

    assert test_a.__grader__["cases"] == [
        ("0.0", {"x": 0.0}), ("-2", {"x": -2}), ("s", {"x": "s"}), ("None", {"x": None}), ("True", {"x": True}),
    ]

    @parametrize("x1, x2", [(0, 1), (1, 1)], ids=["a", "b"])
    def test_b(x1: int, x2: int) -> None:
        pass

    assert test_b.__grader__["cases"] == [("a", {"x1": 0, "x2": 1}), ("b", {"x1": 1, "x2": 1})]


def test_parametrize_single_name_keeps_tuples_whole() -> None:
    @parametrize("sizes", [(3, 4, 2), (5, 3, 2)], ids=["3-4-2", "5-3-2"])
    def test_c(sizes: tuple[int, ...]) -> None:
        pass

    assert test_c.__grader__["cases"][0] == ("3-4-2", {"sizes": (3, 4, 2)})


def test_stacked_parametrize_multiplies() -> None:
    @parametrize("fn", ["step", "relu"])
    @parametrize("shape", [(7,), (3, 4), (2, 3, 2)], ids=["1d", "2d", "3d"])
    def test_d(fn: str, shape: tuple[int, ...]) -> None:
        pass

    cases = test_d.__grader__["cases"]
    assert len(cases) == 6
    assert len({cid for cid, _ in cases}) == 6
    assert ("relu-2d", {"fn": "relu", "shape": (3, 4)}) in cases


def test_parametrize_wrong_number_of_values() -> None:
    with pytest.raises(TypeError, match="case 1 has 3 values"):
        parametrize("x1, x2", [(0, 1), (1, 1, 1)])(lambda x1, x2: None)


def test_parametrize_ids_are_unique_for_non_scalar_values() -> None:
    @parametrize("x", [np.zeros(2), np.ones(2), [1, 2]])
    def test_e(x: Any) -> None:
        pass

    ids = [cid for cid, _ in test_e.__grader__["cases"]]
    assert len(set(ids)) == len(ids)


# --- close, fail, credit, notes -----------------------------------------------------------

def test_close_passes_within_the_rubric_tolerance(ctx: testing._Context) -> None:
    close(np.array([1.0, 2.0]) * (1 + 1e-7), np.array([1.0, 2.0]))
    ctx.rtol = 1e-9
    with pytest.raises(Failed):
        close(np.array([1.0, 2.0]) * (1 + 1e-7), np.array([1.0, 2.0]))
    assert tolerance() == (1e-9, 1e-8)


def test_close_raises_failed_with_the_compare_message(ctx: testing._Context) -> None:
    got, want = np.array([1.0, 5.0]), np.array([1.0, 2.0])
    with pytest.raises(Failed) as info:
        close(got, want, what="forward(network, x)")
    exc = info.value
    assert str(exc).startswith("forward(network, x): 1 of 2 elements differ; first at index [1]: got 5, expected 2")
    assert exc.mismatch is not None and exc.mismatch.index == (1,)
    assert exc.got is got and exc.want is want
    assert isinstance(exc, AssertionError)


def test_close_explicit_tolerance_and_shape(ctx: testing._Context) -> None:
    close(np.array([1.1]), np.array([1.0]), rtol=0.2)
    close(np.array([1.0, 2.0]), np.array([[1.0], [2.0]]), shape="squeeze")
    with pytest.raises(Failed, match=r"shape \(2,\), expected \(2, 1\)"):
        close(np.array([1.0, 2.0]), np.array([[1.0], [2.0]]))


def test_fail_and_credit(ctx: testing._Context) -> None:
    with pytest.raises(Failed, match="^XOR must combine the other gates$"):
        fail("XOR must combine the other gates")
    with pytest.raises(PartialCredit) as info:
        credit(0.25, "db_from_da", "use dz")
    assert (info.value.fraction, info.value.mistake, info.value.hint) == (0.25, "db_from_da", "use dz")
    assert ctx.diagnoses == [{"name": "db_from_da", "kind": "mistake", "hint": "use dz"}]


def test_notes_and_diagnoses_go_to_the_running_test_only(ctx: testing._Context) -> None:
    note("recognised reading")
    diagnose("labels_0_1", "use ±1", kind="mistake")
    assert ctx.notes == ["recognised reading"]
    assert ctx.diagnoses == [{"name": "labels_0_1", "kind": "mistake", "hint": "use ±1"}]
    inner = testing._Context()
    token = testing._ctx.set(inner)
    try:
        note("other test")
    finally:
        testing._ctx.reset(token)
    assert ctx.notes == ["recognised reading"] and inner.notes == ["other test"]


# --- expect: reference, accepted readings, known mistakes ---------------------------------

def sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


NET = {"W1": np.array([[0.1, -0.3], [0.2, 0.4]]), "B1": np.array([0.1, -0.2]),
       "W2": np.array([[0.5], [-0.6]]), "B2": np.array([0.3])}
X = np.array([1.0, 0.5])


def forward(net: dict[str, Any], x: Any) -> Any:
    return sigmoid(x @ net["W1"] + net["B1"]) @ net["W2"] + net["B2"]


def forward_relu(net: dict[str, Any], x: Any) -> Any:
    return np.maximum(0, x @ net["W1"] + net["B1"]) @ net["W2"] + net["B2"]


def forward_sigmoid_out(net: dict[str, Any], x: Any) -> Any:
    return sigmoid(forward(net, x))


def forward_no_bias(net: dict[str, Any], x: Any) -> Any:
    return sigmoid(x @ net["W1"]) @ net["W2"]


def forward_identity(net: dict[str, Any], x: Any) -> Any:
    return (x @ net["W1"] + net["B1"]) @ net["W2"] + net["B2"]


def reference_set(variants: list[tuple[VariantSpec, dict[str, Any]]] | None = None,
                  returns: dict[str, Any] | None = None, **objects: Any) -> ReferenceSet:
    return ReferenceSet(
        FakeNamespace(**objects),
        [(spec, FakeNamespace(**objs)) for spec, objs in (variants or [])],
        returns or {},
    )


FORWARD_VARIANTS = [
    (variant("relu_hidden", "accepted", 1.0, ("forward",), hint="ReLU in the hidden layer is accepted."),
     {"forward": forward_relu}),
    (variant("sigmoid_out", "accepted", 1.0, ("forward",)), {"forward": forward_sigmoid_out}),
    (variant("no_bias", "mistake", 0.5, ("forward",), hint="add B1 and B2"), {"forward": forward_no_bias}),
    (variant("no_activation", "mistake", 0.0, ("forward",), hint="apply sigmoid in the hidden layer"),
     {"forward": forward_identity}),
    (variant("other_function", "mistake", 0.5, ("sigmoid",)), {"forward": forward_relu}),
]


def test_expect_direct_match_passes_and_returns_the_students_value(ctx: testing._Context) -> None:
    ref = reference_set(FORWARD_VARIANTS, forward=forward)
    got = expect(FakeNamespace(forward=forward), ref, "forward", NET, X)
    np.testing.assert_allclose(got, forward(NET, X))
    assert ctx.diagnoses == [] and ctx.notes == []


def test_expect_accepted_variant_passes_with_a_diagnosis_and_a_note(ctx: testing._Context) -> None:
    ref = reference_set(FORWARD_VARIANTS, forward=forward)
    got = judged(FakeNamespace(forward=forward_relu), ref, "forward", NET, X)
    np.testing.assert_allclose(got, forward_relu(NET, X))
    assert ctx.diagnoses == [{"name": "relu_hidden", "kind": "accepted",
                              "hint": "ReLU in the hidden layer is accepted."}]
    assert ctx.notes == ["forward: recognised reading 'title of relu_hidden', accepted"]


def test_expect_accepted_variant_without_hint_uses_its_title(ctx: testing._Context) -> None:
    ref = reference_set(FORWARD_VARIANTS, forward=forward)
    judged(FakeNamespace(forward=forward_sigmoid_out), ref, "forward", NET, X)
    assert ctx.diagnoses[0]["hint"] == "title of sigmoid_out"


def test_expect_mistake_with_credit_raises_partial_credit(ctx: testing._Context) -> None:
    ref = reference_set(FORWARD_VARIANTS, forward=forward)
    with pytest.raises(PartialCredit) as info:
        judged(FakeNamespace(forward=forward_no_bias), ref, "forward", NET, X)
    assert info.value.fraction == 0.5
    assert info.value.mistake == "no_bias"
    assert "known mistake no_bias" in str(info.value)  # the student is told which mistake (its words: the diagnosis)
    assert ctx.diagnoses == [{"name": "no_bias", "kind": "mistake", "hint": "add B1 and B2"}]


def test_expect_mistake_without_credit_fails_with_the_diagnosis_attached(ctx: testing._Context) -> None:
    ref = reference_set(FORWARD_VARIANTS, forward=forward)
    with pytest.raises(Failed) as info:
        judged(FakeNamespace(forward=forward_identity), ref, "forward", NET, X)
    assert str(info.value).startswith("forward: ")
    assert "known mistake no_activation" in str(info.value)
    assert "elements differ" in str(info.value)
    assert info.value.call.startswith("forward({")
    assert ctx.diagnoses == [{"name": "no_activation", "kind": "mistake", "hint": "apply sigmoid in the hidden layer"}]


def test_expect_unknown_wrong_answer_fails_without_diagnosis(ctx: testing._Context) -> None:
    ref = reference_set(FORWARD_VARIANTS, forward=forward)
    with pytest.raises(Failed) as info:
        judged(FakeNamespace(forward=lambda net, x: np.zeros(1)), ref, "forward", NET, X)
    np.testing.assert_allclose(info.value.want, forward(NET, X))
    assert ctx.diagnoses == [] and ctx.notes == []


def test_expect_only_consults_variants_of_the_called_function(ctx: testing._Context) -> None:
    # 'other_function' would match forward_relu but lists only sigmoid: it must not be used
    ref = reference_set([FORWARD_VARIANTS[4]], forward=forward)
    with pytest.raises(Failed):
        judged(FakeNamespace(forward=forward_relu), ref, "forward", NET, X)
    assert ctx.diagnoses == []


def test_expect_accepted_readings_win_over_mistakes(ctx: testing._Context) -> None:
    same = {"forward": forward_relu}
    ref = reference_set([(variant("m", "mistake", 0.5, ("forward",)), same),
                         (variant("a", "accepted", 1.0, ("forward",)), same)],
                        forward=forward)
    judged(FakeNamespace(forward=forward_relu), ref, "forward", NET, X)
    assert [d["name"] for d in ctx.diagnoses] == ["a"]


def test_expect_variant_that_raises_is_the_rubrics_error_naming_it(ctx: testing._Context) -> None:
    """A variant is rubric code: when it raises, the test stops with a RubricError that names
    the variant and its file (it used to be skipped silently as "does not apply")."""
    def broken(net: Any, x: Any) -> Any:
        raise KeyError("W3")

    ref = reference_set([(variant("broken", "accepted", 1.0, ("forward",)), {"forward": broken}), FORWARD_VARIANTS[0]],
                        forward=forward)
    with pytest.raises(RubricError, match=r"(?s)variant 'broken' \(variants/broken.py\) raised on forward\(.*KeyError"):
        judged(FakeNamespace(forward=forward_relu), ref, "forward", NET, X)


def test_an_eager_reference_asks_every_variant_and_names_one_that_raises(ctx: testing._Context) -> None:
    """generate and validate (``eager``) ask each variant even when the answer is right."""
    def broken(net: Any, x: Any) -> Any:
        raise ValueError("shapes")

    ref = reference_set([(variant("broken", "mistake", 0.5, ("forward",)), {"forward": broken})], forward=forward)
    expect(FakeNamespace(forward=forward), ref, "forward", NET, X)  # right: variants not needed
    ref.eager = True
    with pytest.raises(RubricError, match="(?s)variant 'broken'.*ValueError: shapes.*fix the variant file"):
        judged(FakeNamespace(forward=forward), ref, "forward", NET, X)


def test_expect_with_globals_reaches_both_sides(ctx: testing._Context) -> None:
    def needs_x(k: float, _globals: dict[str, Any]) -> Any:
        return _globals["X"] * k

    student, ref = FakeNamespace(f=needs_x), reference_set(f=needs_x)
    got = expect(student, ref, "f", 2.0, with_globals={"X": np.array([1.0, 2.0])})
    np.testing.assert_allclose(got, [2.0, 4.0])
    assert "globals" in student.requests[0] and "globals" in ref.main.requests[0]  # type: ignore[attr-defined]  # main is a FakeNamespace here


def test_expect_missing_student_function_raises_missing_name(ctx: testing._Context) -> None:
    with pytest.raises(MissingName, match="`forward` is not defined"):
        judged(FakeNamespace(), reference_set(forward=forward), "forward", NET, X)


# --- expect: unpacking by arity -----------------------------------------------------------

Y = np.array([[0.0], [1.0], [1.0], [1.0]])
XG = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Z = XG @ np.array([[0.40316676], [-0.44345216]]) + 1
A = sigmoid(Z)
RETURNS = {"backpropagation": {
    "by_arity": {3: ["dz", "dw", "db"], 2: ["dw", "db"]},
    "shapes": {"dz": "squeeze", "dw": "squeeze", "db": "squeeze"},
    "shape": "exact",
}}


def bp3(Y: Any, A: Any, Z: Any) -> tuple[Any, Any, Any]:
    dz = (A - Y) * A * (1 - A)
    return dz, XG.T @ dz, float(np.sum(dz))


def bp2(Y: Any, A: Any, Z: Any) -> tuple[Any, Any]:
    _dz, dw, db = bp3(Y, A, Z)
    return dw.ravel(), db  # (2,) instead of (2, 1): equivalent under "squeeze"


def bp_db_from_da(Y: Any, A: Any, Z: Any) -> tuple[Any, Any, Any]:
    dz, dw, _db = bp3(Y, A, Z)
    return dz, dw, float(np.sum(A - Y))


def test_assignment_values_are_what_the_fakes_compute() -> None:
    dz, dw, db = bp3(Y, A, Z)
    np.testing.assert_allclose(dz.ravel(), [0.14373484, -0.084382, -0.03125085, -0.05545413], rtol=1e-6)
    np.testing.assert_allclose(dw.ravel(), [-0.08670498, -0.13983613], rtol=1e-6)
    assert db == pytest.approx(-0.02735214, rel=1e-6)
    assert bp_db_from_da(Y, A, Z)[2] == pytest.approx(-0.10753744, rel=1e-6)


@pytest.mark.parametrize("student_fn", [bp3, bp2], ids=["3 values", "2 values"])
@pytest.mark.parametrize("part", ["dw", "db"])
def test_by_arity_unpacks_either_form(ctx: testing._Context, student_fn: Callable[..., Any], part: str) -> None:
    ref = reference_set(returns=RETURNS, backpropagation=bp3)
    got = expect(FakeNamespace(backpropagation=student_fn), ref, "backpropagation", Y, A, Z, part=part)
    want = dict(zip(["dz", "dw", "db"], bp3(Y, A, Z), strict=True))[part]
    np.testing.assert_allclose(np.ravel(got), np.ravel(want))
    assert ctx.notes == []


def test_part_missing_from_an_accepted_form_passes_with_a_note(ctx: testing._Context) -> None:
    ref = reference_set(returns=RETURNS, backpropagation=bp3)
    got = expect(FakeNamespace(backpropagation=bp2), ref, "backpropagation", Y, A, Z, part="dz")
    assert got is None
    assert ctx.notes == ["backpropagation → dz: not part of the accepted 2-value form (dw, db); not checked"]


def test_wrong_arity_lists_the_accepted_forms(ctx: testing._Context) -> None:
    ref = reference_set(returns=RETURNS, backpropagation=bp3)
    four = FakeNamespace(backpropagation=lambda Y, A, Z: (*bp3(Y, A, Z), 0.0))
    with pytest.raises(Failed) as info:
        judged(four, ref, "backpropagation", Y, A, Z, part="dw")
    assert str(info.value) == "backpropagation returned 4 values; expected (dz, dw, db) or (dw, db)"
    single = FakeNamespace(backpropagation=lambda Y, A, Z: bp3(Y, A, Z)[1])
    with pytest.raises(Failed, match="returned a single ndarray; expected"):
        judged(single, ref, "backpropagation", Y, A, Z, part="dw")


def test_shape_rule_per_part(ctx: testing._Context) -> None:
    strict = {"backpropagation": {**RETURNS["backpropagation"], "shapes": {}}}
    ref = reference_set(returns=strict, backpropagation=bp3)
    with pytest.raises(Failed, match=r"backpropagation → dw: shape \(2,\), expected \(2, 1\)"):
        judged(FakeNamespace(backpropagation=bp2), ref, "backpropagation", Y, A, Z, part="dw")


def test_mistake_variant_on_a_part(ctx: testing._Context) -> None:
    mistake = variant("db_from_da", "mistake", 0.5, ("backpropagation",), hint="sum dz, not da")
    ref = reference_set([(mistake, {"backpropagation": bp_db_from_da})], returns=RETURNS, backpropagation=bp3)
    student = FakeNamespace(backpropagation=bp_db_from_da)
    expect(student, ref, "backpropagation", Y, A, Z, part="dw")  # dw is right in this mistake
    with pytest.raises(PartialCredit) as info:
        judged(student, ref, "backpropagation", Y, A, Z, part="db")
    assert (info.value.fraction, info.value.mistake) == (0.5, "db_from_da")


def test_mistake_variant_recognised_in_the_other_arity(ctx: testing._Context) -> None:
    # the student returns (dw, db) with db = sum(da); the variant returns three values
    mistake = variant("db_from_da", "mistake", 0.5, ("backpropagation",))
    ref = reference_set([(mistake, {"backpropagation": bp_db_from_da})], returns=RETURNS, backpropagation=bp3)
    student = FakeNamespace(backpropagation=lambda Y, A, Z: bp_db_from_da(Y, A, Z)[1:])
    with pytest.raises(PartialCredit):
        judged(student, ref, "backpropagation", Y, A, Z, part="db")


# --- expect_global ------------------------------------------------------------------------

def test_expect_global_direct_variant_and_failure(ctx: testing._Context) -> None:
    returns = {"W": {"shape": "squeeze"}}
    ascent = variant("gradient_ascent", "mistake", 0.0, ("W",), hint="W -= dw")
    ref = reference_set([(ascent, {"W": np.array([[5.0], [5.0]])})], returns=returns, W=np.array([[3.0], [-2.0]]))
    got = expect_global(FakeNamespace(W=np.array([3.0, -2.0])), ref, "W")
    np.testing.assert_allclose(got, [3.0, -2.0])
    ctx.cases.clear()  # a test of its own
    with pytest.raises(Failed) as info:
        expect_global(FakeNamespace(W=np.array([5.0, 5.0])), ref, "W")
        settle()
    assert str(info.value).startswith("W: ")
    assert info.value.call == "the global W after the notebook ran"
    assert ctx.diagnoses == [{"name": "gradient_ascent", "kind": "mistake", "hint": "W -= dw"}]


def test_expect_global_missing(ctx: testing._Context) -> None:
    with pytest.raises(MissingName):
        expect_global(FakeNamespace(), reference_set(W=np.zeros(2)), "W")
