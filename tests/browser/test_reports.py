"""The reports as their readers see them: opened in a real headless Chromium.

A batch of four submissions (correct, half-right, broken, and one whose printed text, exception
messages, folder and file name are HTML built to run script) is graded once by ``grader grade``;
each one's ``report.html`` (the TA's copy) and ``feedback.html`` (the student's copy) is opened
from disk as a reader would open it. Every assertion message says what that reader would see.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import report_browser as rb  # the one page opener, shared by the browser tests

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

KINDS = ("report.html", "feedback.html")
READER = {"report.html": "the TA", "feedback.html": "the student"}
LABELS = ("correct", "half_right", "broken", "hostile")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1000, "height": 900}
PWNED = "pwned"


def report_file(graded: dict[str, Path], label: str, kind: str) -> Path:
    path = graded[label] / kind
    if not path.is_file():
        pytest.fail(f"`grader grade` wrote no {kind} for the {label} submission: {READER[kind]} would have no "
                    f"page to open ({path}; the folder holds {sorted(p.name for p in path.parent.iterdir())})")
    return path


def opened(browser: Any, path: Path, label: str, kind: str,
           viewport: dict[str, int] | None = None) -> contextlib.AbstractContextManager[rb.Opened]:
    """The page loaded from disk (file://) in a fresh context, console errors and requests recorded."""
    return rb.open_page(browser, path, viewport=viewport or DESKTOP,
                        who=f"{READER[kind]} opening the {label} submission's {kind}")


def foreign(requests: list[str]) -> list[str]:
    return [u for u in requests if not (u.startswith("file:") or u.startswith("data:"))]


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("kind", KINDS)
def test_page_opens_without_errors_or_network(browser: Any, graded: dict[str, Path], kind: str, label: str) -> None:
    path = report_file(graded, label, kind)
    with opened(browser, path, label, kind) as o:
        o.page.wait_for_timeout(100)  # anything a late resource would log
        text = o.page.evaluate("() => document.body ? document.body.innerText.trim() : ''")
        assert text, f"{o.who} sees a blank page"
        assert o.errors == [], f"{o.who} gets errors in the browser console: {o.errors[:5]}"
        assert foreign(o.requests) == [], (
            f"{o.who} makes the browser fetch from the network (offline it shows broken pieces; a student's "
            f"text could call home): {foreign(o.requests)[:5]}")


# Hangul renders with a real font: two different syllables draw different pixels, and neither draws
# what an unassigned code point does (the missing-glyph box, "tofu"). Measured in a canvas with the
# font of the first element that shows Korean text.
HANGUL_PROBE = """() => {
  const hangul = /[\\uac00-\\ud7a3]/;
  const own = e => [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
  const el = [...document.querySelectorAll('body *')].find(e => hangul.test(own(e)));
  if (!el) return {found: false};
  const s = getComputedStyle(el);
  const c = document.createElement('canvas'); c.width = 48; c.height = 48;
  const g = c.getContext('2d', {willReadFrequently: true});
  g.font = `${s.fontStyle} ${s.fontWeight} 32px ${s.fontFamily}`;
  const draw = ch => { g.clearRect(0, 0, 48, 48); g.fillStyle = '#000'; g.textBaseline = 'top';
                       g.fillText(ch, 4, 4); return Array.from(g.getImageData(0, 0, 48, 48).data).join(','); };
  const ink = ch => draw(ch).split(',').filter((v, i) => i % 4 === 3 && v !== '0').length;
  const ga = draw('\\uac00'), na = draw('\\ub098'), tofu = draw('\\u0378');
  return {found: true, family: s.fontFamily, sample: own(el).trim().slice(0, 40), ink: ink('\\uac00'),
          distinct: ga !== na, notTofu: ga !== tofu && na !== tofu,
          width: g.measureText('\\uac00\\ub098\\ub2e4').width, tofuWidth: g.measureText('\\u0378\\u0378\\u0378').width};
}"""


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("kind", KINDS)
def test_korean_text_renders_in_a_real_font(browser: Any, graded: dict[str, Path], kind: str, label: str) -> None:
    path = report_file(graded, label, kind)
    with opened(browser, path, label, kind) as o:
        got = o.page.evaluate(HANGUL_PROBE)
    assert got["found"], f"{o.who} sees no Korean at all, though the rubric's language is Korean"
    shown = f"(text {got['sample']!r}, font-family {got['family']})"
    assert got["ink"] > 0, f"{o.who} sees Korean drawn as nothing {shown}"
    assert got["distinct"] and got["notTofu"], (
        f"{o.who} sees Korean as empty boxes (tofu): no font with Hangul is used {shown}; "
        f"install fonts-noto-cjk or name a CJK font in the page's font-family")


IMAGES = """() => [...document.images].map(i => ({src: i.getAttribute('src') || '', complete: i.complete,
  width: i.naturalWidth, shown: i.getBoundingClientRect().width, alt: i.alt}))"""


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_image_is_an_embedded_png_that_draws(browser: Any, graded: dict[str, Path], kind: str,
                                                   label: str) -> None:
    path = report_file(graded, label, kind)
    with opened(browser, path, label, kind) as o:
        images = o.page.evaluate(IMAGES)
    if label == "correct":
        assert images, f"{o.who} sees no plot at all (no <img> in the page)"
    for n, img in enumerate(images, 1):
        what = f"image {n} of {len(images)} ({img['src'][:40]!r}, alt {img['alt']!r})"
        assert img["src"].startswith("data:image/png"), (
            f"{o.who} depends on a file or server for {what}: it is not an embedded PNG, so a copied or "
            f"mailed report shows a broken image")
        assert img["complete"] and img["width"] > 0, f"{o.who} sees a broken-image icon for {what}"


OBEYED_HTML = """() => {
  const on = [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
      .filter(a => a.name.toLowerCase().startsWith('on')).map(a => `<${e.tagName.toLowerCase()} ${a.name}>`));
  const js = [...document.querySelectorAll('a[href], area[href], form[action], [src], [formaction]')]
      .map(e => ['href', 'src', 'action', 'formaction'].map(n => e.getAttribute(n)).find(v => v) || '')
      .filter(u => /^\\s*(javascript|vbscript):/i.test(u.replace(/[\\u0000-\\u0020]/g, '')));
  return {title: document.title, scripts: document.scripts.length,
          frames: document.querySelectorAll('iframe, frame, object, embed').length,
          on, js, meta: [...document.querySelectorAll('meta[http-equiv]')]
                .filter(m => !['content-security-policy', 'content-type'].includes(m.httpEquiv.toLowerCase())).length,
          links: [...document.querySelectorAll('link')].map(l => l.getAttribute('href') || '')
                 .filter(u => !u.startsWith('data:')),
          text: document.body.innerText};
}"""


def assert_inert(o: rb.Opened, when: str) -> dict[str, Any]:
    got: dict[str, Any] = o.page.evaluate(OBEYED_HTML)
    assert got["title"] != PWNED and o.page.title() != PWNED, (
        f"{o.who} {when}: the student's HTML ran as script (document.title became {got['title']!r})")
    assert got["scripts"] == 0, f"{o.who} {when}: the page holds {got['scripts']} <script> element(s), a report none"
    assert got["frames"] == 0, f"{o.who} {when}: the student's text became {got['frames']} embedded frame(s)/object(s)"
    assert got["on"] == [], f"{o.who} {when}: the student's text became live event handlers: {got['on'][:5]}"
    assert got["js"] == [], f"{o.who} {when}: the student's text became javascript: links: {got['js'][:5]}"
    assert got["meta"] == 0, f"{o.who} {when}: the student's text became a <meta http-equiv> (a refresh or redirect)"
    assert got["links"] == [], f"{o.who} {when}: the page links outside resources: {got['links'][:5]}"
    return got


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_student_html_is_shown_as_text_never_run(browser: Any, graded: dict[str, Path], kind: str) -> None:
    path = report_file(graded, "hostile", kind)
    with opened(browser, path, "hostile", kind) as o:
        got = assert_inert(o, "after the page loads")
        # what the student wrote is shown, as text: the check above looked at a page that holds it
        assert "<img src=x onerror=" in got["text"] or "</textarea></pre><script>" in got["text"], (
            f"{o.who} is not shown the student's error messages as written (they hold HTML; the page "
            f"should show it as text): none of it is in the page's text")
        o.page.wait_for_timeout(100)
        assert o.errors == [], f"{o.who} gets errors in the browser console: {o.errors[:5]}"
        hrefs = o.page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href') || '')")
    in_page = [i for i, h in enumerate(hrefs) if h.startswith("#") or h == ""]
    elsewhere = [i for i, h in enumerate(hrefs) if i not in in_page]
    with opened(browser, path, "hostile", kind) as o:
        for i in in_page:  # anchors within the page: click them all, one after the other
            o.page.evaluate("i => document.querySelectorAll('a')[i].click()", i)
        # and open whatever folds (<details>): what is inside must be as inert when shown
        folds = o.page.evaluate("() => { const s = [...document.querySelectorAll('summary')]; "
                                "s.forEach(e => e.click()); return s.length; }")
        o.page.wait_for_timeout(100)
        assert_inert(o, f"after clicking each of its {len(in_page)} in-page link(s) and {folds} fold(s)")
        assert foreign(o.requests) == [], f"{o.who} reaches the network: {foreign(o.requests)[:5]}"
    for i in elsewhere:  # links that leave the page: one fresh load each
        with opened(browser, path, "hostile", kind) as o:
            o.page.evaluate("i => document.querySelectorAll('a')[i].click()", i)
            o.page.wait_for_timeout(200)
            titles = [p.title() for p in o.page.context.pages]
            assert PWNED not in titles, (
                f"{o.who}, after clicking link {hrefs[i]!r}: the student's HTML ran as script (titles {titles})")
            assert foreign(o.requests) == [], (
                f"{o.who}, after clicking link {hrefs[i]!r}, reaches the network: {foreign(o.requests)[:5]}")


WIDER_THAN_SCREEN = """() => {
  const w = window.innerWidth;
  return {scroll: document.documentElement.scrollWidth, inner: w,
          culprits: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1)
            .map(e => `<${e.tagName.toLowerCase()}${e.className ? ' class=' + e.className : ''}> `
                      + `${Math.round(e.getBoundingClientRect().right)}px`).slice(0, 8)};
}"""


@pytest.mark.parametrize("label", LABELS)
@pytest.mark.parametrize("kind", KINDS)
def test_a_phone_needs_no_sideways_scrolling(browser: Any, graded: dict[str, Path], kind: str, label: str) -> None:
    path = report_file(graded, label, kind)
    with opened(browser, path, label, kind, viewport=PHONE) as o:
        got = o.page.evaluate(WIDER_THAN_SCREEN)
    assert got["scroll"] <= got["inner"] + 1, (
        f"{o.who} on a {PHONE['width']}x{PHONE['height']} phone must scroll sideways: the page is "
        f"{got['scroll']} px wide for a {got['inner']} px screen (too wide: {got['culprits']})")


@pytest.mark.parametrize("label", ["correct", "broken"])  # the shortest page and the longest; 2 s a PDF
@pytest.mark.parametrize("kind", KINDS)
def test_the_page_prints(browser: Any, graded: dict[str, Path], kind: str, label: str) -> None:
    path = report_file(graded, label, kind)
    with opened(browser, path, label, kind) as o:
        pdf = o.page.pdf(format="A4", print_background=True)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pdf.startswith(b"%PDF") and pages >= 1, (
        f"{o.who} cannot print the page to A4 (Chromium made {len(pdf)} bytes, {pages} page(s))")


def test_the_hostile_fixture_is_what_its_script_writes() -> None:
    script = rb.ROOT / "tests" / "fixtures" / "make_report_hostile.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{rb.HOSTILE.fixture} is stale; rerun {script.name}: {done.stderr}"
    text = rb.HOSTILE.fixture.read_text(encoding="utf-8")
    assert "<script>document.title='pwned'</script>" in text and "<b>" in rb.HOSTILE.student
