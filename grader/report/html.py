"""Self-contained HTML reports for one submission: no external files, fonts or scripts.

Two copies of one result: ``report.html``, the TA's (hidden tests in full), and
``feedback.html``, the student's (a hidden test shows only whether it passed and the names of
the mistakes it found). Both show :mod:`grader.report.view` with the plots of
:mod:`grader.report.plots` inlined as ``data:`` images; a Content-Security-Policy forbids any
script, and every value is escaped (autoescape), so what a notebook printed is only ever text.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


from grader.report.adapt import ResultLike, as_result
from grader.report.i18n import t
from grader.report.templating import ENV
from grader.report.view import build, gradcheck_cell, one
from grader.result import Result

__all__ = ["FEEDBACK", "REPORT", "images_of", "render", "write", "write_both"]

log = logging.getLogger(__name__)

REPORT = "report.html"  # the TA's copy
FEEDBACK = "feedback.html"  # the student's copy



def images_of(result: Result) -> dict[str, str]:
    """Each part's plot as a ``data:image/png`` URI, by task name ({} when nothing to plot, or
    when drawing failed: the report is still written, each part saying it has no plot)."""
    if not result.figures:
        return {}
    try:
        from grader.report import plots  # matplotlib loads only when there is something to draw

        return plots.render_all(result.figures)
    except Exception:  # noqa: BLE001 - a plot that cannot be drawn must not cost the report
        log.exception("the plots of %s could not be drawn", result.submission)
        return {}


def render(result: ResultLike, *, lang: str = "ko", title: str = "", public_only: bool = False,
           audience: str = "student", images: Mapping[str, str] | None = None,
           overrides: Sequence[Any] = ()) -> str:
    """The report of ``result`` for ``audience`` ("ta": hidden tests in full, and the TA's
    ``overrides`` with the grade in force; "student")."""
    r = as_result(result)
    view = build(r, lang=lang, audience=audience, overrides=overrides)
    return ENV.get_template("submission.html.j2").render(
        v=view, r=r, lang=lang, title=title or t("title", lang), public_only=public_only,
        images=dict(images_of(r) if images is None else images),
        t=lambda key, **values: t(key, lang, **values), one=one,
        cell=lambda column, text: gradcheck_cell(column, text, lang),
    )


def write(result: ResultLike, path: Path, **kw: Any) -> Path:
    """Write one report atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(result, **kw), encoding="utf-8")
    tmp.replace(path)
    return path


def write_both(result: ResultLike, folder: Path, *, lang: str = "ko") -> tuple[Path, Path]:
    """``report.html`` (the TA's) and ``feedback.html`` (the student's) in ``folder``; the
    plots are drawn once for both."""
    r = as_result(result)
    images = images_of(r)
    return (write(r, folder / REPORT, lang=lang, audience="ta", images=images),
            write(r, folder / FEEDBACK, lang=lang, audience="student", images=images))
