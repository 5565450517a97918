"""Self-contained HTML report for one submission (no external files, scripts or fonts)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import jinja2

from grader.report.adapt import ResultLike, as_result
from grader.report.exports import clean_text
from grader.report.i18n import t
from grader.result import Details, Result, TestResult

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("grader.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt(x: object) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, (int, float)) else str(x)


def _student_test(test: TestResult, lang: str) -> TestResult:
    if test.visibility == "hidden":  # the mistake's name and words, never what it was found on
        return replace(test, message="", diagnoses=tuple(d.without_findings() for d in test.diagnoses), notes=(),
                       details=Details())
    return replace(test, message=clean_text(test.message, limit=4000, lang=lang))


def _student_view(result: Result, lang: str) -> Result:
    """Clean hostile text; hidden tests keep only their name and verdict."""
    cells = tuple(replace(c, error=clean_text(c.error, limit=1000, lang=lang),
                          slip_title=clean_text(c.slip_title, limit=300, lang=lang),
                          hint=clean_text(c.hint, limit=500, lang=lang))
                  for c in result.cells)
    return replace(result, tests=tuple(_student_test(test, lang) for test in result.tests),
                   reason=clean_text(result.reason, limit=2000, lang=lang), cells=cells,
                   notes=tuple(clean_text(n, limit=500, lang=lang) for n in result.notes))


def render(result: ResultLike, *, lang: str = "ko", title: str = "", public_only: bool = False) -> str:
    return _ENV.get_template("submission.html.j2").render(
        r=_student_view(as_result(result), lang), lang=lang, title=title or t("title", lang),
        t=lambda key, **values: t(key, lang, **values), fmt=_fmt, public_only=public_only,
    )


def write(result: ResultLike, path: Path, **kw: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(result, **kw), encoding="utf-8")
    tmp.replace(path)
    return path
