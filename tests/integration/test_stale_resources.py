"""Grading processes stopped from outside leave nothing in the temp root: a batch sent SIGTERM
(alone or with its whole process group), a Dask worker sent SIGTERM; and what one killed with
SIGKILL leaves, the next worker's ``sweep_stale`` removes. Each run has its own TMPDIR, so a
grading run on the same machine is never touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from grader import cleanup

pytestmark = pytest.mark.kernel
REPO = Path(__file__).resolve().parents[2]
WEEK3 = REPO / "tests" / "fixtures" / "notebooks" / "week3"
NOTEBOOKS = ["passes_all", "backprop_x_first", "backprop_flat_only", "syntax_error_one_cell", "colab_kernelspec"]


def _ours(tmp: Path) -> list[str]:
    return sorted(n for n in os.listdir(tmp) if n.startswith(("grader-", "pymp-")))


def _mounts(tmp: Path) -> list[str]:
    return [m for m in cleanup._mount_points() if m.startswith(str(tmp) + "/")]


def _until(check: Callable[[], object], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    root = tmp_path / "tmp"
    root.mkdir()
    return Path(os.path.realpath(root))


@pytest.fixture
def subs(tmp_path: Path) -> Path:
    d = tmp_path / "subs"
    d.mkdir()
    for name in NOTEBOOKS:
        (d / f"{name}.ipynb").write_bytes((WEEK3 / f"{name}.ipynb").read_bytes())
    return d


def _batch(subs: Path, tmp: Path, out: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "grader", "grade", str(subs), "--assignment", "week3_nn_basic",
            "--out", str(out), "-j", "2"]
    return subprocess.Popen(argv, cwd=REPO, env={**os.environ, "TMPDIR": str(tmp)}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _grading(tmp: Path) -> bool:
    # workers have made their folders and at least one kernel's scratch folder exists
    names = _ours(tmp)
    return any(n.startswith("grader-ref-") for n in names) and any(n.count("-") == 1 for n in names)


@pytest.mark.parametrize("whom", ["batch", "group"])
def test_a_batch_stopped_with_sigterm_leaves_nothing(subs: Path, tmp: Path, tmp_path: Path, whom: str) -> None:
    proc = _batch(subs, tmp, tmp_path / "out")
    try:
        if not _until(lambda: _grading(tmp) or proc.poll() is not None, 120) or proc.poll() is not None:
            pytest.skip("the batch ended before it could be stopped")  # a very fast machine
        if whom == "group":
            os.killpg(proc.pid, signal.SIGTERM)  # what a terminal's or a service manager's stop does
        else:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == -signal.SIGTERM
        assert _until(lambda: not _ours(tmp) and not _mounts(tmp), 30), (_ours(tmp), _mounts(tmp))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_what_a_killed_batch_leaves_the_next_sweep_removes(subs: Path, tmp: Path, tmp_path: Path) -> None:
    proc = _batch(subs, tmp, tmp_path / "out")
    try:
        if not _until(lambda: _grading(tmp) or proc.poll() is not None, 120) or proc.poll() is not None:
            pytest.skip("the batch ended before it could be killed")
        os.killpg(proc.pid, signal.SIGKILL)  # nothing can clean up
        proc.wait(timeout=60)
        assert any(n.startswith("grader-") for n in _ours(tmp))

        def swept() -> bool:  # the workers die a moment after the batch (their parent-death signal)
            cleanup.sweep_stale(tmp)
            return not [n for n in _ours(tmp) if n.startswith("grader-")] and not _mounts(tmp)

        assert _until(swept, 30), (_ours(tmp), _mounts(tmp))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


_DASK = r"""
import os, signal, subprocess, sys, time
from distributed import Client, LocalCluster

if __name__ == "__main__":
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    (pid,) = client.run(os.getpid).values()
    rc = subprocess.run([sys.executable, "-m", "grader", "grade", sys.argv[1], "--assignment", "week3_nn_basic",
                         "--out", sys.argv[2], "--dask", cluster.scheduler_address],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    made = sorted(n for n in os.listdir(os.environ["TMPDIR"]) if n.startswith("grader-"))
    print(rc, " ".join(made), flush=True)
    os.kill(pid, signal.SIGTERM)  # the nanny restarts it; what it made must be gone
    time.sleep(10)
    client.close()
    cluster.close()
"""


def test_a_dask_worker_stopped_with_sigterm_leaves_nothing(subs: Path, tmp: Path, tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    one = tmp_path / "one"
    one.mkdir()
    (one / "passes_all.ipynb").write_bytes((subs / "passes_all.ipynb").read_bytes())
    run = subprocess.run([sys.executable, "-c", _DASK, str(one), str(tmp_path / "out")], cwd=REPO,
                         env={**os.environ, "TMPDIR": str(tmp)}, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    rc, *made = run.stdout.split()
    assert rc == "0" and any(n.startswith("grader-rubric-") for n in made) and any(
        n.startswith("grader-ref-") for n in made), run.stdout
    assert [n for n in _ours(tmp) if n.startswith("grader-")] == []
