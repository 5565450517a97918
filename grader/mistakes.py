"""The rubric's library of known mistakes (``mistakes.toml`` beside ``rubric.toml``).

Each entry names a mistake students make, says in one line what was done (``title``) and how
to fix it (``hint``), in Korean and English, and where useful gives the lecture's formula. How
it is recognised is one of:

* ``variant = "variants/NAME.py"``: a mutant of the reference, matched by value across a whole
  test (``grader.judging``), earning ``credit`` of the test (``scope = "task"``: of its part);
* ``error = {function = NAME, text = REGEX}``: an error of a known form raised by calling that
  function (a mutation that cannot run on the handout's shapes, e.g. ``X @ dz``);
* neither: the rubric's tests name it from their own code (``diagnose``, ``judge_value``,
  ``probe``).

``note = true`` marks a mistake only inputs the handout never uses reveal: it is shown, never
deducted. Every diagnosis a test attaches by name takes its words from here.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import RubricError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["FILE", "LANGS", "Mistake", "load_mistakes", "parse_mistakes"]

FILE = "mistakes.toml"
LANGS = ("ko", "en")
KEYS = ("name", "task", "title", "hint", "formula", "variant", "credit", "scope", "error", "note")


@dataclass(frozen=True)
class Mistake:
    """One known mistake: its words in each language and how it is recognised."""

    name: str
    task: str
    titles: dict[str, str]
    hints: dict[str, str]
    formula: str = ""
    variant: str = ""  # the variant file, when it is matched by value
    credit: float = 0.0
    scope: str = "test"
    error_function: str = ""  # with error_text: an error raised by calling this function
    error_text: str = ""
    note: bool = False  # shown without deduction
    language: str = "ko"  # the rubric's language: the words ``title`` and ``hint`` give

    # the attributes judging reads from a VariantSpec, so a test may weigh a value it computed
    # itself against this mistake (``judge_value``)
    @property
    def kind(self) -> str:
        return "mistake"

    @property
    def title(self) -> str:
        return self.titles.get(self.language) or next(iter(self.titles.values()), self.name)

    @property
    def hint(self) -> str:
        return self.hints.get(self.language) or next(iter(self.hints.values()), "")

    def credit_in(self, task: str) -> float:
        return 0.0 if self.note else self.credit

    def matches_error(self, function: str, text: str) -> bool:
        """Whether ``text`` ("Type: message") raised by calling ``function`` is this mistake's form."""
        return bool(self.error_text) and function == self.error_function and \
            re.search(self.error_text, text) is not None

    def diagnosis(self, *, kind: str | None = None, detail: dict[str, str] | None = None) -> dict[str, Any]:
        """The diagnosis a result carries: the name, its kind, the words in every language."""
        d: dict[str, Any] = {"name": self.name, "kind": kind or ("note" if self.note else "mistake"),
                             "hint": self.hint, "title": self.title}
        other = [lang for lang in LANGS if lang != self.language]
        for lang in other:
            if self.titles.get(lang):
                d[f"title_{lang}"] = self.titles[lang]
            if self.hints.get(lang):
                d[f"hint_{lang}"] = self.hints[lang]
        if self.formula:
            d["formula"] = self.formula
        for lang, text in (detail or {}).items():
            d["detail" if lang == self.language else f"detail_{lang}"] = text
        return d


def _texts(value: Any, key: str, where: str, language: str) -> dict[str, str]:
    if isinstance(value, str) and value:
        return dict([(language, value)])  # one text: in the rubric's language
    if not isinstance(value, dict) or not value or not all(isinstance(v, str) and v for v in value.values()):
        raise RubricError(f"{where}: {key} must be a table of language = text, e.g. {key} = {{ ko = \"...\", "
                          "en = \"...\" }")
    unknown = set(value) - set(LANGS)
    if unknown:
        raise RubricError(f"{where}: {key} has unknown language(s) {', '.join(sorted(unknown))}; known: "
                          f"{', '.join(LANGS)}")
    return {str(k): str(v) for k, v in value.items()}


def parse_mistakes(raw: list[Any], where_file: Path, tasks: set[str], language: str = "ko") -> list[Mistake]:
    """The ``[[mistakes]]`` entries, checked: every key known, names unique, tasks the rubric's,
    one way of recognising each, regexes that compile."""
    out: list[Mistake] = []
    for i, m in enumerate(raw):
        where = f"{where_file}: mistakes[{i}]"
        if not isinstance(m, dict):
            raise RubricError(f"{where} must be a table")
        missing = {"name", "task", "title", "hint"} - set(m)
        if missing:
            raise RubricError(f"{where} is missing {', '.join(sorted(missing))}")
        where = f"{where} ({m['name']})"
        unknown = set(m) - set(KEYS)
        if unknown:
            raise RubricError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(KEYS)}")
        if not isinstance(m["name"], str) or not re.fullmatch(r"[a-z][a-z0-9_]*", m["name"]):
            raise RubricError(f"{where}: name must be snake_case (letters, digits, _)")
        if m["task"] not in tasks:
            raise RubricError(f"{where}: task {m['task']!r} is not a task of rubric.toml ({', '.join(sorted(tasks))})")
        if "variant" in m and "error" in m:
            raise RubricError(f"{where}: give variant (matched by value) or error (a known error form), not both")
        error = m.get("error", {})
        if "error" in m:
            if not isinstance(error, dict) or set(error) != {"function", "text"} or \
                    not all(isinstance(v, str) and v for v in error.values()):
                raise RubricError(f"{where}: error must be {{ function = \"NAME\", text = \"REGEX\" }}")
            try:
                re.compile(error["text"])
            except re.error as exc:
                raise RubricError(f"{where}: error.text is not a regular expression ({exc})") from None
        credit = m.get("credit", 0.0)
        if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not 0.0 <= credit <= 1.0:
            raise RubricError(f"{where}: credit must be a number between 0 and 1, got {credit!r}")
        if ("credit" in m or "scope" in m) and "variant" not in m:
            raise RubricError(f"{where}: credit and scope go with a variant (a mistake matched by value)")
        if m.get("scope", "test") not in ("test", "task"):
            raise RubricError(f"{where}: scope must be 'test' or 'task', got {m['scope']!r}")
        note = m.get("note", False)
        if not isinstance(note, bool):
            raise RubricError(f"{where}: note must be true or false")
        if note and credit:
            raise RubricError(f"{where}: a note is never deducted: remove credit")
        out.append(Mistake(
            name=m["name"], task=str(m["task"]), titles=_texts(m["title"], "title", where, language),
            hints=_texts(m["hint"], "hint", where, language), formula=str(m.get("formula", "")),
            variant=str(m.get("variant", "")), credit=float(credit), scope=str(m.get("scope", "test")),
            error_function=str(error.get("function", "")), error_text=str(error.get("text", "")), note=note,
            language=language,
        ))
    names = [x.name for x in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RubricError(f"{where_file}: duplicate mistake name(s) {', '.join(dupes)}")
    return out


def load_mistakes(folder: Path, tasks: set[str], language: str = "ko") -> list[Mistake]:
    """``folder/mistakes.toml``'s entries; none when the rubric has no such file."""
    path = folder / FILE
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"{path}: not readable TOML ({exc})") from None
    unknown = set(data) - {"schema", "mistakes"}
    if unknown:
        raise RubricError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known: schema, mistakes")
    if data.get("schema", 1) != 1:
        raise RubricError(f"{path}: schema {data['schema']!r}; this grader reads 1")
    return parse_mistakes(list(data.get("mistakes", [])), path, tasks, language)

