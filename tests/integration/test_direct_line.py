"""The probe's direct line (a Unix socket served from the kernel's event loop) must change
nothing but speed: the same results as shell messages, and every failure still recovered."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader import api
from grader.config import Limits
from grader.errors import BadResult, CallTimeout, KernelDied
from grader.sandbox import KernelSession, codec
from grader.sandbox.channel import DirectLine

pytestmark = pytest.mark.kernel

HERE = Path(__file__).parent.parent / "fixtures" / "notebooks"
# a cross-section of the week-3 corpus: complete, failing cells, a crash in a call, named
# mistakes, readings, functions judged as defined (snapshots), a dead training loop
WEEK3 = [
    "passes_all", "original_complete", "syntax_error_one_cell", "raises_in_call", "backprop_db_from_da",
    "backprop_x_first", "backprop_flat_only", "list_activations_redefined_sigmoid", "redefines_sigmoid_later",
    "training_left_as_given", "perceptron_labels_0_1", "untouched_blank",
]
# (not background_thread_mutates: its thread makes the values it returns vary between runs)
HOSTILE = [
    "raises_hostile_exceptions", "returns_huge_array", "segfault_in_graded_call", "redefines_builtins",
    "patches_numpy", "returns_deeply_nested", "alarm_signal_tamper",
]


@pytest.fixture(scope="module")
def rubric():
    return api.load_rubric(assignment="week3_nn_basic")


def _comparable(result: dict) -> str:
    return api.result_json({k: v for k, v in result.items() if k != "timings"})


@pytest.mark.parametrize("path", [HERE / "week3" / f"{n}.ipynb" for n in WEEK3]
                         + [HERE / "adversarial" / f"{n}.ipynb" for n in HOSTILE], ids=lambda p: p.stem)
def test_line_and_shell_messages_give_byte_identical_results(rubric, path, monkeypatch):
    with_line = api.grade_notebook(path, rubric)
    monkeypatch.setattr(DirectLine, "enabled", False)
    without = api.grade_notebook(path, rubric)
    assert _comparable(with_line) == _comparable(without)


def _session(source: str, **limits) -> KernelSession:
    session = KernelSession(limits=Limits(**{"call_timeout": 2.0, **limits}))
    session.run_notebook(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]))
    return session


def _call(session: KernelSession, name: str, *args):
    return session.request({"op": "call", "name": name, "args": codec.encode_args(list(args))}, what=name)


CODE = """
import os, time
import numpy as np
def add(a, b):
    return a + b
def hang():
    while True:
        pass
def die():
    os._exit(3)
def big():
    return np.zeros(300_000)
def deafen():
    # break ipykernel's own ways of answering: only the direct line is left
    k = get_ipython().kernel
    k.shell_handlers.pop("grader_request", None)
    k.shell_handlers["execute_request"] = lambda *a, **kw: None
    return 1
"""


def test_calls_travel_on_the_line_not_through_ipykernel():
    with _session(CODE) as s:
        assert s.channel.line.sock is not None
        assert _call(s, "deafen") == 1
        # no shell message and no executed code could answer these now
        assert [_call(s, "add", i, 1) for i in range(50)] == list(range(1, 51))
        assert _call(s, "add", np.arange(3), 1).tolist() == [1, 2, 3]


def test_a_hanging_call_times_out_and_the_line_is_opened_again():
    with _session(CODE) as s:
        with pytest.raises(CallTimeout):
            _call(s, "hang")
        assert _call(s, "add", 2, 3) == 5
        assert s.channel.line.sock is not None and s.restarts == 0 and s.test_restarts == 0


def test_a_call_that_kills_the_kernel_is_recovered_on_a_new_line():
    with _session(CODE) as s:
        with pytest.raises(KernelDied):
            _call(s, "die")
        assert s.test_restarts == 1
        assert _call(s, "add", 2, 3) == 5
        assert s.channel.line.sock is not None


def test_an_oversized_reply_is_refused_unread_and_the_next_call_works():
    with _session(CODE, max_result_mb=1) as s:
        with pytest.raises(BadResult, match="over the 1 MiB limit"):
            _call(s, "big")
        assert _call(s, "add", 2, 3) == 5


def test_a_garbled_or_closed_line_costs_one_request_at_most():
    with _session(CODE) as s:
        s.channel.line.sock.close()
        s.channel.line.sock = None
        assert _call(s, "add", 1, 1) == 2  # a new line was opened
        assert s.channel.line.sock is not None
        # the kernel's end is closed under the probe (the grader sees EOF): a slower way answers
        s.kernel.shell.run_code("import os, socket\nfor fd in os.listdir('/proc/self/fd'):\n"
                    "    try:\n        t = os.readlink('/proc/self/fd/' + fd)\n    except OSError:\n        continue\n"
                    "    if t.startswith('socket:'):\n"
                    "        s = socket.socket(fileno=int(fd))\n"
                    "        if s.family == socket.AF_UNIX and s.type == socket.SOCK_STREAM and 'line-' in\\\n"
                    "                str(s.getpeername() or '') + str(s.getsockname() or ''):\n"
                    "            s.close()\n"
                    "        else:\n            s.detach()\n", timeout=10)
        assert _call(s, "add", 2, 2) == 4
        assert _call(s, "add", 3, 3) == 6


def test_without_a_socket_for_the_line_calls_take_shell_messages(monkeypatch):
    # AF_UNIX paths are limited to about 100 bytes: a long TMPDIR must not stop grading
    import socket
    import types

    from grader.sandbox import channel as channel_mod

    class NoBind(socket.socket):
        def bind(self, *args):
            raise OSError(36, "File name too long")

    monkeypatch.setattr(channel_mod, "socket", types.SimpleNamespace(
        socket=NoBind, AF_UNIX=socket.AF_UNIX, SOCK_STREAM=socket.SOCK_STREAM))
    with _session(CODE) as s:
        assert s.channel.line.sock is None and s.channel.shell.answers
        assert _call(s, "add", 2, 3) == 5
        assert _call(s, "add", 4, 5) == 9


def test_many_requests_leave_no_reply_files():
    with _session(CODE) as s:
        for i in range(20):
            _call(s, "add", i, i)
        assert list(s.kernel.launch.out.iterdir()) == []
