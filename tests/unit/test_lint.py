"""The lint and type rules in pyproject.toml hold, so the README's test command and ``.ci/run``
enforce them: ruff over the whole repository and mypy over the whole package find nothing, and
every exception to them (``# noqa``, ``# type: ignore``, a per-file ignore) says why.

ruff and mypy come with the ``test`` extra (``pip install -e '.[test]'``); without them these
tests are skipped, saying so.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
# the student work ruff does not lint either (pyproject's extend-exclude), and what is not ours
NOT_OURS = ("tests/fixtures/notebooks", "examples/submissions", "build", "dist")


def run_tool(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed in this interpreter: pip install -e '.[test]'")
    return subprocess.run(  # noqa: S603 - our interpreter running a tool we depend on, fixed arguments
        [sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=900
    )


def test_ruff_finds_nothing() -> None:
    done = run_tool("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert done.returncode == 0, f"`ruff check .` (rules in pyproject.toml) found:\n{done.stdout}{done.stderr}"


def test_mypy_finds_nothing() -> None:
    done = run_tool("mypy")  # which files, and how strictly, is in pyproject.toml
    assert done.returncode == 0, f"`mypy` (settings in pyproject.toml) found:\n{done.stdout}{done.stderr}"


def test_the_configuration_is_the_agreed_one() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    lint = config["tool"]["ruff"]["lint"]
    assert {"E", "F", "B", "S", "UP", "SIM"} <= set(lint["select"])
    assert not lint.get("ignore"), "ignore rules per file or per line, with a reason, not for the whole repository"
    mypy = config["tool"]["mypy"]
    assert mypy["files"] == ["grader"]
    assert "ignore-without-code" in mypy.get("enable_error_code", [])
    # strict on the whole package, so on the pure core (checks, scoring, rubric, report, gradebook)
    assert mypy["strict"] is True
    relaxed = [o["module"] for o in mypy.get("overrides", []) if set(o) - {"module", "ignore_missing_imports"}]
    assert not relaxed, f"modules exempted from strict: {relaxed}"


def test_every_per_file_ignore_says_why() -> None:
    lines = PYPROJECT.read_text(encoding="utf-8").splitlines()
    start = lines.index("[tool.ruff.lint.per-file-ignores]")
    section = []
    for line in lines[start + 1 :]:
        if line.startswith("["):
            break
        section.append(line.strip())
    entries = [i for i, line in enumerate(section) if line and not line.startswith("#")]
    assert entries, "the per-file-ignores section was not found or is empty"

    def explained(i: int) -> bool:  # a comment on the line, or in the block of lines just above it
        while i >= 0 and section[i]:
            if "#" in section[i]:
                return True
            i -= 1
        return False

    unexplained = [section[i] for i in entries if not explained(i)]
    assert not unexplained, f"per-file ignores without a comment saying why: {unexplained}"


NOQA = re.compile(r"#\s*(?i:noqa)\b(?::\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)?(?P<rest>.*)")
TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore(?:\[[^\]]*\])?(?P<rest>.*)")
REASON = re.compile(r"^\s*(?:[-:#]|--)?\s*\w")


def unexplained_ignores(source: str) -> list[tuple[int, str]]:
    """Comments that silence ruff or mypy without a reason after the codes."""
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        for pattern in (NOQA, TYPE_IGNORE):
            m = pattern.search(tok.string)
            if m and not REASON.match(m.group("rest")):
                found.append((tok.start[0], tok.string))
    return found


def test_the_reason_check_can_tell() -> None:
    bad = "import os  # noqa: F401\nx = 1  # type: ignore[assignment]\ny = 2  # noqa\n"
    good = (
        "import os  # noqa: F401 - re-exported\n"
        "x = 1  # type: ignore[assignment]  # numpy's stubs are wrong here\n"
        "s = '# noqa'\n"
    )
    assert [line for line, _ in unexplained_ignores(bad)] == [1, 2, 3]
    assert unexplained_ignores(good) == []


def python_files() -> list[Path]:
    """Our Python files: not hidden folders (.venv, .git), not student work, not build output."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        rel = Path(folder).relative_to(ROOT).as_posix()
        dirs[:] = sorted(
            d for d in dirs
            if not d.startswith(".") and not d.endswith(".egg-info") and d != "__pycache__"
            and f"{rel}/{d}".removeprefix("./") not in NOT_OURS
        )
        found += [Path(folder, f) for f in sorted(files) if f.endswith(".py")]
    return found


def test_every_noqa_and_type_ignore_says_why() -> None:
    found = []
    for path in python_files():
        rel = path.relative_to(ROOT).as_posix()
        found += [f"{rel}:{line}: {text}" for line, text in unexplained_ignores(path.read_text(encoding="utf-8"))]
    assert not found, "ignores without a reason beside them:\n" + "\n".join(found)
