"""The class's pages in the output folder, rebuilt after every run and every override.

``after_run`` (``grader grade``): the similar submissions of the batch (``OUT/similar_pairs.csv``
and a side-by-side page per pair in ``OUT/similar/``, :mod:`grader.similarity`), then the
dashboard (``OUT/index.html``, :mod:`grader.report.dashboard`) from the gradebook, with the
TA's overrides and the pairs. ``refresh`` (``grader override``): the dashboard again, the pairs
read back from ``similar_pairs.csv``. They inform; nothing here changes a grade.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.gradebook import Gradebook
from grader.report.dashboard import DASHBOARD, RunFacts, SimilarPair, landing_entry, write_dashboard, write_landing
from grader.rubric import Rubric

__all__ = ["PAIRS_CSV", "PAIRS_DIR", "after_run", "dashboard_path", "refresh"]

log = logging.getLogger(__name__)


def _version() -> str:
    """The installed grader's version (the package's metadata: importing ``grader`` here would
    make a cycle, ``grader`` -> ``batch`` -> here)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("grader")
    except PackageNotFoundError:
        return "unknown"

PAIRS_CSV = "similar_pairs.csv"
PAIRS_DIR = "similar"


def dashboard_path(out: Path, gb: Gradebook, assignment: str) -> Path:
    """``OUT/index.html``; ``OUT/index_<assignment>.html`` for each when the folder holds several."""
    others = [a for a in gb.assignments() if a != assignment]
    return out / (DASHBOARD if not others else f"index_{assignment}.html")


def _pairs_csv(out: Path, assignment: str, several: bool) -> Path:
    return out / (PAIRS_CSV if not several else f"similar_pairs_{assignment}.csv")


def after_run(out: Path, rubric: Rubric, summary: Any, *, submissions: Mapping[str, Path], lang: str = "",
              handouts: Sequence[Path] = ()) -> Path:
    """After ``grader grade``: the similar pairs of ``submissions`` (student -> notebook; the
    ``handouts``' code never counts), then the dashboard; the dashboard's path."""
    lang = lang or rubric.language
    with Gradebook(out / "gradebook.sqlite") as gb:
        several = len(set(gb.assignments()) | {rubric.assignment}) > 1
        csv_path = _pairs_csv(out, rubric.assignment, several)
        try:
            from grader import similarity  # copydetect loads only when a class is compared

            pairs = similarity.similar_pairs(dict(submissions), list(handouts),
                                             handout_marks=rubric.handout_marks)
            similarity.write_pairs_csv(pairs, csv_path)
            folder = out / (PAIRS_DIR if not several else f"{PAIRS_DIR}_{rubric.assignment}")
            similarity.write_pair_pages(pairs, folder, lang=lang)
        except Exception:  # noqa: BLE001 - a comparison that fails must not cost the grades or the dashboard
            log.exception("the similarity check of %s failed", rubric.assignment)
        _ta_reports(out, gb, rubric, lang, {o.student for o in gb.overrides(assignment=rubric.assignment)})
        facts = RunFacts.of_run(summary, grader_version=_version(), assignment=rubric.assignment,
                                rubric_version=rubric.version)
        return _write(out, gb, rubric, facts, lang, several)


def refresh(out: Path, rubric: Rubric, *, lang: str = "", student: str | None = None) -> Path:
    """After ``grader override``: ``student``'s TA reports with the overrides now in force, and
    the dashboard again (no run to report, the pairs as last found)."""
    from datetime import datetime, timezone

    with Gradebook(out / "gradebook.sqlite") as gb:
        if student is not None:
            _ta_reports(out, gb, rubric, lang or rubric.language, {student})
        several = len(set(gb.assignments()) | {rubric.assignment}) > 1
        facts = RunFacts(date=datetime.now(timezone.utc), grader_version=_version(),
                         assignment=rubric.assignment, rubric_version=rubric.version)
        return _write(out, gb, rubric, facts, lang or rubric.language, several)


def _read_pairs(out: Path, assignment: str, several: bool) -> list[SimilarPair]:
    """The pairs ``similar_pairs.csv`` holds, each linked to its side-by-side page."""
    from grader.similarity import Pair, pair_filename

    path = _pairs_csv(out, assignment, several)
    if not path.is_file():
        return []
    folder = PAIRS_DIR if not several else f"{PAIRS_DIR}_{assignment}"
    pairs = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            a, b = _unguard(row["student_a"]), _unguard(row["student_b"])
            score = float(row["score"])
            page = f"{folder}/{pair_filename(Pair(a, b, score, int(row.get('shared') or 0)))}"
            pairs.append(SimilarPair(a, b, score, page if (out / page).is_file() else ""))
    return pairs


def _unguard(text: str) -> str:
    """A name as the CSV's formula guard wrote it ("'=x" for "=x"), read back."""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text


def _ta_reports(out: Path, gb: Gradebook, rubric: Rubric, lang: str, students: set[str]) -> None:
    """Rewrite the TA's report of each of ``students``' results with the overrides in force
    (the worker wrote it when grading, without them)."""
    import unicodedata

    from grader.report import html
    from grader.worker import out_dir

    overrides = gb.overrides(assignment=rubric.assignment)
    wanted = {unicodedata.normalize("NFC", s) for s in students}
    for result in gb.results(assignment=rubric.assignment):
        if unicodedata.normalize("NFC", result.student) in wanted:
            html.write(result, out_dir(out, result.submission) / html.REPORT, lang=lang, audience="ta",
                       overrides=overrides)


def _write(out: Path, gb: Gradebook, rubric: Rubric, facts: RunFacts, lang: str, several: bool) -> Path:
    path = dashboard_path(out, gb, rubric.assignment)
    write_dashboard(out, gb.results(assignment=rubric.assignment), facts=facts, lang=lang,
                    similar=_read_pairs(out, rubric.assignment, several),
                    overrides=gb.overrides(assignment=rubric.assignment))
    if path.name != DASHBOARD:
        (out / DASHBOARD).replace(path)
        _landing(out, gb, lang)
    return path


def _landing(out: Path, gb: Gradebook, lang: str) -> Path:
    """``OUT/index.html`` when the folder holds several assignments: a line and a link for each."""
    entries = [landing_entry(a, dashboard_path(out, gb, a).name, gb.results(assignment=a), gb.overrides(assignment=a))
               for a in sorted(gb.assignments())]
    return write_landing(out, entries, lang=lang)
