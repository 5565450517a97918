"""``grader student-package``: the wheel a TA publishes for students holds the grader and each
assignment's student bundle (public tests, expected values), never a solution, a hidden test or
a variant; it adds no package a student's environment already has; and the command refuses a
bundle that is missing, out of date or holds more than ``grader generate`` writes.

Building takes a few seconds (offline, this interpreter's setuptools); the install into a
folder and a real ``grader check`` from it are in tests/integration/test_student_package_install.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from grader import student_package
from grader.cli import main

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/rubric.toml"))


def _can_build() -> None:
    if importlib.util.find_spec("setuptools.command.bdist_wheel") is None:
        pytest.skip("this setuptools cannot build wheels offline: pip install -e '.[test]' brings setuptools>=70.1")


def run_cli(*args: object, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    _can_build()
    out = tmp_path_factory.mktemp("student") / "dist"
    done = run_cli("student-package", "-o", out)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("grader-*.whl")
    return wheel, done


def names(wheel: Path) -> list[str]:
    return [n for n in zipfile.ZipFile(wheel).namelist() if not n.endswith("/")]


def metadata(wheel: Path) -> str:
    z = zipfile.ZipFile(wheel)
    (meta,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
    return z.read(meta).decode()


def test_the_wheel_holds_every_assignment_bundle_file(built: tuple[Path, object]) -> None:
    wheel, _ = built
    inside = set(names(wheel))
    assert ASSIGNMENTS and "week3_nn_basic" in ASSIGNMENTS
    for a in ASSIGNMENTS:
        bundle = {f"grader/assignments/{a}/{p.relative_to(ROOT / 'assignments' / a).as_posix()}"
                  for p in (ROOT / "assignments" / a).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert bundle <= inside, f"missing from the wheel: {sorted(bundle - inside)}"
    base = "grader/assignments/week3_nn_basic/"
    assert {base + "rubric.toml", base + "expected.json", base + "tests/public/test_backprop.py"} <= inside
    # and the grader itself: a student gets the whole package (the plain wheel's own test covers which files)
    assert {"grader/cli.py", "grader/sandbox/kernel_side/probe.py"} <= inside


def test_the_wheel_holds_no_hidden_test_solution_rubric_or_variant(built: tuple[Path, object]) -> None:
    wheel, _ = built
    outside = [n for n in names(wheel) if n.split("/")[0] != "grader" and ".dist-info/" not in n]
    assert not outside, outside
    forbidden = [n for n in names(wheel)
                 if {"hidden", "solutions", "rubrics", "variants"} & set(n.split("/")[:-1])
                 or n.endswith(("reference.ipynb", "POLICY.md", "MISTAKES.md"))]
    assert not forbidden, forbidden
    notebooks = sorted(n for n in names(wheel) if n.endswith(".ipynb"))
    # the student notebooks only (their blanks marked), none of the solution's
    assert notebooks == sorted(f"grader/assignments/{a}/{p.name}" for a in ASSIGNMENTS
                               for p in (ROOT / "assignments" / a).glob("*.ipynb"))


def test_no_solution_hidden_or_variant_line_reaches_the_wheel_unannounced(
        built: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    wheel, done = built
    z = zipfile.ZipFile(wheel)
    found: list[str] = []
    for a in ASSIGNMENTS:
        figures = [ROOT / "rubrics" / a / "figures.py"] if (ROOT / "rubrics" / a / "figures.py").is_file() else []
        secrets = student_package.secret_lines(ROOT, a, also_given=figures)
        if a == "week3_nn_basic":  # the check has something to look for: the reference, hidden tests, variants
            assert any(s.endswith("reference.ipynb") for s in secrets)
            assert any("/tests/hidden/" in s for s in secrets) and any("/variants/" in s for s in secrets)
        found += student_package.leaks({n: z.read(n) for n in names(wheel)}, secrets)
    # a line the rubric's own words give away (a hint quoting the answer) ships only as the author wrote it,
    # in a file copied unchanged from rubrics/, and the TA was told, naming it; anything else is refused
    for leak in found:
        parts = re.match(r"(\S+) has a line of .*?: (.*)$", leak)
        assert parts, leak
        file, line = parts.groups()
        assert file.endswith(("/mistakes.toml", "/rubric.toml")), leak
        assert line in done.stderr and "warning" in done.stderr, f"not announced: {leak}"


def same(a: str, b: str) -> bool:
    """Two requirements written alike but for spaces and quotes."""
    return a.replace(" ", "").replace("'", '"') == b.replace(" ", "").replace("'", '"')


def test_it_requires_what_a_check_needs_with_lower_bounds_only(built: tuple[Path, object]) -> None:
    wheel, _ = built
    checkout = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requires = [line.split(":", 1)[1].strip() for line in metadata(wheel).splitlines()
                if line.startswith("Requires-Dist:")]
    assert not [r for r in requires if r.lower().startswith("copydetect")], "the TAs' similarity check is TA-only"
    for dep in checkout["dependencies"]:
        if not dep.startswith("copydetect"):
            assert any(same(r, dep) for r in requires), f"{dep} lost: {requires}"
    for r in requires:
        spec = r.split(";")[0]
        assert not re.search(r"<|==|~=|!=", spec), f"{r}: an upper bound or pin could replace a student's package"


def test_the_version_names_each_assignment_and_rubric_version(built: tuple[Path, object]) -> None:
    wheel, _ = built
    found = re.search(r"^Version: (\S+)$", metadata(wheel), re.M)
    assert found
    version = found.group(1)
    base = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert version.startswith(base + "+")
    for a in ASSIGNMENTS:
        rubric = tomllib.loads((ROOT / "rubrics" / a / "rubric.toml").read_text(encoding="utf-8"))
        assert re.sub(r"[^a-z0-9]+", ".", f"{a}.{rubric['version']}".lower()) in version
    assert wheel.name == f"grader-{version}-py3-none-any.whl"


def test_it_says_what_it_wrote_and_how_to_install(built: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    wheel, done = built
    readme = wheel.parent / "README-student.md"
    assert str(wheel) in done.stdout and str(readme) in done.stdout
    assert f"%pip install {wheel.name}" in done.stdout and f"pip install {wheel.name}" in done.stdout
    text = readme.read_text(encoding="utf-8")
    assert text.count(f"%pip install {wheel.name}") == 2  # Korean, then English
    assert text.count(f"    pip install {wheel.name}") == 2
    assert "grader check" in text and "import grader; grader.check()" in text
    assert "설치" in text and "Install" in text


def test_installing_it_adds_or_replaces_nothing_already_installed(built: tuple[Path, object],
                                                                   tmp_path: Path) -> None:
    """This venv has every dependency: pip, with no index to fetch from, must settle each one with
    what is installed and install the grader alone."""
    wheel, _ = built
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--quiet",
                           "--report", str(report), str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    installs = json.loads(report.read_text())["install"]
    assert [(i["metadata"]["name"], i["metadata"]["version"]) for i in installs] == \
        [("grader", wheel.name.split("-")[1])]


# -- refusals: a copy of the project's layout, each spoilt one way ---------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "course"
    for part in ("rubrics", "solutions", "assignments"):
        shutil.copytree(ROOT / part / "week3_nn_basic", root / part / "week3_nn_basic",
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(root)
    return root


def refused(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> str:
    code = main(["student-package", *args, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert not list(out.glob("*.whl")), "refused, yet a wheel was written"
    return err


def test_the_copied_layout_builds(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _can_build()  # the refusals below come from what each one spoils, not from the copy
    assert main(["student-package", "-o", str(project / "dist")]) == 0, capsys.readouterr().err
    assert [p.name for p in (project / "dist").glob("*.whl")]


def test_a_missing_bundle_says_to_generate_it(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(project / "assignments" / "week3_nn_basic")
    (project / "assignments" / "week3_nn_basic").mkdir()
    err = refused(capsys, project / "dist", "week3_nn_basic")
    assert "grader generate week3_nn_basic" in err


def test_an_unknown_assignment_lists_the_known_ones(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(capsys, project / "dist", "week4")
    assert "week4" in err and "week3_nn_basic" in err


def test_a_hidden_test_in_the_bundle_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hidden = project / "assignments" / "week3_nn_basic" / "tests" / "hidden"
    shutil.copytree(project / "rubrics" / "week3_nn_basic" / "tests" / "hidden", hidden)
    err = refused(capsys, project / "dist")
    assert "tests/hidden/" in err and "grader generate week3_nn_basic" in err


def test_a_variant_source_in_the_bundle_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variant = next((project / "rubrics" / "week3_nn_basic" / "variants").glob("*.py"))
    shutil.copy(variant, project / "assignments" / "week3_nn_basic" / variant.name)
    assert variant.name in refused(capsys, project / "dist")


def test_a_bundle_older_than_its_rubric_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    test = project / "rubrics" / "week3_nn_basic" / "tests" / "public" / "test_gates.py"
    test.write_text(test.read_text(encoding="utf-8") + "\n# a check changed since the bundle was written\n",
                    encoding="utf-8")
    err = refused(capsys, project / "dist")
    assert "out of date" in err and "tests/public/test_gates.py" in err and "grader generate week3_nn_basic" in err


def test_a_notebook_that_kept_a_solution_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the reference handed out by mistake, under the student notebook's name
    shutil.copy(project / "solutions" / "week3_nn_basic" / "reference.ipynb",
                project / "assignments" / "week3_nn_basic" / "week3_nn_basic.ipynb")
    assert "week3_nn_basic.ipynb" in refused(capsys, project / "dist")


def test_a_solution_line_in_what_generate_computes_is_refused(project: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    secrets = student_package.secret_lines(project, "week3_nn_basic")
    line = sorted(x for x in secrets["solutions/week3_nn_basic/reference.ipynb"] if '"' not in x and "\\" not in x)[0]
    expected = project / "assignments" / "week3_nn_basic" / "expected.json"
    data = json.loads(expected.read_text(encoding="utf-8"))
    data["note"] = line
    expected.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    err = refused(capsys, project / "dist")
    assert "expected.json" in err and line in err and "reference.ipynb" in err
