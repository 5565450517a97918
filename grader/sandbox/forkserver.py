"""Warm kernels: a pre-imported *zygote* forks a fresh, sandboxed kernel per submission.

Starting Python, ipykernel, NumPy, pandas and matplotlib costs about a second of CPU per
kernel, more than grading itself. The zygote (one per grading worker, running as root, never
touching student code or rubrics) imports them once. For each submission it forks:

    zygote (root) ── fork ──> keeper (root, outside the new PID namespace)
                                 unshare(mount, PID, net, IPC, UTS)
                                 └─ fork ──> kernel (PID 1 of its namespace)
                                               private mounts: tmpfs root with read-only /usr, /etc,
                                               the Python installation, the scratch folder, fresh /tmp,
                                               /proc and a minimal /dev; chroot; rlimits; setuid to
                                               the submission's own uid; minimal environment;
                                               then ipykernel starts on the scratch's IPC sockets.

The isolation is the same as the bubblewrap mechanism (a test checks the probes match), and
every kernel is a new process that no other submission touched: the zygote only ever ran
imports. The keeper kills the kernel's whole PID namespace when the grader's stand-in process
(the "client" that jupyter_client launches) goes away, and reports the kernel's exit status
to it, so restarts and death detection work exactly as with a cold kernel.

Requires root (namespaces and mounts). Elsewhere the grader starts kernels through bubblewrap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from grader.cleanup import temp_prefix

# Imported once in the zygote instead of once per kernel. Besides the course's libraries:
# what every kernel imports while it starts (ipykernel's debugger pulls in debugpy, 0.1-0.15 s
# of CPU per kernel when it is not preloaded) and what a notebook's first plot or DataFrame
# display imports. Measured by listing sys.modules in a kernel after it ran a correct notebook.
PRELOAD = [
    "numpy", "pandas", "matplotlib", "matplotlib.pyplot", "matplotlib.backends.backend_agg",
    "pandas.io.formats.html", "pandas.io.formats.string", "PIL.features",
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger",
    "IPython.core.completerlib", "faulthandler", "tornado.platform.asyncio",
]

# Runs in the zygote process (no grader imports: it must stay free of rubric code).
_ZYGOTE = r'''
import ctypes, json, os, resource, select, signal, socket, sys
import importlib
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the grading worker
for mod in json.loads(sys.argv[2]):
    try:
        importlib.import_module(mod)
    except Exception as exc:  # a missing optional library only costs its warm start
        print("grader zygote: could not preload %s: %s" % (mod, exc), file=sys.stderr)
import threading
assert threading.active_count() == 1, "the zygote must be single-threaded to fork safely"

libc = ctypes.CDLL(None, use_errno=True)
NEWNS, NEWUTS, NEWIPC, NEWNET, NEWPID = 0x00020000, 0x04000000, 0x08000000, 0x40000000, 0x20000000
RDONLY, NOSUID, NODEV, NOEXEC, REMOUNT, BIND, REC, PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, 1 << 18

def mount(src, tgt, fstype, flags, data=None):
    enc = lambda s: s.encode() if isinstance(s, str) else s
    if libc.mount(enc(src), enc(tgt), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "mount %s on %s: %s" % (src, tgt, os.strerror(err)))

def bind(src, tgt, ro):
    if os.path.isdir(src):
        os.makedirs(tgt, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(tgt), exist_ok=True)
        open(tgt, "a").close()
    mount(src, tgt, None, BIND | REC)
    if ro:
        mount(None, tgt, None, REMOUNT | BIND | RDONLY | NOSUID | NODEV | REC)

def become_kernel(req, log_fd):
    root, cfg = req["root"], req["cfg"]
    mount(None, "/", None, REC | PRIVATE)
    nr = os.path.join(root, ".newroot")
    os.makedirs(nr, exist_ok=True)
    mount("tmpfs", nr, "tmpfs", NOSUID | NODEV, "mode=0755,size=16m")
    # /tmp first: the Python installation (a CI virtualenv) or the scratch folder may live under it
    os.makedirs(nr + "/tmp", exist_ok=True)
    mount("tmpfs", nr + "/tmp", "tmpfs", NOSUID | NODEV, "mode=1777,size=%d" % req["tmp_bytes"])
    for path in req["ro"]:
        if os.path.exists(path):
            bind(path, nr + path, True)
    bind(root, nr + root, False)
    os.makedirs(nr + "/proc", exist_ok=True)
    mount("proc", nr + "/proc", "proc", NOSUID | NODEV | NOEXEC)
    os.makedirs(nr + "/dev", exist_ok=True)
    mount("tmpfs", nr + "/dev", "tmpfs", NOSUID | NOEXEC, "mode=0755,size=64k")
    for dev in ("null", "zero", "full", "random", "urandom", "tty"):
        bind("/dev/" + dev, nr + "/dev/" + dev, False)
    os.makedirs(nr + "/dev/shm", exist_ok=True)
    os.makedirs(nr + "/dev/pts", exist_ok=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, nr + "/dev/" + name)
    mount(None, nr, None, REMOUNT | RDONLY | NOSUID | NODEV)  # the new root itself is read-only
    os.chroot(nr)
    os.chdir("/")
    socket.sethostname("sandbox")
    # PID 1 of the namespace is a small init, as under bubblewrap: the kernel is PID 2, so a
    # notebook that kills itself dies as it would anywhere else (PID 1 ignores such signals).
    kernel = os.fork()
    if kernel != 0:
        os.closerange(3, 65536)
        signal.signal(signal.SIGTERM, lambda *a: os._exit(143))
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                os._exit(1)
            if pid == kernel:
                code = os.waitstatus_to_exitcode(status)
                os._exit(code if code >= 0 else 128 - code)
    for name, value in cfg["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    if cfg["uid"] is not None:
        os.setgroups([])
        os.setgid(cfg["uid"])
        os.setuid(cfg["uid"])
    os.environ.clear()
    os.environ.update(cfg["env"])
    os.chdir(cfg["cwd"])
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(log_fd, 2)
    os.closerange(3, 65536)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    sys.argv = ["ipykernel_launcher"]
    from ipykernel.kernelapp import IPKernelApp
    app = IPKernelApp.instance()
    app.initialize(["-f", req["connection_file"], "--HistoryManager.enabled=False", "--Application.log_level=40"])
    app.start()

def keeper(conn, req):
    """Outside the new PID namespace: start the kernel, then report its end to the client."""
    log_fd = os.open(req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    if libc.unshare(NEWNS | NEWUTS | NEWIPC | NEWNET | NEWPID) != 0:
        os.write(log_fd, ("grader zygote: unshare failed: %s\n" % os.strerror(ctypes.get_errno())).encode())
        os._exit(1)  # never run a kernel without its namespaces
    pid = os.fork()
    if pid == 0:
        try:
            conn.close()
            become_kernel(req, log_fd)
        except BaseException as exc:
            os.write(log_fd, ("grader zygote: kernel setup failed: %r\n" % (exc,)).encode())
        os._exit(1)
    os.close(log_fd)
    conn.sendall(b"started\n")
    pidfd = os.pidfd_open(pid)
    while True:
        ready, _, _ = select.select([conn, pidfd], [], [])
        if pidfd in ready:
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            try:
                conn.sendall(("exit %d\n" % code).encode())
            except OSError:
                pass
            os._exit(0)
        if conn in ready and not conn.recv(1):
            # the client is gone (shutdown or kill): the whole PID namespace goes with PID 1
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            os._exit(0)

def serve(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path + ".new")
    os.chmod(path + ".new", 0o600)
    srv.listen(64)
    os.rename(path + ".new", path)  # the socket appears only once it accepts (workers wait for it)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped automatically
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if not data:
            conn.close()
            continue
        req = json.loads(data)
        if os.fork() == 0:
            srv.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                keeper(conn, req)
            finally:
                os._exit(1)
        conn.close()

serve(sys.argv[1])
'''

# Runs as the "kernel process" jupyter_client manages: asks the zygote for a kernel, waits for it.
CLIENT = r'''
import ctypes, json, os, signal, socket, sys
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: if the grader dies, so does the kernel
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
req = json.loads(sys.argv[2])
req["connection_file"] = sys.argv[3]
s.sendall((json.dumps(req) + "\n").encode())
signal.signal(signal.SIGTERM, lambda *a: os._exit(143))
buf = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        os._exit(1)
    buf += chunk
    for line in buf.split(b"\n")[:-1]:
        if line.startswith(b"exit "):
            code = int(line[5:])
            os._exit(code if code >= 0 else 128 - code)
    buf = buf.rsplit(b"\n", 1)[-1]
'''


class Zygote:
    """One per grading process; started on first use, stopped at exit."""

    _instance: Zygote | None = None
    _lock = threading.Lock()

    def __init__(self, env: dict[str, str], *, wait: bool = True) -> None:
        self.env = env
        self.dir = Path(tempfile.mkdtemp(prefix=temp_prefix("zygote")))  # stop() removes it; sweep_stale() if killed
        os.chmod(self.dir, 0o700)
        self.socket = str(self.dir / "z.sock")
        self.proc = subprocess.Popen(  # noqa: S603 - our interpreter running our own code
            [sys.executable, "-c", _ZYGOTE, self.socket, json.dumps(PRELOAD)],
            env={**env, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},  # debugpy's warning about frozen modules
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=open(self.dir / "zygote.log", "wb"),  # noqa: SIM115 - the zygote writes to it for its whole life
            cwd=str(self.dir),
        )
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        line = self.proc.stdout.readline() if self.proc.stdout is not None else b""
        if line.strip() != b"ready":
            log = (self.dir / "zygote.log").read_text(errors="replace")[-500:]
            self.stop()
            raise RuntimeError(f"the warm-kernel server did not start: {log}")

    @classmethod
    def get(cls, env: dict[str, str]) -> Zygote | _Shared:
        shared = os.environ.get(SHARED_ENV)
        if shared and _wait_for(shared, os.environ.get(SHARED_PID_ENV, "")):
            return _Shared(shared)  # a batch's zygote, started by the parent for all its workers
        with cls._lock:
            if cls._instance is None or cls._instance.proc.poll() is not None or cls._instance.pid != os.getpid():
                cls._instance = cls(env)
                cls._instance.pid = os.getpid()
                from grader.cleanup import ZYGOTE, at_exit

                at_exit(cls._instance.stop, order=ZYGOTE)
            return cls._instance

    pid = 0

    def stop(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except Exception:  # noqa: S110 - best effort at exit: it may be gone already
            pass
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


SHARED_ENV, SHARED_PID_ENV = "GRADER_ZYGOTE_SOCKET", "GRADER_ZYGOTE_PID"


def _wait_for(path: str, pid: str, timeout: float = 120.0) -> bool:
    """Wait until the batch's zygote accepts on ``path``; False if it died or never did."""
    import time

    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline or (pid.isdigit() and not _alive(int(pid))):
            return False
        time.sleep(0.01)
    return True


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


class _Shared:
    """A zygote owned by another process (the batch parent): only its socket is needed."""

    def __init__(self, socket_path: str) -> None:
        self.socket = socket_path


_SHARED: Zygote | None = None


def share(env: dict[str, str]) -> Zygote:
    """Start a zygote for this process's children (``batch.grade``) without waiting for it: it
    imports numpy, pandas, matplotlib and ipykernel (a second of CPU) while the pool of workers
    starts and they run the reference solution; each waits for its socket when it needs it."""
    from grader.cleanup import ZYGOTE, at_exit

    global _SHARED
    z = _SHARED
    if z is None or z.proc.poll() is not None or z.env != env:
        z = _SHARED = Zygote(env, wait=False)
        at_exit(z.stop, order=ZYGOTE)
    os.environ[SHARED_ENV] = z.socket
    os.environ[SHARED_PID_ENV] = str(z.proc.pid)
    return z


def available() -> bool:
    """Warm kernels need root (namespaces, mounts, chroot) and Linux pidfds."""
    return sys.platform.startswith("linux") and os.geteuid() == 0 and hasattr(os, "pidfd_open")


_probe: bool | None = None


def usable() -> bool:
    """``available()`` and namespaces can really be created here (not in every container)."""
    global _probe
    if _probe is None:
        if not available():
            _probe = False
        else:
            code = ("import ctypes,sys; sys.exit(ctypes.CDLL(None, use_errno=True)"
                    ".unshare(0x00020000|0x40000000|0x20000000|0x08000000|0x04000000) != 0)")
            try:
                probe = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, timeout=20)  # noqa: S603 - our interpreter, fixed code
                _probe = probe.returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                _probe = False
    return _probe
