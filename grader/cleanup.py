"""Clean-ups that must run when a grading process ends, pool workers included, and the sweep
that removes what a process that could not clean up (SIGKILL, a crash) left behind.

``atexit`` is not enough: multiprocessing's pool workers (and Dask's) leave through
``os._exit``, past it, and a function registered with it stays referenced (with everything it
holds) until the process ends. multiprocessing's finalizers run in both cases (the module
registers them with ``atexit`` in ordinary processes and calls them as a worker ends) and can
be cancelled once the work is done. SIGTERM runs them too (``on_terminate``).

Every folder a grading process leaves in the temp root carries its owner: a name
``grader-<kind>-<pid>.<start>-…`` (``private_dir``, ``temp_prefix``) or, for a scratch folder
named by someone else, a ``.grader-owner`` file in it (``write_owner``). ``<start>`` is the
process's start time, so a recycled pid is not mistaken for the owner. ``sweep_stale`` removes
(unmounting first) the folders whose owner is no longer running. Processes that share a temp
root are assumed to share a PID namespace (as a batch's workers and a host's Dask workers do).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing import util
from pathlib import Path
from typing import Any

# Higher runs first: kernels before the scratch folders they use, the warm-kernel server last.
SPARE_KERNEL, KERNEL, FOLDER, ZYGOTE = 100, 50, 10, 1

OWNER_FILE = ".grader-owner"
CLEANUP_SECONDS = 30  # after SIGTERM, clean-ups that hang longer cannot keep the process alive
_TAGGED = re.compile(r"grader-[a-z]+-(\d+)\.(\d+)-")
_OWNER_TEXT = re.compile(r"(\d+)\.(\d+)")
_term_installed = False


def at_exit(fn: Callable[..., Any], *args: Any, order: int) -> Any:
    """Run ``fn(*args)`` when this process ends (normally, as a pool worker, or on SIGTERM when
    ``on_terminate`` could install its handler); ``.cancel()`` the returned handle when it is
    no longer needed (it then holds nothing)."""
    on_terminate()
    return util.Finalize(None, fn, args, exitpriority=order)


def on_terminate() -> bool:
    """Make SIGTERM run this process's clean-ups (``at_exit``) before the process ends with the
    signal, as it would have. Only possible from the main thread, and only done while SIGTERM
    has its default action: a program with its own handler (Dask's command line, for one) ends
    through a normal exit, which runs them anyway. The handler first asks the process's
    multiprocessing children (a batch's pool workers, which die with it) to end, and waits
    for them while it cleans up. Returns whether the handler is in place; call it early from
    the main thread of a process that grades in other threads."""
    global _term_installed
    if _term_installed:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return False
        signal.signal(signal.SIGTERM, _terminate)
    except (ValueError, OSError):
        return False
    _term_installed = True
    return True


def _terminate(signum: int, frame: Any) -> None:
    # Another SIGTERM must not cut the clean-ups short (a pool that lost a worker sends one to
    # all the others); the alarm ends a process whose clean-ups hang.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    deadline = time.monotonic() + CLEANUP_SECONDS
    with contextlib.suppress(ValueError, OSError, AttributeError):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(CLEANUP_SECONDS + 5)
    try:
        # A batch's pool workers die with it (SIGKILL, no clean-up): ask them to end first, and
        # wait for them while this process cleans up.
        children = multiprocessing.active_children()
        for child in children:
            with contextlib.suppress(OSError, ValueError):
                child.terminate()
        # what a multiprocessing worker runs as it ends (private, and stable since Python 2.6)
        util._run_finalizers(0)  # type: ignore[attr-defined]  # not in typeshed
        for child in children:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                child.join(max(0.0, deadline - time.monotonic()))
        util._run_finalizers()  # type: ignore[attr-defined]  # the rest, as at exit (multiprocessing's pymp-* folder)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # end as SIGTERM ends a process: the parent sees -15
        time.sleep(1)
        os._exit(128 + signal.SIGTERM)


# -- owners -------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[bytes] | None:
    """/proc/<pid>/stat after the command name (state first); None: no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def owner_tag(pid: int | None = None) -> str:
    """``<pid>.<start time>`` of this process (or ``pid``): who owns a folder."""
    pid = os.getpid() if pid is None else pid
    start = 0
    with contextlib.suppress(OSError, IndexError, ValueError, TypeError):
        start = int((_stat_fields(pid) or [])[19])
    return f"{pid}.{start}"


def running(pid: int, start: int) -> bool:
    """Whether the process of an owner tag still runs; True when it cannot be told."""
    if not os.path.exists("/proc/self/stat"):  # no procfs: the pid alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            return True
        return True
    try:
        fields = _stat_fields(pid)
    except OSError:
        return True
    if fields is None or len(fields) < 20:
        return fields is not None
    if fields[0] in (b"Z", b"X"):  # exited, not yet reaped: it cleans nothing up any more
        return False
    return start == 0 or fields[19] == str(start).encode()


def temp_prefix(kind: str) -> str:
    """A ``mkdtemp`` prefix that names this process as the folder's owner."""
    if not kind.isalpha() or not kind.islower():
        raise ValueError(f"a folder kind is lowercase letters, not {kind!r}")
    return f"grader-{kind}-{owner_tag()}-"


def private_dir(kind: str) -> Path:
    """A fresh folder (mode 0700) in the temp root, owned by this process and removed when it
    ends (``at_exit``), or by the next ``sweep_stale`` if it is killed."""
    path = Path(tempfile.mkdtemp(prefix=temp_prefix(kind)))
    at_exit(shutil.rmtree, str(path), True, order=FOLDER)
    return path


def write_owner(folder: Path) -> None:
    """Name this process as the owner of ``folder`` (a scratch folder whose name says nothing)."""
    (folder / OWNER_FILE).write_text(owner_tag(), encoding="ascii")


def _owner(entry: os.DirEntry[str]) -> tuple[int, int] | None:
    m = _TAGGED.match(entry.name)
    if m:
        return int(m.group(1)), int(m.group(2))
    try:
        fd = os.open(os.path.join(entry.path, OWNER_FILE), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    m = _OWNER_TEXT.fullmatch(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


# -- the sweep ----------------------------------------------------------------------------
def _mount_points() -> list[str]:
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        fields = line.split(" ")
        if len(fields) > 4:  # octal escapes for space, tab, newline and backslash
            out.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4]))
    return out


_LIBC: Any = None


def libc() -> Any:
    """libc through ctypes, for mount(2) and umount2(2) (the mount and umount programs cost a few
    milliseconds of CPU each, twice per submission); None where there is none to load."""
    global _LIBC
    if _LIBC is None and sys.platform.startswith("linux"):
        import ctypes

        try:
            _LIBC = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _LIBC = False
    return _LIBC or None


def unmount(path: str) -> bool:
    """Detach the mount at ``path`` (MNT_DETACH: it goes once nothing uses it)."""
    lib = libc()
    if lib is not None and lib.umount2(os.fsencode(path), 2) == 0:
        return True
    umount = shutil.which("umount")
    if not umount:
        return False
    res = subprocess.run([umount, "-l", path], capture_output=True, check=False)  # noqa: S603 - fixed program, our own path
    return res.returncode == 0


def sweep_stale(root: str | os.PathLike[str] | None = None) -> list[str]:
    """Remove the folders that grading processes no longer running left in the temp root
    (``root``, else ``tempfile.gettempdir()``): their mounts first, then the folders. Returns
    the paths removed. Only this user's ``grader-*`` folders directly in the root whose owner
    is known and gone are touched; symbolic links are never followed. Safe to call at the
    start of every batch and worker process."""
    base = os.path.realpath(os.fspath(root) if root is not None else tempfile.gettempdir())
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith("grader-")]
    except OSError:
        return []
    me = os.geteuid()
    mounts: list[str] | None = None
    removed = []
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != me:
                continue
            owner = _owner(entry)
        except OSError:
            continue
        if owner is None or running(*owner):
            continue
        if mounts is None:
            mounts = _mount_points()
        inside = sorted((m for m in mounts if m == entry.path or m.startswith(entry.path + "/")), reverse=True)
        if not all(unmount(m) for m in inside):
            continue  # never delete through a mount that is still there
        shutil.rmtree(entry.path, ignore_errors=True)
        if not os.path.lexists(entry.path):
            removed.append(entry.path)
    return removed
