"""Installed without ``-e``, nothing the student's kernel can read holds a hidden test or the
reference: the wheel is the ``grader`` package and its metadata only, and it has everything the
package needs at run time (the sandbox's source files the kernel is sent, data, templates).

The wheel is built offline from a copy of the checkout (so no build/ or egg-info lands in it),
with the interpreter's own setuptools (``pip wheel --no-build-isolation --no-index``).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.student_package import distinctive_lines  # the same test the student package's build makes

ROOT = Path(__file__).resolve().parents[2]
SECRET_FOLDERS = {"rubrics", "solutions", "assignments", "tests", "hidden", "examples"}
SKIP_COPY = shutil.ignore_patterns(".git", ".venv", ".*cache", "__pycache__", "build", "dist", "*.egg-info", "out")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    if importlib.util.find_spec("setuptools.command.bdist_wheel") is None and importlib.util.find_spec("wheel") is None:
        pytest.skip("this setuptools cannot build wheels: pip install -e '.[test]' brings setuptools>=70.1")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=SKIP_COPY)
    done = subprocess.run(  # noqa: S603 - our interpreter's pip, fixed arguments, our own source
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(tmp / "dist")],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"building the wheel failed:\n{done.stdout}\n{done.stderr}"
    (built,) = (tmp / "dist").glob("grader-*.whl")
    return zipfile.ZipFile(built)


def members(wheel: zipfile.ZipFile) -> list[str]:
    return [n for n in wheel.namelist() if not n.endswith("/")]


def test_the_wheel_is_the_package_and_its_metadata(wheel: zipfile.ZipFile) -> None:
    outside = [n for n in members(wheel) if n.split("/")[0] != "grader" and ".dist-info/" not in n]
    assert not outside, f"the wheel installs more than the grader package: {outside}"
    secret = [n for n in members(wheel) if SECRET_FOLDERS & set(n.split("/")[:-1])]
    assert not secret, f"the wheel holds rubric, solution or test folders: {secret}"
    notebooks = [n for n in members(wheel) if n.endswith((".ipynb", "rubric.toml", "expected.json", "variants.json"))]
    assert not notebooks, f"the wheel holds notebooks or rubric files: {notebooks}"


def secret_lines() -> dict[str, set[str]]:
    """Each hidden test's lines (their expected values are written in them), and each reference
    notebook's code lines that its handout does not give away."""
    found = {str(p.relative_to(ROOT)): distinctive_lines(p.read_text(encoding="utf-8"))
             for p in sorted(ROOT.glob("rubrics/*/tests/hidden/**/*.py"))}
    given = set()
    for handout in ROOT.glob("assignments/*/*.ipynb"):
        given |= distinctive_lines("\n".join(notebook_code(handout)))
    for reference in sorted(ROOT.glob("solutions/*/*.ipynb")):
        found[str(reference.relative_to(ROOT))] = distinctive_lines("\n".join(notebook_code(reference))) - given
    return found


def notebook_code(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells
            if c["cell_type"] == "code"]


def test_no_file_in_the_wheel_holds_a_hidden_test_or_the_reference(wheel: zipfile.ZipFile) -> None:
    secrets = secret_lines()
    assert any("hidden" in name for name in secrets) and any(name.endswith(".ipynb") for name in secrets)
    assert all(secrets.values()), "a secret file with no distinctive line cannot be looked for"
    leaks = []
    for name in members(wheel):
        text = wheel.read(name).decode("utf-8", errors="replace")
        leaks += [f"{name} has a line of {source}: {line!r}"
                  for source, lines in secrets.items() for line in lines if line in text]
    assert not leaks, "\n".join(leaks[:20])


def test_the_wheel_holds_every_file_of_the_package(wheel: zipfile.ZipFile) -> None:
    # the kernel is sent the sandbox's source files (kernel_side), and reports need their templates
    package = {p.relative_to(ROOT).as_posix() for p in (ROOT / "grader").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert {"grader/py.typed", "grader/data/iris.data"} <= package
    assert any(n.startswith("grader/sandbox/kernel_side") for n in package)
    missing = sorted(package - set(members(wheel)))
    assert not missing, f"installed without -e, the package would lack {missing} (pyproject's package-data)"


def test_the_wheel_installs_the_command(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in members(wheel) if n.endswith(".dist-info/entry_points.txt")]
    assert "grader = grader.cli:main" in wheel.read(entry_points).decode()
