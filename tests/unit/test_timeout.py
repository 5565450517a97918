"""``@timeout(seconds)``: a test that runs longer stops at its next call into the notebook,
no call runs past what is left, and the test scores 0 as a timeout with a clear message."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from grader import rubric
from grader.namespaces import StudentNamespace
from grader.runner import run_tests
from grader.scoring import score_tests

TOML = """\
schema = 1
assignment = "tiny"
version = "1"

[[tasks]]
name = "t"
points = 10
"""

TESTS = """\
import time

from grader.testing import points, timeout

TASK = "t"


@points(4)
@timeout(0.3)
def test_slow_calls(student):
    for _ in range(20):
        student.call("slow")


@points(3)
@timeout(0.2)
def test_slow_itself(student):
    student.call("slow")
    time.sleep(0.3)


@points(3)
def test_no_timeout(student):
    for _ in range(4):
        student.call("slow")
"""


class SlowSession:
    """A kernel whose every call takes 0.1 s (or the timeout it is given, when shorter)."""

    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def request(self, req: dict[str, Any], *, what: str, timeout: float | None = None) -> Any:
        self.timeouts.append(timeout)
        time.sleep(min(0.1, timeout or 0.1))
        return 1


def test_a_test_past_its_timeout_stops_and_scores_zero(tmp_path: Path) -> None:
    (tmp_path / "rubric.toml").write_text(TOML, encoding="utf-8")
    (tmp_path / "tests" / "public").mkdir(parents=True)
    (tmp_path / "tests" / "public" / "test_t.py").write_text(TESTS, encoding="utf-8")
    rb = rubric.load(tmp_path)
    session = SlowSession()
    t0 = time.monotonic()
    outcomes = run_tests(rb, student=StudentNamespace(session), reference=None)
    took = time.monotonic() - t0
    by_name = {o["name"]: o for o in outcomes}
    slow = by_name["test_slow_calls"]
    assert slow["status"] == "timeout" and slow["fraction"] == 0.0
    assert slow["message"] == "stopped: this test ran longer than its 0.3 s (@timeout in the rubric)"
    assert by_name["test_slow_itself"]["status"] == "timeout"
    assert by_name["test_no_timeout"]["status"] == "passed"
    assert took < 0.3 + 0.3 + 0.4 + 0.5  # 20 calls of 0.1 s were not all made
    assert len(session.timeouts) < 20 + 1 + 4
    # with a timeout, each call is given at most what is left of the test's time
    assert all(t is not None and t <= 0.3 for t in session.timeouts[:3])
    assert session.timeouts[-4:] == [None] * 4  # no @timeout: the per-call limit only
    tests, tasks = score_tests(outcomes, rb.tasks)
    assert [t["score"] for t in tests] == [0.0, 0.0, 3.0] and tasks[0]["score"] == 3.0
