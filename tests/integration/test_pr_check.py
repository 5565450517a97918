"""A pull request to the class repository, checked as the example workflows check it.

Simulated, not real: GitHub and GitLab. A class repository is built with git in a temporary
folder (a base commit with the blank handout in "Week3/NN Basic/" and a workflow file; a pull
request branch adding a student's notebook and hostile files), with an event payload and the
environment variables a runner sets. `grader check --ci --changed` then really runs, from the
base checkout, grading in the real sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader import ci
from grader.report.i18n import t

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
WEEK3 = ROOT / "tests" / "fixtures" / "notebooks" / "week3"
HANDOUT = next((ROOT / "rubrics" / "week3_nn_basic" / "handout").glob("*.ipynb"))
HIDDEN_TESTS = sorted(
    line.split("(")[0].removeprefix("def ")
    for f in (ROOT / "rubrics" / "week3_nn_basic" / "tests" / "hidden").glob("test_*.py")
    for line in f.read_text(encoding="utf-8").splitlines() if line.startswith("def test_")
)
NOTEBOOK = "Week3/NN Basic/kim/week3_assignmet2.ipynb"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def class_repo(tmp_path: Path) -> dict[str, object]:
    repo = tmp_path / "class"
    root = repo / "Week3" / "NN Basic"
    root.mkdir(parents=True)
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "config", "user.email", "ta@example.org")
    git(repo, "config", "user.name", "TA")
    shutil.copy(HANDOUT, root / HANDOUT.name)
    (repo / ".github" / "workflows").mkdir(parents=True)
    workflow = (ROOT / "examples" / "ci" / "class-repo-pr.yml").read_text(encoding="utf-8")
    (repo / ".github" / "workflows" / "class-repo-pr.yml").write_text(workflow, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "week 3 handout")
    base = git(repo, "rev-parse", "HEAD")

    pwned = tmp_path / "pwned"
    hostile = f"open({str(pwned)!r}, 'a').write('ran\\n')\n"
    git(repo, "checkout", "-qb", "kim-week3")
    (root / "kim").mkdir()
    shutil.copy(WEEK3 / "gates_and_activations_only.ipynb", repo / NOTEBOOK)  # gates and activations only: 26
    shutil.copy(HANDOUT, root / "kim" / "copy_of_the_handout.ipynb")  # untouched: left out
    (repo / "Week2").mkdir()
    shutil.copy(WEEK3 / "gates_only.ipynb", repo / "Week2" / "week2.ipynb")  # another week: skipped
    for name in ("sitecustomize.py", "conftest.py", "Week3/NN Basic/kim/sitecustomize.py", "setup.py"):
        (repo / name).write_text(hostile, encoding="utf-8")
    (repo / ".github" / "workflows" / "class-repo-pr.yml").write_text(
        f"on: pull_request_target\njobs: {{x: {{runs-on: ubuntu-latest, steps: [{{run: '{hostile.strip()}'}}]}}}}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "김민준(21기) - 3주차 과제")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")  # the runner's checkout is the base
    return {"repo": repo, "base": base, "head": head, "pwned": pwned, "workflow": workflow, "tmp": tmp_path}


def run_check(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB", "CI_", "RUNNER_"))}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "grader", "check", "--ci", "--changed", *args],
                          cwd=repo, env={**clean, **env}, capture_output=True, text=True, timeout=600)


def cell_line(raw: str, function: str) -> int:
    """The line where the cell defining *function* starts, found by reading the file as lines: the
    last '  {' before the line of its ``def``."""
    lines = raw.splitlines()
    at = next(i for i, line in enumerate(lines) if f"def {function}(" in line)
    return next(i for i in range(at, -1, -1) if lines[i] == "  {") + 1


def test_a_pull_request_on_github_is_checked_from_the_base(class_repo: dict[str, object]) -> None:
    repo, tmp = Path(str(class_repo["repo"])), Path(str(class_repo["tmp"]))
    event = tmp / "event.json"
    event.write_text(json.dumps({"action": "opened", "pull_request": {
        "number": 7, "base": {"sha": class_repo["base"]}, "head": {"sha": class_repo["head"]}}}))
    step_summary = tmp / "step_summary.md"
    step_summary.write_text("an earlier step's summary\n", encoding="utf-8")
    runner_temp = tmp / "runner_temp"
    runner_temp.mkdir()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event), "GITHUB_STEP_SUMMARY": str(step_summary),
           "RUNNER_TEMP": str(runner_temp)}

    res = run_check(repo, env, "--root", "Week3/NN Basic", "--assignment", "week3_nn_basic",
                    "--junit", str(tmp / "junit.xml"))

    assert res.returncode == 1, res.stderr  # 26 of 100, below the pass mark of 60
    raw = (ROOT / "tests" / "fixtures" / "notebooks" / "week3" / "gates_and_activations_only.ipynb").read_text()
    errors = [line for line in res.stdout.splitlines() if line.startswith("::error ")]
    forward = cell_line(raw, "forward")
    assert f"::error file=Week3/NN Basic/kim/week3_assignmet2.ipynb,line={forward},title=" in res.stdout
    assert any(f"line={cell_line(raw, 'backpropagation')}," in e and "backpropagation::" in e for e in errors)
    assert all("file=Week3/NN Basic/kim/week3_assignmet2.ipynb," in e for e in errors)  # only the graded one

    summary = step_summary.read_text(encoding="utf-8")
    assert summary.startswith("an earlier step's summary\n")  # appended
    assert "kim" in summary and "26.0 / 100.0" in summary

    comment = (runner_temp / ci.COMMENT_FILE).read_text(encoding="utf-8")
    assert comment.splitlines()[0] == ci.MARKER
    assert "kim" in comment and "26.0 / 100.0" in comment
    for title in ("논리 게이트", "활성화 함수", "순전파", "역전파", "뉴런 학습", "Iris 퍼셉트론"):
        assert any(line.startswith("| ") and title in line for line in comment.splitlines()), title
    assert t("ci_official", "ko") in comment
    assert "격리 방식" in comment or "주의" in comment  # the sandbox, whichever this machine has

    # another week's notebook is skipped, and a student's untouched copy of the handout left out
    assert "Week2/week2.ipynb" in comment and r"copy\_of\_the\_handout.ipynb" in comment  # Markdown-escaped
    assert "skipped Week2/week2.ipynb" in res.stderr

    # the public tests only: no hidden test's name anywhere
    junit = (tmp / "junit.xml").read_text(encoding="utf-8")
    assert 'name="test_gates' in junit or "test_" in junit
    for name in HIDDEN_TESTS:
        assert name not in junit and name not in res.stdout and name not in summary and name not in comment

    # the pull request's files were data: none was run or checked out, the workflow is the base's
    assert not Path(str(class_repo["pwned"])).exists()
    assert not (repo / "sitecustomize.py").exists() and not (repo / "conftest.py").exists()
    assert not (repo / "Week3" / "NN Basic" / "kim").exists()
    assert (repo / ".github" / "workflows" / "class-repo-pr.yml").read_text() == class_repo["workflow"]
    assert git(repo, "rev-parse", "HEAD") == class_repo["base"]


def test_a_merge_request_on_gitlab_is_checked_the_same_way(class_repo: dict[str, object]) -> None:
    repo, tmp = Path(str(class_repo["repo"])), Path(str(class_repo["tmp"]))
    git(repo, "checkout", "-qb", "lee-week3", str(class_repo["base"]))
    (repo / "Week3" / "NN Basic" / "lee").mkdir()
    shutil.copy(WEEK3 / "passes_all.ipynb", repo / "Week3" / "NN Basic" / "lee" / "week3.ipynb")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "lee")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    env = {"GITLAB_CI": "true", "CI_MERGE_REQUEST_DIFF_BASE_SHA": str(class_repo["base"]), "CI_COMMIT_SHA": head}

    res = run_check(repo, env, "--root", "Week3/NN Basic", "--summary", str(tmp / "summary.md"))

    assert res.returncode == 0, res.stderr + res.stdout  # full marks: above the pass mark
    assert "::error" not in res.stdout  # GitLab has no workflow commands
    comment = (repo / ci.COMMENT_FILE).read_text(encoding="utf-8")  # default: the current folder
    assert comment.splitlines()[0] == ci.MARKER and "lee" in comment and "100.0 / 100.0" in comment
    assert "Week3/NN Basic/lee/week3.ipynb" in (tmp / "summary.md").read_text(encoding="utf-8")
    assert not any(name in comment for name in HIDDEN_TESTS)


def test_no_notebook_changed_exits_0_and_says_so(class_repo: dict[str, object]) -> None:
    repo = Path(str(class_repo["repo"]))
    res = run_check(repo, {}, f"{class_repo['base']}...{class_repo['base']}", "--root", "Week3/NN Basic")
    assert res.returncode == 0, res.stderr
    assert t("ci_nothing_to_check", "ko") in res.stdout
