"""Rubrics: a versioned ``rubric.toml`` plus test modules, loaded and validated.

Layout of ``rubrics/<assignment>/`` (the TA's, with hidden tests)::

    rubric.toml            schema, version, tasks and points, tolerances, limits, kernel files
    tests/public/test_*.py  shipped to students with their expected values
    tests/hidden/test_*.py  never leave this folder
    mistakes.toml           the known mistakes: words in Korean and English, how each is recognised
    variants/*.py           accepted readings and mistakes matched by value (``grader.variants``)
    figures.py              what the report plots, when rubric.toml names it (``[report] figures``, ``grader.figures``)

A test's task is its module's ``TASK``, its visibility its folder, its points its ``@points``;
a task's tests add up to its points. ``assignments/<assignment>/`` (what students get, written
by ``grader generate``) has the same ``rubric.toml``, ``mistakes.toml``, ``tests/public/``, figure module,
``variants.json`` and ``expected.json`` instead of a reference solution. For course authors: ``rubrics/README.md``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from collections.abc import Callable
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from grader.config import Limits
from grader.errors import RubricError
from grader.handout import SlipSpec, parse_returns, parse_slips
from grader.scoring import TaskSpec
from grader.mistakes import FILE, Mistake, load_mistakes
from grader.variants import VariantSpec, parse_variants

__all__ = ["Rubric", "SlipSpec", "TestItem", "VariantSpec", "find_root", "load", "resolve"]

SCHEMA = 1
PACKAGE_DATA = Path(__file__).parent / "data"
FIXTURES = {"student", "reference", "rng"}

# Every key of rubric.toml, with its type, default and meaning (the schema, declared once).
KEYS: dict[str, tuple[type, Any, str]] = {
    "schema": (int, SCHEMA, "rubric file format version; this grader reads 1"),
    "assignment": (str, None, "assignment id, the folder name under rubrics/ and solutions/"),
    "version": (str, None, "rubric version: change it whenever grading changes (results are keyed on it)"),
    "title": (str, "", "human title"),
    "language": (str, "ko", "feedback language: ko or en"),
    "pass_mark": (float, 60.0, "score at or above which `check --ci` exits 0"),
    "solution": (str, "reference.ipynb", "reference notebook in solutions/<assignment>/"),
    "notebook": (str, "", "student notebook file name written by `grader generate`"),
    "seed": (int, 0, "seed mixed into each test's rng fixture"),
    "tolerance": (dict, {}, "default rtol and atol for close(), and shape: exact | squeeze (equal values in shapes "
                            "that differ by length-1 axes are equal) | broadcast"),
    "limits": (dict, {}, "overrides of the sandbox limits (see `grader grade --help`)"),
    "kernel": (dict, {}, "files: data files put beside the notebook; serve_urls: URL -> file served offline; "
                         "packages: modules the notebooks import (checked before grading); compat: the course "
                         "environment's removed NumPy aliases and pandas' header= spelled eader="),
    "tasks": (list, None, "[[tasks]] name, title, points (the sum of its tests' @points)"),
    "extra_notebooks": (list, [], "other reference notebooks graded with their own tests (e.g. written.ipynb)"),
    "match": (list, ["*.ipynb"], "file-name globs of the notebooks this rubric grades in a folder"),
    "exclude": (list, [], "file-name globs to skip (e.g. another assignment's notebooks)"),
    "fixtures": (str, "", "folder of fixture notebooks with a MANIFEST.toml, for `grader validate` "
                          "(relative to the rubric)"),
    "variants": (list, [], "[[variants]] accepted readings and known mistakes: name, kind, credit (a number, or a "
                           "table task -> number), scope, file (variants/NAME.py: READS = [...] and the replacement "
                           "functions), title, hint"),
    "returns": (dict, {}, "[returns.NAME] how a function is called and its results unpacked: args = [the handout's "
                          "parameter names], by_arity = {'3' = [...]}, shapes = {part = 'squeeze'}"),
    "report": (dict, {}, "handout_marks: marks on the lines of a revision of the handout (for the similarity "
               "check); figures: the rubric's figure module (a file relative to the rubric, e.g. figures.py) whose "
                         "figures(student, reference) gives what the report plots (grader.figures)"),
    "slips": (list, [], "[[slips]] the handout's own faults: name, error (regex on 'Type: message' of a failing "
                        "cell), cell (regex on its source), title, hint; such a cell is reported apart and does not "
                        "make a result partial"),
}


@dataclass
class TestItem:
    name: str
    func: Callable[..., Any]
    params: dict[str, Any]
    task: str
    points: float  # what this case is worth: its function's @points shared among its cases
    visibility: str  # public or hidden: the folder it lives in
    module: str
    timeout: float | None = None  # seconds for the whole test (@timeout), else only the per-call limit

    @property
    def fixtures(self) -> list[str]:
        return [p for p in inspect.signature(self.func).parameters if p not in self.params]


@dataclass
class Rubric:
    path: Path
    assignment: str
    version: str
    title: str
    language: str
    pass_mark: float
    tasks: list[TaskSpec]
    items: list[TestItem]
    rtol: float
    atol: float
    limits: Limits
    seed: int
    solution: str
    notebook: str
    files: dict[str, bytes] = field(default_factory=dict)
    serve_urls: dict[str, str] = field(default_factory=dict)
    public_only: bool = False
    expected: dict[str, Any] | None = None
    digest: str = ""
    variants: list[VariantSpec] = field(default_factory=list)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    match: list[str] = field(default_factory=lambda: ["*.ipynb"])
    exclude: list[str] = field(default_factory=list)
    fixtures: str = ""
    shape: str = "exact"
    packages: list[str] = field(default_factory=list)
    compat: bool = False
    slips: list[SlipSpec] = field(default_factory=list)
    mistakes: dict[str, Mistake] = field(default_factory=dict)  # mistakes.toml: the known mistakes by name
    figures_path: Path | None = None  # [report] figures: the figure module (grader.figures), None for no figures
    # [report] handout_marks: marks the course puts on lines of a revision of its handout (the
    # similarity check counts such lines as the handout's, not the student's)
    handout_marks: tuple[str, ...] = ()

    def missing_packages(self) -> list[str]:
        """The ``[kernel] packages`` this Python cannot import (the kernel runs on it)."""
        import importlib.util

        missing = []
        for name in self.packages:
            try:
                found = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(name)
        return missing

    def grades_file(self, name: str) -> bool:
        """Whether a notebook file name is for this rubric (``match``/``exclude`` globs)."""
        import fnmatch

        low = name.lower()
        return any(fnmatch.fnmatch(low, g.lower()) for g in self.match) and not any(
            fnmatch.fnmatch(low, g.lower()) for g in self.exclude
        )

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tasks)

    def solution_path(self) -> Path:
        return self.path.parent.parent / "solutions" / self.assignment / self.solution


def find_root(start: Path | None = None) -> Path:
    """The project folder holding rubrics/ (or assignments/): cwd upwards, then the package itself
    (a student package carries ``grader/assignments/<a>/``: see grader/student_package.py), then
    the checkout the package was installed from (``pip install -e .``)."""
    here = (start or Path.cwd()).resolve()
    package = Path(__file__).resolve().parent
    for d in [here, *here.parents, package, package.parent]:
        if (d / "rubrics").is_dir() or (d / "assignments").is_dir():
            return d
    raise RubricError(
        "no rubrics/ or assignments/ folder found from the current folder upwards; "
        "run from the grader repository or pass --rubric PATH"
    )


def resolve(assignment: str | None, *, rubric: Path | None, public: bool) -> Path:
    """Find the rubric folder: an explicit path, or rubrics/<a> (TA) / assignments/<a> (student)."""
    if rubric is not None:
        if not (rubric / "rubric.toml").is_file():
            raise RubricError(f"{rubric} has no rubric.toml; pass a rubrics/<assignment> or "
                              "assignments/<assignment> folder")
        return rubric
    root = find_root()
    base = root / ("assignments" if public else "rubrics")
    if assignment is None:
        found = sorted(p.parent.name for p in base.glob("*/rubric.toml"))
        if len(found) == 1:
            assignment = found[0]
        elif not found:
            raise RubricError(f"no assignment found under {base}; run `grader generate` first or pass --rubric")
        else:
            raise RubricError(f"several assignments under {base} ({', '.join(found)}): choose one with --assignment")
    path = base / assignment
    if not (path / "rubric.toml").is_file():
        known = ", ".join(sorted(p.name for p in base.iterdir() if p.is_dir())) or "none"
        raise RubricError(f"{path}/rubric.toml not found; known: {known}")
    return path


def load(path: Path, *, public_only: bool = False) -> Rubric:
    """Load and validate ``path/rubric.toml`` and its test modules."""
    path = path.resolve()
    toml_path = path / "rubric.toml"
    try:
        raw = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"{toml_path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise RubricError(f"{toml_path}: invalid TOML ({exc})") from None
    unknown = set(raw) - set(KEYS)
    if unknown:
        raise RubricError(f"{toml_path}: unknown key(s) {', '.join(sorted(unknown))}; known keys: {', '.join(KEYS)}")
    vals: dict[str, Any] = {}
    for key, (typ, default, _help) in KEYS.items():
        if key not in raw:
            if default is None:
                raise RubricError(f"{toml_path}: missing required key {key!r} ({_help})")
            vals[key] = default
            continue
        v = raw[key]
        if typ is float and isinstance(v, int):
            v = float(v)
        if not isinstance(v, typ):
            raise RubricError(f"{toml_path}: {key} must be a {typ.__name__}, got {type(v).__name__}")
        vals[key] = v
    if vals["schema"] != SCHEMA:
        raise RubricError(f"{toml_path}: schema {vals['schema']} is not supported (this grader reads schema "
                          f"{SCHEMA}); upgrade grader")
    tasks = []
    for i, t in enumerate(vals["tasks"]):
        if not isinstance(t, dict) or not {"name", "points"} <= set(t):
            raise RubricError(f"{toml_path}: tasks[{i}] needs name and points")
        if isinstance(t["points"], bool) or not isinstance(t["points"], (int, float)) or t["points"] < 0:
            raise RubricError(f"{toml_path}: tasks[{i}] points must be a non-negative number, got {t['points']!r}")
        tasks.append(TaskSpec(str(t["name"]), str(t.get("title", t["name"])), float(t["points"])))
    if len({t.name for t in tasks}) != len(tasks):
        raise RubricError(f"{toml_path}: duplicate task names")
    tol = vals["tolerance"]
    for key in ("rtol", "atol"):
        if key in tol and (isinstance(tol[key], bool) or not isinstance(tol[key], (int, float)) or tol[key] < 0):
            raise RubricError(f"{toml_path}: tolerance.{key} must be a non-negative number, got {tol[key]!r}")
    if tol.get("shape", "exact") not in ("exact", "squeeze", "broadcast"):
        raise RubricError(f"{toml_path}: tolerance.shape must be exact, squeeze or broadcast, got {tol['shape']!r}")
    unknown_kernel = set(vals["kernel"]) - {"files", "serve_urls", "packages", "compat"}
    if unknown_kernel:
        raise RubricError(f"{toml_path}: kernel has unknown key(s) {', '.join(sorted(unknown_kernel))}; "
                          "known: files, serve_urls, packages, compat")
    packages = vals["kernel"].get("packages", [])
    if not isinstance(packages, list) or not all(isinstance(p, str) and p for p in packages):
        raise RubricError(f"{toml_path}: kernel.packages must list importable module names, "
                          "e.g. [\"numpy\", \"sklearn\"]")
    compat = vals["kernel"].get("compat", False)
    if not isinstance(compat, bool):
        raise RubricError(f"{toml_path}: kernel.compat must be true or false")
    limits = Limits().override(vals["limits"], source=str(toml_path))
    kernel = vals["kernel"]
    files: dict[str, bytes] = {}
    for name in kernel.get("files", []):
        for cand in (path / "data" / name, path / name, PACKAGE_DATA / name):
            if cand.is_file():
                files[name] = cand.read_bytes()
                break
        else:
            raise RubricError(f"{toml_path}: kernel file {name!r} not found in {path}/data or the grader's data")
    serve = {str(k): str(v) for k, v in kernel.get("serve_urls", {}).items()}
    for url, fname in serve.items():
        if fname not in files:
            raise RubricError(f"{toml_path}: serve_urls maps {url} to {fname!r}, which is not in kernel.files")
    figures_path = _figures_path(vals["report"], path, toml_path)
    items = _collect(path, vals["assignment"], {t.name for t in tasks}, public_only)
    if not items:
        raise RubricError(f"{path}: no tests found in tests/public or tests/hidden")
    if not public_only:  # a student bundle has the public tests only: their points are scaled to the task
        _check_points(tasks, items, path)
    solution = path.parent.parent / "solutions" / vals["assignment"] / vals["solution"]
    mistakes = load_mistakes(path, {t.name for t in tasks}, vals["language"])
    variants = parse_variants([*vals["variants"], *_as_variants(mistakes, vals["variants"], path)], path, toml_path,
                              _code_cells(solution) if solution.is_file() else None, public_only)
    by_name = {m.name: m for m in mistakes}
    variants = [replace(v, mistake=by_name[v.name]) if v.name in by_name else v for v in variants]
    expected = None
    if public_only and (path / "expected.json").is_file():
        expected = json.loads((path / "expected.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.suffix in (".toml", ".py", ".json", ".ipynb") and "__pycache__" not in f.parts:
            digest.update(str(f.relative_to(path)).encode() + b"\0" + f.read_bytes())
    return Rubric(
        path=path, assignment=vals["assignment"], version=vals["version"], title=vals["title"],
        language=vals["language"], pass_mark=vals["pass_mark"], tasks=tasks, items=items,
        rtol=float(tol.get("rtol", 1e-6)), atol=float(tol.get("atol", 1e-8)), limits=limits,
        seed=vals["seed"], solution=vals["solution"], notebook=vals["notebook"] or f"{vals['assignment']}.ipynb",
        files=files, serve_urls=serve, public_only=public_only, expected=expected,
        digest=digest.hexdigest()[:16],
        variants=variants, returns=parse_returns(vals["returns"], toml_path),
        match=[str(g) for g in vals["match"]], exclude=[str(g) for g in vals["exclude"]], fixtures=vals["fixtures"],
        shape=str(tol.get("shape", "exact")), packages=[str(p) for p in packages], compat=compat,
        slips=parse_slips(vals["slips"], toml_path), mistakes=by_name, figures_path=figures_path,
        handout_marks=tuple(vals["report"].get("handout_marks", [])),
    )


def _figures_path(report: dict[str, Any], path: Path, toml_path: Path) -> Path | None:
    """``[report] figures``: the figure module, a .py file inside the rubric folder (None: no figures)."""
    unknown = set(report) - {"figures", "handout_marks"}
    if unknown:
        raise RubricError(f"{toml_path}: report has unknown key(s) {', '.join(sorted(unknown))}; "
                          "known: figures, handout_marks")
    marks = report.get("handout_marks", [])
    if not isinstance(marks, list) or not all(isinstance(m, str) and m for m in marks):
        raise RubricError(f"{toml_path}: report.handout_marks must be a list of texts, got {marks!r}")
    if "figures" not in report:
        return None
    name = report["figures"]
    if not isinstance(name, str) or not name.endswith(".py"):
        raise RubricError(f"{toml_path}: report.figures must name a .py file beside rubric.toml, got {name!r}")
    found = (path / name).resolve()
    if not found.is_relative_to(path) or not found.is_file():
        raise RubricError(f"{toml_path}: report.figures names {name!r}, which is not a file in {path}")
    return found


def _as_variants(mistakes: list[Mistake], declared: list[Any], path: Path) -> list[dict[str, Any]]:
    """The ``[[variants]]`` tables of the mistakes matched by value (``variant = FILE``)."""
    taken = {v.get("name") for v in declared if isinstance(v, dict)}
    out = []
    for m in mistakes:
        if not m.variant:
            continue
        if m.name in taken:
            raise RubricError(f"{path / FILE}: {m.name} is also a [[variants]] entry of rubric.toml; keep one")
        out.append({"name": m.name, "kind": "mistake", "credit": m.credit, "scope": m.scope, "file": m.variant,
                    "title": m.title, "hint": m.hint})
    return out


def _code_cells(notebook: Path) -> list[str]:
    """The code cells of a notebook, read as JSON (for reading the reference's names)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError) as exc:
        raise RubricError(f"{notebook}: not a readable notebook ({exc})") from None
    return ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
            for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]


def _check_points(tasks: list[TaskSpec], items: list[TestItem], path: Path) -> None:
    """rubric.toml's points per task are the sum of its tests' @points (a task with none is an error)."""
    for t in tasks:
        mine = [i for i in items if i.task == t.name]
        if not mine:
            raise RubricError(f"{path}: task {t.name!r} has no tests: add a test module with TASK = {t.name!r} "
                              "in tests/public or tests/hidden, or remove the task from rubric.toml")
        got = sum(i.points for i in mine)
        if abs(got - t.points) > 1e-6:
            by_fn: dict[str, float] = {}
            for i in mine:
                key = f"{i.module}.{i.name.split('[')[0].removeprefix('hidden/')}"
                by_fn[key] = by_fn.get(key, 0.0) + i.points
            listed = ", ".join(f"{k} {v:g}" for k, v in by_fn.items())
            raise RubricError(f"{path}: task {t.name!r} is worth {t.points:g} points in rubric.toml, but its tests' "
                              f"@points add up to {got:g} ({listed}); make them agree")


def _collect(path: Path, assignment: str, task_names: set[str], public_only: bool) -> list[TestItem]:
    items: list[TestItem] = []
    seen: set[str] = set()
    for vis in ("public", "hidden"):
        if vis == "hidden" and public_only:
            continue
        folder = path / "tests" / vis
        for mod_path in sorted(folder.glob("test_*.py")):
            modname = f"_grader_rubric_{assignment}_{vis}_{mod_path.stem}"
            spec = importlib.util.spec_from_file_location(modname, mod_path)
            if spec is None or spec.loader is None:
                raise RubricError(f"{mod_path}: cannot be imported (not a Python module)")
            module = importlib.util.module_from_spec(spec)
            sys.modules[modname] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                raise RubricError(f"{mod_path}: cannot be imported ({type(exc).__name__}: {exc})") from exc
            tname = getattr(module, "TASK", None)
            funcs = [
                f for n, f in vars(module).items()
                if n.startswith("test_") and inspect.isfunction(f) and f.__module__ == modname
            ]
            if funcs and not isinstance(tname, str):
                raise RubricError(f"{mod_path}: no task; set the module's TASK = \"<a task of rubric.toml>\" "
                                  "(every test of a module belongs to its TASK)")
            if funcs and tname not in task_names:
                raise RubricError(f"{mod_path}: TASK = {tname!r} is not a task of rubric.toml "
                                  f"({', '.join(sorted(task_names))})")
            funcs.sort(key=lambda f: f.__code__.co_firstlineno)
            for fn in funcs:
                meta = getattr(fn, "__grader__", {})
                if "points" not in meta:
                    raise RubricError(f"{mod_path}: {fn.__name__} has no @points(n); write the points it is worth "
                                      "(a parametrized test's points are shared among its cases)")
                cases = meta.get("cases") or [("", {})]
                share = float(meta["points"]) / len(cases)
                for cid, params in cases:
                    name = f"{fn.__name__}[{cid}]" if cid else fn.__name__
                    if vis == "hidden":
                        name = f"hidden/{name}"
                    if name in seen:
                        raise RubricError(f"{mod_path}: duplicate test name {name}")
                    seen.add(name)
                    item = TestItem(name, fn, params, str(tname), share, vis, mod_path.stem, meta.get("timeout"))
                    bad = set(item.fixtures) - FIXTURES
                    if bad:
                        raise RubricError(f"{mod_path}: {fn.__name__} asks for unknown fixture(s) "
                                          f"{', '.join(sorted(bad))}; available: {', '.join(sorted(FIXTURES))}")
                    items.append(item)
    return items


def describe_schema() -> str:
    return "\n".join(f"  {k:<16} {t.__name__:<6} {h}" for k, (t, _d, h) in KEYS.items())
