"""`grader validate` as CI runs it: reference 100, blank 0, every fixture its expected score."""

from __future__ import annotations

import pytest

from grader import authoring

pytestmark = pytest.mark.kernel


@pytest.mark.parametrize("assignment", ["week3_nn_basic", "week3_written"])
def test_validate(assignment):
    report = authoring.validate(assignment)
    bad = [c for c in report["checks"] if not c["ok"]]
    assert not bad, bad
    names = {c["name"] for c in report["checks"]}
    assert {"_reference", "_blank"} <= names
    if assignment == "week3_nn_basic":
        assert len(names) >= 30
