"""Headless Chromium for the report checks, and the small batch they look at.

One copy, imported by tests/browser/conftest.py and by docs/screenshots.py (which puts this folder
on sys.path). No pytest here: the screenshot script runs without it.

The browser is the system's Chromium (Debian's ``chromium`` package), driven by the Playwright
package from PyPI with ``executable_path``; ``playwright install`` (which downloads a browser) is
never needed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "tests" / "fixtures" / "notebooks"
ASSIGNMENT = "week3_nn_basic"

ENV_CHROMIUM = "GRADER_CHROMIUM"
ENV_REQUIRE = "GRADER_REQUIRE_BROWSER"
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
HOW_TO_GET_IT = ("no Chromium: install it with `apt-get install chromium fonts-noto-cjk` (Debian/Ubuntu) and "
                 "`pip install playwright`, or set GRADER_CHROMIUM=/path/to/chromium")
# --no-sandbox: CI runs as root, where Chromium's own sandbox refuses to start; --disable-dev-shm-usage:
# a container's small /dev/shm would crash it on a long page; the rest keep it from calling Google's
# hosts (a closed network would only make it wait) and from doing anything a page check does not need
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
               "--disable-extensions"]


def find_chromium() -> str | None:
    """The Chromium to drive: $GRADER_CHROMIUM, else the Debian/Ubuntu paths, else chromium on PATH."""
    env = os.environ.get(ENV_CHROMIUM)
    if env:
        return env if os.access(env, os.X_OK) else None
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def unavailable() -> str | None:
    """Why no browser check can run here (HOW_TO_GET_IT plus what is missing), or None when one can."""
    try:
        import playwright.sync_api  # noqa: F401 - only whether it imports
    except ImportError:
        return f"{HOW_TO_GET_IT} (the playwright package is not installed)"
    if find_chromium() is None:
        where = os.environ.get(ENV_CHROMIUM) or ", ".join(CANDIDATES) + " or chromium on PATH"
        return f"{HOW_TO_GET_IT} (not found at {where})"
    return None


def browser_required() -> bool:
    """CI sets GRADER_REQUIRE_BROWSER=1: a missing browser is then a failure, not a skip."""
    return os.environ.get(ENV_REQUIRE, "") not in ("", "0")


def launch(playwright: Any) -> Any:
    """A headless Chromium (playwright's Browser) from ``sync_playwright().start()``."""
    return playwright.chromium.launch(executable_path=find_chromium(), headless=True, args=LAUNCH_ARGS)


@dataclass(frozen=True)
class Case:
    """One submission of the batch: where its notebook comes from and whose folder it goes in."""

    label: str
    fixture: Path
    student: str
    filename: str = "week3.ipynb"


# correct; half-right (a named mistake: sigmoid_prime returns sigmoid(net), TA score 76); broken (the
# handout handed back untouched: a syntax error in every cell the student fills); and HTML in every
# place a report shows the student's words, including the folder and file name
CORRECT = Case("correct", NOTEBOOKS / "week3" / "passes_all.ipynb", "kim")
HALF_RIGHT = Case("half_right", NOTEBOOKS / "week3" / "sigmoid_prime_forgot_derivative.ipynb", "lee")
BROKEN = Case("broken", NOTEBOOKS / "week3" / "untouched_blank_corrected.ipynb", "park")
HOSTILE = Case("hostile", NOTEBOOKS / "report_hostile" / "html_everywhere.ipynb",
               "<b>hong<img src=x onerror=\"document.title='pwned'\">",
               "3주차<b>과제<i onmouseover=\"document.title='pwned'\">.ipynb")
SHOWN = (CORRECT, HALF_RIGHT, BROKEN)


def grade_batch(cases: tuple[Case, ...], work: Path, extra: tuple[str, ...] = (), jobs: int = 2) -> dict[str, Path]:
    """Grade ``cases`` with the real command line into ``work/out``; each label's submission folder.

    Runs ``grader grade work/subs --assignment week3_nn_basic --out work/out -j jobs [extra]`` and
    raises RuntimeError (with the command's output) when it fails or a submission has no result.
    """
    subs = work / "subs"
    for case in cases:
        (subs / case.student).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case.fixture, subs / case.student / case.filename)
    out = work / "out"
    cmd = [sys.executable, "-m", "grader", "grade", str(subs), "--assignment", ASSIGNMENT, "--out", str(out),
           "-j", str(jobs), *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)  # noqa: S603 - our own CLI, fixed arguments
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(cmd)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    found = {}
    for case in cases:
        folder = out / "submissions" / case.student / Path(case.filename).stem
        if not (folder / "result.json").is_file():
            listing = sorted(str(p.relative_to(out)) for p in out.rglob("result.json"))
            raise RuntimeError(f"{case.label}: no result.json in {folder} (results: {listing})\n{done.stderr}")
        found[case.label] = folder
    return found


@dataclass
class Opened:
    """A page loaded in a browser context of its own, with what it said and asked for."""

    page: Any
    who: str = ""  # who is reading, for assertion messages
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def open_page(browser: Any, path: Path, *, viewport: dict[str, int], who: str = "",
              js: bool = True) -> Iterator[Opened]:
    """*path* loaded from disk (file://) in a fresh context, console errors, page errors and every
    request recorded; the context is closed afterwards."""
    context = browser.new_context(viewport=viewport, java_script_enabled=js)
    try:
        page = context.new_page()
        seen = Opened(page, who)
        page.on("console", lambda m: seen.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: seen.errors.append(f"page error: {e}"))
        context.on("request", lambda r: seen.requests.append(r.url))
        page.goto(path.as_uri(), wait_until="load")
        yield seen
    finally:
        context.close()
