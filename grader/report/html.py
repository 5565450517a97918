"""Self-contained HTML report for one submission (no external files, scripts or fonts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from grader.report.exports import clean_text
from grader.report.i18n import t

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("grader.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, (int, float)) else str(x)


def _student_view(result: dict[str, Any], lang: str) -> dict[str, Any]:
    """Clean hostile text; hidden tests keep only their name and verdict."""
    r = dict(result)
    tests = []
    for test in result.get("tests", []):
        test = dict(test)
        if test.get("visibility") == "hidden":
            test.update(message="", diagnoses=[], notes=[], details={})
        else:
            test["message"] = clean_text(test.get("message", ""), limit=4000, lang=lang)
            test.setdefault("details", {})
        tests.append(test)
    r["tests"] = tests
    r["reason"] = clean_text(r.get("reason", ""), limit=2000, lang=lang)
    r["cells"] = [dict(c, error=clean_text(c.get("error", ""), limit=1000, lang=lang),
                       slip_title=clean_text(c.get("slip_title", ""), limit=300, lang=lang),
                       hint=clean_text(c.get("hint", ""), limit=500, lang=lang))
                  for c in result.get("cells", [])]
    r["notes"] = [clean_text(n, limit=500, lang=lang) for n in result.get("notes", []) if isinstance(n, str)]
    return r


def render(result: dict[str, Any], *, lang: str = "ko", title: str = "", public_only: bool = False) -> str:
    return _ENV.get_template("submission.html.j2").render(
        r=_student_view(result, lang), lang=lang, title=title or t("title", lang),
        t=lambda key, **values: t(key, lang, **values), fmt=_fmt, public_only=public_only,
    )


def write(result: dict[str, Any], path: Path, **kw: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(result, **kw), encoding="utf-8")
    tmp.replace(path)
    return path
