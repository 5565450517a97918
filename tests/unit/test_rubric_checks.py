"""Every mistake in a rubric fails loudly, naming the file, the variant or test, and the fix.

Each case breaks a temporary copy of rubrics/week3_nn_basic (with solutions/week3_nn_basic
beside it) in one way; loading it or ``authoring.check_rubric`` (what ``grader validate`` and
``grader generate`` run before anything else, in this process, without kernels) must raise a
RubricError that says what is wrong; ``grader validate`` must exit non-zero with it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import authoring, rubric
from grader.errors import RubricError

ROOT = Path(__file__).resolve().parents[2]
A = "week3_nn_basic"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A project folder with a copy of the week-3 rubric and its reference solution."""
    shutil.copytree(ROOT / "rubrics" / A, tmp_path / "rubrics" / A, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions" / A, tmp_path / "solutions" / A)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problem(root: Path) -> str:
    with pytest.raises(RubricError) as info:
        authoring.check_rubric(rubric.load(root / "rubrics" / A))
    return str(info.value)


def test_the_real_rubric_passes_its_checks(copy: Path) -> None:
    authoring.check_rubric(rubric.load(copy / "rubrics" / A))


def test_a_variant_that_raises_is_named_with_its_file(copy: Path) -> None:
    edit(copy / "rubrics" / A / "variants" / "da_times_two.py", "    da = 2 * (A - Y)\n", "    da = 2 * (A - Y)[9]\n")
    msg = problem(copy)
    assert "variant 'da_times_two' (variants/da_times_two.py) raised on backpropagation(" in msg
    assert "IndexError" in msg and "fix the variant file" in msg
    assert "test_backpropagation_dz (tests/public/test_backprop.py)" in msg


def test_a_variant_that_fails_to_build_is_named(copy: Path) -> None:
    edit(copy / "rubrics" / A / "variants" / "db_from_da.py", "import numpy as np\n",
         "import numpy as np\nimport no_such_module_xyz\n")
    msg = problem(copy)
    assert "variants/db_from_da.py (variant db_from_da)" in msg and "no_such_module_xyz" in msg
    assert "fix the variant file" in msg


def test_a_variant_reading_a_name_the_reference_lacks_fails_at_load(copy: Path) -> None:
    f = copy / "rubrics" / A / "variants" / "da_sign_flipped.py"
    edit(f, 'READS = ["sigmoid_prime", "X"]', 'READS = ["sigmoid_derivative", "X"]')
    edit(f, "sigmoid_prime(Z)", "sigmoid_derivative(Z)")
    with pytest.raises(RubricError, match=r"da_sign_flipped.py \(variant da_sign_flipped\): reads sigmoid_derivative, "
                                          r"which the reference solution does not define"):
        rubric.load(copy / "rubrics" / A)


def test_a_variant_reading_an_undeclared_global_fails_at_load(copy: Path) -> None:
    edit(copy / "rubrics" / A / "variants" / "da_sign_flipped.py", 'READS = ["sigmoid_prime", "X"]',
         'READS = ["sigmoid_prime"]')
    with pytest.raises(RubricError, match=r"da_sign_flipped.py \(variant da_sign_flipped\): its functions read X, "
                                          r"defined nowhere in this file: declare .* "
                                          r"READS = \[\"X\", \"sigmoid_prime\"\]"):
        rubric.load(copy / "rubrics" / A)


def test_a_test_raising_its_own_error_on_the_reference_is_named(copy: Path) -> None:
    edit(copy / "rubrics" / A / "tests" / "hidden" / "test_forward.py",
         '    expect(student, reference, "forward", net, x)\n',
         '    expect(student, reference, "forward", net, x)\n    net["W3"] += 1\n')
    msg = problem(copy)
    assert "hidden/test_random_network[1] (tests/hidden/test_forward.py): error" in msg
    assert "KeyError" in msg and "test_forward.py line" in msg


def test_points_that_do_not_add_up_and_a_task_without_tests_fail_at_load(copy: Path) -> None:
    forward = copy / "rubrics" / A / "tests" / "public" / "test_forward.py"
    edit(forward, "@points(4)\n", "@points(5)\n")
    with pytest.raises(RubricError, match="task 'forward' is worth 16 points in rubric.toml, "
                                          "but its tests' @points add up to 17"):
        rubric.load(copy / "rubrics" / A)
    edit(forward, "@points(5)\n", "@points(4)\n")
    edit(copy / "rubrics" / A / "rubric.toml", '[[tasks]]\nname = "gates"',
         '[[tasks]]\nname = "extra"\npoints = 0\n\n[[tasks]]\nname = "gates"')
    with pytest.raises(RubricError, match="task 'extra' has no tests"):
        rubric.load(copy / "rubrics" / A)


def test_grader_validate_exits_non_zero_with_the_message(copy: Path) -> None:
    edit(copy / "rubrics" / A / "variants" / "da_times_two.py", "    da = 2 * (A - Y)\n", "    da = 2 * (A - Y)[9]\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "grader", "validate", A], cwd=copy, capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode != 0
    assert "variant 'da_times_two' (variants/da_times_two.py) raised" in out.stdout + out.stderr
