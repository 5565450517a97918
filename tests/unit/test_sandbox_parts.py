"""The sandbox's parts on their own, with stand-ins for the kernel: the call guard, recovery's
budgets and replay, the channel's order of transports, the capped output, the spare pool."""

from __future__ import annotations

import threading
from typing import Any

import nbformat
import pytest

from grader.config import Limits
from grader.errors import BadResult, CallTimeout, KernelDied, MissingName, StudentError
from grader.sandbox import pool as pool_mod
from grader.sandbox.channel import Channel, TransportGone
from grader.sandbox.codec import interpret
from grader.sandbox.execution import CappedClient
from grader.sandbox.shell import Unresponsive
from grader.sandbox.recovery import Recovery
from grader.sandbox.session import CallGuard

# -- CallGuard ---------------------------------------------------------------------------------


def test_a_function_that_crashed_the_kernel_is_not_called_again():
    guard = CallGuard()
    guard.check("f", "f(...)", 5)
    guard.died("f", "f(...)", "SIGSEGV")
    with pytest.raises(KernelDied, match="crashed the kernel in an earlier test"):
        guard.check("f", "f(...)", 5)
    guard.check("g", "g(...)", 5)
    assert guard.events == ["the kernel died during f(...) (SIGSEGV)"]


def test_a_function_that_hung_twice_is_not_called_again_but_once_is_fine():
    guard = CallGuard()
    guard.timed_out("f", "f(...)", 5)
    guard.check("f", "f(...)", 5)
    guard.timed_out("f", "f(...)", 5)
    with pytest.raises(CallTimeout):
        guard.check("f", "f(...)", 5)
    guard.timed_out(None, "reading W", 5)
    guard.timed_out(None, "reading W", 5)
    guard.check(None, "reading W", 5)  # not a function: never blocked


# -- Recovery ------------------------------------------------------------------------------------


class FakeKernel:
    def __init__(self, *, alive: bool = True, restart_failures: int = 0, interrupt_works: bool = True) -> None:
        self.is_alive = alive
        self.restart_failures = restart_failures
        self.interrupt_works = interrupt_works
        self.log: list[str] = []
        self.notebook_client: Any = None
        self.shell = self  # the kernel's shell: run_code, ready

    def alive(self) -> bool:
        return self.is_alive

    def interrupt(self) -> None:
        self.log.append("interrupt")
        if not self.interrupt_works:
            raise RuntimeError("no")

    def run_code(self, code: str, *, timeout: float) -> dict[str, Any]:
        self.log.append(f"run {code}")
        return {"status": "ok"}

    def restart(self) -> None:
        self.log.append("restart")
        if self.restart_failures:
            self.restart_failures -= 1
            raise RuntimeError("Invalid Signature")
        self.is_alive = True

    def ready(self, *, timeout: float) -> None:
        self.log.append("ready")

    def fresh_nb_client(self) -> None:
        self.log.append("fresh client")


def _recovery(kernel: FakeKernel, max_restarts: int = 3) -> tuple[Recovery, list[int]]:
    replayed: list[int] = []
    rec = Recovery(kernel, Limits(max_restarts=max_restarts), prepare=lambda: kernel.log.append("prepare"),  # type: ignore[arg-type] - a stand-in kernel
                   after_replay=replayed.append)
    rec.ok_cells = [(1, "a = 1"), (3, "b = 2")]
    return rec, replayed


def test_a_live_kernel_is_interrupted_not_restarted():
    kernel = FakeKernel()
    rec, replayed = _recovery(kernel)
    rec.recover("cell 4 timed out")
    assert kernel.log == ["interrupt", "run None"]
    assert rec.restarts == 0 and rec.events == ["cell 4 timed out"] and replayed == []


def test_a_dead_kernel_is_restarted_prepared_and_the_good_cells_replayed_in_order():
    kernel = FakeKernel(alive=False)
    kernel.notebook_client = object()  # a notebook is running: nbclient gets a new client
    rec, replayed = _recovery(kernel)
    rec.recover("the kernel died in cell 4")
    assert kernel.log == ["restart", "ready", "prepare", "fresh client", "run a = 1", "run b = 2"]
    assert replayed == [1, 3] and rec.restarts == 1 and rec.test_restarts == 0


def test_each_budget_is_counted_apart_and_exhausting_one_gives_up():
    kernel = FakeKernel(alive=False)
    rec, _ = _recovery(kernel, max_restarts=1)
    rec.restart("x")
    assert rec.restarts == 1 and not rec.dead_for_good
    for _ in range(4):  # the tests' allowance: four times the notebook's
        rec.restart("y", testing=True)
    assert rec.test_restarts == 4 and not rec.dead_for_good
    rec.restart("z", testing=True)
    assert rec.dead_for_good == "gave up after 4 kernel restarts during the tests"
    rec.dead_for_good = ""
    rec.restart("again")
    assert rec.dead_for_good == "gave up after 1 kernel restarts"


def test_a_failed_restart_is_retried_once_then_the_kernel_is_given_up():
    kernel = FakeKernel(alive=False, restart_failures=1)
    rec, replayed = _recovery(kernel)
    rec.restart("died")
    assert rec.events == ["a restart failed (RuntimeError); retried"] and replayed == [1, 3]
    kernel = FakeKernel(alive=False, restart_failures=2)
    rec, replayed = _recovery(kernel)
    rec.restart("died")
    assert rec.dead_for_good == "the kernel could not be restarted (RuntimeError: Invalid Signature)"
    assert replayed == []


# -- Channel --------------------------------------------------------------------------------------


class FakeTransport:
    def __init__(self, name: str, log: list[str], *, usable: bool = True, outcome: Any = None) -> None:
        self.name, self.log, self.is_usable, self.outcome = name, log, usable, outcome

    def usable(self) -> bool:
        return self.is_usable

    def send(self, text: str, *, what: str, timeout: float, max_bytes: int) -> dict[str, Any]:
        self.log.append(self.name)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return {"ok": True, "value": self.name}


def _channel(*transports: FakeTransport) -> Channel:
    channel = Channel(object())  # type: ignore[arg-type]  # the transports below never touch it
    channel.transports = list(transports)
    return channel


def test_the_first_usable_transport_answers():
    log: list[str] = []
    channel = _channel(FakeTransport("line", log, usable=False), FakeTransport("shell", log),
                       FakeTransport("code", log))
    assert channel.send("{}", what="w", timeout=1, max_bytes=10) == {"ok": True, "value": "shell"}
    assert log == ["shell"]


def test_a_transport_that_is_gone_hands_the_request_to_the_next():
    log: list[str] = []
    channel = _channel(FakeTransport("line", log, outcome=TransportGone()),
                       FakeTransport("shell", log, outcome=TransportGone()), FakeTransport("code", log))
    assert channel.send("{}", what="w", timeout=1, max_bytes=10)["value"] == "code"
    assert log == ["line", "shell", "code"]


def test_a_timeout_or_a_death_is_not_hidden_by_trying_another_transport():
    for outcome in (Unresponsive(1), KernelDied("w", "SIGKILL"), BadResult("w", "garbled")):
        log: list[str] = []
        channel = _channel(FakeTransport("line", log, outcome=outcome), FakeTransport("code", log))
        with pytest.raises(type(outcome)):
            channel.send("{}", what="w", timeout=1, max_bytes=10)
        assert log == ["line"]


def test_replies_are_interpreted_as_values_or_the_students_problems():
    assert interpret({"ok": True, "value": 3}, "w") == 3
    with pytest.raises(MissingName):
        interpret({"missing": "forward"}, "w")
    with pytest.raises(StudentError, match="ValueError"):
        interpret({"error": {"type": "ValueError", "message": "bad", "traceback": []}}, "w")
    with pytest.raises(BadResult):
        interpret({"toobig": "the result is too big"}, "w")
    with pytest.raises(BadResult, match="malformed"):
        interpret({"what": 1}, "w")


# -- CappedClient ---------------------------------------------------------------------------------


def _stream(text: str) -> dict[str, Any]:
    return {"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {"msg_id": "p"},
            "content": {"name": "stdout", "text": text}}


def test_output_over_the_cap_is_replaced_by_one_note():
    client = CappedClient(nbformat.v4.new_notebook())
    client.kept_limit = 4096
    client.reset_caps()
    client.clear_before_next_output = False  # set by nbclient as a cell starts
    outs: list[Any] = []
    client.output(outs, _stream("a" * 1000), None, 0)
    client.output(outs, _stream("b" * 5000), None, 0)
    client.output(outs, _stream("c" * 10), None, 0)  # still fits: kept
    client.output(outs, _stream("d" * 5000), None, 0)
    assert [o.get("text", "")[:1] for o in outs] == ["a", "[", "c"]
    assert outs[1]["text"] == "[grader: output beyond 4 KiB was not kept]\n" and client.truncated
    client.cut(outs)  # output lost another way (too big to arrive): still one note
    assert len(outs) == 3


def test_output_lost_in_transit_is_noted():
    client = CappedClient(nbformat.v4.new_notebook())
    client.reset_caps()
    outs: list[Any] = []
    client.cut(outs)
    assert outs[0]["name"] == "stderr" and "was not kept" in outs[0]["text"] and client.truncated


# -- SparePool ------------------------------------------------------------------------------------


class FakePoolKernel:
    made: list[FakePoolKernel] = []

    def __init__(self, *, limits: Limits, mechanism: str, files: dict[str, bytes]) -> None:
        self.limits, self.files, self.closed_by = limits, files, ""
        FakePoolKernel.made.append(self)

    def close(self) -> None:
        self.closed_by = threading.current_thread().name


class FakeSession:
    fail_ready = False

    def __init__(self, *, limits: Limits, sandbox: str = "auto", files: dict[str, bytes] | None = None,
                 setup_code: str = "", kernel: FakePoolKernel | None = None, dispose: Any = None) -> None:
        self.kernel = kernel or FakePoolKernel(limits=limits, mechanism=sandbox, files=files or {})
        self.cold = kernel is None
        self.dispose = dispose
        self.timings: dict[str, float] = {}
        if FakeSession.fail_ready and not self.cold:
            dispose(self.kernel)
            raise RuntimeError("the spare did not start")

    def close(self) -> None:
        self.dispose(self.kernel)


@pytest.fixture
def fake_pool(monkeypatch: pytest.MonkeyPatch) -> Any:
    FakePoolKernel.made = []
    FakeSession.fail_ready = False
    monkeypatch.setattr(pool_mod, "Kernel", FakePoolKernel)
    monkeypatch.setattr(pool_mod, "KernelSession", FakeSession)
    monkeypatch.setattr(pool_mod, "detect_mechanism", lambda sandbox: (sandbox, ""))
    pool = pool_mod.SparePool()
    yield pool
    pool.close()


def test_the_pool_gives_the_spare_for_the_same_settings_and_prepares_the_next(fake_pool: Any):
    first = fake_pool.take(limits=Limits(), sandbox="bwrap")
    assert first.cold and len(FakePoolKernel.made) == 2  # the second one is the spare
    second = fake_pool.take(limits=Limits(), sandbox="bwrap")
    assert not second.cold and second.kernel is FakePoolKernel.made[1] and "kernel_start" in second.timings
    assert len(FakePoolKernel.made) == 3


def test_a_spare_for_other_settings_is_closed_and_the_session_starts_cold(fake_pool: Any):
    fake_pool.take(limits=Limits(), sandbox="bwrap")
    spare = FakePoolKernel.made[1]
    other = fake_pool.take(limits=Limits(cell_timeout=7), sandbox="bwrap")
    assert other.cold and other.kernel.limits.cell_timeout == 7
    fake_pool.close()
    assert spare.closed_by.startswith("grader-housekeeper")


def test_a_spare_that_did_not_start_means_a_cold_start(fake_pool: Any):
    FakeSession.fail_ready = True
    fake_pool.take(limits=Limits(), sandbox="bwrap")
    assert fake_pool.take(limits=Limits(), sandbox="bwrap").cold


def test_closing_the_pool_closes_the_spare_and_every_finished_kernel(fake_pool: Any):
    for _ in range(3):
        fake_pool.take(limits=Limits(), sandbox="bwrap").close()
    fake_pool.close()
    assert FakePoolKernel.made and all(k.closed_by for k in FakePoolKernel.made)
    # and it can be used again
    assert fake_pool.take(limits=Limits(), sandbox="bwrap").cold
