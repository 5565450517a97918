"""Compare a student's value with an expected one and explain the difference in one line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.sandbox.codec import HandleRef, Opaque


@dataclass(frozen=True)
class Mismatch:
    """Why two values differ. ``message`` is one line; the rest feeds the report."""

    message: str
    kind: str  # type | shape | nonfinite | value | length
    index: tuple[int, ...] | None = None
    details: dict[str, Any] = field(default_factory=dict)


def describe_value(v: Any, limit: int = 120) -> str:
    """Short, deterministic text for a value (used in messages and reports)."""
    if isinstance(v, np.ndarray):
        if v.size <= 8:
            text = np.array2string(v, precision=8, separator=", ", threshold=8).replace("\n", "")
        else:
            text = f"array of shape {v.shape}"
        return f"{text} (shape {v.shape}, {v.dtype})" if v.size <= 8 else text
    if isinstance(v, Opaque):
        return f"a {v.type} object"
    if isinstance(v, HandleRef):
        return f"a {v.type} instance"
    if isinstance(v, float):
        return repr(float(np.float64(v).round(10)))
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _numeric(v: Any) -> np.ndarray | None:
    if isinstance(v, (Opaque, HandleRef, str, bytes, dict)) or v is None:
        return None
    if isinstance(v, np.ndarray):
        return v if v.dtype.kind in "biuf" else None
    if isinstance(v, (bool, int, float, np.generic)):
        return np.asarray(v)
    if isinstance(v, (list, tuple)):
        try:
            arr = np.asarray(v)
        except (ValueError, TypeError):
            return None  # ragged
        return arr if arr.dtype.kind in "biuf" else None
    return None


def _kind_name(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"an array of {v.dtype}"
    if isinstance(v, Opaque):
        return f"a {v.type} object"
    if isinstance(v, HandleRef):
        return f"a {v.type} instance"
    if v is None:
        return "None"
    return f"a {type(v).__name__}"


def compare(got: Any, want: Any, *, rtol: float = 1e-6, atol: float = 1e-8, shape: str = "exact") -> Mismatch | None:
    """``None`` when ``got`` matches ``want``; else the first reason it does not.

    ``shape``: ``"exact"`` (shapes must match), ``"squeeze"`` (shapes equal after dropping
    length-1 axes, e.g. (2, 1) ~ (2,) ~ (1, 2)), or ``"broadcast"`` (numpy broadcasting).
    """
    nested = isinstance(want, (tuple, list)) and any(isinstance(w, (tuple, list, np.ndarray)) for w in want)
    if nested and want and not _uniform(want):
        return _compare_seq(got, want, rtol=rtol, atol=atol, shape=shape)
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return Mismatch(f"expected a dict, got {_kind_name(got)}", "type")
        missing = [k for k in want if k not in got]
        if missing:
            return Mismatch(f"the dict is missing key {missing[0]!r}", "type")
        for k in want:
            m = compare(got[k], want[k], rtol=rtol, atol=atol, shape=shape)
            if m:
                return Mismatch(f"[{k!r}]: {m.message}", m.kind, m.index, m.details)
        return None
    w = _numeric(want)
    if w is None:
        try:
            same = type(got) is type(want) and bool(got == want)
        except Exception:  # noqa: BLE001 - hostile or array-valued comparisons
            same = False
        return None if same else Mismatch(f"expected {describe_value(want)}, got {describe_value(got)}", "value")
    g = _numeric(got)
    if g is None:
        return Mismatch(f"expected a number or numeric array, got {_kind_name(got)} ({describe_value(got, 60)})",
                        "type")
    g_shape, w_shape = g.shape, w.shape
    if g_shape != w_shape:
        if shape == "squeeze" and np.squeeze(g).shape == np.squeeze(w).shape:
            g, w = np.squeeze(g), np.squeeze(w)
        elif shape == "broadcast":
            try:
                np.broadcast_shapes(g_shape, w_shape)
            except ValueError:
                return Mismatch(f"shape {g_shape} cannot broadcast to the expected {w_shape}", "shape")
            g, w = np.broadcast_arrays(g, w)
        else:
            hint = ""
            if np.squeeze(g).shape == np.squeeze(w).shape:
                hint = " (same values up to length-1 axes: check reshape/keepdims)"
            elif g.size == w.size * w.size and w.ndim <= 2:
                hint = " (looks like an accidental broadcast, e.g. (4,) - (4, 1) gives (4, 4))"
            return Mismatch(f"shape {g_shape}, expected {w_shape}{hint}", "shape",
                            details={"got_shape": list(g_shape), "want_shape": list(w_shape)})
    gf = g.astype(np.float64)
    wf = w.astype(np.float64)
    g_bad = ~np.isfinite(gf)
    w_bad = ~np.isfinite(wf)
    if np.any(g_bad & ~w_bad):
        idx = tuple(int(i) for i in np.argwhere(g_bad & ~w_bad)[0])
        val = gf[idx] if gf.ndim else gf
        return Mismatch(
            f"{'nan' if np.isnan(val) else 'inf'} at index {_fmt_index(idx)} where "
            f"{float(wf[idx] if wf.ndim else wf):.8g} was expected",
            "nonfinite", idx,
        )
    with np.errstate(over="ignore", invalid="ignore"):
        diff = np.abs(gf - wf)
        # non-finite expected entries must be matched exactly (inf by inf of the same sign, nan by nan)
        same_nonfinite = w_bad & ((gf == wf) | (np.isnan(gf) & np.isnan(wf)))
        close_finite = ~w_bad & ~g_bad & (diff <= atol + rtol * np.abs(wf))
        bad = ~(close_finite | same_nonfinite)
    if not np.any(bad):
        return None
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    if np.any(bad & w_bad):
        idx = tuple(int(i) for i in np.argwhere(bad & w_bad)[0])
        gv = float(gf[idx] if gf.ndim else gf)
        wv = float(wf[idx] if wf.ndim else wf)
        return Mismatch(f"at index {_fmt_index(idx)} expected {wv:g}, got {gv:.8g}", "value", idx)
    diff_f = np.where(bad, diff, -1.0)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff_f)), diff_f.shape)) if diff_f.ndim else ()
    max_abs = float(np.max(diff_f))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rel = np.where(np.abs(wf) > 0, diff / np.abs(wf), np.inf)
    max_rel = float(np.max(np.where(bad, rel, 0)))
    n_bad, n = int(np.sum(bad)), int(bad.size)
    if gf.ndim == 0:
        msg = f"got {float(gf):.8g}, expected {float(wf):.8g} (abs error {max_abs:.3g}, rtol={rtol:g}, atol={atol:g})"
    else:
        msg = (
            f"{n_bad} of {n} elements differ; first at index {_fmt_index(first)}: got {float(gf[first]):.8g}, "
            f"expected {float(wf[first]):.8g}; worst at {_fmt_index(worst)}; max abs error {max_abs:.3g}, "
            f"max rel error {max_rel:.3g} (rtol={rtol:g}, atol={atol:g})"
        )
    return Mismatch(msg, "value", first, {"max_abs": max_abs, "max_rel": max_rel, "n_bad": n_bad, "n": n})


def _uniform(seq: Any) -> bool:
    try:
        arr = np.asarray(seq)
    except (ValueError, TypeError):
        return False
    return arr.dtype.kind in "biuf"


def _compare_seq(got: Any, want: Any, **kw: Any) -> Mismatch | None:
    if not isinstance(got, (tuple, list)):
        return Mismatch(f"expected {len(want)} values (a tuple), got {_kind_name(got)}", "length")
    if len(got) != len(want):
        return Mismatch(f"expected {len(want)} values, got {len(got)}", "length")
    for i, (g, w) in enumerate(zip(got, want, strict=True)):  # lengths are equal: checked above
        m = compare(g, w, **kw)
        if m:
            return Mismatch(f"value {i + 1} of {len(want)}: {m.message}", m.kind, m.index, m.details)
    return None


def _fmt_index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in idx) + "]" if idx else "[]"
