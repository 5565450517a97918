"""Pull requests in CI without a kernel (grader/ci.py): annotations and their escaping, the line of
the cell that defines a function, who a notebook belongs to, the comment's body, reading a change
out of git, and `grader comment` against a fake GitHub and a fake GitLab (http.server in a thread)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader import ci
from grader.cli import main
from grader.report.i18n import t
from grader.result import CaseResult, Result, TaskScore, TestResult

ROOT = Path(__file__).resolve().parents[2]
WEEK3 = ROOT / "tests" / "fixtures" / "notebooks" / "week3"


# -- GitHub's workflow commands -------------------------------------------------------------------


def test_annotation_escapes_data_and_properties_as_github_does() -> None:
    line = ci.annotation("Week3/NN Basic/a,b:c%.ipynb", 12, "4. Backprop: dw, db", "50% off\r\nsecond line")
    assert line == ("::error file=Week3/NN Basic/a%2Cb%3Ac%25.ipynb,line=12,title=4. Backprop%3A dw%2C db"
                    "::50%25 off%0D%0Asecond line")
    # a message cannot start a second workflow command on a line of its own
    assert "\n::" not in ci.annotation("x.ipynb", 1, "t", "ok\n::add-mask::secret")


# -- the line of the cell defining a function -----------------------------------------------------


def _cell_brace_lines(text: str) -> list[int]:
    """Independently of the scanner: in a file nbformat wrote (indent 1), a cell starts at a line
    that is exactly '  {' directly inside the cells array."""
    return [i for i, line in enumerate(text.splitlines(), 1) if line == "  {"]


def test_cell_start_lines_match_the_cells_of_a_real_notebook() -> None:
    text = (WEEK3 / "gates_and_activations_only.ipynb").read_text(encoding="utf-8")
    starts = ci.cell_start_lines(text)
    assert starts == _cell_brace_lines(text)
    assert len(starts) == len(json.loads(text)["cells"])


def test_cell_start_lines_are_not_fooled_by_braces_quotes_or_a_cells_key_in_strings() -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["note"] = {"cells": [{"x": 1}]}  # a "cells" key that is not the top-level one
    nb.cells = [
        nbformat.v4.new_markdown_cell('text with { and [ and "quotes" and \\" and "cells": ['),
        nbformat.v4.new_code_cell('s = "}]"  # }\ndef forward(x):\n    return {"a": [x]}'),
        nbformat.v4.new_code_cell("def forward(x):\n    return x"),
    ]
    text = nbformat.writes(nb)
    assert ci.cell_start_lines(text) == _cell_brace_lines(text)
    # the last definition is the one in force when the notebook has run
    assert ci.function_line(text, "forward") == _cell_brace_lines(text)[2]


def test_function_line_points_at_the_cell_that_defines_it_else_line_1() -> None:
    text = (WEEK3 / "passes_all.ipynb").read_text(encoding="utf-8")
    lines = text.splitlines()
    for function in ("XOR", "sigmoid_prime", "backpropagation", "Perceptron.fit"):
        line = ci.function_line(text, function)
        name = function.split(".")[0]
        following = "\n".join(lines[line - 1:line + 40])
        assert lines[line - 1] == "  {", function
        assert f"def {name}(" in following or f"class {name}" in following, function
    assert ci.function_line(text, "no_such_function") == 1
    assert ci.function_line("not json", "XOR") == 1


def test_function_line_in_a_notebook_written_on_one_line() -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def AND(a, b):\n    return a and b")]
    assert ci.function_line(json.dumps(nb), "AND") == 1  # one line: the cell starts on line 1


# -- whose notebook -------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "root", "student"), [
    ("Week3/NN Basic/kim/week3.ipynb", "Week3/NN Basic", "kim"),
    ("Week3/NN Basic/김민준/sub/week3.ipynb", "Week3/NN Basic/", "김민준"),
    ("Week3/NN Basic/week3.ipynb", "Week3/NN Basic", "week3"),
    ("Week2/lee/w2.ipynb", "Week3/NN Basic", None),
    ("Week3/NN Basic Extra/lee/w.ipynb", "Week3/NN Basic", None),
    ("Week3/NN Basic/park/x.ipynb", None, "park"),
])
def test_the_student_is_the_first_folder_under_the_root(path: str, root: str | None, student: str | None) -> None:
    assert ci.student_for(path, root) == student


def test_detect_and_the_revisions_of_a_pull_request(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 3, "base": {"sha": "b" * 40}, "head": {"sha": "h" * 40}}}))
    github = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event)}
    assert ci.detect(github) == "github" and ci.detect({"GITLAB_CI": "true"}) == "gitlab" and ci.detect({}) == ""
    assert ci.revisions(None, github) == ("b" * 40, "h" * 40)
    gitlab = {"GITLAB_CI": "true", "CI_MERGE_REQUEST_DIFF_BASE_SHA": "base1", "CI_COMMIT_SHA": "head1"}
    assert ci.revisions(None, gitlab) == ("base1", "head1")
    # a merged-results pipeline: CI_COMMIT_SHA is the merge with the target; the MR's head is its source SHA
    merged = {**gitlab, "CI_COMMIT_SHA": "merge1", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": "head1"}
    assert ci.revisions(None, merged) == ("base1", "head1")
    assert ci.revisions("origin/main...HEAD", {}) == ("origin/main", "HEAD")
    assert ci.revisions("origin/main", {}) == ("origin/main", "HEAD")
    event.write_text(json.dumps({"ref": "refs/heads/main"}))  # a push, not a pull request
    with pytest.raises(ci.UsageError, match="not a pull request event"):
        ci.revisions(None, github)
    with pytest.raises(ci.UsageError, match="BASE...HEAD"):
        ci.revisions(None, {})


# -- reading a change out of git, as data ---------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_changed_notebooks_are_read_from_git_without_a_checkout(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "Week3" / "NN Basic").mkdir(parents=True)
    _git(tmp_path, "init", "-q", "-b", "main", str(repo))
    _git(repo, "config", "user.email", "ta@example.org")
    _git(repo, "config", "user.name", "TA")
    shutil.copy(WEEK3 / "untouched_blank.ipynb", repo / "Week3" / "NN Basic" / "old.ipynb")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-qb", "pr")
    kim = repo / "Week3" / "NN Basic" / "kim"
    kim.mkdir()
    shutil.copy(WEEK3 / "gates_only.ipynb", kim / "week3.ipynb")
    (kim / "link.ipynb").symlink_to("/etc/passwd")
    (kim / "notes.py").write_text("print('not a notebook')\n")
    _git(repo, "mv", "Week3/NN Basic/old.ipynb", "Week3/NN Basic/kim/renamed.ipynb")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "pr")
    head = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "main")
    before = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if ".git" not in p.parts)

    found = ci.changed_notebooks(repo, base, head, tmp_path / "out")

    by_path = {c.path: c for c in found}
    assert set(by_path) == {"Week3/NN Basic/kim/week3.ipynb", "Week3/NN Basic/kim/link.ipynb",
                            "Week3/NN Basic/kim/renamed.ipynb"}
    week3 = by_path["Week3/NN Basic/kim/week3.ipynb"]
    assert week3.file == tmp_path / "out" / "Week3" / "NN Basic" / "kim" / "week3.ipynb"
    assert week3.file.read_bytes() == (WEEK3 / "gates_only.ipynb").read_bytes()
    link = by_path["Week3/NN Basic/kim/link.ipynb"]
    assert link.file is None and link.skip is not None and link.skip[0] == "ci_skip_not_file"  # never followed
    # the work tree is still the base's: nothing of the pull request was checked out
    assert sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*") if ".git" not in p.parts) == before
    assert _git(repo, "rev-parse", "HEAD") == base
    # the base's handout, for recognising an untouched copy
    handouts = ci.base_handouts(repo, base, "Week3/NN Basic", tmp_path / "base")
    assert [h.name for h in handouts] == ["old.ipynb"]


# -- the comment ----------------------------------------------------------------------------------


def _result(*, sandbox: str, student: str = "kim") -> Result:
    tasks = [TaskScore("gates", "1. Gates", 12.0, 12.0), TaskScore("backprop", "4. Backprop", 6.0, 24.0)]
    tests = [
        TestResult("test_gates", "gates", "public", "passed", "", 12.0, 12.0),
        TestResult("test_backpropagation_dw", "backprop", "public", "failed", "dw differs", 6.0, 24.0,
                   cases=(CaseResult("backpropagation", "backpropagation → dw", call="backpropagation(X, Y, A, Z)",
                                     expected="[[0.1]]", got="[[0.2]]"),)),
    ]
    return Result.scored(assignment="week3_nn_basic", rubric_version="1",
                         submission=f"Week3/NN Basic/{student}/w.ipynb", student=student, sha256="0" * 64,
                         pass_mark=60, status="graded", reason="", tests=tests, tasks=tasks, sandbox=sandbox)


def test_comment_body_has_the_marker_the_parts_the_sandbox_and_the_official_line() -> None:
    checked = [ci.Checked("Week3/NN Basic/kim/w.ipynb", None, "kim", _result(sandbox="bwrap")),
               ci.Checked("Week2/x.ipynb", None, "", skip=("ci_skip_outside_root", {"root": "Week3/NN Basic"}))]
    body = ci.comment_body(checked, "en")
    assert body.splitlines()[0] == ci.MARKER
    assert "kim" in body and "18.0 / 36.0" in body and "not passed" in body.lower()
    # in English the parts are named by the catalogue, numbered as the rubric numbers them
    assert f"| 1. {t('part_gates', 'en')} | 12.0 / 12.0 |" in body
    row = next(line for line in body.splitlines() if line.startswith("| 4. "))
    assert "6.0 / 24.0" in row and row.rstrip(" |").endswith("backpropagation")
    assert "Week2/x.ipynb: not under Week3/NN Basic" in body
    assert t("ci_sandbox_strong", "en", mechanism="bwrap") in body
    assert t("ci_official", "en") in body
    assert "resource limits only" not in body


def test_a_weak_sandbox_is_said_plainly_in_the_comment_and_the_summary(tmp_path: Path) -> None:
    checked = [ci.Checked("Week3/NN Basic/kim/w.ipynb", None, "kim", _result(sandbox="rlimits-as-root"))]
    done = ci.report(checked, lang="ko", where="", summary=tmp_path / "s.md", comment=tmp_path / "c.md", env={})
    weak = t("ci_sandbox_weak", "ko", mechanism="rlimits-as-root")
    assert weak in (tmp_path / "c.md").read_text(encoding="utf-8") and weak in (tmp_path / "s.md").read_text()
    assert done.annotations == []  # not on GitHub: no workflow commands


def test_student_text_cannot_mention_or_inject_markdown() -> None:
    checked = [ci.Checked("Week3/NN Basic/@org/<img src=x>.ipynb", None, "@org",
                          _result(sandbox="bwrap", student="@org"))]
    body = ci.comment_body(checked, "en")
    assert "@org" not in body and "<img" not in body


def test_annotations_on_github_point_at_the_defining_cell(tmp_path: Path) -> None:
    nb = tmp_path / "w.ipynb"
    shutil.copy(WEEK3 / "passes_all.ipynb", nb)
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    checked = [ci.Checked("Week3/NN Basic/kim/w.ipynb", nb, "kim", _result(sandbox="bwrap"))]
    done = ci.report(checked, lang="en", where="github", summary=None, comment=None,
                     env={"GITHUB_STEP_SUMMARY": str(step)})
    line = ci.function_line(nb.read_text(encoding="utf-8"), "backpropagation")
    assert line > 1
    title = f"{t('part_backprop', 'en')}: backpropagation"
    assert done.annotations == [ci.annotation("Week3/NN Basic/kim/w.ipynb", line, title,
                                              "backpropagation(X, Y, A, Z): expected [[0.1]] · got [[0.2]]")]
    summary = step.read_text(encoding="utf-8")
    assert summary.startswith("earlier step\n") and "kim" in summary  # appended, not overwritten


# -- grader comment against fake APIs ---------------------------------------------------------------


class FakeForge:
    """A GitHub (issue comments) or GitLab (MR notes) API holding comments in memory."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.comments: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.next_id = 100
        forge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, data: Any) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> dict[str, Any]:
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n) or b"{}")

            def handle_any(self, method: str) -> None:
                forge.requests.append((method, self.path, dict(self.headers)))
                path = self.path.split("?")[0]
                status, data = forge.answer(method, path, self._body() if method in ("POST", "PATCH", "PUT") else {},
                                            dict(self.headers))
                self._send(status, data)

            def do_GET(self) -> None:
                self.handle_any("GET")

            def do_POST(self) -> None:
                self.handle_any("POST")

            def do_PATCH(self) -> None:
                self.handle_any("PATCH")

            def do_PUT(self) -> None:
                self.handle_any("PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, method: str, path: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
        if self.kind == "github":
            if headers.get("Authorization") != "Bearer s3cret":
                return 401, {"message": "Bad credentials"}
            if path == "/user":
                return 403, {"message": "Resource not accessible by integration"}  # as for a GITHUB_TOKEN
            if path == "/repos/course/class/issues/7/comments":
                if method == "GET":
                    return 200, self.comments
                self.next_id += 1
                self.comments.append({"id": self.next_id, "body": body["body"],
                                      "user": {"login": "github-actions[bot]"},
                                      "html_url": f"https://github.example/c/{self.next_id}"})
                return 201, self.comments[-1]
            if path.startswith("/repos/course/class/issues/comments/") and method == "PATCH":
                wanted = int(path.rsplit("/", 1)[1])
                for c in self.comments:
                    if c["id"] == wanted:
                        c["body"] = body["body"]
                        return 200, c
            return 404, {"message": "Not Found"}
        if headers.get("Private-Token") != "gl-token":
            return 401, {"message": "401 Unauthorized"}
        if path == "/api/v4/user":
            return 200, {"id": 42, "username": "grader-bot"}
        notes = "/api/v4/projects/course%2Fclass/merge_requests/5/notes"
        if path == notes:
            if method == "GET":
                return 200, self.comments
            self.next_id += 1
            self.comments.append({"id": self.next_id, "body": body["body"], "author": {"id": 42}})
            return 201, self.comments[-1]
        if path.startswith(notes + "/") and method == "PUT":
            wanted = int(path.rsplit("/", 1)[1])
            for c in self.comments:
                if c["id"] == wanted:
                    c["body"] = body["body"]
                    return 200, c
        return 404, {"message": "404 Not found"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeForge]:
    forge = FakeForge("github")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "base": {"sha": "a"}, "head": {"sha": "b"}}}))
    for name in ("GITLAB_CI", "GRADER_GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_API_URL", forge.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", "course/class")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_TOKEN", "s3cret")
    yield forge
    forge.close()


def test_grader_comment_posts_once_then_updates_its_own_comment(github: FakeForge, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    # a student copies the marker into a comment of their own: it must never be the one updated
    github.comments.append({"id": 1, "body": f"{ci.MARKER}\nall good, 100/100", "user": {"login": "kim"}})
    body = tmp_path / "c.md"
    body.write_text(f"{ci.MARKER}\nfirst run\n")
    assert main(["comment", str(body)]) == 0
    assert "posted" in capsys.readouterr().out
    body.write_text(f"{ci.MARKER}\nsecond run\n")
    assert main(["comment", str(body), "--github"]) == 0
    assert "updated" in capsys.readouterr().out
    ours = [c for c in github.comments if c["user"]["login"] == "github-actions[bot]"]
    assert [c["body"] for c in ours] == [f"{ci.MARKER}\nsecond run\n"]
    assert github.comments[0]["body"] == f"{ci.MARKER}\nall good, 100/100"
    methods = [(m, p.split("?")[0]) for m, p, _ in github.requests if m != "GET"]
    assert methods == [("POST", "/repos/course/class/issues/7/comments"),
                       ("PATCH", f"/repos/course/class/issues/comments/{ours[0]['id']}")]


def test_grader_comment_without_a_token_exits_2_naming_the_variable(github: FakeForge, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    body = tmp_path / "c.md"
    body.write_text(f"{ci.MARKER}\nx\n")
    assert main(["comment", str(body)]) == 2
    assert "GITHUB_TOKEN" in capsys.readouterr().err
    assert main(["comment", str(body), "--token-env", "CLASS_BOT_TOKEN"]) == 2
    assert "CLASS_BOT_TOKEN" in capsys.readouterr().err
    assert github.requests == []  # nothing was sent without a token


def test_grader_comment_says_when_the_api_refuses(github: FakeForge, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    body = tmp_path / "c.md"
    body.write_text(f"{ci.MARKER}\nx\n")
    assert main(["comment", str(body)]) == 2
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "permissions" in err


def test_grader_comment_on_gitlab_posts_then_updates_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    forge = FakeForge("gitlab")
    try:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
        monkeypatch.setenv("GITLAB_CI", "true")
        monkeypatch.setenv("CI_API_V4_URL", forge.url + "/api/v4")
        monkeypatch.setenv("CI_PROJECT_ID", "course/class")
        monkeypatch.setenv("CI_MERGE_REQUEST_IID", "5")
        monkeypatch.delenv("GRADER_GITLAB_TOKEN", raising=False)
        body = tmp_path / "c.md"
        body.write_text(f"{ci.MARKER}\nfirst\n")
        assert main(["comment", str(body)]) == 2
        assert "GRADER_GITLAB_TOKEN" in capsys.readouterr().err
        monkeypatch.setenv("GRADER_GITLAB_TOKEN", "gl-token")
        assert main(["comment", str(body)]) == 0
        body.write_text(f"{ci.MARKER}\nsecond\n")
        assert main(["comment", str(body), "--gitlab"]) == 0
        assert [c["body"] for c in forge.comments] == [f"{ci.MARKER}\nsecond\n"]
        assert [m for m, _, _ in forge.requests if m != "GET"] == ["POST", "PUT"]
    finally:
        forge.close()
