"""Gradient checks: centred finite differences and the usual relative-error measure."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, *, eps: float = 1e-5,
                     coords: list[tuple[int, ...]] | None = None) -> np.ndarray:
    """Centred differences of scalar ``f`` at ``x`` (all coordinates, or only ``coords``)."""
    x = np.array(x, dtype=np.float64)
    grad = np.full(x.shape, np.nan) if coords is not None else np.zeros_like(x)
    for idx in coords if coords is not None else list(np.ndindex(x.shape)):
        old = x[idx]
        x[idx] = old + eps
        fp = float(f(x))
        x[idx] = old - eps
        fm = float(f(x))
        x[idx] = old
        grad[idx] = (fp - fm) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, tiny), the gradient-check convention (cs231n)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    num = np.abs(a - b)
    den = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(num / den)) if num.size else 0.0


def gradient_check(analytic: np.ndarray, f: Callable[[np.ndarray], float], x: np.ndarray, *,
                   eps: float = 1e-5, tol: float = 1e-5) -> tuple[bool, float, np.ndarray]:
    """Compare an analytic gradient with centred differences; ``(ok, rel_error, numeric)``."""
    analytic = np.asarray(analytic, dtype=np.float64)
    num = numeric_gradient(f, x, eps=eps)
    if analytic.size != num.size:
        return False, float("inf"), num
    err = relative_error(analytic.reshape(num.shape), num)
    return err <= tol, err, num
