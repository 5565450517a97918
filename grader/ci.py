"""Pull requests and merge requests in CI: what ``grader check --ci`` does there, and ``grader comment``.

``grader check --ci`` on a CI runner (GitHub Actions: ``GITHUB_ACTIONS=true``; GitLab CI:
``GITLAB_CI=true``) checks every notebook it is given, or with ``--changed`` every ``.ipynb`` a
pull request adds or modifies (:func:`changed_notebooks`). Those are read out of git's object
store as data (``git diff --raw`` between the two revisions, ``git cat-file blob``) into a
temporary folder that keeps their repository paths: the PR's tree is never checked out, no hook
or filter of the PR runs, and nothing of the PR executes outside the sandbox that grades it.

Who a notebook belongs to is its folder (:func:`student_for`): the first folder under ``--root``
(``Week3/NN Basic/<name>/x.ipynb`` -> ``<name>``), else the notebook's own folder.

What the run leaves for people (:func:`report`): the Markdown summary appended to
``$GITHUB_STEP_SUMMARY``, one ``::error`` annotation per failing function pointing at the line of
the ``.ipynb`` where the cell defining it starts (:func:`function_line`, escaped by
:func:`annotation`), and the body of the PR comment (:func:`comment_body`: a hidden marker line,
the public verdict per part, the sandbox used, and that the official grade is the TA's run).

``grader comment FILE`` (:func:`run`) posts that body, or updates the comment it posted before
(found by the marker among the comments written by the token's own user), through the GitHub REST
API or GitLab's notes API (:class:`Api`, urllib). Only this step needs a token; grading never does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from grader.errors import GraderError, UsageError
from grader.report.i18n import CONSOLE_LANG, t

if TYPE_CHECKING:
    from grader.result import Result

MARKER = "<!-- grader-check -->"
"""The first line of every comment ``grader comment`` posts: how it finds its own comment again."""

COMMENT_FILE = "grader-comment.md"
MAX_COMMENT = 60_000  # GitHub refuses comment bodies over 65,536 characters
MAX_BLOB = 100 * 2**20  # as grader.notebook.MAX_NOTEBOOK_BYTES
STRONG = ("forkserver", "bwrap")
API_TIMEOUT = 30.0

__all__ = [
    "COMMENT_FILE", "MARKER", "Api", "Checked", "Changed", "add_parser", "annotation", "cell_start_lines",
    "changed_notebooks", "comment_body", "detect", "escape_data", "escape_property", "function_line", "report",
    "revisions", "run", "student_for",
]


# -- where we run --------------------------------------------------------------------------------


def detect(env: Mapping[str, str] | None = None) -> str:
    """``"github"`` on GitHub Actions, ``"gitlab"`` on GitLab CI, else ``""``."""
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    return ""


def default_comment_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("RUNNER_TEMP") or ".") / COMMENT_FILE


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        raise UsageError(t("ci_no_event", CONSOLE_LANG))
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(t("ci_bad_event", CONSOLE_LANG, path=path, error=exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("pull_request"), dict):
        raise UsageError(t("ci_event_not_pr", CONSOLE_LANG, path=path))
    return data


def revisions(spec: str | None, env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(base, head)`` for ``--changed``: ``BASE...HEAD`` (or ``BASE``: ``BASE...HEAD``) as given;
    given nothing, the pull request's on GitHub (the event payload's ``pull_request.base.sha`` and
    ``.head.sha``) or the merge request's on GitLab (``CI_MERGE_REQUEST_DIFF_BASE_SHA``, and
    ``CI_MERGE_REQUEST_SOURCE_BRANCH_SHA`` in a merged-results pipeline, else ``CI_COMMIT_SHA``)."""
    env = os.environ if env is None else env
    if spec:
        base, sep, head = spec.partition("...")
        if not base or (sep and not head):
            raise UsageError(t("ci_bad_range", CONSOLE_LANG, spec=spec))
        return base, head or "HEAD"
    where = detect(env)
    if where == "github":
        pr = _event(env)["pull_request"]
        shas = [pr[k].get("sha") if isinstance(pr.get(k), dict) else None for k in ("base", "head")]
        if not all(isinstance(sha, str) and sha for sha in shas):
            raise UsageError(t("ci_event_not_pr", CONSOLE_LANG, path=env.get("GITHUB_EVENT_PATH", "")))
        return str(shas[0]), str(shas[1])
    if where == "gitlab":
        # a merged-results pipeline runs on a merge commit with the target (CI_COMMIT_SHA): the MR's
        # own head is CI_MERGE_REQUEST_SOURCE_BRANCH_SHA, so notebooks merged to the target since
        # the MR's base are not taken for the student's
        base = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", "")
        head = env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "") or env.get("CI_COMMIT_SHA", "")
        if not base or not head:
            raise UsageError(t("ci_gitlab_not_mr", CONSOLE_LANG))
        return base, head
    raise UsageError(t("ci_changed_needs_range", CONSOLE_LANG))


# -- the notebooks a pull request adds or changes, read as data -----------------------------------

Skip = tuple[str, dict[str, str]]
"""Why a notebook was not graded: a catalogue key and its values (said in the reader's language)."""


@dataclass(frozen=True)
class Changed:
    """One notebook of the change: its path in the repository, and where its bytes were written
    (None when it was not extracted: ``skip`` says why)."""

    path: str
    file: Path | None
    skip: Skip | None = None


def _git(repo: Path, *args: str, binary: bool = False) -> Any:
    # git's own commands on its object store only: no checkout, no hooks, no diff or text filters
    cmd = ["git", "-C", str(repo), "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=120, check=False)  # noqa: S603 - fixed git arguments
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(t("ci_git_failed", CONSOLE_LANG, command=" ".join(args[:2]), error=exc)) from None
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(t("ci_git_failed", CONSOLE_LANG, command=" ".join(args[:2]),
                           error=error[-1] if error else f"exit {done.returncode}"))
    return done.stdout if binary else done.stdout.decode("utf-8", "replace")


def _safe_path(path: str) -> bool:
    p = PurePosixPath(path)
    return bool(path) and not p.is_absolute() and ".." not in p.parts and "\0" not in path


def changed_notebooks(repo: Path, base: str, head: str, dest: Path) -> list[Changed]:
    """The ``.ipynb`` files added, modified or renamed between the merge base of *base* and *head*
    and *head* (``git diff BASE...HEAD --diff-filter=AMR``), each written from git's object store
    to ``dest/<its repository path>``. A symbolic link, a submodule or an oversized file is listed
    as skipped, never followed or read."""
    raw = _git(repo, "diff", "--raw", "-z", "--no-abbrev", "--no-ext-diff", "--no-textconv", "--diff-filter=AMR",
               f"{base}...{head}", "--")
    fields = raw.split("\0")
    out: list[Changed] = []
    i = 0
    while i < len(fields) - 1:
        meta = fields[i].split()
        if len(meta) < 5 or not meta[0].startswith(":"):
            i += 1
            continue
        status = meta[4]
        step = 3 if status[:1] in "RC" else 2
        path = unicodedata.normalize("NFC", fields[i + step - 1])
        mode, sha = meta[1], meta[3]
        i += step
        if not path.lower().endswith(".ipynb"):
            continue
        if mode not in ("100644", "100755") or not _safe_path(path):
            out.append(Changed(path, None, ("ci_skip_not_file", {})))
            continue
        size = int(_git(repo, "cat-file", "-s", sha).strip() or 0)
        if size > MAX_BLOB:
            out.append(Changed(path, None, ("ci_skip_too_big", {"mib": str(size // 2**20)})))
            continue
        target = dest.joinpath(*PurePosixPath(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_git(repo, "cat-file", "blob", sha, binary=True))
        out.append(Changed(path, target))
    return sorted(out, key=lambda c: c.path)


def base_handouts(repo: Path, base: str, root: str, dest: Path) -> list[Path]:
    """The notebooks lying directly in *root* at revision *base* (the class repository keeps its
    blank handout there), written under *dest*: a student's untouched copy of one is left out."""
    root = root.strip("/")
    try:
        listing = _git(repo, "ls-tree", "-z", f"{base}:{root}")
    except UsageError:
        return []
    found: list[Path] = []
    for entry in listing.split("\0"):
        meta, _, name = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[0] in ("100644", "100755") and parts[1] == "blob" and name.endswith(".ipynb"):
            target = dest / str(len(found)) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git(repo, "cat-file", "blob", parts[2], binary=True))
            found.append(target)
    return found


def student_for(path: str, root: str | None) -> str | None:
    """Whose notebook *path* is: the first folder under *root* (None when *path* is not under it;
    a notebook lying in *root* itself is named by its file), else the notebook's own folder."""
    parts = PurePosixPath(unicodedata.normalize("NFC", path)).parts
    if root is None:
        if len(parts) > 1:
            return parts[-2]
        return unicodedata.normalize("NFC", Path(path).resolve().parent.name)
    top = PurePosixPath(unicodedata.normalize("NFC", root.strip("/"))).parts
    if tuple(parts[: len(top)]) != tuple(top) or len(parts) == len(top):
        return None
    rest = parts[len(top):]
    return rest[0] if len(rest) > 1 else PurePosixPath(rest[0]).stem


# -- the line of the cell that defines a function -------------------------------------------------


def cell_start_lines(text: str) -> list[int]:
    """The 1-based line of each cell's opening brace in a notebook's raw JSON text (the top-level
    ``"cells"`` array's objects), found by scanning the text itself, strings and escapes included."""
    stack: list[str] = []
    last_top_string = ""
    cells_open = False
    starts: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if len(stack) == 1:
                last_top_string = text[i + 1:j]
            i = j + 1
            continue
        if c in "{[":
            if cells_open and len(stack) == 2 and c == "{":
                starts.append(i)
            stack.append(c)
            if c == "[" and len(stack) == 2 and last_top_string == "cells":
                cells_open, starts = True, []
        elif c in "}]":
            if stack:
                stack.pop()
            if cells_open and len(stack) < 2:
                cells_open = False
        i += 1
    lines, line, at = [], 1, 0
    for offset in starts:
        line += text.count("\n", at, offset)
        at = offset
        lines.append(line)
    return lines


def function_line(text: str, function: str) -> int:
    """The line of the raw ``.ipynb`` text where the (last) code cell defining *function* starts
    (``def f(``, ``class F``, ``f = ...``; ``Perceptron.fit`` is looked up as ``Perceptron``); 1
    when no cell defines it or the text cannot be read as a notebook."""
    name = function.split(".")[0].strip()
    if not name.isidentifier():
        return 1
    try:
        cells = json.loads(text.removeprefix("\ufeff")).get("cells", [])
    except (ValueError, AttributeError):
        return 1
    starts = cell_start_lines(text)
    if not isinstance(cells, list) or len(starts) != len(cells):
        return 1
    n = re.escape(name)
    defines = re.compile(rf"^[ \t]*(?:(?:async[ \t]+)?def[ \t]+{n}[ \t]*\(|class[ \t]+{n}\b|{n}[ \t]*=(?!=))", re.M)
    found = 1
    for cell, line in zip(cells, starts, strict=True):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        source = "".join(map(str, src)) if isinstance(src, list) else str(src)
        if defines.search(source):
            found = line
    return found


# -- GitHub's workflow commands -------------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (``%``, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as :func:`escape_data`, and ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(file: str, line: int, title: str, message: str) -> str:
    return (f"::error file={escape_property(file)},line={int(line)},title={escape_property(title)}"
            f"::{escape_data(message)}")


# -- one checked notebook, and what people read about the run -------------------------------------


@dataclass
class Checked:
    """A notebook of the run: its repository path, the file graded, whose it is, and its result
    (None: not graded, ``skip`` says why)."""

    path: str
    file: Path | None
    student: str
    result: Result | None = None
    skip: Skip | None = None

    def why(self, lang: str) -> str:
        """Why it was not graded, in *lang*."""
        return t(self.skip[0], lang, **self.skip[1]) if self.skip else ""


@dataclass
class Report:
    """What the run wrote, for the terminal."""

    annotations: list[str] = field(default_factory=list)
    summary: str = ""
    comment: str = ""


def _md(text: object) -> str:
    """Text from a notebook or a folder name, safe inside Markdown (the summary's escaping,
    :func:`exports._md_inline`), and in a comment also no @mention and no ~strike~."""
    from grader.report.exports import _md_inline

    return _md_inline(text).replace("~", "\\~").replace("@", "&#64;")


def _one(x: float) -> str:
    return f"{float(x) + 0.0:.1f}"


def _failing(result: Result, lang: str) -> list[tuple[str, str, str]]:
    """``(part title, function, message)`` per failing function of the student's view (public
    tests only are ever run here); a notebook that could not be graded gives one, its reason."""
    from grader.report.view import build

    view = build(result, lang=lang, audience="student")
    out = []
    for part in view.parts:
        for group in part.groups:
            what = group.function or t("the_test_itself", lang)
            case = group.cases[0] if group.cases else None
            if case is None:
                message = part.verdict
            else:
                if case.error:
                    said = case.error
                elif case.expected or case.got:
                    said = t("expected_got", lang, expected=case.expected, got=case.got)
                else:
                    said = case.where or part.verdict
                message = f"{case.call}: {said}" if case.call else said
            mistakes = [d for d in group.diagnoses if d.kind == "mistake"]
            if mistakes:
                message += " " + t("verdict_mistake", lang, title=mistakes[0].text("title", lang) or mistakes[0].name)
            more = len(group.cases) - 1 + group.more
            if more > 0:
                message += " " + t("ci_more_calls", lang, count=more)
            out.append((part.title, what, message))
    if not out and result.status in ("crashed", "invalid", "timeout"):
        out.append((t(result.status, lang), "", result.reason or result.status))
    return out


def _sandbox_line(checked: Sequence[Checked], lang: str) -> str:
    used = sorted({c.result.sandbox or "?" for c in checked if c.result is not None})
    if not used:
        return ""
    weak = [m for m in used if m not in STRONG]
    return t("ci_sandbox_weak" if weak else "ci_sandbox_strong", lang, mechanism=", ".join(used))


def _verdict_word(result: Result, lang: str) -> str:
    return t("verdict_passed" if result.passed else "verdict_not_passed", lang)


def comment_body(checked: Sequence[Checked], lang: str) -> str:
    """The PR comment: the marker, per student and notebook the public verdict per part (points,
    one-line verdict, failing functions), what was skipped, the sandbox, and who grades officially."""
    from grader.report.view import build

    lines = [MARKER, f"### {t('ci_comment_title', lang)}", ""]
    if not any(c.result is not None for c in checked):
        lines += [t("ci_nothing_to_check", lang), ""]
    for c, r in ((c, c.result) for c in checked if c.result is not None):
        view = build(r, lang=lang, audience="student")
        mark = "✅" if r.passed else "❌"
        lines += [f"#### {mark} {_md(c.student)}: {_md(c.path)}", "",
                  t("ci_comment_score", lang, score=_one(r.score), max=_one(r.max_score), mark=_one(r.pass_mark),
                    verdict=_verdict_word(r, lang)), ""]
        if r.status != "graded":
            lines += [f"{_md(t(r.status, lang))}: {_md(view.reason)}", ""]
        lines += ["| " + " | ".join(t("ci_comment_columns", lang).split("|")) + " |", "|---|---:|---|---|"]
        for p in view.parts:
            functions = ", ".join(dict.fromkeys(g.function or t("the_test_itself", lang) for g in p.groups))
            lines.append(f"| {p.number}. {_md(p.title)} | {_one(p.score)} / {_one(p.max_score)} | {_md(p.verdict)} "
                         f"| {_md(functions)} |")
        lines.append("")
    skipped = [c for c in checked if c.result is None]
    if skipped:
        lines += [f"**{t('ci_skipped_heading', lang)}**", ""]
        lines += [f"- {_md(c.path)}: {_md(c.why(lang))}" for c in skipped]
        lines.append("")
    sandbox = _sandbox_line(checked, lang)
    if sandbox:
        lines += [sandbox, ""]
    lines += [t("ci_official", lang), ""]
    text = "\n".join(lines)
    if len(text) > MAX_COMMENT:
        text = text[:MAX_COMMENT].rsplit("\n", 1)[0] + "\n\n" + t("ci_comment_cut", lang) + "\n"
    return text


def _summary(checked: Sequence[Checked], lang: str) -> str:
    """The job summary: each graded notebook's Markdown summary, what was skipped, the sandbox."""
    from grader.report.exports import write_markdown_summary

    parts = [f"# {t('ci_comment_title', lang)}", ""]
    sandbox = _sandbox_line(checked, lang)
    if sandbox:
        parts += [sandbox, ""]
    with tempfile.TemporaryDirectory(prefix="grader-summary-") as tmp:
        for i, result in enumerate(c.result for c in checked if c.result is not None):
            path = write_markdown_summary(result, Path(tmp) / f"{i}.md", lang=lang)[0]
            parts += [path.read_text(encoding="utf-8"), ""]
    skipped = [c for c in checked if c.result is None]
    if skipped:
        parts += [f"**{t('ci_skipped_heading', lang)}**", ""] + [f"- {_md(c.path)}: {_md(c.why(lang))}"
                                                                    for c in skipped]
        parts.append("")
    if not any(c.result is not None for c in checked):
        parts += [t("ci_nothing_to_check", lang), ""]
    parts += [t("ci_official", lang), ""]
    return "\n".join(parts)


def report(checked: Sequence[Checked], *, lang: str, where: str, summary: Path | None, comment: Path | None,
           junit: Path | None = None, env: Mapping[str, str] | None = None) -> Report:
    """Write what a CI run leaves for people: the summary (``--summary``, and appended to
    ``$GITHUB_STEP_SUMMARY`` on GitHub), ``::error`` annotations (GitHub), the comment body and JUnit."""
    from grader.report.exports import write_junit

    env = os.environ if env is None else env
    out = Report(summary=_summary(checked, lang), comment=comment_body(checked, lang))
    if summary is not None:
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(out.summary, encoding="utf-8")
    step = env.get("GITHUB_STEP_SUMMARY", "") if where == "github" else ""
    if step:
        with open(step, "a", encoding="utf-8") as fh:
            fh.write(out.summary)
    if where == "github":
        for c in checked:
            if c.result is None or c.file is None:
                continue
            try:
                text = c.file.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                text = ""
            for part, function, message in _failing(c.result, lang):
                line = function_line(text, function) if function else 1
                title = f"{part}: {function}" if function else part
                out.annotations.append(annotation(c.path, line, title, message))
    if comment is not None:
        comment.parent.mkdir(parents=True, exist_ok=True)
        comment.write_text(out.comment, encoding="utf-8")
    if junit is not None:
        write_junit([c.result for c in checked if c.result is not None], junit)
    return out


# -- grader comment: post the body, or update the comment posted before ----------------------------


class ApiError(GraderError):
    pass


@dataclass
class Api:
    """A small JSON client over urllib, with a timeout and errors that say what to do."""

    base: str
    headers: dict[str, str]
    timeout: float = API_TIMEOUT

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
        url = self.base.rstrip("/") + path
        if not url.startswith(("https://", "http://")):
            raise UsageError(t("ci_api_bad_url", CONSOLE_LANG, url=url))
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - http(s) only, checked above
                                         headers={**self.headers, "Content-Type": "application/json",
                                                  "User-Agent": "grader-ci"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310 - checked above
                text = resp.read().decode("utf-8", "replace")
                return resp.status, json.loads(text) if text.strip() else None
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300]
            return exc.code, {"error": detail}
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise ApiError(t("ci_api_unreachable", CONSOLE_LANG, method=method, url=url, error=exc)) from None

    def ok(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        status, data = self.call(method, path, body)
        if not 200 <= status < 300:
            raise ApiError(t("ci_api_refused", CONSOLE_LANG, method=method, path=path, status=status,
                             detail=(data or {}).get("error", "") if isinstance(data, dict) else ""))
        return data

    def pages(self, path: str) -> list[Any]:
        items: list[Any] = []
        for page in range(1, 51):
            sep = "&" if "?" in path else "?"
            got = self.ok("GET", f"{path}{sep}per_page=100&page={page}")
            if not isinstance(got, list):
                break
            items += got
            if len(got) < 100:
                break
        return items


def _token(env: Mapping[str, str], name: str) -> str:
    token = env.get(name, "")
    if not token:
        raise UsageError(t("ci_token_missing", CONSOLE_LANG, variable=name))
    return token


def _need(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise UsageError(t("ci_env_missing", CONSOLE_LANG, variable=name))
    return value


def post_github(body: str, env: Mapping[str, str], variable: str = "GITHUB_TOKEN") -> tuple[str, str]:
    """Post *body* on the pull request of ``$GITHUB_EVENT_PATH``, or update the comment with the
    marker that the token's user wrote; ``(what was done, the comment's URL)``."""
    token = _token(env, variable)
    repo = _need(env, "GITHUB_REPOSITORY")
    number = _event(env)["pull_request"].get("number")
    if not isinstance(number, int):
        raise UsageError(t("ci_event_not_pr", CONSOLE_LANG, path=env.get("GITHUB_EVENT_PATH", "")))
    api = Api(env.get("GITHUB_API_URL") or "https://api.github.com",
              {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": "2022-11-28"})
    status, me = api.call("GET", "/user")
    # a workflow's GITHUB_TOKEN may not read /user; its comments are github-actions[bot]'s
    login = me.get("login") if status == 200 and isinstance(me, dict) else "github-actions[bot]"
    owner_repo = "/".join(urllib.parse.quote(p, safe="") for p in repo.split("/", 1))
    mine = [c for c in api.pages(f"/repos/{owner_repo}/issues/{number}/comments")
            if isinstance(c, dict) and str(c.get("body", "")).startswith(MARKER)
            and isinstance(c.get("user"), dict) and c["user"].get("login") == login]
    if mine:
        done = api.ok("PATCH", f"/repos/{owner_repo}/issues/comments/{mine[-1]['id']}", {"body": body})
        return "updated", str((done or {}).get("html_url", ""))
    done = api.ok("POST", f"/repos/{owner_repo}/issues/{number}/comments", {"body": body})
    return "posted", str((done or {}).get("html_url", ""))


def post_gitlab(body: str, env: Mapping[str, str], variable: str = "GRADER_GITLAB_TOKEN") -> tuple[str, str]:
    """The same on a GitLab merge request (notes API, ``$CI_API_V4_URL``)."""
    token = _token(env, variable)
    base = _need(env, "CI_API_V4_URL")
    project = urllib.parse.quote(_need(env, "CI_PROJECT_ID"), safe="")
    iid = urllib.parse.quote(_need(env, "CI_MERGE_REQUEST_IID"), safe="")
    api = Api(base, {"PRIVATE-TOKEN": token})
    me = api.ok("GET", "/user")
    user = me.get("id") if isinstance(me, dict) else None
    notes = f"/projects/{project}/merge_requests/{iid}/notes"
    mine = [n for n in api.pages(notes)
            if isinstance(n, dict) and str(n.get("body", "")).startswith(MARKER)
            and isinstance(n.get("author"), dict) and n["author"].get("id") == user]
    if mine:
        api.ok("PUT", f"{notes}/{mine[-1]['id']}", {"body": body})
        return "updated", f"note {mine[-1]['id']}"
    done = api.ok("POST", notes, {"body": body})
    return "posted", f"note {(done or {}).get('id', '?')}"


EXAMPLES = ("grader comment grader-comment.md\n"
            '  grader comment "$RUNNER_TEMP/grader-comment.md" --github --token-env GITHUB_TOKEN\n'
            "  grader comment grader-comment.md --gitlab")


def add_parser(sub: Any, name: str, formatter: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        name, help="post the check's comment on the pull request, or update the one posted before",
        formatter_class=formatter,
        description="Post FILE (the comment `grader check --ci` wrote) on the pull request (GitHub) or merge "
                    "request (GitLab) of this CI run, or update the comment it posted before (found by its "
                    f"first line, {MARKER}, among the comments of the token's user). Only this step needs a "
                    "token; grading never does.",
        epilog="examples:\n  " + EXAMPLES + "\n\n"
               "GitHub: $GITHUB_TOKEN (or --token-env NAME), $GITHUB_REPOSITORY, $GITHUB_EVENT_PATH (the PR's\n"
               "number), $GITHUB_API_URL (default https://api.github.com).\n"
               "GitLab: $GRADER_GITLAB_TOKEN (or --token-env NAME; a project access token with the api scope),\n"
               "$CI_API_V4_URL, $CI_PROJECT_ID, $CI_MERGE_REQUEST_IID.")
    p.add_argument("file", type=Path, help="the comment body (Markdown), e.g. grader-comment.md")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--github", action="store_const", const="github", dest="host",
                       help="post on GitHub (default on GitHub Actions)")
    where.add_argument("--gitlab", action="store_const", const="gitlab", dest="host",
                       help="post on GitLab (default on GitLab CI)")
    p.add_argument("--token-env", metavar="NAME",
                   help="the environment variable holding the token (default GITHUB_TOKEN or GRADER_GITLAB_TOKEN)")


def run(args: argparse.Namespace) -> int:
    import sys

    env = os.environ
    host = args.host or detect(env)
    if not host:
        raise UsageError(t("ci_comment_where", CONSOLE_LANG))
    try:
        body = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(t("ci_comment_unreadable", CONSOLE_LANG, path=args.file, error=exc)) from None
    if not body.startswith(MARKER):
        body = f"{MARKER}\n{body}"
    if host == "github":
        done, where = post_github(body, env, args.token_env or "GITHUB_TOKEN")
    else:
        done, where = post_gitlab(body, env, args.token_env or "GRADER_GITLAB_TOKEN")
    print(t(f"ci_comment_{done}", CONSOLE_LANG, where=where), file=sys.stdout)
    return 0
