"""Gradient checks: centred finite differences and the usual relative-error measure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from grader.report.i18n import LANGUAGES, t


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


# Clean factors a block of a gradient is often off by: the catalogue says what each usually means.
_FACTORS = (2.0, -1.0, 0.25, -2.0)


def clean_factor(analytic: np.ndarray, numeric: np.ndarray, *, tol: float = 1e-4) -> float | None:
    """The constant ``r`` with analytic = r · numeric (every entry), when there is one and it is not 1."""
    a = np.asarray(analytic, dtype=np.float64).ravel()
    n = np.asarray(numeric, dtype=np.float64).ravel()
    if a.size != n.size or not a.size or not (np.all(np.isfinite(a)) and np.all(np.isfinite(n))):
        return None
    big = np.abs(n) > 1e-7 * max(float(np.max(np.abs(n))), 1e-300)
    if not np.any(big):
        return None
    ratios = a[big] / n[big]
    r = float(np.median(ratios))
    if abs(r) < 1e-6 or np.any(np.abs(ratios - r) > tol * abs(r)) or np.any(np.abs(a[~big]) > tol * np.max(np.abs(a))):
        return None
    return None if abs(r - 1.0) <= tol else r


def _num(x: np.ndarray) -> str:
    return np.array2string(np.asarray(x, dtype=np.float64).ravel(), precision=5, separator=", ",
                           suppress_small=False, max_line_width=200)


Verdict = tuple[str, str, "float | None", float]  # block, agrees | factor | differs, factor, relative error


def _same_factor(a: float | None, b: float | None) -> bool:
    return a is None and b is None or (a is not None and b is not None and abs(a - b) <= 1e-4 * abs(a))


def _sentences(verdicts: list[Verdict], lang: str) -> list[str]:
    """One sentence per run of blocks with the same verdict."""
    groups: list[list[Verdict]] = []
    for v in verdicts:
        if groups and groups[-1][0][1] == v[1] and _same_factor(groups[-1][0][2], v[2]):
            groups[-1].append(v)
        else:
            groups.append([v])
    out = []
    for g in groups:
        blocks = ", ".join(b for b, *_ in g)
        verdict, r, err = g[0][1], g[0][2], f"{max(x[3] for x in g):.1e}"
        if verdict == "factor" and r is not None:
            known = next((f for f in _FACTORS if abs(f - r) <= 1e-4 * abs(f)), None)
            why = t(f"gradcheck_why_{known:g}", lang) if known is not None else ""
            out.append(t("gradcheck_factor", lang, blocks=blocks, r=f"{r:g}", why=why).rstrip())
        else:
            out.append(t(f"gradcheck_{verdict}", lang, blocks=blocks, err=err))
    return out


def localise(analytic: dict[str, np.ndarray | None], numeric: dict[str, np.ndarray], *, forward_agrees: bool,
             source: str | None = None, tol: float = 1e-5) -> dict[str, Any]:
    """Which block of a gradient (e.g. dz, dw, db) disagrees with centred differences, and by
    what clean factor or sign when it is one: a diagnosis (``gradient_check``) with sentences in
    Korean and English and a table (block, analytic, numeric, relative error, verdict).
    ``source``: the block the others are computed from (fix it first when it is off)."""
    rows: list[tuple[str, ...]] = []
    verdicts: list[Verdict] = []
    shapes: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    off: list[str] = []
    for block, num in numeric.items():
        got = analytic.get(block)
        if got is None:
            rows.append((block, "-", _num(num), "-", "not returned"))
            continue
        g = np.asarray(got, dtype=np.float64)
        if g.size != np.asarray(num).size:
            rows.append((block, f"shape {g.shape}", _num(num), "-", "wrong shape"))
            shapes.append((block, g.shape, np.shape(num)))
            off.append(block)
            continue
        err = relative_error(g.reshape(np.shape(num)), num)
        r = None if err <= tol else clean_factor(g, num)
        if r is not None and g.size == 1 and not any(abs(f - r) <= 1e-4 * abs(f) for f in _FACTORS):
            r = None  # one number is always "some factor" of another: only a telling one is said
        verdict = "agrees" if err <= tol else "factor" if r is not None else "differs"
        rows.append((block, _num(g), _num(num), f"{err:.1e}", f"exactly {r:g}x" if r is not None else verdict))
        verdicts.append((block, verdict, r, err))
        if verdict != "agrees":
            off.append(block)
    texts = {}
    for lang in LANGUAGES:
        words = [t("gradcheck_head", lang), t("gradcheck_forward_same" if forward_agrees else
                                              "gradcheck_forward_differs", lang), *_sentences(verdicts, lang)]
        words += [t("gradcheck_shape", lang, block=b, got=g, want=w) for b, g, w in shapes]
        if source is not None and source in off and len(off) > 1:
            words.append(t("gradcheck_start", lang, source=source, later=", ".join(b for b in off if b != source)))
        texts[lang] = " ".join(words)
    hint = {lang: t("gradcheck_off", lang, blocks=", ".join(off)) if off else t("gradcheck_ok", lang)
            for lang in LANGUAGES}
    return {"name": "gradient_check", "kind": "gradient", "hint": hint["ko"], "hint_en": hint["en"],
            "detail": texts["ko"], "detail_en": texts["en"], "table": [list(r) for r in rows]}
