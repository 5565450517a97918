"""Rubric loading and validation: tiny rubric folders built in tmp_path, and the real one."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from grader import rubric as rubric_mod
from grader.errors import RubricError
from grader.rubric import VariantSpec, load

REPO = Path(__file__).resolve().parents[2]
WEEK3 = REPO / "rubrics" / "week3_nn_basic"

TOP = """\
schema = 1
assignment = "tiny"
version = "1"
"""

TASKS = """
[[tasks]]
name = "t1"
points = 10

[[tasks]]
name = "t2"
title = "Second"
points = 5
"""

PUBLIC = """\
from grader.testing import parametrize, points

TASK = "t1"


@points(6)
def test_plain(student, reference):
    pass


@points(4)
@parametrize("x", [1, 2])
def test_param(student, x):
    pass


def helper_not_a_test(student):
    pass
"""

HIDDEN = """\
from grader.testing import points

TASK = "t2"


@points(3)
def test_secret(student):
    pass


@points(2)
def test_with_rng(student, rng):
    pass
"""

V_OK = "def f(x):\n    return x\n"
P_ = 'from grader.testing import hidden, points, task\nTASK = "t1"\n'


def make_rubric(
    root: Path, *, top: str = "", tail: str = "", toml: str | None = None, files: dict[str, str] | None = None
) -> Path:
    """A rubric folder: rubric.toml (TOP + top + TASKS + tail) and two test modules."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "rubric.toml").write_text(toml if toml is not None else TOP + top + TASKS + tail, encoding="utf-8")
    all_files = {"tests/public/test_a.py": PUBLIC, "tests/hidden/test_h.py": HIDDEN, **(files or {})}
    for rel, text in all_files.items():
        if text is None:
            continue
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def load_error(root: Path, **kw: object) -> str:
    with pytest.raises(RubricError) as info:
        load(root, **kw)  # type: ignore[arg-type]  # the cases pass keyword arguments as a plain dict
    return str(info.value)


# --- a valid rubric -----------------------------------------------------------------------


def test_valid_rubric_loads_with_defaults(tmp_path: Path) -> None:
    rb = load(make_rubric(tmp_path / "r"))
    assert rb.assignment == "tiny" and rb.version == "1"
    assert [(t.name, t.title, t.points) for t in rb.tasks] == [("t1", "t1", 10.0), ("t2", "Second", 5.0)]
    assert rb.max_score == 15.0
    assert rb.language == "ko" and rb.pass_mark == 60.0 and rb.seed == 0
    assert (rb.rtol, rb.atol) == (1e-6, 1e-8)
    assert rb.notebook == "tiny.ipynb"
    assert rb.variants == [] and rb.returns == {}
    assert rb.limits == rubric_mod.Limits()


def test_items_in_file_and_line_order_with_tasks_points_and_visibility(tmp_path: Path) -> None:
    rb = load(make_rubric(tmp_path / "r"))
    got = [(i.name, i.task, i.points, i.visibility, i.module) for i in rb.items]
    assert got == [
        ("test_plain", "t1", 6.0, "public", "test_a"),
        ("test_param[1]", "t1", 2.0, "public", "test_a"),  # a parametrized test's points are shared
        ("test_param[2]", "t1", 2.0, "public", "test_a"),
        ("hidden/test_secret", "t2", 3.0, "hidden", "test_h"),  # hidden: the folder says so
        ("hidden/test_with_rng", "t2", 2.0, "hidden", "test_h"),
    ]
    assert rb.items[1].params == {"x": 1}
    assert rb.items[0].fixtures == ["student", "reference"]
    assert rb.items[1].fixtures == ["student"]  # x comes from parametrize
    assert rb.items[4].fixtures == ["student", "rng"]
    assert all(i.timeout is None for i in rb.items)


def test_stacked_parametrize_multiplies_cases_and_ids(tmp_path: Path) -> None:
    root = make_rubric(
        tmp_path / "r",
        toml=TOP + TASKS.replace("points = 10", "points = 13"),
        files={
            "tests/public/test_b.py": """\
        from grader.testing import parametrize, points
        TASK = "t1"

        @points(3)
        @parametrize("gate", ["AND", "OR"])
        @parametrize("x1, x2", [(0, 1), (1, 1)], ids=["01", "11"])
        def test_gate(student, gate, x1, x2):
            pass
    """
        },
    )
    items = [i for i in load(root).items if i.module == "test_b"]
    assert {i.name for i in items} == {"test_gate[AND-01]", "test_gate[OR-01]", "test_gate[AND-11]", "test_gate[OR-11]"}
    assert all(i.points == pytest.approx(3 / 4) for i in items)
    by_name = {i.name: i.params for i in items}
    assert by_name["test_gate[OR-11]"] == {"gate": "OR", "x1": 1, "x2": 1}


def test_timeout_is_kept_per_test(tmp_path: Path) -> None:
    root = make_rubric(
        tmp_path / "r",
        files={
            "tests/hidden/test_h.py": """\
        from grader.testing import points, timeout
        TASK = "t2"

        @points(5)
        @timeout(2.5)
        def test_slow(student):
            pass
    """
        },
    )
    assert [(i.name, i.timeout) for i in load(root).items if i.task == "t2"] == [("hidden/test_slow", 2.5)]


def test_public_only_skips_hidden_tests(tmp_path: Path) -> None:
    rb = load(make_rubric(tmp_path / "r"), public_only=True)
    assert rb.public_only
    assert [i.name for i in rb.items] == ["test_plain", "test_param[1]", "test_param[2]"]


def test_public_only_reads_expected_json(tmp_path: Path) -> None:
    root = make_rubric(tmp_path / "r", files={"expected.json": '{"abc": {"ok": true, "value": 1}}'})
    assert load(root, public_only=True).expected == {"abc": {"ok": True, "value": 1}}
    assert load(root).expected is None  # the TA's rubric uses the reference itself


def test_tolerance_limits_and_kernel_files(tmp_path: Path) -> None:
    root = make_rubric(
        tmp_path / "r",
        tail="\n[tolerance]\nrtol = 1e-4\natol = 0\n\n[limits]\ncall_timeout = 3\n\n"
        '[kernel]\nfiles = ["data.csv"]\nserve_urls = { "https://example.org/data.csv" = "data.csv" }\n',
        files={"data/data.csv": "1,2\n"},
    )
    rb = load(root)
    assert (rb.rtol, rb.atol) == (1e-4, 0.0)
    assert rb.limits.call_timeout == 3.0 and rb.limits.cell_timeout == rubric_mod.Limits().cell_timeout
    assert rb.files == {"data.csv": b"1,2\n"}
    assert rb.serve_urls == {"https://example.org/data.csv": "data.csv"}


def test_kernel_files_fall_back_to_the_graders_data(tmp_path: Path) -> None:
    rb = load(make_rubric(tmp_path / "r", tail='\n[kernel]\nfiles = ["iris.data"]\n'))
    assert rb.files["iris.data"].startswith(b"5.1,3.5,1.4,0.2,Iris-setosa")


def test_variants_and_returns(tmp_path: Path) -> None:
    root = make_rubric(
        tmp_path / "r",
        tail=textwrap.dedent("""
            [returns.backprop]
            by_arity = { "3" = ["dz", "dw", "db"], "2" = ["dw", "db"] }
            shapes = { dw = "squeeze" }

            [[variants]]
            name = "relu"
            kind = "accepted"
            file = "variants/relu.py"

            [[variants]]
            name = "db_from_da"
            kind = "mistake"
            credit = 0.5
            file = "variants/db.py"
            title = "db = sum(da)"
            hint = "use dz"

            [[variants]]
            name = "wrong"
            kind = "mistake"
            file = "variants/relu.py"
        """),
        files={
            "variants/relu.py": "def forward(n, x):\n    return x\n",
            "variants/db.py": 'import numpy as np\nREADS = ["X", "prime"]\n\ndef backprop(Y, A, Z):\n'
            "    dz = (A - Y) * prime(Z)\n    return dz, np.dot(X.T, dz), np.sum(A - Y)\n",
        },
    )
    rb = load(root)
    assert rb.variants[0] == VariantSpec(
        name="relu",
        kind="accepted",
        credit=1.0,
        functions=("forward",),
        file="variants/relu.py",
        title="relu",
        hint="",
        source="def forward(n, x):\n    return x\n",
        defines=("forward",),
    )
    assert (rb.variants[1].credit, rb.variants[1].title, rb.variants[1].hint) == (0.5, "db = sum(da)", "use dz")
    assert (rb.variants[1].functions, rb.variants[1].reads) == (("backprop",), ("X", "prime"))
    assert rb.variants[2].credit == 0.0  # a mistake earns nothing unless the rubric says so
    assert rb.returns == {
        "backprop": {
            "by_arity": {3: ["dz", "dw", "db"], 2: ["dw", "db"]},
            "shapes": {"dw": "squeeze"},
            "shape": None,
            "args": [],
        }
    }


# --- validation errors: each names the file and the problem -------------------------------

VARIANT = '\n[[variants]]\nname = "v"\nkind = "{kind}"\ncredit = {credit}\nfile = "{file}"\n'

CASES = {
    "unknown key": ({"top": 'colour = "red"\n'}, "rubric.toml", ["unknown key", "colour", "known keys"]),
    "missing version": (
        {"toml": 'schema = 1\nassignment = "tiny"\n' + TASKS},
        "rubric.toml",
        ["missing required key 'version'"],
    ),
    "missing tasks": ({"toml": TOP}, "rubric.toml", ["missing required key 'tasks'"]),
    "wrong type": ({"top": "title = 5\n"}, "rubric.toml", ["title must be a str, got int"]),
    "wrong type float": ({"top": 'pass_mark = "high"\n'}, "rubric.toml", ["pass_mark must be a float, got str"]),
    "schema 2": (
        {"toml": TOP.replace("schema = 1", "schema = 2") + TASKS},
        "rubric.toml",
        ["schema 2 is not supported", "reads schema 1"],
    ),
    "invalid toml": ({"toml": TOP + "[[tasks]\n"}, "rubric.toml", ["invalid TOML"]),
    "task without points": (
        {"toml": TOP + '[[tasks]]\nname = "t1"\n'},
        "rubric.toml",
        ["tasks[0] needs name and points"],
    ),
    "duplicate task": ({"tail": '\n[[tasks]]\nname = "t1"\npoints = 1\n'}, "rubric.toml", ["duplicate task names"]),
    "unknown task": (
        {"files": {"tests/public/test_a.py": 'TASK = "t9"\ndef test_x(student):\n    pass\n'}},
        "test_a.py",
        ["TASK = 't9'", "t1, t2"],
    ),
    "no task": (
        {"files": {"tests/public/test_a.py": "def test_x(student):\n    pass\n"}},
        "test_a.py",
        ["no task", "TASK = "],
    ),
    "removed @hidden": (
        {"files": {"tests/public/test_a.py": P_ + "@hidden\n@points(10)\ndef test_x(student):\n    pass\n"}},
        "test_a.py",
        ["@hidden (test_x) is gone", "tests/hidden/"],
    ),
    "removed @task": (
        {"files": {"tests/public/test_a.py": P_ + '@task("t1")\n@points(10)\ndef test_x(student):\n    pass\n'}},
        "test_a.py",
        ["@task('t1') is gone", "TASK = 't1'"],
    ),
    "no points": (
        {"files": {"tests/public/test_a.py": 'TASK = "t1"\ndef test_x(student):\n    pass\n'}},
        "test_a.py",
        ["test_x has no @points(n)"],
    ),
    "points do not add up": (
        {"files": {"tests/public/test_a.py": PUBLIC.replace("@points(6)", "@points(7)")}},
        "",
        ["task 't1' is worth 10 points in rubric.toml", "add up to 11", "test_a.test_plain 7", "test_a.test_param 4"],
    ),
    "task with no tests": (
        {"tail": '\n[[tasks]]\nname = "t3"\npoints = 1\n'},
        "",
        ["task 't3' has no tests", "TASK = 't3'"],
    ),
    "unknown fixture": (
        {"files": {"tests/public/test_a.py": P_ + "@points(10)\ndef test_x(studnet):\n    pass\n"}},
        "test_a.py",
        ["unknown fixture(s) studnet", "reference, rng, student"],
    ),
    "import error": (
        {"files": {"tests/public/test_a.py": "import no_such_module_xyz\n"}},
        "test_a.py",
        ["cannot be imported", "ModuleNotFoundError"],
    ),
    "no tests": (
        {"files": {"tests/public/test_a.py": 'TASK = "t1"\n', "tests/hidden/test_h.py": "\n"}},
        "",
        ["no tests found"],
    ),
    "variant missing file": (
        {"tail": VARIANT.format(kind="mistake", credit=0.5, file="variants/nope.py")},
        "rubric.toml",
        ["variants[0]", "nope.py not found"],
    ),
    "variant bad kind": (
        {"tail": VARIANT.format(kind="partial", credit=0.5, file="variants/v.py"), "files": {"variants/v.py": ""}},
        "rubric.toml",
        ["variants[0]", "kind must be 'accepted' or 'mistake'", "'partial'"],
    ),
    "variant credit high": (
        {"tail": VARIANT.format(kind="mistake", credit=1.5, file="variants/v.py"), "files": {"variants/v.py": ""}},
        "rubric.toml",
        ["variants[0]", "credit must be between 0 and 1"],
    ),
    "variant credit negative": (
        {"tail": VARIANT.format(kind="mistake", credit=-0.1, file="variants/v.py"), "files": {"variants/v.py": ""}},
        "rubric.toml",
        ["credit must be between 0 and 1"],
    ),
    "variant missing keys": (
        {"tail": '\n[[variants]]\nname = "v"\n'},
        "rubric.toml",
        ["variants[0] is missing file, kind"],
    ),
    "variant functions key": (
        {
            "tail": VARIANT.format(kind="mistake", credit=0, file="variants/v.py") + 'functions = ["f", "X"]\n',
            "files": {"variants/v.py": V_OK},
        },
        "rubric.toml",
        ["variants[0]", "'functions' is gone", "delete the line"],
    ),
    "variant reads a name defined nowhere": (
        {
            "tail": VARIANT.format(kind="mistake", credit=0, file="variants/v.py"),
            "files": {"variants/v.py": "def f(x):\n    return x * K + len(x)\n"},
        },
        "variants/v.py",
        ["(variant v)", "read K, defined nowhere", 'READS = ["K"]'],
    ),
    "variant declares what it does not read": (
        {
            "tail": VARIANT.format(kind="mistake", credit=0, file="variants/v.py"),
            "files": {"variants/v.py": 'READS = ["K", "X"]\ndef f(x):\n    return x * X\n'},
        },
        "variants/v.py",
        ["READS lists K", "remove it"],
    ),
    "variant runs other code": (
        {
            "tail": VARIANT.format(kind="mistake", credit=0, file="variants/v.py"),
            "files": {"variants/v.py": "K = 2\n\ndef f(x):\n    return x\n"},
        },
        "variants/v.py",
        ["line 1", "only imports, READS = [...] and function definitions", "Assign"],
    ),
    "variant defines no function": (
        {
            "tail": VARIANT.format(kind="mistake", credit=0, file="variants/v.py"),
            "files": {"variants/v.py": '"""nothing"""\n'},
        },
        "variants/v.py",
        ["defines no function"],
    ),
    "variant not python": (
        {
            "tail": VARIANT.format(kind="mistake", credit=0, file="variants/v.py"),
            "files": {"variants/v.py": "def f(:\n"},
        },
        "variants/v.py",
        ["not valid Python"],
    ),
    "duplicate variants": (
        {"tail": VARIANT.format(kind="mistake", credit=0, file="variants/v.py") * 2, "files": {"variants/v.py": V_OK}},
        "rubric.toml",
        ["duplicate variant names"],
    ),
    "returns shapes rule": (
        {"tail": '\n[returns.f]\nshapes = { dw = "reshape" }\n'},
        "rubric.toml",
        ["returns.f.shapes.dw", "exact, squeeze or broadcast"],
    ),
    "returns not a table": ({"top": "returns = { f = 1 }\n"}, "rubric.toml", ["returns.f must be a table"]),
    "kernel file missing": (
        {"tail": '\n[kernel]\nfiles = ["nope.csv"]\n'},
        "rubric.toml",
        ["kernel file 'nope.csv' not found"],
    ),
    "serve_urls unlisted": (
        {"tail": '\n[kernel]\nfiles = []\nserve_urls = { "https://x.org/iris.data" = "iris.data" }\n'},
        "rubric.toml",
        ["https://x.org/iris.data", "'iris.data'", "not in kernel.files"],
    ),
    "variant bad scope": (
        {
            "tail": VARIANT.format(kind="mistake", credit=0.5, file="variants/v.py") + 'scope = "part"\n',
            "files": {"variants/v.py": ""},
        },
        "rubric.toml",
        ["variants[0]", "scope must be 'test'", "'task'"],
    ),
    "variant credit table out of range": (
        {
            "tail": VARIANT.format(kind="mistake", credit="{ default = 0.5, t1 = 2 }", file="variants/v.py"),
            "files": {"variants/v.py": ""},
        },
        "rubric.toml",
        ["credit.t1 must be between 0 and 1"],
    ),
    "returns args not names": (
        {"tail": '\n[returns.f]\nargs = ["Y", "1A"]\n'},
        "rubric.toml",
        ["returns.f.args", "parameter names"],
    ),
    "returns unknown key": (
        {"tail": '\n[returns.f]\nargz = ["Y"]\n'},
        "rubric.toml",
        ["returns.f has unknown key(s) argz"],
    ),
    "tolerance shape rule": (
        {"tail": '\n[tolerance]\nshape = "loose"\n'},
        "rubric.toml",
        ["tolerance.shape must be exact, squeeze or broadcast"],
    ),
    "kernel packages not names": (
        {"tail": '\n[kernel]\npackages = "sklearn"\n'},
        "rubric.toml",
        ["kernel.packages must list"],
    ),
    "kernel unknown key": (
        {"tail": '\n[kernel]\npackage = ["sklearn"]\n'},
        "rubric.toml",
        ["kernel has unknown key(s) package"],
    ),
    "slip without error": (
        {"tail": '\n[[slips]]\nname = "s"\n'},
        "rubric.toml",
        ["slips[0] needs at least name and error"],
    ),
    "slip bad regex": (
        {"tail": '\n[[slips]]\nname = "s"\nerror = "("\n'},
        "rubric.toml",
        ["slips[0]: error is not a valid regular expression"],
    ),
    "limit unknown": ({"tail": "\n[limits]\ncall_timout = 3\n"}, "rubric.toml", ["unknown limit 'call_timout'"]),
    "limit not positive": ({"tail": "\n[limits]\ncall_timeout = 0\n"}, "rubric.toml", ["must be positive"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_validation_errors_name_the_file_and_the_problem(tmp_path: Path, case: str) -> None:
    kw, file_name, needles = CASES[case]
    root = make_rubric(tmp_path / "r", **kw)  # type: ignore[arg-type]  # the cases pass keyword arguments as a plain dict
    msg = load_error(root)
    assert str(root) in msg
    assert file_name in msg
    for needle in needles:
        assert needle in msg


def test_missing_rubric_toml(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "rubric.toml not found" in load_error(tmp_path / "empty")


# Wrong types inside tables: they escape as ValueError/TypeError or load silently wrong.
TYPE_BUGS = {
    "variant credit not a number": (
        VARIANT.format(kind="mistake", credit='"half"', file="variants/v.py"),
        "BUG: float(credit) raises ValueError instead of RubricError",
    ),
    "variant functions a string": (
        '\n[[variants]]\nname = "v"\nkind = "mistake"\nfunctions = "forward"\nfile = "variants/v.py"\n',
        "BUG: tuple('forward') splits the name into letters; the variant silently never applies",
    ),
    "by_arity key not an integer": (
        '\n[returns.f]\nby_arity = { "three" = ["a", "b", "c"] }\n',
        "BUG: int(key) raises ValueError instead of RubricError",
    ),
    "by_arity names do not match arity": (
        '\n[returns.f]\nby_arity = { "2" = ["a", "b", "c"] }\n',
        "BUG: a 2-value form listing 3 names loads; picking the 3rd part of a 2-value result then raises IndexError",
    ),
    "returns shape rule": (
        '\n[returns.W]\nshape = "squish"\n',
        "BUG: returns.NAME.shape is not validated (only shapes.PART), an unknown rule acts as 'exact'",
    ),
    "tolerance not a number": (
        '\n[tolerance]\nrtol = "tight"\n',
        "BUG: float(rtol) raises ValueError instead of RubricError",
    ),
    "task points not a number": (
        '\n[[tasks]]\nname = "t3"\npoints = "ten"\n',
        "BUG: float(points) raises ValueError instead of RubricError",
    ),
}


@pytest.mark.parametrize("case", list(TYPE_BUGS))
def test_wrong_types_inside_tables_are_rubric_errors(tmp_path: Path, case: str) -> None:
    root = make_rubric(tmp_path / "r", tail=TYPE_BUGS[case][0], files={"variants/v.py": ""})
    msg = load_error(root)
    assert "rubric.toml" in msg


# --- digest -------------------------------------------------------------------------------


def test_digest_is_stable_and_follows_the_files(tmp_path: Path) -> None:
    root = make_rubric(tmp_path / "r")
    d1 = load(root).digest
    assert d1 == load(root).digest
    assert len(d1) == 16
    hidden = root / "tests" / "hidden" / "test_h.py"
    hidden.write_text(hidden.read_text() + "\n# expected value changed\n")
    d2 = load(root).digest
    assert d2 != d1
    toml = root / "rubric.toml"
    toml.write_text(toml.read_text().replace('title = "Second"', 'title = "Two"'))
    assert load(root).digest not in (d1, d2)


def test_digest_ignores_bytecode_caches(tmp_path: Path) -> None:
    root = make_rubric(tmp_path / "r")
    d1 = load(root).digest
    cache = root / "tests" / "public" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "test_a.cpython-311.py").write_text("# not part of the rubric\n")
    assert load(root).digest == d1


# --- the real week-3 rubric ---------------------------------------------------------------

# what students write (init_network is given: no test grades it)
GRADED = [
    "AND",
    "NAND",
    "OR",
    "XOR",
    "step_function",
    "sigmoid",
    "ReLU",
    "forward",
    "sigmoid_prime",
    "backpropagation",
    "W",
    "b",
    "A",
    "Perceptron",
    "X",
    "y",
]
# the functions whose handout inputs vary: hidden tests try other values of the same form
# (the gates' only inputs are their truth tables; the trained W, b, A and the Iris X, y are
# the notebook's own globals, judged once)
HIDDEN_TOO = ["step_function", "sigmoid", "ReLU", "forward", "sigmoid_prime", "backpropagation", "Perceptron"]


@pytest.fixture(scope="module")
def week3() -> rubric_mod.Rubric:
    return load(WEEK3)


def test_week3_loads_and_its_points_sum_to_100(week3: rubric_mod.Rubric) -> None:
    assert week3.assignment == "week3_nn_basic"
    assert sum(t.points for t in week3.tasks) == 100
    assert week3.max_score == 100
    assert {i.task for i in week3.items} == {t.name for t in week3.tasks}  # no task without a test
    assert {i.visibility for i in week3.items} == {"public", "hidden"}
    assert all(i.name.startswith("hidden/") == (i.visibility == "hidden") for i in week3.items)


def test_week3_public_only_has_no_hidden_test() -> None:
    rb = load(WEEK3, public_only=True)
    assert rb.items and all(i.visibility == "public" for i in rb.items)


def test_week3_variants_name_real_files_and_graded_functions(week3: rubric_mod.Rubric) -> None:
    assert week3.variants
    for v in week3.variants:
        assert v.source.strip(), v.name
        assert set(v.functions) <= set(GRADED), v.name


def _names_in(folder: Path) -> set[str]:
    """String constants of the test sources: the names tests call, get or create."""
    found: set[str] = set()
    for f in folder.glob("test_*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


@pytest.mark.parametrize("visibility, name", [("public", n) for n in GRADED] + [("hidden", n) for n in HIDDEN_TOO])
def test_every_graded_name_has_a_public_and_a_hidden_test(visibility: str, name: str) -> None:
    assert name in _names_in(WEEK3 / "tests" / visibility)


# --- variants against the reference solution ----------------------------------------------


def with_reference(tmp_path: Path, variant: str, cells: list[str]) -> Path:
    """rubrics/tiny with one variant file, and solutions/tiny/reference.ipynb with ``cells``."""
    import json

    root = make_rubric(
        tmp_path / "rubrics" / "tiny",
        tail=VARIANT.format(kind="mistake", credit=0.5, file="variants/v.py"),
        files={"variants/v.py": variant},
    )
    sol = tmp_path / "solutions" / "tiny" / "reference.ipynb"
    sol.parent.mkdir(parents=True)
    sol.write_text(
        json.dumps(
            {
                "cells": [{"cell_type": "code", "source": c} for c in cells],
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
            }
        ),
        encoding="utf-8",
    )
    return root


REF = [
    "import numpy as np\nK = 2\n",
    "def f(x):\n    return K * x\n",
    "def h(x):\n    return [f(v) for v in x]\n",
    "class C:\n    def go(self, x):\n        return h(x)\n",
    "def unrelated(x):\n    return np.sum(x)\n",
    "%matplotlib inline\n",
]


def test_a_variant_changes_its_functions_and_every_reference_function_calling_them(tmp_path: Path) -> None:
    root = with_reference(tmp_path, 'READS = ["K"]\n\ndef f(x):\n    return K * x + 1\n', REF)
    v = load(root).variants[0]
    assert (v.defines, v.reads, v.functions) == (("f",), ("K",), ("f", "C", "h"))


@pytest.mark.parametrize(
    "variant, needles",
    [
        (
            'READS = ["K2"]\n\ndef f(x):\n    return K2 * x\n',
            ["variants/v.py (variant v)", "reads K2", "the reference solution does not define"],
        ),
        ("def g(x):\n    return x\n", ["variants/v.py (variant v)", "defines g", "check the spelling"]),
    ],
)
def test_a_variant_needing_a_name_the_reference_lacks_fails_loudly(
    tmp_path: Path, variant: str, needles: list[str]
) -> None:
    msg = load_error(with_reference(tmp_path, variant, REF))
    for needle in needles:
        assert needle in msg


def test_a_bundle_reads_the_changed_functions_from_variants_json(tmp_path: Path) -> None:
    root = make_rubric(tmp_path / "r", tail=VARIANT.format(kind="mistake", credit=0.5, file="variants/v.py"))
    assert "variants.json does not list variant v" in load_error(root, public_only=True) or "not found" in load_error(
        root, public_only=True
    )
    (root / "variants.json").write_text('{"v": ["f", "h"]}\n', encoding="utf-8")
    assert load(root, public_only=True).variants[0].functions == ("f", "h")
