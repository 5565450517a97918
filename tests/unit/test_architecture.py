"""The architecture as tests: the trust boundary is a folder, and the error module tells all."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from grader import errors

PACKAGE = Path(errors.__file__).resolve().parent  # grader/ has no __init__.py (namespace package)
KERNEL_MACHINERY = {"jupyter_client", "nbclient", "zmq", "ipykernel"}


def imported_modules(path: Path) -> set[str]:
    """Absolute names imported by a module: import statements anywhere (also inside functions)
    and ``importlib.import_module("...")`` / ``__import__("...")`` with a literal name."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    try:
        pkg = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    except ValueError:
        pkg = "grader.fake"
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            names.add(mod)
            names.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            fn = node.func
            fname = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if fname in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


OUTSIDE_SANDBOX = sorted(p for p in PACKAGE.rglob("*.py") if "sandbox" not in p.relative_to(PACKAGE).parts)


def test_the_scan_finds_modules_and_understands_imports(tmp_path: Path) -> None:
    assert len(OUTSIDE_SANDBOX) > 10
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "import os, zmq.asyncio as z\n"
        "from ..sandbox import session\n"
        "def later():\n    from nbclient import NotebookClient\n"
        "    import importlib\n    importlib.import_module('jupyter_client.manager')\n"
        "    __import__('ipykernel')\n"
    )
    names = imported_modules(sneaky)
    assert {"zmq.asyncio", "nbclient", "jupyter_client.manager", "ipykernel", "grader.sandbox.session"} <= names
    # the sandbox itself does use the machinery, so the parser is known to see it
    session = imported_modules(PACKAGE / "sandbox" / "session.py") | imported_modules(PACKAGE / "sandbox" / "launch.py")
    assert {top(n) for n in session} & KERNEL_MACHINERY


@pytest.mark.parametrize("path", OUTSIDE_SANDBOX, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_sandbox_imports_kernel_machinery(path: Path) -> None:
    bad = sorted(n for n in imported_modules(path) if top(n) in KERNEL_MACHINERY)
    assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}; kernel access belongs in grader/sandbox/"


def test_kernel_side_imports_nothing_from_grader() -> None:
    # it is shipped into the student's kernel as source text
    path = PACKAGE / "sandbox" / "kernel_side.py"
    names = imported_modules(path)
    assert not {n for n in names if top(n) == "grader"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree)), "relative import"
    assert {top(n) for n in names} <= {"binascii", "json", "math", "os", "signal", "socket", "sys", "traceback", "types", "numpy"}


def test_kernel_side_runs_as_plain_source_text() -> None:
    path = PACKAGE / "sandbox" / "kernel_side.py"
    ns: dict[str, object] = {"__name__": "__grader_probe__"}
    exec(compile(path.read_text(encoding="utf-8"), "<grader>", "exec"), ns)  # noqa: S102 - our own file
    assert callable(ns["perform"]) and callable(ns["install"])


ERROR_CLASSES = sorted(
    name for name, obj in vars(errors).items()
    if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
)
@pytest.mark.parametrize("name", ERROR_CLASSES)
def test_errors_docstring_lists_every_exception_class(name: str) -> None:
    import re

    assert re.search(rf"\b{name}\b", errors.__doc__ or ""), f"{name} is missing from the hierarchy in errors.py"


def test_grader_errors_share_one_base() -> None:
    for name in ("UsageError", "NotebookError", "RubricError", "GradebookError", "SandboxError", "ChannelError"):
        assert issubclass(getattr(errors, name), errors.GraderError)
    for name in ("MissingName", "StudentError", "CallTimeout"):
        assert issubclass(getattr(errors, name), errors.StudentCodeProblem)
        assert not issubclass(getattr(errors, name), errors.GraderError)
