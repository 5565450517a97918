"""POLICY.md (the week-3 grading policy for TAs) stays in step with rubric.toml and the tests.

Conventions of POLICY.md that these tests rely on:
- sections are ``## `` headings carrying an English title (Checks and points per part,
  Accepted readings, Named mistakes, The handout's slips, Worked examples);
- each part is a ``### `` heading with ``(`task`, N점 / N points)`` and a table whose rows are
  ``| `test name` | public/hidden | what it calls | points |`` (points to two decimals: each
  test's @points, shared among its cases), closed by ``| 합계 / total | | | N |``;
- a variant is a row ``| `name` | what it is | credit |`` (credit as a percentage, e.g. 50%;
  ``scope = "task"`` says "whole part"; per-part credits as `` `task` N% ``);
- every entry of mistakes.toml (the library of known mistakes) is one row of the "Named
  mistakes" section, ``| `name` | what it is | how recognised | credit |``: the third cell says
  how, in both languages and in exactly one of these words (``값으로 / by value``: a variant;
  ``알려진 오류 / known error``: an error form, naming its `function`; ``메모 / note``;
  ``검사가 이름 붙임 / named by the test``: the rubric's tests name it; ``엔진이 이름 붙임 /
  named by the engine``: the grader attaches it itself), the last gives the credit of a check
  showing it (``0%``, ``50%``) or, for a note, ``감점 없음 / no deduction``;
- a slip is a row ``| `name` | its title in rubric.toml | treatment |``;
- a worked example is a row ``| `corpus notebook` | reading | TA score | why |`` with the
  ``ta_score`` of tests/fixtures/notebooks/week3/MANIFEST.toml.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from grader.rubric import load

REPO = Path(__file__).resolve().parents[2]
WEEK3 = REPO / "rubrics" / "week3_nn_basic"
POLICY = WEEK3 / "POLICY.md"
MANIFEST = REPO / "tests" / "fixtures" / "notebooks" / "week3" / "MANIFEST.toml"
TESTS = sorted(WEEK3.glob("tests/*/test_*.py"))
ENGINE = sorted((REPO / "grader").rglob("*.py"))
# how a mistake of mistakes.toml is recognised: the words its row of "Named mistakes" must say
HOW = {"value": "값으로 / by value", "error": "알려진 오류 / known error", "note": "메모 / note",
       "test": "검사가 이름 붙임 / named by the test", "engine": "엔진이 이름 붙임 / named by the engine"}
NO_DEDUCTION = ("감점 없음", "no deduction")


@pytest.fixture(scope="module")
def rubric():
    return load(WEEK3)


@pytest.fixture(scope="module")
def text() -> str:
    return POLICY.read_text(encoding="utf-8")


def _section(text: str, title: str) -> str:
    """The text of the ``## `` section whose heading contains ``title`` (up to the next one)."""
    parts = re.split(r"(?m)^(?=## )", text)
    found = [p for p in parts if p.startswith("## ") and title in p.splitlines()[0]]
    assert len(found) == 1, f"POLICY.md needs exactly one '## ... {title}' section, found {len(found)}"
    return found[0]


def _rows(text: str) -> list[list[str]]:
    """Every table row of ``text`` as its stripped cells (header and rule rows included)."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|"):
            rows.append([c.strip() for c in line[1:-1].split("|")])
    return rows


def _row(text: str, name: str, where: str) -> list[str]:
    found = [r for r in _rows(text) if r and r[0] == f"`{name}`"]
    assert len(found) == 1, f"POLICY.md ({where}) needs exactly one table row '| `{name}` | ... |', found {len(found)}"
    return found[0]


def _named_rows(text: str) -> list[list[str]]:
    """Rows whose first cell is one `name` (the tables' entries, not headers or totals)."""
    return [r for r in _rows(text) if r and re.fullmatch(r"`[^`]+`", r[0])]


def _pct(credit: float) -> str:
    return f"{round(credit * 100, 1):g}%"


def _part(text: str, task: str) -> tuple[str, str]:
    """(heading line, body) of the ``### `` subsection of part ``task``."""
    marker = f"(`{task}`,"
    parts = re.split(r"(?m)^(?=#{2,3} )", text)
    found = [p for p in parts if p.startswith("### ") and marker in p.splitlines()[0]]
    assert len(found) == 1, (f"POLICY.md needs exactly one '### ...' heading with {marker} for part {task}, "
                             f"found {len(found)}")
    return found[0].splitlines()[0], found[0]


def _shares(rubric) -> dict[str, float]:
    """Each test's points: its @points, shared among its cases (they add up to the part's points)."""
    return {i.name: i.points for i in rubric.items}


def test_each_part_heading_gives_its_points(rubric, text):
    checks = _section(text, "Checks and points per part")
    for task in rubric.tasks:
        heading, body = _part(checks, task.name)
        assert f"{task.points:g}점" in heading and f"{task.points:g} points" in heading, (
            f"the heading of part {task.name} must say {task.points:g}점 / {task.points:g} points: {heading}")
        totals = [r for r in _rows(body) if r and r[0].startswith("합계")]
        assert len(totals) == 1 and totals[0][-1] == f"{task.points:.2f}", (
            f"part {task.name}: its table ends with '| 합계 / total | | | {task.points:.2f} |'")
    assert sum(t.points for t in rubric.tasks) == 100


def test_every_check_is_listed_under_its_part_with_its_points(rubric, text):
    checks = _section(text, "Checks and points per part")
    shares = _shares(rubric)
    for task in rubric.tasks:
        _heading, body = _part(checks, task.name)
        mine = [i for i in rubric.items if i.task == task.name]
        for item in mine:
            row = _row(body, item.name, f"part {task.name}")
            assert row[-1] == f"{shares[item.name]:.2f}", (
                f"{item.name}: POLICY.md says {row[-1]} points, the rubric gives {shares[item.name]:.2f}")
            assert ("hidden" in row[1]) == (item.visibility == "hidden"), (
                f"{item.name} is {item.visibility}; POLICY.md's visibility column says {row[1]!r}")
        listed = {r[0].strip("`") for r in _named_rows(body)}
        stale = listed - {i.name for i in mine}
        assert not stale, f"POLICY.md lists checks that part {task.name} does not have: {sorted(stale)}"


def test_every_test_function_is_named(text):
    names = set()
    for folder in ("public", "hidden"):
        for f in sorted((WEEK3 / "tests" / folder).glob("test_*.py")):
            names.update(re.findall(r"(?m)^def (test_\w+)\(", f.read_text(encoding="utf-8")))
    assert names
    missing = sorted(n for n in names if n not in text)
    assert not missing, f"test functions not named in POLICY.md: {missing}"


def test_every_variant_is_listed_with_its_credit(rubric, text):
    sections = {"accepted": _section(text, "Accepted readings"), "mistake": _section(text, "Named mistakes")}
    assert rubric.variants
    for v in rubric.variants:
        row = _row(sections[v.kind], v.name, f"the {v.kind} variants")
        assert row[-1] == _pct(v.credit), (f"{v.name}: POLICY.md says {row[-1]}, the rubric's credit = {v.credit} "
                                           f"({_pct(v.credit)})")
        if v.scope == "task":
            assert "whole part" in " ".join(row), (f"{v.name} has scope = 'task': "
                                                   "its row must say it scales the whole part")
        for task_name, c in v.credits.items():
            assert f"`{task_name}` {_pct(c)}" in " ".join(row), f"{v.name}: its row must give `{task_name}` {_pct(c)}"
    for kind, section in sections.items():
        credit_rows = {r[0].strip("`") for r in _named_rows(section) if r[-1].endswith("%")}
        known = {v.name for v in rubric.variants if v.kind == kind}
        if kind == "mistake":  # mistakes.toml's are listed there too, whether a variant matches them or not
            known |= set(rubric.mistakes)
        stale = credit_rows - known
        assert not stale, (f"POLICY.md lists {kind} variants that neither rubric.toml nor mistakes.toml has: "
                           f"{sorted(stale)}")


def test_db_from_da_halves_the_backprop_part(rubric, text):
    v = next(v for v in rubric.variants if v.name == "db_from_da")
    backprop = next(t for t in rubric.tasks if t.name == "backprop")
    row = _row(_section(text, "Named mistakes"), "db_from_da", "the mistake variants")
    assert v.scope == "task"
    assert f"{backprop.points:g} → {backprop.points * v.credit:g}" in " ".join(row)


def _called_by_name() -> set[str]:
    """The mistakes the rubric's tests name literally: diagnose("x"), mistake("x"), probe(..., mistake="x")."""
    names = set()
    for f in TESTS:
        names.update(re.findall(r"(?:diagnose|mistake)\(\s*\"(\w+)\"|mistake\s*=\s*\"(\w+)\"",
                                f.read_text(encoding="utf-8")))
    return {n for pair in names for n in pair if n}


def _strings(files: list[Path]) -> set[str]:
    """Every string constant of these Python files (a name a test keeps in a table counts too)."""
    out = set()
    for f in files:
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), filename=str(f))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
    return out


def _how(m, by_tests: set[str]) -> str:
    if m.note:
        return "note"
    if m.variant:
        return "value"
    if m.error_function:
        return "error"
    return "test" if m.name in by_tests else "engine"


def test_every_diagnosis_of_the_tests_is_named(rubric, text):
    mistakes = _section(text, "Named mistakes")
    names = _called_by_name()
    assert {"training_result_not_kept", "training_gradient_ascent", "training_loop_missing",
            "perceptron_labels_0_1", "gate_threshold_on_input_point", "net_input_without_bias"} <= names
    unknown = sorted(names - set(rubric.mistakes))
    assert not unknown, f"the rubric's tests name mistakes that mistakes.toml does not have: {unknown}"
    for name in sorted(names):
        _row(mistakes, name, "the named diagnoses")


def test_every_known_mistake_has_one_row(rubric, text):
    """mistakes.toml and POLICY.md's "Named mistakes" list the same mistakes, each with how it is
    recognised and what a check showing it earns."""
    section = _section(text, "Named mistakes")
    raw = tomllib.loads((WEEK3 / "mistakes.toml").read_text(encoding="utf-8"))["mistakes"]
    assert len(rubric.mistakes) == len(raw) >= 25
    by_tests, by_engine = _strings(TESTS), _strings(ENGINE)
    for m in rubric.mistakes.values():
        row = _row(section, m.name, "the known mistakes of mistakes.toml")
        assert len(row) == 4, f"{m.name}: the row needs 4 cells (name, what, how recognised, credit), has {len(row)}"
        how = _how(m, by_tests)
        said = [k for k, words in HOW.items() if words in row[2]]
        assert said == [how], f"{m.name}: its 'how recognised' cell must say {HOW[how]!r} (only): {row[2]!r}"
        if m.note:
            assert all(w in row[-1] for w in NO_DEDUCTION), (
                f"{m.name} is a note: its credit cell must say {' / '.join(NO_DEDUCTION)}, not {row[-1]!r}")
        else:
            assert row[-1] == _pct(m.credit), (f"{m.name}: POLICY.md says {row[-1]}, mistakes.toml credit = "
                                               f"{m.credit} ({_pct(m.credit)})")
        if m.error_function:
            assert f"`{m.error_function}`" in row[2], (
                f"{m.name} is an error of `{m.error_function}`: its 'how recognised' cell must name that function")
        if m.scope == "task":
            assert "whole part" in " ".join(row), f"{m.name} has scope = 'task': its row must say 'whole part'"
        if not (m.variant or m.error_function):  # nothing matches it by itself: someone must name it
            assert m.name in by_tests | by_engine, (
                f"{m.name} has neither variant nor error, and neither the rubric's tests nor the grader name it: "
                "it can never be shown")
    listed = {r[0].strip("`") for r in _named_rows(section)}
    stale = listed - set(rubric.mistakes) - {v.name for v in rubric.variants if v.kind == "mistake"}
    assert not stale, f"POLICY.md's Named mistakes lists what mistakes.toml does not have: {sorted(stale)}"


def test_every_slip_is_listed_with_its_title(rubric, text):
    slips = _section(text, "The handout's slips")
    assert rubric.slips
    for s in rubric.slips:
        row = _row(slips, s.name, "the handout's slips")
        assert s.title in row, f"{s.name}: the row must give its title as in rubric.toml: {s.title!r}"
    stale = {r[0].strip("`") for r in _named_rows(slips)} - {s.name for s in rubric.slips}
    assert not stale, f"POLICY.md lists slips that rubric.toml does not have: {sorted(stale)}"


def test_worked_examples_match_the_corpus(text):
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    rows = _named_rows(_section(text, "Worked examples"))
    assert len(rows) >= 8
    for row in rows:
        name = row[0].strip("`")
        assert name in manifest, f"worked example {name} is not a notebook of {MANIFEST.name}"
        want = f"{manifest[name]['ta_score']:g}"
        assert row[2] == want, f"worked example {name}: POLICY.md gives {row[2]}, MANIFEST.toml's ta_score is {want}"
