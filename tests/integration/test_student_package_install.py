"""A student installs the package and checks a notebook, with no checkout anywhere in reach.

The wheel ``grader student-package`` builds is installed into an empty folder (``pip install
--no-deps --target``; its dependencies are this venv's), then ``grader check`` runs from another
empty folder with only that folder on the path: it must grade from the assignment bundled inside
the package, with copydetect (the TAs' similarity check, left out of the student wheel's
dependencies) impossible to import.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
CORRECT = ROOT / "tests" / "fixtures" / "notebooks" / "week3" / "passes_all.ipynb"

# run the command as `grader` does, with copydetect made unimportable (a None entry in sys.modules)
CHECK = """
import sys
sys.modules["copydetect"] = None
import grader
print("GRADER_FROM", grader.__file__)
from grader.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("setuptools.command.bdist_wheel") is None:
        pytest.skip("this setuptools cannot build wheels offline: pip install -e '.[test]' brings setuptools>=70.1")
    tmp = tmp_path_factory.mktemp("student-install")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "grader", "student-package", "-o", str(tmp / "dist")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp / "dist").glob("grader-*.whl")
    target = tmp / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                           "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return target


def test_check_grades_from_the_bundled_assignment(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "student"
    work.mkdir()
    notebook = work / "my_week3.ipynb"
    shutil.copy(CORRECT, notebook)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(installed)
    done = subprocess.run([sys.executable, "-c", CHECK, "check", notebook.name, "--json", "r.json", "--lang", "en"],
                          cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    origin = Path(done.stdout.split("GRADER_FROM ", 1)[1].split("\n", 1)[0])
    assert origin.is_relative_to(installed), f"graded by {origin}, not the installed package"
    result = json.loads((work / "r.json").read_text(encoding="utf-8"))
    bundled = installed / "grader" / "assignments" / "week3_nn_basic"
    assert result["assignment"] == "week3_nn_basic"
    public = {m.group(1) for p in (bundled / "tests" / "public").glob("test_*.py")
              for m in re.finditer(r"^def (test_\w+)", p.read_text(encoding="utf-8"), re.M)}
    ran = {re.split(r"[\[(]", test["name"])[0] for test in result["tests"]}
    assert ran == public, f"ran {sorted(ran)}, the bundle's public tests are {sorted(public)}"
    assert all(test["visibility"] == "public" and test["status"] == "passed" for test in result["tests"])
    assert result["score"] == result["max_score"] > 0
    assert "100.0 / 100.0" in done.stdout
