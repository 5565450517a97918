"""Similar submissions: pairs of students whose own code is near-identical after normalisation.

It informs a TA; it never judges and never changes a grade.

What counts is the code the student wrote (:func:`student_code`): the lines of the code cells
that are not lines of the handout (the project's student notebook, or the course's file a TA
gives). Comments, whitespace and blank lines never count. Before comparing, :func:`similar_pairs`
also drops the lines everybody writes alike: a line whose normalised form (names replaced,
comments and whitespace gone, as :func:`copydetect.utils.filter_code` writes it) is a line of the
reference solution, or is written by at least ``common`` of the batch. Each student's remaining
cells are put in a canonical order (sorted by their normalised text, so reordering cells hides
nothing), and fingerprinted with copydetect's winnowing (:class:`copydetect.CodeFingerprint`,
variable, function and class names replaced, strings made one token). Fingerprints that at least
``common`` of the batch share are boilerplate too. Two students are a pair when they share at least
``min_shared`` normalised characters and the shared part is at least ``threshold`` of the smaller
one's code, or is at least ``min_passage`` characters on its own (a partial copy in an otherwise
own notebook).

Limits: code that at least ``common`` of the batch share is never a copy, so a ring of copies that
large goes unseen; copydetect hashes k-grams with Python's ``hash()``, so the figures can move by a
few characters from one process to the next (PYTHONHASHSEED), never by much. Importing this module
loads copydetect, which imports matplotlib.pyplot (about a second): import it where it is used.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TextIO

import nbformat
import numpy as np
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import filter_code
from pygments.lexers import PythonLexer
from pygments.token import Comment, String, Text

from grader import notebook as nbio
from grader.errors import NotebookError
from grader.report.exports import _atomic_write, _csv_text, safe_dirname  # the exports' helpers, shared
from grader.report.i18n import t
from grader.report.templating import ENV

__all__ = [
    "DEFAULT_HANDOUT",
    "DEFAULT_REFERENCE",
    "Block",
    "Pair",
    "pair_filename",
    "render_pair",
    "similar_pairs",
    "student_code",
    "write_pair_pages",
    "write_pairs_csv",
]

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_HANDOUT = _ROOT / "assignments" / "week3_nn_basic" / "week3_nn_basic.ipynb"
"""The project's student notebook: its lines are the handout's, never the student's."""
DEFAULT_REFERENCE = _ROOT / "solutions" / "week3_nn_basic" / "reference.ipynb"
"""The reference solution: a student line written as it writes one is the expected answer."""

K = 20
"""Length, in normalised characters, of the k-grams fingerprinted (copydetect's noise threshold)."""
WINDOW = 4
"""Winnowing window: any shared passage of K + WINDOW - 1 normalised characters is found."""

_LEXER = PythonLexer()
_NotebookLike = Path | str | nbformat.NotebookNode
_HandoutLike = Path | str | nbformat.NotebookNode | Sequence[Path | str | nbformat.NotebookNode]


# -- normalising lines -------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def _exact_key(line: str) -> str:
    """The line's tokens without comments and whitespace: how it is compared with the handout."""
    return "".join(value for kind, value in _LEXER.get_tokens(line)
                   if kind not in Comment and kind not in Text)


@lru_cache(maxsize=200_000)
def _norm_key(line: str) -> str:
    """The line as copydetect sees it (names V/F/O, strings S, no comments or whitespace)."""
    filtered, _ = filter_code(line, "cell.py", "python")
    return str(filtered)


def _is_code(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith(("%", "!")) and bool(_exact_key(line))  # magics are not Python


def _cells(nb: _NotebookLike) -> list[tuple[int, str]]:
    """(1-based position among all cells, source) of every code cell."""
    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbio.load(Path(nb))
    return [(i, str(c.get("source", ""))) for i, c in enumerate(nb.cells, start=1) if c.get("cell_type") == "code"]


def _handout_keys(handout: _HandoutLike) -> frozenset[str]:
    many = handout if isinstance(handout, Sequence) and not isinstance(handout, str) else [handout]
    return frozenset(_exact_key(line) for h in many for _, src in _cells(h) for line in src.splitlines())


@dataclass(frozen=True)
class _Cell:
    number: int
    lines: tuple[str, ...]


def _code_lines(src: str) -> list[str]:
    """The cell's lines that hold code: not blank, not only a comment, not a magic, and not only
    (part of) a string on its own (a docstring, a pasted expected output)."""
    code_rows: set[int] = set()
    row = 0
    for _, kind, value in _LEXER.get_tokens_unprocessed(src):
        if kind not in Comment and kind not in Text and kind not in String:
            code_rows.add(row)
        row += value.count("\n")
    return [line for i, line in enumerate(src.splitlines()) if i in code_rows and _is_code(line)]


def _own_cells(nb: _NotebookLike, handout_keys: frozenset[str], marks: Sequence[str] = ()) -> list[_Cell]:
    out = []
    for number, src in _cells(nb):
        if marks and any(m in src.lstrip().split("\n", 1)[0] for m in marks):
            continue  # a cell the course added in a revision, marked so on its first line
        lines = tuple(line.rstrip() for line in _code_lines(src)
                      if _exact_key(line) not in handout_keys and not any(m in line for m in marks))
        if lines:
            out.append(_Cell(number, lines))
    return out


def student_code(notebook: _NotebookLike, handout: _HandoutLike = DEFAULT_HANDOUT, *,
                 handout_marks: Sequence[str] = ()) -> list[str]:
    """The code the student wrote, one string per code cell that has any: the lines that are not
    lines of the handout (compared without comments and whitespace), comments and blank lines
    left out. ``handout`` is a notebook (path or node) or several (e.g. the course's file and the
    project's student notebook): a line of any of them never counts. ``handout_marks``: the marks
    a course puts on the lines (or on the first line of the cells) it changed in a revision of
    the handout that the grader does not have (the week-3 course writes "error fixed" in Korean
    between ``##``, DESIGN.md item 12): such lines and cells are the handout's too."""
    return ["\n".join(c.lines) for c in _own_cells(notebook, _handout_keys(handout), handout_marks)]


# -- pairs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One cell of a student's compared code, as segments (text, shared with the other student)."""

    cell: int
    segments: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class Pair:
    """Two students whose own code is similar; ``score`` (0..1) is the share of the smaller one's
    compared code that the other also has, ``shared`` the normalised characters in common."""

    student_a: str
    student_b: str
    score: float
    shared: int
    blocks_a: tuple[Block, ...] = field(default=(), compare=False, repr=False)
    blocks_b: tuple[Block, ...] = field(default=(), compare=False, repr=False)

    @property
    def passages(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The shared passages of each side, as text."""
        def side(blocks: tuple[Block, ...]) -> tuple[str, ...]:
            return tuple(text for b in blocks for text, shared in b.segments if shared)
        return side(self.blocks_a), side(self.blocks_b)


@dataclass
class _Doc:
    student: str
    cells: list[_Cell]
    text: str = ""  # the normalised code compared: each line's _norm_key, cells in canonical order
    lines: list[tuple[int, int, int]] = field(default_factory=list)  # (cell index, start, end) in text
    fp: CodeFingerprint | None = None


def _threshold_count(common: float, n: int) -> int:
    """How many students make a line or fingerprint common: ``common`` of the batch, at least 3
    (two students alone never make their code 'what everybody writes')."""
    return max(3, math.ceil(common * n))


def _build_doc(doc: _Doc) -> None:
    """Cells in a canonical order (by their normalised text: reordering hides nothing), and the
    normalised text fingerprinted, with where each line is in it."""
    doc.cells.sort(key=lambda c: ("\n".join(_norm_key(line) for line in c.lines), c.number))
    parts, pos = [], 0
    for i, c in enumerate(doc.cells):
        for line in c.lines:
            key = _norm_key(line)
            doc.lines.append((i, pos, pos + len(key)))
            parts.append(key)
            pos += len(key)
    doc.text = "".join(parts)


def _fingerprint(doc: _Doc, boilerplate: np.ndarray) -> CodeFingerprint:
    # filter=False: the text is already copydetect's filter_code output, line by line
    return CodeFingerprint(doc.student, K, WINDOW, boilerplate=boilerplate, filter=False, fp=io.StringIO(doc.text))


def _blocks(doc: _Doc, slices: np.ndarray) -> tuple[Block, ...]:
    """Each cell's lines, a line marked shared when at least half of its normalised text is in
    one of the shared slices; consecutive lines of one kind joined."""
    covered = np.zeros(len(doc.text) + 1, dtype=bool)
    if np.size(slices):
        for a, b in zip(np.asarray(slices[0]).tolist(), np.asarray(slices[1]).tolist(), strict=True):
            covered[max(0, int(a)):max(0, int(b))] = True
    marks: list[list[tuple[str, bool]]] = [[] for _ in doc.cells]
    rows = iter(doc.lines)
    for i, c in enumerate(doc.cells):
        for line in c.lines:
            _, a, b = next(rows)
            marks[i].append((line, b > a and 2 * int(covered[a:b].sum()) >= b - a))
    out = []
    for c, lines in zip(doc.cells, marks, strict=True):
        segs: list[tuple[str, bool]] = []
        for line, shared in lines:
            if segs and segs[-1][1] == shared:
                segs[-1] = (segs[-1][0] + "\n" + line, shared)
            else:
                segs.append((line, shared))
        out.append(Block(c.number, tuple(segs)))
    return tuple(out)


def similar_pairs(
    submissions: Mapping[str, _NotebookLike],
    handout: _HandoutLike = DEFAULT_HANDOUT,
    *,
    reference: _NotebookLike | None = DEFAULT_REFERENCE,
    threshold: float = 0.5,
    min_shared: int = 60,
    min_passage: int = 100,
    common: float = 0.5,
    handout_marks: Sequence[str] = (),
) -> list[Pair]:
    """Pairs of students whose own code is similar, highest score first.

    ``submissions``: student -> notebook (path or node); a notebook that cannot be read is left
    out (it is the grading's business to say why). ``handout``, ``handout_marks``: see
    :func:`student_code`.
    ``reference``: a student line that, normalised, is a line of it does not count (None: no
    reference). ``common``: a line or fingerprint at least this share of the batch has (and at
    least 3 students) does not count. A pair needs ``min_shared`` normalised characters in common
    and either ``threshold`` of the smaller side's compared code or ``min_passage`` characters."""
    keys = _handout_keys(handout)
    docs: list[_Doc] = []
    for student, nb in submissions.items():
        try:
            docs.append(_Doc(str(student), _own_cells(nb, keys, handout_marks)))
        except (NotebookError, OSError, ValueError) as exc:  # the grading reports it; here it is left out
            log.warning("%s: left out of the similarity check (%s)", student, exc)
    n = len(docs)
    cut = _threshold_count(common, n)
    expected = frozenset(_norm_key(line) for c in _own_cells(reference, frozenset()) for line in c.lines) \
        if reference is not None else frozenset()
    line_counts = Counter(k for d in docs for k in {_norm_key(line) for c in d.cells for line in c.lines})
    dropped = expected | {k for k, count in line_counts.items() if count >= cut}
    for d in docs:
        d.cells = [_Cell(c.number, kept) for c in d.cells
                   if (kept := tuple(line for line in c.lines if _norm_key(line) not in dropped))]
        _build_doc(d)
    bare = [_fingerprint(d, np.array([], dtype=np.int64)) for d in docs]
    hash_counts = Counter(h for fp in bare for h in fp.hashes)
    boilerplate = np.array(sorted(h for h, count in hash_counts.items() if count >= cut), dtype=np.int64)
    for d, fp in zip(docs, bare, strict=True):
        d.fp = _fingerprint(d, boilerplate) if boilerplate.size else fp
    pairs = []
    for i in range(n):
        for j in range(i + 1, n):
            pair = _compare(docs[i], docs[j], threshold=threshold, min_shared=min_shared, min_passage=min_passage)
            if pair is not None:
                pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, -p.shared, p.student_a, p.student_b))
    return pairs


def _compare(a: _Doc, b: _Doc, *, threshold: float, min_shared: int, min_passage: int) -> Pair | None:
    assert a.fp is not None and b.fp is not None  # noqa: S101 - set by similar_pairs before comparing
    if not a.fp.hashes or not b.fp.hashes or not (a.fp.hashes & b.fp.hashes):
        return None
    overlap, (sim_a, sim_b), (slices_a, slices_b) = compare_files(a.fp, b.fp)
    shared = int(overlap)
    score = float(max(sim_a, sim_b))
    score = min(1.0, score)
    if shared < min_shared or (score < threshold and shared < min_passage):
        return None
    if b.student < a.student:
        a, b, slices_a, slices_b = b, a, slices_b, slices_a
    return Pair(a.student, b.student, round(score, 4), shared, _blocks(a, slices_a), _blocks(b, slices_b))


# -- outputs ----------------------------------------------------------------------------------


def write_pairs_csv(pairs: Iterable[Pair], path: Path | str) -> Path:
    """``similar_pairs.csv``: student, student, score (0..1), shared (normalised characters); UTF-8
    with BOM and formulas defused, as the grades' CSV (:func:`grader.report.exports.write_csv`)."""
    rows = list(pairs)

    def write(handle: TextIO) -> None:
        writer = csv.writer(handle)
        writer.writerow(["student_a", "student_b", "score", "shared"])
        for p in rows:
            writer.writerow([_csv_text(p.student_a), _csv_text(p.student_b), f"{p.score:.3f}", str(p.shared)])

    return _atomic_write(Path(path), write, encoding="utf-8-sig", newline="")




def render_pair(pair: Pair, *, lang: str = "ko") -> str:
    """A self-contained side-by-side page of the pair, the shared passages highlighted: no
    script (a Content-Security-Policy forbids any), every value escaped."""
    return ENV.get_template("similar_pair.html.j2").render(p=pair, lang=lang, t=lambda key, **kw: t(key, lang, **kw))


def pair_filename(pair: Pair) -> str:
    """``<student a>__<student b>.html``, safe on every system (student names made safe as the
    per-student folders are)."""
    return f"{safe_dirname(pair.student_a)}__{safe_dirname(pair.student_b)}.html"


def write_pair_pages(pairs: Iterable[Pair], folder: Path | str, *, lang: str = "ko") -> list[Path]:
    """Each pair's side-by-side page in ``folder`` (:func:`pair_filename`), written atomically;
    the paths written, in the pairs' order."""
    out = []
    for pair in pairs:
        page = render_pair(pair, lang=lang)

        def write(handle: TextIO, page: str = page) -> None:
            handle.write(page)

        out.append(_atomic_write(Path(folder) / pair_filename(pair), write))
    return out
