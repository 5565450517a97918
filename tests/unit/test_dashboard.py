"""The class dashboard (issue 14, item 1): ``OUT/index.html`` from a batch's results.

Built from whole results (dicts in ``result.json``'s form, read with ``Result.from_dict``), no
kernel: what the page says (overview, histogram, pass rates, mistakes, students, not graded, the
run's facts, similar pairs and overrides), in which words (the catalogue's, ko and en), to one
decimal, and that nothing a student wrote can become markup or script. tests/browser/
test_dashboard_page.py opens the same class (:func:`a_class`) in Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from markupsafe import escape

from grader.batch import Summary
from grader.gradebook import Gradebook
from grader.gradebook import Override
from grader.report import dashboard, exports
from grader.report.dashboard import RunFacts, SimilarPair, render_dashboard, report_link, write_dashboard
from grader.report.i18n import MESSAGES, t
from grader.result import Result
from grader.similarity import Pair
from grader.worker import out_dir

PARTS = (("gates", "1. 논리 게이트", 12.0), ("backprop", "4. 역전파", 24.0), ("training", "5. 뉴런 학습", 64.0))
# name -> (part, title ko, title en, hint ko, hint en)
MISTAKES = {
    "xor_gives_xnor": ("gates", "XNOR이 됨", "gives XNOR", "바깥 게이트를 AND로", "Use AND outside"),
    "db_not_summed": ("backprop", "db를 합하지 않음", "db not summed", "db는 합입니다", "db is a sum"),
    "loss_times_two": ("training", "<script>alert('title')</script>", "<i>twice</i> the loss", "", ""),
}
HOSTILE_STUDENT = "<b>hong<img src=x onerror=\"document.title='pwned'\">"
HOSTILE_FILE = "3주차<b>과제<i onmouseover=\"document.title='pwned'\">.ipynb"
HOSTILE_REASON = "<script>alert('reason')</script> the kernel died & took <b>everything</b>"
FACTS = RunFacts(date=datetime(2026, 11, 30, 19, 5, tzinfo=timezone.utc), grader_version="0.1.0",
                 assignment="week3_nn_basic", rubric_version="9", sandbox="bwrap", graded_now=5, skipped=2)


def result(student: str, scores: tuple[float, float, float] = (12.0, 24.0, 64.0), *, status: str = "graded",
           reason: str = "", mistakes: tuple[str, ...] = (), submission: str = "",
           maxima: tuple[float, float, float] | None = None, rubric_version: str = "9") -> dict[str, Any]:
    """A whole result of the week-3 shape: per part a public and a hidden test (each half the
    part's points), a part below full marks failing its hidden test (and its public one too when
    it has less than half); ``mistakes`` named on the failing tests of their parts."""
    tops = maxima if maxima is not None else tuple(m for _, _, m in PARTS)
    tasks, tests = [], []
    for (name, title, _), score, top in zip(PARTS, scores, tops, strict=True):
        tasks.append({"name": name, "title": title, "score": score, "max_score": top})
        public = min(score, top / 2)
        for visibility, earned in (("public", public), ("hidden", score - public)):
            ok = earned >= top / 2 - 1e-9 and status not in dashboard.NOT_GRADED
            diagnoses = [] if ok else [
                {"name": m, "kind": "mistake", "hint": MISTAKES[m][3], "hint_en": MISTAKES[m][4],
                 "title": MISTAKES[m][1], "title_en": MISTAKES[m][2]} for m in mistakes if MISTAKES[m][0] == name]
            tests.append({"name": f"test_{name}_{visibility}", "task": name, "visibility": visibility,
                          "status": "passed" if ok else ("error" if status in dashboard.NOT_GRADED else "failed"),
                          "message": "" if ok else "wrong", "score": earned, "max_score": top / 2,
                          "diagnoses": diagnoses, "notes": [], "details": {}})
    total = round(sum(scores), 4)
    return {"schema": 1, "assignment": "week3_nn_basic", "rubric_version": rubric_version,
            "submission": submission or f"{student}/week3.ipynb", "student": student, "sha256": "",
            "status": status, "reason": reason, "score": total, "max_score": float(sum(tops)),
            "pass_mark": 60.0, "passed": total >= 60.0, "tasks": tasks, "tests": tests, "cells": [], "notes": [],
            "sandbox": "bwrap", "timings": {}}


def a_class() -> list[Result]:
    """Seven submissions: full marks, three with named mistakes (one with 15.69444 points), a
    hostile name and file, one crashed (a hostile reason) and one invalid."""
    dicts = [
        result("kim"),
        result("lee", (9.0, 12.0, 64.0), status="partial", mistakes=("xor_gives_xnor", "db_not_summed")),
        result("park", (6.0, 9.69444, 0.0), mistakes=("xor_gives_xnor", "db_not_summed", "loss_times_two")),
        result("choi", (12.0, 24.0, 32.0), mistakes=("loss_times_two",)),
        result(HOSTILE_STUDENT, (12.0, 18.0, 20.0), submission=f"hong/{HOSTILE_FILE}", mistakes=("db_not_summed",)),
        result("jung", (0.0, 0.0, 0.0), status="crashed", reason=HOSTILE_REASON),
        result("yoon", (0.0, 0.0, 0.0), status="invalid", reason="not a notebook: the file is not JSON"),
    ]
    return [Result.from_dict(d) for d in dicts]


class Page(HTMLParser):
    """The page's elements: every tag with its attributes, the scripts' text, the visible text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "script":
            self.scripts[-1] += data
        elif not (self._in and self._in[-1] == "style"):
            self.text.append(data)

    @property
    def words(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


def section(page: str, name: str) -> str:
    m = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S)
    assert m, f"no section {name!r}"
    return m.group(1)


def first(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not found"
    return m.group(1)


def rows_of(html_part: str) -> list[str]:
    return re.findall(r"<tr[ >].*?</tr>", html_part.split("<tbody>", 1)[1], re.S)


@pytest.fixture(scope="module")
def page_en() -> str:
    return render_dashboard(a_class(), facts=FACTS, lang="en")


@pytest.fixture(scope="module")
def page_ko() -> str:
    return render_dashboard(a_class(), facts=FACTS, lang="ko")


# -- what the page says --------------------------------------------------------------------------


def test_the_overview_counts_the_class_and_scores_the_graded_only(page_en: str) -> None:
    words = Page(section(page_en, "overview")).words
    # graded: kim 100, lee 85, park 15.69444, choi 68, hong 50 -> passed 3, mean 63.738888, median 68
    for figure, key in (("7", "dash_count_submissions"), ("5", "dash_count_graded"), ("2", "dash_count_not_graded"),
                        ("3", t("dash_count_passed", "en", mark="60.0")), ("63.7", "dash_mean"),
                        ("68.0", "dash_median")):
        assert f"{figure} {t(key, 'en')}" in words, (figure, key, words)
    assert "crashed 1" in words and "invalid notebook 1" in words and "graded 3" in words


def test_the_histogram_counts_graded_scores_in_tenths(page_en: str) -> None:
    part = section(page_en, "histogram")
    bars = re.findall(r'<span class="range">([^<]*)</span>.*?<span class="n">(\d+)</span>', part, re.S)
    assert [label for label, _ in bars] == [f"{10 * i}–{10 * (i + 1)}" for i in range(10)]
    counts = {label: int(n) for label, n in bars}
    assert counts == {"0–10": 0, "10–20": 1, "20–30": 0, "30–40": 0, "40–50": 0, "50–60": 1, "60–70": 1,
                      "70–80": 0, "80–90": 1, "90–100": 1}  # 100 is in the last bar, 50 in 50-60
    assert t("dash_hist_left_out", "en", count=2) in Page(part).words
    widths = re.findall(r'style="width:([\d.]+)%"', part)
    assert sorted(set(widths)) == ["0.0", "100.0"]  # one submission per non-empty bar: all as wide


def test_mixed_maxima_make_a_histogram_of_percentages() -> None:
    results = [Result.from_dict(result("a", (6.0, 12.0, 32.0), maxima=(12.0, 24.0, 64.0))),
               Result.from_dict(result("b", (6.0, 6.0, 0.0), maxima=(12.0, 12.0, 0.0)))]
    page = render_dashboard(results, facts=FACTS, lang="en")
    part = section(page, "histogram")
    assert t("dash_hist_percent", "en") in Page(part).words
    assert re.findall(r'<span class="n">(\d+)</span>', part)[5] == "2"  # both at 50 %
    assert "50–60%" in part


def test_pass_rates_per_part_and_per_test_over_the_graded(page_en: str) -> None:
    parts = rows_of(section(page_en, "parts"))
    assert len(parts) == 3
    gates = Page(parts[0]).words
    assert "1. Logic gates" in gates  # the catalogue's English name of the part
    assert "10.2 / 12.0" in gates and "3 / 5" in gates  # mean of 12, 9, 6, 12, 12; full marks 3 of 5
    tests = rows_of(section(page_en, "tests"))
    assert len(tests) == 6
    hidden = [r for r in tests if 'class="test-row hidden"' in r]
    assert len(hidden) == 3 and all(t("hidden_badge", "en") in r for r in hidden)
    assert all(t("dash_public", "en") in r for r in tests if r not in hidden)
    backprop_hidden = Page(next(r for r in tests if "test_backprop_hidden" in r)).words
    assert "40.0% (2/5)" in backprop_hidden  # kim and choi: the hidden half; lee, park, hong lost points


def test_the_rates_agree_with_the_gradebooks_test_stats(tmp_path: Path) -> None:
    graded = [r for r in a_class() if r.status not in dashboard.NOT_GRADED]
    with Gradebook(tmp_path / "gradebook.sqlite") as book:
        for r in graded:
            book.record(r)
        stats = {s["name"]: (s["passed"], s["count"]) for s in book.test_stats()}
    _, rates = dashboard._rates(graded, dashboard._parts(graded, "en"))
    assert {r.name: (r.passed, r.count) for r in rates} == stats


def test_the_most_common_mistakes_come_first_with_who_made_them(page_en: str) -> None:
    rows = rows_of(section(page_en, "mistakes"))
    names = [first(r'id="mistake-([^"]+)"', r) for r in rows]
    assert names == ["db_not_summed", "loss_times_two", "xor_gives_xnor"]  # 3, 2, 2 (ties by name)
    top = Page(rows[0]).words
    assert "db not summed" in top and "db is a sum" in top and "4. Backpropagation" in top
    assert re.search(r'<td class="num">3</td>', rows[0])
    links = re.findall(r'<a href="([^"]+)">([^<]*)</a>', rows[0])
    assert [unquote(href) for href, _ in links] == ["submissions/lee/week3/report.html",
                                                   "submissions/park/week3/report.html",
                                                   f"submissions/hong/{HOSTILE_FILE[:-6]}/report.html"]
    # a crashed result names no mistake; jung and yoon are in none of the rows
    assert "jung" not in section(page_en, "mistakes") and "yoon" not in section(page_en, "mistakes")


def test_many_students_with_one_mistake_are_counted_past_the_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "MAX_NAMED_STUDENTS", 2)
    page = render_dashboard(a_class(), facts=FACTS, lang="en")
    top = rows_of(section(page, "mistakes"))[0]
    assert len(re.findall(r"<a href=", top)) == 2 and t("dash_more_students", "en", count=1) in top


def test_the_students_table_has_a_row_per_submission_with_parts_total_mistakes_and_report(page_en: str) -> None:
    table = section(page_en, "students-section")
    heads = re.findall(r"<th(\s[^>]*)?>(.*?)</th>", table.split("<tbody>")[0], re.S)
    assert [h for _, h in heads] == [t("dash_student", "en"), escape(t("dash_submission", "en")), t("status", "en"),
                                     "1. Logic gates (AND, NAND, OR, XOR)",
                                     "4. Backpropagation (sigmoid_prime, backpropagation)",
                                     "5. Training the neuron (1,000 steps)", t("dash_total", "en"),
                                     t("dash_mistakes_column", "en")]
    assert all('data-sort="' in a for a, _ in heads)
    rows = rows_of(table)
    assert len(rows) == 7
    park = next(r for r in rows if ">park<" in r)
    assert re.findall(r'<td class="num" data-value="([^"]+)">([^<]*)</td>', park) == [
        ("6.0", "6.0"), ("9.69444", "9.7"), ("0.0", "0.0")]
    assert 'data-value="15.6944"' in park and "<b>15.7</b> / 100.0" in park
    assert t("verdict_not_passed", "en") in park
    assert "gives XNOR, db not summed, &lt;i&gt;twice&lt;/i&gt; the loss" in park
    assert '<a href="submissions/park/week3/report.html">park/week3.ipynb</a>' in park
    assert t("partial", "en") in next(r for r in rows if ">lee<" in r)


def test_the_report_link_is_the_folder_the_worker_writes(page_en: str) -> None:
    for submission in ("kim/week3.ipynb", f"hong/{HOSTILE_FILE}", "a b/#1?.ipynb", "../x/./y.ipynb", "solo.ipynb"):
        folder = out_dir(Path("OUT"), submission).relative_to("OUT")
        link = report_link(submission)
        assert unquote(link) == (folder / "report.html").as_posix()
        assert not re.search(r"[<>\"'#? ]", link), link  # every part percent-encoded
    assert report_link(f"hong/{HOSTILE_FILE}") in page_en


def test_the_submissions_that_could_not_be_graded_say_why(page_en: str) -> None:
    part = section(page_en, "not-graded")
    rows = rows_of(part)
    assert [first(r"<td>([^<]*)</td>", r) for r in rows] == ["jung", "yoon"]
    assert str(escape(HOSTILE_REASON)) in rows[0] and t("crashed", "en") in rows[0]
    assert "not a notebook: the file is not JSON" in rows[1] and t("invalid", "en") in rows[1]
    clean = render_dashboard(a_class()[:2], facts=FACTS, lang="en")
    assert t("dash_all_graded", "en") in section(clean, "not-graded")


def test_the_runs_facts(page_en: str) -> None:
    words = Page(section(page_en, "facts")).words
    for label, value in (("dash_fact_date", "2026-11-30 19:05 UTC"), ("dash_fact_grader", "0.1.0"),
                         ("dash_fact_rubric", "week3_nn_basic 9"), ("dash_fact_sandbox", "bwrap"),
                         ("dash_fact_graded_now", "5"), ("dash_fact_skipped", "2")):
        assert f"{t(label, 'en')} {value}" in words, (label, words)
    later = RunFacts(date=datetime(2026, 12, 1, 9, 0), grader_version="0.2.0", assignment="week3_nn_basic",
                     rubric_version="10")  # rebuilt without grading; older results; sandbox from the results
    words = Page(section(render_dashboard(a_class(), facts=later, lang="en"), "facts")).words
    assert f"{t('dash_fact_graded_now', 'en')} {t('dash_fact_no_run', 'en')}" in words
    assert t("dash_fact_other_versions", "en", versions="9") in words
    assert f"{t('dash_fact_sandbox', 'en')} bwrap" in words and "2026-12-01 09:00 UTC" in words


def test_the_facts_of_a_batch_run_come_from_its_summary() -> None:
    summary = Summary(total=9, skipped=2, by_status={"graded": 5, "crashed": 1, "invalid": 1}, interrupted=True)
    facts = RunFacts.of_run(summary, grader_version="0.1.0", assignment="a", rubric_version="3")
    assert (facts.graded_now, facts.skipped, facts.interrupted) == (7, 2, True)
    assert facts.date.tzinfo is not None and abs((datetime.now(timezone.utc) - facts.date).total_seconds()) < 60
    page = render_dashboard(a_class(), facts=facts, lang="en")
    assert t("summary_interrupted", "en") in page


def test_an_empty_class_still_makes_a_page() -> None:
    page = render_dashboard([], facts=FACTS, lang="en")
    assert t("dash_empty", "en") in page and t("dash_no_mistakes", "en") in page
    assert rows_of(section(page, "students-section")) == []


# -- similar pairs and overrides ---------------------------------------------------------------


def test_similar_pairs_and_overrides_are_shown_when_given() -> None:
    pairs = [SimilarPair("kim", "lee", 0.8125, "similar/kim--lee.html"),
             {"student_a": "park", "student_b": HOSTILE_STUDENT, "score": 0.95, "link": "javascript:alert(1)"},
             Pair("choi", "yoon", 0.5, 120)]  # as grader.similarity finds them: no page of its own
    overrides = [Override("week3_nn_basic", "park", "gates", 10.0, "regraded <b>by hand</b>", "ta-kim",
                          "2026-11-29T08:30:00+00:00"),
                 {"student": "choi", "part": "no_such_part", "points": 1.25, "comment": "late", "who": "ta-lee",
                  "when": "late November"}]
    page = render_dashboard(a_class(), facts=FACTS, lang="en", similar=pairs, overrides=overrides)
    similar = rows_of(section(page, "similar"))
    assert len(similar) == 3
    assert "95.0%" in similar[0] and "<a " not in similar[0]  # highest first; a javascript: link is dropped
    assert "81.2%" in similar[1] and '<a href="similar/kim--lee.html">' in similar[1]
    assert Page(similar[2]).words.split() == ["choi", "yoon", "50.0%"]
    assert t("dash_similar_note", "en") in page
    changed = rows_of(section(page, "overrides"))
    assert Page(changed[0]).words.split() == ["park", "1.", "Logic", "gates", "(AND,", "NAND,", "OR,", "XOR)", "10.0",
                                              "regraded", "<b>by", "hand</b>", "ta-kim", "2026-11-29", "08:30", "UTC"]
    assert "no_such_part" in changed[1] and "1.2" in changed[1] and "late November" in changed[1]
    students = rows_of(section(page, "students-section"))
    flagged = {name: (t("dash_flag_override", "en") in r, t("dash_flag_similar", "en") in r)
               for r in students for name in ("kim", "park", "choi", "jung") if f"<td class=\"name\">{name}</td>" in r}
    # choi's override is of a part the result does not have (the rubric changed): listed, not in force
    assert flagged == {"kim": (False, True), "park": (True, True), "choi": (False, True), "jung": (False, False)}


def test_every_grade_shown_has_the_overrides_in_force() -> None:
    overrides = [Override("week3_nn_basic", "park", "gates", 12.0, "XOR was right", "ta", "2026-11-29T08:30:00"),
                 {"student": "lee", "part": "backprop", "points": 24.0},  # the run's assignment
                 Override("week3_other", "kim", "gates", 0.0, "another assignment's", "ta", "")]
    page = render_dashboard(a_class(), facts=FACTS, lang="en", overrides=overrides)
    rows = {first(r'<td class="name">([^<]*)</td>', r): r for r in rows_of(section(page, "students-section"))}
    assert '<td class="num changed" data-value="12.0">12.0</td>' in rows["park"]
    assert "<b>21.7</b>" in rows["park"] and t("verdict_not_passed", "en") in rows["park"]  # 15.7 - 6 + 12
    assert "<b>97.0</b>" in rows["lee"] and rows["lee"].count('class="num changed"') == 1
    assert "<b>100.0</b>" in rows["kim"] and "changed" not in rows["kim"]  # another assignment's: not here
    shown = {r.submission: exports.effective(r, [dashboard._override(o, "week3_nn_basic") for o in overrides])
             for r in a_class()}
    assert shown["park/week3.ipynb"].score == pytest.approx(21.6944)
    gates = Page(rows_of(section(page, "parts"))[0]).words
    assert "11.4 / 12.0" in gates and "4 / 5" in gates  # (12 + 9 + 12 + 12 + 12) / 5; park now full
    words = Page(section(page, "overview")).words
    assert "67.3 " + t("dash_mean", "en") in words  # (100 + 97 + 21.6944 + 68 + 50) / 5
    assert "2026-11-29 08:30 UTC" in section(page, "overrides")


def test_without_pairs_or_overrides_there_are_no_such_sections(page_en: str) -> None:
    assert 'id="similar"' not in page_en and 'id="overrides"' not in page_en
    assert t("dash_flag_override", "en") not in page_en and t("dash_flag_similar", "en") not in page_en


@pytest.mark.parametrize("link, kept", [
    ("similar/a--b.html", True), ("similar/%3Cb%3E.html", True), ("javascript:alert(1)", False),
    (" JavaScript:alert(1)", False), ("data:text/html,x", False), ("https://example.com/x", False),
    ("//example.com/x", False), ("/etc/passwd", False), ("a\nb.html", False)])
def test_a_pairs_link_is_kept_only_when_relative(link: str, kept: bool) -> None:
    assert (dashboard._relative_link(link) != "") is kept
    if kept:
        assert unquote(dashboard._relative_link(link)) == unquote(link)


# -- safety ---------------------------------------------------------------------------------------


def swap(data: Any, words: dict[str, str]) -> Any:
    """``data`` (a result's dict, a list, text) with each of ``words`` replaced."""
    if isinstance(data, str):
        for old, new in words.items():
            data = data.replace(old, new)
        return data
    if isinstance(data, dict):
        return {k: swap(v, words) for k, v in data.items()}
    if isinstance(data, list):
        return [swap(v, words) for v in data]
    return data


HOSTILE_OVERRIDE = ("<img src=x onerror=alert(1)>", "<b>ta</b>", "<i>now</i>")
HOSTILE_PAIR = ("<script>x()</script>", "a\"onclick=\"alert(1).html")
BENIGN = {HOSTILE_STUDENT: "hong", HOSTILE_FILE: "w.ipynb", HOSTILE_REASON: "died", MISTAKES["loss_times_two"][1]: "x",
          MISTAKES["loss_times_two"][2]: "x", **{w: "plain" for w in HOSTILE_OVERRIDE + HOSTILE_PAIR}}


def hostile_page(lang: str, words: dict[str, str]) -> str:
    results = [Result.from_dict(swap(r.to_dict(), words)) for r in a_class()]
    overrides = [swap({"assignment": "week3_nn_basic", "student": HOSTILE_STUDENT, "part": "gates", "points": 1.0,
                       "comment": HOSTILE_OVERRIDE[0],
                       "who": HOSTILE_OVERRIDE[1], "when": HOSTILE_OVERRIDE[2]}, words)]
    pairs = [swap({"student_a": HOSTILE_STUDENT, "student_b": HOSTILE_PAIR[0], "score": 0.5, "link": HOSTILE_PAIR[1]},
                  words)]
    return render_dashboard(results, facts=FACTS, lang=lang, similar=pairs, overrides=overrides)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_nothing_a_student_wrote_becomes_markup(lang: str) -> None:
    page = hostile_page(lang, {})
    parsed, benign = Page(page), Page(hostile_page(lang, BENIGN))
    # the same elements as with plain words in those places: the hostile text made none
    assert [tag for tag, _ in parsed.tags] == [tag for tag, _ in benign.tags]
    assert [tag for tag, _ in parsed.tags if tag in ("script", "img", "i", "iframe", "object")] == ["script"]
    handlers = [(tag, name) for tag, attrs in parsed.tags for name in attrs if name.lower().startswith("on")]
    assert handlers == []
    for text in (HOSTILE_STUDENT, HOSTILE_REASON, HOSTILE_FILE, *HOSTILE_OVERRIDE, HOSTILE_PAIR[0]):
        assert text in parsed.words, f"{text!r} is not shown as text"
    assert str(escape(HOSTILE_STUDENT)) in page and HOSTILE_STUDENT not in page
    hrefs = [attrs["href"] or "" for tag, attrs in parsed.tags if tag == "a"]
    assert all(h.startswith("submissions/") or h == "a%22onclick%3D%22alert%281%29.html" for h in hrefs), hrefs
    assert not any(c in h for h in hrefs for c in "<>\"' "), hrefs


def test_the_one_script_is_allowed_by_its_hash_and_nothing_else_is() -> None:
    page = render_dashboard(a_class(), facts=FACTS, lang="en")
    parsed = Page(page)
    assert parsed.scripts == [dashboard.SCRIPT]
    digest = base64.b64encode(hashlib.sha256(dashboard.SCRIPT.encode()).digest()).decode()
    csp = next(attrs["content"] for tag, attrs in parsed.tags
               if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == f"'sha256-{digest}'"
    assert directives["default-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["img-src"] == "data:"  # nothing from the network, no other origin anywhere
    assert "unsafe-inline" not in directives["script-src"]
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)
    assert "innerHTML" not in dashboard.SCRIPT and "eval(" not in dashboard.SCRIPT


def test_scores_are_shown_to_one_decimal(page_en: str) -> None:
    words = Page(page_en).words
    assert "15.7" in words and "9.7" in words
    assert not re.search(r"\b\d+\.\d{2,}\b", re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "", words)), (
        re.findall(r"\b\d+\.\d{2,}\b", words))


# -- words ----------------------------------------------------------------------------------------

USED = sorted(k for k in MESSAGES if k.startswith("dash_") and k not in (
    "dash_empty", "dash_all_graded", "dash_no_mistakes", "dash_hist_percent", "dash_fact_no_run",
    "dash_fact_other_versions", "dash_more_students", "dash_similar", "dash_similar_note", "dash_similarity",
    "dash_side_by_side", "dash_overrides", "dash_comment", "dash_by", "dash_when", "dash_flag_override",
    "dash_flag_similar", "dash_shown", "dash_made", "dash_count_passed", "dash_hist_left_out", "dash_rates_over"))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_word_comes_from_the_catalogue_in_the_readers_language(lang: str, page_ko: str, page_en: str) -> None:
    page = page_ko if lang == "ko" else page_en
    other = "en" if lang == "ko" else "ko"
    words = Page(page).words
    for key in USED:
        assert t(key, lang) in words, f"{key}: {t(key, lang)!r} missing from the {lang} page"
    for key, values in (("dash_made", {"when": "2026-11-30 19:05 UTC"}), ("dash_count_passed", {"mark": "60.0"}),
                        ("dash_hist_left_out", {"count": 2}), ("dash_rates_over", {"count": 5})):
        assert t(key, lang, **values) in words, key
    shown = first(r'data-template="([^"]*)"', page)
    assert shown == t("dash_shown", lang, shown="{shown}", total="{total}")
    assert f'<html lang="{lang}">' in page
    for key in ("dash_title", "dash_students", "dash_facts", "dash_mistakes", "dash_histogram"):
        assert t(key, other) not in words, f"{key} in the other language ({other}) on the {lang} page"
    if lang == "ko":
        assert "1. 논리 게이트" in words and "XNOR이 됨" in words and t("partial", "ko") in words


# -- writing -------------------------------------------------------------------------------------


def test_write_dashboard_writes_index_html_whole(tmp_path: Path) -> None:
    out = tmp_path / "OUT"
    path = write_dashboard(out, iter(a_class()), facts=FACTS, lang="en")
    assert path == out / "index.html"
    assert path.read_text(encoding="utf-8") == render_dashboard(a_class(), facts=FACTS, lang="en")
    write_dashboard(out, a_class()[:1], facts=FACTS, lang="en")  # replaced, no temporary file left
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    assert len(rows_of(section(path.read_text(encoding="utf-8"), "students-section"))) == 1
