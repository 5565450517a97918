"""Run a command and measure its wall time and the CPU time of it and all its descendants.

Two accountings are taken for every command, and the first available is *the* CPU figure:

``cgroup``  The command starts inside a fresh cgroup of its own (cgroup v2 ``cpu.stat``, or
            the v1 ``cpuacct`` controller), which every descendant inherits: its usage is the
            CPU time of the whole tree, however its processes ended and whoever reaped them.
            The cgroup is removed afterwards.
``rusage``  ``os.wait4`` on the command gives the rusage of the command plus every descendant
            that was waited for inside its tree. A descendant whose parent exits without
            waiting for it (the multiprocessing forkserver behind the grader's worker pool:
            nobody waits for it, and it is the one that waits for the workers) would be
            reparented to init and its CPU time lost, so the benchmark makes itself a *child
            subreaper* (``PR_SET_CHILD_SUBREAPER``) and reaps such orphans too; the figure is
            the increase of ``getrusage(RUSAGE_CHILDREN)`` over the run.

Why not rusage alone: it still misses CPU time spent inside a PID namespace whose init is
killed. The grader shuts a kernel down by killing the outer ``bwrap`` process; bwrap's
``--die-with-parent`` then kills the namespace's init, and the kernel's CPU time never reaches
any waiter's rusage (measured here: a process that burned 1 s inside ``bwrap --unshare-pid``
shows 1.0 s when it is killed itself, 0.0 s when the outer bwrap is killed). Both figures are
kept (``cpu_rusage``, ``cpu_cgroup``) so that the gap stays visible.

Wall time stops when the command itself exits (what a user waits for). Only one measured
command may run at a time (the orphan reaping waits for *any* child).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
_CG_SEQ = [0]


class CpuCgroup:
    """A cgroup of our own whose CPU usage we read; None-safe: ``create()`` may return None."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version

    @property
    def kind(self) -> str:
        return f"cgroup v{self.version}" + ("" if self.version == 2 else " cpuacct")

    @staticmethod
    def _mounts() -> list[tuple[str, str, str]]:
        """(mount point, fstype, super options) of the cgroup file systems."""
        out = []
        try:
            for line in Path("/proc/self/mountinfo").read_text().splitlines():
                left, _, right = line.partition(" - ")
                fields, rfields = left.split(), right.split()
                if len(fields) >= 5 and len(rfields) >= 3 and rfields[0] in ("cgroup", "cgroup2"):
                    out.append((fields[4], rfields[0], rfields[2]))
        except OSError:
            pass
        return out

    @staticmethod
    def _own_paths() -> dict[str, str]:
        """controller list ('' for v2) -> this process's cgroup path."""
        out = {}
        try:
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                _id, ctrls, path = line.split(":", 2)
                out[ctrls] = path
        except (OSError, ValueError):
            pass
        return out

    @classmethod
    def create(cls) -> CpuCgroup | None:
        own = cls._own_paths()
        candidates: list[tuple[Path, int]] = []
        for mnt, fstype, _opts in cls._mounts():
            if fstype == "cgroup2" and "" in own:
                candidates.append((Path(mnt + own[""].rstrip("/")), 2))
        for mnt, fstype, opts in cls._mounts():
            if fstype == "cgroup" and "cpuacct" in opts.split(","):
                path = next((p for c, p in own.items() if "cpuacct" in c.split(",")), None)
                if path is not None:
                    candidates.append((Path(mnt + path.rstrip("/")), 1))
        for base, version in candidates:
            _CG_SEQ[0] += 1
            path = base / f"grader-bench-{os.getpid()}-{_CG_SEQ[0]}"
            try:
                path.mkdir()
            except OSError:
                continue
            cg = cls(path, version)
            if cg.read() is not None:
                return cg
            cg.remove()
        return None

    def join_self(self) -> None:
        """Move the calling process into the cgroup (used as the child's preexec_fn)."""
        with open(self.path / "cgroup.procs", "w") as fh:
            fh.write(str(os.getpid()))

    def read(self) -> tuple[float, float, float] | None:
        """(user, system, total) seconds used by the cgroup so far."""
        try:
            if self.version == 2:
                stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines() if line.strip())
                return int(stat["user_usec"]) / 1e6, int(stat["system_usec"]) / 1e6, int(stat["usage_usec"]) / 1e6
            total = int((self.path / "cpuacct.usage").read_text()) / 1e9
            ticks = dict(line.split() for line in (self.path / "cpuacct.stat").read_text().splitlines() if line.strip())
            hz = os.sysconf("SC_CLK_TCK")
            return int(ticks["user"]) / hz, int(ticks["system"]) / hz, total
        except (OSError, KeyError, ValueError):
            return None

    def pids(self) -> list[int]:
        try:
            return [int(x) for x in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def remove(self) -> list[int]:
        """Remove the cgroup; processes of the measured tree still in it are killed (by pid) first."""
        killed: list[int] = []
        for attempt in range(50):
            try:
                self.path.rmdir()
                return killed
            except FileNotFoundError:
                return killed
            except OSError:
                if attempt == 10:
                    for pid in self.pids():
                        try:
                            os.kill(pid, signal.SIGKILL)
                            killed.append(pid)
                        except ProcessLookupError:
                            pass
                    _reap_orphans(1.0)
                time.sleep(0.1)  # zombies still being released
        return killed


def become_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants; True when it worked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


@dataclass
class Measurement:
    argv: list[str]
    wall: float = 0.0            # seconds, start to the command's exit
    cpu: float = 0.0             # user + system seconds of the command and all descendants
    cpu_user: float = 0.0
    cpu_sys: float = 0.0
    cpu_source: str = ""         # "cgroup v2", "cgroup v1 cpuacct" or "rusage"
    cpu_cgroup: float | None = None  # the cgroup's figure (None when no cgroup could be made)
    cpu_rusage: float = 0.0      # RUSAGE_CHILDREN increase, orphans included
    cpu_direct: float = 0.0      # what os.wait4 on the command alone reported
    foreign_cpu: float | None = None  # CPU the rest of the machine used meanwhile (other sessions' load)
    returncode: int | None = None
    timed_out: bool = False
    orphans: int = 0             # descendants reaped after the command exited
    leftovers: list[int] = field(default_factory=list)  # pids still alive after the grace period, killed
    maxrss_kb: int = 0

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items() if k != "argv"}


def _children_of_me() -> list[int]:
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the comm field may contain spaces and parentheses: split after the last ')'
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(entry.name))
    return found


def _reap_orphans(grace: float) -> tuple[int, list[int]]:
    """Reap every remaining child; kill (by pid) any still alive after ``grace`` seconds."""
    reaped = 0
    killed: list[int] = []
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _status, _ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped, killed
        if pid:
            reaped += 1
            continue
        if time.monotonic() > deadline and not killed:
            killed = _children_of_me()
            for p in killed:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p, signal.SIGKILL)
            deadline = time.monotonic() + grace
        elif time.monotonic() > deadline:
            return reaped, killed
        time.sleep(0.02)


def machine_busy() -> float | None:
    """CPU seconds the whole machine has spent busy (all cores, every process), from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = ([int(x) for x in fields[1:9]] + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _cpu(ru: resource.struct_rusage) -> tuple[float, float]:
    return ru.ru_utime, ru.ru_stime


def run_measured(
    argv: list[str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 3600.0,
    stdout: Path | None = None,
    grace: float = 15.0,
    use_cgroup: bool = True,
) -> Measurement:
    """Run ``argv`` to completion (killed after ``timeout``) and measure it; never raises for its failure."""
    m = Measurement(list(argv))
    # nothing else of ours may be running: reap leftovers of earlier runs first
    _reap_orphans(0.0)
    cg = CpuCgroup.create() if use_cgroup else None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = machine_busy()
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115 - closed below
    try:
        t0 = time.perf_counter()
        # preexec_fn: the child joins the cgroup before exec, so nothing it starts escapes it;
        # no other thread of ours is running at that point
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,  # noqa: S603 - the command being measured, as the benchmark's caller wrote it
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=cg.join_self if cg else None)  # noqa: PLW1509 - no other thread then

        def _kill() -> None:
            m.timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, _kill)
        timer.daemon = True
        timer.start()
        try:
            _pid, status, ru = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        m.wall = time.perf_counter() - t0
        busy1 = machine_busy()
        proc.returncode = m.returncode = os.waitstatus_to_exitcode(status)
        m.cpu_direct = sum(_cpu(ru))
        m.maxrss_kb = ru.ru_maxrss
        m.orphans, m.leftovers = _reap_orphans(grace)
    finally:
        if stdout:
            out.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r_user, r_sys = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    m.cpu_rusage = r_user + r_sys
    got = cg.read() if cg else None
    if cg:
        m.leftovers += cg.remove()
    if got is not None:
        m.cpu_user, m.cpu_sys, m.cpu_cgroup = got
        m.cpu, m.cpu_source = m.cpu_cgroup, cg.kind
    else:
        m.cpu_user, m.cpu_sys, m.cpu, m.cpu_source = r_user, r_sys, m.cpu_rusage, "rusage"
    if busy0 is not None and busy1 is not None:
        # the measured tree's CPU after the command exited (orphans) is small: the difference is
        # what other processes on the machine used while the command ran
        m.foreign_cpu = max(0.0, (busy1 - busy0) - m.cpu)
    return m
