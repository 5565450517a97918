"""The ``grader`` command: a thin layer over ``grader.api`` and ``grader.batch``.

Exit codes: ``check``: 0 every test passed (``--ci``: the score reached the pass mark), 1 otherwise.
``grade``: 0 every submission has a result, whatever its score or status (graded, partial,
timeout, crashed, invalid); 1 some submission was left without one (rerun to resume).
``validate``: 1 when a score differs from the expected one. ``override``, ``export``: 0 done.
Every command: 2 bad usage, an unreadable notebook or a broken rubric; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import re
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from grader.config import Limits, parse_limit_args
from grader.errors import GraderError, UsageError
from grader.report.i18n import CONSOLE_LANG, t

if TYPE_CHECKING:
    from grader.gradebook import Gradebook
    from grader.result import TaskScore
    from grader.rubric import Rubric

EXAMPLES = {
    "check": "grader check week3.ipynb\n"
             "  grader check week3.ipynb --html report.html --json result.json\n"
             "  grader check --ci week3.ipynb --junit junit.xml --summary summary.md\n"
             '  grader check --ci --changed --root "Week3/NN Basic"\n'
             '  grader check --ci --changed origin/main...HEAD --root "Week3/NN Basic" --comment comment.md',
    "grade": "grader grade submissions/ --out out/\n"
             "  grader grade submissions/ --out out/ -j 2 --roster roster.csv\n"
             "  grader grade submissions/ --out out/ --dask tcp://scheduler:8786",
    "export": "grader export out/ --format csv\n  grader export out/ --format gradescope --to gradescope/\n"
              "  grader export out/ --format sheet --roster roster.csv --pick latest --to sheet.csv",
    "override": 'grader override out/ kim --part backprop --points 20 --comment "db sign only, see email"\n'
                "  grader override out/ kim --part 4 --clear\n"
                "  grader override out/",
    "generate": "grader generate week3_nn_basic",
    "validate": "grader validate week3_nn_basic",
}


GRADE_EXIT = """\
exit status:
  0    every submission has a result in OUT, whatever its score or status (graded, partial,
       timeout, crashed, invalid): failed tests are grades, not errors
  1    grading stopped before every submission had a result (a grader error); rerun the same
       command to grade the rest
  2    bad usage (e.g. a folder that does not exist), an unreadable roster, a broken rubric,
       an unreachable Dask cluster
  130  interrupted (Ctrl-C): finished results are kept; rerun the same command to resume"""


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--assignment", help="assignment id (default: the only one in rubrics/ or assignments/)")
    p.add_argument("--rubric", type=Path,
                   help="rubric folder (rubrics/<a> or assignments/<a>) instead of looking it up")
    p.add_argument("--sandbox", choices=["auto", "forkserver", "bwrap", "rlimits"], default="auto",
                   help="isolation: auto (warm kernels from a fork server as root, else bubblewrap, else resource "
                        "limits only), forkserver, bwrap, rlimits")
    p.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                   help="override a sandbox limit, e.g. --limit call_timeout=5 (names below)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader",
        description="Sandboxed grader for the week-3 neural-network notebooks "
                    "(gates, activations, forward, backprop, perceptron).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  " + "\n  ".join(v.split("\n")[0] for v in EXAMPLES.values()),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter
    limits_help = "limits (rubric defaults, overridable with --limit):\n" + Limits.help()

    p = sub.add_parser("check", help="self-check one notebook against the public tests", formatter_class=fmt,
                       description="Run the public tests on your notebook, as a student would before handing in.",
                       epilog="examples:\n  " + EXAMPLES["check"] + "\n\n" + limits_help)
    p.add_argument("notebooks", type=Path, nargs="*", metavar="NOTEBOOK",
                   help="your notebook (.ipynb); with --ci several may be given")
    p.add_argument("--json", type=Path, help="write the result as JSON (one notebook)")
    p.add_argument("--html", type=Path,
                   help="write your feedback as one HTML file (as feedback.html of a TA's run; one notebook)")
    p.add_argument("--ci", action="store_true",
                   help="CI mode: exit 0 when every notebook's score reaches the pass mark, else 1; on GitHub "
                        "Actions (GITHUB_ACTIONS=true) also append the summary to $GITHUB_STEP_SUMMARY, print an "
                        "::error annotation per failing function and write the PR comment (see --comment)")
    p.add_argument("--changed", nargs="?", const="", metavar="BASE...HEAD",
                   help="with --ci: check the .ipynb files added or changed between BASE's merge base with HEAD "
                        "and HEAD, read from git as data (never checked out); no value: the pull request's base "
                        "and head (GitHub: $GITHUB_EVENT_PATH; GitLab: $CI_MERGE_REQUEST_DIFF_BASE_SHA, "
                        "$CI_MERGE_REQUEST_SOURCE_BRANCH_SHA or $CI_COMMIT_SHA)")
    p.add_argument("--root", metavar="FOLDER",
                   help='with --ci: the folder holding one folder per student, e.g. "Week3/NN Basic": the student '
                        "is the first folder under it, notebooks outside it are skipped (default: the student is "
                        "the notebook's own folder)")
    p.add_argument("--comment", type=Path, metavar="FILE",
                   help="with --ci: write the pull request comment (Markdown) to FILE for `grader comment` (default "
                        "on a CI runner: grader-comment.md in $RUNNER_TEMP, else in the current folder)")
    p.add_argument("--junit", type=Path, help="write JUnit XML (for CI)")
    p.add_argument("--summary", type=Path, help="write a Markdown summary (for a CI job summary)")
    p.add_argument("--lang", choices=["ko", "en"], help="language of the report (default: the rubric's, Korean)")
    _add_common(p)

    p = sub.add_parser("grade", help="grade every notebook under folders into an output folder", formatter_class=fmt,
                       description="Grade a class: per student result.json, report.html (the TA's copy) and "
                                   "feedback.html (the student's), an SQLite gradebook and grades_<assignment>.csv "
                                   "in OUT. Reruns skip submissions already graded with the "
                                   "same content and rubric version.",
                       epilog="examples:\n  " + EXAMPLES["grade"] + "\n\n" + GRADE_EXIT + "\n\n" + limits_help)
    p.add_argument("submissions", type=Path, nargs="+",
                   help="folders (one sub-folder or file per student) or .ipynb files")
    p.add_argument("--out", type=Path, required=True, help="output folder (created; holds gradebook.sqlite)")
    p.add_argument("-j", "--jobs", type=int, default=None,
                   help="parallel workers (default: number of cores); each also boots its next kernel beside the "
                        "current one, so -j 1 keeps about 1.3 cores busy")
    p.add_argument("--regrade", action="store_true", help="grade again even what the gradebook has")
    p.add_argument("--roster", type=Path, help="CSV with columns path,student mapping submissions to student ids")
    p.add_argument("--handout", type=Path, action="append", default=[], metavar="PATH",
                   help="the course's handout notebook: an untouched copy among the submissions is left out "
                        "(the project's own student notebook always is)")
    p.add_argument("--dask", metavar="ADDRESS", help="grade on a Dask cluster, e.g. tcp://scheduler:8786")
    p.add_argument("--lang", choices=["ko", "en"], default="",
                   help="language of the reports report.html and feedback.html (default: the rubric's, Korean)")
    _add_common(p)

    p = sub.add_parser("export", help="write CSV, Gradescope, JUnit or spreadsheet files from a gradebook",
                       formatter_class=fmt,
                       description="Write the gradebook's grades in another form; a TA's overrides (`grader "
                                   "override`) replace the parts they correct and the total in every form.",
                       epilog="examples:\n  " + EXAMPLES["export"])
    p.add_argument("out", type=Path, help="the output folder of `grader grade` (holds gradebook.sqlite)")
    p.add_argument("--format", choices=["csv", "gradescope", "junit", "sheet"], required=True,
                   help="csv: one row per submission (per student with --roster); gradescope: results.json per "
                        "student; junit: one XML file; sheet: one row per student to paste into a spreadsheet or "
                        "an LMS gradebook (student, total, maximum, status, a column per part, override comment)")
    p.add_argument("--to", type=Path, help="where to write (default: inside the output folder)")
    p.add_argument("--assignment", help="only this assignment (needed for csv with --roster and sheet when the "
                                        "gradebook holds several)")
    p.add_argument("--roster", type=Path,
                   help="CSV with columns path,student: csv and sheet get one row per student of it; a student "
                        "whose path is empty (or whose notebooks are not in the gradebook) is 'missing'")
    p.add_argument("--pick", choices=["latest", "highest"], default="latest",
                   help="for a student with several notebooks, the one that counts (csv with --roster, sheet): "
                        "latest (default) by git commit time when the folder was a git checkout, else by file "
                        "time; highest by score, overrides included. The others are listed beside it")

    p = sub.add_parser("override", help="set or clear a TA's points for one part of a student's grade",
                       formatter_class=fmt,
                       description="Replace the score of one part (a task of the rubric, by name or number) of a "
                                   "student's grade with points a TA chose, with a comment; kept in the gradebook "
                                   "with who (the OS user) and when, across reruns and --regrade, until cleared. "
                                   "Every export and OUT/grades_<assignment>.csv show it. Without --points or "
                                   "--clear: list the overrides (of STUDENT, or of everyone).",
                       epilog="examples:\n  " + EXAMPLES["override"])
    p.add_argument("out", type=Path, help="the output folder of `grader grade` (holds gradebook.sqlite)")
    p.add_argument("student", nargs="?", help="the student, as in the gradebook (the CSV's student column)")
    p.add_argument("--part", help="the part: its task name (e.g. backprop) or number (e.g. 4)")
    p.add_argument("--points", type=float, help="the part's points, from 0 to the part's maximum")
    p.add_argument("--comment", default="", help="why (required with --points): the student and other TAs read it")
    p.add_argument("--clear", action="store_true", help="remove the override of --part (of every part without it)")
    p.add_argument("--assignment", help="the assignment, when the gradebook holds several")

    p = sub.add_parser("generate", help="write the student notebook, public tests and expected values",
                       formatter_class=fmt,
                       description="Write assignments/ASSIGNMENT/ from solutions/ and rubrics/: the notebook with "
                                   "solution regions blanked, the public tests and their expected values. Hidden "
                                   "tests stay in rubrics/.",
                       epilog="examples:\n  " + EXAMPLES["generate"])
    p.add_argument("assignment", help="assignment id, a folder name under rubrics/")

    p = sub.add_parser("validate",
                       help="prove the rubric: reference 100, blank 0, the corpus within a point of its TA scores",
                       formatter_class=fmt,
                       description="Grade the reference (full marks), the generated blank (0) and every notebook of "
                                   "the rubric's corpus (its fixtures folder's MANIFEST.toml), each within 1 point of "
                                   "the ta_score a TA wrote there by hand; exit 1 if any is off. Scores are never "
                                   "written back: a TA's judgement is not a measurement.",
                       epilog="examples:\n  " + EXAMPLES["validate"])
    p.add_argument("assignment", help="assignment id, a folder name under rubrics/")
    p.add_argument("--sandbox", choices=["auto", "forkserver", "bwrap", "rlimits"], default="auto",
                   help="isolation mechanism (see `grader grade --help`)")
    p.add_argument("-j", "--jobs", type=int, default=None, help="parallel workers (default: number of cores)")

    for name, module in PLUGGED.items():  # commands that keep their parser and code in a module of their own
        plugged = importlib.import_module(module)
        plugged.add_parser(sub, name, fmt)
        parser.epilog = f"{parser.epilog}\n  {plugged.EXAMPLES.splitlines()[0]}"
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command in PLUGGED:
            return int(importlib.import_module(PLUGGED[args.command]).run(args))
        return int(COMMANDS[args.command](args))
    except GraderError as exc:
        print(t("cli_error", CONSOLE_LANG, message=exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(t("cli_interrupted", CONSOLE_LANG), file=sys.stderr)
        return 130


def _warn_sandbox(choice: str) -> None:
    from grader.sandbox import detect_mechanism

    mechanism, note = detect_mechanism(choice)
    if mechanism == "rlimits" and note:
        print(t("cli_warning", CONSOLE_LANG, message=t("cli_rlimits_only", CONSOLE_LANG, note=note)), file=sys.stderr)


def _limits(args: argparse.Namespace, rubric: Rubric) -> Limits:
    over = parse_limit_args(args.limit)
    return rubric.limits.override(over, source="command line") if over else rubric.limits


def _check_sandbox(choice: str) -> str:
    """A check's mechanism: bubblewrap when it works (a warm-kernel zygote costs more to start than
    it saves on a few notebooks), else what ``--sandbox`` chose; a fallback to rlimits is announced."""
    sandbox = choice
    if sandbox == "auto":
        from grader.sandbox import detect_mechanism

        try:
            sandbox = "bwrap" if detect_mechanism("bwrap")[0] == "bwrap" else "auto"
        except GraderError:
            sandbox = "auto"
    _warn_sandbox(sandbox)
    return sandbox


def cmd_check(args: argparse.Namespace) -> int:
    from grader import api
    from grader.errors import NotebookError
    from grader.notebook import load
    from grader.report import exports, html, terminal

    if args.ci:
        return _check_ci(args)
    for option in ("changed", "root", "comment"):
        if getattr(args, option) is not None:
            raise UsageError(t("ci_option_needs_ci", CONSOLE_LANG, option=f"--{option}"))
    if len(args.notebooks) != 1:
        raise UsageError(t("ci_one_notebook", CONSOLE_LANG, count=len(args.notebooks)))
    notebook = args.notebooks[0]
    if not notebook.is_file():
        raise UsageError(t("cli_notebook_missing", CONSOLE_LANG, path=notebook))
    try:
        load(notebook)
    except NotebookError as exc:
        print(t("cli_problem", CONSOLE_LANG, message=exc), file=sys.stderr)
        return 2
    sandbox = _check_sandbox(args.sandbox)
    assignment = args.assignment or (None if args.rubric else api.guess_assignment(notebook))
    rb = api.load_rubric(assignment=assignment, rubric=args.rubric, public=True)
    rb.items = [i for i in rb.items if i.visibility == "public"]
    result = api.grade_file(notebook, rb, submission=notebook.name, sandbox=sandbox, limits=_limits(args, rb))
    lang = args.lang or rb.language
    terminal.print_result(result, lang=lang)
    if args.json:
        args.json.write_text(result.to_json(), encoding="utf-8")
    if args.html:
        html.write(result, args.html, lang=lang, public_only=True, audience="student")
        print(t("cli_html_written", lang, path=args.html))
    if args.junit:
        exports.write_junit([result], args.junit)
    if args.summary:
        exports.write_markdown_summary(result, args.summary, lang=lang)
    return 0 if all(test.status == "passed" for test in result.tests) else 1


_ASSIGNMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")


def _check_ci(args: argparse.Namespace) -> int:
    """``check --ci``: one or more notebooks (or, with ``--changed``, those a pull request adds or
    changes, read from git as data), public tests only; on a CI runner the job summary, the
    ``::error`` annotations and the PR comment (grader.ci). Exit 0 when every notebook checked
    reaches its pass mark (none to check: 0, said), else 1."""
    import tempfile

    from grader import api, batch, ci
    from grader.report import html, terminal

    where = ci.detect()
    changed_mode = args.changed is not None
    if changed_mode and args.notebooks:
        raise UsageError(t("ci_changed_or_notebooks", CONSOLE_LANG))
    if not changed_mode and not args.notebooks:
        raise UsageError(t("ci_no_notebook_given", CONSOLE_LANG))
    if (args.json or args.html) and (changed_mode or len(args.notebooks) > 1):
        raise UsageError(t("ci_json_html_one", CONSOLE_LANG))
    comment = args.comment or (ci.default_comment_path() if where else None)
    cwd = Path.cwd().resolve()
    rubrics: dict[str, Rubric] = {}
    checked: list[ci.Checked] = []
    sandbox = ""
    with tempfile.TemporaryDirectory(prefix="grader-ci-") as tmp:
        extra: list[Path] = []
        if changed_mode:
            base, head = ci.revisions(args.changed or None)
            pr = Path(tmp) / "changed"
            found = ci.changed_notebooks(cwd, base, head, pr)
            if args.root:
                (Path(tmp) / "base").mkdir()
                extra = ci.base_handouts(cwd, base, args.root, Path(tmp) / "base")
        else:
            found = []
            for nb in args.notebooks:
                if not nb.is_file():
                    raise UsageError(t("cli_notebook_missing", CONSOLE_LANG, path=nb))
                try:
                    shown = nb.resolve().relative_to(cwd).as_posix()
                except ValueError:
                    shown = nb.as_posix()
                found.append(ci.Changed(shown, nb))
        blanks: dict[str, dict[tuple[str, ...], str]] = {}
        for ch in found:
            student = ci.student_for(ch.path, args.root)
            entry = ci.Checked(ch.path, ch.file, student or "", skip=ch.skip)
            checked.append(entry)
            if ch.file is None:
                continue
            if student is None:
                entry.skip = ("ci_skip_outside_root", {"root": str(args.root)})
                continue
            assignment = args.assignment or (None if args.rubric else api.guess_assignment(ch.file))
            if not args.rubric and (assignment is None or not _ASSIGNMENT_NAME.fullmatch(assignment)):
                entry.skip = ("ci_skip_no_rubric", {})
                continue
            key = assignment or str(args.rubric)
            if key not in rubrics:
                rb = api.load_rubric(assignment=assignment, rubric=args.rubric, public=True)
                rb.items = [i for i in rb.items if i.visibility == "public"]  # hidden tests never run here
                rubrics[key] = rb
                blanks[key] = {}
                for handout in batch.handout_paths(rb, extra):
                    sig = batch.code_signature(handout)
                    if sig:
                        blanks[key].setdefault(sig, Path(handout).name)
            rb = rubrics[key]
            if not rb.grades_file(Path(ch.path).name):
                entry.skip = ("ci_skip_no_rubric", {})
                continue
            same = blanks[key].get(batch.code_signature(ch.file) or ("<unreadable>",))
            if same is not None:
                entry.skip = ("ci_skip_handout", {"handout": same})
                continue
            if not sandbox:
                sandbox = _check_sandbox(args.sandbox)
            entry.result = api.grade_file(ch.file, rb, submission=ch.path, student=student, sandbox=sandbox,
                                          limits=_limits(args, rb))
        lang = args.lang or next((rb.language for rb in rubrics.values()), "ko")
        for entry in checked:
            if entry.result is None:
                print(t("ci_skipped", CONSOLE_LANG, path=entry.path, why=entry.why(CONSOLE_LANG)), file=sys.stderr)
            else:
                terminal.print_result(entry.result, lang=lang)
        done = ci.report(checked, lang=lang, where=where, summary=args.summary, comment=comment, junit=args.junit)
    for line in done.annotations:
        print(line)
    graded = [c.result for c in checked if c.result is not None]
    if args.json and graded:
        args.json.write_text(graded[0].to_json(), encoding="utf-8")
    if args.html and graded:
        html.write(graded[0], args.html, lang=lang, public_only=True, audience="student")
        print(t("cli_html_written", lang, path=args.html))
    if comment is not None:
        print(t("ci_comment_written", CONSOLE_LANG, path=comment), file=sys.stderr)
    if not graded:
        print(t("ci_nothing_to_check", lang))
        return 0
    return 0 if all(r.score >= r.pass_mark for r in graded) else 1


def cmd_grade(args: argparse.Namespace) -> int:
    from grader import api, batch
    from grader.report import terminal

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(t("cli_jobs_at_least_1", CONSOLE_LANG))
    _warn_sandbox(args.sandbox)
    if args.assignment or args.rubric:
        rubrics = [api.load_rubric(assignment=args.assignment, rubric=args.rubric)]
    else:
        rubrics = api.all_rubrics()  # each picks its own notebooks by its match/exclude globs
    over = parse_limit_args(args.limit)
    for rb in rubrics:
        if over:
            rb.limits.override(over, source="command line")  # validate early
    # A student's failed tests, timeouts or crashes are grades, not errors: the exit status says
    # only whether every submission got a result (see GRADE_EXIT).
    without_result = 0
    if len(rubrics) > 1:  # a folder may hold several assignments; one it has no notebook for is not mentioned
        rubrics = [rb for rb in rubrics if batch.has_notebooks(args.submissions, rb)]
        if not rubrics:
            print(t("cli_no_notebooks", CONSOLE_LANG, paths=", ".join(map(str, args.submissions))), file=sys.stderr)
            return 0
    for rb in rubrics:
        if len(rubrics) > 1:
            print(f"== {rb.assignment}", file=sys.stderr)
        with terminal.BatchProgress() as prog:
            summary = batch.grade(
                args.submissions, args.out, rubric=rb, jobs=args.jobs, regrade=args.regrade, roster=args.roster,
                sandbox=args.sandbox, limit_overrides=over, dask=args.dask, progress=prog.update, lang=args.lang,
                handouts=args.handout,
            )
        for submission, handout in summary.handouts:
            print(t("cli_handout_left_out", CONSOLE_LANG, submission=submission, handout=handout), file=sys.stderr)
        terminal.print_summary(summary, args.out, rb.assignment)
        if summary.interrupted:
            return 130
        if summary.without_result:
            print(t("cli_error", CONSOLE_LANG, message=t("cli_no_result", CONSOLE_LANG, count=summary.without_result,
                                                         assignment=rb.assignment)), file=sys.stderr)
            without_result += summary.without_result
    return 1 if without_result else 0


def _open_gradebook(out: Path) -> Gradebook:
    from grader.gradebook import Gradebook

    db = out / "gradebook.sqlite"
    if not db.is_file():
        raise UsageError(t("cli_no_gradebook", CONSOLE_LANG, path=db, out=out))
    return Gradebook(db)


def _one_assignment(gb: Gradebook, chosen: str | None, out: Path) -> str:
    """The assignment a per-student command works on: the one asked for, else the only one held."""
    held = gb.assignments()
    if chosen is not None:
        if chosen not in held:
            raise UsageError(f"{out} holds no results for {chosen!r} (it holds: {', '.join(held) or 'none'}); "
                             "check --assignment")
        return chosen
    if len(held) == 1:
        return held[0]
    if not held:
        raise UsageError(f"{out} holds no results yet; run `grader grade SUBMISSIONS --out {out}` first")
    raise UsageError(f"{out} holds several assignments ({', '.join(held)}); choose one with --assignment")


def cmd_export(args: argparse.Namespace) -> int:
    from grader import batch
    from grader.report import exports

    with _open_gradebook(args.out) as gb:
        per_student = args.format == "sheet" or args.roster is not None
        assignment = _one_assignment(gb, args.assignment, args.out) if per_student else args.assignment
        results = gb.results(assignment=assignment)
        overrides = gb.overrides(assignment=assignment)
        roster = batch.roster_students(args.roster)
        times = {sub: when for (_, sub), when in gb.submitted_times(assignment=assignment).items()}
        if args.format == "csv":
            name = f"grades_{assignment}.csv" if assignment else "grades.csv"
            if roster is not None:
                name = f"class_{assignment}.csv"  # not grades_<a>.csv, which `grader grade` rewrites
            paths = exports.write_csv(results, args.to or args.out / name, overrides=overrides, roster=roster,
                                      pick=args.pick, times=times)
        elif args.format == "sheet":
            paths = exports.write_sheet(results, args.to or args.out / f"sheet_{assignment}.csv", overrides=overrides,
                                        roster=roster, pick=args.pick, times=times)
        elif args.format == "gradescope":
            paths = exports.write_gradescope(results, args.to or args.out / "gradescope", overrides=overrides)
        else:
            paths = exports.write_junit(results, args.to or args.out / "junit.xml", overrides=overrides)
    if paths:
        where = paths[0].parent if len(paths) > 1 else paths[0]
        print(t("cli_wrote_files", CONSOLE_LANG, count=len(paths), where=where))
    else:
        print(t("cli_nothing_to_export", CONSOLE_LANG))
    return 0


def _find_part(tasks: tuple[TaskScore, ...], wanted: str, assignment: str) -> TaskScore:
    """The part a TA named: its task name (any case), its whole title, the number its title starts
    with ("4" for "4. Backpropagation"), else its position (1-based)."""
    key = wanted.strip()
    for pick in (
        lambda i, task: key.casefold() in (task.name.casefold(), task.title.casefold()),
        lambda i, task: key.isdigit() and task.title.split(".")[0].strip() == key,
        lambda i, task: key == str(i),
    ):
        for i, task in enumerate(tasks, 1):
            if pick(i, task):
                return task
    choices = ", ".join(f"{task.name} ({task.title}, max {task.max_score:g})" for task in tasks)
    raise UsageError(f"{assignment} has no part {wanted!r}; give --part one of: {choices}")


def cmd_override(args: argparse.Namespace) -> int:
    from grader import batch
    from grader.report.exports import effective

    with _open_gradebook(args.out) as gb:
        assignment = _one_assignment(gb, args.assignment, args.out)
        student = None if args.student is None else unicodedata.normalize("NFC", args.student.strip())
        if args.points is None and not args.clear:
            shown = gb.overrides(assignment=assignment, student=student)
            for o in shown:
                print(t("cli_override_item", CONSOLE_LANG, student=o.student, part=o.part, points=f"{o.points:g}",
                        comment=o.comment, who=o.who or "?", when=o.when))
            if not shown:
                print(t("cli_override_none", CONSOLE_LANG, assignment=assignment))
            return 0
        if student is None:
            raise UsageError("name the student: grader override OUT STUDENT --part P --points X --comment WHY")
        if args.clear:
            if args.points is not None:
                raise UsageError("--clear removes an override and --points sets one; give one of them")
            part = args.part
            mine = gb.overrides(assignment=assignment, student=student)
            if part is not None and mine:
                known = [o.part for o in mine]
                part = next((p for p in known if p.casefold() == part.strip().casefold()), part)
                if part not in known:  # a number or a title: read it as the parts of the student's result
                    found = [r for r in gb.results(assignment=assignment)
                             if unicodedata.normalize("NFC", r.student) == student]
                    if found:
                        part = _find_part(found[0].tasks, args.part, assignment).name
            count = gb.clear_override(assignment, student, part)
            print(t("cli_override_cleared", CONSOLE_LANG, student=student, count=count))
        else:
            results = [r for r in gb.results(assignment=assignment)
                       if unicodedata.normalize("NFC", r.student) == student]
            if not results:
                names = sorted({r.student for r in gb.results(assignment=assignment)})
                shown_names = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
                raise UsageError(f"{args.out} has no result of {student!r} for {assignment}; "
                                 f"the students are: {shown_names}")
            if not args.part:
                raise UsageError("say which part with --part (its name, e.g. backprop, or its number)")
            task = _find_part(results[0].tasks, args.part, assignment)
            points = float(args.points)
            if not math.isfinite(points) or not 0 <= points <= task.max_score:
                raise UsageError(f"--points {args.points:g} is outside {task.name}'s range; "
                                 f"give a number from 0 to {task.max_score:g}")
            if not args.comment.strip():
                raise UsageError('say why with --comment "...": the student and the other TAs read it')
            gb.set_override(assignment, student, task.name, points, args.comment.strip())
            overrides = gb.overrides(assignment=assignment)
            for result in results:
                grade = effective(result, overrides)
                print(t("cli_override_set", CONSOLE_LANG, student=student, part=task.name, points=f"{points:g}",
                        max=f"{task.max_score:g}", was=f"{task.score:g}", total=f"{grade.score:.1f}",
                        maximum=f"{result.max_score:.1f}"))
        if batch.csv_path(args.out, assignment).is_file():
            batch.write_grades_csv(gb, args.out, assignment)
    _refresh_dashboard(args.out, assignment, student)
    return 0


def _refresh_dashboard(out: Path, assignment: str, student: str | None) -> None:
    """The student's TA report and the class dashboard again, with the overrides now in force
    (when the rubric is at hand)."""
    from grader import api, classview

    try:
        rb = api.load_rubric(assignment=assignment)
    except GraderError as exc:
        print(t("cli_warning", CONSOLE_LANG, message=f"the dashboard was not rebuilt: {exc}"), file=sys.stderr)
        return
    classview.refresh(out, rb, student=student)


def cmd_generate(args: argparse.Namespace) -> int:
    from grader import authoring

    written = authoring.generate(args.assignment)
    for p in written:
        print(t("cli_wrote", CONSOLE_LANG, path=p))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from grader import authoring

    report = authoring.validate(args.assignment, sandbox=args.sandbox, jobs=args.jobs, echo=print)
    print(json.dumps(report["summary"], ensure_ascii=False))
    return 0 if report["ok"] else 1


# each module has ``add_parser(sub, name, formatter)``, ``EXAMPLES`` (the first one is shown in
# ``grader --help`` too) and ``run(args) -> int``;
# it imports what it needs inside ``run``, so ``grader --help`` stays fast
PLUGGED = {
    "comment": "grader.ci",
    "student-package": "grader.student_package",
    "gradescope-bundle": "grader.gradescope",
}

COMMANDS = {
    "check": cmd_check, "grade": cmd_grade, "export": cmd_export, "override": cmd_override, "generate": cmd_generate,
    "validate": cmd_validate,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
