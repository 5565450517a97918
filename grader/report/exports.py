"""Export writers: results in, files out (CSV, Gradescope, JUnit XML, the TA's sheet, Markdown).

A TA's overrides (``grader override``, :class:`grader.gradebook.Override`) replace a part's score
and the total in every format: each writer takes ``overrides`` and reads a grade only through
:func:`effective`. With a roster (:func:`class_rows`), the CSV and the sheet have one row per
student: a student who handed nothing in has status ``missing`` and empty scores, a student with
several notebooks one row (``pick``: the latest or the highest) listing the others.

Every writer is pure apart from the files it writes, writes each file atomically
(temporary file + rename, so a killed run never leaves half a file), and returns the
paths it wrote. Hidden tests keep their name, their verdict and the names and hints of the
known mistakes they showed, in every format (invariant 7): never their message, inputs or
expected values.

Text that came from a student's notebook (error messages, file and folder names) is
treated as hostile: ANSI colour codes and characters XML cannot hold are removed,
spreadsheet formulas are defused in CSV, Markdown and HTML are escaped.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import secrets
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from grader.gradebook import Override
from grader.report.adapt import ResultLike, as_result
from grader.report.i18n import t
from grader.result import Diagnosis, Result, TestResult

__all__ = [
    "MAX_MESSAGE",
    "MISSING",
    "PICKS",
    "ClassRow",
    "Effective",
    "class_rows",
    "clean_text",
    "effective",
    "gradescope_result",
    "safe_dirname",
    "write_csv",
    "write_gradescope",
    "write_junit",
    "write_markdown_summary",
    "write_sheet",
]

MISSING = "missing"
"""The status of a roster student with no notebook in the gradebook."""

PICKS = ("latest", "highest")
"""How one notebook is chosen for a student who handed in several (:func:`class_rows`)."""

PathLike = str | os.PathLike[str]

MAX_MESSAGE = 4000
"""Characters of one test message kept in Gradescope, JUnit and Markdown output."""

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# Everything XML 1.0 cannot hold: C0 controls except tab/LF/CR, surrogates, U+FFFE/U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = {
    "CON", "PRN", "AUX", "NUL",
    *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10)),
}


# -- shared helpers --------------------------------------------------------------------


def clean_text(text: object, *, limit: int | None = None, lang: str = "en") -> str:
    """Student text made safe to embed: no ANSI codes, no XML-illegal characters, capped."""
    s = "" if text is None else str(text)
    s = _NOT_XML.sub("", _ANSI.sub("", s))
    if limit is not None and len(s) > limit:
        s = s[:limit].rstrip() + "\n" + t("more_characters", lang, count=len(s) - limit)
    return s


def _atomic_write(
    path: Path, write: Callable[[TextIO], object], *, encoding: str = "utf-8",
    newline: str | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkstemp: its files are mode 0600, and reports must stay readable.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding=encoding, newline=newline) as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_text(path: Path, text: str) -> Path:
    return _atomic_write(path, lambda handle: handle.write(text))


def _number(value: Any) -> float:
    """A finite float for formats that require numbers (missing or NaN becomes 0)."""
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def _fmt(value: Any) -> str:
    """A score for people: one decimal (10.0, 87.5, 15.7; result.json keeps every digit)."""
    if value is None or isinstance(value, bool):
        return ""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(number):
        return ""
    return f"{number + 0.0:.1f}"


def _is_hidden(test: TestResult) -> bool:
    return test.visibility != "public"  # unknown visibility is treated as hidden


def _diagnosis_text(diagnosis: Diagnosis, lang: str = "en") -> str:
    name, hint = diagnosis.name, diagnosis.text("hint", lang)
    return f"{name}: {hint}" if name and hint else name or hint


def _test_output(test: TestResult, lang: str = "en") -> str:
    """What a student may read about one test: the verdict only if it is hidden.

    The status stays a code (``failed``, ``timeout``): Gradescope and JUnit readers match on it.
    """
    status = test.status
    if _is_hidden(test):  # the verdict, and the names and words of the mistakes it showed: never values
        if status == "passed":
            return ""
        named = [_diagnosis_text(d, lang) for d in test.diagnoses]
        return clean_text("\n".join([t("hidden_test_status", lang, status=status), *named]), limit=MAX_MESSAGE,
                          lang=lang)
    parts = [test.message, *(_diagnosis_text(d, lang) for d in test.diagnoses)]
    text = "\n".join(p for p in parts if p)
    if status in ("error", "timeout") and not text.startswith(status):
        text = f"{status}: {text}" if text else status
    return clean_text(text, limit=MAX_MESSAGE, lang=lang)


# -- overrides and the class ----------------------------------------------------------


class Effective(NamedTuple):
    """A grade as shown: the TA's overrides in place of the parts they replace."""

    score: float
    """The total: the sum of ``parts`` (rounded to 4 places, as ``Result.score``)."""
    parts: dict[str, float]
    """Each part's (task's) score, by task name, in the result's order."""
    comments: tuple[str, ...]
    """One ``"<part title>: <comment>"`` per override in force, in the result's part order."""


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def effective(result: ResultLike, overrides: Iterable[Override] = ()) -> Effective:
    """*result*'s grade with the overrides of its assignment and student in force.

    *overrides* may hold anyone's (the gradebook's whole list): those of another assignment or
    student, or of a part the result does not have (the rubric changed since), are passed over.
    The one place a grade is read for a report or an export."""
    result = as_result(result)
    student = _nfc(result.student)
    mine = {o.part: o for o in overrides if o.assignment == result.assignment and _nfc(o.student) == student}
    parts: dict[str, float] = {}
    comments: list[str] = []
    for task in result.tasks:
        over = mine.get(task.name)
        parts[task.name] = float(task.score) if over is None else float(over.points)
        if over is not None:
            comments.append(f"{task.title or task.name}: {over.comment}" if over.comment else task.title or task.name)
    score = round(sum(parts.values()) + 0.0, 4) if mine.keys() & parts.keys() else float(result.score)
    return Effective(score, parts, tuple(comments))


def _passed(result: Result, shown: Effective) -> bool:
    """Whether the grade as shown reaches the pass mark (the result's own verdict without overrides)."""
    return shown.score >= result.pass_mark if shown.comments else result.passed


@dataclass(frozen=True)
class ClassRow:
    """One student of the class: the notebook that counts (None: nothing handed in) and the
    other notebooks they handed in (their submission paths), not counted."""

    student: str
    result: Result | None
    others: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return MISSING if self.result is None else self.result.status


def class_rows(
    results: Iterable[ResultLike],
    *,
    roster: Sequence[str] | None = None,
    pick: str = "latest",
    times: Mapping[str, float] | None = None,
    overrides: Iterable[Override] = (),
) -> list[ClassRow]:
    """One row per student: every student of *roster* (in its order; those with no result are
    ``missing``), then any other student with a result (sorted), so no grade is ever dropped.

    A student with several notebooks gets the one *pick* chooses: ``latest`` the one handed in
    last (*times*: submission path -> Unix seconds, the git commit or file time; a notebook of
    unknown time counts as the oldest, ties go to the later path), ``highest`` the one with the
    highest score as shown (overrides in force; ties: the latest). Names compare in Unicode NFC."""
    if pick not in PICKS:
        raise ValueError(f"pick must be one of {', '.join(PICKS)}, not {pick!r}")
    times = times or {}
    overrides = list(overrides)
    by_student: dict[str, list[Result]] = {}
    for result in map(as_result, results):
        by_student.setdefault(_nfc(result.student), []).append(result)

    def when(r: Result) -> tuple[float, str]:
        return times.get(r.submission, float("-inf")), r.submission

    def rank(r: Result) -> tuple[Any, ...]:
        return (effective(r, overrides).score, *when(r)) if pick == "highest" else when(r)

    names = list(dict.fromkeys(_nfc(s) for s in roster or ()))
    names += sorted(set(by_student) - set(names))
    rows = []
    for name in names:
        mine = by_student.get(name, [])
        if not mine:
            rows.append(ClassRow(name, None))
            continue
        chosen = max(mine, key=rank)
        rows.append(ClassRow(name, chosen, tuple(sorted(r.submission for r in mine if r is not chosen))))
    return rows


# -- CSV -------------------------------------------------------------------------------


def _csv_text(value: Any) -> str:
    """Defuse spreadsheet formulas: a cell starting with = + - @ becomes text ('=...)."""
    s = clean_text(value)
    return "'" + s if s.startswith(_FORMULA_START) else s


def write_csv(
    results: Iterable[ResultLike], path: PathLike, *, tasks: Sequence[str] | None = None,
    overrides: Iterable[Override] = (), roster: Sequence[str] | None = None, pick: str = "latest",
    times: Mapping[str, float] | None = None,
) -> list[Path]:
    """One row per submission (with *roster*: per student, :func:`class_rows`), one column per
    task score; UTF-8 with BOM for Excel. Scores are as shown (*overrides* in force).

    Task columns follow *tasks*, or else the order in which task names first appear
    (the rubric's order). A submission without a score for a task leaves it empty; a missing
    student (roster) has every score empty: no notebook is not a notebook that earned 0.
    """
    overrides = list(overrides)
    if roster is None:
        rows = [ClassRow(r.student, r) for r in map(as_result, results)]
    else:
        rows = class_rows(results, roster=roster, pick=pick, times=times, overrides=overrides)
    if tasks is None:
        tasks = _task_names(rows)
    header = ["student", "submission", "status", "score", "max_score", "passed", "reason", "override_comment",
              "other_submissions"]

    def write(handle: TextIO) -> None:
        writer = csv.writer(handle)
        writer.writerow([*header, *tasks])
        for row in rows:
            result = row.result
            if result is None:
                writer.writerow([_csv_text(row.student), "", MISSING, "", "", "false", "", "", "",
                                 *("" for _ in tasks)])
                continue
            shown = effective(result, overrides)
            writer.writerow([
                _csv_text(result.student),
                _csv_text(result.submission),
                _csv_text(result.status),
                _fmt(shown.score),
                _fmt(result.max_score),
                "true" if _passed(result, shown) else "false",
                _csv_text(result.reason),
                _csv_text("; ".join(shown.comments)),
                _csv_text("; ".join(row.others)),
                *(_fmt(shown.parts.get(name)) for name in tasks),
            ])

    return [_atomic_write(Path(path), write, encoding="utf-8-sig", newline="")]


def _task_names(rows: Sequence[ClassRow]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for task in row.result.tasks if row.result else ():
            seen.setdefault(task.name, None)
    return list(seen)


def write_sheet(
    results: Iterable[ResultLike], path: PathLike, *, tasks: Sequence[tuple[str, str]] | None = None,
    overrides: Iterable[Override] = (), roster: Sequence[str] | None = None, pick: str = "latest",
    times: Mapping[str, float] | None = None,
) -> list[Path]:
    """What a TA pastes into a spreadsheet or an LMS gradebook: one row per student
    (:func:`class_rows`), scores as shown (*overrides* in force) with one decimal.

    Columns: student, total, maximum, status, one per part headed by its title (*tasks*:
    ``(name, title)`` pairs, the rubric's; else the results' parts in order), override_comment,
    then submission and other_submissions (which notebook counted, which did not). A missing
    student's total and parts are empty, not 0: an empty cell says "nothing handed in" and leaves
    the decision to the TA, where a 0 would be averaged in as a grade."""
    overrides = list(overrides)
    rows = class_rows(results, roster=roster, pick=pick, times=times, overrides=overrides)
    if tasks is None:
        titles: dict[str, str] = {}
        for row in rows:
            for task in row.result.tasks if row.result else ():
                titles.setdefault(task.name, task.title or task.name)
        tasks = list(titles.items())
    maximum = max((r.result.max_score for r in rows if r.result is not None), default=None)

    def write(handle: TextIO) -> None:
        writer = csv.writer(handle)
        writer.writerow(["student", "total", "maximum", "status", *(_csv_text(title or name) for name, title in tasks),
                         "override_comment", "submission", "other_submissions"])
        for row in rows:
            result = row.result
            if result is None:
                writer.writerow([_csv_text(row.student), "", _fmt(maximum), MISSING, *("" for _ in tasks), "", "",
                                 ""])
                continue
            shown = effective(result, overrides)
            writer.writerow([
                _csv_text(row.student), _fmt(shown.score), _fmt(result.max_score), _csv_text(result.status),
                *(_fmt(shown.parts.get(name)) for name, _ in tasks),
                _csv_text("; ".join(shown.comments)), _csv_text(result.submission), _csv_text("; ".join(row.others)),
            ])

    return [_atomic_write(Path(path), write, encoding="utf-8-sig", newline="")]


# -- Gradescope ------------------------------------------------------------------------


def gradescope_result(
    result: ResultLike, *, visibility: str = "visible", overrides: Iterable[Override] = (), lang: str = "en"
) -> dict[str, Any]:
    """One submission in Gradescope's autograder ``results.json`` format (its words in *lang*:
    English for ``grader export``, the rubric's language in the Gradescope autograder).

    Public tests are ``visible``; hidden tests ``after_published`` with their verdict only.
    Statuses stay codes (``crashed: ...``), as Gradescope and JUnit readers match on them.
    The top-level ``score`` (which Gradescope takes over the tests' sum) is the one shown, with
    *overrides* in force; each override is a line of the output.
    """
    result = as_result(result)
    shown = effective(result, overrides)
    lines = []
    if result.status != "graded":
        lines.append(f"{result.status}: {result.reason}" if result.reason else result.status)
    lines += [t("export_override_line", lang, comment=c) for c in shown.comments]
    lines += [t("cell_error", lang, index=cell.index, error=cell.error) for cell in result.cells if cell.error]
    tests = []
    for test in result.tests:
        entry: dict[str, Any] = {
            "name": clean_text(test.name),
            "score": _number(test.score),
            "max_score": _number(test.max_score),
            "status": "passed" if test.status == "passed" else "failed",
            "visibility": "after_published" if _is_hidden(test) else "visible",
            "output": _test_output(test, lang),
        }
        if test.task:
            entry["tags"] = [test.task]
        tests.append(entry)
    return {
        "score": _number(shown.score),
        "output": clean_text("\n".join(lines), limit=MAX_MESSAGE),
        "visibility": visibility,
        "tests": tests,
    }


def safe_dirname(name: str) -> str:
    """A folder name that works on Linux, macOS and Windows; keeps Hangul and other letters."""
    s = unicodedata.normalize("NFC", clean_text(name))
    s = _UNSAFE_NAME.sub("_", s).strip(" .")
    if s.split(".")[0].upper() in _WINDOWS_RESERVED:
        s = "_" + s
    while len(s.encode("utf-8")) > 200:  # filesystems allow 255 bytes; Hangul is 3 bytes each
        s = s[:-1]
    return s or "_"


def write_gradescope(
    results: Iterable[ResultLike], outdir: PathLike, *, visibility: str = "visible",
    overrides: Iterable[Override] = (),
) -> list[Path]:
    """``outdir/<student>/results.json`` for each submission, in Gradescope's format.

    A student with two submissions gets a second folder ``<student>_2`` (never merged);
    folders are assigned in the order results arrive.
    """
    root = Path(outdir)
    overrides = list(overrides)
    used: set[str] = set()
    written = []
    for result in map(as_result, results):
        base = safe_dirname(result.student or result.submission)
        name, n = base, 1
        while name.casefold() in used:  # casefold: macOS and Windows ignore case
            n += 1
            name = f"{base}_{n}"
        used.add(name.casefold())
        text = json.dumps(gradescope_result(result, visibility=visibility, overrides=overrides),
                          ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        written.append(_write_text(root / name / "results.json", text))
    return written


# -- JUnit XML -------------------------------------------------------------------------


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def write_junit(
    results: Iterable[ResultLike], path: PathLike, *, overrides: Iterable[Override] = ()
) -> list[Path]:
    """JUnit XML: one ``<testsuite>`` per submission, one ``<testcase>`` per test.

    ``failed`` and ``timeout`` become ``<failure>``, ``error`` becomes ``<error>``; a
    submission that could not be graded at all (crashed, timeout, invalid) gets an
    ``<error>`` test case named ``notebook`` so a CI run shows why. The score properties are
    the ones shown (*overrides* in force, their comments in an ``override`` property).
    """
    overrides = list(overrides)
    suites = ET.Element("testsuites", name="grader")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in map(as_result, results):
        suite = ET.SubElement(suites, "testsuite", name=clean_text(result.submission))
        props = ET.SubElement(suite, "properties")
        shown = effective(result, overrides)
        for key, text in (
            ("student", clean_text(result.student)), ("assignment", clean_text(result.assignment)),
            ("rubric_version", clean_text(result.rubric_version)), ("status", clean_text(result.status)),
            ("score", _fmt(shown.score)), ("max_score", _fmt(result.max_score)),
            ("passed", "true" if _passed(result, shown) else "false"),
        ):
            ET.SubElement(props, "property", name=key, value=text)
        if shown.comments:
            ET.SubElement(props, "property", name="override", value=clean_text("; ".join(shown.comments)))
        counts = {"tests": 0, "failures": 0, "errors": 0}
        status = result.status
        if status in ("crashed", "timeout", "invalid"):
            case = ET.SubElement(suite, "testcase", classname="grader", name="notebook")
            reason = clean_text(result.reason or status, limit=MAX_MESSAGE)
            error = ET.SubElement(case, "error", message=_first_line(reason), type=status)
            error.text = reason
            counts["tests"] += 1
            counts["errors"] += 1
        for test in result.tests:
            case = ET.SubElement(
                suite, "testcase", classname=clean_text(test.task or "grader"), name=clean_text(test.name),
            )
            counts["tests"] += 1
            verdict = test.status
            if verdict == "passed":
                continue
            output = _test_output(test) or verdict
            tag = "error" if verdict == "error" else "failure"
            counts["errors" if tag == "error" else "failures"] += 1
            ET.SubElement(case, tag, message=_first_line(output), type=verdict).text = output
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        total_time = result.timings.get("total")
        if total_time is not None:
            suite.set("time", f"{_number(total_time):.3f}")
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    data = ET.tostring(suites, encoding="unicode")
    return [_atomic_write(
        Path(path), lambda h: h.write('<?xml version="1.0" encoding="utf-8"?>\n' + data + "\n")
    )]


# -- Markdown --------------------------------------------------------------------------

def _md_inline(text: object) -> str:
    """Plain text for a Markdown table cell or list item: HTML and Markdown escaped."""
    s = clean_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = re.sub(r"([\\`*_\[\]|#])", r"\\\1", s)
    return " ".join(s.split())


def _md_code(text: str, indent: str = "") -> str:
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    body = "\n".join(indent + line for line in text.splitlines())
    return f"{indent}{fence}text\n{body}\n{indent}{fence}"


def _status_word(status: str, lang: str) -> str:
    """A status code in the reader's words (an unknown code as it is), Markdown-escaped."""
    return _md_inline(t(status, lang))


def write_markdown_summary(result: ResultLike, path: PathLike, *, lang: str = "ko") -> list[Path]:
    """A short Markdown summary of one submission, e.g. for ``$GITHUB_STEP_SUMMARY``."""
    result = as_result(result)
    mark = "✅" if result.passed else "❌"
    verdict = t("verdict_passed" if result.passed else "verdict_not_passed", lang)
    lines = [
        f"## {mark} {_md_inline(result.student)} — {_md_inline(result.assignment)}: "
        f"{_fmt(result.score)} / {_fmt(result.max_score)} ({verdict}, {t('pass_mark', lang)} {_fmt(result.pass_mark)})",
        "",
        _md_inline(result.submission),
        "",
    ]
    if result.status != "graded":
        lines += [f"**{t('status', lang)}:** {_status_word(result.status, lang)} — {_md_inline(result.reason)}", ""]
    if result.tasks:
        lines += [f"| {t('task', lang)} | {t('score', lang)} | {t('max', lang)} |", "|---|---:|---:|"]
        lines += [f"| {_md_inline(task.title or task.name)} | {_fmt(task.score)} | {_fmt(task.max_score)} |"
                  for task in result.tasks]
        lines.append("")
    tests = result.tests
    failed_public = [x for x in tests if not _is_hidden(x) and x.status != "passed"]
    if failed_public:
        lines += [f"### {t('failed_public_tests', lang)} ({len(failed_public)})", ""]
        for test in failed_public:
            lines.append(f"- **{_md_inline(test.name)}** ({_md_inline(test.task)}): {_status_word(test.status, lang)}")
            output = _test_output(test, lang)
            if output:
                lines += ["", _md_code(output, indent="  "), ""]
        if lines[-1]:
            lines.append("")
    elif tests:
        lines += [t("all_public_passed", lang), ""]
    hidden = [x for x in tests if _is_hidden(x)]
    hidden_failed = [x for x in hidden if x.status != "passed"]
    if hidden_failed:
        names = ", ".join(f"{_md_inline(x.name)} ({_status_word(x.status, lang)})" for x in hidden_failed)
        summary = t("hidden_failed", lang, failed=len(hidden_failed), total=len(hidden))
        lines += [f"{summary}: {names}", ""]
    cells = [c for c in result.cells if c.error]
    if cells:
        lines += [f"### {t('cells', lang)}", ""]
        lines += [f"- {t('cell', lang)} {_md_inline(c.index)}: {_md_inline(clean_text(c.error, limit=300, lang=lang))}"
                  for c in cells]
        lines.append("")
    text = "\n".join(lines).rstrip() + "\n"
    return [_write_text(Path(path), text)]
