"""Variants: accepted readings and known mistakes, as Python functions with their inputs declared.

A variant file in ``rubrics/<assignment>/variants/`` holds only imports, one declaration and the
replacement function(s)::

    READS = ["sigmoid_prime", "X"]  # the reference notebook's globals these functions read

    import numpy as np

    def backpropagation(Y, A, Z):
        ...

Each ``def`` replaces the reference's function of that name; the variant is the reference with
those functions replaced (they are defined after the reference's cells, in its namespace, so
the reference's other functions that call them use them too). Every global name a function
reads must be a builtin, an import or a function of this file, or be declared in ``READS`` and
defined by the reference solution: nothing is "defined nowhere". Which of the reference's
functions a variant changes (the ``def``\\ s and every reference function that calls one of them,
directly or not) is derived here, so no list in ``rubric.toml`` has to be kept in step.
"""

from __future__ import annotations

import ast
import builtins
import json
import symtable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import RubricError
from grader.mistakes import Mistake

KEYS = ("name", "kind", "credit", "scope", "file", "title", "hint")
DERIVED = "variants.json"  # in a student bundle: each variant's changed functions (its file stays in rubrics/)


@dataclass(frozen=True)
class VariantSpec:
    """A mutation of the reference: an accepted reading (credit 1) or a named mistake."""

    name: str
    kind: str  # accepted | mistake
    credit: float
    functions: tuple[str, ...]  # the reference functions it changes (derived from its file)
    file: str
    title: str
    hint: str
    source: str
    credits: dict[str, float] = field(default_factory=dict)  # per task, where it differs from credit
    scope: str = "test"  # test: the matching test earns credit; task: its whole task is scaled by it
    reads: tuple[str, ...] = ()  # the reference's globals its functions read (its READS)
    defines: tuple[str, ...] = ()  # the functions its file defines
    mistake: Mistake | None = None  # its entry in mistakes.toml: the words in every language

    def diagnosis(self, kind: str | None = None) -> dict[str, Any]:
        """The diagnosis a test attaches when an answer matches this variant."""
        if self.mistake is not None:
            return self.mistake.diagnosis(kind=kind)
        return {"name": self.name, "kind": kind or self.kind, "hint": self.hint or self.title}

    def credit_in(self, task: str) -> float:
        return self.credits.get(task, self.credit)


@dataclass(frozen=True)
class VariantCode:
    """What a variant file defines and reads, found by reading it (never by running it)."""

    defines: tuple[str, ...]
    reads: tuple[str, ...]


def _function_globals(table: symtable.SymbolTable) -> set[str]:
    """Global names a function (and the functions and classes nested in it) reads."""
    names = {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    for child in table.get_children():
        names |= _function_globals(child)
    return names


def read_variant(source: str, where: str) -> VariantCode:
    """Check a variant file's form and what its functions read; RubricError naming the fix."""
    try:
        tree = ast.parse(source, where)
    except SyntaxError as exc:
        raise RubricError(f"{where}: not valid Python (line {exc.lineno}: {exc.msg})") from None
    declared: list[str] | None = None
    defined: list[str] = []
    imported: set[str] = set()
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            continue  # the docstring
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef):
            defined.append(node.name)
        elif (isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["READS"]):
            value = node.value
            if not (isinstance(value, (ast.List, ast.Tuple))
                    and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts)):
                raise RubricError(f"{where}: READS must be a list of names, e.g. READS = [\"sigmoid_prime\", \"X\"]")
            declared = [str(e.value) for e in value.elts if isinstance(e, ast.Constant)]
        else:
            raise RubricError(f"{where}: line {node.lineno}: a variant file holds only imports, READS = [...] and "
                              f"function definitions (a {type(node).__name__} statement is not allowed: a variant "
                              "is the reference with some functions replaced, nothing else runs)")
    if not defined:
        raise RubricError(f"{where}: defines no function; a variant replaces one or more of the reference's functions "
                          "(def NAME(...): with the reference's parameters)")
    if len(set(defined)) != len(defined):
        twice = ", ".join(sorted(n for n in set(defined) if defined.count(n) > 1))
        raise RubricError(f"{where}: defines a function twice ({twice})")
    reads: set[str] = set()
    for child in symtable.symtable(source, where, "exec").get_children():
        if child.get_name() in defined:
            reads |= _function_globals(child)
    own = set(defined) | imported | set(dir(builtins))
    undeclared = sorted(reads - own - set(declared or []))
    if undeclared:
        have = ", ".join(f'"{n}"' for n in sorted({*(declared or []), *undeclared}))
        raise RubricError(f"{where}: its functions read {', '.join(undeclared)}, defined nowhere in this file: declare "
                          f"what it takes from the reference solution at the top, READS = [{have}]")
    unused = sorted(set(declared or []) - reads)
    if unused:
        raise RubricError(f"{where}: READS lists {', '.join(unused)}, which none of its functions reads; remove it")
    return VariantCode(tuple(defined), tuple(sorted(set(declared or []))))


def reference_names(sources: list[str]) -> tuple[set[str], dict[str, set[str]]]:
    """The reference's top-level names, and for each of its functions and classes the globals
    it reads (cells that are not plain Python, e.g. ``%matplotlib``, are skipped)."""
    names: set[str] = set()
    uses: dict[str, set[str]] = {}
    for i, src in enumerate(sources):
        try:
            table = symtable.symtable(src, f"<reference cell {i}>", "exec")
            defs = {n.name for n in ast.parse(src).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        except SyntaxError:
            continue
        names |= {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
        for child in table.get_children():
            if child.get_name() in defs:  # not a comprehension's or lambda's scope
                uses.setdefault(child.get_name(), set()).update(_function_globals(child))
    return names, uses


def changed_functions(defines: tuple[str, ...], uses: dict[str, set[str]]) -> tuple[str, ...]:
    """The functions a variant changes: its own, then every reference function that calls one."""
    changed = set(defines)
    grew = True
    while grew:
        grew = False
        for name, reads in uses.items():
            if name not in changed and reads & changed:
                changed.add(name)
                grew = True
    return tuple([*defines, *sorted(changed - set(defines))])


def check_against_reference(code: VariantCode, names: set[str], where: str) -> None:
    """A variant replaces the reference's functions and reads its globals: all must exist there."""
    for what, missing in (("defines", [n for n in code.defines if n not in names]),
                          ("reads", [n for n in code.reads if n not in names])):
        if missing:
            fix = ("a variant replaces functions the reference defines: check the spelling"
                   if what == "defines" else "the reference solution must define it (or the variant must not read it)")
            raise RubricError(f"{where}: {what} {', '.join(missing)}, which the reference solution does not "
                              f"define; {fix}")


def parse_variants(raw: list[Any], path: Path, toml_path: Path, reference: list[str] | None,
                   public_only: bool = False) -> list[VariantSpec]:
    """``[[variants]]`` of rubric.toml with their files; ``reference``: the solution's code cells
    (None in a student bundle, which reads the derived functions from ``variants.json``)."""
    derived: dict[str, Any] = {}
    if public_only and (path / DERIVED).is_file():
        derived = json.loads((path / DERIVED).read_text(encoding="utf-8"))
    names, uses = reference_names(reference) if reference is not None else (set(), {})
    out = []
    for i, v in enumerate(raw):
        where = f"{toml_path}: variants[{i}]"
        if not isinstance(v, dict):
            raise RubricError(f"{where} must be a table")
        if "functions" in v:
            raise RubricError(f"{where}: 'functions' is gone: which functions a variant changes is read from its file "
                              "(its def lines, and the reference functions that call them); delete the line")
        missing = {"name", "kind", "file"} - set(v)
        if missing:
            raise RubricError(f"{where} is missing {', '.join(sorted(missing))}")
        where = f"{where} ({v['name']})"
        kind = v["kind"]
        if kind not in ("accepted", "mistake"):
            raise RubricError(f"{where}: kind must be 'accepted' or 'mistake', got {kind!r}")
        credit, credits = _credit(v.get("credit", 1.0 if kind == "accepted" else 0.0), kind, where)
        scope = v.get("scope", "test")
        if scope not in ("test", "task"):
            raise RubricError(f"{where}: scope must be 'test' (the matching test earns credit) or 'task' (the whole "
                              f"task is scaled by credit), got {scope!r}")
        unknown = set(v) - set(KEYS)
        if unknown:
            raise RubricError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(KEYS)}")
        if not isinstance(v["file"], str) or not v["file"]:
            raise RubricError(f"{where}: file must be the path of one variant file, e.g. \"variants/{v['name']}.py\"")
        f = path / v["file"]
        source, code, functions = "", VariantCode((), ()), tuple(derived.get(str(v["name"]), ()))
        if not f.is_file():
            if not public_only:
                raise RubricError(f"{where}: file {f} not found")
            if str(v["name"]) not in derived:
                raise RubricError(f"{path}/{DERIVED} does not list variant {v['name']}; regenerate the bundle with "
                                  "`grader generate`")
        else:
            source = f.read_text(encoding="utf-8")
            code = read_variant(source, f"{f} (variant {v['name']})")
            if reference is not None:
                check_against_reference(code, names, f"{f} (variant {v['name']})")
            functions = changed_functions(code.defines, uses)
        out.append(VariantSpec(
            name=str(v["name"]), kind=kind, credit=credit, functions=functions, file=str(v["file"]),
            title=str(v.get("title", v["name"])), hint=str(v.get("hint", "")), source=source, credits=credits,
            scope=scope, reads=code.reads, defines=code.defines,
        ))
    if len({x.name for x in out}) != len(out):
        raise RubricError(f"{toml_path}: duplicate variant names")
    return out


def _credit(credit: Any, kind: str, where: str) -> tuple[float, dict[str, float]]:
    credits: dict[str, float] = {}
    if isinstance(credit, dict):
        table = dict(credit)
        credit = table.pop("default", 1.0 if kind == "accepted" else 0.0)
        for task_name, c in table.items():
            if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 <= c <= 1.0:
                raise RubricError(f"{where}: credit.{task_name} must be between 0 and 1 (a number), got {c!r}")
            credits[str(task_name)] = float(c)
    if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not 0.0 <= credit <= 1.0:
        raise RubricError(f"{where}: credit must be between 0 and 1 (a number, or a table of task = number), "
                          f"got {credit!r}")
    return float(credit), credits


def derived_functions(variants: list[VariantSpec]) -> str:
    """``variants.json`` for a student bundle: the functions each variant changes."""
    return json.dumps({v.name: list(v.functions) for v in variants}, indent=1, sort_keys=True) + "\n"
