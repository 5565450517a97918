"""Kernel side, part 3 of 4 — the operations: one request against the notebook's globals.

``perform`` carries out a request (has, get, getattr, setattr, call, method, signature,
snapshot, versions, compat, descend) and returns a JSON-able reply; a graded call runs with
the globals of its definition put back and its prints silenced (``_enter``); what it raises
becomes plain data (``_describe``).
"""

from grader.sandbox.kernel_side.history import _MISSING, History, _pick_version
from grader.sandbox.kernel_side.wire import Decoder, Encoder, _TooBig

# -- shipped into the kernel from here on (see kernel_side.source) --
import sys as _sys
import traceback as _traceback
import types as _types
from collections.abc import Callable
from typing import Any

_sys_mod = _sys
_extract_tb = _traceback.extract_tb
_Function = _types.FunctionType


def _signature(fn: Any) -> dict[str, Any] | None:
    """Positional parameters of a plain function (or a method, without self), for calling a
    function the way its author wrote it. None when it has no inspectable code."""
    self_arg = 0
    if not isinstance(fn, _Function):
        inner = getattr(fn, "__func__", None)
        if not isinstance(inner, _Function):
            return None
        fn, self_arg = inner, 1
    code = fn.__code__
    n = code.co_argcount
    names = [str(x) for x in code.co_varnames[:n]][self_arg:]
    defaults = fn.__defaults__ or ()
    return {"params": names, "required": max(0, n - self_arg - len(defaults)),
            "varargs": bool(code.co_flags & 0x04)}


def _descend(req: dict[str, Any], ns: dict[str, Any], dec: Decoder, enc: Encoder, np: Any,
             history: History | None) -> dict[str, Any]:
    """Gradient descent of one neuron with the notebook's own functions, next to them: a
    rubric's training loop (Z = XW + b, A = act(Z), grads = grad(...), W -= dw, b -= db) as one
    request instead of two per step. Plain arithmetic on base ndarrays; what it returns is
    judged in the grader like any reply. ``losses``: also the loss mean((A - Y)^2) of each
    step's forward pass, in step order (a figure's training curve)."""
    act_name, grad_name = req["activation"], req["gradient"]
    for name in (act_name, grad_name):
        if name not in ns:
            return {"ok": False, "missing": name}
    X_given = dec.decode(req["X"])
    X = np.asarray(X_given, dtype=float)
    Y = dec.decode(req["Y"])
    W = np.asarray(dec.decode(req["W"]), dtype=float)
    b = float(req["b"])
    order, flat = list(req["order"]), bool(req.get("flat"))
    i_dw, i_db = int(req["dw"]), int(req["db"])
    losses: list[float] | None = [] if req.get("losses") else None
    Y_col = np.asarray(Y, dtype=float) if losses is not None else Y
    act, act_globals = _pick_version(ns, act_name, req.get("activation_version"), history)
    grad, grad_globals = _pick_version(ns, grad_name, req.get("gradient_version"), history)
    overrides = {**act_globals, **grad_globals, "X": X_given}
    restore = _enter(ns, overrides)
    A = None
    try:
        for _step in range(int(req["steps"])):
            Z = X.dot(W) + b
            A = np.asarray(act(Z), dtype=float).reshape(Z.shape[0], 1)
            if losses is not None:
                diff = A - (Y_col.reshape(A.shape) if Y_col.size == A.size else Y_col)
                losses.append(float((diff * diff).sum()) / diff.size)
            vals = {"Y": Y, "A": A.ravel() if flat else A, "Z": Z.ravel() if flat else Z, "X": X_given}
            res = grad(*[vals[k] for k in order])
            dw = np.asarray(res[i_dw], dtype=float)
            db = np.asarray(res[i_db], dtype=float)
            if dw.size != W.size or db.size != 1:
                bad = f"dw has shape {tuple(dw.shape)!r} and db {tuple(db.shape)!r} after {_step + 1} step(s)"
                return {"ok": True, "value": enc.encode({"bad": bad})}
            W = W - dw.reshape(W.shape)
            b = b - float(db.reshape(-1)[0])
    finally:
        restore()
    out = {"W": W, "b": b, "A": A}
    if losses is not None:
        out["losses"] = np.asarray(losses, dtype=float)
    return {"ok": True, "value": enc.encode(out)}


def _no_print(*args: Any, **kwargs: Any) -> None:
    return None


def _enter(ns: dict[str, Any], overrides: dict[str, Any]) -> Callable[[], None]:
    """Set ``overrides`` in the notebook's globals and silence its prints for a graded call
    (the notebook's functions find ``print`` in its globals first: the handout's
    backpropagation prints three arrays a call, and formatting them costs more than the call);
    return the function that puts everything back."""
    saved = {}
    if "print" not in ns:
        overrides = {**overrides, "print": _no_print}
    for k, v in overrides.items():
        saved[k] = ns.get(k, _MISSING)
        ns[k] = v
    out, err = _sys_mod.stdout, _sys_mod.stderr
    _sys_mod.stdout = _sys_mod.stderr = _SINK

    def restore() -> None:
        _sys_mod.stdout, _sys_mod.stderr = out, err
        for k, old in saved.items():
            if old is _MISSING:
                ns.pop(k, None)
            else:
                ns[k] = old
    return restore


class _Sink:
    """Where a graded call's prints go: the notebook's own cells print; calls need not."""

    def write(self, text: Any) -> int:
        return len(text) if isinstance(text, str) else 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


_SINK: Any = _Sink()


def perform(req: dict[str, Any], ns: dict[str, Any], handles: dict[int, Any], np: Any,
            own_module: str = "__main__", history: History | None = None) -> dict[str, Any]:
    """Carry out one request against namespace ``ns``; return a JSON-able reply dict."""
    dec = Decoder(np, handles)
    enc = Encoder(np, handles, own_module)
    op = req["op"]
    try:
        if op == "has":
            return {"ok": True, "value": req["name"] in ns}
        if op == "signature":
            fn = ns.get(req["name"], _MISSING)
            if fn is _MISSING:
                return {"ok": False, "missing": req["name"]}
            return {"ok": True, "value": enc.encode(_signature(fn))}
        if op == "compat":
            state = _sys_mod.modules.get("_grader_compat")
            found = getattr(state, "used", None)
            found = [str(x)[:100] for x in found[:50]] if type(found) is list else []
            return {"ok": True, "value": found}
        if op == "descend":
            return _descend(req, ns, dec, enc, np, history)
        if op == "snapshot":
            ok = history.snapshot(ns, int(req.get("cell", -1))) if history is not None else False
            return {"ok": True, "value": ok}
        if op == "versions":
            return {"ok": True, "value": enc.encode(_versions(ns, req["name"], history))}
        if op == "get":
            if req["name"] not in ns:
                return {"ok": False, "missing": req["name"]}
            return {"ok": True, "value": enc.encode(ns[req["name"]])}
        if op == "getattr":
            obj = handles[req["handle"]]
            try:
                val = getattr(obj, req["name"])
            except AttributeError:
                return {"ok": False, "missing": req["name"]}
            return {"ok": True, "value": enc.encode(val)}
        if op == "setattr":
            setattr(handles[req["handle"]], req["name"], dec.decode(req["value"]))
            return {"ok": True, "value": None}
        args = dec.decode(req.get("args", []))
        kwargs = {k: dec.decode(v) for k, v in req.get("kwargs", {}).items()}
        overrides = {k: dec.decode(v) for k, v in req.get("globals", {}).items()}
        version = req.get("version")
        if op == "call":
            if req["name"] not in ns:
                return {"ok": False, "missing": req["name"]}
            fn = ns[req["name"]]
            # as it worked where it was defined: version 0 the current definition, 1 the one
            # before it, ..., -1 the first; each with the helpers of its own cell. Without a
            # history (no snapshots) this is the plain call.
            fn, as_defined = _pick_version(ns, req["name"], version, history)
            overrides = {**as_defined, **overrides}
        elif op == "method":
            obj = handles[req["handle"]]
            try:
                fn = getattr(obj, req["name"])
            except AttributeError:
                return {"ok": False, "missing": req["name"]}
        else:
            error = {"type": "ProtocolError", "message": f"unknown op {op!r}", "traceback": []}
            return {"ok": False, "error": error}
        restore = _enter(ns, overrides)
        try:
            value = fn(*args, **kwargs)
        finally:
            restore()
        return {"ok": True, "value": enc.encode(value)}
    except _TooBig as exc:
        return {"ok": False, "toobig": str(exc)}
    except RecursionError as exc:
        return {"ok": False, "error": _describe(exc)}
    except BaseException as exc:  # student code may raise anything, SystemExit included
        return {"ok": False, "error": _describe(exc)}


def _versions(ns: dict[str, Any], name: str, history: History | None) -> list[dict[str, Any]]:
    """The definitions of ``name`` the history knows, newest first: where each was made and the
    helpers a call of it gets back."""
    if history is None:
        return []
    found = []
    for obj, where in history.versions(ns, name):
        cell = history.snaps[where][0] if where >= 0 else None
        helpers = sorted(k for k in history.overrides(ns, name, obj, where) if k != name)
        found.append({"cell": cell, "helpers": helpers[:50]})
    return found


def _describe(exc: BaseException) -> dict[str, Any]:
    """Exception -> plain data, with locations that do not depend on temp paths (determinism)."""
    frames = []
    try:
        for fs in _extract_tb(exc.__traceback__):
            fname = fs.filename or ""
            if "kernel_side" in fname or fname == "<grader>":
                continue
            if "ipykernel_" in fname or fname.startswith("<ipython-input") or fname.startswith("<reference cell"):
                where = "notebook cell"
            else:
                where = fname.rsplit("/", 1)[-1]
            line = (fs.line or "").strip()
            frames.append(f"{where}, line {fs.lineno}, in {fs.name}" + ((": " + line[:200]) if line else ""))
    except BaseException:  # noqa: S110 - a traceback that cannot be read: the frames read so far are kept
        pass
    name = getattr(type(exc), "__name__", "Exception")
    return {
        "type": name[:100] if isinstance(name, str) else "Exception",
        "message": str_safe(exc)[:500],
        "traceback": frames[-8:],
    }


def str_safe(exc: BaseException) -> str:
    try:
        s = str(exc)
        return s if isinstance(s, str) else ""
    except BaseException:
        return ""
