"""The architecture as tests: the trust boundary is a folder, imports go one way, and the error
module tells all.

The grader package (``grader/__init__.py`` and every subpackage's ``__init__.py``) is read as an
import graph, statically (``ast``), so a test fails on a line someone writes, not on a path a
test happens to take. Importing ``grader.a.b`` runs ``grader/__init__.py`` and
``grader/a/__init__.py`` first, and ``from grader.a import b`` does too: the graph follows both.

How imports count:

- at import time (module level, class bodies, decorators, default values): what loading a
  module loads. No module outside ``grader/sandbox`` may load jupyter_client, nbclient, zmq or
  ipykernel this way, through any chain; the failure prints the chain.
- in a function body (lazy): runs when the function is called. This is how the driving code
  (api, batch, executors, cli) reaches the sandbox only when it grades, so lazy imports do not
  count for what importing a module loads. They still count as dependencies: for import cycles,
  for the direct rule (nothing outside the sandbox names the kernel machinery, even lazily), and
  for the pure core (checks, scoring, rubric, report, gradebook, result), whose imports, lazy or
  not, never lead to the kernel machinery.
- under ``if TYPE_CHECKING:``: never runs; annotations only, not counted.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
from collections import deque
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from grader import errors

PACKAGE = Path(errors.__file__).resolve().parent  # grader/ (a regular package: it has an __init__.py)
KERNEL_MACHINERY = {"jupyter_client", "nbclient", "zmq", "ipykernel"}
# the pure core (strict in mypy too): data in, data out, no kernel
PURE_CORE = (
    "grader.checks", "grader.scoring", "grader.rubric", "grader.report", "grader.gradebook", "grader.gradebook_schema",
    "grader.result",
)


@dataclass(frozen=True)
class Import:
    target: str  # absolute dotted name; "from m import a" gives "m.a" (a submodule, or a name in m)
    line: int
    lazy: bool  # in a function body: runs when the function is called
    typing_only: bool  # under `if TYPE_CHECKING:`: never runs


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def scan(source: str, name: str, *, is_package: bool = False) -> list[Import]:
    """Every import in a module's source: statements anywhere, and ``importlib.import_module("...")``
    / ``__import__("...")`` with a literal name. ``name`` is the module's dotted name."""
    package = name if is_package else name.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool, typing_only: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(a.name, node.lineno, lazy, typing_only) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.extend(Import(f"{module}.{a.name}", node.lineno, lazy, typing_only) for a in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            fn = node.func
            fname = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if fname in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                found.append(Import(node.args[0].value, node.lineno, lazy, typing_only))
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, lazy, True)
            for child in node.orelse:
                visit(child, lazy, typing_only)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = node.body if isinstance(node.body, list) else [node.body]
            for child in ast.iter_child_nodes(node):  # decorators and defaults run at import time
                visit(child, lazy or any(child is b for b in body), typing_only)
            return
        for child in ast.iter_child_nodes(node):
            visit(child, lazy, typing_only)

    visit(ast.parse(source), False, False)
    return found


def imported_modules(path: Path) -> set[str]:
    """Absolute names a module imports, anywhere in it (also inside functions)."""
    try:
        name = module_name(path)
    except ValueError:
        name = "grader.fake.module"
    return {i.target for i in scan(path.read_text(encoding="utf-8"), name, is_package=path.name == "__init__.py")}


def top(name: str) -> str:
    return name.split(".")[0]


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def ancestors(name: str) -> list[str]:
    """The packages Python initialises before loading ``name``, outermost first."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


class ImportGraph:
    """The modules of one package and the imports between them."""

    def __init__(self, package: Path) -> None:
        self.paths = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
        self.root = package.parent
        self.imports = {
            m: scan(p.read_text(encoding="utf-8"), m, is_package=p.name == "__init__.py") for m, p in self.paths.items()
        }

    def where(self, module: str) -> str:
        return self.paths[module].relative_to(self.root).as_posix()

    def named(self, target: str) -> str | None:
        """The module an import names: the longest prefix of ``target`` that is one of ours."""
        parts = target.split(".")
        return next((m for i in range(len(parts), 0, -1) if (m := ".".join(parts[:i])) in self.paths), None)

    def loads(self, module: str) -> dict[str, str]:
        """What loading ``module`` runs directly, {module or kernel-machinery name: why}."""
        out = {a: "its package's __init__ runs first" for a in ancestors(module)}
        for imp in self.imports[module]:
            if imp.lazy or imp.typing_only:
                continue
            why = f"{self.where(module)} line {imp.line}"
            if top(imp.target) in KERNEL_MACHINERY:
                out.setdefault(top(imp.target), why)
            named = self.named(imp.target)
            for m in [*ancestors(named), named] if named else []:
                out.setdefault(m, why)
        out.pop(module, None)
        return out

    def dependencies(self, module: str) -> dict[str, str]:
        """What ``module`` imports by name, now or when a function runs: {module or machinery: why}."""
        out: dict[str, str] = {}
        for imp in self.imports[module]:
            if imp.typing_only:
                continue
            why = f"{self.where(module)} line {imp.line}" + (" (in a function)" if imp.lazy else "")
            if top(imp.target) in KERNEL_MACHINERY:
                out.setdefault(top(imp.target), why)
            named = self.named(imp.target)
            if named and named != module:
                out.setdefault(named, why)
        return out

    def chain(self, start: str, edges: str = "loads") -> list[tuple[str, str]] | None:
        """A shortest chain from ``start`` to the kernel machinery along ``loads`` (import time) or
        ``dependencies`` (any import), as [(module, why it leads on), ..., (machinery, "")]."""
        step = getattr(self, edges)
        came_from: dict[str, tuple[str, str]] = {}
        queue = deque([start])
        while queue:
            m = queue.popleft()
            for nxt, why in step(m).items():
                if nxt in came_from or nxt == start:
                    continue
                came_from[nxt] = (m, why)
                if nxt in KERNEL_MACHINERY:
                    nodes = [nxt]
                    while nodes[-1] != start:
                        nodes.append(came_from[nodes[-1]][0])
                    nodes.reverse()
                    return [(n, came_from[nodes[i + 1]][1]) for i, n in enumerate(nodes[:-1])] + [(nxt, "")]
                if nxt in self.paths:
                    queue.append(nxt)
        return None

    def cycles(self) -> list[list[str]]:
        """A closed path through each group of modules that import each other (lazy imports too)."""
        deps = {m: [d for d in self.dependencies(m) if d in self.paths] for m in self.paths}
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        groups: list[set[str]] = []

        def connect(v: str) -> None:  # Tarjan's strongly connected components
            index[v] = low[v] = len(index)
            stack.append(v)
            for w in deps[v]:
                if w not in index:
                    connect(w)
                    low[v] = min(low[v], low[w])
                elif w in stack:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                group = {stack.pop()}
                while v not in group:
                    group.add(stack.pop())
                if len(group) > 1:
                    groups.append(group)

        for v in self.paths:
            if v not in index:
                connect(v)
        found = []
        for group in groups:
            first = min(group)
            came_from: dict[str, str] = {}
            queue = deque([first])
            while queue:
                m = queue.popleft()
                if first in deps[m]:
                    path = [m]
                    while path[-1] != first:
                        path.append(came_from[path[-1]])
                    found.append([*reversed(path), first])
                    break
                for w in deps[m]:
                    if w in group and w not in came_from and w != first:
                        came_from[w] = m
                        queue.append(w)
        return found


def show(chain: list[tuple[str, str]]) -> str:
    """One line a step: ``-> module  (why the one before loads it)``."""
    steps = [f"  {chain[0][0]}"]
    steps += [f"  -> {nxt:<26} ({why})" for (_, why), (nxt, _) in pairwise(chain)]
    return "\n".join(steps)


GRAPH = ImportGraph(PACKAGE)
OUTSIDE_SANDBOX = sorted(m for m in GRAPH.paths if not (m + ".").startswith("grader.sandbox."))
PURE = sorted(m for m in GRAPH.paths if any((m + ".").startswith(p + ".") for p in PURE_CORE))


def make_package(root: Path, files: dict[str, str]) -> ImportGraph:
    for rel, source in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(source))
    return ImportGraph(root / "grader")


def test_the_scan_finds_modules_and_understands_imports(tmp_path: Path) -> None:
    assert len(OUTSIDE_SANDBOX) > 10 and "grader" in GRAPH.paths and "grader.checks" in GRAPH.paths
    assert {"grader.checks", "grader.scoring", "grader.rubric", "grader.gradebook"} <= set(PURE)
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "import os, zmq.asyncio as z\n"
        "from ..sandbox import session\n"
        "def later():\n    from nbclient import NotebookClient\n"
        "    import importlib\n    importlib.import_module('jupyter_client.manager')\n"
        "    __import__('ipykernel')\n"
    )
    names = imported_modules(sneaky)
    assert {"zmq.asyncio", "nbclient.NotebookClient", "jupyter_client.manager", "ipykernel"} <= names
    assert "grader.sandbox.session" in names
    found = {i.target: i for i in scan(sneaky.read_text(), "grader.fake")}
    assert not found["zmq.asyncio"].lazy and found["nbclient.NotebookClient"].lazy and found["ipykernel"].lazy
    typed = scan("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import zmq\nelse:\n    import os\n", "m")
    assert [(i.target, i.typing_only) for i in typed] == [("typing.TYPE_CHECKING", False), ("zmq", True), ("os", False)]
    decorated = scan("@__import__('zmq').x\ndef f(a=__import__('nbclient')):\n    import ipykernel\n", "m")
    assert {i.target: i.lazy for i in decorated} == {"zmq": False, "nbclient": False, "ipykernel": True}
    # the sandbox itself does use the machinery, so the parser is known to see it
    kernel = imported_modules(PACKAGE / "sandbox" / "kernel.py")
    assert {top(n) for n in kernel} & KERNEL_MACHINERY


def test_the_graph_follows_packages_and_finds_chains_and_cycles(tmp_path: Path) -> None:
    graph = make_package(tmp_path, {
        "grader/__init__.py": "",
        "grader/pure.py": "from grader.door import plain\n",  # -> door/__init__ -> engine -> zmq
        "grader/door/__init__.py": "from grader.door.engine import Engine\n",
        "grader/door/plain.py": "X = 1\n",
        "grader/door/engine.py": "import zmq\nclass Engine: ...\n",
        "grader/later.py": "def f():\n    from grader.door import engine\n",
        "grader/a.py": "import grader.b\n",
        "grader/b.py": "def f():\n    from grader import a\n",
    })
    chain = graph.chain("grader.pure")
    assert chain is not None
    assert [m for m, _ in chain] == ["grader.pure", "grader.door", "grader.door.engine", "zmq"]
    assert [why for _, why in chain] == [
        "grader/pure.py line 1", "grader/door/__init__.py line 1", "grader/door/engine.py line 1", ""
    ]
    assert graph.chain("grader.later") is None  # a lazy import loads nothing when the module loads
    lazy = graph.chain("grader.later", "dependencies")
    assert lazy is not None and lazy[-1][0] == "zmq" and "(in a function)" in show(lazy)
    plain = graph.chain("grader.door.plain")  # its package's __init__ runs first
    assert plain is not None and plain[0] == ("grader.door.plain", "its package's __init__ runs first")
    assert graph.cycles() == [["grader.a", "grader.b", "grader.a"]]


@pytest.mark.parametrize("module", OUTSIDE_SANDBOX)
def test_only_the_sandbox_imports_kernel_machinery(module: str) -> None:
    bad = sorted({i.target for i in GRAPH.imports[module] if top(i.target) in KERNEL_MACHINERY})
    assert not bad, f"{module} imports {bad}; kernel access belongs in grader/sandbox/"


@pytest.mark.parametrize("module", OUTSIDE_SANDBOX)
def test_importing_a_module_outside_the_sandbox_loads_no_kernel_machinery(module: str) -> None:
    chain = GRAPH.chain(module)
    assert chain is None, f"importing {module} loads {chain[-1][0]}:\n{show(chain)}"


@pytest.mark.parametrize("module", PURE)
def test_the_pure_core_never_leads_to_kernel_machinery(module: str) -> None:
    chain = GRAPH.chain(module, "dependencies")
    assert chain is None, f"{module} (pure core) leads to {chain[-1][0]}:\n{show(chain)}"


def test_the_interpreter_agrees_that_no_kernel_machinery_loads() -> None:
    # the static graph's claim, checked by Python itself in a fresh interpreter
    names = [m for m in OUTSIDE_SANDBOX if m != "grader.__main__"]  # __main__ runs the command line
    code = textwrap.dedent(f"""
        import importlib, sys
        machinery = {sorted(KERNEL_MACHINERY)!r}
        for name in {names!r}:
            importlib.import_module(name)
            loaded = [m for m in machinery if m in sys.modules]
            if loaded:
                sys.exit(f"importing {{name}} loaded {{loaded}}")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)  # noqa: S603 - our interpreter, our code
    assert done.returncode == 0, done.stderr[-2000:]


def test_no_import_cycle_among_grader_modules() -> None:
    found = GRAPH.cycles()
    assert not found, "import cycles (lazy imports count: imports go one way):\n" + "\n".join(
        "  " + " -> ".join(cycle) for cycle in found
    )


# -- the kernel side: shipped into the student's kernel as source text, its parts concatenated --
KERNEL_SIDE = PACKAGE / "sandbox" / "kernel_side"
KERNEL_SIDE_PARTS = ("wire", "history", "operations", "probe")
KERNEL_SIDE_MAY_IMPORT = {
    "binascii", "collections", "contextlib", "json", "math", "os", "signal", "socket", "sys", "traceback", "types",
    "typing", "numpy",
}


def _defined_at_top(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def test_kernel_side_ships_every_module_of_its_package_in_order() -> None:
    from grader.sandbox import kernel_side

    assert kernel_side.PARTS == KERNEL_SIDE_PARTS
    assert {p.stem for p in KERNEL_SIDE.glob("*.py")} == {"__init__", *KERNEL_SIDE_PARTS}
    source = kernel_side.source()
    at = [source.index(kernel_side.shipped_part(part)) for part in KERNEL_SIDE_PARTS]
    assert at == sorted(at)
    assert all(kernel_side.SHIPPED_FROM not in kernel_side.shipped_part(part) for part in KERNEL_SIDE_PARTS)


@pytest.mark.parametrize("part", KERNEL_SIDE_PARTS)
def test_kernel_side_imports_nothing_from_grader(part: str) -> None:
    # what goes into the kernel: only a few standard modules and numpy, nothing of the grader
    from grader.sandbox import kernel_side

    shipped = kernel_side.shipped_part(part)
    names = {i.target for i in scan(shipped, f"grader.sandbox.kernel_side.{part}")}
    assert not {n for n in names if top(n) == "grader"}
    assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(ast.parse(shipped))), "relative import"
    assert {top(n) for n in names} <= KERNEL_SIDE_MAY_IMPORT


@pytest.mark.parametrize("part", KERNEL_SIDE_PARTS)
def test_kernel_side_parts_take_only_names_earlier_parts_ship(part: str) -> None:
    # the head of a part (not shipped) imports names of earlier parts, which the shipped
    # program defines before this part's code runs; nothing else may hide there
    from grader.sandbox import kernel_side

    head = (KERNEL_SIDE / f"{part}.py").read_text(encoding="utf-8").partition(kernel_side.SHIPPED_FROM)[0]
    earlier = KERNEL_SIDE_PARTS[: KERNEL_SIDE_PARTS.index(part)]
    defined = {f"grader.sandbox.kernel_side.{e}": _defined_at_top(kernel_side.shipped_part(e)) for e in earlier}
    for node in ast.parse(head).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        assert isinstance(node, ast.ImportFrom) and node.level == 0, ast.dump(node)
        assert node.module in defined, f"{part} imports {node.module}, not an earlier part"
        for alias in node.names:
            assert alias.asname is None and alias.name in defined[node.module], alias.name


def test_kernel_side_runs_as_plain_source_text(tmp_path: Path) -> None:
    import builtins
    import json

    from grader.sandbox import codec, kernel_side

    g: dict[str, object] = {"__name__": "__grader_probe__", "__builtins__": dict(vars(builtins))}
    exec(compile(kernel_side.source(), "<grader>", "exec"), g)  # noqa: S102 - our own code, as the kernel runs it
    assert set(kernel_side.__all__) - {"PARTS", "SHIPPED_FROM", "shipped_part", "source"} <= set(g)
    user: dict[str, object] = {"__name__": "__main__"}
    install = g["install"]
    assert callable(install) and install(user, str(tmp_path), "__probe") == "code"
    notebook = "import numpy as np\ndef scale(x, k):\n    return np.asarray(x) * k\ndef boom():\n    raise KeyError(1)"
    exec(notebook, user)  # noqa: S102 - the test's own notebook

    def ask(req: dict[str, object]) -> dict[str, object]:
        probe = user["__probe"]
        probe.handle(json.dumps(req), "reply.json")  # type: ignore[attr-defined]  # the Probe class of the shipped text
        return codec.read_reply(str(tmp_path / "reply.json"))  # type: ignore[no-any-return]  # a reply dict

    assert ask({"op": "snapshot", "cell": 0})["value"] is True
    reply = ask({"op": "call", "name": "scale", "args": [[1, 2], 3], "version": 0})
    assert codec.decode_value(reply["value"]).tolist() == [3, 6]
    error = ask({"op": "call", "name": "boom", "args": []})["error"]
    assert error["type"] == "KeyError" and len(error["traceback"]) == 1  # type: ignore[index]  # its frames: the notebook's only
    assert "<grader>" not in json.dumps(error)


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
