"""Issue 12 item 6: on the week-3 mistake fixtures the grader names every mistake on every test
the manifest lists (hit rate 100 %) and names nothing a notebook does not hold (0 false).

The measurement is benchmarks/diagnoses.py; the fast tests below check its counting on made-up
results, the slow one grades the fixtures (one `grader grade` run of 59 notebooks, about 95 s on 2 cores).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmarks_diagnoses", ROOT / "benchmarks" / "diagnoses.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


diagnoses = _load()


# -- the counting, on made-up results (fast) -----------------------------------------------------

def _result(tests: dict[str, list[tuple[str, str]]], status: str = "graded") -> dict[str, Any]:
    return {"status": status, "reason": "", "tests": [
        {"name": name, "status": "failed" if diags else "passed",
         "diagnoses": [{"name": n, "kind": k, "hint": "..."} for n, k in diags]}
        for name, diags in tests.items()]}


def _entry(name: str, mistake: str, tests: tuple[str, ...] = (), also: tuple[str, ...] = ()) -> Any:
    return diagnoses.Entry(name, ROOT / f"{name}.ipynb", mistake, tests, also)


def test_scoring_counts_hits_misses_and_false_ones() -> None:
    entries = [
        _entry("hit", "db_from_da", ("test_db", "hidden/test_db[AND]")),
        _entry("miss", "xor_wrong_gates", ("test_truth_table[XOR]",)),
        _entry("correct", ""),
        _entry("reading", ""),
        _entry("also", "dw_averaged", ("test_dw",), also=("dw_scaled",)),
    ]
    results = {
        # named on both tests it must be, beside a note it is allowed to have (its own mistake)
        "hit": _result({"test_db": [("db_from_da", "mistake")],
                        "hidden/test_db[AND]": [("db_from_da", "mistake")],
                        "test_training": [("db_from_da", "note")]}),
        # the test names another mistake: a miss, and that name is a false diagnosis
        "miss": _result({"test_truth_table[XOR]": [("gate_returns_bool", "mistake")],
                         "test_truth_table[AND]": []}),
        # a correct notebook that gets a shape diagnosis: false
        "correct": _result({"test_forward": [("broadcast_4x4", "shape")], "test_db": []}),
        # a recognised reading is not a mistake, whatever its name
        "reading": _result({"test_db": [("first_revision", "reading"), ("returns_dw_db", "accepted")]}),
        # a name in `also` is allowed beside the mistake
        "also": _result({"test_dw": [("dw_averaged", "mistake"), ("dw_scaled", "gradient")]}),
    }
    m = diagnoses.score(entries, results)
    assert (m.pairs, m.hits) == (4, 3)
    assert m.hit_rate == 0.75
    assert [(x.notebook, x.test, x.expected, x.named) for x in m.misses] == [
        ("miss", "test_truth_table[XOR]", "xor_wrong_gates", ("gate_returns_bool (mistake)",))]
    assert [(f.notebook, f.test, f.named, f.kind) for f in m.false] == [
        ("miss", "test_truth_table[XOR]", "gate_returns_bool", "mistake"),
        ("correct", "test_forward", "broadcast_4x4", "shape")]
    assert not m.ungraded
    assert not m.ok
    rows = {r.notebook: (r.pairs, r.hits, r.false) for r in m.rows}
    assert rows == {"hit": (2, 2, 0), "miss": (1, 0, 1), "correct": (0, 0, 1), "reading": (0, 0, 0),
                    "also": (1, 1, 0)}
    words = m.problems()
    assert "miss: miss: test_truth_table[XOR] should name xor_wrong_gates, named gate_returns_bool (mistake)" in words
    assert ("false: correct: test_forward (failed) named broadcast_4x4 (shape), but the notebook holds no mistake"
            in words)


def test_scoring_a_notebook_without_a_result_misses_every_pair() -> None:
    entries = [_entry("crashed", "db_from_da", ("test_db", "test_training")),
               _entry("lost", "dw_averaged", ("test_dw",)),
               _entry("absent_test", "da_times_two", ("test_no_such",)),
               _entry("partial", "dw_x_not_transposed", ("test_dw",))]
    results = {"crashed": _result({"test_db": []}, status="crashed"), "lost": None,
               "absent_test": _result({"test_da": [("da_times_two", "mistake")]}),
               # a student cell raised (the mistake breaks the handout's demo), the tests all ran
               "partial": _result({"test_dw": [("dw_x_not_transposed", "shape")]}, status="partial")}
    m = diagnoses.score(entries, results, {"lost": "no result.json"})
    assert (m.pairs, m.hits, len(m.false)) == (5, 1, 0)
    assert [(x.notebook, x.test, x.reason) for x in m.misses] == [
        ("crashed", "test_db", "notebook not graded"), ("crashed", "test_training", "notebook not graded"),
        ("lost", "test_dw", "notebook not graded"),
        ("absent_test", "test_no_such", "no test of that name in the result")]
    assert len(m.ungraded) == 2 and "status crashed" in m.ungraded[0] and "no result.json" in m.ungraded[1]
    assert [r.status for r in m.rows] == ["crashed", "missing", "graded", "partial"]


def test_a_perfect_measurement_is_ok() -> None:
    entries = [_entry("hit", "db_from_da", ("test_db",)), _entry("correct", "")]
    results = {"hit": _result({"test_db": [("db_from_da", "mistake")]}), "correct": _result({"test_db": []})}
    m = diagnoses.score(entries, results)
    assert m.ok and m.hit_rate == 1.0 and not m.problems()


def test_the_manifest_is_checked(tmp_path: Path) -> None:
    (tmp_path / "a.ipynb").write_text("{}", encoding="utf-8")
    good = tmp_path / "MANIFEST.toml"
    good.write_text('[a]\nmistake = "x"\ntests = ["t"]\nwhy = "w"\n\n'
                    '[b]\npath = "a.ipynb"\nmistake = ""\nwhy = "w"\n', encoding="utf-8")
    entries = diagnoses.load_manifest(good)
    assert [(e.name, e.path.name, e.mistake, e.tests) for e in entries] == [
        ("a", "a.ipynb", "x", ("t",)), ("b", "a.ipynb", "", ())]
    for body, says in [('[a]\nmistake = "x"\n', "no tests"),
                       ('[a]\nmistake = ""\ntests = ["t"]\n', "no mistake"),
                       ('[a]\nmistake = "x"\ntests = ["t"]\nextra = 1\n', "unknown key"),
                       ('[c]\nmistake = ""\n', "does not exist")]:
        bad = tmp_path / "BAD.toml"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(diagnoses.ManifestError, match=says):
            diagnoses.load_manifest(bad)


# -- the measurement itself (slow: grades every fixture) -------------------------------------------

@pytest.fixture(scope="module")
def measurement(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return diagnoses.measure(diagnoses.DEFAULT_MANIFEST, tmp_path_factory.mktemp("diagnoses"), jobs=2)


@pytest.mark.kernel
def test_every_mistake_is_named_and_nothing_else(measurement: Any) -> None:
    m = measurement
    assert m.pairs > 0, "the manifest lists no (notebook, test) pair to measure"
    listing = "\n".join(m.problems())
    assert m.hit_rate == 1.0 and not m.false and not m.ungraded, (
        f"hit rate {100 * m.hit_rate:.1f} % ({m.hits}/{m.pairs}), {len(m.false)} false diagnoses, "
        f"{len(m.ungraded)} not graded:\n{listing}")
