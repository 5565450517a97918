"""A TA's class through the command line: the handout left out, a roster with a missing student
and a student with two notebooks, an override kept across a rerun, the sheet to paste."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks" / "week3"
HANDOUT = ROOT / "assignments" / "week3_nn_basic" / "week3_nn_basic.ipynb"


def grader(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, check=False)


def sheet(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return {r["student"]: r for r in csv.DictReader(fh)}


def test_a_class_with_a_roster_an_override_and_the_handout(tmp_path: Path) -> None:
    subs = tmp_path / "Week3" / "NN Basic"
    for where, fixture in [("kim/week3.ipynb", "passes_all"), ("lee/week3_old.ipynb", "gates_only"),
                           ("lee/week3.ipynb", "passes_all")]:
        (subs / where).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / f"{fixture}.ipynb", subs / where)
    os.utime(subs / "lee" / "week3_old.ipynb", (1_700_000_000, 1_700_000_000))  # handed in first
    shutil.copy(HANDOUT, subs / "week3_nn_basic.ipynb")  # the blank lying at the top of the class folder
    roster = tmp_path / "roster.csv"
    roster.write_text("path,student\nkim/week3.ipynb,kim\n,choi\n", encoding="utf-8")
    out = tmp_path / "out"

    res = grader("grade", subs, "--out", out, "-j", "2")
    assert res.returncode == 0, res.stderr
    assert "left out week3_nn_basic.ipynb: an untouched copy of the handout" in res.stderr
    assert "week3_written" not in res.stderr and "== " not in res.stderr  # no written.ipynb: not a word of it
    assert "graded now 3" in res.stderr

    res = grader("override", out, "kim", "--part", "backprop", "--points", "20", "--comment", "db sign, see email")
    assert res.returncode == 0, res.stderr
    assert "kim: backprop set to 20 / 24 (graded 24); total 96.0 / 100.0" in res.stdout
    again = grader("grade", subs, "--out", out, "-j", "2")  # a rerun keeps the TA's override
    assert again.returncode == 0 and "already in the gradebook 3" in again.stderr, again.stderr

    res = grader("export", out, "--format", "sheet", "--roster", roster, "--to", tmp_path / "paste.csv")
    assert res.returncode == 0, res.stderr
    rows = sheet(tmp_path / "paste.csv")
    assert list(rows) == ["kim", "choi", "lee"]
    assert (rows["kim"]["total"], rows["kim"]["4. 역전파 (sigmoid_prime, backpropagation)"]) == ("96.0", "20.0")
    assert rows["kim"]["override_comment"] == "4. 역전파 (sigmoid_prime, backpropagation): db sign, see email"
    assert (rows["choi"]["status"], rows["choi"]["total"], rows["choi"]["maximum"]) == ("missing", "", "100.0")
    assert (rows["lee"]["submission"], rows["lee"]["other_submissions"]) == ("lee/week3.ipynb",
                                                                              "lee/week3_old.ipynb")
    assert rows["lee"]["total"] == "100.0"
    with open(out / "grades_week3_nn_basic.csv", encoding="utf-8-sig", newline="") as fh:
        kim = next(r for r in csv.DictReader(fh) if r["student"] == "kim")
    assert kim["score"] == "96.0"  # the grades CSV the run wrote shows the override too
