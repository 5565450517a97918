"""Helpers the unit tests share (tests/unit is on sys.path when pytest collects them)."""

from __future__ import annotations

from typing import Any

from grader import testing
from grader.matching import settle


def judged(*args: Any, **kwargs: Any) -> Any:
    """``expect``, then the end of the test, as the runner does: a wrong answer is judged there
    (named, credited or failed). The next call is judged as a test of its own."""
    try:
        out = testing.expect(*args, **kwargs)
        settle()
    finally:
        testing._ctx.get().cases.clear()
    return out
