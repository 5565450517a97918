"""The ``student``/``reference`` objects: the reference backend and recorded expectations.

``ReferenceNamespace`` runs trusted code in this process, so these tests need no kernel.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from grader.errors import MissingName, RubricError, StudentError
from grader.namespaces import (
    Instance,
    RecordedNamespace,
    ReferenceNamespace,
    ReferenceSet,
    request_key,
)
from grader.rubric import VariantSpec
from grader.sandbox.codec import HandleRef

SOURCES = [
    "import numpy as np\nX = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])\nCALLS = []\n",
    "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n",
    "def uses_x(k):\n    CALLS.append(k)\n    return X.sum() * k\n",
    "def pair(a, b=10):\n    return (a, [b])\n",
    "def broken():\n    return {}['W3']\n",
    "print('noise from the reference ' * 100)\n",
    ("class Perceptron:\n"
     "    def __init__(self, rate=0.01, niter=10):\n"
     "        self.rate, self.niter, self.weight = rate, niter, np.zeros(3)\n"
     "    def net_input(self, X):\n"
     "        return X @ self.weight[1:] + self.weight[0]\n"
     "    def bump(self):\n"
     "        self.weight = self.weight + 1\n"
     "        return self.weight\n"),
    "def weight_sum(p=None):\n    return float(p.weight.sum())\n",
    "def data():\n    return open('data.csv').read()\n",
    "try:\n    AT_LOAD = open('data.csv').read()\nexcept OSError:\n    AT_LOAD = None\n",
    "def make():\n    return Perceptron()\n",
]


@pytest.fixture
def ref() -> ReferenceNamespace:
    return ReferenceNamespace(SOURCES, files={"data.csv": b"5.1,3.5\n"})


def test_sources_execute_and_call_returns_codec_values(ref: ReferenceNamespace) -> None:
    got = ref.call("sigmoid", np.array([0.0, 500000.0]))
    assert isinstance(got, np.ndarray)
    np.testing.assert_allclose(got, [0.5, 1.0])
    assert ref.call("pair", 1) == (1, [10])
    assert ref.call("pair", 1, b=(2,)) == (1, [(2,)])


def test_get_and_has(ref: ReferenceNamespace) -> None:
    np.testing.assert_array_equal(ref.get("X"), [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert ref.has("sigmoid") is True
    assert ref.has("tanh") is False


def test_kernel_files_are_beside_the_reference_while_its_cells_run(ref: ReferenceNamespace) -> None:
    assert ref.get("AT_LOAD") == "5.1,3.5\n"


def test_kernel_files_are_readable_when_a_reference_function_is_called(ref: ReferenceNamespace) -> None:
    assert ref.call("data") == "5.1,3.5\n"


def test_missing_names_and_errors_are_the_students_kind_of_problem(ref: ReferenceNamespace) -> None:
    with pytest.raises(MissingName):
        ref.call("tanh", 1.0)
    with pytest.raises(MissingName):
        ref.get("Y")
    with pytest.raises(StudentError, match=r"broken\(\.\.\.\) raised KeyError"):
        ref.call("broken")


def test_a_failing_reference_cell_is_a_rubric_error() -> None:
    with pytest.raises(RubricError, match="reference solution fails in code cell 1: ZeroDivisionError"):
        ReferenceNamespace(["x = 1", "y = 1 / 0"])


def test_with_globals_is_applied_and_restored(ref: ReferenceNamespace) -> None:
    assert ref.call("uses_x", 2) == 8
    assert ref.call("uses_x", 2, with_globals={"X": np.array([1.0, 2.0])}) == 6.0
    np.testing.assert_array_equal(ref.get("X"), [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert ref.call("uses_x", 3) == 12
    assert "Y_NEW" not in ref.ns
    ref.call("uses_x", 1, with_globals={"Y_NEW": 1})
    assert "Y_NEW" not in ref.ns


def test_new_instance_call_get_set(ref: ReferenceNamespace) -> None:
    p = ref.new("Perceptron", 0.1, niter=5)
    assert isinstance(p, Instance) and p.type == "Perceptron" and repr(p) == "<Perceptron instance>"
    assert p.get("rate") == 0.1 and p.get("niter") == 5
    p.set("weight", np.array([-0.4, -0.68, 1.82]))
    Xq = np.array([[5.1, 1.4], [7.0, 4.7]])
    np.testing.assert_allclose(p.call("net_input", Xq), Xq @ [-0.68, 1.82] - 0.4)
    with pytest.raises(MissingName):
        p.get("errors")
    with pytest.raises(MissingName):
        p.call("fit", Xq, np.array([1, -1]))


def test_new_of_a_missing_class_or_a_non_class(ref: ReferenceNamespace) -> None:
    with pytest.raises(MissingName):
        ref.new("Adaline")
    with pytest.raises(StudentError, match="did not create an object"):
        ref.new("sigmoid", 0.0)


def test_instances_inside_results_are_wrapped(ref: ReferenceNamespace) -> None:
    p = ref.call("make")
    assert isinstance(p, Instance)
    np.testing.assert_array_equal(p.get("weight"), np.zeros(3))


def test_memoisation_does_not_break_stateful_instances(ref: ReferenceNamespace) -> None:
    p = ref.new("Perceptron")
    np.testing.assert_array_equal(p.call("bump"), [1, 1, 1])
    np.testing.assert_array_equal(p.call("bump"), [2, 2, 2])  # the same request, a new answer
    np.testing.assert_array_equal(p.get("weight"), [2, 2, 2])
    q = ref.new("Perceptron")  # the same request as before: must be a new object, not a memo
    assert q.ref.id != p.ref.id
    np.testing.assert_array_equal(q.get("weight"), [0, 0, 0])
    assert ref.call("weight_sum", q.ref) == 0.0  # a handle argument is never memoised
    q.call("bump")
    assert ref.call("weight_sum", q.ref) == 3.0


def test_pure_calls_are_memoised(ref: ReferenceNamespace) -> None:
    ref.call("uses_x", 5)
    ref.call("uses_x", 5)
    ref.call("uses_x", 6)
    assert ref.ns["CALLS"] == [5, 6]


def test_memoisation_with_a_handle_keyword_argument(ref: ReferenceNamespace) -> None:
    p = ref.new("Perceptron")
    assert ref.call("weight_sum", p=p.ref) == 0.0
    p.call("bump")
    assert ref.call("weight_sum", p=p.ref) == 3.0


def test_an_instance_can_be_passed_as_an_argument(ref: ReferenceNamespace) -> None:
    p = ref.new("Perceptron")
    assert ref.call("weight_sum", p) == 0.0


def test_begin_test_forgets_instances(ref: ReferenceNamespace) -> None:
    p = ref.new("Perceptron")
    ref.begin_test()
    with pytest.raises(StudentError, match="KeyError"):
        p.get("weight")


def test_reference_output_is_silenced(capsys: pytest.CaptureFixture[str]) -> None:
    r = ReferenceNamespace(SOURCES)
    r.call("pair", 1)
    assert capsys.readouterr().out == ""


def test_recorder_and_recorded_namespace_replay_the_same_values() -> None:
    live = ReferenceNamespace(SOURCES)
    live.recorder = {}

    def scenario(ns: Any) -> list[Any]:
        out = [ns.call("sigmoid", np.array([0.0, 1.0])), ns.call("pair", 1, b=2), ns.get("X"), ns.has("tanh")]
        out.append(ns.call("uses_x", 2, with_globals={"X": np.array([3.0])}))
        p = ns.new("Perceptron", 0.5)
        p.set("weight", np.array([1.0, 2.0, 3.0]))
        out += [p.get("rate"), p.call("net_input", np.array([[1.0, 1.0]]))]
        return out

    want = scenario(live)
    stored = json.loads(json.dumps(live.recorder))  # as written to expected.json
    replay = RecordedNamespace(stored, source="assignments/x/expected.json")
    got = scenario(replay)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)
            assert g.dtype == w.dtype
        else:
            assert g == w and type(g) is type(w)


def test_recorded_errors_replay_as_errors() -> None:
    live = ReferenceNamespace(SOURCES)
    live.recorder = {}
    with pytest.raises(StudentError):
        live.call("broken")
    replay = RecordedNamespace(live.recorder, source="expected.json")
    with pytest.raises(StudentError, match="KeyError"):
        replay.call("broken")


def test_recorded_namespace_unknown_request_says_to_regenerate() -> None:
    replay = RecordedNamespace({}, source="assignments/week3_nn_basic/expected.json")
    with pytest.raises(RubricError) as info:
        replay.call("forward", {"W1": np.zeros((3, 4))}, np.zeros(3))
    msg = str(info.value)
    assert "forward(...)" in msg
    assert "assignments/week3_nn_basic/expected.json" in msg
    assert "grader generate" in msg


def test_recorder_prefix_keeps_variants_apart() -> None:
    main = ReferenceNamespace(SOURCES)
    var = ReferenceNamespace([*SOURCES, "def sigmoid(x):\n    return x\n"], prefix="v:")
    rec: dict[str, Any] = {}
    main.recorder = var.recorder = rec
    main.call("sigmoid", 2.0)
    var.call("sigmoid", 2.0)
    assert len(rec) == 2
    assert RecordedNamespace(rec, source="e", prefix="v:").call("sigmoid", 2.0) == 2.0
    assert RecordedNamespace(rec, source="e").call("sigmoid", 2.0) == pytest.approx(0.8807970779778823)


def test_recorded_instances_in_two_tests_keep_their_own_values() -> None:
    live = ReferenceNamespace(SOURCES)
    live.recorder = {}

    def two_tests(ns: Any) -> list[Any]:
        out = []
        for rate in (0.1, 0.5):
            ns.begin_test(f"test_rate[{rate}]")  # the runner names each test
            out.append(ns.new("Perceptron", rate).get("rate"))
        return out

    assert two_tests(live) == [0.1, 0.5]
    assert two_tests(RecordedNamespace(live.recorder, source="expected.json")) == [0.1, 0.5]


def test_request_key_is_canonical() -> None:
    a = {"op": "call", "name": "f", "args": [1, 2]}
    b = {"args": [1, 2], "name": "f", "op": "call"}
    assert request_key(a) == request_key(b)
    assert request_key(a) != request_key({**a, "args": [2, 1]})
    assert len(request_key(a)) == 32


def test_reference_set_routes_to_main_and_selects_variants() -> None:
    main = ReferenceNamespace(SOURCES)
    v1 = VariantSpec("relu", "accepted", 1.0, ("forward",), "v.py", "ReLU", "", "")
    v2 = VariantSpec("db", "mistake", 0.5, ("backpropagation", "W"), "d.py", "db", "", "")
    ns1, ns2 = ReferenceNamespace(SOURCES), ReferenceNamespace(SOURCES)
    rs = ReferenceSet(main, [(v1, ns1), (v2, ns2)], {"W": {"shape": "squeeze"}})
    assert rs.call("pair", 1) == (1, [10])
    assert isinstance(rs.new("Perceptron"), Instance)
    assert [s.name for s, _ in rs.variants_for("W")] == ["db"]
    assert rs.variants_for("forward") == [(v1, ns1)]
    assert rs.variants_for("sigmoid") == []
    p = ns2.new("Perceptron")
    rs.begin_test()  # forgets instances in every member
    with pytest.raises(StudentError):
        p.get("weight")


def test_handle_refs_stay_plain_outside_namespaces() -> None:
    ref = ReferenceNamespace(SOURCES)
    p = ref.new("Perceptron")
    assert p.ref == HandleRef(1, "Perceptron")


@pytest.mark.parametrize("change", [
    ("    dz = da * sigmoid_prime(Z)\n", "    dz = da\n"),  # many backprop variants, the training runs
    ("    return AND(NAND(x1, x2), OR(x1, x2))", "    return NAND(NAND(x1, x2), OR(x1, x2))"),  # XOR calls OR
    ("    z1 = sigmoid(a1)\n", "    z1 = a1\n"),  # forward, its readings
])
def test_a_derived_variant_answers_as_one_run_from_scratch(change: tuple[str, str]) -> None:
    """A variant forked from the run reference (``derive``, what a worker uses) grades every test
    exactly as one whose cells ran again with the variant after them."""
    from conftest import ROOT, cells

    from grader import rubric
    from grader.runner import run_tests

    rb = rubric.load(ROOT / "rubrics" / "week3_nn_basic")
    ref = cells()

    def outcomes(derived: bool) -> list[dict[str, Any]]:
        main = ReferenceNamespace(ref, files=rb.files)
        variants = [(v, main.derive(v.source, prefix=f"{v.name}:") if derived else
                     ReferenceNamespace([*ref, v.source], files=rb.files, prefix=f"{v.name}:")) for v in rb.variants]
        student = ReferenceNamespace(cells(change), files=rb.files)
        return run_tests(rb, student=student, reference=ReferenceSet(main, variants, rb.returns), budget=600)

    fast, slow = outcomes(True), outcomes(False)
    assert [o["status"] for o in fast] == [o["status"] for o in slow]
    assert fast == slow
    assert any(o["diagnoses"] for o in fast)  # the variants were consulted
