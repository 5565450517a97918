"""The check cell: ``import grader; grader.check()`` in a Jupyter or Colab notebook.

A student adds that cell and sees the public tests' verdicts for the code run so far, as a
compact table in the notebook (Korean by default): part by part the points and the one-line
verdict, the failing calls (call, expected, got) and the named mistakes with their hints, as the
report words them (:func:`grader.report.view.build`), the score, and a plain line saying that the
official grade is the TA's run.

How, in four steps, none of which runs grader code next to the student's:

1. :func:`executed_inputs`: what the kernel executed, in order, re-runs included (IPython's
   input history, so it works in Colab, where no notebook file is saved);
2. :func:`history_notebook`: those inputs as the cells of a notebook, without the check cell
   itself (any statement importing ``grader`` or calling its ``check``) and with shell escapes
   and package installs (``!...``, ``%pip``, ``%conda``) turned into ``pass``;
3. :func:`run_grader`: ``python -m grader check`` on that notebook in a separate process (its own
   sandboxed kernel runs the cells; the tests judge outside it, as always), in a temporary folder
   removed afterwards, with a time limit;
4. :func:`render_html` / :func:`render_text`: the table, shown with ``IPython.display``.

The cell leaves no state behind: no name in the student's namespace (it returns None, so no
``Out``/``_`` either), no change of folder or environment variable, no figure. In the TA's grader
the same cell does nothing: the grading kernel's ``grader`` is a stub whose ``check`` returns None
(``kernel_side.probe.quiet_grader``), and that holds for step 3's own grading too.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from grader.errors import GraderError, UsageError
from grader.report.i18n import MESSAGES, t

__all__ = [
    "TIMEOUT", "CellProblem", "Checked", "check_in_notebook", "choose_assignment", "clean_source",
    "executed_inputs", "history_notebook", "render_html", "render_text", "run_grader",
]

TIMEOUT = 900.0  # seconds for the whole grader process: kernel start, every cell, the public tests
DEFAULT_LANG = "ko"


class CellProblem(Exception):
    """Something the student reads as one plain sentence in the cell (already in their language)."""


@dataclass(frozen=True)
class Checked:
    """A grading of the history: the result and, for each cell of the notebook, its ``In[n]``."""

    result: Any  # grader.result.Result (imported lazily)
    numbers: tuple[int, ...]
    assignment: str


# -- 1. what the kernel executed ---------------------------------------------------------------
def executed_inputs(shell: Any) -> list[tuple[int, str]]:
    """``(n, source)`` of every input the kernel executed this session, in order (``In[n]``)."""
    hist: Sequence[Any] | None = None
    with contextlib.suppress(AttributeError):
        hist = shell.history_manager.input_hist_raw
    if not hist:
        hist = getattr(shell, "user_ns", {}).get("In") or []
    return [(n, str(src)) for n, src in enumerate(hist) if n > 0 and str(src).strip()]


# -- 2. the inputs as a notebook ---------------------------------------------------------------
# a line that reaches the system or installs packages: not run again
_SHELL_LINE = re.compile(r"^(\s*)(!|%{1,2}(pip|conda|mamba|system|sx|sh|bash)\b|(pip|conda|mamba)\s+install\b"
                         r"|[\w.,\s]+=\s*(!|%(system|sx)\b))")
_SHELL_CELL = re.compile(r"^\s*%%(bash|sh|script|system|capture\s+--no-stdout\s*$)")
_GRADER_LINE = re.compile(r"^(\s*)(import\s+grader\b|from\s+grader\b|.*\bgrader\s*\.\s*check\s*\()")


def _blank(line: str, indent: str) -> str:
    """A line kept as a no-op statement (at its indentation, so a block it ends stays valid)."""
    return f"{indent}pass  # {line.strip()}"


def _grader_aliases(tree: ast.AST) -> tuple[set[str], set[str]]:
    """The names the code binds to the grader module and to its ``check`` function."""
    modules, checks = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name == "grader"}
        elif isinstance(node, ast.ImportFrom) and node.module == "grader":
            checks |= {a.asname or a.name for a in node.names if a.name == "check"}
    return modules, checks


def _is_grader_statement(node: ast.stmt, modules: set[str], checks: set[str]) -> bool:
    if isinstance(node, ast.Import):
        return any(a.name == "grader" or a.name.startswith("grader.") for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.module is not None and (node.module == "grader" or node.module.startswith("grader."))
    value = getattr(node, "value", None) if isinstance(node, ast.Expr | ast.Assign | ast.AnnAssign) else None
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    if isinstance(func, ast.Name):
        return func.id in checks
    return (isinstance(func, ast.Attribute) and func.attr == "check" and isinstance(func.value, ast.Name)
            and func.value.id in modules)


def _grader_statements(code: str) -> list[tuple[int, int, int]] | None:
    """(first line, last line, column) of each statement importing grader or calling its check;
    None when the code does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    modules, checks = _grader_aliases(tree)
    return [(node.lineno, node.end_lineno or node.lineno, node.col_offset) for node in ast.walk(tree)
            if isinstance(node, ast.stmt) and _is_grader_statement(node, modules, checks)]


def clean_source(source: str) -> str:
    """One executed input as it is run again: shell escapes and installs become ``pass``, and
    so does every statement importing grader or calling ``grader.check``; '' when nothing else
    is left (the check cell itself)."""
    if _SHELL_CELL.match(source):
        return ""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        m = _SHELL_LINE.match(line)
        if m:
            lines[i] = _blank(line, m.group(1))
    found = _grader_statements("\n".join(lines))
    if found is None:  # IPython syntax (a magic, `x?`): line by line
        for i, line in enumerate(lines):
            m = _GRADER_LINE.match(line)
            if m:
                lines[i] = _blank(line, m.group(1))
    else:
        for first, last, col in sorted(found, reverse=True):
            lines[first - 1:last] = [_blank(" ".join(x.strip() for x in lines[first - 1:last]), " " * col)]
    code = "\n".join(lines)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return code
    only_pass = all(isinstance(node, ast.Pass) for node in tree.body)
    return "" if only_pass else code


def history_notebook(inputs: Iterable[tuple[int, str]]) -> tuple[Any, tuple[int, ...]]:
    """The executed inputs as the code cells of a notebook, in order; and each cell's ``In[n]``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    numbers = []
    for n, source in inputs:
        code = clean_source(source)
        if code.strip():
            nb.cells.append(nbformat.v4.new_code_cell(code))
            numbers.append(n)
    return nb, tuple(numbers)


# -- which assignment --------------------------------------------------------------------------
def _defined(sources: Iterable[str]) -> tuple[set[str], set[str]]:
    """The top-level function and class names, and the other top-level names, the code defines."""
    functions: set[str] = set()
    others: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                functions.add(node.name)
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                others |= {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}
    return functions, others - functions


def _student_notebook(folder: Path) -> Path:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        raw = tomllib.loads((folder / "rubric.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raw = {}
    name = raw.get("notebook") or f"{folder.name}.ipynb"
    return folder / str(name)


def _notebook_sources(path: Path) -> list[str]:
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return []
    return ["".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
            for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]


def assignments_found() -> dict[str, Path]:
    """The student bundles the grader finds (``assignments/<a>/``, see ``rubric.find_root``)."""
    from grader import rubric as rubric_mod

    root = rubric_mod.find_root()
    return {p.parent.name: p.parent for p in sorted((root / "assignments").glob("*/rubric.toml"))}


def choose_assignment(sources: Sequence[str], found: dict[str, Path], assignment: str | None,
                      lang: str) -> tuple[str, Path]:
    """The assignment to check: the one asked for, the only one found, or the one whose student
    notebook's names (functions first) the history defines most; else a CellProblem saying to
    pass ``assignment=``."""
    known = ", ".join(sorted(found))
    if assignment is not None:
        if assignment not in found:
            raise CellProblem(t("cell_unknown_assignment", lang, assignment=assignment, known=known or "-"))
        return assignment, found[assignment]
    if not found:
        raise CellProblem(t("cell_no_assignment", lang))
    if len(found) == 1:
        name = next(iter(found))
        return name, found[name]
    functions, others = _defined(sources)
    scores = {}
    for name, folder in found.items():
        theirs_f, theirs_o = _defined(_notebook_sources(_student_notebook(folder)))
        scores[name] = (len(theirs_f & functions), len(theirs_o & others))
    best = max(scores.values())
    winners = [name for name, score in scores.items() if score == best]
    if best == (0, 0) or len(winners) > 1:
        raise CellProblem(t("cell_which_assignment", lang, known=known, example=sorted(found)[0]))
    return winners[0], found[winners[0]]


# -- 3. the grader, in its own process ---------------------------------------------------------
def _stop(proc: subprocess.Popen[str]) -> None:
    """End the grader process and what it started (its own process group), politely first."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.communicate(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _stated_error(stderr: str) -> str:
    """The grader's own one-line error (``error: ...``), never a traceback."""
    from grader.report.i18n import CONSOLE_LANG

    prefix = t("cli_error", CONSOLE_LANG, message="")
    lines = [x.strip() for x in stderr.splitlines() if x.strip()]
    stated = [x for x in lines if x.startswith(prefix) or x.startswith("problem:")]
    return stated[-1][:400] if stated else ""


def run_grader(nb: Any, rubric: Path, *, lang: str, timeout: float = TIMEOUT,
               python: str | None = None) -> Any:
    """Grade ``nb`` against the student bundle ``rubric`` with ``python -m grader check`` in a
    temporary folder (removed afterwards); the :class:`~grader.result.Result`, or a CellProblem."""
    from grader.cleanup import temp_prefix
    from grader.result import Result

    with tempfile.TemporaryDirectory(prefix=temp_prefix("cell")) as tmp:
        notebook, out = Path(tmp) / "executed_so_far.ipynb", Path(tmp) / "result.json"
        nbformat.write(nb, notebook)
        command = [python or sys.executable, "-m", "grader", "check", str(notebook), "--json", str(out),
                   "--lang", lang, "--rubric", str(rubric)]
        env = {**os.environ, "MPLBACKEND": "Agg"}  # the child's copy: not Jupyter's inline backend
        proc = subprocess.Popen(  # noqa: S603 - this Python, fixed arguments
            command, cwd=tmp, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        try:
            _stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise CellProblem(t("cell_timeout", lang, seconds=f"{timeout:g}")) from None
        except KeyboardInterrupt:
            _stop(proc)
            raise CellProblem(t("cell_interrupted", lang)) from None
        if proc.returncode not in (0, 1) or not out.is_file():
            stated = _stated_error(stderr)
            raise CellProblem(t("cell_grader_failed", lang, code=proc.returncode,
                                detail=stated or t("cell_no_detail", lang)))
        try:
            return Result.from_dict(json.loads(out.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CellProblem(t("cell_grader_failed", lang, code=proc.returncode, detail=str(exc)[:200])) from None


# -- 4. what the student sees ------------------------------------------------------------------
def _template_values(checked: Checked, lang: str) -> dict[str, Any]:
    from grader.report.exports import clean_text
    from grader.report.view import build, one

    v = build(checked.result, lang=lang, audience="student")
    numbers = checked.numbers

    def number(index: int) -> str:
        return str(numbers[index]) if 0 <= index < len(numbers) else "?"

    failed = []
    for cell, item in zip(checked.result.cells, v.run, strict=True):
        key = f"cell_input_{cell.status}"
        error = clean_text(cell.error, limit=300, lang=lang) or cell.status
        line = t(key if key in MESSAGES else "cell_input_other", lang, n=number(cell.index), error=error)
        failed.append(f"{line} {item.handout}".strip())
    return {
        "v": v, "lang": lang, "one": one, "t": lambda key, **values: t(key, lang, **values),
        "heading": t("cell_heading", lang, assignment=checked.assignment),
        "basis": t("cell_basis", lang, count=len(numbers)),
        "score": t("score_line", lang, score=v.score, max_score=v.max_score),
        "official": t("cell_official", lang), "failed": failed,
    }


def render_html(checked: Checked, lang: str = DEFAULT_LANG) -> str:
    """The compact table for the notebook (HTML, every value escaped, no script)."""
    from grader.report.templating import ENV

    return ENV.get_template("check_cell.html.j2").render(**_template_values(checked, lang))


def render_text(checked: Checked, lang: str = DEFAULT_LANG) -> str:
    """The same as plain text, for front-ends that show no HTML."""
    values = _template_values(checked, lang)
    v = values["v"]
    one = values["one"]
    out = [values["heading"], values["basis"], f"{values['score']}  {v.pass_line}", ""]
    for p in v.parts:
        out.append(f"{t('part_number', lang, n=p.number, title=p.title)}  {one(p.score)} / {one(p.max_score)}")
        out.append(f"  {p.verdict}")
        for g in p.groups:
            out.append(f"  {g.function or t('the_test_itself', lang)}")
            for c in g.cases:
                call = (f"→ {c.part}: " if c.part else "") + c.call
                if c.error:
                    out.append(f"    ✗ {call}: {t('case_error', lang)} {c.error}")
                else:
                    out.append(f"    ✗ {call}  {t('case_expected', lang)} {c.expected} · {t('case_got', lang)} {c.got}")
            if g.more:
                out.append(f"    {t('case_more', lang, count=g.more)}")
            for d in g.diagnoses:
                title = d.text("title", lang)
                out.append(f"    → {t(d.label_key(), lang)}: {d.name}" + (f" · {title}" if title else ""))
                if d.text("hint", lang):
                    out.append(f"      {d.text('hint', lang)}")
    out += [f"! {line}" for line in values["failed"]]
    out += ["", values["official"]]
    return "\n".join(out)


def _problem_html(message: str) -> str:
    from markupsafe import escape

    return f'<div class="grader-check-problem" style="padding:.4em 0">{escape(message)}</div>'


def _shell() -> Any:
    """The running IPython shell, or None (plain Python, or no IPython installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _show(html: str, text: str) -> None:
    """Both forms into the cell's output (a front-end without HTML shows the text)."""
    from IPython import display as ipd

    show: Any = ipd.display
    show({"text/html": html, "text/plain": text}, raw=True)


def check_in_notebook(*, assignment: str | None = None, lang: str | None = None,
                      timeout: float = TIMEOUT) -> None:
    """``grader.check()`` with no notebook: check what this IPython kernel executed so far and
    show the table in the cell. Returns None (nothing lands in ``Out`` or ``_``)."""
    language = lang or DEFAULT_LANG
    shell = _shell()
    if shell is None:
        raise UsageError(t("cell_outside_ipython", language))
    try:
        inputs = executed_inputs(shell)
        nb, numbers = history_notebook(inputs)
        if not nb.cells:
            raise CellProblem(t("cell_nothing_run", language))
        try:
            found = assignments_found()
        except GraderError:
            found = {}
        name, folder = choose_assignment([c.source for c in nb.cells], found, assignment, language)
        checked = Checked(run_grader(nb, folder, lang=language, timeout=timeout), numbers, name)
        _show(render_html(checked, language), render_text(checked, language))
    except CellProblem as problem:
        _show(_problem_html(str(problem)), str(problem))
    except Exception as exc:  # noqa: BLE001 - the student reads a sentence, never the grader's traceback
        message = t("cell_unexpected", language, error=f"{type(exc).__name__}: {exc}"[:300])
        _show(_problem_html(message), message)
