"""The report a person reads (issue 13): part by part, failing calls grouped by function, hidden
tests only counted in the student's copy, the gradient check once, the run in plain words, one
decimal wherever a person reads a score, plots inlined, nothing from a notebook able to run."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from rich.console import Console

from grader.report import html, terminal, view
from grader.report.i18n import t
from grader.result import Figure, Result

HIDDEN_INPUT = "[[0.31337], [0.27182]]"  # a hidden test's input: never in the student's copy
HIDDEN_VALUE = "-0.0424242"


def _test(name: str, task: str, status: str, score: float, max_score: float, *, visibility: str = "public",
          message: str = "", cases: list[dict[str, Any]] | None = None, diagnoses: list[dict[str, Any]] | None = None,
          passed_cases: int = 0, notes: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "task": task, "visibility": visibility, "status": status, "message": message,
                           "score": score, "max_score": max_score, "diagnoses": diagnoses or [], "notes": notes or [],
                           "details": {}}
    if cases:
        out["cases"] = cases
    if passed_cases:
        out["passed_cases"] = passed_cases
    return out


def _gate(x1: int, x2: int, want: int, got: int) -> dict[str, Any]:
    return {"function": "XOR", "label": "XOR", "call": f"XOR({x1}, {x2})", "expected": str(want), "got": str(got)}


GRADCHECK = {"name": "gradient_check", "kind": "gradient", "hint": "", "detail": "dw: 정확히 2배", "detail_en":
             "dw: exactly 2x the expected value", "table": [["dw", "[-0.17]", "[-0.087]", "3.3e-01", "exactly 2x"],
                                                             ["dz", "-", "[0.14]", "-", "not returned"]]}
DA_TIMES_TWO = {"name": "da_times_two", "kind": "mistake", "hint": "손실의 ½을 빠뜨렸습니다",
                "hint_en": "The ½ of the loss", "title": "da를 2(A − Y)로 씀", "title_en": "da written as 2(A − Y)"}


def sample(**over: Any) -> dict[str, Any]:
    bp_case = {"function": "backpropagation", "label": "backpropagation → dw", "call": "backpropagation(Y, A, Z)",
               "expected": "[[-0.0867], [-0.1398]]", "got": "[[-0.1734], [-0.2797]]", "where": "[0, 0]"}
    hidden_case = {"function": "backpropagation", "label": "backpropagation → db",
                   "call": f"backpropagation({HIDDEN_INPUT})", "expected": HIDDEN_VALUE, "got": "0.5"}
    result: dict[str, Any] = {
        "schema": 1, "assignment": "week3_nn_basic", "rubric_version": "9", "submission": "kim/week3.ipynb",
        "student": "kim", "sha256": "", "status": "partial", "reason": "1 cell(s) failed", "score": 15.69444,
        "max_score": 100.0, "pass_mark": 60.0, "passed": False, "sandbox": "bwrap", "timings": {},
        "tasks": [{"name": "gates", "title": "1. 논리 게이트", "score": 9.0, "max_score": 12.0},
                  {"name": "backprop", "title": "4. 역전파", "score": 6.69444, "max_score": 24.0},
                  {"name": "training", "title": "5. 뉴런 학습", "score": 0.0, "max_score": 64.0}],
        "tests": [
            _test("test_truth_table[AND]", "gates", "passed", 3.0, 3.0),
            _test("test_truth_table[XOR]", "gates", "failed", 0.0, 3.0, message="XOR: got 1, expected 0",
                  cases=[_gate(0, 0, 0, 1), _gate(1, 1, 0, 1)], passed_cases=2,
                  diagnoses=[{"name": "xor_gives_xnor", "kind": "mistake", "hint": "바깥 게이트를 AND로",
                              "hint_en": "Use AND outside", "title": "XNOR이 됨", "title_en": "gives XNOR"}]),
            _test("test_backprop[dw]", "backprop", "failed", 2.0, 4.0, cases=[bp_case],
                  diagnoses=[DA_TIMES_TWO, GRADCHECK]),
            _test("test_backprop[db]", "backprop", "failed", 2.0, 4.0,
                  cases=[dict(bp_case, label="backpropagation → db")], diagnoses=[DA_TIMES_TWO, GRADCHECK]),
            _test("test_hidden_problem[db]", "backprop", "failed", 0.0, 4.0, visibility="hidden",
                  message=f"backpropagation → db: got 0.5, expected {HIDDEN_VALUE}", cases=[hidden_case],
                  diagnoses=[{"name": "db_not_summed", "kind": "mistake", "hint": "db는 합입니다",
                              "hint_en": "db is a sum", "title": "db를 합하지 않음", "title_en": "db not summed",
                              "detail": f"found at {HIDDEN_INPUT}"}]),
            _test("test_hidden_ok", "backprop", "passed", 4.0, 4.0, visibility="hidden"),
            _test("test_trained_weights_classify_or", "training", "failed", 0.0, 64.0,
                  cases=[{"function": "", "label": "test_trained_weights_classify_or",
                          "where": "the final W = [-0.79, 0.683] misclassify rows [2, 3] of OR"}]),
        ],
        "cells": [{"index": 7, "status": "error", "error": "ValueError: <script>alert(1)</script>",
                   "output": "학습 전 가중치 <img src=x onerror=alert(1)>", "traceback": "----> 3 raise ValueError"},
                  {"index": 9, "status": "killed", "error": "the kernel died (SIGKILL)", "replayed": [1, 2, 4]},
                  {"index": 12, "status": "error", "error": "NameError: name 'dw' is not defined", "origin": "handout",
                   "slip": "gradient_never_kept", "slip_title": "dw and db were never computed", "hint": "Keep them"}],
        "notes": [],
    }
    result.update(over)
    return result


def text_of(page: str) -> str:
    """The page's visible text (tags dropped, entities kept as written)."""
    body = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_failing_calls_are_grouped_by_function_with_the_call_expected_and_got() -> None:
    v = view.build(Result.from_dict(sample()), lang="en", audience="student")
    gates = v.parts[0]
    assert [g.function for g in gates.groups] == ["XOR"]
    rows = gates.groups[0].cases
    assert [(r.call, r.expected, r.got) for r in rows] == [("XOR(0, 0)", "0", "1"), ("XOR(1, 1)", "0", "1")]
    assert [d.name for d in gates.groups[0].diagnoses] == ["xor_gives_xnor"]
    assert gates.verdict == "1 of 2 checks went wrong: XOR. Known mistake: gives XNOR."
    backprop = v.parts[1]
    assert [g.function for g in backprop.groups] == ["backpropagation"]
    assert [r.part for r in backprop.groups[0].cases] == ["dw", "db"]
    assert backprop.groups[0].cases[0].where == "first differs at [0, 0]"


def test_the_student_copy_counts_hidden_tests_and_names_their_mistakes_only() -> None:
    page = html.render(sample(), lang="en", audience="student")
    assert "Hidden tests: 1 passed, 1 failed" in page
    assert "db_not_summed" in page and "db not summed" in page and "db is a sum" in page
    assert HIDDEN_INPUT not in page and HIDDEN_VALUE not in page
    ta = html.render(sample(), lang="en", audience="ta")
    assert HIDDEN_INPUT in ta and HIDDEN_VALUE in ta and "Hidden tests: 1 passed" not in ta
    assert str(escape(t("report_ta_copy", "en"))) in ta and str(escape(t("report_student_copy", "en"))) in page


def test_the_gradient_check_is_shown_once_per_part_in_the_readers_words() -> None:
    for lang, verdict, missing in (("ko", "정확히 2배", "반환하지 않음"), ("en", "exactly 2x", "not returned")):
        page = html.render(sample(), lang=lang)
        assert page.count('class="gradcheck"') == 1
        assert verdict in page and missing in page
        for column in t("gradcheck_columns", lang).split("|"):
            assert f"<th>{column}</th>" in page
    assert "해석적 값" in html.render(sample(), lang="ko")


def test_scores_are_shown_to_one_decimal_and_json_keeps_them() -> None:
    page = html.render(sample(), lang="ko")
    title = re.search(r"<title>(.*?)</title>", page)
    assert title is not None and title.group(1).endswith("(15.7/100.0)")
    assert "15.7 / 100.0" in page and "6.7 / 24.0" in page and "15.69444" not in page
    out = io.StringIO()
    terminal.print_result(sample(), lang="ko", console=Console(file=out, width=200))
    assert "15.7 / 100.0" in out.getvalue() and "15.6944" not in out.getvalue()
    assert json.loads(Result.from_dict(sample()).to_json())["score"] == 15.69444


def test_the_pass_mark_and_what_to_do_next_come_first() -> None:
    page = text_of(html.render(sample(), lang="en"))
    assert page.index("44.3 points short of the pass mark of 60.0") < page.index("What to do next")
    steps = page.split("What to do next", 1)[1].split("Points per part", 1)[0]
    assert "Fix the cells that failed first: 7, 9" in steps  # the handout's cell 12 is not the student's to fix
    assert steps.index("5. Training the neuron (1,000 steps): 64.0 points lost") < steps.index("4. Backpropagation")
    assert "grader check" in steps
    done = view.build(Result.from_dict(sample(
        score=100.0, passed=True, cells=[], status="graded", reason="",
        tasks=[{"name": "gates", "title": "1. gates", "score": 12.0, "max_score": 12.0}],
        tests=[_test("test_truth_table[AND]", "gates", "passed", 12.0, 12.0)])), lang="ko")
    assert done.next_steps == [t("next_all_done", "ko")]
    assert done.pass_line == t("pass_line_passed", "ko", mark="60.0")


def test_the_run_says_which_cells_failed_what_they_printed_and_what_was_run_again() -> None:
    page = html.render(sample(), lang="en")
    run = page.split('id="run"', 1)[1]
    assert "Cell 7 raised an error: ValueError: &lt;script&gt;alert(1)&lt;/script&gt;" in run
    assert "학습 전 가중치 &lt;img src=x onerror=alert(1)&gt;" in run and "----&gt; 3 raise ValueError" in run
    assert "The kernel died while running cell 9" in run and "the cells before it were run again: 1, 2, 4" in run
    assert "This comes from the handout&#39;s own code, not yours: dw and db were never computed" in run
    # the part's verdict names the check of values a test made itself, in words
    assert "trained weights classify or" in page and "the final W = [-0.79, 0.683]" in page


def test_nothing_from_a_notebook_can_run_in_either_copy() -> None:
    hostile = sample(student='<script>document.title="pwned"</script>',
                     submission='<a href="javascript:alert(1)">x</a>.ipynb')
    for audience in ("ta", "student"):
        page = html.render(hostile, lang="ko", audience=audience)
        assert "<script" not in page.lower() and "javascript:alert" not in page.replace("javascript:alert(1)&#34;", "")
        assert 'href="javascript' not in page and "onerror=" not in page.replace("onerror=alert(1)&gt;", "")
        assert "Content-Security-Policy" in page and "default-src 'none'" in page and "img-src data:" in page
        assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in page


def test_english_reports_take_every_word_from_the_catalogue() -> None:
    page = text_of(html.render(sample(), lang="en", audience="ta"))
    # Hangul left in an English page comes only from the data: the rubric's hints and the notebook's output
    data = {"학습 전 가중치", "손실의 ½을 빠뜨렸습니다", "바깥 게이트를 AND로", "db는 합입니다", "dw: 정확히 2배"}
    hangul = set(re.findall(r"[가-힣][가-힣 ½]*[가-힣]", page))
    assert not {h for h in hangul if not any(h in d for d in data)}, hangul
    assert "Logic gates (AND, NAND, OR, XOR)" in page  # the part's name in English, numbered by the report


def _figures() -> list[dict[str, Any]]:
    x = [-1.0, 0.0, 1.0]
    return [Figure("sigmoid", "curve", "backprop", {"function": "sigmoid", "x": x, "reference": [0.27, 0.5, 0.73],
                                                    "student": [0.27, 0.5, 0.73]}).to_dict(),
            Figure("loss", "series", "training", {"x": [1, 2, 3], "reference": [0.3, 0.2, 0.1], "log": True},
                   problem="training could not be called: ValueError: <b>no</b>").to_dict()]


def test_plots_are_inlined_under_their_part_and_drawn_once_for_both_copies(tmp_path: Path, monkeypatch) -> None:
    from grader.report import plots

    calls = []
    real = plots.render_all

    def counted(figures: Any) -> dict[str, str]:
        calls.append(len(figures))
        return real(figures)

    monkeypatch.setattr(plots, "render_all", counted)
    report, feedback = html.write_both(sample(figures=_figures()), tmp_path, lang="en")
    assert calls == [2]
    for path in (report, feedback):
        page = path.read_text(encoding="utf-8")
        images = re.findall(r'<img class="plot" src="(data:image/png;base64,[A-Za-z0-9+/=]+)"', page)
        assert len(images) == 2
        backprop = page.split('id="part-backprop"', 1)[1].split("</section>", 1)[0]
        assert "data:image/png" in backprop and "sigmoid(x) for x from −6 to 6." in backprop
        training = page.split('id="part-training"', 1)[1].split("</section>", 1)[0]
        assert "Your loss curve could not be plotted: training could not be called: ValueError: &lt;b&gt;no&lt;/b&gt;" \
            in training
        assert "http://" not in page and "https://" not in page  # self-contained


def test_a_report_without_figures_needs_no_matplotlib(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "grader.report.plots", None)  # importing it would raise
    assert "<img" not in html.render(sample(), lang="ko")


def test_the_terminal_shows_a_failing_gate_with_its_inputs_part_by_part() -> None:
    out = io.StringIO()
    terminal.print_result(sample(), lang="en", console=Console(file=out, width=200))
    text = out.getvalue()
    assert "1. Logic gates (AND, NAND, OR, XOR)  9.0 / 12.0" in text
    assert "✗ XOR(0, 0)  expected 0 · yours 1" in text
    assert "xor_gives_xnor · gives XNOR" in text
    assert HIDDEN_INPUT not in text and HIDDEN_VALUE not in text
    assert text.index("What to do next") < text.index("1. Logic gates (AND, NAND, OR, XOR)  9.0")


@pytest.mark.parametrize("audience", ["ta", "student"])
def test_a_result_from_an_older_grader_without_cases_still_reads(audience: str) -> None:
    old = sample()
    for test in old["tests"]:
        test.pop("cases", None)
    page = html.render(old, lang="en", audience=audience)
    assert "XOR: got 1, expected 0" in page  # the test's own message stands in for its calls


def test_a_plot_that_cannot_be_drawn_costs_the_plot_not_the_report(tmp_path: Path, monkeypatch) -> None:
    from grader.report import plots

    def broken(_figures: Any) -> dict[str, str]:
        raise RuntimeError("no backend")

    monkeypatch.setattr(plots, "render_all", broken)
    report, feedback = html.write_both(sample(figures=_figures()), tmp_path, lang="en")
    for path in (report, feedback):
        page = path.read_text(encoding="utf-8")
        assert "<img" not in page and t("figure_none", "en") in page and "5. Training the neuron" in page


# -- what the runner keeps of each failed call (the real week-3 tests, in this process) ----------


def test_every_failed_call_of_a_test_is_kept_with_its_inputs(graded) -> None:
    tests, _tasks = graded(("return AND(NAND(x1, x2), OR(x1, x2))", "return NAND(NAND(x1, x2), OR(x1, x2))"))
    xor = tests["test_truth_table[XOR]"]
    assert [(c["call"], c["expected"], c["got"]) for c in xor["cases"]] == [
        ("XOR(0, 0)", "0", "1"), ("XOR(0, 1)", "1", "0"), ("XOR(1, 0)", "1", "0"), ("XOR(1, 1)", "0", "1")]
    assert {c["function"] for c in xor["cases"]} == {"XOR"}


def test_a_missing_function_is_filed_under_its_name(graded) -> None:
    tests, _tasks = graded(("def AND(x1, x2):", "def AND_gate(x1, x2):"))
    case = tests["test_truth_table[AND]"]["cases"][0]
    assert (case["function"], case["where"]) == ("AND", "missing")
    v = view.build(Result.from_dict(sample(tests=[_test("test_truth_table[AND]", "gates", "error", 0.0, 3.0,
                                                        cases=[case])])), lang="ko")
    row = v.parts[0].groups[0]
    assert row.function == "AND" and row.cases[0].where == t("mismatch_missing", "ko")


def test_a_long_answer_shows_its_first_and_last_values(graded) -> None:
    tests, _tasks = graded(("    return sig * (1 - sig)", "    return sig"))
    failing = [c for t_ in tests.values() for c in t_.get("cases", []) if c["function"] == "sigmoid_prime"
               and "shape (11,)" in c.get("expected", "")]
    assert failing, "the public sigmoid_prime test calls it on 11 points"
    assert "..." in failing[0]["expected"] and "array of shape" not in failing[0]["expected"]
    assert failing[0]["where"] == "[0]"


def test_a_value_a_test_computed_is_filed_under_the_function_it_judges(graded) -> None:
    tests, _tasks = graded(("return np.dot(X, self.weight[1:]) + self.weight[0]", "return np.dot(X, self.weight[1:])"))
    cases = tests["test_net_input_on_a_matrix"]["cases"]
    assert [c["function"] for c in cases] == ["net_input"]
    assert cases[0]["label"] == "net_input(X) for the 100 Iris rows"


def test_a_figure_that_could_not_be_drawn_says_why_in_the_readers_words() -> None:
    fig = Figure("sigmoid", "curve", "gates", {"function": "sigmoid", "x": [0.0], "reference": [0.5]},
                 problem="sigmoid is not defined in the notebook").to_dict()
    ko = view.build(Result.from_dict(sample(figures=[fig])), lang="ko")
    words = [c for p in ko.parts for c in p.captions]
    assert "여러분의 sigmoid은(는) 그릴 수 없었습니다: sigmoid이(가) 노트북에 정의되어 있지 않습니다" in words
    loss = Figure("loss", "series", "training", {"x": [1], "reference": [0.3]},
                  problem="a sentence of the figure module's own").to_dict()
    en = view.build(Result.from_dict(sample(figures=[loss])), lang="en")
    assert "Your loss curve could not be plotted: a sentence of the figure module's own" in en.parts[2].captions


def test_the_results_notes_read_in_the_readers_language() -> None:
    from grader import notes

    alias = notes.note("note_np_alias", what="np.int", plain="int")
    handout = notes.note("note_handout_cell", index=12, title="dw and db were never computed")
    assert notes.form_of(alias) == "note_np_alias" and notes.form_of("anything else") is None
    v = view.build(Result.from_dict(sample(notes=[alias, handout, "a note of no known form"])), lang="ko")
    assert v.notes == [t("note_np_alias", "ko", what="np.int", plain="int"), "a note of no known form"]
    assert "np.int을(를) 썼습니다" in v.notes[0]  # the handout's cell is said in the run, not again here


def test_a_note_on_a_passing_hidden_test_reaches_the_student_without_its_findings() -> None:
    noted = _test("test_hidden_probe", "gates", "passed", 3.0, 3.0, visibility="hidden", diagnoses=[
        {"name": "gate_threshold_on_input_point", "kind": "note", "hint": "임계값이 입력점 위에 있습니다",
         "hint_en": "The threshold sits on an input point", "detail": f"at {HIDDEN_INPUT}"}])
    result = sample(tests=[*sample()["tests"], noted])
    page = html.render(result, lang="en", audience="student")
    assert "gate_threshold_on_input_point" in page and "The threshold sits on an input point" in page
    assert HIDDEN_INPUT not in page


def test_the_tas_copy_shows_the_overrides_and_the_grade_in_force() -> None:
    from grader.gradebook import Override

    mine = Override("week3_nn_basic", "kim", "backprop", 20.0, "read by hand <i>", "ta1", "2026-11-30T10:00:00Z")
    other = Override("week3_nn_basic", "lee", "gates", 0.0, "not kim's", "ta1", "2026-11-30T10:00:00Z")
    ta = html.render(sample(), lang="en", audience="ta", overrides=[mine, other])
    assert 'id="overrides"' in ta and "The grade in force: 29.0 / 100.0 points" in ta
    assert "Backpropagation (sigmoid_prime, backpropagation): 6.7 → 20.0 / 24.0 (read by hand &lt;i&gt;; ta1" in ta
    assert "not kim" not in ta
    assert 'id="overrides"' not in html.render(sample(), lang="en", audience="student", overrides=[mine])
