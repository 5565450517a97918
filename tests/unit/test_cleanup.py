"""What a grading process leaves in the temp root: nothing when it ends or gets SIGTERM, and
nothing ``sweep_stale`` cannot remove once it was killed outright. Every test uses a private
temp root, so a grading run on the same machine is never touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import cleanup

root_only = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/proc/self/mountinfo"),
                               reason="needs root on Linux")

# A grading process in miniature: the folders a worker makes (the reference's, the rubric
# bundle's, the zygote's are named by their owner; a kernel's scratch folder, named by the
# session, says its owner in a file), optionally a size-capped tmpfs on the scratch folder.
_WORKER = r"""
import json, shutil, sys, tempfile, time
from pathlib import Path
from grader import cleanup
made = [str(cleanup.private_dir("ref")), str(cleanup.private_dir("rubric"))]
zygote = tempfile.mkdtemp(prefix=cleanup.temp_prefix("zygote"))
cleanup.at_exit(shutil.rmtree, zygote, True, order=cleanup.ZYGOTE)
scratch = Path(tempfile.mkdtemp(prefix="grader-"))
cleanup.at_exit(shutil.rmtree, str(scratch), True, order=cleanup.FOLDER)
if sys.argv[1] == "mount":
    from grader.config import Limits
    from grader.sandbox import launch
    ln = launch.Launch(scratch, Limits(max_disk_mb=4), "forkserver", None)
    ln.prepare()
    assert ln.mounted
    cleanup.at_exit(launch.release, ln, order=cleanup.KERNEL)
else:
    cleanup.write_owner(scratch)
print(json.dumps(made + [zygote, str(scratch)]), flush=True)
time.sleep(600)
"""


def _start(tmp: Path, mode: str = "plain") -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen([sys.executable, "-c", _WORKER, mode], env={**os.environ, "TMPDIR": str(tmp)},
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        pytest.fail(f"the worker did not start (exit {proc.returncode})")
    return proc, json.loads(line)


def _mounted_under(root: Path) -> list[str]:
    return [m for m in cleanup._mount_points() if m.startswith(str(root) + "/")]


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    root = tmp_path / "tmp"
    root.mkdir()
    return Path(os.path.realpath(root))


def test_a_folder_names_its_owner_and_the_owner_is_known_to_run() -> None:
    tag = cleanup.owner_tag()
    pid, start = (int(x) for x in tag.split("."))
    assert pid == os.getpid() and start > 0
    assert cleanup.running(pid, start)
    assert not cleanup.running(pid, start + 1)  # the same pid, another process: a recycled pid
    assert cleanup.temp_prefix("ref") == f"grader-ref-{tag}-"
    with pytest.raises(ValueError):
        cleanup.temp_prefix("../x")


def test_a_dead_or_zombie_owner_does_not_run() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    tag = cleanup.owner_tag(proc.pid)
    pid, start = (int(x) for x in tag.split("."))
    deadline = time.monotonic() + 60
    while cleanup.running(pid, start) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not cleanup.running(pid, start)  # exited, not yet reaped: a zombie cleans nothing up
    proc.wait()
    assert not cleanup.running(pid, start)


@pytest.mark.parametrize("mode", ["plain", pytest.param("mount", marks=root_only)])
def test_sweep_removes_what_a_killed_worker_left_and_keeps_a_living_ones(tmp: Path, mode: str) -> None:
    killed, left = _start(tmp, mode)
    living, kept = _start(tmp, mode)
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert all(os.path.isdir(p) for p in left)  # SIGKILL: nothing could clean up
        if mode == "mount":
            assert left[-1] in _mounted_under(tmp) and kept[-1] in _mounted_under(tmp)
        # not ours to judge: a symbolic link named like a stale folder, pointing out of the root
        outside = tmp.parent / "outside"
        outside.mkdir()
        (outside / "precious").write_text("keep")
        dead_tag = Path(left[0]).name.split("-")[2]
        (tmp / f"grader-ref-{dead_tag}-link").symlink_to(outside)
        (tmp / "grader-unknown").mkdir()  # no owner known: left alone

        removed = cleanup.sweep_stale(tmp)

        assert sorted(removed) == sorted(left)
        assert not any(os.path.lexists(p) for p in left)
        assert all(os.path.isdir(p) for p in kept)
        assert (outside / "precious").read_text() == "keep"
        assert (tmp / f"grader-ref-{dead_tag}-link").is_symlink() and (tmp / "grader-unknown").is_dir()
        assert _mounted_under(tmp) == ([kept[-1]] if mode == "mount" else [])
        assert cleanup.sweep_stale(tmp) == []
    finally:
        living.send_signal(signal.SIGTERM)
        living.wait(timeout=60)
    assert not any(os.path.lexists(p) for p in kept)


@pytest.mark.parametrize("mode", ["plain", pytest.param("mount", marks=root_only)])
def test_a_worker_stopped_with_sigterm_leaves_nothing(tmp: Path, mode: str) -> None:
    proc, made = _start(tmp, mode)
    assert all(os.path.isdir(p) for p in made)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == -signal.SIGTERM  # it still ends as SIGTERM ends a process
    assert sorted(os.listdir(tmp)) == []
    assert _mounted_under(tmp) == []


_BATCH = r"""
import ctypes, json, multiprocessing, signal, time
from grader import cleanup

def work(q):
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: as a batch's pool workers
    q.put(str(cleanup.private_dir("ref")))
    time.sleep(600)

ctx = multiprocessing.get_context("fork")
q = ctx.Queue()
workers = [ctx.Process(target=work, args=(q,)) for _ in range(2)]
for w in workers:
    w.start()
made = [str(cleanup.private_dir("zygote"))] + [q.get(timeout=60) for _ in workers]
print(json.dumps([w.pid for w in workers] + made), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_batch_stopped_with_sigterm_lets_its_workers_clean_up_first(tmp: Path) -> None:
    # only the batch gets the signal; its workers would die with it, killed, if it did not wait
    proc = subprocess.Popen([sys.executable, "-c", _BATCH], env={**os.environ, "TMPDIR": str(tmp)},
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    pids, made = (lambda got: (got[:2], got[2:]))(json.loads(proc.stdout.readline()))
    assert len(made) == 3 and all(os.path.isdir(p) for p in made)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == -signal.SIGTERM
    deadline = time.monotonic() + 30
    while any(os.path.exists(f"/proc/{pid}") for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.listdir(tmp) == []


def test_a_worker_that_ends_normally_leaves_nothing(tmp: Path) -> None:
    code = _WORKER.replace("time.sleep(600)", "")
    proc = subprocess.run([sys.executable, "-c", code, "plain"], env={**os.environ, "TMPDIR": str(tmp)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 4
    assert os.listdir(tmp) == []


def test_sigterm_handler_is_only_installed_over_the_default_action() -> None:
    code = (
        "import signal, sys\n"
        "from grader import cleanup\n"
        "own = lambda *a: sys.exit(3)\n"
        "signal.signal(signal.SIGTERM, own)\n"
        "assert not cleanup.on_terminate() and signal.getsignal(signal.SIGTERM) is own\n"
        "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
        "import threading\n"
        "t = threading.Thread(target=lambda: print(cleanup.on_terminate()))\n"
        "t.start(); t.join()\n"  # not from another thread
        "assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL\n"
        "assert cleanup.on_terminate() and signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_sweep_of_a_missing_root_removes_nothing(tmp_path: Path) -> None:
    assert cleanup.sweep_stale(tmp_path / "nowhere") == []
