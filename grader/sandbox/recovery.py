"""Recovery after a cell or a graded call hung or killed the kernel: interrupt, or restart and
replay the cells that worked, within two budgets.

Running the notebook may restart the kernel ``max_restarts`` times; the tests get their own,
larger allowance (four times that: each culprit is called at most once more). Past a budget,
or when a restart fails twice, the kernel is given up for good (``dead_for_good`` says why) and
everything after that is skipped or fails at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from grader.config import Limits
from grader.errors import CallTimeout, KernelDied
from grader.sandbox.kernel import Kernel
from grader.sandbox.shell import Unresponsive

log = logging.getLogger("grader.sandbox")


class Recovery:
    """The restart budgets, the cells to replay and what happened, for one kernel.

    ``prepare`` makes a restarted kernel usable (the grader's setup code, the probe);
    ``after_replay(index)`` runs after each replayed cell (the session takes a snapshot)."""

    def __init__(self, kernel: Kernel, limits: Limits, *, prepare: Callable[[], None],
                 after_replay: Callable[[int], None]) -> None:
        self.kernel = kernel
        self.limits = limits
        self.prepare = prepare
        self.after_replay = after_replay
        self.ok_cells: list[tuple[int, str]] = []  # (index, source) of the cells that ran, for replay
        self.restarts = 0  # while the notebook runs
        self.test_restarts = 0  # during the tests
        self.dead_for_good = ""
        self.events: list[str] = []

    def recover(self, why: str, *, testing: bool = False) -> None:
        """After a timeout or death: interrupt, or restart and replay the cells that worked."""
        self.events.append(why)
        if self.kernel.alive():
            try:
                self.kernel.interrupt()
                self.kernel.shell.run_code("None", timeout=5)
                if self.kernel.notebook_client is not None:
                    self.kernel.fresh_nb_client()
                return
            except Exception:  # noqa: BLE001 - any failure to recover in place means: restart
                log.debug("recovering in place failed: restarting", exc_info=True)
        self.restart(why, testing=testing)

    def _spend(self, testing: bool) -> bool:
        """Take one restart from the budget; False (and dead for good) when none is left."""
        if testing:
            if self.test_restarts >= 4 * self.limits.max_restarts:
                self.dead_for_good = f"gave up after {self.test_restarts} kernel restarts during the tests"
                return False
            self.test_restarts += 1
        else:
            if self.restarts >= self.limits.max_restarts:
                self.dead_for_good = f"gave up after {self.restarts} kernel restarts"
                return False
            self.restarts += 1
        return True

    def restart(self, why: str, *, testing: bool = False) -> None:
        """Restart the kernel and replay the cells that worked (``why``: for the log)."""
        if not self._spend(testing):
            return
        for attempt in (1, 2):
            # a restart that fails (seen rarely: a reply failing its signature check) is retried
            # once from a clean kill before the submission is given up
            try:
                self.kernel.restart()
                self.kernel.shell.ready(timeout=60)
                self.prepare()
                if self.kernel.notebook_client is not None:
                    self.kernel.fresh_nb_client()
                break
            except Exception as exc:  # noqa: BLE001 - any failure to restart is retried, then recorded
                log.warning("restart attempt %d failed (%s)", attempt, why, exc_info=True)
                if attempt == 2:
                    self.dead_for_good = f"the kernel could not be restarted ({type(exc).__name__}: {str(exc)[:200]})"
                    return
                self.events.append(f"a restart failed ({type(exc).__name__}); retried")
        for index, source in self.ok_cells:
            try:
                self.kernel.shell.run_code(source, timeout=self.limits.cell_timeout)
                self.after_replay(index)
            except (CallTimeout, KernelDied, Unresponsive) as exc:
                self.events.append(f"replaying a cell after restart failed: {exc}")
                if not self.kernel.alive():
                    return self.restart("replay killed the kernel", testing=testing)
