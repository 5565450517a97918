"""Every command has help and examples; usage mistakes exit 2 with a message that says what to do."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from grader import batch
from grader.cli import build_parser, main
from grader.config import Limits


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def help_texts() -> dict[str, str | None]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a.help for a in action._choices_actions}


COMMANDS = sorted(subcommands())


def test_the_expected_commands_exist() -> None:
    assert {"check", "grade", "export", "generate", "validate"} <= set(COMMANDS)


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help_text(cmd: str) -> None:
    text = help_texts().get(cmd)
    assert text and len(text.split()) >= 3, f"`grader {cmd}` has no one-line help in `grader --help`"


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_help_has_examples(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([cmd, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: grader {cmd}")
    assert "examples:" in out
    examples = out.split("examples:", 1)[1]
    assert f"grader {cmd}" in examples


@pytest.mark.parametrize("cmd", ["check", "grade"])
def test_commands_with_limits_list_every_limit(cmd: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args([cmd, "--help"])
    out = capsys.readouterr().out
    for name in Limits.names():
        assert name in out


def test_top_level_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    for cmd in COMMANDS:
        assert cmd in out


def test_no_command_exits_2_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: grader" in capsys.readouterr().out


def test_python_dash_m_grader_without_command_exits_2() -> None:
    proc = subprocess.run([sys.executable, "-m", "grader"], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "usage: grader" in proc.stdout


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_check_missing_notebook_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2
    err = capsys.readouterr().err
    assert "missing.ipynb not found" in err
    assert "pass the path of your .ipynb file" in err


def test_check_relative_missing_notebook(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "missing.ipynb"]) == 2
    assert "missing.ipynb not found" in capsys.readouterr().err


def test_check_empty_notebook_exits_2_before_any_kernel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nb = tmp_path / "week3.ipynb"
    nb.write_bytes(b"")
    assert main(["check", str(nb)]) == 2
    err = capsys.readouterr().err
    assert "empty (0 bytes)" in err and "save the notebook again" in err


def test_grade_with_zero_jobs_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "-j", "0"]) == 2
    assert "-j must be at least 1" in capsys.readouterr().err


def test_grade_help_explains_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["grade", "--help"])
    out = capsys.readouterr().out
    assert "exit status:" in out
    status = out.split("exit status:", 1)[1]
    for line in ("0    every submission has a result", "1    grading stopped before every submission had a result",
                 "2    bad usage", "130  interrupted"):
        assert line in status
    assert "failed tests are grades, not errors" in status


class _Rubric:
    assignment = "week3_nn_basic"
    limits = Limits()


def _grade_returning(summary: batch.Summary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """``grader grade`` with the rubric and the batch replaced: only the exit status is computed."""
    from grader import api

    monkeypatch.setattr(api, "load_rubric", lambda **kwargs: _Rubric())
    monkeypatch.setattr(batch, "grade", lambda *args, **kwargs: summary)
    return main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), "--assignment", "week3_nn_basic",
                 "--sandbox", "rlimits"])


@pytest.mark.parametrize("by_status", [
    {"graded": 3},
    {"partial": 1, "timeout": 1, "crashed": 1, "invalid": 1},  # nobody passed anything: still results
    {},  # nothing new: everything was already in the gradebook
])
def test_grade_exits_0_when_every_submission_has_a_result(
        by_status: dict[str, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    total = sum(by_status.values()) or 2
    summary = batch.Summary(total=total, skipped=total - sum(by_status.values()), by_status=dict(by_status))
    assert _grade_returning(summary, tmp_path, monkeypatch) == 0
    assert "got no result" not in capsys.readouterr().err


def test_grade_exits_1_when_a_submission_got_no_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    summary = batch.Summary(total=3, skipped=1, by_status={"graded": 1})
    assert summary.without_result == 1
    assert _grade_returning(summary, tmp_path, monkeypatch) == 1
    assert "1 week3_nn_basic submission(s) got no result" in capsys.readouterr().err


def test_interrupted_grade_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = batch.Summary(total=3, by_status={"graded": 1}, interrupted=True)
    assert _grade_returning(summary, tmp_path, monkeypatch) == 130


def test_export_without_gradebook_says_to_grade_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tmp_path), "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert "gradebook.sqlite not found" in err and "grader grade" in err


def test_grader_help_shows_an_example_of_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    examples = capsys.readouterr().out.split("examples:", 1)[1]
    shown = {line.split()[1] for line in examples.splitlines() if line.strip().startswith("grader ")}
    missing = [cmd for cmd in COMMANDS if cmd not in shown]
    assert not missing, f"`grader --help` gives no example of: {missing}"
