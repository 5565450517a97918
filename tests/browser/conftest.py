"""Fixtures of the real-browser checks: one headless Chromium and one graded batch per session.

Without Chromium or the playwright package these tests skip, saying how to get them; with
GRADER_REQUIRE_BROWSER=1 (set by .ci/run) they fail instead, so CI cannot pass without looking.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report_browser as rb  # noqa: E402 - the one copy of the finder, shared with docs/screenshots.py

BATCH = (*rb.SHOWN, rb.HOSTILE)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    why = rb.unavailable()
    if why is not None:
        if rb.browser_required():
            pytest.fail(f"{why}; GRADER_REQUIRE_BROWSER=1 says the report must be checked in a real browser here")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = rb.launch(p)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def graded(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The batch (correct, half-right, broken, hostile) graded once by `grader grade`; label -> folder.

    Asks for the browser first, so a machine without one skips before spending a minute grading.
    """
    try:
        return rb.grade_batch(BATCH, tmp_path_factory.mktemp("browser_batch"))
    except RuntimeError as err:
        pytest.fail(f"grading the browser-check batch failed: {err}")
