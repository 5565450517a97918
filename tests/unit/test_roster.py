"""The class as a roster sees it: one row per student, missing students, one notebook picked of
several (latest by git commit or file time, or highest), the sheet a TA pastes, and the handout
left out of the submissions."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from grader import batch, cli
from grader import rubric as rubric_mod
from grader.gradebook import Gradebook, Override
from grader.report import exports
from grader.result import Result, TaskScore

ROOT = Path(__file__).resolve().parents[2]
TASKS = (("gates", "1. Gates", 12.0), ("backprop", "4. Backprop", 24.0))


def result(student: str, scores: tuple[float, float], name: str = "week3.ipynb") -> Result:
    tasks = [TaskScore(n, title, s, points) for (n, title, points), s in zip(TASKS, scores, strict=True)]
    return Result.scored(assignment="week3_nn_basic", rubric_version="1", submission=f"{student}/{name}",
                         student=student, sha256=f"{student}/{name}", pass_mark=20.0, status="graded", reason="",
                         tests=[], tasks=tasks)


def read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


ROSTER = "path,student\nkim/week3.ipynb,kim\n,choi\nlee/a.ipynb,lee\nlee/b.ipynb,lee\n,park\n"


def test_a_roster_row_without_a_path_is_a_student_who_handed_nothing_in(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.replace("park", unicodedata.normalize("NFD", "박지호")), encoding="utf-8")
    assert batch.read_roster(roster) == {"kim/week3.ipynb": "kim", "lee/a.ipynb": "lee", "lee/b.ipynb": "lee"}
    assert batch.roster_students(roster) == ["kim", "choi", "lee", "박지호"]  # its order, once each, NFC
    assert batch.roster_students(None) is None


RESULTS = [result("kim", (12, 12)), result("lee", (12, 24), "a.ipynb"), result("lee", (0, 6), "b.ipynb"),
           result("zed", (1, 1))]
TIMES = {"lee/a.ipynb": 100.0, "lee/b.ipynb": 200.0}


def test_class_rows_one_per_student_missing_ones_and_the_latest_notebook() -> None:
    rows = exports.class_rows(RESULTS, roster=["kim", "choi", "lee", "park"], times=TIMES)
    assert [(r.student, r.status) for r in rows] == [
        ("kim", "graded"), ("choi", "missing"), ("lee", "graded"), ("park", "missing"), ("zed", "graded")]
    lee = rows[2]
    assert lee.result is not None and lee.result.submission == "lee/b.ipynb" and lee.others == ("lee/a.ipynb",)
    # highest: by the score as shown, overrides included
    rows = exports.class_rows(RESULTS, roster=["lee"], pick="highest", times=TIMES)
    assert rows[0].result is not None and rows[0].result.submission == "lee/a.ipynb"
    low = [Override("week3_nn_basic", "lee", "backprop", 0, "", "ta", "t")]
    rows = exports.class_rows(RESULTS[1:2] + [result("lee", (12, 12), "b.ipynb")], pick="highest", overrides=low)
    assert rows[0].result is not None and rows[0].result.submission == "lee/b.ipynb"  # a tie goes to the latest
    # no time known: the later path counts as the later notebook
    rows = exports.class_rows(RESULTS, pick="latest")
    assert [r.result.submission for r in rows if r.result and r.student == "lee"] == ["lee/b.ipynb"]
    with pytest.raises(ValueError, match="latest, highest"):
        exports.class_rows(RESULTS, pick="first")


def test_csv_with_a_roster_has_missing_students_with_empty_scores(tmp_path: Path) -> None:
    exports.write_csv(RESULTS, tmp_path / "c.csv", roster=["kim", "choi", "lee"], times=TIMES)
    rows = {r["student"]: r for r in read(tmp_path / "c.csv")}
    assert list(rows) == ["kim", "choi", "lee", "zed"]
    assert rows["choi"] == {**{k: "" for k in rows["choi"]}, "student": "choi", "status": "missing",
                            "passed": "false"}
    assert (rows["lee"]["submission"], rows["lee"]["other_submissions"], rows["lee"]["score"]) == (
        "lee/b.ipynb", "lee/a.ipynb", "6.0")


def test_the_sheet_one_row_per_student_by_part_titles(tmp_path: Path) -> None:
    over = [Override("week3_nn_basic", "kim", "gates", 6.5, "AND gate copied", "ta", "t")]
    exports.write_sheet(RESULTS, tmp_path / "s.csv", roster=["kim", "choi", "lee"], times=TIMES, overrides=over,
                        tasks=[("gates", "1. Logic gates"), ("backprop", "4. Backpropagation")])
    with open(tmp_path / "s.csv", encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table == [
        ["student", "total", "maximum", "status", "1. Logic gates", "4. Backpropagation", "override_comment",
         "submission", "other_submissions"],
        ["kim", "18.5", "36.0", "graded", "6.5", "12.0", "1. Gates: AND gate copied", "kim/week3.ipynb", ""],
        ["choi", "", "36.0", "missing", "", "", "", "", ""],
        ["lee", "6.0", "36.0", "graded", "0.0", "6.0", "", "lee/b.ipynb", "lee/a.ipynb"],
        ["zed", "2.0", "36.0", "graded", "1.0", "1.0", "", "zed/week3.ipynb", ""],
    ]


def _git(repo: Path, *args: str, when: str = "") -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x", "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_latest_is_the_git_commit_time_in_a_checkout_else_the_file_time(tmp_path: Path) -> None:
    repo = tmp_path / "class"
    (repo / "lee").mkdir(parents=True)
    first, second = repo / "lee" / "a.ipynb", repo / "lee" / "b.ipynb"
    _git(repo, "init", "-q")
    first.write_text("{}")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "a", when="2026-10-01T10:00:00+00:00")
    second.write_text("{}")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "b", when="2026-10-02T10:00:00+00:00")
    os.utime(first, (2_000_000_000, 2_000_000_000))  # a clone's file times say nothing of who was first
    files = [(first, "lee/a.ipynb"), (second, "lee/b.ipynb")]
    times = batch.submitted_times(files)
    assert times == {"lee/a.ipynb": 1790848800.0, "lee/b.ipynb": 1790935200.0}
    plain = tmp_path / "plain"
    shutil.copytree(repo / "lee", plain / "lee")
    os.utime(plain / "lee" / "a.ipynb", (2_000_000_000, 2_000_000_000))
    times = batch.submitted_times([(plain / "lee" / "a.ipynb", "lee/a.ipynb"), (plain / "lee" / "b.ipynb",
                                                                                 "lee/b.ipynb")])
    assert times["lee/a.ipynb"] == 2_000_000_000 > times["lee/b.ipynb"]


def test_export_takes_the_roster_and_the_pick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "OUT"
    with Gradebook(out / "gradebook.sqlite") as gb:
        for r in RESULTS:
            gb.record(r)
        gb.set_submitted_times("week3_nn_basic", TIMES)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert cli.main(["export", str(out), "--format", "csv", "--roster", str(roster)]) == 0
    rows = {r["student"]: r for r in read(out / "class_week3_nn_basic.csv")}
    assert (rows["park"]["status"], rows["lee"]["submission"]) == ("missing", "lee/b.ipynb")
    assert cli.main(["export", str(out), "--format", "sheet", "--roster", str(roster), "--pick", "highest",
                     "--to", str(tmp_path / "paste.csv")]) == 0
    rows = {r["student"]: r for r in read(tmp_path / "paste.csv")}
    assert list(rows) == ["kim", "choi", "lee", "park", "zed"]
    assert (rows["lee"]["total"], rows["lee"]["other_submissions"]) == ("36.0", "lee/b.ipynb")
    assert "wrote 1 file(s)" in capsys.readouterr().out
    # the per-submission CSV is as before: every notebook a row
    assert cli.main(["export", str(out), "--format", "csv"]) == 0
    assert len(read(out / "grades.csv")) == 4


# -- the handout among the submissions ---------------------------------------------------------------


def _notebook(path: Path, sources: list[str], outputs: bool = False) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "# Week 3"}]
    for i, src in enumerate(sources):
        cells.append({"cell_type": "code", "metadata": {"id": str(i)}, "execution_count": i if outputs else None,
                      "outputs": [{"output_type": "stream", "name": "stdout", "text": "x"}] if outputs else [],
                      "source": src.splitlines(keepends=True)})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3"}},
                                "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    return path


def test_code_signature_ignores_outputs_metadata_markdown_and_whitespace(tmp_path: Path) -> None:
    blank = _notebook(tmp_path / "h.ipynb", ["import numpy as np\n", "def f(x):\n    pass\n"])
    run = _notebook(tmp_path / "r.ipynb", ["import numpy as np   \n\n", "", "def f(x):\n\n    pass"], outputs=True)
    done = _notebook(tmp_path / "d.ipynb", ["import numpy as np\n", "def f(x):\n    return x\n"])
    assert batch.code_signature(blank) == batch.code_signature(run) != batch.code_signature(done)
    (tmp_path / "bad.ipynb").write_text("not json")
    assert batch.code_signature(tmp_path / "bad.ipynb") is None


def test_the_projects_handout_is_found_for_the_rubric() -> None:
    rb = rubric_mod.load(ROOT / "rubrics" / "week3_nn_basic")
    own = ROOT / "assignments" / "week3_nn_basic" / "week3_nn_basic.ipynb"
    course = ROOT / "rubrics" / "week3_nn_basic" / "handout" / "week3_NeuralNetworkBasic_assignmet2.ipynb"
    assert batch.handout_paths(rb) == [course, own]
    assert batch.handout_paths(rb, [own, Path("/no/such.ipynb")]) == [own, course]


def test_the_courses_own_handout_lying_in_the_class_folder_is_left_out_without_being_named(tmp_path: Path) -> None:
    rb = rubric_mod.load(ROOT / "rubrics" / "week3_nn_basic")
    subs = tmp_path / "Week3" / "NN Basic"  # the course's class repository, the blank at its top
    subs.mkdir(parents=True)
    course = ROOT / "rubrics" / "week3_nn_basic" / "handout" / "week3_NeuralNetworkBasic_assignmet2.ipynb"
    shutil.copy(course, subs / course.name)
    summary = batch.grade([subs], tmp_path / "out", rubric=rb, jobs=1)
    assert summary.handouts == [(course.name, str(course))] and summary.total == 0


def test_an_untouched_handout_is_left_out_of_the_batch(tmp_path: Path) -> None:
    rb = rubric_mod.load(ROOT / "rubrics" / "week3_nn_basic")
    subs = tmp_path / "Week3" / "NN Basic"
    course = tmp_path / "course_handout.ipynb"
    _notebook(course, ["print('the course file')\n"])
    _notebook(subs / "week3_NeuralNetworkBasic_assignmet2.ipynb", ["print('the course file')  \n"], outputs=True)
    (subs / "kim").mkdir()
    shutil.copy(ROOT / "assignments" / "week3_nn_basic" / "week3_nn_basic.ipynb", subs / "kim" / "week3.ipynb")
    summary = batch.grade([subs], tmp_path / "out", rubric=rb, handouts=[course], jobs=1)
    assert summary.handouts == [("kim/week3.ipynb", str(ROOT / "assignments" / "week3_nn_basic" /
                                                          "week3_nn_basic.ipynb")),
                                ("week3_NeuralNetworkBasic_assignmet2.ipynb", str(course))]
    assert summary.total == 0
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as gb:
        assert len(gb) == 0


def test_a_folder_without_notebooks_for_a_rubric_prints_nothing_for_it(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    rb = rubric_mod.load(ROOT / "rubrics" / "week3_written")
    subs = tmp_path / "subs"
    _notebook(subs / "kim" / "week3.ipynb", ["x = 1\n"])
    assert not batch.has_notebooks([subs], rb)
    _notebook(subs / "kim" / "written.ipynb", ["x = 1\n"])
    assert batch.has_notebooks([subs], rb)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["grade", str(empty), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "no notebook to grade under" in err and "==" not in err and "grading 0" not in err


def test_grade_leaves_the_course_handout_out_when_given_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    course = _notebook(tmp_path / "course" / "week3_NeuralNetworkBasic_assignmet2.ipynb", ["def AND(x1, x2):\n"])
    subs = tmp_path / "NN Basic"
    _notebook(subs / "week3_NeuralNetworkBasic_assignmet2.ipynb", ["def AND(x1, x2):   \n\n"], outputs=True)
    code = cli.main(["grade", str(subs), "--out", str(tmp_path / "out"), "--handout", str(course),
                     "--assignment", "week3_nn_basic"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"left out week3_NeuralNetworkBasic_assignmet2.ipynb: an untouched copy of the handout ({course})" in err
    assert "0 notebook(s)" in err
