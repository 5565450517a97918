"""The check cell (grader/cell.py): the executed inputs as a notebook, which assignment, the
table the student sees, the plain sentences instead of tracebacks, and the no-op in a grading
kernel. The real kernel runs in tests/integration/test_check_cell.py."""

from __future__ import annotations

import ast
import builtins
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from markupsafe import escape
from test_report import sample

from grader import api, cell
from grader.errors import UsageError
from grader.report.i18n import t
from grader.result import Result

ROOT = Path(__file__).resolve().parents[2]


def test_the_history_becomes_cells_in_order_without_the_check_cell_or_installs() -> None:
    inputs = [
        (1, "!pip install numpy\nimport numpy as np"),
        (2, "def AND(x1, x2):\n    return 0"),
        (3, "def AND(x1, x2):\n    return int(x1 and x2)"),  # run again, fixed: both kept, in order
        (4, "%pip install pandas"),
        (5, "import grader; grader.check()"),
        (6, "import grader\ngrader.check(\n    assignment='week3_nn_basic',\n)"),
        (7, "def OR(x1, x2):\n    return int(x1 or x2)\nfrom grader import check as c\nc(lang='en')"),
        (8, "if True:\n    !pip install scikit-learn\n    %conda install pandas\nx = 1"),
        (9, "%%bash\npip install torch"),
        (10, "files = !ls\nprint(files)"),
    ]
    nb, numbers = cell.history_notebook(inputs)
    sources = [c.source for c in nb.cells]
    assert numbers == (1, 2, 3, 7, 8, 10)  # the check cells, the lone install and the shell cell are gone
    assert sources[1].endswith("return 0") and sources[2].endswith("return int(x1 and x2)")
    assert "def OR" in sources[3] and "check" not in sources[3].replace("# from grader import check", "")
    for source in sources:
        ast.parse(source)  # every cell is plain Python the grading kernel can run
        live = [line for line in source.splitlines() if not line.strip().startswith("pass  #")]
        assert not any("pip" in line or "conda" in line or "grader" in line or "!" in line for line in live), source
    assert "import numpy as np" in sources[0] and sources[4].endswith("x = 1")
    assert nbformat.validate(nb) is None


def test_magics_that_do_not_reach_the_system_are_kept_and_their_grader_lines_dropped() -> None:
    code = cell.clean_source("%matplotlib inline\nimport grader\ngrader.check()\ny = 2")
    assert code.splitlines()[0] == "%matplotlib inline" and code.splitlines()[-1] == "y = 2"
    assert all(line.startswith("pass  #") for line in code.splitlines()[1:3])
    assert cell.clean_source("import grader as g\ng.check()") == ""


def _bundle(base: Path, name: str, functions: list[str], values: tuple[str, ...] = ()) -> Path:
    folder = base / name
    folder.mkdir(parents=True)
    (folder / "rubric.toml").write_text(f'assignment = "{name}"\nnotebook = "{name}.ipynb"\n', encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"def {f}(x):\n    raise NotImplementedError()") for f in functions]
    nb.cells += [nbformat.v4.new_code_cell(f"{v} = None") for v in values]
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def test_the_assignment_is_the_one_whose_names_the_history_defines_most(tmp_path: Path) -> None:
    found = {"nn": _bundle(tmp_path, "nn", ["AND", "OR", "sigmoid", "forward"]),
             "written": _bundle(tmp_path, "written", ["sigmoid"], ["q1_answer", "q2_w1"])}
    assert cell.choose_assignment(["def AND(a, b): return 1", "def sigmoid(x): return x"], found, None, "ko")[0] == "nn"
    assert cell.choose_assignment(["def sigmoid(x): return x", "q1_answer = 0.2"], found, None, "ko")[0] == "written"
    assert cell.choose_assignment(["print(1)"], {"nn": found["nn"]}, None, "ko")[0] == "nn"  # the only one
    assert cell.choose_assignment(["print(1)"], found, "written", "ko") == ("written", found["written"])
    with pytest.raises(cell.CellProblem) as undecided:
        cell.choose_assignment(["def sigmoid(x): return x"], found, None, "en")  # one name each: a tie
    assert 'grader.check(assignment="' in str(undecided.value)
    with pytest.raises(cell.CellProblem, match="week3"):
        cell.choose_assignment(["x = 1"], found, "week3", "en")
    with pytest.raises(cell.CellProblem):
        cell.choose_assignment(["x = 1"], {}, None, "ko")


def _checked(**over: Any) -> cell.Checked:
    return cell.Checked(Result.from_dict(sample(**over)), numbers=tuple(range(3, 16)), assignment="week3_nn_basic")


def test_the_table_shows_parts_failing_calls_and_named_mistakes_in_korean_by_default() -> None:
    page = cell.render_html(_checked())
    assert "<table>" in page and "<script" not in page.lower()
    assert "1. 논리 게이트" in page and "9.0 / 12.0" in page
    assert "XOR(0, 0)" in page and t("case_expected", "ko") in page  # the call, expected, got
    assert "xor_gives_xnor" in page and "XNOR이 됨" in page and "바깥 게이트를 AND로" in page  # name, title, hint
    assert "da_times_two" in page
    assert t("cell_official", "ko") in page and t("score_line", "ko", score="15.7", max_score="100.0") in page
    # the failed cell 7 of the checked notebook is the student's input [10] (numbers start at 3)
    assert t("cell_input_error", "ko", n=10, error="").split(":")[0] in page


def test_english_on_request() -> None:
    page = cell.render_html(_checked(), "en")
    assert str(escape(t("cell_official", "en"))) in page and "gives XNOR" in page and "Use AND outside" in page
    assert "공식" not in page and "기댓값" not in page


def test_everything_from_the_notebook_is_escaped() -> None:
    result = sample()
    result["tests"][1]["cases"][0]["call"] = "XOR('<img src=x onerror=alert(1)>', 0)"
    page = cell.render_html(cell.Checked(Result.from_dict(result), (1,), "week3_nn_basic"))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # cell 7's error


def test_the_plain_text_form_says_the_same() -> None:
    text = cell.render_text(_checked())
    assert "xor_gives_xnor" in text and "XOR(0, 0)" in text and text.endswith(t("cell_official", "ko"))
    assert "<" not in text.replace("<script>", "").replace("</script>", "").replace("<img", "")


def test_outside_ipython_a_notebook_path_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cell, "_shell", lambda: None)
    with pytest.raises(UsageError, match="my.ipynb"):
        api.check()


class _Shell:
    def __init__(self, inputs: list[str]) -> None:
        self.history_manager = type("H", (), {"input_hist_raw": ["", *inputs]})()
        self.user_ns: dict[str, Any] = {}


def test_with_nothing_run_yet_the_cell_says_so_in_a_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(cell, "_shell", lambda: _Shell(["import grader; grader.check()"]))
    monkeypatch.setattr(cell, "_show", lambda html, text: shown.append((html, text)))
    assert api.check() is None
    assert shown == [(f'<div class="grader-check-problem" style="padding:.4em 0">{t("cell_nothing_run", "ko")}</div>',
                      t("cell_nothing_run", "ko"))]


def _history() -> Any:
    return cell.history_notebook([(1, "def AND(x1, x2):\n    return 1")])[0]


def test_a_grader_process_that_fails_is_one_plain_sentence_without_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(cell.CellProblem) as failed:
        cell.run_grader(_history(), tmp_path / "no_such_assignment", lang="en")
    message = str(failed.value)
    assert message.startswith("The grader could not finish the check (exit code 2)")
    assert "rubric.toml" in message and "Traceback" not in message


def test_a_grader_process_that_takes_too_long_is_stopped(tmp_path: Path) -> None:
    fake = tmp_path / "python"  # a "python" that ignores its arguments and sleeps
    fake.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n", encoding="utf-8")
    fake.chmod(0o755)
    with pytest.raises(cell.CellProblem) as slow:
        cell.run_grader(_history(), ROOT / "assignments" / "week3_nn_basic", lang="en", timeout=0.5, python=str(fake))
    assert str(slow.value) == t("cell_timeout", "en", seconds="0.5")


def test_in_a_grading_kernel_grader_check_does_nothing() -> None:
    from grader.sandbox import kernel_side

    g: dict[str, Any] = {"__name__": "_grader_kernel_side", "__builtins__": dict(vars(builtins))}
    exec(compile(kernel_side.source(), "<grader>", "exec"), g)  # noqa: S102 - our own code, as the kernel runs it
    real = sys.modules["grader"]
    try:
        g["quiet_grader"]()
        import grader as in_kernel

        assert in_kernel is not real and in_kernel.check() is None and in_kernel.check(assignment="x") is None
        assert not hasattr(in_kernel, "grade_file")  # nothing of the real grader
    finally:
        sys.modules["grader"] = real
