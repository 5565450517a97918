"""A TA's overrides: stored with who and when, kept across regrades, shown in every export and
the total, set and cleared with `grader override` (validated against the graded parts)."""

from __future__ import annotations

import csv
import getpass
import json
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader import cli
from grader.gradebook import SCHEMA_VERSION, Gradebook, Override
from grader.gradebook_schema import APPLICATION_ID
from grader.report import exports
from grader.result import Result, TaskScore

TASKS = (("gates", "1. Gates", 12.0), ("backprop", "4. Backprop", 24.0))


def result(student: str = "김민준", scores: tuple[float, float] = (12.0, 6.0), *, submission: str | None = None,
           assignment: str = "week3_nn_basic", content: str = "v1") -> Result:
    tasks = [TaskScore(name, title, score, points) for (name, title, points), score in zip(TASKS, scores, strict=True)]
    return Result.scored(assignment=assignment, rubric_version="1", submission=submission or f"{student}/week3.ipynb",
                         student=student, sha256=f"{student}-{content}", pass_mark=20.0, status="graded", reason="",
                         tests=[], tasks=tasks)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    out = tmp_path / "OUT"
    with Gradebook(out / "gradebook.sqlite") as gb:
        gb.record(result())
        gb.record(result("lee", (6.0, 24.0)))
    return out


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the gradebook ------------------------------------------------------------------------------


def test_override_is_stored_with_who_and_when_and_survives_a_regrade(out: Path) -> None:
    when = datetime(2026, 11, 30, 20, 0, 5, tzinfo=timezone.utc)
    with Gradebook(out / "gradebook.sqlite") as gb:
        made = gb.set_override("week3_nn_basic", "김민준", "backprop", 20, "db sign only", when=when)
        assert made == Override("week3_nn_basic", "김민준", "backprop", 20.0, "db sign only", getpass.getuser(),
                                "2026-11-30T20:00:05+00:00")
        gb.record(result(content="v2"))  # a rerun, --regrade: the result is replaced
        gb.forget("lee/week3.ipynb")
        assert gb.overrides(assignment="week3_nn_basic") == [made]
        assert gb.overrides(assignment="other") == []
        # a second override of the same part replaces the first
        gb.set_override("week3_nn_basic", "김민준", "backprop", 18, "on second thought", who="ta2")
        (only,) = gb.overrides(student="김민준")
        assert (only.points, only.comment, only.who) == (18.0, "on second thought", "ta2")
        assert gb.clear_override("week3_nn_basic", "김민준", "gates") == 0
        assert gb.clear_override("week3_nn_basic", "김민준") == 1
        assert gb.overrides() == []


def test_decomposed_hangul_names_the_same_student(out: Path) -> None:
    import unicodedata

    with Gradebook(out / "gradebook.sqlite") as gb:
        gb.set_override("week3_nn_basic", unicodedata.normalize("NFD", "김민준"), "gates", 1, "x")
        assert gb.overrides(student="김민준")[0].student == "김민준"


def test_a_version_1_gradebook_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "gradebook.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE results (assignment TEXT NOT NULL, submission TEXT NOT NULL, student TEXT NOT NULL,
            rubric_version TEXT NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '', score REAL, max_score REAL, passed INTEGER,
            graded_at TEXT NOT NULL, result_json TEXT NOT NULL,
            PRIMARY KEY (assignment, submission)) WITHOUT ROWID;
        CREATE TABLE tests (assignment TEXT NOT NULL, submission TEXT NOT NULL, position INTEGER NOT NULL,
            name TEXT NOT NULL, task TEXT, visibility TEXT, status TEXT, score REAL, max_score REAL,
            PRIMARY KEY (assignment, submission, position)) WITHOUT ROWID;
    """)
    old = result()
    db.execute("INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
               (old.assignment, old.submission, old.student, "1", old.sha256, "graded", "", old.score,
                old.max_score, 1, "2026-11-01T00:00:00+00:00", json.dumps(old.to_dict(), ensure_ascii=False)))
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Gradebook(path) as gb:
        assert gb.get(old.submission) == old
        gb.set_override(old.assignment, old.student, "gates", 0, "copied")
        gb.set_submitted_times(old.assignment, {old.submission: 1700000000.0})
        gb.record(result(content="v2"))  # the upsert keeps the time
        assert gb.submitted_times() == {(old.assignment, old.submission): 1700000000.0}
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    assert db.execute("SELECT part, points FROM overrides").fetchall() == [("gates", 0.0)]
    db.close()


# -- effective: the one place a grade is read ---------------------------------------------------


def test_effective_replaces_the_part_and_the_total_only_for_its_student() -> None:
    overrides = [
        Override("week3_nn_basic", "김민준", "backprop", 20.0, "db sign only", "ta", "t"),
        Override("week3_nn_basic", "lee", "gates", 0.0, "not mine", "ta", "t"),
        Override("other_assignment", "김민준", "gates", 0.0, "elsewhere", "ta", "t"),
        Override("week3_nn_basic", "김민준", "removed_part", 5.0, "rubric changed", "ta", "t"),
    ]
    score, parts, comments = exports.effective(result(), overrides)
    assert (score, parts, comments) == (32.0, {"gates": 12.0, "backprop": 20.0}, ("4. Backprop: db sign only",))
    assert exports.effective(result(), []) == (18.0, {"gates": 12.0, "backprop": 6.0}, ())
    assert exports.effective(result("park"), overrides).score == 18.0


def test_every_export_shows_the_override(tmp_path: Path) -> None:
    mine = [Override("week3_nn_basic", "김민준", "backprop", 2.0, "=cmd|' /C calc'!A0", "ta", "t")]
    results = [result(), result("lee", (6.0, 24.0))]
    exports.write_csv(results, tmp_path / "g.csv", overrides=mine)
    with open(tmp_path / "g.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert (rows[0]["score"], rows[0]["backprop"], rows[0]["passed"]) == ("14.0", "2.0", "false")  # below 20
    assert rows[0]["override_comment"] == "4. Backprop: =cmd|' /C calc'!A0"  # defused inside, not at the start
    assert (rows[1]["score"], rows[1]["override_comment"]) == ("30.0", "")
    exports.write_sheet(results, tmp_path / "s.csv", overrides=mine)
    with open(tmp_path / "s.csv", encoding="utf-8-sig", newline="") as fh:
        sheet = list(csv.reader(fh))
    assert sheet[0][:6] == ["student", "total", "maximum", "status", "1. Gates", "4. Backprop"]
    assert sheet[1][0] == "lee"  # students sorted (without a roster)
    assert sheet[2][:7] == ["김민준", "14.0", "36.0", "graded", "12.0", "2.0", "4. Backprop: =cmd|' /C calc'!A0"]
    (gs,) = [p for p in exports.write_gradescope(results, tmp_path / "gs", overrides=mine) if "김민준" in str(p)]
    data = json.loads(gs.read_text(encoding="utf-8"))
    assert data["score"] == 14.0 and "override: 4. Backprop" in data["output"]
    exports.write_junit(results, tmp_path / "j.xml", overrides=mine)
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "j.xml").getroot()[0].iter("property")}
    assert (props["score"], props["passed"], props["override"]) == ("14.0", "false", "4. Backprop: =cmd|' /C calc'!A0")


# -- grader override ------------------------------------------------------------------------------


def test_override_command_sets_lists_and_clears(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = out / "grades_week3_nn_basic.csv"
    csv_file.write_text("stale\n", encoding="utf-8")
    code, stdout, _ = run(capsys, "override", out, "김민준", "--part", "4", "--points", "20",
                          "--comment", "db sign only, see email")
    assert code == 0
    assert "김민준: backprop set to 20 / 24 (graded 6); total 32.0 / 36.0" in stdout
    assert "32.0" in csv_file.read_text(encoding="utf-8-sig")  # the grades CSV is never left stale
    code, stdout, _ = run(capsys, "override", out)
    assert code == 0 and "김민준  backprop  20 points  db sign only, see email" in stdout
    assert f"({getpass.getuser()}, 20" in stdout
    code, stdout, _ = run(capsys, "override", out, "김민준", "--part", "backprop", "--clear")
    assert code == 0 and "1 override(s) cleared" in stdout
    assert "18.0" in csv_file.read_text(encoding="utf-8-sig")
    assert "no overrides" in run(capsys, "override", out)[1]


@pytest.mark.parametrize(("args", "says"), [
    (["김민준", "--part", "loss", "--points", "1", "--comment", "x"],
     "no part 'loss'; give --part one of: gates (1. Gates, max 12), backprop (4. Backprop, max 24)"),
    (["김민준", "--part", "backprop", "--points", "30", "--comment", "x"], "give a number from 0 to 24"),
    (["김민준", "--part", "backprop", "--points", "-1", "--comment", "x"], "give a number from 0 to 24"),
    (["김민준", "--part", "backprop", "--points", "nan", "--comment", "x"], "give a number from 0 to 24"),
    (["김민준", "--part", "backprop", "--points", "3"], "say why with --comment"),
    (["김민준", "--points", "3", "--comment", "x"], "say which part with --part"),
    (["nobody", "--part", "gates", "--points", "3", "--comment", "x"], "the students are: lee, 김민준"),
    (["김민준", "--part", "gates", "--points", "3", "--clear"], "give one of them"),
    (["김민준", "--part", "gates", "--points", "3", "--comment", "x", "--assignment", "week9"],
     "holds no results for 'week9'"),
])
def test_override_refuses_what_it_cannot_mean(out: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                              says: str) -> None:
    code, _, err = run(capsys, "override", out, *args)
    assert code == 2 and says in err, err
    with Gradebook(out / "gradebook.sqlite") as gb:
        assert gb.overrides() == []


def test_override_asks_which_assignment_when_there_are_several(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Gradebook(out / "gradebook.sqlite") as gb:
        gb.record(result(assignment="week3_written"))
    code, _, err = run(capsys, "override", out, "김민준", "--part", "gates", "--points", "3", "--comment", "x")
    assert code == 2 and "several assignments (week3_nn_basic, week3_written); choose one with --assignment" in err
    code, _, _ = run(capsys, "override", out, "김민준", "--part", "gates", "--points", "3", "--comment", "x",
                     "--assignment", "week3_written")
    assert code == 0
    with Gradebook(out / "gradebook.sqlite") as gb:
        assert [o.assignment for o in gb.overrides()] == ["week3_written"]


def test_a_folder_with_several_assignments_gets_a_landing_page(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each assignment's dashboard is index_<assignment>.html; OUT/index.html, where a TA looks
    first, links them all with their counts (overrides in force), and runs nothing."""
    with Gradebook(out / "gradebook.sqlite") as gb:
        gb.record(result(assignment="week3_written"))  # 12 + 6 = 18: below the pass mark of 20
    for assignment, student, part, points in (("week3_written", "김민준", "gates", "3"),
                                              ("week3_nn_basic", "김민준", "backprop", "10")):
        code, _, _ = run(capsys, "override", out, student, "--part", part, "--points", points, "--comment", "x",
                         "--assignment", assignment)
        assert code == 0
    assert (out / "index_week3_nn_basic.html").is_file() and (out / "index_week3_written.html").is_file()
    landing = (out / "index.html").read_text(encoding="utf-8")
    assert "Content-Security-Policy" in landing and "<script" not in landing
    rows = {a: landing.split(f'href="index_{a}.html"', 1)[1].split("</tr>", 1)[0]
            for a in ("week3_nn_basic", "week3_written")}
    cells = {a: re.findall(r'<td class="num">([^<]*)</td>', row) for a, row in rows.items()}
    # submissions, graded, passed, mean: 김민준 12 + 10 (overridden) = 22 passes beside lee's 30; week3_written 3 + 6
    assert cells == {"week3_nn_basic": ["2", "2", "2", "26.0"], "week3_written": ["1", "1", "0", "9.0"]}


def test_override_without_a_gradebook_says_to_grade_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "override", tmp_path, "kim")
    assert code == 2 and "gradebook.sqlite" in err


def test_export_applies_overrides_from_the_command_line(out: Path) -> None:
    with Gradebook(out / "gradebook.sqlite") as gb:
        gb.set_override("week3_nn_basic", "lee", "gates", 0, "copied from the board")
    res = subprocess.run([sys.executable, "-m", "grader", "export", str(out), "--format", "sheet"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    with open(out / "sheet_week3_nn_basic.csv", encoding="utf-8-sig", newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert (rows["lee"]["total"], rows["lee"]["override_comment"]) == ("24.0", "1. Gates: copied from the board")
    assert rows["김민준"]["total"] == "18.0"
