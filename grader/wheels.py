"""Build a wheel of this grader, optionally with files added inside the package.

The student package (``grader student-package``: the public tests and expected values of an
assignment inside ``grader/assignments/<a>/``) and the Gradescope bundle (the plain grader, its
rubric kept beside it) both ship the grader as a wheel built here, from the checkout the grader
runs from: its ``grader/`` package and the project facts in its ``pyproject.toml`` (name,
dependencies, entry points). The wheel is built by pip and setuptools from a staging copy, so
nothing of the checkout but the package (and what the caller adds) can land in it.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from grader.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PACKAGE = Path(__file__).resolve().parent
_SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def checkout() -> Path:
    """The project folder the running grader comes from (holds pyproject.toml)."""
    root = PACKAGE.parent
    if not (root / "pyproject.toml").is_file():
        raise UsageError(
            f"the grader at {PACKAGE} was not installed from a checkout (no {root / 'pyproject.toml'}): "
            "run this from a clone of the grader's repository installed with `pip install -e .`"
        )
    return root


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def project_toml(*, version: str, dependencies: list[str] | None = None, package_data: tuple[str, ...] = (),
                 description: str | None = None) -> str:
    """The staging copy's pyproject.toml: the checkout's project with *version*, *dependencies*
    (default: the checkout's) and *package_data* globs (inside ``grader/``) added."""
    raw = tomllib.loads((checkout() / "pyproject.toml").read_text(encoding="utf-8"))
    project = raw["project"]
    deps = list(project.get("dependencies", [])) if dependencies is None else dependencies
    data = list(raw.get("tool", {}).get("setuptools", {}).get("package-data", {}).get("grader", []))
    data += [g for g in package_data if g not in data]
    scripts = project.get("scripts", {})
    lines = [
        "[build-system]",
        'requires = ["setuptools>=70.1"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        f"name = {_toml_str(project['name'])}",
        f"version = {_toml_str(version)}",
        f"description = {_toml_str(description or project.get('description', ''))}",
        f"requires-python = {_toml_str(project.get('requires-python', '>=3.10'))}",
        f"dependencies = {_toml_list(deps)}",
        "",
        "[project.scripts]",
        *(f"{name} = {_toml_str(target)}" for name, target in scripts.items()),
        "",
        "[tool.setuptools.packages.find]",
        'include = ["grader*"]',
        "",
        "[tool.setuptools.package-data]",
        f"grader = {_toml_list(data)}",
        "",
    ]
    return "\n".join(lines)


def build_wheel(out_dir: Path, *, version: str, extra: Mapping[str, Path] | None = None,
                dependencies: list[str] | None = None, package_data: tuple[str, ...] = (),
                description: str | None = None) -> Path:
    """Build ``grader-<version>-py3-none-any.whl`` into *out_dir* and return its path.

    *extra* maps a path inside the package (``assignments/week3_nn_basic``) to a file or folder
    copied there; *package_data* lists the globs that make setuptools ship them.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    isolated = importlib.util.find_spec("setuptools.command.bdist_wheel") is None
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        stage = Path(tmp) / "stage"
        shutil.copytree(PACKAGE, stage / "grader", ignore=_SKIP)
        for inside, src in (extra or {}).items():
            dest = stage / "grader" / inside
            if src.is_dir():
                shutil.copytree(src, dest, ignore=_SKIP)
            else:
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
        (stage / "pyproject.toml").write_text(
            project_toml(version=version, dependencies=dependencies, package_data=package_data,
                         description=description), encoding="utf-8")
        dist = Path(tmp) / "dist"
        # this interpreter's setuptools when it can build wheels (offline); else pip fetches one
        command = [sys.executable, "-m", "pip", "wheel", str(stage), "--no-deps", "--quiet", "--wheel-dir", str(dist)]
        if not isolated:
            command[5:5] = ["--no-build-isolation", "--no-index"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)  # noqa: S603 - fixed arguments
        if done.returncode != 0:
            hint = "" if not isolated else " (or install setuptools>=70.1 to build offline)"
            raise UsageError(f"building the wheel failed{hint}:\n{(done.stdout + done.stderr).strip()[-2000:]}")
        (built,) = dist.glob("*.whl")
        target = out_dir / built.name
        shutil.move(str(built), target)
    return target
