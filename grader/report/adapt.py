"""What the reports read: a :class:`~grader.result.Result`.

The grader's own callers (worker, batch, gradebook, cli) pass a ``Result``. A dict in
``result.json``'s form (``api.grade_notebook``'s, a ``result.json`` read back, a test's sample) is
read with :meth:`Result.from_dict`, which refuses anything that is not a whole result: a report
is never written from half of one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grader.result import Result

ResultLike = Result | Mapping[str, Any]


def as_result(result: ResultLike) -> Result:
    return result if isinstance(result, Result) else Result.from_dict(result)
