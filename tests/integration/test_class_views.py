"""The class's pages after `grader grade` and after `grader override`: the dashboard
(OUT/index.html) and the similar submissions (OUT/similar_pairs.csv, OUT/similar/*.html)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
SIMILAR = ROOT / "tests" / "fixtures" / "notebooks" / "similar"


def grader(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=900, check=False)


def test_grade_writes_the_dashboard_and_the_similar_pairs_and_an_override_rebuilds_it(tmp_path: Path) -> None:
    import tomllib

    manifest = tomllib.loads((SIMILAR / "MANIFEST.toml").read_text(encoding="utf-8"))
    a, b = manifest["copy"][0]["a"], manifest["copy"][0]["b"]  # a renamed copy
    subs = tmp_path / "subs"
    for student in (a, b):
        (subs / student).mkdir(parents=True)
        shutil.copy(SIMILAR / f"{student}.ipynb", subs / student / "week3.ipynb")
    out = tmp_path / "out"
    handout = (SIMILAR / manifest["handout"][0]).resolve()  # the course's file the batch was filled in
    res = grader("grade", subs, "--assignment", "week3_nn_basic", "--out", out, "-j", "2", "--handout", handout)
    assert res.returncode == 0, res.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    assert a in page and b in page and "submissions/" in page
    with open(out / "similar_pairs.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["student_a"], r["student_b"]) for r in rows} == {tuple(sorted((a, b)))}
    assert list((out / "similar").glob("*.html")), "the side-by-side page of the pair"
    res = grader("override", out, a, "--part", "backprop", "--points", "1", "--comment", "checked by hand <b>")
    assert res.returncode == 0, res.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "checked by hand &lt;b&gt;" in page
    report = next((out / "submissions" / a).rglob("report.html")).read_text(encoding="utf-8")
    assert 'id="overrides"' in report and "checked by hand &lt;b&gt;" in report  # the TA's copy says so
    res = grader("grade", subs, "--assignment", "week3_nn_basic", "--out", out, "--regrade", "-j", "2")
    assert res.returncode == 0, res.stderr
    report = next((out / "submissions" / a).rglob("report.html")).read_text(encoding="utf-8")
    assert "checked by hand &lt;b&gt;" in report  # kept across a regrade
    res = grader("override", out, a, "--clear")
    assert res.returncode == 0, res.stderr
    report = next((out / "submissions" / a).rglob("report.html")).read_text(encoding="utf-8")
    assert 'id="overrides"' not in report and "checked by hand" not in (out / "index.html").read_text()
