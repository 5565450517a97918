"""Settings declared once: each with a type, a default and help text.

The rubric's ``[limits]`` table and the command line (``--limit NAME=VALUE``) override the
defaults; ``Limits.help()`` renders the table for ``--help`` and the README.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from grader.errors import RubricError, UsageError


def _f(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = _f(30.0, "seconds one notebook cell may run before it is interrupted")
    call_timeout: float = _f(10.0, "seconds one graded call (a test's call into the notebook) may run")
    submission_timeout: float = _f(300.0, "seconds for executing one whole notebook (all cells)")
    tests_timeout: float = _f(300.0, "seconds for all tests of one submission together")
    memory_mb: int = _f(2048, "address-space limit of the kernel and each process it starts, MiB")
    cpu_seconds: int = _f(600, "CPU seconds the kernel may use in all")
    max_processes: int = _f(64, "processes and threads the kernel's uid may have at once")
    max_file_mb: int = _f(64, "largest file the kernel may write, MiB")
    max_open_files: int = _f(256, "file descriptors the kernel may hold")
    max_disk_mb: int = _f(256, "space for the scratch folder and for /tmp, each, MiB (tmpfs; as root)")
    max_output_kb: int = _f(512, "notebook output kept in memory and in the executed copy, KiB")
    max_result_mb: int = _f(64, "largest value one graded call may return, MiB (encoded)")
    max_restarts: int = _f(3, "kernel restarts allowed after crashes before giving up")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def help(cls) -> str:
        return "\n".join(
            f"  {f.name:<20} {f.default!s:>7}  {f.metadata['help']}" for f in fields(cls)
        )

    def override(self, values: dict[str, Any], *, source: str) -> Limits:
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, raw in values.items():
            if key not in known:
                err = RubricError if source != "command line" else UsageError
                raise err(
                    f"unknown limit {key!r} in {source}; known limits: {', '.join(known)}"
                )
            typ: type[Any] = type(known[key].default)  # int or float: every limit has a default
            try:
                value = typ(raw)
            except (TypeError, ValueError):
                err = RubricError if source != "command line" else UsageError
                raise err(f"limit {key} in {source} must be a {typ.__name__}, got {raw!r}") from None
            if not value > 0 or value == float("inf"):  # also rejects nan
                err = RubricError if source != "command line" else UsageError
                raise err(f"limit {key} in {source} must be positive (and finite), got {raw!r}")
            changes[key] = value
        return replace(self, **changes)


def parse_limit_args(items: list[str]) -> dict[str, str]:
    """``["call_timeout=5", ...]`` from the command line."""
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise UsageError(f"--limit takes NAME=VALUE, got {item!r} (for example --limit call_timeout=5)")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out
