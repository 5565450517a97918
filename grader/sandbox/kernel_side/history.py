"""Kernel side, part 2 of 4 — the history of the notebook's definitions.

What the notebook's global names held after each cell (functions and classes only), so that
a function can be called as it worked where it was defined: with the helpers of its own
cell, not the ones a later cell put in their place.
"""

# -- shipped into the kernel from here on (see kernel_side.source) --
import types as _types
from typing import Any

_FunctionType, _ModuleType, _CodeType = _types.FunctionType, _types.ModuleType, _types.CodeType
_MISSING = object()
MAX_SNAPSHOTS = 500
MAX_SNAPSHOT_NAMES = 5000


class History:
    """What the notebook's global names held after each cell (functions and classes only), so
    that a function can be called as it worked where it was defined: with the helpers of its
    own cell, not the ones a later cell put in their place."""

    def __init__(self) -> None:
        self.snaps: list[tuple[int, dict[str, Any]]] = []  # [(cell index, {name: object})]

    def snapshot(self, ns: dict[str, Any], cell: int) -> bool:
        if len(self.snaps) >= MAX_SNAPSHOTS:
            return False
        snap = {}
        for k, v in list(ns.items())[: 4 * MAX_SNAPSHOT_NAMES]:
            if type(k) is str and not k.startswith("_") and callable(v) and not isinstance(v, _ModuleType):
                snap[k] = v
                if len(snap) >= MAX_SNAPSHOT_NAMES:
                    break
        self.snaps.append((cell, snap))
        return True

    def versions(self, ns: dict[str, Any], name: str) -> list[tuple[Any, int]]:
        """[(object, index into snaps or -1)], the current object first, then older ones."""
        out, seen = [], set()
        cur = ns.get(name, _MISSING)
        cands = [] if cur is _MISSING or not callable(cur) else [cur]
        cands += [snap[name] for _cell, snap in reversed(self.snaps) if name in snap]
        for obj in cands:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            where = -1
            for i, (_cell, snap) in enumerate(self.snaps):
                if snap.get(name) is obj:
                    where = i
                    break
            out.append((obj, where))
        return out

    def overrides(self, ns: dict[str, Any], name: str, obj: Any, where: int) -> dict[str, Any]:
        """The globals to put back for calling ``obj`` as defined: the helpers it reaches
        (transitively, through functions of the same snapshot) whose object has changed."""
        if where < 0:
            return {}
        snap = self.snaps[where][1]
        out = {}
        if ns.get(name) is not obj:
            out[name] = obj
        todo, done = [obj], set()
        while todo:
            fn = todo.pop()
            if id(fn) in done:
                continue
            done.add(id(fn))
            for ref in _global_names(fn):
                if ref in snap:
                    helper = snap[ref]
                    if ns.get(ref, _MISSING) is not helper and ref != name:
                        out[ref] = helper
                    if isinstance(helper, _FunctionType):
                        todo.append(helper)
        return out


def _global_names(fn: Any) -> list[str]:
    code = getattr(fn, "__code__", None)
    if not isinstance(code, _CodeType):
        return []
    names: list[str] = []
    todo = [code]
    while todo and len(names) < 10000:
        c = todo.pop()
        names.extend(n for n in c.co_names if type(n) is str)
        todo.extend(x for x in c.co_consts if isinstance(x, _CodeType))
    return names


def _pick_version(ns: dict[str, Any], name: str, version: Any, history: History | None) -> tuple[Any, dict[str, Any]]:
    """The function ``name`` (a definition of it, see ``History``) and the globals to set."""
    fn = ns[name]
    if version is None or history is None:
        return fn, {}
    found = history.versions(ns, name)
    if not found or not -len(found) <= version < len(found):
        return fn, {}
    fn, where = found[version]
    return fn, history.overrides(ns, name, fn, where)
