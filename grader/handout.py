"""What a rubric says about the handout itself: how its functions are called and their results
unpacked (``[returns.NAME]``), and the faults of its own code (``[[slips]]``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import RubricError

__all__ = ["SlipSpec", "parse_returns", "parse_slips"]


@dataclass(frozen=True)
class SlipSpec:
    """A fault of the handout's own code: a cell failing this way is not the student's doing."""

    name: str
    error: str
    cell: str
    title: str
    hint: str

    def matches(self, error: str, source: str) -> bool:
        return bool(re.search(self.error, error)) and (not self.cell or bool(re.search(self.cell, source, re.M)))


def parse_slips(raw: list[Any], toml_path: Path) -> list[SlipSpec]:
    out = []
    for i, v in enumerate(raw):
        where = f"{toml_path}: slips[{i}]"
        if not isinstance(v, dict) or not {"name", "error"} <= set(v):
            raise RubricError(f"{where} needs at least name and error (a regex on the cell's 'Type: message')")
        for key in ("error", "cell"):
            try:
                re.compile(str(v.get(key, "")))
            except re.error as exc:
                raise RubricError(f"{where}: {key} is not a valid regular expression ({exc})") from None
        out.append(SlipSpec(str(v["name"]), str(v["error"]), str(v.get("cell", "")),
                            str(v.get("title", v["name"])), str(v.get("hint", ""))))
    return out


def parse_returns(raw: dict[str, Any], toml_path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise RubricError(f"{toml_path}: returns.{name} must be a table")
        by_arity: dict[int, list[str]] = {}
        for k, names in spec.get("by_arity", {}).items():
            if not str(k).isdigit():
                raise RubricError(f"{toml_path}: returns.{name}.by_arity keys are numbers of returned values, "
                                  f"got {k!r}")
            if not isinstance(names, list) or len(names) != int(k):
                raise RubricError(f"{toml_path}: returns.{name}.by_arity.{k} must list {k} names, got {names!r}")
            by_arity[int(k)] = [str(n) for n in names]
        shapes = dict(spec.get("shapes", {}))
        rules = ("exact", "squeeze", "broadcast")
        for where, rule in [*((f"shapes.{p}", r) for p, r in shapes.items()), ("shape", spec.get("shape", "exact"))]:
            if rule not in rules:
                raise RubricError(f"{toml_path}: returns.{name}.{where} must be exact, squeeze or broadcast, "
                                  f"got {rule!r}")
        args = spec.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) and a.isidentifier() for a in args):
            raise RubricError(f"{toml_path}: returns.{name}.args must list the handout's parameter names, got {args!r}")
        unknown = set(spec) - {"by_arity", "shapes", "shape", "args"}
        if unknown:
            raise RubricError(f"{toml_path}: returns.{name} has unknown key(s) {', '.join(sorted(unknown))}; "
                              "known: args, by_arity, shape, shapes")
        out[name] = {"by_arity": by_arity, "shapes": shapes, "shape": spec.get("shape"), "args": list(args)}
    return out
