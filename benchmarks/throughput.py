#!/usr/bin/env python
"""Throughput benchmark: grader vs. the floor (plain python) vs. nbgrader and otter-grader.

    python benchmarks/throughput.py                 # N=40, -j 1,2, competitors when installed
    python benchmarks/throughput.py --quick         # N=6, no competitors: a smoke test
    python benchmarks/throughput.py --competitor-python /tmp/benchenv/bin/python --json out.json
    python benchmarks/throughput.py --n 20 --jobs 1 --skip-competitors --figures-cost   # what the plots cost

What it does, all in one run, one measurement after another (nothing runs concurrently with
a measured command):

1. Makes N submissions (``<student>/week3.ipynb``) in a temporary folder, cycling through
   ``tests/fixtures/notebooks/week3/*.ipynb`` in MANIFEST order (correct ones, failing cells,
   known mistakes), skipping ``*iris_url*`` (it tries the network when run unsandboxed).
   Each copy carries a one-line comment naming its student, so no two are identical.
2. grader: ``grader.batch.grade(paths, out, rubric=load_rubric(assignment="week3_nn_basic"),
   jobs=K, sandbox=...)`` with hidden tests, once per K in ``--jobs`` (fresh output folders),
   each in its own subprocess (``_tools/run_grader.py``).
3. The floor: for each submission, a fresh ``python`` running its code cells once (each cell
   compiled and run inside try/except, magics and ``!`` lines dropped) in a folder holding a
   copy of ``grader/data/iris.data``.
4. nbgrader (``nbgrader autograde`` over all submissions, in a course made at run time) and
   otter-grader (``otter run`` once per submission, autograder zip made by ``otter generate``)
   when an interpreter that has them is found (``--competitor-python``, this interpreter, or
   the one behind ``nbgrader``/``otter`` on PATH); skipped with a message otherwise.

Measuring: wall time with ``time.perf_counter`` around each command; CPU time (user + system)
of the command and *all* its descendants (Jupyter kernels, processes started through
bubblewrap, worker pools): from a cgroup of its own where one can be made (as root on Linux),
else from ``os.wait4``/``RUSAGE_CHILDREN`` with this process as child subreaper. The rusage
figure is printed beside it: it misses the CPU of kernels whose PID namespace is torn down by
killing bwrap, see ``_tools/measure.py``. Per-notebook grader wall times come from
the ``timings.total`` of each result.json; per-notebook grader (and nbgrader) CPU is the run's
total CPU divided by N, since a batch's CPU cannot be split by notebook. Every tool gets the
same environment for the student code: ``MPLBACKEND=Agg`` and single-threaded BLAS (what the
grader's sandbox sets).

With ``--figures-cost``, each grader run (-j K, not the one-core one) is followed by the same
run with a copy of the rubric whose ``rubric.toml`` has no ``[report]`` table, hence no figures
and no plots (a b a b ..., ``--repeat`` times each, default 3): the extra batch CPU per notebook
of the figures (collected after the tests, retraining the OR neuron with the student's
functions) and their plots (drawn once for report.html and feedback.html). Beside it: the
median ``timings.figures`` of the results, the time ``grader.report.html.write_both`` takes
in this process on the results afterwards, and the reports' sizes. The copy grades the same:
every run's scores and statuses are compared with the first run's, and the copy's results
must have no figures.

No figure is asserted: this is the instrument, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _tools import measure, submissions  # noqa: E402 - beside this script, on the path set just above
from _tools.checks import MAX_POINTS  # noqa: E402 - the same

REPO = HERE.parent
ASSIGNMENT = "week3_nn_basic"
FIXTURES = REPO / "tests" / "fixtures" / "notebooks" / "week3"
REFERENCE = REPO / "solutions" / ASSIGNMENT / "reference.ipynb"
TOOLS = HERE / "_tools"


def _iris() -> Path:
    spec = importlib.util.find_spec("grader")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the grader package is not importable: `pip install -e .` first")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "iris.data"


def _student_env(extra_path: str | None = None) -> dict[str, str]:
    """The environment every tool runs with: what the grader's sandbox gives student code."""
    env = dict(os.environ)
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONHASHSEED="0")
    env.pop("JPY_PARENT_PID", None)
    if extra_path:
        env["PATH"] = extra_path + os.pathsep + env.get("PATH", "")
    return env


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def _mean(xs: list[float]) -> float | None:
    return statistics.fmean(xs) if xs else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _sum_foreign(ms: list[measure.Measurement]) -> float | None:
    vals = [m.foreign_cpu for m in ms]
    return None if not vals or any(v is None for v in vals) else sum(vals)


def _others_pct(foreign: float | None, wall: float, nproc: int | None) -> float | None:
    """CPU that other processes on the machine used during a run, as % of its capacity then."""
    return None if foreign is None or not wall else 100 * foreign / (wall * (nproc or 1))


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- machine ---------------------------------------------------------------------------------
def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    rev = ""
    try:
        git = ["git", "-C", str(REPO)]  # which commit was measured
        rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True,  # noqa: S603 - git
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--", "grader"],  # noqa: S603 - git, fixed arguments
                               check=False, capture_output=True, text=True, timeout=10).stdout.strip()
        rev += " (grader/ has uncommitted changes)" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        pass
    rev = rev or f"{REPO} (not a git checkout)"
    versions = {}
    for mod in ("numpy", "pandas", "matplotlib", "ipykernel", "jupyter_client", "nbclient"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - a version we cannot read is reported as "?"
            versions[mod] = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "grader_commit": rev,
        "versions": versions,
        "openblas_env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ},
    }


# -- grader ----------------------------------------------------------------------------------
def run_grader(subs_dir: Path, out: Path, jobs: int, sandbox: str, n: int, logs: Path,
               one_core: bool = False, rubric: Path | None = None) -> dict[str, Any]:
    summary_path = logs / f"{out.name}.summary.json"
    argv = [sys.executable, str(TOOLS / "run_grader.py"), str(subs_dir), str(out), "--jobs", str(jobs),
            "--sandbox", sandbox, "--assignment", ASSIGNMENT, "--summary", str(summary_path)]
    if one_core:
        argv.append("--one-core")
    if rubric is not None:
        argv += ["--rubric", str(rubric)]
    m = measure.run_measured(argv, cwd=REPO, env=_student_env(), timeout=120 + 120 * n,
                             stdout=logs / f"{out.name}.log")
    results = []
    for p in sorted(out.glob("submissions/**/result.json")):
        with contextlib.suppress(OSError, ValueError):
            results.append(json.loads(p.read_text(encoding="utf-8")))
    summary = {}
    with contextlib.suppress(OSError, ValueError):
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    timings = {k: [r["timings"][k] for r in results if k in r.get("timings", {})]
               for k in ("total", "kernel_start", "execute", "tests")}
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    pct = [100 * r["score"] / r["max_score"] for r in results if r.get("max_score")]
    return {
        "jobs": jobs,
        "one_core": one_core,
        "measurement": m.to_dict(),
        "results": len(results),
        "n": n,
        "throughput": n / m.wall if m.wall else None,
        "cpu_per_notebook": m.cpu / n,
        "wall_per_notebook_batch": m.wall / n,
        "wall_per_notebook_median": _median(timings["total"]),
        "wall_per_notebook_mean": _mean(timings["total"]),
        "stage_medians": {k: _median(v) for k, v in timings.items()},
        "sandbox": sorted({r.get("sandbox", "") for r in results}),
        "statuses": statuses,
        "score_pct_mean": _mean(pct),
        "full_marks": sum(1 for x in pct if x >= 99.999),
        "summary": summary,
        "log": str(logs / f"{out.name}.log"),
    }


# -- figures cost ----------------------------------------------------------------------------
def rubric_without_figures(work: Path) -> Path:
    """A copy of the rubric folder whose rubric.toml has no ``[report]`` table: no figures, so no plots.

    The copy sits in ``rubrics/<assignment>/`` beside links to the repository's ``solutions/`` and
    ``tests/``, so that the paths rubric.toml gives relative to the rubric (the reference solution,
    the fixtures) name the same files."""
    src = REPO / "rubrics" / ASSIGNMENT
    root = work / "rubric-no-figures"
    dst = root / "rubrics" / ASSIGNMENT
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("solutions", "tests"):
        (root / name).symlink_to(REPO / name, target_is_directory=True)
    toml = dst / "rubric.toml"
    kept, skipping = [], False
    for line in toml.read_text(encoding="utf-8").splitlines(keepends=True):
        head = line.strip()
        if head.startswith("["):
            skipping = head == "[report]" or head.startswith("[report.")
        if not skipping:
            kept.append(line)
    toml.write_text("".join(kept), encoding="utf-8")
    before = tomllib.loads((src / "rubric.toml").read_text(encoding="utf-8"))
    after = tomllib.loads(toml.read_text(encoding="utf-8"))
    if "report" not in before:
        raise SystemExit(f"{src / 'rubric.toml'} has no [report] table: there are no figures to measure")
    del before["report"]
    if after != before:
        raise SystemExit(f"{toml}: taking out [report] changed more than [report]")
    return dst


def _results_in(out: Path) -> dict[str, dict[str, Any]]:
    """The result.json files under a grader output folder, by their path in it."""
    found = {}
    for p in sorted(out.glob("submissions/**/result.json")):
        with contextlib.suppress(OSError, ValueError):
            found[str(p.relative_to(out))] = json.loads(p.read_text(encoding="utf-8"))
    return found


def _mean_kb(out: Path, name: str) -> float | None:
    return _mean([p.stat().st_size / 1024 for p in out.glob(f"submissions/**/{name}")])


def time_report_writing(results: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    """``grader.report.html.write_both`` (report.html and feedback.html, the plots drawn once)
    on each result in this process, after one untimed call (imports, fonts)."""
    from grader.report import html

    if not results:
        return {"results": 0}
    html.write_both(results[0], folder / "warm-up")
    walls, cpus = [], []
    for i, r in enumerate(results):
        t0, c0 = time.perf_counter(), time.process_time()
        html.write_both(r, folder / str(i))
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return {"results": len(results), "wall_ms_median": 1000 * statistics.median(walls),
            "cpu_ms_median": 1000 * statistics.median(cpus)}


def figures_cost(with_figs: list[tuple[dict[str, Any], Path]], without: list[tuple[dict[str, Any], Path]],
                 work: Path) -> dict[str, Any]:
    """(a) the rubric as is vs (b) its copy without ``[report]``: runs in pairs, a then b."""
    sides: dict[str, Any] = {}
    found: dict[str, list[dict[str, dict[str, Any]]]] = {}
    for side, runs in (("a", with_figs), ("b", without)):
        found[side] = [_results_in(out) for _, out in runs]
        results = [r for rs in found[side] for r in rs.values()]
        ms = [g["measurement"] for g, _ in runs]
        sides[side] = {
            "runs": len(runs),
            "cpu_per_notebook": [g["cpu_per_notebook"] for g, _ in runs],
            "cpu_per_notebook_median": _median([g["cpu_per_notebook"] for g, _ in runs]),
            "wall": [m["wall"] for m in ms],
            "wall_median": _median([m["wall"] for m in ms]),
            "others_pct": [_others_pct(m.get("foreign_cpu"), m["wall"], os.cpu_count()) for m in ms],
            "results": len(results),
            "with_figures": sum(1 for r in results if r.get("figures")),
            "figures_s_median": _median([r["timings"]["figures"] for r in results
                                         if "figures" in r.get("timings", {})]),
            "total_s_median": _median([r["timings"]["total"] for r in results if "total" in r.get("timings", {})]),
            "report_html_kb_mean": _mean_kb(runs[0][1], "report.html") if runs else None,
            "feedback_html_kb_mean": _mean_kb(runs[0][1], "feedback.html") if runs else None,
            "report_writing": time_report_writing(list(found[side][0].values()) if runs else [],
                                                  work / f"report-writing-{side}"),
        }
    a, b = sides["a"], sides["b"]
    first = found["a"][0] if found["a"] else {}
    problems = []
    for side in ("a", "b"):
        for i, rs in enumerate(found[side]):
            if set(rs) != set(first):
                problems.append(f"{side}{i + 1}: {len(rs)} results, not those of a1 ({len(first)})")
            for key, r in rs.items():
                ref = first.get(key)
                if ref is not None and (r["score"], r["status"]) != (ref["score"], ref["status"]):
                    problems.append(f"{side}{i + 1}: {key} scored {r['score']} ({r['status']}), "
                                    f"a1 {ref['score']} ({ref['status']})")
    if b["with_figures"]:
        problems.append(f"b: {b['with_figures']} results have figures")
    extra = (a["cpu_per_notebook_median"] - b["cpu_per_notebook_median"]
             if a["cpu_per_notebook_median"] is not None and b["cpu_per_notebook_median"] is not None else None)
    ratio = _ratio(a["cpu_per_notebook_median"], b["cpu_per_notebook_median"])
    return {
        "a": a, "b": b,
        "cpu_ratio": ratio,
        "extra_cpu_per_notebook": extra,
        "extra_cpu_pct": None if ratio is None else 100 * (ratio - 1),
        "cpu_ratios_by_pair": [_ratio(x, y) for x, y in zip(a["cpu_per_notebook"], b["cpu_per_notebook"], strict=True)],
        "wall_ratio": _ratio(a["wall_median"], b["wall_median"]),
        "problems": problems,
    }


# -- floor -----------------------------------------------------------------------------------
def run_floor(runs: list[dict], n: int) -> dict[str, Any]:
    env = _student_env()
    cpus, walls, failed, problems, ms = [], [], 0, [], []
    t0 = time.perf_counter()
    for r in runs:
        log = r["dir"] / "output.txt"
        m = measure.run_measured([sys.executable, "run.py"], cwd=r["dir"], env=env, timeout=120, stdout=log)
        ms.append(m)
        cpus.append(m.cpu)
        walls.append(m.wall)
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
        if tail[0].startswith("[floor]"):
            failed += int(tail[0].split()[1])
        if m.returncode != 0 or m.timed_out:
            problems.append(f"{r['student']}: exit {m.returncode}{' (timed out)' if m.timed_out else ''}")
    total_wall = time.perf_counter() - t0
    return {
        "n": n,
        "cpu_median": _median(cpus), "cpu_mean": _mean(cpus), "cpu_total": sum(cpus),
        "wall_median": _median(walls), "wall_mean": _mean(walls), "wall_total": sum(walls),
        "throughput": n / sum(walls) if walls else None,
        "loop_wall": total_wall,
        "cpu_source": ", ".join(sorted({m.cpu_source for m in ms})),
        "cpu_rusage_total": sum(m.cpu_rusage for m in ms),
        "cpu_direct_total": sum(m.cpu_direct for m in ms),
        "foreign_cpu_total": _sum_foreign(ms),
        "failed_cells_total": failed,
        "problems": problems,
    }


# -- competitors -----------------------------------------------------------------------------
def _interpreter_of(script: str | None) -> str | None:
    if not script:
        return None
    try:
        first = Path(script).read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    if first.startswith("#!"):
        exe = first[2:].strip().split()[0]
        return exe if os.access(exe, os.X_OK) and "python" in Path(exe).name else None
    return None


def competitor_version(py: str, module: str) -> tuple[str | None, str]:
    """(version, '') when ``py`` can import ``module``, else (None, why)."""
    try:
        cp = subprocess.run(  # noqa: S603 - the competitors' interpreter, asked for a version
            [py, "-c", f"import {module}; print({module}.__version__)"], check=False, capture_output=True,
            text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"{py} could not be run ({exc})"
    if cp.returncode != 0:
        last = (cp.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"{py} cannot import {module} ({last})"
    return cp.stdout.strip(), ""


def find_competitor_python(explicit: str | None, module: str, script: str) -> tuple[str | None, str]:
    if explicit:
        return explicit, "--competitor-python"
    if importlib.util.find_spec(module) is not None:
        return sys.executable, "this interpreter"
    exe = _interpreter_of(shutil.which(script))
    if exe:
        return exe, f"the interpreter of {shutil.which(script)}"
    return None, ""


def run_nbgrader(py: str, work: Path, subs: list[dict], iris: Path, n: int) -> dict[str, Any]:
    from _tools import nbgrader_course as nbc

    env = _student_env(str(Path(py).parent))  # nbgrader runs `alembic` from PATH
    course = nbc.build_course(work / "course", REFERENCE, iris)
    setup = measure.run_measured([py, "-m", "nbgrader", "generate_assignment", nbc.ASSIGNMENT, "--force"],
                                 cwd=course, env=env, timeout=600, stdout=work / "generate_assignment.log")
    if setup.returncode != 0:
        log = work / "generate_assignment.log"
        return {"error": f"nbgrader generate_assignment failed (exit {setup.returncode}); see {log}"}
    for s in subs:
        nbc.submit(course, s["student"], s["path"], iris)
    _log(f"nbgrader autograde {nbc.ASSIGNMENT} over {n} submissions")
    m = measure.run_measured([py, "-m", "nbgrader", "autograde", nbc.ASSIGNMENT], cwd=course, env=env,
                             timeout=120 + 120 * n, stdout=work / "autograde.log")
    scores: dict[str, list[float]] = {}
    try:
        cp = subprocess.run([py, "-c", nbc.SCORES_SCRIPT, str(course / "gradebook.db"), nbc.ASSIGNMENT],  # noqa: S603 - nbgrader's venv reads its own gradebook
                            check=False, capture_output=True, text=True, timeout=300, env=env)
        scores = json.loads(cp.stdout or "{}")
    except (OSError, ValueError, subprocess.SubprocessError):
        pass
    pct = [100 * s / mx for s, mx in scores.values() if mx]
    return {
        "measurement": m.to_dict(),
        "setup_generate_assignment": setup.to_dict(),
        "n": n,
        "graded": len(scores),
        "throughput": n / m.wall if m.wall else None,
        "cpu_per_notebook": m.cpu / n,
        "wall_per_notebook_batch": m.wall / n,
        "score_pct_mean": _mean(pct),
        "full_marks": sum(1 for x in pct if x >= 99.999),
        "max_points": MAX_POINTS,
        "log": str(work / "autograde.log"),
    }


def run_otter(py: str, work: Path, subs: list[dict], iris: Path, n: int) -> dict[str, Any]:
    from _tools import otter_setup as ots

    env = _student_env(str(Path(py).parent))
    ag = work / "autograder"
    ots.build_tests(ag, iris)
    setup = measure.run_measured(
        [py, "-m", "otter", "generate", "-t", "tests", "-c", "otter_config.json", "--no-requirements",
         "--no-environment", "-o", "autograder.zip", "iris.data"],
        cwd=ag, env=env, timeout=600, stdout=work / "generate.log")
    zip_path = ag / "autograder.zip"
    if setup.returncode != 0 or not zip_path.is_file():
        return {"error": f"otter generate failed (exit {setup.returncode}); see {work / 'generate.log'}"}
    copies = [(s, ots.submission_copy(s["path"], work / "submissions" / s["student"])) for s in subs]
    _log(f"otter run, once for each of {n} submissions")
    cpus, walls, pct, failed, ms = [], [], [], [], []
    t0 = time.perf_counter()
    for s, nb in copies:
        out = work / "results" / s["student"]
        out.mkdir(parents=True)
        m = measure.run_measured([py, "-m", "otter", "run", "-a", str(zip_path), "-o", str(out), "--no-logo", str(nb)],
                                 cwd=nb.parent, env=env, timeout=300, stdout=out / "otter.log")
        ms.append(m)
        cpus.append(m.cpu)
        walls.append(m.wall)
        got = ots.read_score(out / "results.json")
        if got is None or m.returncode != 0:
            failed.append(s["student"])
        elif got[1]:
            pct.append(100 * got[0] / got[1])
    loop = time.perf_counter() - t0
    return {
        "measurement": {"wall": round(loop, 4), "cpu": round(sum(cpus), 4), "runs": len(walls),
                        "cpu_source": ", ".join(sorted({m.cpu_source for m in ms})),
                        "cpu_rusage": round(sum(m.cpu_rusage for m in ms), 4),
                        "cpu_direct": round(sum(m.cpu_direct for m in ms), 4),
                        "foreign_cpu": _sum_foreign(ms)},
        "setup_generate": setup.to_dict(),
        "n": n,
        "graded": n - len(failed),
        "failed": failed,
        "throughput": n / loop if loop else None,
        "cpu_per_notebook": sum(cpus) / n,
        "cpu_median": _median(cpus),
        "wall_per_notebook_batch": loop / n,
        "wall_median": _median(walls),
        "score_pct_mean": _mean(pct),
        "full_marks": sum(1 for x in pct if x >= 99.999),
        "max_points": MAX_POINTS,
    }


# -- report ----------------------------------------------------------------------------------
def _f(x: float | None, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def render(report: dict[str, Any]) -> str:
    mach, cfg = report["machine"], report["config"]
    lines = []
    sandboxes = sorted({s for g in report["grader"].values() for s in g.get("sandbox", []) if s})
    lines.append(f"grader throughput benchmark: {ASSIGNMENT}, N = {cfg['n']} submissions "
                 f"({cfg['distinct_fixtures']} distinct fixtures), hidden tests included")
    lines.append(f"machine: nproc {mach['nproc']}, {mach['cpu'] or '?'}, {mach['memory']}; Python {mach['python']}; "
                 f"{mach['platform']}")
    lines.append(f"grader {mach['grader_commit']}; sandbox requested {cfg['sandbox']!r}, "
                 f"used: {', '.join(sandboxes) or '?'}; "
                 f"numpy {mach['versions'].get('numpy')}, ipykernel {mach['versions'].get('ipykernel')}")
    comp = report.get("competitors", {})
    if comp.get("python"):
        lines.append(f"competitors: {comp['python']} ({comp.get('found_by', '')}); "
                     f"nbgrader {comp.get('nbgrader_version') or '-'}, "
                     f"otter-grader {comp.get('otter_version') or '-'}")
    lines.append("")
    nproc = mach["nproc"]
    head = (f"{'':34} {'batch wall s':>12} {'batch CPU s':>12} {'nb/s':>7} {'wall/nb s':>10} {'CPU/nb s':>9} "
            f"{'others %':>9} {'cores':>6}")
    lines.append(head)
    lines.append("-" * len(head))
    for key, g in report["grader"].items():
        m = g["measurement"]
        lines.append(f"{'grader ' + key:34} {m['wall']:12.2f} {m['cpu']:12.2f} {_f(g['throughput'], '{:.3f}'):>7} "
                     f"{_f(g['wall_per_notebook_median']):>10} {_f(g['cpu_per_notebook']):>9} "
                     f"{_f(_others_pct(m.get('foreign_cpu'), m['wall'], nproc), '{:.0f}'):>9} "
                     f"{_f(m['cpu'] / m['wall'] if m['wall'] else None):>6}"
                     + (f"   (median of {len(g['walls'])} runs: walls {', '.join(f'{w:.2f}' for w in g['walls'])})"
                        if len(g.get("walls", [])) > 1 else ""))
    fl = report.get("floor")
    if fl:
        lines.append(f"{'floor: plain python, once':34} {fl['wall_total']:12.2f} {fl['cpu_total']:12.2f} "
                     f"{_f(fl['throughput'], '{:.3f}'):>7} {_f(fl['wall_median']):>10} {_f(fl['cpu_median']):>9} "
                     f"{_f(_others_pct(fl.get('foreign_cpu_total'), fl['wall_total'], nproc), '{:.0f}'):>9}")
    for name, label in (("nbgrader", "nbgrader autograde (serial)"), ("otter", "otter run (one per notebook)")):
        c = comp.get(name)
        if not c:
            continue
        if "skipped" in c or "error" in c:
            lines.append(f"{label:34} {'skipped: ' + c.get('skipped', c.get('error', ''))}")
            continue
        m = c["measurement"]
        wall_nb = c.get("wall_median", c["wall_per_notebook_batch"])
        cpu_nb = c.get("cpu_median", c["cpu_per_notebook"])
        lines.append(f"{label:34} {m['wall']:12.2f} {m['cpu']:12.2f} {_f(c['throughput'], '{:.3f}'):>7} "
                     f"{_f(wall_nb):>10} {_f(cpu_nb):>9} "
                     f"{_f(_others_pct(m.get('foreign_cpu'), m['wall'], nproc), '{:.0f}'):>9}")
    lines.append("")
    lines.append("wall/nb: grader = median of result.json timings.total (one notebook, worker-side); "
                 "floor and otter =")
    lines.append("  median per run; nbgrader = batch wall / N. "
                 "CPU/nb: grader and nbgrader = batch CPU (all descendants) / N;")
    lines.append("  floor and otter = median per run. nb/s = N / batch wall (floor: N / sum of its runs).")
    lines.append("  others %: CPU used by processes outside the measured tree while it ran, as % of the machine's")
    lines.append("  capacity (nproc x wall), from /proc/stat. "
                 "Well above 0 means the figures of that row are disturbed.")
    lines.append("  cores: batch CPU / batch wall, how many cores the run kept busy on average. 'one core': the same")
    lines.append("  -j 1 run pinned to a single CPU (sched_setaffinity, inherited by workers and kernels).")
    if comp.get("note"):
        lines.append(f"  {comp['note']}")
    lines.append("")
    lines.append("ratios")
    for label, value in report["ratios"].items():
        lines.append(f"  {label:76} {_f(value)}")
    lines.append("")
    lines.append("grader stages, median seconds per notebook (result.json timings):")
    for key, g in report["grader"].items():
        st = g["stage_medians"]
        lines.append(f"  {key}: kernel_start {_f(st['kernel_start'])}, execute {_f(st['execute'])}, "
                     f"tests {_f(st['tests'])}, "
                     f"total {_f(st['total'])}")
    for key, fc in report.get("figures_cost", {}).items():
        lines.append("")
        lines.extend(render_figures_cost(key, fc, cfg["n"]))
    lines.append("")
    lines.append("CPU accounting (batch CPU s): the figure used / "
                 "rusage of waited-for descendants incl. reaped orphans / "
                 "wait4 of the command alone")
    rows = [(f"grader {k}", g["measurement"]) for k, g in report["grader"].items()]
    if fl:
        rows.append(("floor (sum)", {"cpu_source": fl["cpu_source"], "cpu": fl["cpu_total"],
                                     "cpu_rusage": fl["cpu_rusage_total"], "cpu_direct": fl["cpu_direct_total"]}))
    for name in ("nbgrader", "otter"):
        c = comp.get(name)
        if c and "measurement" in c:
            rows.append((name, c["measurement"]))
    for label, m in rows:
        lines.append(f"  {label:14} {m.get('cpu_source', '?'):18} {m['cpu']:9.2f} {m.get('cpu_rusage', 0):9.2f} "
                     f"{m.get('cpu_direct', 0):9.2f}")
    lines.append("")
    lines.append("sanity (not timed; the competitors run a subset of the checks, see _tools/checks.py):")
    for key, g in report["grader"].items():
        lines.append(f"  grader {key}: {g['results']}/{g['n']} result.json, statuses {g['statuses']}, mean score "
                     f"{_f(g['score_pct_mean'], '{:.1f}')} %, full marks {g['full_marks']}")
    if fl:
        lines.append(f"  floor: {fl['failed_cells_total']} failing cells in total (caught), "
                     f"problems: {fl['problems'] or 'none'}")
    for name in ("nbgrader", "otter"):
        c = comp.get(name)
        if c and "measurement" in c:
            lines.append(f"  {name}: graded {c['graded']}/{c['n']}, "
                         f"mean score {_f(c['score_pct_mean'], '{:.1f}')} % of "
                         f"{c['max_points']} points, full marks {c['full_marks']}")
    return "\n".join(lines)


def render_figures_cost(key: str, fc: dict[str, Any], n: int) -> list[str]:
    a, b = fc["a"], fc["b"]
    lines = [f"figures cost, grader {key}: (a) the rubric as is, (b) a copy without [report] (no figures, no plots); "
             f"{a['runs']} runs each, a b a b ..., the same {n} submissions"]
    for label, x in (("(a) with figures", a), ("(b) without", b)):
        lines.append(f"  {label:18} CPU/nb median {_f(x['cpu_per_notebook_median'], '{:.3f}')} s "
                     f"(runs {', '.join(_f(v, '{:.3f}') for v in x['cpu_per_notebook'])}); "
                     f"batch wall median {_f(x['wall_median'])} s "
                     f"(runs {', '.join(_f(v) for v in x['wall'])}); "
                     f"others % {', '.join(_f(v, '{:.0f}') for v in x['others_pct'])}")
    lines.append(f"  CPU per notebook (a)/(b): {_f(fc['cpu_ratio'], '{:.3f}')}; extra CPU per notebook "
                 f"{_f(fc['extra_cpu_per_notebook'], '{:.3f}')} s ({_f(fc['extra_cpu_pct'], '{:+.1f}')} %); "
                 f"by pair {', '.join(_f(v, '{:.3f}') for v in fc['cpu_ratios_by_pair'])}; "
                 f"batch wall (a)/(b) {_f(fc['wall_ratio'], '{:.3f}')}")
    lines.append(f"  timings.figures (collect, wall, in the grading process), median per notebook: "
                 f"(a) {_f(a['figures_s_median'], '{:.3f}')} s, (b) {_f(b['figures_s_median'], '{:.3f}')} s; "
                 f"timings.total median (a) {_f(a['total_s_median'])} s, (b) {_f(b['total_s_median'])} s")
    for label, x in (("(a)", a), ("(b)", b)):
        w = x["report_writing"]
        lines.append(f"  report writing {label}: write_both (report.html + feedback.html) in this process, median "
                     f"per result over {w['results']}: wall {_f(w.get('wall_ms_median'), '{:.1f}')} ms, "
                     f"CPU {_f(w.get('cpu_ms_median'), '{:.1f}')} ms; mean size report.html "
                     f"{_f(x['report_html_kb_mean'], '{:.1f}')} KB, feedback.html "
                     f"{_f(x['feedback_html_kb_mean'], '{:.1f}')} KB")
    lines.append(f"  check: results with figures (a) {a['with_figures']}/{a['results']}, "
                 f"(b) {b['with_figures']}/{b['results']}; scores and statuses of every run equal to run a1's: "
                 + ("yes" if not fc["problems"] else "NO: " + "; ".join(fc["problems"])))
    return lines


def ratios(report: dict[str, Any]) -> dict[str, float | None]:
    g = report["grader"]
    keys = sorted((k for k in g if not g[k].get("one_core")), key=lambda k: g[k]["jobs"])
    base = g[keys[0]] if keys else None
    out: dict[str, float | None] = {}
    if base is None:
        return out
    b = keys[0]
    for k in keys[1:]:
        out[f"grader throughput {k} / {b}"] = _ratio(g[k]["throughput"], base["throughput"])
    for one in (k for k in g if g[k].get("one_core")):
        for k in keys[1:]:
            out[f"grader throughput {k} / {one} (scaling from one core)"] = _ratio(
                g[k]["throughput"], g[one]["throughput"])
    fl = report.get("floor")
    if fl:
        out[f"grader/floor CPU per notebook ({b}: batch CPU / N vs floor median)"] = _ratio(
            base["cpu_per_notebook"], fl["cpu_median"])
        out[f"grader/floor CPU per notebook ({b}: batch CPU / N vs floor mean)"] = _ratio(
            base["cpu_per_notebook"], fl["cpu_mean"])
        out[f"grader/floor wall per notebook ({b}: median timings.total vs floor median)"] = _ratio(
            base["wall_per_notebook_median"], fl["wall_median"])
        out[f"grader/floor wall per notebook ({b}: batch wall / N vs floor median)"] = _ratio(
            base["wall_per_notebook_batch"], fl["wall_median"])
    comp = report.get("competitors", {})
    for name in ("nbgrader", "otter"):
        c = comp.get(name)
        if not c or "throughput" not in c:
            continue
        for k in keys:
            out[f"grader {k} / {name} throughput (notebooks/s)"] = _ratio(g[k]["throughput"], c["throughput"])
        out[f"{name}/grader CPU per notebook ({b}; batch CPU / N for both)"] = _ratio(
            c["cpu_per_notebook"], base["cpu_per_notebook"])
    return out


# -- main ------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=None, help="number of submissions (default 40; 6 with --quick)")
    ap.add_argument("--jobs", default="1,2", help="grader worker counts to measure, comma separated (default 1,2)")
    ap.add_argument("--sandbox", choices=["auto", "bwrap", "rlimits"], default="auto")
    ap.add_argument("--skip-competitors", action="store_true", help="do not run nbgrader and otter-grader")
    ap.add_argument("--competitor-python", metavar="PATH",
                    help="interpreter that has nbgrader and otter-grader (e.g. a separate virtualenv's python)")
    ap.add_argument("--quick", action="store_true", help="smoke test: N=6, no competitors")
    ap.add_argument("--one-core", action="store_true",
                    help="also run -j 1 pinned to one CPU: "
                         "the single-core baseline that -j N's scaling is measured against")
    ap.add_argument("--repeat", type=int, default=None, metavar="R",
                    help="run each grader configuration R times, interleaved, "
                         "and report the run with the median wall time (default 1; 3 with --figures-cost)")
    ap.add_argument("--figures-cost", action="store_true",
                    help="also grade with a copy of the rubric without [report] (no figures, no plots), "
                         "alternating with the rubric as is, and print what the figures cost")
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up (one grading, one floor run)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR (created, must be empty) and keep everything")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write all figures as JSON")
    args = ap.parse_args(argv)
    if args.n is None:
        args.n = 6 if args.quick else 40
    if args.repeat is None:
        args.repeat = 3 if args.figures_cost else 1
    if args.quick:
        args.skip_competitors = True
    try:
        args.jobs = sorted({int(x) for x in args.jobs.split(",") if x.strip()})
    except ValueError:
        ap.error("--jobs takes numbers separated by commas, e.g. 1,2")
    if not args.jobs or min(args.jobs) < 1 or args.n < 1:
        ap.error("--jobs values and --n must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not measure.become_subreaper():
        _log("warning: could not become a child subreaper; CPU of orphaned descendants may be missed")
    if args.keep:
        work = args.keep.resolve()
        if work.exists() and any(work.iterdir()):
            raise SystemExit(f"--keep {work}: the folder is not empty")
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    logs = work / "logs"
    logs.mkdir()
    iris = _iris()
    try:
        subs_dir = work / "submissions"
        subs = submissions.make_submissions(FIXTURES, subs_dir, args.n)
        report: dict[str, Any] = {
            "machine": machine_info(),
            "config": {"n": args.n, "jobs": args.jobs, "sandbox": args.sandbox, "assignment": ASSIGNMENT,
                       "distinct_fixtures": len({s["fixture"] for s in subs}),
                       "fixtures": [s["fixture"] for s in subs], "workdir": str(work) if args.keep else None},
            "grader": {}, "floor": None, "competitors": {}, "ratios": {},
        }
        nofig = rubric_without_figures(work) if args.figures_cost else None
        floor_runs = submissions.prepare_floor(subs, work / "floor", iris)
        if not args.no_warmup:
            _log("warm-up (untimed): grading one submission, one floor run")
            warm = work / "warmup"
            warm.mkdir()
            shutil.copytree(subs[0]["path"].parent, warm / "subs" / subs[0]["student"])
            run_grader(warm / "subs", warm / "out", 1, args.sandbox, 1, logs)
            measure.run_measured([sys.executable, "run.py"], cwd=floor_runs[0]["dir"], env=_student_env(), timeout=120)
        configs = [(f"-j{k}", k, False) for k in args.jobs] + ([("-j1 one core", 1, True)] if args.one_core else [])
        runs: dict[str, list[dict[str, Any]]] = {key: [] for key, _, _ in configs}
        paired: dict[str, tuple[list[Any], list[Any]]] = {}  # --figures-cost: key -> (a runs, b runs)
        for r in range(max(1, args.repeat)):
            for key, k, one in configs:
                which = f" (run {r + 1} of {args.repeat})" if args.repeat > 1 else ""
                _log(f"grader {key} over {args.n} submissions{which}")
                tag = key.replace(" ", "-") + (f"-r{r + 1}" if args.repeat > 1 else "")
                runs[key].append(
                    run_grader(subs_dir, work / f"grader{tag}", k, args.sandbox, args.n, logs, one_core=one))
                if nofig is not None and not one:
                    _log(f"grader {key} over {args.n} submissions, rubric without [report]{which}")
                    out = work / f"grader{tag}-nofig"
                    a_runs, b_runs = paired.setdefault(key, ([], []))
                    a_runs.append((runs[key][-1], work / f"grader{tag}"))
                    b_runs.append((run_grader(subs_dir, out, k, args.sandbox, args.n, logs, rubric=nofig), out))
        if paired:
            _log("figures cost: comparing the results, timing write_both in this process")
            report["figures_cost"] = {key: figures_cost(a_runs, b_runs, work)
                                      for key, (a_runs, b_runs) in paired.items()}
        for key, rs in runs.items():
            walls = [x["measurement"]["wall"] for x in rs]
            chosen = sorted(rs, key=lambda x: x["measurement"]["wall"])[len(rs) // 2]
            chosen["walls"] = walls
            report["grader"][key] = chosen
        _log(f"floor: {args.n} plain python runs")
        report["floor"] = run_floor(floor_runs, args.n)
        comp = report["competitors"]
        if args.skip_competitors:
            comp["nbgrader"] = comp["otter"] = {"skipped": "--quick" if args.quick else "--skip-competitors"}
        else:
            comp["note"] = ("nbgrader and otter run unsandboxed, one notebook at a time; "
                            "otter's copies name the python3 "
                            "kernel (nbgrader resets the kernelspec itself)")
            for name, module, script in (("nbgrader", "nbgrader", "nbgrader"), ("otter", "otter", "otter")):
                py, found_by = find_competitor_python(args.competitor_python, module, script)
                if py is None:
                    comp[name] = {"skipped": f"{module} is not installed (pip install '.[bench]' in a separate "
                                             "virtualenv and pass --competitor-python)"}
                    _log(f"skipping {name}: {comp[name]['skipped']}")
                    continue
                version, why = competitor_version(py, module)
                if version is None:
                    comp[name] = {"skipped": why}
                    _log(f"skipping {name}: {why}")
                    continue
                comp["python"], comp["found_by"] = py, found_by
                comp[f"{name}_version"] = version
                runner = run_nbgrader if name == "nbgrader" else run_otter
                cwork = work / name
                cwork.mkdir()
                try:
                    comp[name] = runner(py, cwork, subs, iris, args.n)
                except Exception as exc:  # noqa: BLE001 - a competitor failing must not lose the rest
                    comp[name] = {"error": f"{type(exc).__name__}: {exc}"}
                if "error" in comp[name]:
                    _log(f"{name}: {comp[name]['error']}")
        report["ratios"] = ratios(report)
        text = render(report)
        print(text)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({**report, "table": text}, indent=1, default=str) + "\n", encoding="utf-8")
        if args.keep:
            print(f"\nkept: {work}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
