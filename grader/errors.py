"""Every error the grader raises on purpose.

    GraderError                     base: a message that says what went wrong and what to do
    ├── UsageError                  bad command-line input (exit code 2)
    ├── NotebookError               a file that is not a readable notebook (status "invalid")
    ├── RubricError                 a rubric folder that is missing or malformed
    ├── GradebookError              the SQLite gradebook cannot be used
    ├── SandboxError                the kernel could not be started or restarted
    └── ChannelError                a reply from the kernel that is not acceptable data

Failures of student code are not errors of the grader. They are raised inside a test and
turned into a failed test by the runner, never past it:

    StudentCodeProblem              base: the student's code, not the test, went wrong
    ├── MissingName                 a graded name is not defined (failed)
    ├── StudentError                the student's function raised (error)
    ├── CallTimeout                 a graded call did not finish in time (timeout)
    ├── KernelDied                  the kernel died during a call and was restarted (error)
    └── BadResult                   what came back is not acceptable data (failed)
"""

from __future__ import annotations


class GraderError(Exception):
    """Base class; ``str(err)`` is a complete, user-facing sentence."""


class UsageError(GraderError):
    pass


class NotebookError(GraderError):
    pass


class RubricError(GraderError):
    pass


class GradebookError(GraderError):
    pass


class SandboxError(GraderError):
    pass


class ChannelError(GraderError):
    pass


class StudentCodeProblem(Exception):
    """Raised inside a test when the student's code, not the test, went wrong. ``call``: the
    judged call with its inputs, when the check that made it knows them (for the report)."""

    status = "failed"
    call = ""


class MissingName(StudentCodeProblem):
    def __init__(self, name: str, kind: str = "name") -> None:
        self.name = name
        super().__init__(
            f"`{name}` is not defined in the notebook: check its spelling and that the cell "
            f"defining it runs without an error"
        )


class StudentError(StudentCodeProblem):
    """The student's function raised an exception."""

    status = "error"

    def __init__(self, what: str, exc_type: str, message: str, traceback: list[str]) -> None:
        self.what = what
        self.exc_type = exc_type
        self.exc_message = message
        self.traceback = traceback
        super().__init__(f"{what} raised {exc_type}: {message}" if message else f"{what} raised {exc_type}")


class CallTimeout(StudentCodeProblem):
    status = "timeout"

    def __init__(self, what: str, seconds: float, *, repeated: bool = False) -> None:
        if repeated:
            super().__init__(f"{what} was not called: it did not finish within {seconds:g} s twice already")
        else:
            super().__init__(f"{what} did not finish within {seconds:g} s")


class KernelDied(StudentCodeProblem):
    status = "error"

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"the kernel died during {what} ({detail}); it was restarted")


class BadResult(StudentCodeProblem):
    """What came back is not acceptable data (too big, too deep, malformed)."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"{what} returned something the grader cannot accept: {detail}")
