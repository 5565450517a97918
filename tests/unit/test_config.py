"""Limits: declared once with type, default and help; overridden from the rubric or the CLI."""

from __future__ import annotations

from dataclasses import fields

import pytest

from grader.config import Limits, parse_limit_args
from grader.errors import RubricError, UsageError


def test_override_converts_command_line_strings_to_the_declared_type() -> None:
    lim = Limits().override({"call_timeout": "5", "memory_mb": "1024", "cell_timeout": "2.5"}, source="command line")
    assert lim.call_timeout == 5.0 and isinstance(lim.call_timeout, float)
    assert lim.memory_mb == 1024 and isinstance(lim.memory_mb, int)
    assert lim.cell_timeout == 2.5


def test_override_returns_a_new_value_and_keeps_the_rest() -> None:
    base = Limits()
    lim = base.override({"max_restarts": 1}, source="rubric.toml")
    assert lim.max_restarts == 1 and base.max_restarts == 3
    assert lim.call_timeout == base.call_timeout
    assert base.override({}, source="command line") == base


@pytest.mark.parametrize("source, err", [("command line", UsageError), ("/r/rubric.toml", RubricError)])
def test_unknown_limit_names_the_source_and_the_known_limits(source: str, err: type) -> None:
    with pytest.raises(err) as info:
        Limits().override({"call_timout": "5"}, source=source)
    msg = str(info.value)
    assert "call_timout" in msg and source in msg
    assert "call_timeout" in msg  # the list of known limits, so the typo is easy to fix
    assert type(info.value) is err  # exit code 2 for the user's typo vs a broken rubric


@pytest.mark.parametrize("raw", ["0", "-1", 0, -2.5])
@pytest.mark.parametrize("source, err", [("command line", UsageError), ("rubric.toml", RubricError)])
def test_non_positive_values_are_refused(raw: object, source: str, err: type) -> None:
    with pytest.raises(err, match="must be positive"):
        Limits().override({"call_timeout": raw}, source=source)


@pytest.mark.parametrize("source, err", [("command line", UsageError), ("rubric.toml", RubricError)])
def test_values_of_the_wrong_type_are_refused(source: str, err: type) -> None:
    with pytest.raises(err, match="memory_mb .*must be a int.*'lots'"):
        Limits().override({"memory_mb": "lots"}, source=source)
    with pytest.raises(err, match="memory_mb"):
        Limits().override({"memory_mb": "1.5"}, source=source)


def test_nan_limit_is_refused() -> None:
    with pytest.raises(UsageError):
        Limits().override({"call_timeout": "nan"}, source="command line")


def test_help_lists_every_field_with_default_and_text() -> None:
    text = Limits.help()
    lines = text.splitlines()
    assert len(lines) == len(fields(Limits))
    for f, line in zip(fields(Limits), lines, strict=True):
        assert line.split()[0] == f.name
        assert str(f.default) in line
        assert f.metadata["help"] in line
    assert Limits.names() == [f.name for f in fields(Limits)]


def test_every_limit_is_positive_by_default() -> None:
    for f in fields(Limits):
        assert f.default > 0, f.name


def test_parse_limit_args() -> None:
    assert parse_limit_args(["call_timeout=5", " memory_mb = 512 ", "x=a=b"]) == {
        "call_timeout": "5", "memory_mb": "512", "x": "a=b",
    }
    with pytest.raises(UsageError, match="NAME=VALUE.*call_timeout=5"):
        parse_limit_args(["call_timeout"])
