"""Job runners execute dispatch runs away from the request that asked for them.

The interface is ``submit(run_id)``; the in-process runner is the default (one worker thread
feeding a solver process). A distributed runner only has to implement the same interface.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import Clock
from dispatch.geo_support import GeoContext
from dispatch.planning.runs import RunSettings, execute_run, recover_interrupted
from dispatch.planning.solver import Solver

log = logging.getLogger("onsite.planning")


class JobRunner(Protocol):
    """Executes queued dispatch runs."""

    def submit(self, run_id: int) -> None: ...

    def close(self) -> None: ...


def submit_after_commit(session: Session, runner: JobRunner, run_id: int) -> None:
    """Hand ``run_id`` to the runner once the transaction that created it has committed."""

    def _submit(_session: Session) -> None:
        runner.submit(run_id)

    event.listen(session, "after_commit", _submit, once=True)


class _Runner:
    """What every runner holds: where runs are read, solved and written, and the time."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        geo: GeoContext,
        solver: Solver,
        clock: Clock,
        settings: RunSettings | None = None,
    ) -> None:
        self.factory = factory
        self.geo = geo
        self.solver = solver
        self.clock = clock
        self.settings = settings or RunSettings()

    def _execute(self, run_id: int) -> None:
        execute_run(
            self.factory, self.geo, self.solver, run_id, clock=self.clock, settings=self.settings
        )


RECOVER_EVERY_S = 30.0


class InProcessRunner(_Runner):
    """One worker thread running queued runs in order; solves go to ``solver``.

    At start, and every ``RECOVER_EVERY_S`` while idle, it takes over runs whose owner is gone
    (their lease expired) and any run still queued.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition()
        self._pending = 0
        self._submitted: set[int] = set()

    def start(self) -> None:
        """Recover runs a previous process left behind, then start the worker.

        A database that is not reachable yet does not stop the service from starting (the
        health check says so); the worker looks again every ``RECOVER_EVERY_S``.
        """
        try:
            self._recover()
        except Exception:
            log.exception("could not look for interrupted runs at start; will retry")
        self._ensure_thread()

    def _recover(self) -> None:
        for run_id in recover_interrupted(self.factory, now=self.settings.lease_clock.now()):
            with self._idle:
                known = run_id in self._submitted
            if not known:
                self.submit(run_id)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="dispatch-runs", daemon=True)
            self._thread.start()

    def submit(self, run_id: int) -> None:
        with self._idle:
            self._pending += 1
            self._submitted.add(run_id)
        self._queue.put(run_id)
        self._ensure_thread()

    def _work(self) -> None:
        try:
            self.solver.warm()
        except Exception:  # a cold first run is slower, not broken
            log.exception("could not warm the solver")
        while True:
            try:
                run_id = self._queue.get(timeout=RECOVER_EVERY_S)
            except queue.Empty:
                try:
                    self._recover()
                except Exception:  # the database may be away for a while; try again later
                    log.exception("could not look for interrupted runs")
                continue
            if run_id is None:
                return
            try:
                self._execute(run_id)
            except Exception:  # execute_run records failures itself; never kill the worker
                log.exception("dispatch run %s crashed the worker", run_id)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._submitted.discard(run_id)
                    self._idle.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every submitted run has finished (tests, benchmarks, demo)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.solver.close()


class SynchronousRunner(_Runner):
    """Runs a submitted run at once in the caller's thread (tests, the CLI, the demo)."""

    def submit(self, run_id: int) -> None:
        self._execute(run_id)

    def close(self) -> None:
        self.solver.close()
