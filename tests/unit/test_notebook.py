"""Loading, sanitising and stripping notebooks, before anything executes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader import notebook as nbio
from grader.errors import NotebookError


def v4(cells: list[dict[str, Any]], **metadata: Any) -> dict[str, Any]:
    # minor 4: cell ids are optional, as in most real submissions
    return {"nbformat": 4, "nbformat_minor": 4, "metadata": metadata, "cells": cells}


def code(source: Any, **extra: Any) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None, **extra}


def write(tmp_path: Path, content: bytes | str | dict[str, Any], name: str = "sub.ipynb") -> Path:
    p = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content)
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return p


def load_error(path: Path) -> str:
    with pytest.raises(NotebookError) as info:
        nbio.load(path)
    msg = str(info.value)
    assert str(path) in msg  # every message says which file
    return msg


# --- load: files that are not notebooks ---------------------------------------------------

def test_missing_file(tmp_path: Path) -> None:
    assert "cannot be read" in load_error(tmp_path / "absent.ipynb")


def test_zero_bytes(tmp_path: Path) -> None:
    msg = load_error(write(tmp_path, b""))
    assert "empty (0 bytes)" in msg and "save the notebook again" in msg


def test_truncated_json_gives_line_column_and_what_to_do(tmp_path: Path) -> None:
    text = json.dumps(v4([code("x = 1")]), indent=1)
    msg = load_error(write(tmp_path, text[: len(text) // 2]))
    assert "not valid JSON" in msg
    assert "line " in msg and "column " in msg
    assert "open it in Jupyter and save it again" in msg


def test_json_error_position_is_right(tmp_path: Path) -> None:
    msg = load_error(write(tmp_path, '{\n  "cells": [,]\n}'))
    assert "line 2, column 13" in msg


def test_binary_garbage(tmp_path: Path) -> None:
    msg = load_error(write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe" + bytes(range(256))))
    assert "not UTF-8" in msg and ".ipynb" in msg


def test_json_list_is_not_a_notebook(tmp_path: Path) -> None:
    msg = load_error(write(tmp_path, "[1, 2, 3]"))
    assert "not a Jupyter notebook" in msg and "list" in msg


@pytest.mark.parametrize("content", ['{"metadata": {}}', '{"hello": "world"}'])
def test_object_without_cells(tmp_path: Path, content: str) -> None:
    msg = load_error(write(tmp_path, content))
    assert "no 'cells'" in msg and "export it from Jupyter" in msg


def test_unsupported_nbformat(tmp_path: Path) -> None:
    msg = load_error(write(tmp_path, {"nbformat": 5, "nbformat_minor": 0, "cells": [], "metadata": {}}))
    assert "unsupported nbformat 5" in msg


@pytest.mark.parametrize("content", [
    {"nbformat": 4, "nbformat_minor": 5, "metadata": {}},
    {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": {}},
    {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": None},
    {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1, 2]},
])
def test_damaged_structure_is_a_notebook_error(tmp_path: Path, content: dict[str, Any]) -> None:
    load_error(write(tmp_path, content))


def test_deeply_nested_json(tmp_path: Path) -> None:
    assert "nested too deeply" in load_error(write(tmp_path, "[" * 200_000))


def test_korean_file_name_and_bom(tmp_path: Path) -> None:
    p = write(tmp_path, b"\xef\xbb\xbf" + json.dumps(v4([code("x = 1")])).encode(),
              name="3주차 과제_홍길동 (최종).ipynb")
    nb = nbio.load(p)
    assert nb.cells[0].source == "x = 1"


# --- upgrade and sanitise -----------------------------------------------------------------

def test_nbformat_3_with_worksheets_is_upgraded(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "week3"},
        "worksheets": [{"cells": [
            {"cell_type": "heading", "level": 2, "source": ["Perceptron"], "metadata": {}},
            {"cell_type": "code", "language": "python", "input": ["def AND(x1, x2):\n", "    return x1 & x2"],
             "outputs": [{"output_type": "stream", "stream": "stdout", "text": ["1\n"]}],
             "prompt_number": 4, "metadata": {}},
            {"cell_type": "markdown", "source": "some *text*", "metadata": {}},
        ], "metadata": {}}],
    }
    nb = nbio.load(write(tmp_path, v3))
    assert nb.nbformat == 4
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        ("markdown", "## Perceptron"),
        ("code", "def AND(x1, x2):\n    return x1 & x2"),
        ("markdown", "some *text*"),
    ]
    assert nb.cells[1].outputs == [] and nb.cells[1].execution_count is None


def test_sanitise_drops_outputs_and_kernelspec() -> None:
    raw = v4(
        [code(["import numpy as np\n", "print(np.int(3))"], execution_count=7,
              outputs=[{"output_type": "stream", "name": "stdout", "text": "3\n" * 1000}]),
         {"cell_type": "markdown", "source": ["# 제목\n", "설명"], "metadata": {}, "attachments": {}}],
        kernelspec={"name": "python2", "display_name": "Python 2.7", "language": "python"},
        language_info={"name": "python", "version": "2.7.18"},
        colab={"provenance": []},
    )
    nb = nbio.loads(json.dumps(raw).encode(), name="x.ipynb")
    assert nb.metadata == {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    assert nb.cells[0].source == "import numpy as np\nprint(np.int(3))"
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert nb.cells[1].source == "# 제목\n설명"
    assert "attachments" not in nb.cells[1]
    nbformat.validate(nb)


def test_sanitise_keeps_cell_order_and_gives_stable_ids() -> None:
    raw = v4([code("a = 1", id="zzz"), {"cell_type": "raw", "source": "raw text", "metadata": {}}, code("", id="zzz")])
    nb = nbio.loads(json.dumps(raw).encode())
    assert [c.cell_type for c in nb.cells] == ["code", "raw", "code"]
    assert [c["id"] for c in nb.cells] == ["cell-0", "cell-1", "cell-2"]
    assert nb.cells[2].source == ""  # empty cells are kept (cell numbers stay as the student sees them)


def test_non_string_source_becomes_empty() -> None:
    nb = nbio.loads(json.dumps(v4([code(5), code("b = 2")])).encode())
    assert [c.source for c in nb.cells] == ["", "b = 2"]


def test_source_list_with_a_number_is_a_damaged_notebook() -> None:
    with pytest.raises(NotebookError, match="damaged"):
        nbio.loads(json.dumps(v4([code(["a = 1\n", 7]), code("b = 2")])).encode(), name="x.ipynb")


def test_sanitise_is_idempotent() -> None:
    nb = nbio.loads(json.dumps(v4([code(["x = 1\n", "y = 2"])])).encode())
    again = nbio.sanitise(nb)
    assert again == nb


# --- solutions ----------------------------------------------------------------------------

REFERENCE = """\
import numpy as np

def sigmoid(x):
    ### BEGIN SOLUTION
    return 1 / (1 + np.exp(-x))
    ### END SOLUTION

class Perceptron:
    def net_input(self, X):
        ### BEGIN SOLUTION
        z = X @ self.weight[1:]
        return z + self.weight[0]
        ### END SOLUTION

### BEGIN SOLUTION
W = np.zeros(2)
### END SOLUTION
print("done")"""


def test_strip_solutions_keeps_indentation() -> None:
    out = nbio.strip_solutions(REFERENCE)
    assert out == f"""\
import numpy as np

def sigmoid(x):
    {nbio.BLANK}
    raise NotImplementedError()

class Perceptron:
    def net_input(self, X):
        {nbio.BLANK}
        raise NotImplementedError()

{nbio.BLANK}
raise NotImplementedError()
print("done")"""
    compile(out, "<student>", "exec")  # still valid Python
    assert "np.exp" not in out and "weight[0]" not in out


def test_remove_markers_keeps_solutions() -> None:
    out = nbio.remove_markers(REFERENCE)
    assert "SOLUTION" not in out
    assert "    return 1 / (1 + np.exp(-x))" in out
    assert out.count("\n") == REFERENCE.count("\n") - 6
    ns: dict[str, Any] = {}
    exec(out, ns)  # noqa: S102 - our own reference text
    assert ns["sigmoid"](0) == 0.5


def test_has_markers() -> None:
    assert nbio.has_markers(REFERENCE)
    assert nbio.has_markers("x = 1\n  ### END SOLUTION  \n")
    assert not nbio.has_markers("# ### BEGIN SOLUTION is mentioned in a comment")
    assert not nbio.has_markers("x = 1")


@pytest.mark.parametrize("source, match", [
    ("### BEGIN SOLUTION\n  ### BEGIN SOLUTION\nx\n### END SOLUTION", "nested"),
    ("x = 1\n### END SOLUTION", "without a BEGIN"),
    ("def f():\n    ### BEGIN SOLUTION\n    return 1", "without an END"),
])
def test_unbalanced_markers_raise(source: str, match: str) -> None:
    with pytest.raises(NotebookError, match=match):
        nbio.strip_solutions(source)


def test_source_without_markers_is_unchanged() -> None:
    src = "def AND(x1, x2):\n    return int(x1 and x2)"
    assert nbio.strip_solutions(src) == src
    assert nbio.remove_markers(src) == src
