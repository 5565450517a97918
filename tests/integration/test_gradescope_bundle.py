"""``grader gradescope-bundle`` and the zip's ``run_autograder``, in a simulated Gradescope.

Gradescope itself cannot be reached from a test. What is simulated: its folder layout (the zip
unpacked, with its mode bits, into ``<tmp>/autograder/source``, the student's files in
``<tmp>/autograder/submission/``, ``results/`` written by ``run_autograder``), with
``AUTOGRADER_ROOT`` pointing there, and its image: ``setup.sh`` is NOT run (it needs apt-get and
the network); instead the bundled wheel is unzipped into a folder put on PYTHONPATH and
``GRADER_PYTHON`` is this interpreter (its venv has the grader's dependencies), so the code that
grades is the wheel's, not the checkout's. What runs for real: the CLI building the zip,
``bash run_autograder`` (as root here, like Gradescope), its chmod, the rubric's unpacking, the
sandboxed kernels, and results.json.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader import api
from grader.report.i18n import t

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks" / "week3"
RUBRIC = ROOT / "rubrics" / "week3_nn_basic"
HIDDEN = sorted((RUBRIC / "tests" / "hidden").glob("*.py"))
SOLUTION = ROOT / "solutions" / "week3_nn_basic" / "reference.ipynb"
SCRIPTS = {"setup.sh", "run_autograder"}


def build(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-m", "grader", "gradescope-bundle", "week3_nn_basic", "-o", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )


def distinctive_lines(text: str) -> set[str]:
    """Lines of a test file long and specific enough (a number or a string in them) that finding
    one elsewhere is no accident; comments, docstrings' prose and imports aside."""
    found = set()
    for line in text.splitlines():
        s = line.strip()
        if len(s) >= 25 and not s.startswith(("#", "import ", "from ")) and re.search(r"[0-9\"']", s):
            found.add(s)
    return found


HIDDEN_LINES = {line for f in HIDDEN for line in distinctive_lines(f.read_text(encoding="utf-8"))}


@pytest.fixture(scope="module")
def rubric() -> Any:
    return api.load_rubric(assignment="week3_nn_basic")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    done = build(out)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


@pytest.fixture(scope="module")
def site(bundle: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled wheel, unzipped: what setup.sh's pip install puts in the venv (a pure-Python wheel)."""
    folder = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(bundle[0]) as zf:
        (wheel,) = [n for n in zf.namelist() if n.endswith(".whl")]
        (folder / wheel).write_bytes(zf.read(wheel))
    with zipfile.ZipFile(folder / wheel) as whl:
        whl.extractall(folder)  # noqa: S202 - the wheel this module just built
    return folder


def unpack(zip_path: Path, dest: Path) -> None:
    """What Gradescope's unzip does: the files with their mode bits."""
    dest.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            target = dest / info.filename
            target.write_bytes(zf.read(info))
            target.chmod((info.external_attr >> 16) & 0o777)


def autograde(bundle: tuple[Path, str], site: Path, tmp: Path, files: dict[str, Path | str],
              sandbox: str | None = None, links: dict[str, Path] | None = None,
              ) -> tuple[dict[str, Any], Path, subprocess.CompletedProcess[str]]:
    """A Gradescope run: unpack, hand in ``files`` (name -> a file to copy, or text) and ``links``
    (name -> a symbolic link's target), run ``bash run_autograder``; results.json, the autograder
    folder and the process."""
    root = tmp / "autograder"
    unpack(bundle[0], root / "source")
    (root / "submission").mkdir()
    for name, what in files.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(what, Path):
            shutil.copy(what, target)
        else:
            target.write_text(what, encoding="utf-8")
    for name, target in (links or {}).items():
        (root / "submission" / name).symlink_to(target)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": sys.executable, "PYTHONPATH": str(site)}
    env.pop("GRADER_SANDBOX", None)
    if sandbox:
        env["GRADER_SANDBOX"] = sandbox
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")],  # noqa: S603, S607 - our script
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=900)
    results = root / "results" / "results.json"
    assert results.is_file(), f"no results.json:\n{done.stdout}\n{done.stderr}"
    return json.loads(results.read_text(encoding="utf-8")), root, done


def hostile_notebook(root: Path, dest: Path) -> Path:
    """passes_all with a last cell that reads the rubric's files where the bundle keeps them and
    prints what it learned (a digest of each file and its 5th line), then fails so that what it
    printed lands in the report (the markers are built at run time: the traceback quotes the cell)."""
    private = root / "source" / "private"
    targets = [private / "rubric" / "week3_nn_basic" / "tests" / "hidden" / f.name for f in HIDDEN]
    targets += [root / "source" / "rubric.tar.gz", private / "solutions" / "week3_nn_basic" / "reference.ipynb"]
    source = f"""
import hashlib, os
for p in {[str(p) for p in targets]!r}:
    try:
        data = open(p, "rb").read()
        print("HOSTILE-READ-" + "OK", os.path.basename(p), hashlib.sha256(data).hexdigest())
        print(data.decode("utf-8", "replace").splitlines()[4:5])
    except Exception as exc:
        print("HOSTILE-READ-" + "FAILED", os.path.basename(p), type(exc).__name__)
raise RuntimeError("hostile cell done")
"""
    nb = nbformat.read(FIXTURES / "passes_all.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(nb, dest)
    return dest


def no_hidden_source(text: str) -> list[str]:
    """What of the hidden tests and the solution ``text`` shows: their lines or their digests."""
    shown = [line for line in HIDDEN_LINES if line in text]
    shown += [f.name for f in [*HIDDEN, SOLUTION] if hashlib.sha256(f.read_bytes()).hexdigest() in text]
    return shown


# -- the zip ----------------------------------------------------------------------------


def test_the_zip_holds_the_scripts_the_wheel_and_the_rubric(bundle: tuple[Path, str], rubric: Any) -> None:
    zip_path, stdout = bundle
    hidden = sum(1 for i in rubric.items if i.visibility != "public")
    assert f"{hidden} hidden" in stdout and str(zip_path) in stdout
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        (wheel,) = [n for n in names if n.endswith(".whl")]
        assert names == SCRIPTS | {wheel, "rubric.tar.gz", "gradescope.json"}
        for script in SCRIPTS:
            info = zf.getinfo(script)
            assert (info.external_attr >> 16) & 0o111 == 0o111, f"{script} is not executable in the zip"
            assert zf.read(script).startswith(b"#!/usr/bin/env bash\n")
        run = zf.read("run_autograder").decode()
        assert "AUTOGRADER_ROOT" in run and "GRADER_PYTHON" in run and "go-rwx" in run
        setup = zf.read("setup.sh").decode()
        assert re.search(r"apt-get install .*python3 .*python3-venv .*bubblewrap", setup)
        assert "/autograder/venv" in setup and "pip install ./grader-" in setup
        config = json.loads(zf.read("gradescope.json"))
        assert (config["assignment"], config["lang"], config["rubric_version"]) == (
            "week3_nn_basic", rubric.language, rubric.version)
        archive = zf.read("rubric.tar.gz")
        assert config["rubric_sha256"] == hashlib.sha256(archive).hexdigest()
        wheel_bytes = zf.read(wheel)
        others = {n: zf.read(n) for n in names if n != "rubric.tar.gz"}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        held = {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar.getmembers() if m.isfile()}
    for f in HIDDEN:  # the hidden tests and the solution travel in the rubric archive, byte for byte
        assert held[f"rubric/week3_nn_basic/tests/hidden/{f.name}"] == f.read_bytes()
    assert held["solutions/week3_nn_basic/reference.ipynb"] == SOLUTION.read_bytes()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as whl:
        inside = {n: whl.read(n) for n in whl.namelist()}
    secret = [n for n in inside if {"rubrics", "solutions", "tests", "hidden"} & set(n.split("/")[:-1])
              or n.endswith((".ipynb", "rubric.toml"))]
    assert not secret, f"the wheel holds rubric or solution files: {secret}"
    for name, data in [*inside.items(), *others.items()]:  # nowhere else: not a line of a hidden test
        text = data.decode("utf-8", "replace")
        assert not [line for line in HIDDEN_LINES if line in text], f"{name} holds hidden test code"


def test_the_same_rubric_gives_the_same_zip(bundle: tuple[Path, str], tmp_path: Path) -> None:
    again = build(tmp_path / "again.zip")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again.zip").read_bytes() == bundle[0].read_bytes()


def test_an_output_folder_is_refused_with_what_to_give(tmp_path: Path) -> None:
    done = build(tmp_path)  # -o names a folder
    assert done.returncode == 2 and "-o autograder.zip" in done.stderr


# -- on Gradescope ----------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["passes_all", "sigmoid_prime_forgot_derivative"])
def test_a_submission_gets_its_score_per_test_visibility_and_its_report(
    fixture: str, bundle: tuple[Path, str], site: Path, rubric: Any, tmp_path: Path,
) -> None:
    notebook = FIXTURES / f"{fixture}.ipynb"
    got, root, done = autograde(bundle, site, tmp_path, {"week3_NeuralNetworkBasic_assignmet2.ipynb": notebook})
    assert done.returncode == 0, done.stderr
    ta = api.grade_file(notebook, rubric)  # the TA's grade of the same notebook, public and hidden tests
    assert got["score"] == pytest.approx(ta.score)
    # Gradescope shows the top-level score; the tests' points (rounded per test) add up to it
    assert sum(x["score"] for x in got["tests"]) == pytest.approx(ta.score, abs=0.01)
    visibility = {x.name: "visible" if x.visibility == "public" else "after_published" for x in ta.tests}
    assert {x["name"]: x["visibility"] for x in got["tests"]} == visibility
    assert "after_published" in visibility.values() and "visible" in visibility.values()
    # the output is the student's report, in the rubric's language (Korean): every part, the total
    output = got["output"]
    assert got["output_format"] == "text"
    for task in rubric.tasks:
        assert task.title in output
    assert f"{ta.score:.1f} / {ta.max_score:.1f}" in output
    # hidden tests: their verdict, never their inputs or expected values (which the TA's copy has)
    hidden_cases = [text for x in ta.tests if x.visibility != "public" for c in x.cases
                    for text in (c.call, c.expected) if len(text) > 12]
    if fixture == "passes_all":
        assert ta.score == ta.max_score and not hidden_cases
    else:
        assert ta.score < ta.max_score and hidden_cases, "the half-right notebook must fail some hidden tests"
        assert got["tests"] and any(x["status"] == "failed" and x["visibility"] == "after_published"
                                    for x in got["tests"])
    leaked = [text for text in hidden_cases if text in output or text in json.dumps(got, ensure_ascii=False)]
    assert not leaked, f"hidden inputs in results.json: {leaked[:2]}"
    assert not no_hidden_source(json.dumps(got, ensure_ascii=False))
    # run_autograder left the rubric readable by root only
    for path in [root / "source", *(root / "source").rglob("*")]:
        assert path.lstat().st_mode & 0o077 == 0, f"{path} is readable by others"


@pytest.mark.parametrize("files", [{}, {"notes.txt": "I could not finish"}], ids=["empty", "no notebook"])
def test_a_submission_without_a_notebook_gets_a_zero_that_says_what_to_upload(
    files: dict[str, Path | str], bundle: tuple[Path, str], site: Path, rubric: Any, tmp_path: Path,
) -> None:
    got, _, done = autograde(bundle, site, tmp_path, files)
    assert done.returncode == 0, done.stderr
    assert got["score"] == 0
    assert len(got["tests"]) == len(rubric.items) and all(x["score"] == 0 for x in got["tests"])
    assert ".ipynb" in got["output"] and rubric.notebook in got["output"]
    names = ", ".join(files) or t("gradescope_nothing", rubric.language)
    assert got["output"].strip() == t("gradescope_no_notebook", rubric.language, files=names,
                                      notebook=rubric.notebook)


@pytest.mark.skipif(os.geteuid() != 0, reason="run_autograder runs as root on Gradescope; this test switches users")
def test_after_run_autograder_another_user_cannot_read_the_rubric(bundle: tuple[Path, str], site: Path) -> None:
    # where the kernel runs as its own user without namespaces (the rlimits fallback), only the
    # file modes keep the rubric from it: a folder any user can reach, as /autograder is
    where = Path(tempfile.mkdtemp(prefix="grader-gradescope-test-", dir="/tmp"))
    try:
        where.chmod(0o755)
        _, root, done = autograde(bundle, site, where, {"notes.txt": "no notebook yet"})
        assert done.returncode == 0, done.stderr
        hidden = root / "source" / "private" / "rubric" / "week3_nn_basic" / "tests" / "hidden" / HIDDEN[0].name
        assert hidden.read_bytes() == HIDDEN[0].read_bytes()  # unpacked there, for root

        def cat_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
            return subprocess.run(  # noqa: S603, S607 - cat from PATH, a path of this test
                ["cat", str(path)], user=65534, group=65534, capture_output=True, text=True, timeout=60)

        assert cat_as_nobody(root / "submission" / "notes.txt").returncode == 0  # the folders are reachable
        for secret in (hidden, root / "source" / "rubric.tar.gz", root / "source" / "gradescope.json"):
            denied = cat_as_nobody(secret)
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, secret
    finally:
        shutil.rmtree(where)


def test_an_unreadable_notebook_gets_a_zero_that_says_why(bundle: tuple[Path, str], site: Path, tmp_path: Path) -> None:
    got, _, done = autograde(bundle, site, tmp_path, {"week3.ipynb": ""})
    assert done.returncode == 0, done.stderr
    assert got["score"] == 0 and got["extra_data"]["status"] == "invalid"
    assert "week3.ipynb" in got["output"] and "resubmit" in got["output"]


def test_several_notebooks_are_not_guessed_between(bundle: tuple[Path, str], site: Path, tmp_path: Path) -> None:
    one = FIXTURES / "passes_all.ipynb"
    got, _, _ = autograde(bundle, site, tmp_path, {"mine.ipynb": one, "friend/other.ipynb": one})
    assert got["score"] == 0
    assert "friend/other.ipynb" in got["output"] and "mine.ipynb" in got["output"]


def test_a_link_to_the_solution_is_not_graded(bundle: tuple[Path, str], site: Path, tmp_path: Path) -> None:
    # a student's zip or repository may hold a symbolic link, and the grader reads the notebook as root
    root = tmp_path / "autograder"
    target = root / "source" / "private" / "solutions" / "week3_nn_basic" / "reference.ipynb"
    got, _, done = autograde(bundle, site, tmp_path, {}, links={"week3.ipynb": target})
    assert done.returncode == 0, done.stderr
    assert target.is_file()  # the link pointed at the real solution
    assert got["score"] == 0 and ".ipynb" in got["output"]


def test_a_hostile_submission_learns_nothing_of_the_rubric(
    bundle: tuple[Path, str], site: Path, tmp_path: Path,
) -> None:
    root = tmp_path / "autograder"
    notebook = hostile_notebook(root, tmp_path / "hostile.ipynb")
    got, _, done = autograde(bundle, site, tmp_path, {"week3.ipynb": notebook})
    assert done.returncode == 0, done.stderr
    output = got["output"]
    assert "HOSTILE-READ-FAILED" in output, "what the cell printed must be in the report for this test to mean anything"
    assert "HOSTILE-READ-OK" not in output
    assert not no_hidden_source(output)
    assert got["extra_data"]["sandbox"] in ("forkserver", "bwrap", "rlimits")  # the kernel did not keep root


def test_a_sandbox_that_keeps_root_says_the_hidden_tests_were_readable(
    bundle: tuple[Path, str], site: Path, rubric: Any, tmp_path: Path,
) -> None:
    root = tmp_path / "autograder"
    notebook = hostile_notebook(root, tmp_path / "hostile.ipynb")
    got, _, done = autograde(bundle, site, tmp_path, {"week3.ipynb": notebook}, sandbox="rlimits")
    assert done.returncode == 0, done.stderr
    sandbox, output = got["extra_data"]["sandbox"], got["output"]
    warning = t("gradescope_hidden_readable", rubric.language, sandbox=sandbox)
    if sandbox.endswith("-as-root"):  # e.g. this venv's Python lives under /root: the kernel cannot drop root
        assert output.startswith(warning)
        assert "HOSTILE-READ-OK" in output  # and the warning is no false alarm
    else:  # the kernel ran as its own user: run_autograder's chmod kept the rubric from it
        assert warning not in output
        assert "HOSTILE-READ-FAILED" in output and not no_hidden_source(output)
