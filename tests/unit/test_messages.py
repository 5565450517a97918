"""The one message catalogue: both languages everywhere, and no user-facing words outside it."""

from __future__ import annotations

import ast
import io
import re
import string
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from grader.report import exports, html, i18n, terminal
from grader.report.i18n import LANGUAGES, MESSAGES, t

PACKAGE = Path(i18n.__file__).resolve().parents[1]
CATALOGUE = Path(i18n.__file__).resolve()
HANGUL = re.compile("[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")

# Korean text outside the catalogue that is data, not a message, each with its reason.
ALLOWED = {
    ("notebook.py", "# YOUR CODE HERE (여기에 코드를 작성하세요)"):
        "the blank written into the generated notebook's solution regions: notebook content, in "
        "both languages at once, and the handout's hashes (test_generated_bundle) depend on it",
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


# -- the catalogue --------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_key_has_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = MESSAGES[key]
    assert set(entry) == set(LANGUAGES), f"{key}: languages {sorted(entry)}"
    assert all(entry[lang].strip() for lang in LANGUAGES), f"{key}: an empty text"
    assert placeholders(entry["ko"]) == placeholders(entry["en"]), key
    assert HANGUL.search(entry["ko"]) or not HANGUL.search(entry["en"]), f"{key}: Korean in the English text"


def test_lookup_fills_values_and_falls_back() -> None:
    assert t("hidden_failed", "ko", failed=2, total=3).startswith("비공개 테스트 3개 중 2개 실패")
    assert t("hidden_failed", "en", failed=2, total=3).startswith("Hidden tests: 2 of 3 failed")
    assert t("score", "fr") == "Score"  # any other language: English
    assert t("skipped", "ko") == "skipped"  # an unknown key (a status code) comes back as it is
    assert t("cli_error", "en", message="{not a field}") == "grader: error: {not a field}"


def test_the_chosen_words() -> None:
    # a part of the assignment is a 문제 (the handout's 과제 is the whole); a test fails (실패),
    # a submission below the pass mark is 미통과; tests students cannot see are 비공개
    assert (t("task", "ko"), t("failed", "ko"), t("verdict_not_passed", "ko")) == ("문제", "실패", "미통과")
    hidden_words = [k for k, v in MESSAGES.items() if "숨겨진" in v["ko"]]
    assert not hidden_words, f"숨겨진 instead of 비공개 in {hidden_words}"
    assert not [k for k, v in MESSAGES.items() if "과제" in v["ko"] and k != "handout_code"]


# -- nothing outside it ---------------------------------------------------------------------


def korean_literals(source: str) -> list[tuple[int, str]]:
    """String literals holding Hangul, docstrings aside (comments are not in the tree)."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings and HANGUL.search(node.value)]


def test_the_scan_sees_literals_but_not_comments_or_docstrings() -> None:
    source = ('"""모듈 설명"""\n# 주석\ndef f():\n    """함수 설명"""\n'
              '    return {"ko": "실패"}, f"{1}개 통과"\n')
    assert [text for _, text in korean_literals(source)] == ["실패", "개 통과"]


def test_no_korean_message_outside_the_catalogue() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if not path.is_file() or path == CATALOGUE or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        if path.suffix == ".py":
            literals = korean_literals(path.read_text(encoding="utf-8"))
            found += [f"{rel}:{line}: {text!r}" for line, text in literals if (rel, text) not in ALLOWED]
        elif path.suffix in (".j2", ".html", ".toml", ".json", ".txt", ".md"):
            found += [f"{rel}: {line.strip()!r}" for line in path.read_text(encoding="utf-8").splitlines()
                      if HANGUL.search(line)]
    assert not found, "Korean words belong in grader/report/i18n.py:\n" + "\n".join(found)


def test_there_is_one_label_table() -> None:
    # a second {"ko": ..., "en": ...} table anywhere in the package is how the two disagreed
    tables = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == CATALOGUE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if keys & set(LANGUAGES):
                    tables.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not tables, f"label tables outside the catalogue: {tables}"


# -- the reports say the same words ---------------------------------------------------------


def sample() -> dict[str, Any]:
    test = {"task": "gates", "visibility": "public", "message": "", "score": 0.0, "max_score": 1.0,
            "diagnoses": [], "notes": [], "details": {}}
    return {
        "schema": 1, "assignment": "week3_nn_basic", "rubric_version": "1", "submission": "kim/week3.ipynb",
        "student": "kim", "sha256": "", "status": "partial", "reason": "", "score": 1.0, "max_score": 3.0,
        "pass_mark": 60.0, "passed": False,
        "tasks": [{"name": "gates", "title": "gates", "score": 1.0, "max_score": 3.0}],
        "tests": [dict(test, name="test_a", status="passed", score=1.0),
                  dict(test, name="test_b", status="failed", message="x"),
                  dict(test, name="test_c", status="failed", visibility="hidden")],
        "cells": [{"index": 2, "status": "error", "error": "NameError: x"}], "notes": [], "sandbox": "rlimits",
        "timings": {},
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_html_markdown_and_terminal_use_the_catalogue_words(lang: str, tmp_path: Path) -> None:
    page = html.render(sample(), lang=lang)
    md_path = tmp_path / "s.md"
    exports.write_markdown_summary(sample(), md_path, lang=lang)
    markdown = md_path.read_text(encoding="utf-8")
    out = io.StringIO()
    terminal.print_result(sample(), lang=lang, console=Console(file=out, width=200))
    console = out.getvalue()
    for key in ("task", "score", "failed"):
        for name, text in (("HTML", page), ("Markdown", markdown), ("terminal", console)):
            assert t(key, lang) in text, f"{name} lacks {key}={t(key, lang)!r}"
    for key in ("run_title", "next_steps", "parts", "partial", "report_student_copy", "case_expected"):
        assert t(key, lang) in page, f"the HTML report lacks {key}={t(key, lang)!r}"
    for key in ("cells", "verdict_not_passed", "pass_mark", "partial"):
        assert t(key, lang) in markdown
    other = "en" if lang == "ko" else "ko"
    assert t("task", other) not in page + markdown + console
