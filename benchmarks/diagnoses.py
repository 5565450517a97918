"""Diagnoses, measured: does the grader name the right mistake on the right test, and nothing else?

    python benchmarks/diagnoses.py                       # the week-3 mistake fixtures, -j 2
    python benchmarks/diagnoses.py --out /tmp/diag --json /tmp/diag.json
    python benchmarks/diagnoses.py --manifest other/MANIFEST.toml -j 1

Reads a manifest (default ``tests/fixtures/notebooks/week3_mistakes/MANIFEST.toml``): one table
per notebook, holding one known mistake (``mistake``) and the tests whose result must name it
(``tests``), or none (``mistake = ""``: a correct notebook or an accepted reading). Grades every
listed notebook in ONE ``grader grade`` run, with the hidden tests, then counts:

- hits: for every (notebook, test in ``tests``) pair, whether ``mistake`` is among the names of
  that test's diagnoses; hit rate = hits / pairs;
- false diagnoses: every diagnosis on any test of a listed notebook whose kind is not a recognised
  reading (``accepted``, ``reading``) and whose name is neither the notebook's ``mistake`` nor in
  its ``also``;
- notebooks that could not be graded (no result, or a status other than ``graded`` and
  ``partial``): every pair of theirs is a miss, and they are listed. ``partial`` counts as graded:
  it means a cell of the student's raised and everything else was graded, which is what many
  mistakes do to the handout's own demo cells.

Prints a row per notebook (mistake, pairs, hits, false), then ``hit rate: 100.0 % (N/N)`` and
``false diagnoses: 0``, then every miss and false diagnosis in words. Exits 1 when a pair is
missed, a diagnosis is false or a notebook was not graded; 2 on a broken manifest or a grader that
could not start.

The grader derives a submission's output folder from the file's name alone (a file named on the
command line has no folder above it), so two listed files with the same name would share one
``result.json``. Each notebook is therefore copied to ``OUT/notebooks/<table name>.ipynb`` and
graded under that name: table names are unique, so each entry has its own folder, and its
``result.json`` is checked to be of that very file (submission name and SHA-256).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = ROOT / "tests" / "fixtures" / "notebooks" / "week3_mistakes" / "MANIFEST.toml"
ASSIGNMENT = "week3_nn_basic"
# kinds of diagnosis that recognise a reading of the handout: full credit, never a mistake
READINGS = frozenset({"accepted", "reading"})
# a measurement shown beside a failing backprop check (which block is off): it names no mistake,
# so it is false only on a notebook without one
MEASUREMENTS = frozenset({"gradient"})
# statuses whose tests all ran (partial: some student cell raised, "everything else was graded");
# timeout, crashed and invalid cut grading short or never started it
GRADED = frozenset({"graded", "partial"})
KEYS = frozenset({"path", "mistake", "tests", "also", "why"})
# a table name becomes a file and a folder name: TOML's bare-key characters only
NAME = re.compile(r"[A-Za-z0-9_-]+")


class ManifestError(Exception):
    """The manifest cannot be read, or an entry in it is malformed."""


@dataclass(frozen=True)
class Entry:
    """One notebook of the manifest: the mistake it holds and the tests that must name it."""

    name: str
    path: Path
    mistake: str
    tests: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    why: str = ""


@dataclass(frozen=True)
class Miss:
    """A (notebook, test) pair whose test did not name the notebook's mistake."""

    notebook: str
    test: str
    expected: str
    named: tuple[str, ...]  # "name (kind)" of every diagnosis the test had
    reason: str = ""  # why there was nothing to look at: test absent, notebook not graded

    def words(self) -> str:
        got = ", ".join(self.named) if self.named else "nothing"
        text = f"{self.notebook}: {self.test} should name {self.expected}, named {got}"
        return f"{text} ({self.reason})" if self.reason else text


@dataclass(frozen=True)
class FalseDiagnosis:
    """A diagnosis that names something the notebook does not hold."""

    notebook: str
    test: str
    expected: str  # the notebook's mistake, "" for a correct notebook or an accepted reading
    named: str
    kind: str
    status: str  # the test's status (passed, failed, ...)

    def words(self) -> str:
        holds = f"holds only {self.expected}" if self.expected else "holds no mistake"
        return (f"{self.notebook}: {self.test} ({self.status}) named {self.named} ({self.kind}), "
                f"but the notebook {holds}")


@dataclass
class Row:
    """What one notebook scored."""

    notebook: str
    path: str
    mistake: str
    pairs: int
    hits: int
    false: int
    status: str  # the result's status, or "missing"


@dataclass
class Measurement:
    rows: list[Row] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)
    false: list[FalseDiagnosis] = field(default_factory=list)
    ungraded: list[str] = field(default_factory=list)  # "notebook: why", in words

    @property
    def pairs(self) -> int:
        return sum(r.pairs for r in self.rows)

    @property
    def hits(self) -> int:
        return sum(r.hits for r in self.rows)

    @property
    def hit_rate(self) -> float:
        """hits / pairs; 1.0 when there is no pair to miss (a manifest of correct notebooks only)."""
        return self.hits / self.pairs if self.pairs else 1.0

    @property
    def ok(self) -> bool:
        return self.hits == self.pairs and not self.false and not self.ungraded

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs": self.pairs, "hits": self.hits, "hit_rate": self.hit_rate, "false_diagnoses": len(self.false),
            "rows": [asdict(r) for r in self.rows], "misses": [asdict(m) for m in self.misses],
            "false": [asdict(f) for f in self.false], "ungraded": self.ungraded,
        }

    def problems(self) -> list[str]:
        """Every miss, false diagnosis and ungraded notebook, one line each, in plain words."""
        return ([f"not graded: {u}" for u in self.ungraded]
                + [f"miss: {m.words()}" for m in self.misses]
                + [f"false: {f.words()}" for f in self.false])


# -- the manifest ------------------------------------------------------------------------------

def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ManifestError(f"{where} must be a list of non-empty strings, not {value!r}")
    return tuple(value)


def load_manifest(path: Path) -> list[Entry]:
    """Read and check the manifest; every listed notebook must exist."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path} cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path} is not valid TOML: {exc}") from None
    entries: list[Entry] = []
    problems: list[str] = []
    for name, table in raw.items():
        where = f"{path.name} [{name}]"
        if not isinstance(table, dict):
            raise ManifestError(f"{path.name}: {name!r} is not a table; every notebook is a [table]")
        if not NAME.fullmatch(name):
            raise ManifestError(f"{where}: a table name may hold only letters, digits, '_' and '-'")
        unknown = set(table) - KEYS
        if unknown:
            raise ManifestError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(KEYS)}")
        mistake = table.get("mistake")
        if not isinstance(mistake, str):
            raise ManifestError(f"{where}: 'mistake' must be a string (\"\" for a notebook without a mistake)")
        tests = _strings(table.get("tests", []), f"{where} tests")
        also = _strings(table.get("also", []), f"{where} also")
        if mistake and not tests:
            raise ManifestError(f"{where}: mistake {mistake!r} has no tests that must name it")
        if not mistake and tests:
            raise ManifestError(f"{where}: lists tests but no mistake for them to name")
        if len(set(tests)) != len(tests):
            raise ManifestError(f"{where}: a test is listed twice in tests")
        rel = table.get("path", f"{name}.ipynb")
        if not isinstance(rel, str) or not rel.endswith(".ipynb"):
            raise ManifestError(f"{where}: 'path' must name an .ipynb file, not {rel!r}")
        notebook = (path.parent / rel).resolve()
        if not notebook.is_file():
            problems.append(f"{where}: {notebook} does not exist")
        why = table.get("why", "")
        entries.append(Entry(name, notebook, mistake, tests, also, why if isinstance(why, str) else str(why)))
    if problems:
        raise ManifestError("notebooks missing:\n  " + "\n  ".join(problems))
    if not entries:
        raise ManifestError(f"{path} lists no notebook")
    return entries


# -- scoring (pure: no grading, no files) ---------------------------------------------------------

def _named(test: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, kind) of every diagnosis on a test of result.json."""
    return [(str(d.get("name", "")), str(d.get("kind", ""))) for d in test.get("diagnoses") or []]


def score(entries: Iterable[Entry], results: Mapping[str, Mapping[str, Any] | None],
          missing: Mapping[str, str] | None = None) -> Measurement:
    """Count hits and false diagnoses from each entry's result.json (``results[entry.name]``,
    ``None`` when there is none; ``missing[entry.name]`` may say why)."""
    m = Measurement()
    for e in entries:
        result = results.get(e.name)
        status = str(result.get("status", "")) if result is not None else "missing"
        row = Row(e.name, _shown(e.path), e.mistake, len(e.tests), 0, 0, status)
        m.rows.append(row)
        tests = {str(t.get("name")): t for t in (result or {}).get("tests") or []}
        graded = status in GRADED
        if not graded:
            why = (missing or {}).get(e.name) or ("no result.json" if result is None else
                                                  f"status {status}: {result.get('reason') or 'no reason given'}")
            m.ungraded.append(f"{e.name} ({row.path}): {why}")
        for test in e.tests:
            named = _named(tests.get(test, {}))
            shown = tuple(f"{n} ({k})" for n, k in named)
            if graded and any(n == e.mistake for n, _ in named):
                row.hits += 1
            elif not graded:
                m.misses.append(Miss(e.name, test, e.mistake, shown, "notebook not graded"))
            elif test not in tests:
                m.misses.append(Miss(e.name, test, e.mistake, (), "no test of that name in the result"))
            else:
                m.misses.append(Miss(e.name, test, e.mistake, shown))
        allowed = {e.mistake, *e.also} - {""}
        for name, test in tests.items():
            for n, k in _named(test):
                if k not in READINGS and n not in allowed and not (k in MEASUREMENTS and e.mistake):
                    row.false += 1
                    m.false.append(FalseDiagnosis(e.name, name, e.mistake, n, k, str(test.get("status", ""))))
    return m


def _shown(path: Path) -> str:
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


# -- grading -----------------------------------------------------------------------------------

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def grade(entries: list[Entry], out: Path, *, jobs: int = 2, assignment: str = ASSIGNMENT
          ) -> tuple[dict[str, dict[str, Any] | None], dict[str, str]]:
    """Grade every entry in one ``grader grade`` run; each entry's result.json (or None) and,
    for those without one, why."""
    staged = out / "notebooks"
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    files: dict[str, Path] = {}
    for e in entries:
        files[e.name] = staged / f"{e.name}.ipynb"
        shutil.copyfile(e.path, files[e.name])
        # an earlier run's result must not stand in for one this run failed to write
        (out / "submissions" / e.name / "result.json").unlink(missing_ok=True)
    log = out / "grader.log"
    cmd = [sys.executable, "-m", "grader", "grade", *map(str, files.values()), "--assignment", assignment,
           "--out", str(out), "-j", str(jobs), "--regrade"]
    with open(log, "w", encoding="utf-8") as fh:
        done = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)  # noqa: S603 - our interpreter running the grader on files we just wrote
    if done.returncode not in (0, 1):  # 1: some submission was left without a result; each is reported
        tail = "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-20:])
        raise RuntimeError(f"grader grade exited {done.returncode} (log: {log}):\n{tail}")
    results: dict[str, dict[str, Any] | None] = {}
    missing: dict[str, str] = {}
    for e in entries:
        path = out / "submissions" / e.name / "result.json"
        if not path.is_file():
            results[e.name] = None
            missing[e.name] = f"no result.json (grader exited {done.returncode}; log: {log})"
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("submission") != files[e.name].name or data.get("sha256") != _sha(files[e.name]):
            results[e.name] = None
            missing[e.name] = f"{path} is of {data.get('submission')!r}, not of this notebook"
            continue
        results[e.name] = data
    return results, missing


def measure(manifest: Path, out: Path, jobs: int = 2, *, assignment: str = ASSIGNMENT) -> Measurement:
    """Grade every notebook the manifest lists (one run, into ``out``) and count hits and false diagnoses."""
    entries = load_manifest(manifest)
    results, missing = grade(entries, out, jobs=jobs, assignment=assignment)
    return score(entries, results, missing)


# -- the command line --------------------------------------------------------------------------

def render(m: Measurement) -> None:
    from rich.console import Console
    from rich.table import Table

    # wide enough for whole names (rich falls back to 80 columns when the output is not a terminal)
    width = 45 + max((len(r.mistake) + len(r.notebook) for r in m.rows), default=0)
    console = Console(highlight=False, width=max(80, width))
    table = Table(title="diagnoses per notebook")
    table.add_column("mistake")
    table.add_column("notebook")
    for col in ("pairs", "hits", "false"):
        table.add_column(col, justify="right")
    table.add_column("status")
    for r in sorted(m.rows, key=lambda r: (r.mistake == "", r.mistake, r.notebook)):
        style = "" if r.hits == r.pairs and not r.false and r.status in GRADED else "red"
        table.add_row(r.mistake or "(none)", r.notebook, str(r.pairs), str(r.hits), str(r.false), r.status,
                      style=style)
    console.print(table)
    console.print(f"hit rate: {100 * m.hit_rate:.1f} % ({m.hits}/{m.pairs})", markup=False)
    console.print(f"false diagnoses: {len(m.false)}", markup=False)
    if m.ungraded:
        console.print(f"not graded: {len(m.ungraded)}", markup=False)
    for line in m.problems():
        console.print("  " + line, markup=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="the fixtures' MANIFEST.toml")
    ap.add_argument("--out", type=Path, help="grading output folder (default: a new temporary folder, kept)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel grading workers (default 2)")
    ap.add_argument("--assignment", default=ASSIGNMENT)
    ap.add_argument("--json", type=Path, help="also write the measurement as JSON")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="diagnoses-"))
    print(f"grading into {out}", file=sys.stderr)
    try:
        m = measure(args.manifest, out, args.jobs, assignment=args.assignment)
    except (ManifestError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    render(m)
    if args.json:
        args.json.write_text(json.dumps(m.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if m.ok else 1


if __name__ == "__main__":
    sys.exit(main())
