"""The 74 adversarial fixtures graded through the real sandbox (invariants 1-3 of DESIGN.md).

For every fixture in ``tests/fixtures/notebooks/adversarial/MANIFEST.toml`` (the committed
ones and the two ``generated`` ones, all written by ``make_adversarial.build_all(tmp,
big=True)`` into one session-scoped temporary folder, so a hostile notebook never grades
from, or rewrites, the repository) the test grades the notebook with
``grader.api.grade_notebook(path, rubric)`` and asserts:

1. a result comes back within the manifest's ``max_wall_seconds`` (measured around the call),
   with ``status`` in ``expected_status`` and a non-empty ``reason`` unless it is "graded";
2. credit no higher than the honest work deserves and no lower where honest work must be
   credited: every test that scored must be about a name in ``honest`` + ``may_credit``
   (``NAMES_BY_TEST`` says which graded names each rubric test is about), and every test that
   uses only ``honest`` names must pass with full marks (honest gates => gates scores 12/12);
3. each entry of the fixture's ``checks``, for real:
   no_leftover_processes   no process of the kernel's uid (``1_000_000 + pid`` of the grading
                           process, or whatever ``launch.uids_of(pid)`` says) and no new process
                           whose cmdline contains ``sleep 100`` or ``grader-adversarial-daemon``
                           remains (scanned in /proc; asserted for every fixture);
   no_files_outside_scratch  no ``canary_paths`` exists afterwards (removed before the test,
                           never created by it), the fixture file is byte-identical, the
                           fixture folder is complete and site-packages gained no file;
   no_network              TCP and UDP listeners on 127.0.0.1 (a free port, exported as
                           GRADER_TEST_LISTEN_PORT; and port 9, where the notebook falls back
                           since the kernel's environment is minimal) and [::1] receive nothing;
   no_hidden_leak          the notebook is run again in a ``KernelSession`` and what it
                           collected (the LEAKED / OTHERS / ENV global), its stored outputs,
                           the result JSON and the HTML report hold no path of a repository
                           file (``repository_paths()``), no line of rubrics/ or solutions/,
                           no other submission's path or canary, and not the grader's
                           GRADER_TEST_SECRET; and the kernel, asked after the notebook ran,
                           sees none of those repository paths. A virtualenv inside the
                           checkout (the README's ``.venv``) is mounted read-only at its own
                           path, so the checkout's folder exists in the kernel as an empty,
                           root-owned skeleton holding only that mount: the venv's paths are
                           no leak, any other entry of the checkout is;
   grader_memory_bounded   graded in a fresh ``python -c`` subprocess: peak RSS growth of
                           the grading process during the call < 300 MB, both as ru_maxrss and
                           as VmHWM after resetting it (/proc/self/clear_refs) just before the
                           call -- an exec'd child's ru_maxrss starts at its parent's RSS at
                           fork time (pytest's, about 0.5 GB here after building the 61 MB fixture), which would
                           hide any growth below that; the result JSON is < 4 MiB and the
                           executed notebook's outputs (as JSON) < 2 x max_output_kb + 256 KiB;
   kernel_not_root, env_minimal  probe cells in a ``KernelSession``: uid/euid != 0, no
                           effective/permitted capabilities, ``sorted(os.environ)`` within
                           ``Launch.env()`` plus what ipykernel itself sets (IPYKERNEL_ENV).

``test_batch_goes_on`` grades a folder of the nastiest fixtures plus a correct notebook with
``grader.batch.grade(..., jobs=2)`` and checks every one got a gradebook row.

Limits (lowered from rubric.toml's cell 60 s / call 10 s / submission 300 s and the default
tests 300 s, to keep the suite's runtime sane; everything else at its default: memory
2048 MiB, 64 processes, 256 open files, 256 MiB scratch, 512 KiB kept output, 3 restarts):

    cell_timeout = 10 s, call_timeout = 5 s, submission_timeout = 60 s, tests_timeout = 60 s

Fixtures marked ``unsafe_outside_sandbox`` are skipped unless the kernel gets namespaces: the
mechanism ``detect_mechanism()`` picks must be "bwrap" or "forkserver" (the warm-kernel server,
the default as root since it exists: the same PID/network/mount/IPC/UTS namespaces, uid drop and
read-only system view as bubblewrap); under "rlimits" they are skipped.
An in-process grade that does not return within max_wall_seconds + 15 s is stopped by a SIGALRM
watchdog (all thread stacks are dumped to the captured stderr) and fails the test.
A fixture the sandbox currently fails is marked ``xfail(strict=True, reason="SANDBOX: ...")``
with the assertion left as it is.
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import site
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
import tomllib

from grader import api, batch
from grader import notebook as nbio
from grader.config import Limits
from grader.errors import MissingName
from grader.gradebook import Gradebook
from grader.namespaces import StudentNamespace
from grader.sandbox import KernelSession, detect_mechanism
from grader.sandbox.launch import Launch
from grader.sandbox.offline import setup_code

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
ADVERSARIAL = ROOT / "tests" / "fixtures" / "notebooks" / "adversarial"
PASSES_ALL = ROOT / "tests" / "fixtures" / "notebooks" / "week3" / "passes_all.ipynb"
MANIFEST: dict[str, dict[str, Any]] = tomllib.loads((ADVERSARIAL / "MANIFEST.toml").read_text(encoding="utf-8"))

LIMITS = {"cell_timeout": 10, "call_timeout": 5, "submission_timeout": 60, "tests_timeout": 60}
RSS_GROWTH_LIMIT_MB = 300
STORED_LIMIT_BYTES = 4 * 2**20        # result JSON of a memory-bounded fixture
KERNEL_UID_BASE = 1_000_000
SECRET = "GRADER-TEST-SECRET-c0ffee-5ca1ab1e"  # noqa: S105 - a canary to look for in what leaks, not a credential
OTHER_CANARY = "OTHER-SUBMISSION-CANARY-7f3a9d"

# Variables ipykernel/IPython set in the kernel's environment on their own (measured: ipykernel
# 7.4 sets PYDEVD_USE_FRAME_EVAL for its debugger; ZMQInteractiveShell.init_environment sets
# the terminal/pager ones). Nothing else may appear beyond Launch.env().
IPYKERNEL_ENV = {"PYDEVD_USE_FRAME_EVAL", "TERM", "CLICOLOR", "FORCE_COLOR", "CLICOLOR_FORCE",
                 "PAGER", "GIT_PAGER"}

# ---------------------------------------------------------------------------------- credit
# Which graded names each rubric test is about: (refers, uses). ``refers``: the names the
# test's name or parameters point at (crediting the test credits them); ``uses``: every
# student name the test calls (a test must pass when all of them are honest). PARAM: the
# graded name is the test's parameter (test_truth_table[XOR], test_random_arrays[ReLU-1d]).
PARAM = "param"
_STEP, _SIG, _RELU = {"step_function"}, {"sigmoid"}, {"ReLU"}
NAMES_BY_TEST: dict[str, Any] = {
    "test_truth_table": PARAM,
    "test_step_function_on_the_handouts_scalars": (_STEP, _STEP),
    "test_step_function_on_the_plotted_array": (_STEP, _STEP),
    "test_sigmoid_on_the_handouts_array": (_SIG, _SIG), "test_sigmoid_on_the_plotted_array": (_SIG, _SIG),
    "test_sigmoid_on_scalars": (_SIG, _SIG), "test_sigmoid_on_a_column": (_SIG, _SIG),
    "test_relu_on_the_plotted_array": (_RELU, _RELU),
    "test_random_arrays": PARAM,
    "test_forward_on_the_handouts_network": ({"forward"}, {"forward"}),
    "test_forward_on_another_network": ({"forward"}, {"forward"}),
    "test_random_network": ({"forward"}, {"forward"}),
    "test_sigmoid_prime_on_an_array": ({"sigmoid_prime"}, {"sigmoid_prime"}),
    "test_sigmoid_prime_on_scalars": ({"sigmoid_prime"}, {"sigmoid_prime"}),
    "test_sigmoid_prime_on_a_column": ({"sigmoid_prime"}, {"sigmoid_prime"}),
    "test_backpropagation_dw": ({"backpropagation"}, {"backpropagation"}),
    "test_backpropagation_db": ({"backpropagation"}, {"backpropagation"}),
    "test_backpropagation_dz": ({"backpropagation"}, {"backpropagation"}),
    "test_another_problem": ({"backpropagation"}, {"backpropagation"}),
    "test_dw_agrees_with_the_numerical_gradient": ({"backpropagation"}, {"backpropagation", "sigmoid"}),
    "test_training_from_the_handouts_start": ({"backpropagation"}, {"backpropagation", "sigmoid"}),
    "test_trained_outputs_classify_or": ({"A"}, {"A"}),
    "test_trained_weights_classify_or": ({"W", "b"}, {"W", "b"}),
    "test_outputs_are_the_neurons": ({"A", "W", "b"}, {"A", "W", "b"}),
    "test_net_input_on_a_matrix": ({"Perceptron"}, {"Perceptron"}),
    "test_net_input_on_one_sample": ({"Perceptron"}, {"Perceptron"}),
    "test_net_input_elsewhere": ({"Perceptron"}, {"Perceptron"}),
    # fitted on the notebook's own Iris X and y
    "test_fit_on_your_own_data": ({"Perceptron"}, {"Perceptron", "X", "y"}),
}
TASK_NAMES = {
    "gates": {"AND", "NAND", "OR", "XOR"},
    "activations": {"step_function", "sigmoid", "ReLU"},
    "forward": {"forward"},
    "backprop": {"sigmoid_prime", "backpropagation"},
    "training": {"W", "b", "A"},
    "perceptron": {"Perceptron", "X", "y"},
}
GRADED_NAMES = set().union(*TASK_NAMES.values())

# Fixtures the sandbox currently fails: the assertion stays, the case is a strict xfail.
XFAIL: dict[str, str] = {}

SANDBOXES = {"bwrap", "forkserver"}  # mechanisms with namespaces: the unsafe fixtures may run

BATCH = ["kills_parent", "fork_bomb", "memory_bomb", "os_exit_in_cell", "segfault_in_graded_call",
         "huge_output_print", "invalid_json", "zero_bytes"]


def graded_names(test_name: str, task: str) -> tuple[set[str], set[str]]:
    base = test_name.removeprefix("hidden/").split("[", 1)[0]
    spec = NAMES_BY_TEST.get(base)
    if spec is None:
        raise KeyError(f"rubric test {test_name!r} (task {task}) is not in NAMES_BY_TEST; add it")
    if spec == PARAM:
        params = test_name.split("[", 1)[1].rstrip("]").split("-")
        names = {p for p in params if p in GRADED_NAMES}
        if len(names) != 1:
            raise KeyError(f"cannot tell which graded name {test_name!r} is about")
        return names, names
    return set(spec[0]), set(spec[1])


def credit_problems(fx: dict[str, Any], result: dict[str, Any]) -> list[str]:
    honest = set(fx["honest"])
    allowed = honest | set(fx["may_credit"])
    out = []
    for t in result["tests"]:
        try:
            refers, uses = graded_names(t["name"], t["task"])
        except KeyError as exc:
            out.append(str(exc))
            continue
        credited = t["status"] == "passed" or t["score"] > 0
        if credited and not refers <= allowed:
            out.append(f"credit beyond the honest work: {t['name']} {t['status']} "
                       f"{t['score']}/{t['max_score']} is about {sorted(refers)}, "
                       f"not in honest+may_credit {sorted(allowed)}")
        if uses <= honest and not (t["status"] == "passed" and t["score"] == t["max_score"]):
            out.append(f"honest work not credited: {t['name']} (about {sorted(uses)}) is "
                       f"{t['status']} {t['score']}/{t['max_score']}: {t['message'][:300]}")
    for task in result["tasks"]:
        names = TASK_NAMES.get(task["name"], set())
        if names and names <= honest and task["score"] != task["max_score"]:
            out.append(f"task {task['name']}: all of {sorted(names)} are honest but it scored "
                       f"{task['score']}/{task['max_score']}")
    return out


# ------------------------------------------------------------------------------- processes
SLEEPER = re.compile(r"sleep 100|grader-adversarial-daemon")


@dataclass(frozen=True)
class Proc:
    pid: int
    uid: int
    state: str
    cmd: str
    start: int = 0  # start time in clock ticks since boot: (pid, start) identifies a process

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.start)

    def __str__(self) -> str:
        return f"pid {self.pid} uid {self.uid} state {self.state} cmd {self.cmd[:120]!r}"


def processes() -> list[Proc]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8", errors="replace") as fh:
                status = fh.read()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            with open(f"/proc/{entry}/stat", "rb") as fh:
                start = int(fh.read().rsplit(b")", 1)[1].split()[19])
        except (OSError, ValueError, IndexError):
            continue
        uid = re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)
        state = re.search(r"^State:\s+(\S)", status, re.MULTILINE)
        if uid and state:
            out.append(Proc(int(entry), int(uid.group(1)), state.group(1), cmd, start))
    return out


def _alive(pid: int) -> bool:
    return pid > 0 and os.path.exists(f"/proc/{pid}")


def kernel_uids_of(pid: int) -> set[int]:
    """Every uid the grading process ``pid`` may give its kernels (1_000_000 + pid, or the
    engine's own scheme when ``launch.uids_of`` exists)."""
    if os.geteuid() != 0:
        return set()
    uids = {KERNEL_UID_BASE + pid}
    try:
        from grader.sandbox.launch import uids_of
    except ImportError:
        return uids
    return uids | set(uids_of(pid))


def owners_of(uid: int) -> set[int]:
    """The grading process(es) a kernel uid may belong to."""
    owners = {uid - KERNEL_UID_BASE} if uid >= KERNEL_UID_BASE else set()
    try:
        from grader.sandbox.launch import owner_of
    except ImportError:
        return owners
    o = owner_of(uid)
    return owners | ({o} if o else set())


def kernel_like(uid: int) -> bool:
    return uid >= KERNEL_UID_BASE


def _suspects(uids: set[int], baseline: set[tuple[int, int]]) -> list[Proc]:
    found = []
    for p in processes():
        if p.state == "Z" or p.key in baseline:
            continue  # zombies are dead (they only wait to be reaped)
        if p.uid in uids:
            found.append(p)
        elif SLEEPER.search(p.cmd):
            if kernel_like(p.uid) and any(_alive(o) and o != os.getpid() for o in owners_of(p.uid)):
                continue  # a kernel of another grading process running on this machine
            found.append(p)
    return found


def snapshot_pids() -> set[tuple[int, int]]:
    return {p.key for p in processes()}


def leftover_processes(uids: set[int], baseline: set[tuple[int, int]], grace: float = 5.0) -> list[Proc]:
    """Processes of the kernel uid(s), or sleepers, that did not exist before and survive."""
    deadline = time.monotonic() + grace
    while True:
        found = _suspects(uids, baseline)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def kill_leftovers(found: list[Proc]) -> None:
    # they were started (indirectly) by this test's kernels: end them by pid, one by one
    for p in found:
        with suppress(OSError):
            os.kill(p.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------- files
def expand(path: str) -> Path:
    return Path(os.path.expanduser(path))


def remove_canary(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        raise AssertionError(f"canary path {path} exists and is not a file; remove it by hand")


def fingerprint(path: Path) -> str:
    if path.is_symlink():
        return "symlink:" + os.readlink(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def site_dirs() -> list[Path]:
    dirs = {*site.getsitepackages(), site.getusersitepackages(), sysconfig.get_paths()["purelib"]}
    return sorted(Path(d) for d in dirs if d and os.path.isdir(d))


def site_snapshot() -> dict[str, list[str]]:
    return {str(d): sorted(os.listdir(d)) for d in site_dirs()}


# -------------------------------------------------------------------------------- network
class Listeners:
    """TCP and UDP listeners on loopback that record anything that reaches them."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.socks: list[socket.socket] = []
        self.notes: list[str] = []
        self.port = self._free_port()
        for port in (self.port, 9):
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    self._bind(family, kind, host, port)
        self.sel = selectors.DefaultSelector()
        for s in self.socks:
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _free_port() -> int:
        for _ in range(50):
            with socket.socket() as t:
                t.bind(("127.0.0.1", 0))
                port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
        raise RuntimeError("no free port for both TCP and UDP")

    def _bind(self, family: int, kind: int, host: str, port: int) -> None:
        s = socket.socket(family, kind)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, port))
            if kind == socket.SOCK_STREAM:
                s.listen(16)
            self.socks.append(s)
        except OSError as exc:
            s.close()
            what = "tcp" if kind == socket.SOCK_STREAM else "udp"
            self.notes.append(f"could not listen on {what} [{host}]:{port} ({exc.strerror})")
            if port != 9 and host == "127.0.0.1":
                raise

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.sel.select(timeout=0.1):
                s = key.fileobj
                assert isinstance(s, socket.socket)
                try:
                    if s.type == socket.SOCK_STREAM:
                        conn, peer = s.accept()
                        conn.settimeout(1)
                        try:
                            data = conn.recv(4096)
                        except OSError:
                            data = b""
                        conn.close()
                        self.received.append(f"tcp connection on {s.getsockname()} from {peer}: {data[:200]!r}")
                    else:
                        data, peer = s.recvfrom(65536)
                        self.received.append(f"udp datagram on {s.getsockname()} from {peer}: {data[:200]!r}")
                except OSError:
                    pass

    def close(self) -> list[str]:
        time.sleep(0.5)
        self._stop.set()
        self.thread.join(5)
        for s in self.socks:
            s.close()
        return self.received


# ---------------------------------------------------------------------------------- leaks
def _distinctive(line: str) -> bool:
    s = line.strip()
    return len(s) >= 30 and not s.startswith(("import ", "from ")) \
        and s not in {"# YOUR CODE HERE (여기에 코드를 작성하세요)", "raise NotImplementedError()"}


def secret_lines() -> set[str]:
    """Distinctive lines of everything under rubrics/ and solutions/ (the hidden side)."""
    lines: set[str] = set()
    for base in (ROOT / "rubrics", ROOT / "solutions"):
        for f in sorted(base.rglob("*")):
            if not f.is_file() or f.suffix not in (".py", ".toml", ".ipynb", ".json"):
                continue
            text = f.read_text(encoding="utf-8", errors="replace")
            if f.suffix == ".ipynb":
                nb = json.loads(text)
                text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                                 for c in nb["cells"])
            lines.update(s.strip() for s in text.splitlines() if _distinctive(s))
    return lines


def own_lines(path: Path) -> set[str]:
    """Distinctive lines of a submission's own cells: shown in its outputs or reports they are
    its own work, even where a line of the reference reads the same (an honest XOR)."""
    try:
        cells = json.loads(path.read_bytes().decode("utf-8-sig", errors="replace"))["cells"]
        text = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else str(c["source"]) for c in cells)
    except Exception:  # noqa: BLE001 - not a notebook (the broken fixtures): nothing of its own
        return set()
    return {s.strip() for s in text.splitlines() if _distinctive(s)}


HIDDEN_MARKER = ('"""dw against centred differences of ½Σ(A−Y)², A computed with the '
                 "student's own sigmoid.\"\"\"")


def python_installation() -> list[str]:
    """The folders the sandbox mounts read-only for the kernel's Python (``Launch.ro_paths``)."""
    sys_ro = {"/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"}
    paths = Launch(Path("/nonexistent"), Limits(), "bwrap", None).ro_paths()
    return sorted({os.path.realpath(p) for p in paths if p not in sys_ro} | {p for p in paths if p not in sys_ro})


def repository_paths(root: Path = ROOT, python: list[str] | None = None) -> list[str]:
    """What of the repository must not be listed or read in the kernel, as path strings.

    The repository itself when the Python installation lies outside it. When it lies inside (a
    virtualenv made the README's way, ``<checkout>/.venv``), the sandbox mounts it read-only at
    its own path, so the checkout's folder exists in the kernel, root-owned, holding only that
    mount, and the venv's paths (``sys.executable``, site-packages in a traceback) are seen
    there: then every other entry of the checkout (rubrics/, solutions/, tests/, grader/,
    out/, README.md, ...): its path in anything the notebook read or the reports show means
    it was listed or read."""
    python = python_installation() if python is None else python
    top = os.path.realpath(root)
    if not any(p == top or p.startswith(top + "/") for p in python):
        return [top]
    out = []
    for name in sorted(os.listdir(top)):
        path = os.path.join(top, name)
        if any(p == path or p.startswith(path + "/") for p in python):
            continue  # the Python installation, or a folder holding it
        # ".v" next to ".venv" would match the venv's own paths: only as a folder, then
        out.append(path + "/" if any(p.startswith(path) for p in python) else path)
    return out


def leak_problems(where: str, text: str, *, forbidden: list[str], lines: set[str]) -> list[str]:
    out = []
    for needle in forbidden:
        if needle and needle in text:
            i = text.index(needle)
            out.append(f"{where} contains {needle!r}: ...{text[max(0, i - 150):i + 150]!r}...")
    hits = [ln for ln in lines if ln in text]
    if hits:
        out.append(f"{where} contains {len(hits)} line(s) of rubrics/ or solutions/, e.g. {sorted(hits)[:3]!r}")
    return out


# ------------------------------------------------------------------------------- grading
_SUBPROCESS = r"""
import json, os, resource, sys, time
from pathlib import Path
from grader import api
import grader.sandbox.session, nbclient  # imported before the baseline

def hwm_kb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

path, limits, out = Path(sys.argv[1]), json.loads(sys.argv[2]), Path(sys.argv[3])
rb = api.load_rubric(assignment="week3_nn_basic")
rb.limits = rb.limits.override(limits, source="test")
api.reference_for(rb)
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # reset the peak (VmHWM) to the current RSS
except OSError:
    pass
before, hwm_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, hwm_kb()
t0 = time.perf_counter()
result = api.grade_notebook(path, rb, executed_out=out.with_suffix(".executed.ipynb"))
wall = time.perf_counter() - t0
after, hwm_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, hwm_kb()
out.write_text(json.dumps({"result": result, "wall": wall, "rss_before_kb": before, "rss_after_kb": after,
                           "hwm_before_kb": hwm_before, "hwm_after_kb": hwm_after}))
"""


class GradingHung(BaseException):
    """Raised by the watchdog in the main thread (not an Exception: the engine must not catch it)."""


@contextmanager
def watchdog(seconds: float, what: str) -> Iterator[None]:
    def fire(signum: int, frame: Any) -> None:
        faulthandler.dump_traceback(all_threads=True)
        raise GradingHung(f"{what} did not return within {seconds:.0f} s (stacks dumped to stderr)")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(int(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def grade_in_subprocess(path: Path, work: Path, timeout: float) -> tuple[dict[str, Any], float, int, dict[str, Any]]:
    out = work / "sub_result.json"
    proc = subprocess.Popen([sys.executable, "-c", _SUBPROCESS, str(path), json.dumps(LIMITS), str(out)],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        raise AssertionError(
            f"grading subprocess did not finish in {timeout:.0f} s; stderr: {stderr[-2000:]!r}"
        ) from None
    if proc.returncode != 0 or not out.exists():
        raise AssertionError(
            f"grading subprocess failed (exit {proc.returncode}); stderr: {stderr.decode(errors='replace')[-3000:]}"
        )
    data = json.loads(out.read_text())
    data["executed"] = out.with_suffix(".executed.ipynb")
    return data["result"], data["wall"], proc.pid, data


def stored_output_bytes(path: Path) -> int:
    """Bytes of outputs (as JSON) an executed notebook keeps, over all cells."""
    nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    return sum(len(json.dumps(c.get("outputs", []), ensure_ascii=False)) for c in nb.get("cells", []))


def rubric_with_limits() -> Any:
    rb = api.load_rubric(assignment="week3_nn_basic")
    rb.limits = rb.limits.override(LIMITS, source="test")
    return rb


PROBE_SOURCE = """\
import os as _grader_test_os
def _grader_test_probe():
    caps = {}
    with open('/proc/self/status') as fh:
        for line in fh:
            if line.startswith(('Cap', 'Uid', 'Gid', 'NoNewPrivs')):
                key, _, value = line.partition(':')
                caps[key] = value.split()
    return {'uid': _grader_test_os.getuid(), 'euid': _grader_test_os.geteuid(),
            'gid': _grader_test_os.getgid(), 'env': dict(_grader_test_os.environ), 'status': caps}
NAME = _grader_test_probe()
def _grader_test_exists(*paths):
    return {p: _grader_test_os.path.lexists(p) for p in paths}
"""


def run_in_session(rubric: Any, path: Path, fetch: list[str],
                   exists: list[str] | None = None) -> tuple[Any, dict[str, Any]]:
    """Run the notebook in a KernelSession with probe cells first and last; fetch globals;
    then (after the data channel has been used) ask the kernel which of ``exists`` exist."""
    nb = nbio.load(path)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROBE_SOURCE.replace("NAME", "_GRADER_TEST_PROBE_FIRST")))
    nb.cells.append(nbformat.v4.new_code_cell(PROBE_SOURCE.replace("NAME", "_GRADER_TEST_PROBE_LAST")))
    got: dict[str, Any] = {}
    with KernelSession(limits=rubric.limits, files=rubric.files, setup_code=setup_code(rubric.serve_urls)) as ks:
        report = ks.run_notebook(nb)
        ns = StudentNamespace(ks)
        for name in ["_GRADER_TEST_PROBE_FIRST", "_GRADER_TEST_PROBE_LAST", *fetch]:
            try:
                got[name] = ns.get(name)
            except Exception as exc:  # noqa: BLE001 - recorded, asserted on by the caller
                got[name] = exc
        if exists:
            try:
                got["_exists"] = ns.call("_grader_test_exists", *exists)
            except Exception as exc:  # noqa: BLE001 - whatever it raises is what the test looks at
                got["_exists"] = exc
    return report, got


def allowed_env() -> set[str]:
    mech = detect_mechanism()[0]
    keys = set(Launch(Path("/nonexistent"), Limits(), mech, None).env())
    return keys | {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} | IPYKERNEL_ENV


def probe_problems(got: dict[str, Any], checks: set[str]) -> list[str]:
    out = []
    probes = {k: v for k, v in got.items() if k.startswith("_GRADER_TEST_PROBE")}
    good = {k: v for k, v in probes.items() if isinstance(v, dict)}
    if "_GRADER_TEST_PROBE_FIRST" not in good:
        out.append(f"the probe cell could not run in the kernel: {probes}")
    allowed = allowed_env()
    for key, p in good.items():
        if "kernel_not_root" in checks:
            if p["uid"] == 0 or p["euid"] == 0 or p["gid"] == 0:
                out.append(f"{key}: the kernel runs as root (uid {p['uid']}, euid {p['euid']}, gid {p['gid']})")
            for cap in ("CapEff", "CapPrm", "CapAmb"):
                value = p["status"].get(cap, ["?"])[0]
                if value.strip("0") != "":
                    out.append(f"{key}: the kernel holds capabilities ({cap} {value})")
        if "env_minimal" in checks:
            extra = sorted(set(p["env"]) - allowed)
            if extra:
                out.append(f"{key}: kernel environment has variables outside the allow-list: {extra}")
            if any(SECRET in str(v) for v in p["env"].values()):
                out.append(f"{key}: the grader's GRADER_TEST_SECRET reached the kernel's environment")
    return out


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def adv_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    try:
        import make_adversarial
    finally:
        sys.path.remove(str(ROOT / "tests" / "fixtures"))
    d = tmp_path_factory.mktemp("adversarial")
    make_adversarial.build_all(d, big=True)
    return d


@pytest.fixture(scope="session")
def rubric() -> Any:
    return rubric_with_limits()


@pytest.fixture(scope="session")
def hidden_lines() -> set[str]:
    lines = secret_lines()
    assert HIDDEN_MARKER in lines, "the hidden-test marker line moved; update HIDDEN_MARKER"
    return lines


@pytest.fixture(scope="session")
def summary_rows(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    rows: list[dict[str, Any]] = []
    yield rows
    path = Path(os.environ.get("ADVERSARIAL_SUMMARY", tmp_path_factory.getbasetemp() / "adversarial_summary.json"))
    path.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None and rows:
        tr.write_line("")
        tr.write_line(f"adversarial fixtures graded: {len(rows)} (table in {path})")
        for r in rows:
            tr.write_line(f"  {r['name']:<36} {r['status']:<8} {r['score']:>6} {r['wall']:>7.1f}s"
                          f"  {'ok' if not r['problems'] else str(len(r['problems'])) + ' problem(s)'}")


def _params() -> list[Any]:
    out = []
    for name in MANIFEST:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[name])] if name in XFAIL else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def _setup_other_submissions(tmp: Path, fixture_path: Path) -> tuple[Path, list[str]]:
    """A class folder: this submission, another student's holding a canary, and a gradebook."""
    cls = tmp / "class"
    mine = cls / "student_a" / fixture_path.name
    mine.parent.mkdir(parents=True)
    shutil.copyfile(fixture_path, mine)
    other = cls / "student_b" / "week3_nn_basic.ipynb"
    other.parent.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(f"# {OTHER_CANARY}\ndef sigmoid(x):\n    return 0"))
    nbformat.write(nb, other)
    (cls / "out").mkdir()
    con = sqlite3.connect(cls / "out" / "gradebook.sqlite")
    con.execute(f"CREATE TABLE canary_{OTHER_CANARY.replace('-', '_')} (student TEXT)")
    con.execute(f"INSERT INTO canary_{OTHER_CANARY.replace('-', '_')} VALUES ('{OTHER_CANARY}')")  # noqa: S608 - constants
    con.commit()
    con.close()
    return mine, [str(cls), OTHER_CANARY, OTHER_CANARY.replace("-", "_")]


LEAK_GLOBALS = {"reads_hidden_tests": "LEAKED", "reads_other_submissions": "OTHERS", "env_snooping": "ENV"}

# What a restarted kernel or the grader's own helper code must never trigger (the fixtures'
# "needs"): files in the kernel's scratch folder or /tmp, as the kernel sees them after the
# notebook ran and the data channel was used, and globals planted for a restarted kernel.
SCRATCH_CANARIES = {
    "plants_files_for_kernel_restart": (
        ["RESTART_HIJACKED", "/tmp/grader_pwned_restart"],  # noqa: S108 - the file the attack plants, looked for
        ["RESTART_HIJACKED"],
    ),
    "shadows_modules_in_cwd": (["SHADOW_MODULE_IMPORTED"], []),
}


# ------------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("name", _params())
def test_adversarial_fixture(name: str, adv_dir: Path, rubric: Any, hidden_lines: set[str],
                             summary_rows: list[dict[str, Any]], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    fx = MANIFEST[name]
    mechanism = detect_mechanism()[0]
    if fx["unsafe_outside_sandbox"] and mechanism not in SANDBOXES:
        pytest.skip(f"{name} harms the host outside the sandbox and the sandbox here is {mechanism!r}")
    checks = set(fx["checks"])
    path = adv_dir / fx["filename"]
    assert path.is_symlink() or path.is_file(), f"fixture {path} was not built"
    # what no report may show: the repository, the hidden side, the grader's secret, and other
    # submissions (their paths); what the kernel sees must not even hold the submissions' folder
    forbidden = [*repository_paths(), "rubrics/week3_nn_basic", "solutions/week3_nn_basic", "tests/hidden/test_",
                 SECRET,
                 *(str(adv_dir / f["filename"]) for n, f in MANIFEST.items() if n != name)]
    if name == "reads_other_submissions":
        path, extra = _setup_other_submissions(tmp_path, path)
        forbidden += extra
    forbidden_in_kernel = [*forbidden, str(adv_dir), str(path.parent)]
    # lines of rubrics/ or solutions/ the submission holds itself are its own work, not a leak
    # (the fixtures' honest XOR reads exactly like the reference's)
    secret = hidden_lines - own_lines(path)

    # -- before
    canaries = [expand(p) for p in fx.get("canary_paths", [])]
    for c in canaries:
        remove_canary(c)
    before = fingerprint(path)
    before_site = site_snapshot()
    before_dir = sorted(p.name for p in adv_dir.iterdir())
    baseline = snapshot_pids()
    monkeypatch.setenv("GRADER_TEST_SECRET", SECRET)
    listeners = Listeners() if "no_network" in checks else None
    if listeners is not None:
        monkeypatch.setenv("GRADER_TEST_LISTEN_PORT", str(listeners.port))

    # -- grade
    problems: list[str] = []
    notes: list[str] = []
    received: list[str] = []
    rss: dict[str, Any] = {}
    executed = tmp_path / "executed.ipynb"
    try:
        if "grader_memory_bounded" in checks:
            result, wall, grader_pid, rss = grade_in_subprocess(path, tmp_path, timeout=fx["max_wall_seconds"] + 180)
            executed = rss["executed"]
        else:
            grader_pid = os.getpid()
            t0 = time.perf_counter()
            try:
                with watchdog(fx["max_wall_seconds"] + 15, f"grading {name}"):
                    result = api.grade_notebook(path, rubric, executed_out=executed)
            finally:
                wall = time.perf_counter() - t0
    finally:
        if listeners is not None:
            received = listeners.close()
            notes += listeners.notes + [f"listened on port {listeners.port} and 9"]
    uids = kernel_uids_of(grader_pid)

    # -- 1. a result, in bounded time, with a status from the manifest
    status, reason = result["status"], result["reason"]
    cells = [(c["index"], c["status"], c["error"][:80]) for c in result["cells"]][:8]
    evidence = (f"status={status!r} score={result['score']} wall={wall:.1f}s sandbox={result['sandbox']!r} "
                f"reason={reason[:400]!r} cells={cells}")
    if wall > fx["max_wall_seconds"]:
        problems.append(f"took {wall:.1f} s, more than max_wall_seconds={fx['max_wall_seconds']}")
    if status not in fx["expected_status"]:
        problems.append(f"status {status!r} not in {fx['expected_status']}")
    if status != "graded" and not reason.strip():
        problems.append(f"status {status!r} with an empty reason")
    if status != "invalid" and result["sandbox"] != mechanism:
        problems.append(f"graded with sandbox {result['sandbox']!r}, expected {mechanism!r}")

    # -- 2. credit
    problems += credit_problems(fx, result)

    # -- 3. checks
    if "grader_memory_bounded" in checks:
        notes.append(f"ru_maxrss {rss['rss_before_kb'] // 1024} -> {rss['rss_after_kb'] // 1024} MB, "
                     f"VmHWM {rss['hwm_before_kb'] // 1024} -> {rss['hwm_after_kb'] // 1024} MB")
        for what, a, b in (("ru_maxrss", "rss_before_kb", "rss_after_kb"), ("VmHWM", "hwm_before_kb", "hwm_after_kb")):
            growth_mb = (rss[b] - rss[a]) / 1024
            if growth_mb > RSS_GROWTH_LIMIT_MB:
                problems.append(f"grading process peak RSS ({what}) grew by {growth_mb:.0f} MB during the call "
                                f"({rss[a] // 1024} -> {rss[b] // 1024} MB), limit {RSS_GROWTH_LIMIT_MB} MB")
        size = len(api.result_json(result).encode())
        if size > STORED_LIMIT_BYTES:
            problems.append(f"result JSON is {size / 2**20:.1f} MiB: not truncated")
        if executed.exists():
            kept = stored_output_bytes(executed)
            cap = 2 * rubric.limits.max_output_kb * 1024 + 256 * 1024
            notes.append(f"stored outputs {kept / 1024:.0f} KiB (JSON), executed notebook "
                         f"{executed.stat().st_size / 1024:.0f} KiB")
            if kept > cap:
                problems.append(f"the executed notebook stores {kept / 2**20:.1f} MiB of outputs (JSON), more than "
                                f"2 x max_output_kb + 256 KiB = {cap / 2**20:.2f} MiB: outputs not truncated")
    if "no_network" in checks and received:
        problems.append(f"the loopback listeners received {len(received)} connection(s)/datagram(s): {received[:5]}")
    if "no_hidden_leak" in checks:
        texts = {"result JSON": api.result_json(result)}
        try:
            from grader.report import html

            texts["HTML report"] = html.render(result, lang="ko")
        except Exception as exc:  # noqa: BLE001 - any failure to render is reported as a problem
            problems.append(f"the HTML report could not be rendered: {type(exc).__name__}: {exc}")
        if executed.exists():
            problems += leak_problems("the stored outputs (executed notebook)",
                                      executed.read_text(encoding="utf-8", errors="replace"),
                                      forbidden=forbidden_in_kernel, lines=secret)
        if name == "symlink_to_etc_passwd":
            passwd = Path("/etc/passwd").read_text(errors="replace").splitlines()
            forbidden += ["root:x:0:0", *[ln for ln in passwd if len(ln) > 20][:5]]
        for where, text in texts.items():
            problems += leak_problems(where, text, forbidden=forbidden, lines=secret)

    session_checks = checks & {"no_hidden_leak", "kernel_not_root", "env_minimal"}
    if (session_checks or name in SCRATCH_CANARIES) and status != "invalid":
        fetch = [LEAK_GLOBALS[name]] if name in LEAK_GLOBALS else []
        files, planted = SCRATCH_CANARIES.get(name, ([], []))
        repo = [p.rstrip("/") for p in repository_paths()] if "no_hidden_leak" in checks else []
        with watchdog(fx["max_wall_seconds"] + 15, f"running {name} in a KernelSession"):
            report, got = run_in_session(rubric, path, fetch + planted, exists=files + repo)
        problems += probe_problems(got, checks)
        for g in planted:
            if not isinstance(got[g], MissingName):
                problems.append(f"the global {g} planted for a restarted kernel is defined: {got[g]!r:.200}")
        if files or repo:
            seen = got["_exists"]
            if not isinstance(seen, dict):
                problems.append(f"could not ask the kernel about {files + repo}: {seen!r:.300}")
            else:
                if any(seen.get(f) for f in files):
                    problems.append(f"the kernel sees {sorted(f for f in files if seen.get(f))} (hijack code ran "
                                    "in a restarted kernel, or a helper imported the student's modules)")
                if any(seen.get(r) for r in repo):
                    problems.append(f"the kernel sees the repository's {sorted(r for r in repo if seen.get(r))}")
        for g in fetch:
            value = got[g]
            if isinstance(value, Exception):
                problems.append(f"the fixture's global {g} could not be read back ({type(value).__name__}: {value}); "
                                f"cells: {[(c.index, c.status, c.error[:80]) for c in report.cells]}")
                continue
            text = json.dumps(value, ensure_ascii=False, default=repr)
            notes.append(f"{g}: {len(value) if hasattr(value, '__len__') else '?'} entries, {len(text)} chars")
            problems += leak_problems(f"what the notebook read ({g}, {len(text)} chars)", text,
                                      forbidden=forbidden_in_kernel, lines=secret)
            if name == "env_snooping" and isinstance(value, dict):
                extra = sorted(k for k in value if ":" not in k and k not in allowed_env())
                if extra:
                    problems.append(f"ENV: kernel environment has variables outside the allow-list: {extra}")

    # no_leftover_processes, asserted for every fixture: a leftover would also poison the next one
    left = leftover_processes(uids, baseline)
    if left:
        kill_leftovers(left)
        problems.append(f"{len(left)} process(es) outlived grading: " + "; ".join(map(str, left[:8])))
    for c in canaries:
        if c.exists() or c.is_symlink():
            problems.append(f"canary {c} exists on the host after grading")
    if fingerprint(path) != before:
        problems.append(f"the submission file {path.name} was changed")
    if "no_files_outside_scratch" in checks or "no_network" in checks:
        after_dir = sorted(p.name for p in adv_dir.iterdir()) if adv_dir.exists() else []
        if after_dir != before_dir:
            problems.append(f"the fixture folder changed: +{sorted(set(after_dir) - set(before_dir))} "
                            f"-{sorted(set(before_dir) - set(after_dir))}")
        after_site = site_snapshot()
        for d, names in after_site.items():
            new = sorted(set(names) - set(before_site.get(d, [])))
            if new:
                problems.append(f"{d} gained {new}")
        for stray in ("pwned", "zz_grader_pwned.pth"):
            for d in (path.parent, path.parent.parent):
                if (d / stray).exists():
                    problems.append(f"{d / stray} exists after grading")

    summary_rows.append({"name": name, "status": status, "score": result["score"], "wall": round(wall, 1),
                         "sandbox": result["sandbox"], "reason": reason[:300], "problems": problems, "notes": notes,
                         "rss_growth_mb": (
                             round((rss["hwm_after_kb"] - rss["hwm_before_kb"]) / 1024, 1) if rss else None
                         ),
                         "tasks": {t["name"]: t["score"] for t in result["tasks"]}})
    if problems:
        pytest.fail(f"{name}: {evidence}\n  - " + "\n  - ".join(problems), pytrace=False)


def test_batch_goes_on(adv_dir: Path, rubric: Any, tmp_path: Path) -> None:
    """A batch with the nastiest fixtures still gives every submission a gradebook row."""
    mechanism = detect_mechanism()[0]
    if mechanism not in SANDBOXES:
        pytest.skip(f"the batch holds fixtures unsafe outside the sandbox; the sandbox here is {mechanism!r}")
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in BATCH:
        shutil.copyfile(adv_dir / MANIFEST[name]["filename"], folder / MANIFEST[name]["filename"])
    shutil.copyfile(PASSES_ALL, folder / "passes_all.ipynb")
    baseline = snapshot_pids()
    out = tmp_path / "out"
    t0 = time.perf_counter()
    summary = batch.grade([folder], out, rubric=rubric, jobs=2, limit_overrides=LIMITS)
    wall = time.perf_counter() - t0
    with Gradebook(out / "gradebook.sqlite") as gb:
        rows = {r.submission: r.to_dict() for r in gb.results(assignment=rubric.assignment)}
    want = {MANIFEST[n]["filename"] for n in BATCH} | {"passes_all.ipynb"}
    assert set(rows) == want, f"gradebook rows {sorted(rows)}; summary {summary}"
    assert not summary.interrupted
    problems = []
    assert rows["passes_all.ipynb"]["score"] == 100.0, rows["passes_all.ipynb"]["reason"]
    assert rows["passes_all.ipynb"]["status"] == "graded"
    for name in BATCH:
        fx, r = MANIFEST[name], rows[MANIFEST[name]["filename"]]
        # whether the status is the manifest's is test_adversarial_fixture's business (one
        # root cause, one failure); here: a real status, explained, and the honest work credited
        if r["status"] not in ("graded", "partial", "timeout", "crashed", "invalid"):
            problems.append(f"{name}: unknown status {r['status']!r} ({r['reason'][:200]})")
        if r["status"] != "graded" and not r["reason"].strip():
            problems.append(f"{name}: status {r['status']!r} with an empty reason")
        problems += [f"{name}: {p}" for p in credit_problems(fx, r)]
        if not (out / "submissions" / Path(fx["filename"]).stem / "result.json").is_file():
            problems.append(f"{name}: no result.json written")
    # kernels of the (now finished) workers: uids 1_000_000 + worker pid, none may remain
    deadline = time.monotonic() + 5
    while True:
        orphans = [p for p in processes() if p.key not in baseline and p.state != "Z" and (
            SLEEPER.search(p.cmd) or (kernel_like(p.uid) and not any(_alive(o) for o in owners_of(p.uid))))]
        if not orphans or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if orphans:
        kill_leftovers(orphans)
        problems.append(f"{len(orphans)} kernel process(es) outlived the batch: " + "; ".join(map(str, orphans[:8])))
    table = {n: (rows[MANIFEST[n]["filename"]]["status"], rows[MANIFEST[n]["filename"]]["score"]) for n in BATCH}
    if problems:
        pytest.fail(f"batch in {wall:.0f} s: {table}\n  - " + "\n  - ".join(problems), pytrace=False)


# ------------------------------------------------------- the detectors themselves can fail
def test_detectors_see_what_they_look_for(hidden_lines: set[str], tmp_path: Path) -> None:
    """Negative controls: each check above does fire on the thing it looks for."""
    # leaks: a line of a hidden test, the repository path, the secret
    hidden_src = (ROOT / "rubrics" / "week3_nn_basic" / "tests" / "hidden" / "test_backprop.py").read_text(
        encoding="utf-8"
    )
    assert leak_problems("x", hidden_src, forbidden=[], lines=hidden_lines)
    assert leak_problems("x", f"opened {ROOT}/grader/api.py", forbidden=[str(ROOT)], lines=set())
    assert not leak_problems("x", "def AND(x1, x2): return 0", forbidden=[str(ROOT), SECRET], lines=hidden_lines)
    # a submission's own lines are not counted, and only those: the hidden tests' still are
    own = own_lines(ADVERSARIAL / "env_snooping.ipynb")
    assert "return AND(NAND(x1, x2), OR(x1, x2))" in own and not own & {HIDDEN_MARKER}
    assert leak_problems("x", hidden_src, forbidden=[], lines=hidden_lines - own)
    assert own_lines(ADVERSARIAL / "binary_garbage.ipynb") == set()
    # the repository's paths: all of it, or all but a virtualenv inside it (whose paths are no leak)
    repo = tmp_path / "checkout"
    for entry in ("rubrics", "solutions", "tests", "out", ".v", ".venv/lib/python3.11/site-packages"):
        (repo / entry).mkdir(parents=True)
    (repo / "README.md").write_text("x")
    outside = repository_paths(repo, python=["/usr/local"])
    assert outside == [str(repo)]
    venv = str(repo / ".venv")
    inside = repository_paths(repo, python=["/usr/local", venv])
    assert inside == [f"{repo}/.v/", f"{repo}/README.md", f"{repo}/out", f"{repo}/rubrics", f"{repo}/solutions",
                      f"{repo}/tests"], inside
    for seen in (f"{repo}/rubrics/week3_nn_basic/rubric.toml", f"listing of {repo}: {repo}/README.md", f"{repo}/out"):
        assert leak_problems("x", seen, forbidden=inside, lines=set()), seen
    assert not leak_problems("x", f"{venv}/bin/python\0-c\0...\n{venv}/lib/python3.11/site-packages/numpy/x.py "
                                  f"listing of {repo}: {venv}", forbidden=inside, lines=set())
    assert leak_problems("x", f"{venv}/bin/python", forbidden=outside, lines=set())
    # listeners: a TCP connection and a UDP datagram to the exported port are recorded
    ls = Listeners()
    with socket.create_connection(("127.0.0.1", ls.port), timeout=5) as c:
        c.sendall(b"hello")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.sendto(b"hello", ("127.0.0.1", ls.port))
    got = ls.close()
    assert any(g.startswith("tcp") for g in got) and any(g.startswith("udp") for g in got), got
    # processes: a new `sleep 100x` is found (and ended by its pid)
    baseline = snapshot_pids()
    proc = subprocess.Popen(["sleep", "1009"])
    try:
        found = leftover_processes(set(), baseline, grace=0.5)
        assert [p.pid for p in found] == [proc.pid], found
        assert leftover_processes({os.getuid()}, baseline, grace=0.1), "uid scan finds the process"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not leftover_processes(set(), baseline, grace=2)
    # credit: a passed test about a name that is not honest is flagged; a failed honest one too
    fx = {"honest": ["AND"], "may_credit": []}
    res = {"tests": [{"name": "hidden/test_random_arrays[ReLU-1d]", "task": "activations", "status": "passed",
                      "score": 1.0, "max_score": 1.0, "message": ""},
                     {"name": "test_truth_table[AND]", "task": "gates", "status": "failed",
                      "score": 0.0, "max_score": 3.0, "message": "no"}], "tasks": []}
    assert len(credit_problems(fx, res)) == 2
