"""``grader gradescope-bundle``: the zip Gradescope's autograder runs, and what runs inside it.

The zip (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh                      run once, as root, when Gradescope builds the image: apt-get installs
                                  python3, python3-venv and bubblewrap; a venv at /autograder/venv; the wheel
    run_autograder                run for each submission, as root (executable; honours AUTOGRADER_ROOT,
                                  default /autograder, GRADER_PYTHON, default the venv's python, and
                                  GRADER_SANDBOX, default auto)
    grader-<version>-py3-none-any.whl   this grader (the package only: no rubric, no solution)
    rubric.tar.gz                 the TA rubric (public and hidden tests) and its solution (``pack_rubric``)
    gradescope.json               which assignment, the report's language, the rubric's version and sha256

``run_autograder`` calls ``python -m grader.gradescope run --root ROOT --sandbox SANDBOX`` (:func:`main`):
it makes ``ROOT/source`` readable by root only, unpacks the rubric there, grades the notebook found
in ``ROOT/submission/`` with every test (public and hidden) and writes ``ROOT/results/results.json``
(:func:`grade_submission`). Every submission gets a results.json, a 0 with a sentence saying what to
upload when no notebook can be found. The zip is deterministic: the same checkout and rubric give
the same bytes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import shutil
import stat
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import GraderError, UsageError
from grader.report.i18n import CONSOLE_LANG, t

if TYPE_CHECKING:
    from grader.result import Result
    from grader.rubric import Rubric

EXAMPLES = ("grader gradescope-bundle week3_nn_basic -o autograder.zip\n"
            "  grader gradescope-bundle week3_nn_basic -o autograder_en.zip --lang en")

RUBRIC_ARCHIVE = "rubric.tar.gz"
CONFIG = "gradescope.json"
PRIVATE = "private"  # ROOT/source/private: the unpacked rubric and solution (root only)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: the same bytes for the same inputs

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu, network on).
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# bubblewrap: each notebook runs in its own namespaces, as its own user, seeing none of /autograder
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install ./grader-*.whl
# the student's kernel drops root only where it can read the Python it runs on
chmod go+rx /autograder /autograder/venv
/autograder/venv/bin/python -c "import grader"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission, as root. AUTOGRADER_ROOT, GRADER_PYTHON and GRADER_SANDBOX
# let it run elsewhere (a test, a TA's machine): see docs/issue15/gradescope.md.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{GRADER_PYTHON:-$ROOT/venv/bin/python}}"
SANDBOX="${{GRADER_SANDBOX:-auto}}"
# the rubric, its hidden tests and the solution: readable by root only, before any student code runs
chmod -R go-rwx "$ROOT/source"
mkdir -p "$ROOT/results"
# not the submission folder: Python puts the current folder first on its path, and a student's grader/
# folder must never be what runs as root
cd "$ROOT/source" || exit 1
"$PYTHON" -m grader.gradescope run --root "$ROOT" --sandbox "$SANDBOX"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
  # the grader stopped before writing a result: the student still gets one, and the log says why
  printf '%s\\n' {fallback} > "$ROOT/results/results.json"
fi
exit "$status"
"""


# -- the command: grader gradescope-bundle --------------------------------------------


def add_parser(sub: Any, name: str, formatter: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        name, help="build the zip Gradescope's autograder runs (hidden tests kept from students)",
        formatter_class=formatter,
        description="Build a Gradescope autograder zip: setup.sh, run_autograder, this grader as a wheel and "
                    "the TA rubric with its solution. On Gradescope, run_autograder grades the notebook in "
                    "/autograder/submission with the public and hidden tests and writes "
                    "/autograder/results/results.json (public tests visible, hidden ones after the grades "
                    "are published, the student's report as the output).",
        epilog="examples:\n  " + EXAMPLES + "\n\nUpload the zip in Gradescope: Configure Autograder, Zip file upload "
               "(base image Ubuntu).",
    )
    p.add_argument("assignment", help="assignment id, a folder name under rubrics/ (the TA rubric)")
    p.add_argument("-o", "--output", type=Path, default=Path("autograder.zip"),
                   help="the zip to write (default: autograder.zip)")
    p.add_argument("--lang", choices=["ko", "en"], default=None,
                   help="language of the report students read (default: the rubric's, Korean)")


def run(args: argparse.Namespace) -> int:
    from grader import api

    rubric = api.load_rubric(assignment=args.assignment)
    if rubric.public_only:
        raise UsageError(t("gradescope_not_ta_rubric", CONSOLE_LANG, path=rubric.path, assignment=args.assignment))
    out: Path = args.output
    if out.is_dir():
        raise UsageError(t("gradescope_output_is_folder", CONSOLE_LANG, path=out))
    data = build_bundle(rubric, lang=args.lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    hidden = sum(1 for i in rubric.items if i.visibility != "public")
    print(t("gradescope_bundle_written", CONSOLE_LANG, path=out, assignment=rubric.assignment,
            version=rubric.version, public=len(rubric.items) - hidden, hidden=hidden,
            points=f"{rubric.max_score:g}", size=f"{len(data) / 1024:.0f}",
            language=args.lang or rubric.language))
    print(t("gradescope_bundle_next", CONSOLE_LANG))
    return 0


def project_version() -> str:
    """The version in the checkout's pyproject.toml (the wheel's version)."""
    from grader.wheels import checkout

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    raw = tomllib.loads((checkout() / "pyproject.toml").read_text(encoding="utf-8"))
    return str(raw["project"]["version"])


def build_bundle(rubric: Rubric, *, lang: str | None = None) -> bytes:
    """The autograder zip for *rubric* (the TA's, with hidden tests), as bytes."""
    import hashlib
    import tempfile

    from grader.bundle import pack_rubric
    from grader.wheels import build_wheel

    archive = pack_rubric(rubric)
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as tmp:
        wheel = build_wheel(Path(tmp), version=project_version())
        wheel_bytes = _normalised_zip(wheel.read_bytes())
    _refuse_secrets(wheel_bytes)
    config = {
        "assignment": rubric.assignment,
        "rubric": f"rubric/{Path(rubric.path).name}",
        "rubric_version": rubric.version,
        "rubric_sha256": hashlib.sha256(archive).hexdigest(),
        "lang": lang or rubric.language,
    }
    fallback = json.dumps({
        "score": 0, "output_format": "text", "visibility": "visible", "stdout_visibility": "hidden",
        "output": t("gradescope_autograder_failed", lang or rubric.language), "tests": [],
    }, ensure_ascii=False)
    members: dict[str, tuple[bytes, int]] = {
        "setup.sh": (SETUP_SH.encode(), 0o755),
        "run_autograder": (RUN_AUTOGRADER.format(fallback=shlex.quote(fallback)).encode(), 0o755),
        wheel.name: (wheel_bytes, 0o644),
        RUBRIC_ARCHIVE: (archive, 0o644),
        CONFIG: ((json.dumps(config, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(), 0o644),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            data, mode = members[name]
            zf.writestr(_zip_info(name, mode), data)
    return buf.getvalue()


def _zip_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.create_system = 3  # unix: unzip restores the mode bits (run_autograder stays executable)
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _normalised_zip(data: bytes) -> bytes:
    """The same zip (a wheel) with every member's time fixed, so the bundle's bytes do not
    depend on when the wheel was built (its RECORD holds content hashes only)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for member in src.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=ZIP_TIME)
            info.create_system, info.external_attr = member.create_system, member.external_attr
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(member))
    return out.getvalue()


def _refuse_secrets(wheel: bytes) -> None:
    """The wheel is installed where a student's code may read it: no rubric, test or solution."""
    secret = {"rubrics", "solutions", "assignments", "tests", "hidden"}
    with zipfile.ZipFile(io.BytesIO(wheel)) as zf:
        found = [n for n in zf.namelist() if secret & set(n.split("/")[:-1])
                 or n.endswith((".ipynb", "rubric.toml", "expected.json"))]
    if found:
        raise UsageError(t("gradescope_wheel_secret", CONSOLE_LANG, names=", ".join(found[:5])))


# -- on Gradescope: python -m grader.gradescope run --root /autograder ----------------


def lock_down(folder: Path) -> None:
    """``chmod -R go-rwx folder``: only its owner (root, on Gradescope) can read what it holds."""
    for path in [folder, *folder.rglob("*")]:
        st = path.lstat()
        if not stat.S_ISLNK(st.st_mode):
            path.chmod(stat.S_IMODE(st.st_mode) & ~0o077)


def _unpack_rubric(source: Path, config: dict[str, Any]) -> Path:
    """Unpack rubric.tar.gz into ROOT/source/private (root only); the rubric folder in it."""
    private = source / PRIVATE
    if private.exists():
        shutil.rmtree(private)
    private.mkdir(mode=0o700)
    with tarfile.open(source / RUBRIC_ARCHIVE, mode="r:gz") as tar:
        tar.extractall(private, filter="data")
    lock_down(private)
    return private / str(config["rubric"])


def find_notebook(submission: Path, rubric: Rubric) -> tuple[Path | None, list[str]]:
    """The notebook to grade in the submission folder, and every file found there (for a message).

    The rubric's ``match``/``exclude`` globs first (its own file name wins among several), else the
    only ``.ipynb``; none, or several that the globs cannot choose from, give None."""
    inside = submission.resolve()
    files = sorted(p for p in submission.rglob("*") if _own_file(p, inside) and not any(
        part.startswith(".") or part == "__MACOSX" for part in p.relative_to(submission).parts))
    names = [p.relative_to(submission).as_posix() for p in files]
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb"]
    chosen = [p for p in notebooks if rubric.grades_file(p.name)]
    own = [p for p in chosen if p.name == rubric.notebook]
    for pick in (own, chosen, notebooks):
        if len(pick) == 1:
            return pick[0], names
        if len(pick) > 1:
            return None, names
    return None, names


def _own_file(path: Path, inside: Path) -> bool:
    """A file the student handed in: not a link, and nowhere but in the submission folder (a link
    to the solution under /autograder/source would otherwise be graded, by root, as the student's)."""
    try:
        return not path.is_symlink() and path.is_file() and path.resolve().is_relative_to(inside)
    except OSError:
        return False


def report_text(result: Result, lang: str) -> str:
    """The report a student reads in the terminal (``grader check``), as plain text."""
    from rich.console import Console

    from grader.report import terminal
    from grader.report.view import build

    buf = io.StringIO()
    # soft_wrap: a paragraph stays one line, wrapped by the page Gradescope shows it on
    console = Console(file=buf, width=100, color_system=None, force_terminal=False, force_jupyter=False,
                      highlight=False, emoji=False, soft_wrap=True)
    terminal.print_result(result, lang=lang, console=console, audience="student")
    text = buf.getvalue().rstrip() + "\n"
    # what the failed cells printed and the end of their tracebacks, as the student's HTML copy shows
    shown = [item for item in build(result, lang=lang, audience="student").run if item.output or item.traceback]
    if shown:
        lines = ["", t("run_title", lang)]
        for item in shown:
            lines.append(f"  ! {item.text}")
            if item.output:
                lines += [f"  {t('run_printed', lang)}:", textwrap.indent(item.output, "    ")]
            if item.traceback:
                lines += [f"  {t('run_traceback', lang)}:", textwrap.indent(item.traceback, "    ")]
        text += "\n".join(lines) + "\n"
    return text


def _no_notebook(rubric: Rubric, names: list[str], lang: str) -> tuple[Result, str]:
    """A 0 for every test, and what the student should upload."""
    from grader import api
    from grader.result import Result

    notebooks = [n for n in names if n.lower().endswith(".ipynb")]
    if notebooks:
        text = t("gradescope_several_notebooks", lang, names=", ".join(notebooks), notebook=rubric.notebook)
    else:
        text = t("gradescope_no_notebook", lang, notebook=rubric.notebook,
                 files=", ".join(names[:10]) if names else t("gradescope_nothing", lang))
    tests, tasks = api.unscored(rubric, "not run: no notebook to grade")
    result = Result.invalid(assignment=rubric.assignment, rubric_version=rubric.version, submission="",
                            student="", sha256="", pass_mark=rubric.pass_mark, reason=text, tests=tests, tasks=tasks)
    return result, text


def grade_submission(root: Path, *, sandbox: str = "auto") -> dict[str, Any]:
    """Grade ``root/submission`` with the bundle in ``root/source``; write and return
    ``root/results/results.json``. Never raises for what a student handed in."""
    from grader import api
    from grader.report.exports import gradescope_result

    source, submission, results = root / "source", root / "submission", root / "results"
    lock_down(source)  # before anything of the student's runs (run_autograder did it too)
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    lang = str(config.get("lang") or "ko")
    try:
        rubric = api.load_rubric(rubric=_unpack_rubric(source, config))
    except (GraderError, OSError, tarfile.TarError) as exc:
        payload = _payload(0.0, t("gradescope_cannot_grade", lang, error=exc), [])
        _write(results, payload)
        return payload
    notebook, names = find_notebook(submission, rubric) if submission.is_dir() else (None, [])
    if notebook is None:
        result, text = _no_notebook(rubric, names, lang)
        output = text + "\n"
    else:
        result = api.grade_file(notebook, rubric, submission=notebook.relative_to(submission).as_posix(),
                                sandbox=sandbox)
        output = report_text(result, lang)
        if result.sandbox.endswith("-as-root"):
            output = t("gradescope_hidden_readable", lang, sandbox=result.sandbox) + "\n\n" + output
    exported = gradescope_result(result, lang=lang)  # each test's words in the report's language
    payload = _payload(exported["score"], output, exported["tests"])
    payload["extra_data"] = {"status": result.status, "sandbox": result.sandbox,
                             "rubric_version": rubric.version, "submission": result.submission}
    _write(results, payload)
    print(t("gradescope_graded", CONSOLE_LANG, submission=result.submission or "-", score=f"{result.score:.1f}",
            max_score=f"{result.max_score:.1f}", status=result.status, sandbox=result.sandbox or "-"))
    return payload


def _payload(score: float, output: str, tests: list[dict[str, Any]]) -> dict[str, Any]:
    return {"score": score, "output": output, "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def _write(results: Path, payload: dict[str, Any]) -> None:
    results.mkdir(parents=True, exist_ok=True)
    tmp = results / f".results.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, results / "results.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope",
                                     description="Grade one Gradescope submission (what run_autograder calls).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="grade ROOT/submission and write ROOT/results/results.json")
    p.add_argument("--root", type=Path, default=Path("/autograder"), help="Gradescope's folder (default /autograder)")
    p.add_argument("--sandbox", choices=["auto", "forkserver", "bwrap", "rlimits"], default="auto",
                   help="isolation mechanism (see `grader grade --help`)")
    args = parser.parse_args(argv)
    grade_submission(args.root, sandbox=args.sandbox)
    return 0


if __name__ == "__main__":  # pragma: no cover - run by run_autograder
    sys.exit(main())
