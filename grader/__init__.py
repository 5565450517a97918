"""grader: a sandboxed, fast autograder for the week-3 neural-network notebooks.

The library API (the command line is a thin layer over it)::

    from grader import load_rubric, grade_notebook, check
    rubric = load_rubric(assignment="week3_nn_basic")
    result = grade_notebook(Path("kim/week3.ipynb"), rubric)   # a JSON-able dict
    typed = grade_file(Path("kim/week3.ipynb"), rubric)        # the same as a grader.Result

Rubric tests import their helpers from ``grader.testing``.
"""

from grader.api import (
    RESULT_SCHEMA,
    check,
    grade_file,
    grade_notebook,
    load_rubric,
    result_json,
    student_id,
    without_timings,
)
from grader.batch import grade
from grader.config import Limits
from grader.errors import (
    ChannelError,
    GradebookError,
    GraderError,
    NotebookError,
    RubricError,
    SandboxError,
    UsageError,
)
from grader.result import Result

__version__ = "0.1.0"

__all__ = [
    "ChannelError",
    "GradebookError",
    "GraderError",
    "Limits",
    "NotebookError",
    "RESULT_SCHEMA",
    "Result",
    "RubricError",
    "SandboxError",
    "UsageError",
    "__version__",
    "check",
    "grade",
    "grade_file",
    "grade_notebook",
    "load_rubric",
    "result_json",
    "student_id",
    "without_timings",
]
