"""``grader student-package``: the wheel students install to self-check.

One wheel ``grader-<version>+<assignments and rubric versions>`` holds the grader and, inside the
package, ``grader/assignments/<a>/`` for each assignment: the generated student bundle
(``grader generate <a>``: notebook, rubric.toml, public tests, expected values, data files), found
by :func:`grader.rubric.find_root` wherever the student runs ``grader check``. Before building,
each bundle is checked against its sources in this checkout, and the command refuses one that is

* missing (never generated),
* stale (its rubric, public tests, figure module, data files or notebook differ from what
  ``grader generate`` writes from ``rubrics/<a>`` and ``solutions/<a>`` now),
* unsafe: a file ``generate`` does not write (``tests/hidden``, a variant's source, a copy of
  the solution...), or a file holding a line of the solution, a hidden test or a variant
  (:func:`secret_lines`, :func:`leaks`).

The wheel depends on what a student's ``grader check`` imports, with the checkout's lower bounds
and nothing else: copydetect (the TAs' similarity check, loaded only by ``grader grade``) is left
out, and no upper bound or pin is added, so installing it into Colab's environment keeps every
package already there that is recent enough. ``README-student.md`` beside the wheel says, in
Korean and English, how to install it and check a notebook.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from grader.report.i18n import CONSOLE_LANG, t

TA_ONLY = frozenset({"copydetect"})
"""Dependencies only a TA's ``grader grade`` imports (``grader.similarity``): not in the student wheel."""

_NOT_SHIPPED = re.compile(r"(^|/)(__pycache__(/|$)|\.)|\.pyc$")  # what grader.wheels never copies
EXAMPLES = ("grader student-package\n"
            "  grader student-package week3_nn_basic -o dist/\n"
            "  grader student-package week3_nn_basic week3_written -o public/")


def add_parser(sub: Any, name: str, formatter: type[argparse.HelpFormatter]) -> None:
    p = sub.add_parser(
        name, help="build the wheel students install: public tests and expected values only",
        formatter_class=formatter,
        description="Build one wheel holding the grader and the student bundle (assignments/<a>/: notebook, "
                    "rubric, public tests, expected values) of each assignment, and README-student.md saying how "
                    "to install it (Colab, Jupyter, a terminal). Refuses a bundle that is missing, older than its "
                    "rubric or solution, or holds anything else (hidden tests, a variant, a solution line). Run "
                    "it in the grader's repository (installed with pip install -e .).",
        epilog=f"examples:\n  {EXAMPLES}")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="assignment ids (default: every one under assignments/)")
    p.add_argument("-o", "--out", type=Path, default=Path("dist"),
                   help="folder for the wheel and README-student.md (default: dist/)")


def run(args: argparse.Namespace) -> int:
    from grader import rubric as rubric_mod
    from grader.errors import RubricError, UsageError

    try:
        root = rubric_mod.find_root()
    except RubricError as exc:
        raise UsageError(str(exc)) from exc
    wheel, readme = build(root, list(args.assignments), args.out)
    print(t("cli_wrote", CONSOLE_LANG, path=wheel))
    print(t("cli_wrote", CONSOLE_LANG, path=readme))
    print(t("sp_install_hint", CONSOLE_LANG, wheel=wheel.name))
    return 0


def build(root: Path, assignments: list[str], out: Path) -> tuple[Path, Path]:
    """Check each bundle, build the wheel into *out*, write README-student.md; both paths."""
    import sys

    from grader import wheels
    from grader.errors import UsageError

    if not assignments:
        assignments = sorted(p.parent.name for p in (root / "assignments").glob("*/rubric.toml"))
        if not assignments:
            raise UsageError(t("sp_none", CONSOLE_LANG, root=root))
    assignments = list(dict.fromkeys(assignments))
    versions: dict[str, str] = {}
    for a in assignments:
        versions[a], warnings = check_bundle(root, a)
        for warning in warnings:
            print(t("cli_warning", CONSOLE_LANG, message=warning), file=sys.stderr)
    project = _project()
    version = package_version(str(project["version"]), versions)
    wheel = wheels.build_wheel(
        out, version=version,
        extra={f"assignments/{a}": root / "assignments" / a for a in assignments},
        package_data=("assignments/**/*",),
        dependencies=student_dependencies(project.get("dependencies", [])),
        description=t("sp_description", "en", assignments=", ".join(assignments)),
    )
    readme = out / "README-student.md"
    readme.write_text(student_readme(wheel.name, assignments), encoding="utf-8")
    return wheel, readme


def package_version(base: str, rubric_versions: Mapping[str, str]) -> str:
    """``0.1.0+week3.nn.basic.2026.11.5``: a PEP 440 local version naming each assignment and its
    rubric version, so a package rebuilt after a rubric change installs over the last one."""
    parts = [f"{a}.{v}" for a, v in rubric_versions.items()]
    label = re.sub(r"[^a-z0-9]+", ".", ".".join(parts).lower()).strip(".")
    return f"{base}+{label}"


def _project() -> dict[str, Any]:
    """The ``[project]`` table of the checkout's pyproject.toml (name, version, dependencies)."""
    import sys

    from grader import wheels

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    text = (wheels.checkout() / "pyproject.toml").read_text(encoding="utf-8")
    project: dict[str, Any] = tomllib.loads(text)["project"]
    return project


def student_dependencies(dependencies: Iterable[str]) -> list[str]:
    """The checkout's dependencies without the TA-only ones, each as the checkout states it."""
    return [d for d in dependencies if _requirement_name(d) not in TA_ONLY]


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""


# -- is the bundle the one `grader generate` writes, and nothing else? -------------------------------


def check_bundle(root: Path, assignment: str) -> tuple[str, list[str]]:
    """Raise a UsageError saying what to do unless ``assignments/<a>`` is exactly what ``grader
    generate`` writes from the sources in *root* now, with no secret line in what it computes; the
    rubric's version, and a warning for each secret line the rubric's own files (copied as they are) give away."""
    from grader import authoring
    from grader import rubric as rubric_mod
    from grader.errors import RubricError, UsageError

    bundle = root / "assignments" / assignment
    source = root / "rubrics" / assignment
    if not (source / "rubric.toml").is_file():
        known = ", ".join(sorted(p.parent.name for p in (root / "rubrics").glob("*/rubric.toml"))) or "none"
        raise UsageError(t("sp_no_rubric", CONSOLE_LANG, path=source, known=known))
    if not (bundle / "rubric.toml").is_file():
        raise UsageError(t("sp_no_bundle", CONSOLE_LANG, path=bundle, assignment=assignment))
    try:
        rb = rubric_mod.load(source)
    except RubricError as exc:
        raise UsageError(t("sp_rubric_broken", CONSOLE_LANG, message=exc)) from exc

    present = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    present = {n for n in present if not _NOT_SHIPPED.search(n)}
    wanted = bundle_files(rb, source)
    extra = sorted(present - set(wanted))
    if extra:
        raise UsageError(t("sp_unknown_files", CONSOLE_LANG, path=bundle, files=", ".join(extra[:10]),
                           assignment=assignment))
    missing = sorted(n for n in wanted if n not in present)
    changed = sorted(n for n, content in wanted.items()
                     if n in present and content is not None and (bundle / n).read_bytes() != content)
    if rb.notebook in present and _cells(authoring.student_notebook(rb)) != _cells_of(bundle / rb.notebook):
        changed.append(rb.notebook)
    if missing or changed:
        raise UsageError(t("sp_stale", CONSOLE_LANG, path=bundle, files=", ".join([*missing, *changed][:10]),
                           assignment=assignment))
    public_code = [rb.figures_path] if rb.figures_path is not None else []
    secrets = secret_lines(root, assignment, also_given=public_code)
    # what generate computes (the notebook, expected values) must hold no secret line; the rubric's
    # own words it copies unchanged (mistakes.toml's hints) are the author's choice: named, not refused
    copied = {n for n, content in wanted.items() if content is not None}
    found = leaks({n: (bundle / n).read_bytes() for n in sorted(present - copied)}, secrets)
    if found:
        raise UsageError(t("sp_leak", CONSOLE_LANG, path=bundle, leaks="; ".join(found[:5]),
                           assignment=assignment))
    return rb.version, [t("sp_public_leak", CONSOLE_LANG, source=source, leak=leak)
                        for leak in leaks({n: (bundle / n).read_bytes() for n in sorted(copied)}, secrets)]


def bundle_files(rb: Any, source: Path) -> dict[str, bytes | None]:
    """Every file ``grader generate`` writes for *rb* (see grader.authoring.write_bundle), with the
    bytes it copies from the rubric, or None for what it computes (notebook, expected values, variants.json)."""
    from grader.variants import DERIVED

    files: dict[str, bytes | None] = {"rubric.toml": (source / "rubric.toml").read_bytes(), "expected.json": None}
    if rb.notebook:
        files[rb.notebook] = None
    if (source / "mistakes.toml").is_file():
        files["mistakes.toml"] = (source / "mistakes.toml").read_bytes()
    for test in sorted((source / "tests" / "public").glob("test_*.py")):
        files[f"tests/public/{test.name}"] = test.read_bytes()
    for name, data in rb.files.items():
        files[name] = data
    if rb.figures_path is not None:
        files[rb.figures_path.relative_to(source).as_posix()] = rb.figures_path.read_bytes()
    if rb.variants:
        files[DERIVED] = None
    return files


def _cells(nb: Any) -> list[tuple[str, str]]:
    return [(c["cell_type"], c["source"] if isinstance(c["source"], str) else "".join(c["source"])) for c in nb.cells]


def _cells_of(path: Path) -> list[tuple[str, str]]:
    import nbformat

    try:
        return _cells(nbformat.read(path, as_version=4))
    except Exception:  # noqa: BLE001 - an unreadable notebook is a stale one
        return []


# -- secret lines: the distinctive-lines check of tests/unit/test_wheel.py, as grader code ----------


def distinctive_lines(text: str) -> set[str]:
    """Code long and specific enough (a number or a string in it) that finding it elsewhere is no
    accident; comments and imports aside."""
    found = set()
    for line in text.splitlines():
        code = re.sub(r"\s+#[^'\"]*$", "", line).strip()
        if len(code) >= 30 and not code.startswith(("#", "from ", "import ")) and re.search(r"[0-9'\"]", code):
            found.add(code)
    return found


def notebook_code(path: Path) -> list[str]:
    import json

    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells
            if c["cell_type"] == "code"]


def secret_lines(root: Path, assignment: str, *, also_given: Iterable[Path] = ()) -> dict[str, set[str]]:
    """What must never reach a student, by source file: the lines of the solution notebooks
    (``solutions/<a>/*.ipynb``), the hidden tests and the variants' sources, less the lines
    students are given anyway (the handout's code outside the solution regions, the public tests,
    and the files *also_given*, e.g. the rubric's figure module that ships with them)."""
    from grader.notebook import strip_solutions

    solutions = sorted((root / "solutions" / assignment).glob("*.ipynb"))
    source = root / "rubrics" / assignment
    given: set[str] = set()
    for notebook in solutions:
        given |= distinctive_lines("\n".join(strip_solutions(code) for code in notebook_code(notebook)))
    for public in [*(source / "tests" / "public").rglob("*.py"), *also_given]:
        given |= distinctive_lines(public.read_text(encoding="utf-8"))
    found = {}
    for notebook in solutions:
        found[notebook.relative_to(root).as_posix()] = distinctive_lines("\n".join(notebook_code(notebook))) - given
    for secret in sorted([*(source / "tests" / "hidden").rglob("*.py"), *(source / "variants").rglob("*.py")]):
        lines = distinctive_lines(secret.read_text(encoding="utf-8"))
        # a variant's READS declaration names globals, the same words the docs use: no answer in it
        found[secret.relative_to(root).as_posix()] = {x for x in lines - given if not x.startswith("READS = ")}
    return {name: lines for name, lines in found.items() if lines}


def leaks(files: Mapping[str, bytes], secrets: Mapping[str, set[str]]) -> list[str]:
    """``"<file> has a line of <secret source>: <line>"`` for every secret line found in a file."""
    found = []
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace")
        found += [f"{name} has a line of {source}: {line!r}"
                  for source, lines in secrets.items() for line in sorted(lines) if line in text]
    return found


# -- what the student reads ------------------------------------------------------------------------


def student_readme(wheel: str, assignments: list[str]) -> str:
    """README-student.md: how to install the wheel and check a notebook, in Korean, then English."""
    names = ", ".join(assignments)
    parts = [t("sp_readme", lang, wheel=wheel, assignments=names) for lang in ("ko", "en")]
    return "\n\n---\n\n".join(parts) + "\n"
