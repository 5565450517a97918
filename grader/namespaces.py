"""The ``student`` and ``reference`` objects tests use: one API, three backends.

Every operation is a plain request (``{"op": "call", "name": ..., "args": [...]}``) so the
same test code runs against

* the student's sandboxed kernel (``StudentNamespace``, via ``KernelSession.request``),
* the reference solution executed in the grader (``ReferenceNamespace``: trusted code), and
* stored expectations (``RecordedNamespace``): what students get instead of the reference,
  so public tests run on their machine without the solution.

Results are rebuilt through the same codec in all three, so a student's result and the
reference's have the same types before they are compared.
"""

from __future__ import annotations

import abc
import contextlib
import copy
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from grader.cleanup import FOLDER, at_exit, temp_prefix
from grader.errors import MissingName, RubricError, StudentCodeProblem, StudentError
from grader.sandbox import codec, kernel_side
from grader.sandbox.codec import HandleRef

__all__ = ["Instance", "Namespace", "OutOfTime", "RecordedNamespace", "ReferenceNamespace", "ReferenceSet",
           "StudentNamespace", "request_key"]


def _involves_handle(req: dict[str, Any]) -> bool:
    return req.get("op") in ("method", "getattr", "setattr") or '"t":"handle"' in json.dumps(req, separators=(",", ":"))


def request_key(req: dict[str, Any]) -> str:
    text = json.dumps(req, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Namespace(abc.ABC):
    """What a test sees. ``label`` is 'your notebook' or 'the reference' in messages."""

    label = "namespace"

    @abc.abstractmethod
    def _request(self, req: dict[str, Any], what: str) -> Any:
        """Carry out one plain-data request (see ``kernel_side.perform``)."""

    test_name = ""
    deadline: float | None = None  # the running test's @timeout, as time.monotonic() (set by the runner)

    def begin_test(self, name: str = "") -> None:
        """Called before each test: instances from earlier tests are forgotten."""
        self.test_name = name

    def _key(self, req: dict[str, Any]) -> str:
        """Recording key: requests about instances also depend on the test (ids restart per test)."""
        key = request_key(req)
        return f"{self.test_name}|{key}" if _involves_handle(req) else key

    sources: list[str] = []  # the notebook's code cells as handed in (for reading its code, never run here)

    # --- API used by tests --------------------------------------------------------------
    def call(self, name: str, *args: Any, with_globals: dict[str, Any] | None = None,
             version: int | None = None, **kwargs: Any) -> Any:
        """Call function ``name``; ``with_globals`` are set around the call, then restored.

        ``version``: call the function as it worked where it was defined (see ``versions``):
        0 is the current one with the helpers of its own cell, 1 the definition before it..."""
        req: dict[str, Any] = {"op": "call", "name": name, "args": codec.encode_args(list(args))}
        if kwargs:
            req["kwargs"] = {k: codec.encode_args(v) for k, v in kwargs.items()}
        if with_globals:
            req["globals"] = {k: codec.encode_args(v) for k, v in with_globals.items()}
        if version is not None:
            req["version"] = int(version)
        return self._wrap(self._request(req, f"{name}(...)"))

    def signature(self, name: str) -> dict[str, Any] | None:
        """``{"params": [...], "required": n, "varargs": bool}`` of a function, or None."""
        cache = self.__dict__.setdefault("_signatures", {})
        if name not in cache:
            value = self._request({"op": "signature", "name": name}, f"the parameters of {name}")
            ok = isinstance(value, dict) and isinstance(value.get("params"), list)
            cache[name] = value if ok and all(isinstance(p, str) for p in value["params"]) else None
        found: dict[str, Any] | None = cache[name]
        return found

    def descend(self, activation: str, gradient: str, *, X: Any, Y: Any, W: Any, b: float, steps: int,
                order: list[str], dw: int, db: int, flat: bool = False,
                activation_version: int | None = None, gradient_version: int | None = None,
                losses: bool = False) -> Any:
        """Train one neuron by gradient descent with the namespace's own functions, in one
        request: ``steps`` times Z = XW + b, A = activation(Z), ``gradient`` called with
        ``order`` (names among Y, A, Z, X; A and Z flat when ``flat``), W -= its result
        ``[dw]``, b -= ``[db]``. Returns ``{"W", "b", "A"}``, or ``{"bad": why}``; with
        ``losses``, also ``"losses"``: mean((A - Y)²) of each step's forward pass, an array of
        ``steps`` values."""
        req: dict[str, Any] = {
            "op": "descend", "activation": activation, "gradient": gradient,
            "X": codec.encode_args(X), "Y": codec.encode_args(Y), "W": codec.encode_args(W), "b": float(b),
            "steps": int(steps), "order": list(order), "dw": int(dw), "db": int(db), "flat": bool(flat),
        }
        if activation_version is not None:
            req["activation_version"] = int(activation_version)
        if gradient_version is not None:
            req["gradient_version"] = int(gradient_version)
        if losses:
            req["losses"] = True
        return self._request(req, f"training with {activation} and {gradient}")

    def versions(self, name: str) -> list[dict[str, Any]]:
        """The definitions of ``name`` the notebook made, newest first: ``{"cell": index,
        "helpers": [names a later cell replaced]}`` (the first is the current one)."""
        value = self._request({"op": "versions", "name": name}, f"the definitions of {name}")
        if not isinstance(value, list):
            return []
        return [v for v in value if isinstance(v, dict) and isinstance(v.get("helpers"), list)]

    def get(self, name: str) -> Any:
        return self._wrap(self._request({"op": "get", "name": name}, f"the global {name}"))

    def has(self, name: str) -> bool:
        return bool(self._request({"op": "has", "name": name}, f"looking up {name}"))

    def new(self, cls: str, *args: Any, **kwargs: Any) -> Instance:
        value = self.call(cls, *args, **kwargs)
        if not isinstance(value, Instance):
            raise MissingName(cls) if value is None else StudentError(
                f"{cls}(...)", "TypeError", f"did not create an object (got {type(value).__name__})", []
            )
        return value

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, HandleRef):
            return Instance(self, value)
        if isinstance(value, list):
            return [self._wrap(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(v) for v in value)
        return value


class Instance:
    """An object living in a namespace (``Perceptron(...)``): call methods, read attributes."""

    def __init__(self, ns: Namespace, ref: HandleRef) -> None:
        self._ns = ns
        self.ref = ref
        self.type = ref.type

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        req: dict[str, Any] = {"op": "method", "handle": self.ref.id, "name": method,
                               "args": codec.encode_args(list(args))}
        if kwargs:
            req["kwargs"] = {k: codec.encode_args(v) for k, v in kwargs.items()}
        return self._ns._wrap(self._ns._request(req, f"{self.type}.{method}(...)"))

    def get(self, attr: str) -> Any:
        req = {"op": "getattr", "handle": self.ref.id, "name": attr}
        return self._ns._wrap(self._ns._request(req, f"{self.type}.{attr}"))

    def set(self, attr: str, value: Any) -> None:
        req = {"op": "setattr", "handle": self.ref.id, "name": attr, "value": codec.encode_args(value)}
        self._ns._request(req, f"setting {self.type}.{attr}")

    def __repr__(self) -> str:
        return f"<{self.type} instance>"


class OutOfTime(StudentCodeProblem):
    """The running test's ``@timeout`` was spent before this call into the notebook."""

    status = "timeout"


class StudentNamespace(Namespace):
    label = "your notebook"

    def __init__(self, session: Any, sources: list[str] | None = None) -> None:
        self.session = session
        self.sources = list(sources or [])

    def _request(self, req: dict[str, Any], what: str) -> Any:
        if self.deadline is None:
            return self.session.request(req, what=what)
        # a test with @timeout: no call starts after its time is spent, and none runs past it
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime(f"{what} was not called: the test's time ran out")
        per_call = getattr(getattr(self.session, "limits", None), "call_timeout", None)
        return self.session.request(req, what=what, timeout=left if per_call is None else min(per_call, left))


def _interpret_local(reply: dict[str, Any], what: str) -> Any:
    from grader.sandbox.codec import interpret

    return interpret(json.loads(json.dumps(reply, allow_nan=False)), what)


class ReferenceNamespace(Namespace):
    """The reference solution's code cells executed in this (trusted) process."""

    label = "the reference"

    def __init__(self, sources: list[str], *, files: dict[str, bytes] | None = None,
                 prefix: str = "", fork_of: ReferenceNamespace | None = None) -> None:
        """``fork_of``: a reference whose cells are the first of ``sources``; the copy of what
        they left (``snapshot``) is taken instead of running them again (``derive``)."""
        import tempfile

        self.recorder: dict[str, Any] | None = None  # set to a dict to keep every reply
        self.prefix = prefix  # distinguishes a variant's recorded replies from the reference's
        self.handles: dict[int, Any] = {}
        self.memo: dict[str, dict[str, Any]] = {}
        self.tapes: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.tape = []
        self.replayed = []
        self.live = True
        self.sources = list(sources)
        self.dir: str
        self.ns: dict[str, Any]
        self.snapshot: dict[str, Any]
        if fork_of is not None:
            self.dir, self.ns, done = fork_of.dir, _fork(fork_of.snapshot), len(fork_of.sources)
        else:
            # the data files stay for the life of the process: reference functions may read them when called
            self.dir = tempfile.mkdtemp(prefix=temp_prefix("ref"))
            at_exit(shutil.rmtree, self.dir, True, order=FOLDER)
            for name, data in (files or {}).items():
                Path(self.dir, name).write_bytes(data)
            self.ns, done = {"__name__": "__reference__"}, 0
        with _chdir(self.dir), _quiet():
            for i, src in enumerate(sources[done:], start=done):
                try:
                    exec(compile(src, f"<reference cell {i}>", "exec"), self.ns)  # noqa: S102 - trusted reference
                except Exception as exc:
                    raise RubricError(f"the reference solution fails in code cell {i}: "
                                      f"{type(exc).__name__}: {exc}") from exc
        # as the cells left it, before any test calls into it (a fork's: its base's, as its own
        # cell only replaces functions)
        self.snapshot = fork_of.snapshot if fork_of is not None else _fork(self.ns)

    def derive(self, source: str, *, prefix: str) -> ReferenceNamespace:
        """This reference with ``source`` (a variant's functions) run after its cells, without
        running the cells again: the same as ``ReferenceNamespace([*sources, source])``, since
        a variant only replaces functions, which run last either way. Everything the cells left
        is copied; every function and class the reference defined is rebound to the copy, so
        that a reference function calling a replaced one calls the replacement."""
        return ReferenceNamespace([*self.sources, source], prefix=prefix, fork_of=self)

    def begin_test(self, name: str = "") -> None:
        # Replay tapes: the reference is deterministic, so the replies a test got from it last
        # time are the replies it gets now, as long as it asks the same things in the same order
        # (a Perceptron fit on Iris is then computed once per batch, not once per student).
        if self.test_name and self.tape:
            self.tapes[self.test_name] = self.tape
        self.test_name = name
        self.handles.clear()
        self.tape = []
        self.replayed = []
        self.live = False

    tape: list[tuple[str, dict[str, Any]]] = []
    replayed: list[dict[str, Any]] = []
    live = True

    def _perform(self, req: dict[str, Any]) -> dict[str, Any]:
        with _quiet(), _chdir(self.dir):
            reply = kernel_side.perform(copy.deepcopy(req), self.ns, self.handles, np, own_module="__reference__")
            plain: dict[str, Any] = json.loads(json.dumps(reply, allow_nan=False))
            return plain

    def _request(self, req: dict[str, Any], what: str) -> Any:
        key = request_key(req)
        cached = self.tapes.get(self.test_name) if self.test_name else None
        pos = len(self.tape)
        if not self.live and cached is not None and pos < len(cached) and cached[pos][0] == key:
            reply = cached[pos][1]
            self.replayed.append(req)
        else:
            if not self.live:
                # diverged from the tape: rebuild the real state by running the prefix for real
                self.live = True
                for old in self.replayed:
                    self._perform(old)
            pure = req["op"] in ("call", "get", "has") and not _involves_handle(req)
            if pure and key in self.memo:
                reply = self.memo[key]
            else:
                before = len(self.handles)
                reply = self._perform(req)
                if pure and len(self.handles) == before:
                    self.memo[key] = reply
        self.tape.append((key, reply))
        if self.recorder is not None:
            self.recorder[self.prefix + self._key(req)] = reply
        return _interpret_local(reply, what)


def _fork(ns: dict[str, Any]) -> dict[str, Any]:
    """A copy of a reference's globals whose functions and classes run in the copy."""
    import types

    out: dict[str, Any] = {}

    def rebind(f: types.FunctionType) -> types.FunctionType:
        g = types.FunctionType(f.__code__, out, f.__name__, f.__defaults__, f.__closure__)
        g.__kwdefaults__, g.__qualname__, g.__doc__ = copy.copy(f.__kwdefaults__), f.__qualname__, f.__doc__
        g.__dict__.update(f.__dict__)
        return g

    def own(v: Any) -> bool:
        return getattr(v, "__module__", None) == ns.get("__name__") or getattr(v, "__globals__", None) is ns

    for name, value in ns.items():
        if name == "__builtins__":
            out[name] = value
        elif isinstance(value, types.FunctionType) and value.__globals__ is ns:
            out[name] = rebind(value)
        elif isinstance(value, type) and own(value):
            body = {k: rebind(v) if isinstance(v, types.FunctionType) and v.__globals__ is ns else v
                    for k, v in vars(value).items() if k not in ("__dict__", "__weakref__")}
            out[name] = type(value)(value.__name__, value.__bases__, body)
        elif isinstance(value, (types.ModuleType, types.BuiltinFunctionType, type)) or callable(value):
            out[name] = value  # modules, imported functions and classes: shared, as two runs would import them
        else:
            try:
                out[name] = copy.deepcopy(value)
            except Exception:  # noqa: BLE001 - a value that cannot be copied is shared (read-only in practice)
                out[name] = value
    return out


class RecordedNamespace(Namespace):
    """Replays replies recorded from the reference (the public tests' expected values)."""

    label = "the expected values"

    def __init__(self, replies: dict[str, Any], *, source: str, prefix: str = "") -> None:
        self.replies = replies
        self.source = source
        self.prefix = prefix

    def _request(self, req: dict[str, Any], what: str) -> Any:
        key = self.prefix + self._key(req)
        if key not in self.replies:
            raise RubricError(
                f"no stored expected value for {what} in {self.source}; the public tests and "
                "their expected values are out of step: regenerate them with `grader generate`"
            )
        return _interpret_local(self.replies[key], what)


@contextlib.contextmanager
def _chdir(path: str) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import io
    import warnings

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield



class LazyReference(Namespace):
    """A variant's namespace, executed only when a test first consults it.

    Most submissions match the reference, so most variants are never needed; building all of
    them up front would re-run the reference notebook once per variant in every worker."""

    label = "the reference"

    def __init__(self, build: Any) -> None:
        self._build = build
        self._ns: ReferenceNamespace | None = None
        self._test = ""

    @property
    def ns(self) -> ReferenceNamespace:
        if self._ns is None:
            self._ns = self._build()
            self._ns.begin_test(self._test)
        return self._ns

    def begin_test(self, name: str = "") -> None:
        self._test = name
        if self._ns is not None:
            self._ns.begin_test(name)

    def _request(self, req: dict[str, Any], what: str) -> Any:
        return self.ns._request(req, what)

    def _wrap(self, value: Any) -> Any:
        return self.ns._wrap(value)


class ReferenceSet(Namespace):
    """The ``reference`` fixture: the reference plus its accepted readings and known mistakes.

    It behaves as the main reference; ``expect`` also asks ``variants_for(name)``.
    """

    label = "the reference"

    def __init__(self, main: Namespace, variants: list[tuple[Any, Namespace]], returns: dict[str, Any]) -> None:
        self.main = main
        self.variants = variants
        self.returns = returns
        self.eager = False

    def begin_test(self, name: str = "") -> None:
        self.test_name = name
        self.main.begin_test(name)
        for _spec, ns in self.variants:
            ns.begin_test(name)

    def _request(self, req: dict[str, Any], what: str) -> Any:
        return self.main._request(req, what)

    def _wrap(self, value: Any) -> Any:
        return self.main._wrap(value)

    def variants_for(self, name: str) -> list[tuple[Any, Namespace]]:
        return [(spec, ns) for spec, ns in self.variants if name in spec.functions]
