#!/usr/bin/env python
"""Screenshots of the feedback a student gets: a correct, a half-right and a broken submission.

    python docs/screenshots.py [--out docs/screenshots] [--lang ko|en]

Grades three of the test fixtures with the real command line (``grader grade``) into a temporary
folder, opens each one's ``feedback.html`` (the student's copy; ``report.html`` where there is
none) in headless Chromium at a desktop width (1000 px) and a phone width (390 px), and writes
full-page PNGs: ``{correct,half_right,broken}.png`` and ``..._phone.png``. Prints each picture's
path, each page's size and how long loading and rendering it took.

Needs Chromium and the playwright package, found as the browser tests find them
(tests/browser/report_browser.py): ``apt-get install chromium fonts-noto-cjk`` and
``pip install playwright`` (no ``playwright install``), or GRADER_CHROMIUM=/path/to/chromium.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import report_browser as rb  # noqa: E402 - the browser tests' finder and batch, one copy for both

WIDTHS = {"": (1000, 800), "_phone": (390, 844)}


def grade_supports_lang() -> bool:
    cmd = [sys.executable, "-m", "grader", "grade", "--help"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)  # noqa: S603 - our own CLI, fixed arguments
    return "--lang" in done.stdout


def rubric_in(lang: str, work: Path) -> Path:
    """A copy of the rubric whose language is ``lang`` (for a ``grader grade`` without --lang)."""
    tree = work / "rubric_tree"
    rubric = tree / "rubrics" / rb.ASSIGNMENT
    shutil.copytree(ROOT / "rubrics" / rb.ASSIGNMENT, rubric)
    for name in ("solutions", "tests"):  # what the rubric names relative to its folder
        (tree / name).symlink_to(ROOT / name, target_is_directory=True)
    toml = rubric / "rubric.toml"
    text, n = re.subn(r'(?m)^language = "[a-z]+"$', f'language = "{lang}"', toml.read_text(encoding="utf-8"))
    if n != 1:
        raise SystemExit(f"{toml}: no single `language = ...` line to set to {lang!r}")
    toml.write_text(text, encoding="utf-8")
    return rubric


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="where the PNGs go")
    ap.add_argument("--lang", choices=["ko", "en"], default="ko", help="language of the reports (default: ko)")
    args = ap.parse_args(argv)
    why = rb.unavailable()
    if why is not None:
        print(f"error: {why}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="grader-screenshots-") as tmp:
        work = Path(tmp)
        if grade_supports_lang():
            extra: tuple[str, ...] = ("--lang", args.lang)
        elif args.lang != "ko":
            extra = ("--rubric", str(rubric_in(args.lang, work)))
        else:
            extra = ()
        t0 = time.perf_counter()
        folders = rb.grade_batch(rb.SHOWN, work, extra=extra)
        print(f"graded {len(folders)} submissions in {time.perf_counter() - t0:.1f} s")
        with sync_playwright() as p:
            browser = rb.launch(p)
            try:
                for label, folder in folders.items():
                    page_file = folder / "feedback.html"
                    if not page_file.is_file():
                        page_file = folder / "report.html"
                    kb = page_file.stat().st_size / 1024
                    for suffix, (width, height) in WIDTHS.items():
                        context = browser.new_context(viewport={"width": width, "height": height})
                        page = context.new_page()
                        target = args.out / f"{label}{suffix}.png"
                        t1 = time.perf_counter()
                        page.goto(page_file.as_uri(), wait_until="load")
                        page.screenshot(path=str(target), full_page=True)
                        took = time.perf_counter() - t1
                        context.close()
                        print(f"{target}  ({page_file.name}, {kb:.0f} KB, {width} px wide, "
                              f"loaded and rendered in {took:.2f} s)")
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
