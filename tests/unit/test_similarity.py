"""Similar submissions (grader/similarity.py): copies found, independent work not flagged, the
handout and the answers everybody writes never count, the outputs safe."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.similarity import (
    DEFAULT_HANDOUT,
    Block,
    Pair,
    pair_filename,
    render_pair,
    similar_pairs,
    student_code,
    write_pair_pages,
    write_pairs_csv,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BATCH = FIXTURES / "notebooks" / "similar"
CORPUS = FIXTURES / "notebooks" / "week3"

# a student's own passage: long enough to be a copy when two have it, and nobody else's
OWN = """def backpropagation(Y, A, Z):
    n_rows = len(Y)
    residual = A - Y
    grad = residual * sigmoid_prime(Z) / 1.0
    dw = np.zeros((2, 1))
    for k in range(2):
        dw[k, 0] = np.sum(X[:, k:k + 1] * grad)
    db = float(np.sum(grad))
    return grad, dw, db
"""
OTHER = """def helper_scale(values, low=-1.0, high=1.0):
    arr = np.asarray(values, dtype=float)
    span = arr.max(axis=0) - arr.min(axis=0)
    span[span == 0] = 1
    return low + (arr - arr.min(axis=0)) * (high - low) / span
"""


def notebook(*extra: str, base: Path = DEFAULT_HANDOUT) -> nbformat.NotebookNode:
    """The project's student notebook with the student's cells added at the end."""
    nb = nbformat.read(base, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(src) for src in extra]
    return nb


def batch_truth() -> tuple[dict[str, Path], list[Path], set[frozenset[str]]]:
    manifest = tomllib.loads((BATCH / "MANIFEST.toml").read_text(encoding="utf-8"))
    handout = [(BATCH / h).resolve() for h in manifest["handout"]]
    return ({p.stem: p for p in sorted(BATCH.glob("*.ipynb"))}, handout,
            {frozenset((c["a"], c["b"])) for c in manifest["copy"]})


@pytest.fixture(scope="module")
def batch_pairs() -> tuple[list[Pair], set[frozenset[str]]]:
    subs, handout, truth = batch_truth()
    return similar_pairs(subs, handout), truth


def test_fixture_batch_is_current() -> None:
    run = subprocess.run([sys.executable, str(FIXTURES / "make_similar_batch.py"), "--check"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_every_copy_is_found(batch_pairs: tuple[list[Pair], set[frozenset[str]]]) -> None:
    pairs, truth = batch_pairs
    found = {frozenset((p.student_a, p.student_b)) for p in pairs}
    assert len(truth) == 5
    assert truth <= found, f"missed: {truth - found}"


def test_independent_work_is_not_flagged(batch_pairs: tuple[list[Pair], set[frozenset[str]]]) -> None:
    pairs, truth = batch_pairs
    wrong = [(p.student_a, p.student_b, p.score, p.shared) for p in pairs
             if frozenset((p.student_a, p.student_b)) not in truth]
    assert wrong == []


def test_pairs_sorted_and_whole_copies_score_high(batch_pairs: tuple[list[Pair], set[frozenset[str]]]) -> None:
    pairs, _ = batch_pairs
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)
    by = {frozenset((p.student_a, p.student_b)): p for p in pairs}
    # renamed; comments and whitespace; renamed and reordered: all of it still found
    for a, b in [("student01", "student07"), ("student02", "student08"), ("student03", "student09"),
                 ("student04", "student10")]:
        assert by[frozenset((a, b))].score >= 0.9
    partial = by[frozenset(("student05", "student11"))]
    assert partial.score < 0.9  # only a part of it is shared
    shared_b = "\n".join(partial.passages[1])
    assert "np.sum(X[:, col:col + 1] * dz)" in shared_b  # the backpropagation it took, as it wrote it


def test_a_revision_the_grader_lacks_counts_as_handout_by_its_marks() -> None:
    """The batch was filled in both revisions of the corpus's handout; given only the project's
    student notebook, the corrected revision's own lines (history of the loss, its plot) are
    everything students 04, 10 and 12 have in common besides the copy: its marks say whose."""
    subs, _, truth = batch_truth()
    unmarked = {frozenset((p.student_a, p.student_b)) for p in similar_pairs(subs, DEFAULT_HANDOUT)}
    assert frozenset(("student04", "student12")) in unmarked  # what the marks are for
    marked = similar_pairs(subs, DEFAULT_HANDOUT, handout_marks=("##오류수정##",))
    assert {frozenset((p.student_a, p.student_b)) for p in marked} == truth
    corrected = CORPUS / "untouched_blank_corrected.ipynb"
    # what is left is the one line the revision did not mark, far too short to make a pair alone
    assert student_code(corrected, CORPUS / "untouched_blank.ipynb", handout_marks=("##오류수정##",)) == [
        "history = []"]
    assert student_code(corrected, CORPUS / "untouched_blank.ipynb") != []


def test_handout_code_never_counts() -> None:
    assert student_code(DEFAULT_HANDOUT, DEFAULT_HANDOUT) == []
    # a handout line retyped with other spacing and a comment is still the handout's
    nb = notebook("W -= dw   # update\nb-=db", "x = np.linspace(-1,1,100)")
    assert student_code(nb, DEFAULT_HANDOUT) == []
    assert student_code(notebook("W -= dw\nscale = 3 * W"), DEFAULT_HANDOUT) == ["scale = 3 * W"]


def test_two_blank_handouts_are_not_similar() -> None:
    blanks = [CORPUS / "untouched_blank.ipynb", CORPUS / "untouched_blank_corrected.ipynb"]
    assert similar_pairs({"a": blanks[0], "b": blanks[1]}, blanks) == []
    assert similar_pairs({"a": DEFAULT_HANDOUT, "b": notebook()}, DEFAULT_HANDOUT) == []
    # several handouts: a line of any of them never counts
    assert student_code(blanks[1], blanks) == []


def test_one_line_answers_do_not_make_a_pair() -> None:
    answers = ("def sigmoid(x):\n    return 1 / (1 + np.exp(-x))", "def ReLU(x):\n    return np.maximum(0, x)",
               "def step_function(x):\n    return np.array(x > 0, dtype=int)",
               "def sigmoid_prime(net):\n    return sig * (1 - sig)")
    subs = {"a": notebook(*answers), "b": notebook(*reversed(answers))}
    assert similar_pairs(subs) == []
    # the same answers with the handout's own names changed are still the expected answer
    renamed = [a.replace("(x)", "(v)").replace("-x", "-v").replace(", x)", ", v)") for a in answers]
    assert similar_pairs({"a": notebook(*answers), "b": notebook(*renamed)}) == []


def test_what_half_the_class_writes_is_not_a_copy() -> None:
    subs = {f"s{i}": notebook(OWN) for i in range(4)}
    subs.update({f"t{i}": notebook(f"value_{i} = {i} * np.arange({i + 2})") for i in range(4)})
    assert similar_pairs(subs) == []  # four of eight wrote OWN: common, not copied
    subs = {"s0": notebook(OWN), "s1": notebook(OWN.replace("residual", "err").replace("grad", "g"))}
    subs.update({f"t{i}": notebook(f"value_{i} = {i} * np.arange({i + 2})") for i in range(6)})
    pairs = similar_pairs(subs)
    assert [(p.student_a, p.student_b) for p in pairs] == [("s0", "s1")]
    assert pairs[0].score >= 0.9


def test_renamed_and_reordered_copy_scores_as_the_original() -> None:
    cells = [OWN, OTHER, "def OR(x1, x2):\n    total = [0.7, 0.7] @ np.array([x1, x2])\n    return int(total > 0.4)"]
    shuffled = [cells[2], cells[0], cells[1]]
    renamed = [c.replace("arr", "a_r").replace("span", "width").replace("residual", "e") for c in shuffled]
    commented = ["# my own work\n" + c.replace("    ", "        ").replace(" = ", "=") for c in renamed]
    pairs = similar_pairs({"orig": notebook(*cells), "copy": notebook(*commented), "me": notebook(OTHER[:40])})
    assert [(p.student_a, p.student_b) for p in pairs] == [("copy", "orig")]
    assert pairs[0].score >= 0.9


def test_too_little_in_common_is_not_a_pair() -> None:
    short = "def f(q):\n    gram = q.T @ q + 0.25\n    return gram.trace() / 3.5"
    pairs = similar_pairs({"a": notebook(short), "b": notebook(short)})
    assert pairs == []  # a two-line coincidence is below min_shared
    assert similar_pairs({"a": notebook(short), "b": notebook(short)}, min_shared=1)


def test_unreadable_notebook_is_left_out(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    pairs = similar_pairs({"a": notebook(OWN), "b": notebook(OWN), "bad": bad})
    assert [(p.student_a, p.student_b) for p in pairs] == [("a", "b")]


HOSTILE = "</pre><script>alert(1)</script><img src=x onerror=alert(2)>"


def hostile_pair() -> Pair:
    code = f"s = '{HOSTILE}'\n" + OWN
    pairs = similar_pairs({f"<b>{HOSTILE}</b>": notebook(code), "=cmd|' /C calc'!A0": notebook(code)})
    assert len(pairs) == 1
    return pairs[0]


def test_side_by_side_page_escapes_student_code() -> None:
    pair = hostile_pair()
    page = render_pair(pair, lang="en")
    assert "<script" not in page.lower()
    assert "onerror=" not in page.replace("onerror=alert(2)&gt;", "")  # only as escaped text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.count("<mark>") >= 2  # the shared passages highlighted on both sides
    assert "np.sum(X[:, k:k + 1] * grad)" in page
    ko = render_pair(pair)
    assert '<html lang="ko">' in ko


def test_page_of_a_hand_made_pair() -> None:
    pair = Pair("a&b", "c", 0.5, 80, (Block(3, (("x = 1", False), ("y = <2>", True))),), ())
    page = render_pair(pair, lang="en")
    assert "<pre>x = 1\n<mark>y = &lt;2&gt;</mark></pre>" in page and "a&amp;b" in page
    assert "cell 3" in page and "No own code to compare." in page
    assert pair.passages == (("y = <2>",), ())


def test_pairs_csv_is_excel_safe(tmp_path: Path) -> None:
    pair = hostile_pair()
    path = write_pairs_csv([pair, Pair("-1+1", "@SUM(A1)", 0.123456, 7)], tmp_path / "out" / "similar_pairs.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["student_a", "student_b", "score", "shared"]
    cells = [c for row in rows[1:] for c in row[:2]]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert "'=cmd|' /C calc'!A0" in cells and "'-1+1" in cells and "'@SUM(A1)" in cells
    assert rows[2][2:] == ["0.123", "7"]
    assert [p.name for p in tmp_path.joinpath("out").iterdir()] == ["similar_pairs.csv"]  # no temporary left


def test_pair_pages_are_written_under_safe_names(tmp_path: Path) -> None:
    pair = hostile_pair()
    other = Pair("kim/../../x", "CON", 0.7, 90)
    paths = write_pair_pages([pair, other], tmp_path / "similar", lang="en")
    assert [p.parent for p in paths] == [tmp_path / "similar"] * 2
    assert paths[1].name == pair_filename(other) == "kim_.._.._x___CON.html"
    assert "/" not in pair_filename(pair) and "<" not in pair_filename(pair)
    assert paths[0].read_text(encoding="utf-8") == render_pair(pair, lang="en")
    assert sorted(p.name for p in (tmp_path / "similar").iterdir()) == sorted(p.name for p in paths)
