"""Training runs a rubric drives with a notebook's own functions: the handout's loops, once.

``train_neuron`` runs a one-neuron gradient descent with a namespace's activation and gradient
functions (the student's, the reference's or a variant's), called the way their author wrote them;
``training_ways`` lists the other ways to drive a student's functions when the plain run does not
match; ``perceptron_fit`` is the handout's given ``Perceptron.fit``. A hidden test judges these
runs and the report's figure module plots them (``rubrics/<a>/figures.py``): one copy of each loop
serves both. Imported by rubric code through ``grader.testing``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from grader.checking import fail
from grader.judging import argument_order, call_as_written, pick

__all__ = ["final_values", "perceptron_fit", "train_neuron", "training_ways"]


def train_neuron(ns: Any, reference: Any, *, X: Any, Y: Any, W: Any, b: float, steps: int,
                 activation: str = "sigmoid", gradient: str = "backpropagation", flat: bool = False,
                 activation_version: int | None = None, gradient_version: int | None = None,
                 losses: bool = False) -> dict[str, Any]:
    """``steps`` of Z = XW + b, A = activation(Z), the gradient (called as its author wrote it,
    unpacked by the rubric's ``[returns.<gradient>]``), W -= dw, b -= db, with ``ns``'s
    functions, from ``W``, ``b``; ``flat``: A and Z of shape (n,). Returns ``{"W", "b", "A"}``
    (and ``"losses"``, mean((A − Y)²) per step, with ``losses``); fails with plain words when
    the gradient returns another form or its dw, db cannot drive the loop."""
    W0 = np.asarray(W, dtype=float)
    Z0 = np.asarray(X) @ W0 + b
    A0 = 1 / (1 + np.exp(-Z0))
    args = (Y, A0.ravel(), Z0.ravel()) if flat else (Y, A0, Z0)
    version = {} if gradient_version is None else {"version": gradient_version}
    first = call_as_written(ns, reference, gradient, *args, with_globals={"X": X}, **version)
    spec = reference.returns[gradient]["by_arity"]
    if not isinstance(first, (tuple, list)) or len(first) not in spec:
        pick(reference, gradient, first, "dw")  # fails, naming the forms it may return
    names = spec[len(first)]
    out: Any = ns.descend(activation, gradient, X=X, Y=Y, W=W0, b=b, steps=steps,
                          order=argument_order(ns, reference, gradient, ("X",)), dw=names.index("dw"),
                          db=names.index("db"), flat=flat, activation_version=activation_version,
                          gradient_version=gradient_version, **({"losses": True} if losses else {}))
    if not isinstance(out, dict) or "bad" in out:
        fail(f"training could not go on: {out.get('bad') if isinstance(out, dict) else out!r}; expected "
             "dw with 2 values and db with one")
    result: dict[str, Any] = out
    return result


def final_values(out: dict[str, Any]) -> np.ndarray:
    """A training run's end as one vector: W, b, then A."""
    return np.concatenate([np.asarray(out["W"], dtype=float).ravel(), np.asarray(out["b"], dtype=float).ravel()[:1],
                           np.asarray(out["A"], dtype=float).ravel()])


def training_ways(student: Any, failed: bool, activation: str = "sigmoid",
                  gradient: str = "backpropagation") -> Iterator[dict[str, Any]]:
    """How else to drive the student's functions when the plain run did not match (keyword
    arguments of ``train_neuron``): on flat (n,) A and Z (a notebook that kept W a list) when it
    raised; as they worked where defined when a later cell replaced the activation or a helper."""
    if failed:
        yield {"flat": True}
    try:
        act = student.versions(activation)
        grad = student.versions(gradient)
    except Exception:  # noqa: BLE001 - no history: no other way
        return
    if (grad and grad[0].get("helpers")) or len(act) > 1:
        for k in range(min(len(act), 3)):
            yield {"activation_version": k, "gradient_version": 0}


def _handout_net(X: np.ndarray, w: np.ndarray) -> Any:
    return X @ w[1:] + w[0]


def perceptron_fit(X: Any, y: Any, rate: float, niter: int,
                   net: Callable[[np.ndarray, np.ndarray], Any] = _handout_net,
                   low: int = -1) -> tuple[np.ndarray, list[int]]:
    """The handout's given ``Perceptron.fit``: weights from zeros, per sample w += rate ·
    (target − predict) · x, with ``net`` (default ``X @ w[1:] + w[0]``) and predict's classes 1
    and ``low``; returns (the weights, the errors per epoch)."""
    X = np.asarray(X, dtype=float)
    w = np.zeros(1 + X.shape[1])
    errors = []
    for _ in range(niter):
        err = 0
        for xi, target in zip(X, y, strict=True):
            delta = rate * (target - (1 if net(xi, w) >= 0.0 else low))
            w[1:] += delta * xi
            w[0] += delta
            err += int(delta != 0.0)
        errors.append(err)
    return w, errors
