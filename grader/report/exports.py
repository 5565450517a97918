"""Export writers: results in, files out (CSV, Gradescope, JUnit XML, Markdown).

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
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from grader.report.adapt import ResultLike, as_result
from grader.report.i18n import t
from grader.result import Diagnosis, TestResult

__all__ = [
    "MAX_MESSAGE",
    "clean_text",
    "gradescope_result",
    "safe_dirname",
    "write_csv",
    "write_gradescope",
    "write_junit",
    "write_markdown_summary",
]

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


# -- CSV -------------------------------------------------------------------------------


def _csv_text(value: Any) -> str:
    """Defuse spreadsheet formulas: a cell starting with = + - @ becomes text ('=...)."""
    s = clean_text(value)
    return "'" + s if s.startswith(_FORMULA_START) else s


def write_csv(
    results: Iterable[ResultLike], path: PathLike, *, tasks: Sequence[str] | None = None
) -> list[Path]:
    """One row per submission, one column per task score; UTF-8 with BOM for Excel.

    Task columns follow *tasks*, or else the order in which task names first appear
    (the rubric's order). A submission without a score for a task leaves it empty.
    """
    rows = [as_result(r) for r in results]
    if tasks is None:
        seen: dict[str, None] = {}
        for result in rows:
            for task in result.tasks:
                seen.setdefault(task.name, None)
        tasks = list(seen)
    header = ["student", "submission", "status", "score", "max_score", "passed", "reason"]

    def write(handle: TextIO) -> None:
        writer = csv.writer(handle)
        writer.writerow([*header, *tasks])
        for result in rows:
            by_task = {task.name: task.score for task in result.tasks}
            writer.writerow([
                _csv_text(result.student),
                _csv_text(result.submission),
                _csv_text(result.status),
                _fmt(result.score),
                _fmt(result.max_score),
                "true" if result.passed else "false",
                _csv_text(result.reason),
                *(_fmt(by_task.get(name)) for name in tasks),
            ])

    return [_atomic_write(Path(path), write, encoding="utf-8-sig", newline="")]


# -- Gradescope ------------------------------------------------------------------------


def gradescope_result(result: ResultLike, *, visibility: str = "visible") -> dict[str, Any]:
    """One submission in Gradescope's autograder ``results.json`` format (its words in English).

    Public tests are ``visible``; hidden tests ``after_published`` with their verdict only.
    Statuses stay codes (``crashed: ...``), as Gradescope and JUnit readers match on them.
    """
    result = as_result(result)
    lines = []
    if result.status != "graded":
        lines.append(f"{result.status}: {result.reason}" if result.reason else result.status)
    lines += [t("cell_error", "en", index=cell.index, error=cell.error) for cell in result.cells if cell.error]
    tests = []
    for test in result.tests:
        entry: dict[str, Any] = {
            "name": clean_text(test.name),
            "score": _number(test.score),
            "max_score": _number(test.max_score),
            "status": "passed" if test.status == "passed" else "failed",
            "visibility": "after_published" if _is_hidden(test) else "visible",
            "output": _test_output(test),
        }
        if test.task:
            entry["tags"] = [test.task]
        tests.append(entry)
    return {
        "score": _number(result.score),
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
    results: Iterable[ResultLike], outdir: PathLike, *, visibility: str = "visible"
) -> list[Path]:
    """``outdir/<student>/results.json`` for each submission, in Gradescope's format.

    A student with two submissions gets a second folder ``<student>_2`` (never merged);
    folders are assigned in the order results arrive.
    """
    root = Path(outdir)
    used: set[str] = set()
    written = []
    for result in map(as_result, results):
        base = safe_dirname(result.student or result.submission)
        name, n = base, 1
        while name.casefold() in used:  # casefold: macOS and Windows ignore case
            n += 1
            name = f"{base}_{n}"
        used.add(name.casefold())
        text = json.dumps(gradescope_result(result, visibility=visibility),
                          ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        written.append(_write_text(root / name / "results.json", text))
    return written


# -- JUnit XML -------------------------------------------------------------------------


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def write_junit(results: Iterable[ResultLike], path: PathLike) -> list[Path]:
    """JUnit XML: one ``<testsuite>`` per submission, one ``<testcase>`` per test.

    ``failed`` and ``timeout`` become ``<failure>``, ``error`` becomes ``<error>``; a
    submission that could not be graded at all (crashed, timeout, invalid) gets an
    ``<error>`` test case named ``notebook`` so a CI run shows why.
    """
    suites = ET.Element("testsuites", name="grader")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for result in map(as_result, results):
        suite = ET.SubElement(suites, "testsuite", name=clean_text(result.submission))
        props = ET.SubElement(suite, "properties")
        for key, text in (
            ("student", clean_text(result.student)), ("assignment", clean_text(result.assignment)),
            ("rubric_version", clean_text(result.rubric_version)), ("status", clean_text(result.status)),
            ("score", _fmt(result.score)), ("max_score", _fmt(result.max_score)),
            ("passed", "true" if result.passed else "false"),
        ):
            ET.SubElement(props, "property", name=key, value=text)
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
