"""The one Jinja environment of every page the grader writes (the reports, the dashboard, the
side-by-side pages of similar submissions): the package's templates, autoescape on (what came from
a notebook is only ever text), an unknown name an error rather than an empty string."""

from __future__ import annotations

import jinja2

__all__ = ["ENV"]

ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("grader.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
