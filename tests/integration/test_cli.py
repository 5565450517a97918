"""The command line as users run it: exit codes, files written, Korean by default."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks" / "week3"


def grader(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=env)


def test_check_passing_notebook_exits_0_and_writes_reports(tmp_path):
    res = grader("check", FIXTURES / "passes_all.ipynb", "--json", tmp_path / "r.json", "--html", tmp_path / "r.html",
                 "--junit", tmp_path / "j.xml", "--summary", tmp_path / "s.md")
    assert res.returncode == 0, res.stderr
    assert "점수" in res.stdout  # Korean by default
    r = json.loads((tmp_path / "r.json").read_text())
    assert all(t["visibility"] == "public" for t in r["tests"])
    assert r["score"] == r["max_score"]
    # a completion of the course's handout: its own np.int demo cell does not make it partial
    assert r["status"] == "graded", r["reason"]
    assert "100.0 / 100.0" in res.stdout and "채점 완료" in res.stdout  # one decimal where people read it
    html = (tmp_path / "r.html").read_text()
    assert "<html" in html and "공개 테스트만" in html
    assert "학생용 피드백" in html and "data:image/png;base64," in html  # the student's copy, with its plots
    ET.parse(tmp_path / "j.xml")
    assert (tmp_path / "s.md").read_text().strip()


def test_check_failing_notebook_exits_1_and_names_the_mistake():
    res = grader("check", FIXTURES / "sigmoid_prime_forgot_derivative.ipynb", "--lang", "en")
    assert res.returncode == 1
    assert "sigmoid_prime_forgot_derivative" in res.stdout
    # part by part, the failing call with its input, expected and got, and what to do first
    assert "What to do next" in res.stdout and "Start with sigmoid_prime" in res.stdout
    assert "4. Backpropagation (sigmoid_prime, backpropagation)" in res.stdout
    assert "✗ sigmoid_prime(" in res.stdout and "expected" in res.stdout and "yours" in res.stdout


def test_check_ci_exit_code_follows_the_pass_mark():
    res = grader("check", "--ci", FIXTURES / "backprop_first_revision.ipynb")
    assert res.returncode == 0  # public score is above the pass mark of 60 even with failed tests


def test_check_unreadable_notebook_exits_2_with_advice(tmp_path):
    bad = tmp_path / "empty.ipynb"
    bad.write_bytes(b"")
    res = grader("check", bad)
    assert res.returncode == 2
    assert "empty" in res.stderr and "resubmit" in res.stderr


def test_grade_folder_writes_everything_and_resumes(tmp_path):
    subs = tmp_path / "subs"
    cases = [("김민준", "passes_all"), ("lee", "backprop_db_from_da"), ("park", "syntax_error_one_cell")]
    for student, fixture in cases:
        (subs / student).mkdir(parents=True)
        shutil.copy(FIXTURES / f"{fixture}.ipynb", subs / student / "week3_assignmet2(수정).ipynb")
    out = tmp_path / "out"
    res = grader("grade", subs, "--out", out, "-j", "2")
    assert res.returncode == 0, res.stderr  # failed tests are grades: every submission got a result
    for student in ("김민준", "lee", "park"):
        d = out / "submissions" / student / "week3_assignmet2(수정)"
        assert (d / "result.json").is_file() and (d / "report.html").is_file() and (d / "executed.ipynb").is_file()
        assert (d / "feedback.html").is_file()
    # the TA's copy holds what the hidden tests called; the student's only how many passed
    lee = out / "submissions" / "lee" / "week3_assignmet2(수정)"
    hidden = [t for t in json.loads((lee / "result.json").read_text())["tests"]
              if t["visibility"] == "hidden" and t.get("cases") and t["cases"][0].get("call")]
    assert hidden, "the db_from_da notebook fails hidden backprop tests"
    secret = hidden[0]["cases"][0]["call"]
    ta, student = (lee / "report.html").read_text(), (lee / "feedback.html").read_text()
    assert secret.split("(", 1)[1][:40].replace("'", "&#39;") in ta
    assert secret.split("(", 1)[1][:40].replace("'", "&#39;") not in student and "비공개 테스트: 통과" in student
    db = sqlite3.connect(out / "gradebook.sqlite")
    rows = db.execute("select student, score from results order by student").fetchall()
    assert len(rows) == 3
    assert (out / "grades_week3_nn_basic.csv").read_text(encoding="utf-8-sig").count("\n") == 4
    (lee / "feedback.html").unlink()  # as an older grader left it: graded, without the student's copy
    again = grader("grade", subs, "--out", out)
    assert "already in the gradebook 3" in again.stderr
    assert (lee / "feedback.html").read_text() == student  # written from the gradebook's result, not regraded
    # a folder may hold several assignments; one it has no notebook for (written.ipynb) is not mentioned
    assert "== week3" not in again.stderr and "week3_written" not in again.stderr
    regrade = grader("grade", subs, "--out", out, "--regrade", "-j", "2")
    assert "graded now 3" in regrade.stderr
    exp = grader("export", out, "--format", "gradescope")
    assert exp.returncode == 0
    assert (out / "gradescope" / "김민준" / "results.json").is_file()


def test_a_batch_leaves_nothing_in_the_temporary_folder(tmp_path):
    # kernels' scratch folders, the warm-kernel server's socket, the reference's data files:
    # pool workers end past atexit, and a TA's /tmp must not fill up run after run
    subs = tmp_path / "subs"
    for student, fixture in [("kim", "passes_all"), ("lee", "raises_in_call"),
                             ("park", "reads_global")]:
        (subs / student).mkdir(parents=True)
        shutil.copy(FIXTURES / f"{fixture}.ipynb", subs / student / "week3.ipynb")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    res = grader("grade", subs, "--out", tmp_path / "out", "-j", "2", "--assignment", "week3_nn_basic", env=env)
    assert res.returncode == 0, res.stderr
    assert len(list((tmp_path / "out" / "submissions").rglob("result.json"))) == 3
    assert sorted(p.name for p in tmp.iterdir()) == []
    if os.path.exists("/proc/mounts"):
        assert str(tmp) not in Path("/proc/mounts").read_text()


def test_grade_exits_0_when_every_submission_fails_but_gets_a_result(tmp_path):
    # a class where nobody passes: a failing notebook and one that is not a notebook at all
    # (invalid) are still graded; the exit status is about the batch, not the students' scores
    subs = tmp_path / "subs"
    (subs / "kim").mkdir(parents=True)
    shutil.copy(FIXTURES / "syntax_error_one_cell.ipynb", subs / "kim" / "week3.ipynb")
    (subs / "lee").mkdir()
    (subs / "lee" / "week3.ipynb").write_bytes(b"")
    out = tmp_path / "out"
    res = grader("grade", subs, "--out", out, "-j", "1", "--assignment", "week3_nn_basic")
    assert res.returncode == 0, res.stderr
    results = {s: json.loads((out / "submissions" / s / "week3" / "result.json").read_text(encoding="utf-8"))
               for s in ("kim", "lee")}
    assert results["lee"]["status"] == "invalid", results["lee"]["status"]
    assert any(t["status"] != "passed" for t in results["kim"]["tests"])
    assert all(r["score"] < r["max_score"] for r in results.values())
    rows = sqlite3.connect(out / "gradebook.sqlite").execute("select student, status from results").fetchall()
    assert sorted(r[0] for r in rows) == ["kim", "lee"]
    assert "got no result" not in res.stderr


def test_bad_usage_exits_2(tmp_path):
    res = grader("grade", "no/such/folder", "--out", str(tmp_path / "x"))
    assert res.returncode == 2
    assert "does not exist" in res.stderr
