"""Warm kernels (forkserver) must change nothing but speed: same results, same isolation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from grader import api
from grader.sandbox import KernelSession, SparePool, detect_mechanism
from grader.sandbox import forkserver

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.skipif(not forkserver.usable(), reason="warm kernels need root and Linux namespaces"),
]

FIXTURES = Path(__file__).parent.parent / "fixtures" / "notebooks" / "week3"
CASES = [
    "passes_all", "backprop_first_revision", "syntax_error_one_cell", "raises_in_call", "forward_relu_hidden",
    "perceptron_labels_0_1", "weights_as_list_broadcast", "sigmoid_overflow_nan", "missing_function",
    "step_function_scalar_only", "reads_iris_url", "uses_np_int",
]


def _cold() -> str:
    try:
        return detect_mechanism("bwrap")[0]
    except Exception:
        return "rlimits"


@pytest.fixture(scope="module")
def rubric():
    return api.load_rubric(assignment="week3_nn_basic")


@pytest.mark.parametrize("name", CASES)
def test_warm_and_cold_kernels_give_byte_identical_results(rubric, name):
    path = FIXTURES / f"{name}.ipynb"
    warm = api.grade_notebook(path, rubric, sandbox="forkserver")
    cold = api.grade_notebook(path, rubric, sandbox=_cold())
    assert warm["sandbox"] == "forkserver"

    def comparable(r):
        return api.result_json({k: v for k, v in r.items() if k not in ("timings", "sandbox")})

    assert comparable(warm) == comparable(cold)


REPO = Path(__file__).resolve().parents[2]


def repository_paths() -> list[str]:
    """What of the repository the kernel must not see: all of it, or, when the Python
    installation lies inside it (a virtualenv made the README's way, ``<checkout>/.venv``, which
    the sandbox mounts read-only at its own path, so the checkout's folder exists in the kernel
    as a root-owned skeleton holding only that mount), every entry of it but that one."""
    from grader.sandbox.launch import _python_roots

    python = {os.path.realpath(p) for p in _python_roots()} | set(_python_roots())
    top = os.path.realpath(REPO)
    if not any(p == top or p.startswith(top + "/") for p in python):
        return [top]
    return [os.path.join(top, n) for n in sorted(os.listdir(top))
            if not any(p == os.path.join(top, n) or p.startswith(os.path.join(top, n) + "/") for p in python)]


PROBE = r'''
import os, socket, json
out = {"uid": os.getuid(), "root": sorted(os.listdir("/")),
       "pids": len([p for p in os.listdir("/proc") if p.isdigit()]),
       "repo": [p for p in REPO_PATHS if os.path.lexists(p)], "env": sorted(os.environ), "home": os.environ.get("HOME")}
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1); out["net"] = "open"
except OSError:
    out["net"] = "closed"
for path in ("/etc/x", "/usr/x"):
    try:
        open(path, "w"); out[path] = "writable"
    except OSError:
        out[path] = "read-only"
open("/tmp/t", "w").write("x")
open("scratch.txt", "w").write("x")
PROBE = json.dumps(out)
'''.replace("REPO_PATHS", repr(repository_paths()))


@pytest.mark.parametrize("mechanism", ["forkserver", "bwrap"])
def test_isolation_inside_the_kernel(mechanism):
    if mechanism == "bwrap" and _cold() != "bwrap":
        pytest.skip("bubblewrap not available")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    with KernelSession(sandbox=mechanism) as ks:
        report = ks.run_notebook(nb)
        assert [c.status for c in report.cells] == ["ok"], report.cells
        seen = json.loads(ks.request({"op": "get", "name": "PROBE"}, what="probe"))
        uid = ks.kernel.launch.uid
    assert seen["uid"] == uid and uid != 0
    assert seen["pids"] <= 2  # only the sandbox's own processes are visible
    assert seen["repo"] == []  # nothing of the grader's repository (rubrics, solutions, tests, out) is there
    assert seen["net"] == "closed"
    assert seen["/etc/x"] == seen["/usr/x"] == "read-only"
    # the system's folders, and the top folders of the Python installation (/root of a pyenv's, /work of
    # a <checkout>/.venv under /work), each holding only that read-only mount
    from grader.sandbox.launch import _python_roots

    tops = {r.strip("/").split("/")[0] for r in _python_roots()}
    system = {"bin", "dev", "etc", "lib", "lib32", "lib64", "proc", "root", "sbin", "tmp", "usr"}
    assert set(seen["root"]) <= system | tops
    for key in seen["env"]:
        assert not key.startswith(("GRADER", "SSH", "AWS", "GITHUB", "CI", "PYTEST", "VIRTUAL_ENV")), key


def test_spare_kernels_are_fresh_for_every_submission():
    """With spares, each submission still gets a kernel no other submission touched."""
    first = nbformat.v4.new_notebook()
    first.cells = [nbformat.v4.new_code_cell("LEFTOVER = 42\nimport os\nopen('mark.txt', 'w').write('x')")]
    second = nbformat.v4.new_notebook()
    second.cells = [nbformat.v4.new_code_cell("import os\nSEEN = os.path.exists('mark.txt')")]
    from grader.config import Limits

    uids = []
    pool = SparePool()
    try:
        for nb, probe in ((first, None), (second, "SEEN")):
            with pool.take(limits=Limits(), sandbox="forkserver") as ks:
                ks.run_notebook(nb)
                uids.append(ks.kernel.launch.uid)
                if probe:
                    assert ks.request({"op": "has", "name": "LEFTOVER"}, what="has") is False
                    assert ks.request({"op": "get", "name": probe}, what="get") is False
        assert uids[0] != uids[1]
    finally:
        pool.close()
