"""The kernel part on real kernels: it exists only started (a failed start leaves nothing),
a restart settles the signing key before the new process runs, and output too big to arrive
is noted and does not cost the next cells theirs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader.config import Limits
from grader.errors import KernelDied, SandboxError
from grader.sandbox import KernelSession, codec
from grader.sandbox import kernel as kernel_mod
from grader.sandbox.launch import detect_mechanism

pytestmark = pytest.mark.kernel


def _scratch_folders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    made: list[str] = []
    real = tempfile.mkdtemp

    def mkdtemp(**kwargs: str) -> str:
        made.append(real(**kwargs))
        return made[-1]

    monkeypatch.setattr(kernel_mod.tempfile, "mkdtemp", mkdtemp)
    return made


@pytest.mark.parametrize("where", ["prepare", "start"])
def test_a_kernel_that_cannot_start_raises_and_leaves_nothing(monkeypatch, where):
    made = _scratch_folders(monkeypatch)

    def fail(*args, **kwargs):
        raise OSError("no room")

    async def fail_async(*args, **kwargs):
        fail()

    if where == "prepare":
        monkeypatch.setattr(kernel_mod.Launch, "prepare", fail)
    else:
        monkeypatch.setattr(kernel_mod._KernelManager, "start_kernel", fail_async)
    with pytest.raises(SandboxError, match=r"the kernel could not be started \(no room\)"):
        kernel_mod.Kernel(limits=Limits(), mechanism=detect_mechanism()[0], files={})
    assert made and not Path(made[0]).exists()
    assert made[0] not in Path("/proc/mounts").read_text()


def test_a_closed_kernel_leaves_nothing_and_closing_twice_is_harmless(monkeypatch):
    made = _scratch_folders(monkeypatch)
    with KernelSession(limits=Limits()) as s:
        assert s.kernel.alive()
    assert not Path(made[0]).exists()
    s.close()
    s.kernel.close()


TAMPER = """
import json
from ipykernel import get_connection_file
def tamper():
    path = get_connection_file()
    info = json.load(open(path))
    info["key"] = "0" * 36
    open(path, "w").write(json.dumps(info))
    return True
def die():
    import os
    os._exit(1)
def add(a, b):
    return a + b
"""


def _call(s: KernelSession, name: str, *args):
    return s.request({"op": "call", "name": name, "args": codec.encode_args(list(args))}, what=name)


def test_a_restart_signs_with_the_key_the_new_kernel_reads():
    # the kernel can write its connection file; whatever is in it, the restarted kernel and the
    # grader must agree on the key before either signs a message
    with KernelSession(limits=Limits(call_timeout=5.0)) as s:
        s.run_notebook(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TAMPER)]))
        key = s.kernel.km.session.key
        assert _call(s, "tamper") is True
        with pytest.raises(KernelDied):
            _call(s, "die")
        assert s.test_restarts == 1 and not s.recovery.dead_for_good
        on_disk = json.loads(Path(s.kernel.km.connection_file).read_text(encoding="utf-8"))["key"]
        assert on_disk.encode() == s.kernel.km.session.key == key
        assert _call(s, "add", 2, 3) == 5


def test_output_too_big_to_arrive_is_noted_and_later_cells_keep_theirs():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('x' * 20_000_000)"),  # one message of 20 MB: over zmq's limit
        nbformat.v4.new_code_cell("print('after')"),
    ])
    with KernelSession(limits=Limits()) as s:
        report = s.run_notebook(nb)
    assert [c.status for c in report.cells] == ["ok", "ok"] and report.output_truncated
    assert [o["text"] for o in nb.cells[0].outputs] == ["[grader: output beyond 512 KiB was not kept]\n"]
    assert [o["text"] for o in nb.cells[1].outputs] == ["after\n"]


def test_output_too_big_to_arrive_is_noted_in_a_cell_that_then_times_out():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import sys, time\nprint('x' * 20_000_000)\nsys.stdout.flush()\ntime.sleep(60)"),
        nbformat.v4.new_code_cell("print('after')"),
    ])
    with KernelSession(limits=Limits(cell_timeout=4)) as s:
        report = s.run_notebook(nb)
    assert [c.status for c in report.cells] == ["timeout", "ok"]
    assert [o["text"] for o in nb.cells[0].outputs] == ["[grader: output beyond 512 KiB was not kept]\n"]
    assert [o["text"] for o in nb.cells[1].outputs] == ["after\n"]
