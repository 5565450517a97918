"""The class dashboard (``OUT/index.html``) as a TA sees it: opened from disk in headless Chromium.

The class is the unit tests' (tests/unit/test_dashboard.py ``a_class``: seven submissions, one
with a hostile name and file, one crashed with a hostile reason, one invalid), written by
``write_dashboard``; no kernel is needed. Checked: it opens without console errors or network;
its one script runs (the CSP's hash matches) and no other script can; sorting by a heading
reorders the rows; the filter hides what does not match; with JavaScript off everything is
there; on a 390 px phone the page itself never scrolls sideways, only the tables' scroll boxes.

(Named apart from tests/unit/test_dashboard.py: two test modules of one name in folders
without ``__init__.py`` cannot be collected in one pytest run.)
"""

from __future__ import annotations

import contextlib
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import report_browser as rb  # the one page opener, shared by the browser tests

from grader.gradebook import Override
from grader.report.dashboard import RunFacts, SimilarPair, write_dashboard
from grader.report.i18n import t

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_dashboard import HOSTILE_STUDENT, a_class  # noqa: E402 - the unit tests' class, one copy

pytestmark = [pytest.mark.browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1200, "height": 900}
FACTS = RunFacts(date=datetime(2026, 11, 30, 19, 5, tzinfo=timezone.utc), grader_version="0.1.0",
                 assignment="week3_nn_basic", rubric_version="9", sandbox="bwrap", graded_now=5, skipped=2)
PAIRS = [SimilarPair("kim", "lee", 0.91, "similar/kim--lee.html"), SimilarPair("park", HOSTILE_STUDENT, 0.84)]
OVERRIDES = [Override("week3_nn_basic", "choi", "training", 48.0, "the plot was right, the test too strict", "ta-kim",
                      "2026-11-30T18:00:00+00:00")]
STUDENTS = "() => [...document.querySelectorAll('#students tbody tr')].map(r => r.cells[0].textContent.trim())"
VISIBLE = ("() => [...document.querySelectorAll('#students tbody tr')].filter(r => r.offsetParent !== null)"
           ".map(r => r.cells[0].textContent.trim())")


@pytest.fixture(scope="module", params=["ko", "en"])
def dashboard(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(f"dashboard_{request.param}")
    return request.param, write_dashboard(out, a_class(), facts=FACTS, lang=request.param, similar=PAIRS,
                                          overrides=OVERRIDES)


def opened(browser: Any, path: Path, *, viewport: dict[str, int] | None = None,
           js: bool = True) -> contextlib.AbstractContextManager[rb.Opened]:
    return rb.open_page(browser, path, viewport=viewport or DESKTOP, js=js)


def totals(o: rb.Opened) -> list[float]:
    return [float(v) for v in o.page.evaluate(
        "() => [...document.querySelectorAll('#students tbody tr td.total')].map(c => c.dataset.value)")]


def test_it_opens_without_errors_or_network_and_its_script_runs(browser: Any, dashboard: tuple[str, Path]) -> None:
    lang, path = dashboard
    with opened(browser, path) as o:
        o.page.wait_for_timeout(100)
        assert o.errors == [], f"the TA gets errors in the console: {o.errors[:5]}"
        foreign = [u for u in o.requests if not u.startswith(("file:", "data:"))]
        assert foreign == [], f"the dashboard fetches from the network: {foreign[:5]}"
        # the script ran: the CSP's hash is the script's (else Chromium refuses it and says so)
        assert o.page.evaluate("() => document.getElementById('students').classList.contains('js')")
        assert o.page.is_visible("#filter"), "the filter box stays hidden: the page's script did not run"
        assert o.page.inner_text("#shown") == t("dash_shown", lang, shown=7, total=7)
        assert o.page.title().startswith(t("dash_title", lang)), "a student's text changed the page's title"
        assert HOSTILE_STUDENT in o.page.inner_text("#students"), "the hostile name is not shown as text"


def test_no_other_script_can_run(browser: Any, dashboard: tuple[str, Path], tmp_path: Path) -> None:
    _, path = dashboard
    tampered = tmp_path / "index.html"
    tampered.write_text(path.read_text(encoding="utf-8").replace(
        "</body>", "<script>document.title = 'pwned';</script></body>"), encoding="utf-8")
    with opened(browser, tampered) as o:
        o.page.wait_for_timeout(100)
        assert o.page.title() != "pwned", "a script the page did not ship ran: the CSP does not hold"
        assert any("Content Security Policy" in e for e in o.errors), o.errors
        assert o.page.is_visible("#filter"), "the page's own script stopped running too"


def test_sorting_by_a_heading_reorders_the_rows(browser: Any, dashboard: tuple[str, Path]) -> None:
    _, path = dashboard
    with opened(browser, path) as o:
        before = totals(o)
        o.page.click("#total-head")
        first = totals(o)
        assert first == sorted(before, reverse=True) and first != before, (
            f"clicking the total's heading did not sort the rows by it, highest first: {before} -> {first}")
        assert o.page.get_attribute("#total-head", "aria-sort") == "descending"
        o.page.click("#total-head")
        assert totals(o) == sorted(before), "a second click does not sort lowest first"
        o.page.focus("#students thead th:first-child")
        o.page.keyboard.press("Enter")  # by keyboard too
        names = o.page.evaluate(STUDENTS)
        in_order = o.page.evaluate("names => names.slice().sort((a, b) => a.localeCompare(b))", names)
        assert names == in_order and names != [r.student for r in a_class()], f"not sorted by student: {names}"
        assert o.page.get_attribute("#total-head", "aria-sort") is None


def test_the_filter_hides_rows_that_do_not_match(browser: Any, dashboard: tuple[str, Path]) -> None:
    lang, path = dashboard
    with opened(browser, path) as o:
        o.page.fill("#filter", "park")
        assert o.page.evaluate(VISIBLE) == ["park"]
        assert o.page.inner_text("#shown") == t("dash_shown", lang, shown=1, total=7)
        o.page.fill("#filter", "XNOR")  # a mistake's title, in either language
        assert o.page.evaluate(VISIBLE) == ["lee", "park"]
        o.page.fill("#filter", "no such student")
        assert o.page.evaluate(VISIBLE) == []
        o.page.fill("#filter", "")
        assert len(o.page.evaluate(VISIBLE)) == 7


def test_everything_reads_with_javascript_off(browser: Any, dashboard: tuple[str, Path]) -> None:
    lang, path = dashboard
    with opened(browser, path, js=False) as o:
        assert o.errors == []
        assert o.page.evaluate(VISIBLE) == o.page.evaluate(STUDENTS) and len(o.page.evaluate(VISIBLE)) == 7
        assert not o.page.is_visible("#filter"), "a filter box that cannot work is shown"
        text = o.page.inner_text("body")
        for key in ("dash_histogram", "dash_parts", "dash_tests", "dash_mistakes", "dash_students",
                    "dash_not_graded", "dash_similar", "dash_overrides", "dash_facts"):
            assert t(key, lang) in text, f"{t(key, lang)!r} is not shown without JavaScript"
        for name in ("kim", "jung", "yoon", "the plot was right", "91.0%"):
            assert name in text
        bars = o.page.evaluate("() => [...document.querySelectorAll('ol.hist .track span')]"
                               ".map(b => b.getBoundingClientRect().width)")
        # 100, 85, 15.7, 50 and choi's 84 (68 with the TA's 48 for training): 80-90 holds two
        assert len(bars) == 10 and bars.count(0) == 6 and bars[8] == max(bars) == 2 * bars[1] > 100, (
            f"the histogram's bars: {bars}")


def test_on_a_phone_only_the_tables_scroll_sideways(browser: Any, dashboard: tuple[str, Path]) -> None:
    _, path = dashboard
    with opened(browser, path, viewport=PHONE) as o:
        width = o.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"the page is {width[0]} px wide on a {width[1]} px phone: it scrolls sideways"
        boxes = o.page.evaluate("""() => [...document.querySelectorAll('.scroll')].map(b =>
            ({id: b.id, box: b.clientWidth, content: b.scrollWidth, right: b.getBoundingClientRect().right}))""")
        assert all(b["right"] <= PHONE["width"] for b in boxes), boxes
        students = next(b for b in boxes if b["id"] == "students-scroll")
        assert students["content"] > students["box"], "the students' table fits a phone? then this test tests nothing"
        wide = o.page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e =>
            e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.scroll'))
            .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5)""")
        assert wide == [], f"these stick out of the phone's screen outside a scroll box: {wide}"
