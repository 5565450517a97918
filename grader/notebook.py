"""Load, sanitise and normalise notebooks; strip solutions to make the student version.

Sanitising runs before anything executes: the file is parsed as plain JSON with a size cap,
upgraded to nbformat 4, saved outputs are dropped (they are re-created by running), and
the notebook's kernelspec is ignored (real submissions name Python 2.7 or Colab).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import nbformat

from grader.errors import NotebookError

MAX_NOTEBOOK_BYTES = 100 * 2**20  # parsing costs about 4x the file in memory
MAX_CELLS = 20_000
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
BLANK = "# YOUR CODE HERE (여기에 코드를 작성하세요)"


def load(path: Path, *, name: str | None = None) -> nbformat.NotebookNode:
    """Read a submission; raise NotebookError with a plain reason and what to do.

    ``name`` is how messages refer to the file (the submission's path as graded), so results
    do not depend on, or reveal, where the grader found it."""
    name = name or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotebookError(f"{name}: cannot be read ({exc.strerror})") from None
    if size == 0:
        raise NotebookError(f"{name}: the file is empty (0 bytes); save the notebook again and resubmit")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"{name}: the file is {size / 2**20:.0f} MiB, over the {MAX_NOTEBOOK_BYTES // 2**20} MiB limit; "
            "clear outputs and resubmit"
        )
    try:
        text = path.read_text(encoding="utf-8-sig")  # one full-size copy, not bytes + text
    except UnicodeDecodeError:
        raise NotebookError(f"{name}: not a text file (not UTF-8); is this really an .ipynb notebook?") from None
    return loads(text, name=name)


def _drop_outputs(raw: dict[str, Any]) -> None:
    """Saved outputs are re-created by running: drop them before anything else copies them."""
    cells = list(raw.get("cells") or [])
    for ws in raw.get("worksheets") or []:  # nbformat 3
        if isinstance(ws, dict):
            cells += list(ws.get("cells") or [])
    for cell in cells:
        if isinstance(cell, dict):
            if "outputs" in cell:
                cell["outputs"] = []
            cell.pop("attachments", None)
            if "execution_count" in cell:
                cell["execution_count"] = None
            if "prompt_number" in cell:
                cell["prompt_number"] = None


def loads(data: bytes | str, *, name: str = "notebook") -> nbformat.NotebookNode:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise NotebookError(f"{name}: not a text file (not UTF-8); is this really an .ipynb notebook?") from None
    try:
        raw = json.loads(data)
    except RecursionError:
        raise NotebookError(f"{name}: the JSON is nested too deeply to be a notebook") from None
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the file may be truncated: open it in Jupyter and save it again"
        ) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise NotebookError(
            f"{name}: not a valid notebook ({str(exc)[:120]}); open it in Jupyter and save it again"
        ) from None
    if not isinstance(raw, dict):
        raise NotebookError(f"{name}: not a Jupyter notebook (the JSON is a {type(raw).__name__}, not an object)")
    major = raw.get("nbformat")
    if major not in (3, 4):
        if "cells" not in raw and "worksheets" not in raw:
            raise NotebookError(f"{name}: not a Jupyter notebook (no 'cells'); export it from Jupyter as .ipynb")
        raise NotebookError(f"{name}: unsupported nbformat {major!r}; open and save it in a current Jupyter")
    del data  # the text can go as soon as it is parsed
    if isinstance(raw, dict):
        _drop_outputs(raw)
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:  # nbformat raises several types for malformed content
        raise NotebookError(
            f"{name}: the notebook structure is damaged ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookError(f"{name}: not a Jupyter notebook (no list of cells)")
    if len(cells) > MAX_CELLS:
        raise NotebookError(f"{name}: {len(cells)} cells, over the limit of {MAX_CELLS}")
    return sanitise(nb, name=name)


def sanitise(nb: nbformat.NotebookNode, *, name: str = "notebook") -> nbformat.NotebookNode:
    """A clean nbformat-4 copy: code cells with string sources, no outputs, neutral kernelspec."""
    clean: nbformat.NotebookNode = nbformat.v4.new_notebook()
    clean.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    for cell in nb.cells:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            source = ""
        kind = cell.get("cell_type")
        if kind == "code":
            clean.cells.append(nbformat.v4.new_code_cell(source))
        elif kind == "markdown":
            clean.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            clean.cells.append(nbformat.v4.new_raw_cell(source))
    for i, cell in enumerate(clean.cells):
        cell["id"] = f"cell-{i}"
    return clean


def strip_solutions(source: str) -> str:
    """Replace every BEGIN/END SOLUTION region with a marked blank at the same indentation."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise NotebookError("nested '### BEGIN SOLUTION' markers")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}{BLANK}")
            out.append(f"{indent}raise NotImplementedError()")
            continue
        if stripped == END:
            if not inside:
                raise NotebookError("'### END SOLUTION' without a BEGIN")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise NotebookError("'### BEGIN SOLUTION' without an END")
    return "\n".join(out)


def remove_markers(source: str) -> str:
    """The reference as a student would hand it in: markers gone, solutions kept."""
    return "\n".join(
        line for line in source.splitlines() if line.strip() not in (BEGIN, END)
    )


_SOLUTION_RE = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)


def has_markers(source: str) -> bool:
    return bool(_SOLUTION_RE.search(source))
