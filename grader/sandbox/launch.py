"""How a student's kernel is started: limits, isolation, identity, environment.

Mechanisms, strongest first:

``bwrap``  bubblewrap with new PID, network, IPC and UTS namespaces; a read-only view of
           the system (/usr, /etc, the Python installation); a tmpfs /tmp; one writable
           scratch folder; nothing else of the host (no repo, rubrics, solutions, output).
``rlimits`` no namespaces; only resource limits, a minimal environment and (as root) an
           unprivileged uid. Used where bubblewrap is missing or cannot create namespaces.

In both, a Python preamble runs before ipykernel: it sets resource limits (address space,
CPU seconds, processes, file size, open files, no core dumps), replaces the environment
with an allow-list, and, when the grader runs as root, drops to a uid of its own so that the
process limit counts only this kernel's processes and cleanup can kill exactly them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path

from grader.cleanup import libc, unmount, write_owner
from grader.config import Limits

__all__ = ["Launch", "detect_mechanism", "kill_uid", "release"]

_PREAMBLE = r"""
import json, os, resource, runpy, sys
cfg = json.loads(sys.argv[1])
for name, value in cfg["rlimits"].items():
    resource.setrlimit(getattr(resource, name), (value, value))
os.environ.clear()
os.environ.update(cfg["env"])
if cfg["uid"] is not None:
    os.setgroups([])
    os.setgid(cfg["uid"])
    os.setuid(cfg["uid"])
os.chdir(cfg["cwd"])
sys.argv = ["ipykernel_launcher", "-f", sys.argv[2], "--HistoryManager.enabled=False", "--Application.log_level=40"]
runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
"""

_detected: tuple[str, str] | None = None
_detect_lock = threading.Lock()


def _ns_flags() -> list[str]:
    flags = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() != 0:
        flags.append("--unshare-user")
    return flags + ["--die-with-parent", "--new-session"]


def detect_mechanism(preferred: str = "auto") -> tuple[str, str]:
    """Return ``(mechanism, note)``; ``note`` explains a fallback in one sentence.

    auto: warm kernels from a fork server when running as root (same namespaces as
    bubblewrap, without a cold start), else bubblewrap, else resource limits only."""
    global _detected
    if preferred == "rlimits":
        return "rlimits", "sandbox disabled on request (--sandbox rlimits)"
    if preferred in ("auto", "forkserver"):
        from grader.sandbox import forkserver

        if forkserver.usable():
            return "forkserver", ""
        if preferred == "forkserver":
            from grader.errors import SandboxError

            raise SandboxError("--sandbox forkserver needs root and Linux namespaces; use --sandbox bwrap")
    with _detect_lock:
        if _detected is None:
            bwrap = shutil.which("bwrap")
            if not bwrap:
                _detected = ("rlimits", "bubblewrap (bwrap) is not installed: no namespace isolation; "
                             "install the 'bubblewrap' package")
            else:
                probe = [bwrap, *_ns_flags(), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
                try:
                    res = subprocess.run(probe, capture_output=True, timeout=20, check=False)  # noqa: S603 - bwrap found on PATH, fixed arguments
                    ok, err = res.returncode == 0, res.stderr.decode(errors="replace").strip()
                except (OSError, subprocess.TimeoutExpired) as exc:
                    ok, err = False, str(exc)
                _detected = ("bwrap", "") if ok else (
                    "rlimits", f"bubblewrap cannot create namespaces here ({err[:200]}): no namespace isolation")
    if preferred == "bwrap" and _detected[0] != "bwrap":
        from grader.errors import SandboxError

        raise SandboxError(f"--sandbox bwrap was asked for but {_detected[1]}")
    return _detected


def _python_roots() -> list[str]:
    """Folders the kernel's Python needs: installation prefixes and site-packages, nothing else."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            roots.add(sysconfig.get_paths()[key])
    try:
        import site

        user = site.getusersitepackages()
        if isinstance(user, str):
            roots.add(user)
    except Exception:  # noqa: S110 - site without user packages: there are none to show the kernel  # pragma: no cover
        pass
    found = {r for r in roots if r and os.path.isdir(r)}
    real = sorted({os.path.realpath(r) for r in found} | found)
    # keep only outermost folders
    out: list[str] = []
    for r in real:
        if not any(r == o or r.startswith(o.rstrip("/") + "/") for o in out):
            out.append(r)
    return out


def _world_readable(path: str) -> bool:
    """Can any user reach ``path`` (execute bit for others on every folder above it)?"""
    p = os.path.abspath(path)
    while True:
        try:
            if not os.stat(p).st_mode & 0o001:
                return False
        except OSError:
            return False
        if p == "/":
            return True
        p = os.path.dirname(p)


def _parent_dirs(path: str) -> list[str]:
    """bwrap arguments creating the folders above ``path`` (traversable by the kernel's uid),
    outermost first; /tmp is the sandbox's own tmpfs already and keeps its 1777."""
    parents = []
    p = os.path.dirname(path)
    while p not in ("/", ""):
        if p != "/tmp":  # noqa: S108 - the sandbox's /tmp, not the host's
            parents.append(p)
        p = os.path.dirname(p)
    return [arg for parent in reversed(parents) for arg in ("--perms", "0755", "--dir", parent)]


def kernel_uid(mechanism: str = "bwrap") -> int | None:
    """A uid for this worker's kernel when running as root (unique among live workers).

    bubblewrap re-mounts the Python installation where any uid can read it; without it the
    kernel can only drop root when the installation is world-readable (not under /root)."""
    if os.geteuid() != 0:
        return None
    if mechanism not in ("bwrap", "forkserver") and not all(_world_readable(r) for r in _python_roots()):
        return None
    global _uid_counter
    _uid_counter += 1
    # unique among live kernels: a worker has at most two (the current one and its spare)
    return UID_BASE + os.getpid() * 4 + _uid_counter % 4


UID_BASE = 100_000_000
_uid_counter = 0


def uids_of(pid: int) -> set[int]:
    """Every uid a grading process ``pid`` may give its kernels."""
    return {UID_BASE + pid * 4 + k for k in range(4)}


def owner_of(uid: int) -> int | None:
    """The grading process a kernel uid belongs to (None for other uids)."""
    return (uid - UID_BASE) // 4 if uid >= UID_BASE else None


@dataclass
class Launch:
    """Everything needed to start one sandboxed kernel in ``root`` (a fresh folder)."""

    root: Path
    limits: Limits
    mechanism: str
    uid: int | None

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def ipc(self) -> Path:
        return self.root / "ipc"

    @property
    def out(self) -> Path:
        return self.root / "out"

    mounted: bool = False

    def prepare(self) -> None:
        # As root, the scratch root is a size-capped tmpfs: a notebook cannot fill the disk.
        if os.geteuid() == 0:
            self.mounted = _mount_tmpfs(self.root, f"size={self.limits.max_disk_mb}m,mode=0755")
        for d in (self.work, self.ipc, self.out):
            d.mkdir(parents=True, exist_ok=True)
        write_owner(self.root)  # if this process is killed, the next sweep_stale() unmounts and removes it
        os.chmod(self.root, 0o755)  # noqa: S103 - the kernel's uid must reach work/, out/ and ipc/
        if self.uid is not None:
            for d in (self.work, self.out, self.ipc):
                os.chown(d, self.uid, self.uid)

    def env(self) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.work),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(self.work / ".matplotlib"),
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "TMPDIR": "/tmp" if self.mechanism in ("bwrap", "forkserver") else str(self.work),  # noqa: S108 - the sandbox's own tmpfs
        }
        if self.mechanism in ("bwrap", "forkserver"):
            # IPython's profile (and its startup folder) on the per-start tmpfs: files a notebook
            # plants there cannot run in the kernel that replaces it after a crash
            env["IPYTHONDIR"] = "/tmp/.ipython"  # noqa: S108 - the sandbox's own tmpfs, see above
        # Some processors need these for OpenBLAS to compute correctly: pass them on unchanged.
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def rlimits(self) -> dict[str, int]:
        lim = self.limits
        return {
            "RLIMIT_AS": lim.memory_mb * 2**20,
            "RLIMIT_CPU": int(lim.cpu_seconds),
            "RLIMIT_NPROC": lim.max_processes,
            "RLIMIT_FSIZE": lim.max_file_mb * 2**20,
            "RLIMIT_NOFILE": lim.max_open_files,
            "RLIMIT_CORE": 0,
        }

    def ro_paths(self) -> list[str]:
        """What the kernel sees of the system, read-only."""
        paths = [p for p in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc") if os.path.exists(p)]
        return paths + [r for r in _python_roots() if not (r == "/usr" or r.startswith("/usr/"))]

    def argv(self) -> list[str]:
        cfg = {"rlimits": self.rlimits(), "env": self.env(), "uid": self.uid, "cwd": str(self.work)}
        if self.mechanism == "forkserver":
            from grader.sandbox import forkserver

            zygote = forkserver.Zygote.get(zygote_env(self.env()))
            req = {"root": str(self.root), "cfg": cfg, "ro": self.ro_paths(),
                   "tmp_bytes": self.limits.max_disk_mb * 2**20, "stderr": str(self.root / "kernel.stderr")}
            return [sys.executable, "-S", "-c", forkserver.CLIENT, zygote.socket, json.dumps(req), "{connection_file}"]
        inner = [sys.executable, "-c", _PREAMBLE, json.dumps(cfg), "{connection_file}"]
        if self.mechanism != "bwrap":
            return inner
        argv = [shutil.which("bwrap") or "bwrap", *_ns_flags()]
        # /tmp first: the Python installation (a CI virtualenv) or the scratch folder may live under it
        argv += ["--perms", "1777", "--size", str(self.limits.max_disk_mb * 2**20), "--tmpfs", "/tmp"]  # noqa: S108 - a fresh tmpfs
        for path in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"):
            if os.path.exists(path):
                argv += ["--ro-bind", path, path]
        for root in _python_roots():
            if root.startswith("/usr/") or root == "/usr":
                continue
            argv += _parent_dirs(root) + ["--ro-bind", root, root]
        argv += ["--proc", "/proc", "--dev", "/dev", "--hostname", "sandbox"]
        argv += _parent_dirs(str(self.root)) + ["--bind", str(self.root), str(self.root)]
        argv += ["--chdir", str(self.work), "--"]
        return argv + inner

    def kernelspec(self, kernels_dir: Path, name: str) -> None:
        spec_dir = kernels_dir / name
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": self.argv(),
            "display_name": "grader sandbox",
            "language": "python",
            # signals do not cross into the sandbox's new session: ask ipykernel to interrupt itself
            "interrupt_mode": "message",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")


def zygote_env(kernel_env: dict[str, str]) -> dict[str, str]:
    """The zygote imports with the kernel's settings (hash seed, BLAS threads, Agg backend)."""
    keep = ("PATH", "LANG", "LC_ALL", "MPLBACKEND", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE",
            "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    env = {k: v for k, v in kernel_env.items() if k in keep}
    try:
        import matplotlib

        env["MPLCONFIGDIR"] = matplotlib.get_cachedir()  # the grader's font cache, built once
    except Exception:  # noqa: S110 - without matplotlib (or its cache) the kernel builds its own font cache
        pass
    return env


def release(launch: Launch) -> None:
    """Unmount the scratch tmpfs (its contents vanish with it)."""
    if launch.mounted:
        unmount(str(launch.root))
        launch.mounted = False


def _mount_tmpfs(root: Path, options: str) -> bool:
    lib = libc()
    if lib is not None and lib.mount(b"tmpfs", os.fsencode(root), b"tmpfs", 2 | 4, options.encode()) == 0:
        return True  # flags: MS_NOSUID | MS_NODEV
    mount = shutil.which("mount")
    if not mount:
        return False
    res = subprocess.run([mount, "-t", "tmpfs", "-o", f"{options},nosuid,nodev", "tmpfs", str(root)],  # noqa: S603 - fixed program and options, our own folder
                         capture_output=True, check=False)
    return res.returncode == 0


_SETPRIV = shutil.which("setpriv") if os.path.exists("/bin/sh") else None


def kill_uid(uid: int | None) -> None:
    """Kill every process owned by ``uid`` (the kernel and anything it started)."""
    if uid is None or os.geteuid() != 0:
        return
    if _SETPRIV:
        # setpriv and sh are spawned with vfork; forking this (large) process costs 5 ms of CPU
        res = subprocess.run([_SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "/bin/sh", "-c",  # noqa: S603 - fixed command; uid is an int
                              "kill -KILL -1; kill -KILL -1; kill -KILL -1; exit 0"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             check=False)
        if res.returncode == 0:
            return  # else setpriv could not become the uid: fall back to forking
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgid(uid)
            os.setuid(uid)
            for _ in range(3):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
