"""Sandbox plumbing that needs no kernel: killing a kernel's uid, the scratch tmpfs."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from grader.config import Limits
from grader.sandbox import launch

root_only = pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/proc/mounts"), reason="needs root on Linux")


def _sleepers(uid: int, n: int) -> list[subprocess.Popen]:
    procs = [subprocess.Popen(["sleep", "60"], user=uid, group=uid) for _ in range(n)]
    time.sleep(0.1)
    return procs


@root_only
@pytest.mark.parametrize("setpriv", [True, False], ids=["setpriv", "fork"])
def test_kill_uid_kills_every_process_of_that_uid_and_no_other(monkeypatch, setpriv):
    if setpriv and not launch._SETPRIV:
        pytest.skip("no setpriv on this machine")
    if not setpriv:
        monkeypatch.setattr(launch, "_SETPRIV", None)
    target, bystander = 100_000_991, 100_000_992
    victims, others = _sleepers(target, 3), _sleepers(bystander, 1)
    try:
        launch.kill_uid(target)
        for p in victims:
            assert p.wait(timeout=5) == -9
        assert others[0].poll() is None
    finally:
        for p in victims + others:
            p.kill()
            p.wait()


@root_only
def test_scratch_is_a_size_capped_tmpfs_released_at_the_end(tmp_path):
    root = tmp_path / "scratch"
    root.mkdir()
    ln = launch.Launch(root, Limits(max_disk_mb=3), "forkserver", None)
    ln.prepare()
    try:
        assert ln.mounted
        line = next(m for m in Path("/proc/mounts").read_text().splitlines() if m.split()[1] == str(root))
        assert line.split()[2] == "tmpfs" and "size=3072k" in line and "nosuid" in line and "nodev" in line
        with pytest.raises(OSError):
            (ln.work / "big").write_bytes(b"x" * 4 * 2**20)
    finally:
        launch.release(ln)
    assert str(root) not in Path("/proc/mounts").read_text()
    assert not ln.mounted


def test_a_worker_waits_for_the_batch_zygote_to_accept(tmp_path):
    import threading

    from grader.sandbox import forkserver

    path = tmp_path / "z.sock"
    threading.Timer(0.3, path.write_text, args=("",)).start()  # the zygote renames its socket into place
    assert forkserver._wait_for(str(path), str(os.getpid()), timeout=60)


def test_a_worker_stops_waiting_when_the_batch_zygote_died(tmp_path):
    from grader.sandbox import forkserver

    dead = subprocess.Popen(["true"])
    while forkserver._alive(dead.pid):  # exited, not yet reaped: a zombie counts as dead
        time.sleep(0.01)
    t0 = time.monotonic()
    assert not forkserver._wait_for(str(tmp_path / "never.sock"), str(dead.pid), timeout=60)
    assert time.monotonic() - t0 < 30  # it noticed the death instead of waiting out the timeout
    dead.wait()
