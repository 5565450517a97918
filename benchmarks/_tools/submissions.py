"""Make the benchmark's submissions and the plain-Python scripts that measure the floor."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import tomllib

SKIP = ("iris_url",)  # these try the network when other tools run them unsandboxed


def fixture_notebooks(fixtures: Path) -> list[Path]:
    """The fixtures in MANIFEST order (a mix from the start: correct, failing cells, buggy), then the rest."""
    found = {p.stem: p for p in sorted(fixtures.glob("*.ipynb")) if not any(s in p.stem for s in SKIP)}
    order: list[str] = []
    manifest = fixtures / "MANIFEST.toml"
    if manifest.is_file():
        order = [k for k in tomllib.loads(manifest.read_text(encoding="utf-8")) if k in found]
    order += [k for k in sorted(found) if k not in order]
    return [found[k] for k in order]


def _tag(raw: dict, tag: str) -> None:
    """Prepend a comment naming the submission to the first code cell (keeps every copy unique)."""
    for cell in raw.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        line = f"# submission {tag}\n"
        cell["source"] = [line, *src] if isinstance(src, list) else line + src
        return


def make_submissions(fixtures: Path, dest: Path, n: int) -> list[dict]:
    """``n`` submissions cycling through the fixtures: ``dest/<student>/week3.ipynb``.

    Each copy gets a one-line comment with its student id in its first code cell, so that no
    two submissions are byte- or code-identical and no tool can reuse a result by hash.
    """
    notebooks = fixture_notebooks(fixtures)
    if not notebooks:
        raise SystemExit(f"no fixture notebooks in {fixtures}")
    made = []
    for i in range(n):
        src = notebooks[i % len(notebooks)]
        student = f"s{i + 1:03d}_{src.stem}"
        raw = json.loads(src.read_text(encoding="utf-8"))
        _tag(raw, student)
        folder = dest / student
        folder.mkdir(parents=True)
        path = folder / "week3.ipynb"
        path.write_text(json.dumps(raw, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        made.append({"student": student, "fixture": src.stem, "path": path})
    return made


# -- the floor: plain python running the notebook's code once ------------------------------
_MAGIC = re.compile(r"^\s*[%!]")


def code_cells(nb_path: Path) -> list[str]:
    raw = json.loads(nb_path.read_text(encoding="utf-8"))
    cells = raw.get("cells")
    if cells is None:  # nbformat 3: worksheets
        cells = [c for ws in raw.get("worksheets", []) for c in ws.get("cells", [])]
    out = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", cell.get("input", ""))
        src = "".join(src) if isinstance(src, list) else str(src)
        if src.lstrip().startswith("%%"):
            continue  # a cell magic: the whole cell is not Python
        src = "\n".join(line for line in src.splitlines() if not _MAGIC.match(line))
        if src.strip():
            out.append(src)
    return out


def floor_script(nb_path: Path) -> str:
    """The notebook's code cells, each compiled and run in one namespace inside try/except.

    Compiling each cell separately means a cell with a syntax error fails alone, as in Jupyter.
    """
    parts = [
        "import sys, traceback",
        "__failed = 0",
        "__ns = {'__name__': '__main__'}",
    ]
    for i, src in enumerate(code_cells(nb_path)):
        parts.append(
            "try:\n"
            f"    exec(compile({src!r}, '<cell {i}>', 'exec'), __ns)\n"
            "except (Exception, SystemExit):\n"
            "    __failed += 1\n"
            "    traceback.print_exc(limit=1)\n"
        )
    parts.append("print(f'[floor] {__failed} failed cell(s)', file=sys.stderr)")
    return "\n".join(parts) + "\n"


def prepare_floor(subs: list[dict], dest: Path, iris: Path) -> list[dict]:
    """One folder per submission holding ``run.py`` and a copy of iris.data."""
    runs = []
    for s in subs:
        folder = dest / s["student"]
        folder.mkdir(parents=True)
        (folder / "run.py").write_text(floor_script(s["path"]), encoding="utf-8")
        shutil.copy(iris, folder / "iris.data")
        runs.append({**s, "dir": folder})
    return runs
