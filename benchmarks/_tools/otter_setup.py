"""An otter-grader autograder for the week-3 assignment, generated at run time.

    otter/
      tests/<task>.py        exception-based test files (OK_FORMAT = False), one per check
      iris.data              support file (copied next to the submission by otter run)
      autograder.zip         made by `otter generate -t tests iris.data`

`otter run -a autograder.zip SUBMISSION.ipynb` grades one notebook without a container: it
executes the notebook in a Jupyter kernel (nbconvert), then runs every test file against the
notebook's global namespace. It takes one submission per call, so the benchmark calls it once
per submission, one after another. `otter assign` is not needed: the tests are written
directly and the zip only needs them, the support file and the (default) config.

`otter run` uses the kernel the notebook's metadata names; the copies given to otter name
``python3`` (the fixture with a Python 2.7 kernelspec would otherwise fail to start, which
would make otter look faster on work it did not do). nbgrader resets the kernelspec itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from _tools.checks import CHECKS, otter_test_file


def build_tests(root: Path, iris: Path) -> Path:
    tests = root / "tests"
    tests.mkdir(parents=True)
    for name, points, source in CHECKS:
        (tests / f"{name}.py").write_text(otter_test_file(name, points, source), encoding="utf-8")
    shutil.copy(iris, root / "iris.data")
    (root / "otter_config.json").write_text(json.dumps({"pdf": False, "logo": False}), encoding="utf-8")
    return tests


def submission_copy(notebook: Path, dest: Path) -> Path:
    """The notebook as it is, but for the kernelspec name (see the module docstring)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    ks = nb.setdefault("metadata", {}).get("kernelspec")
    if isinstance(ks, dict):
        ks["name"] = "python3"
    dest.mkdir(parents=True)
    path = dest / "week3.ipynb"
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def read_score(results_json: Path) -> tuple[float, float] | None:
    """(score, max) from otter's Gradescope-format results.json, or None when there is none."""
    try:
        data = json.loads(results_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    tests = data.get("tests") or []
    score = data.get("score")
    got = sum(float(t.get("score") or 0) for t in tests)
    top = sum(float(t.get("max_score") or 0) for t in tests)
    return (float(score) if score is not None else got), top
