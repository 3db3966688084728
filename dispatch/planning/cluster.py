"""Runs on a cluster: Celery tasks on RabbitMQ, and the runner that hands runs to them.

The API only stores a run (queued: the row is the outbox) and, once that has committed, hands
its id to the broker from a background thread, so a slow or absent broker never holds a
request up. Workers (``onsite worker``) take the task, claim the run in the database (the
claim, the lease and its heartbeat are those of :mod:`dispatch.planning.runs`), solve it in
the worker's own process and publish it.

Nothing is lost when the broker or a worker goes away:

- a run whose hand-off failed (broker down) stays queued with no ``handed_at``; the sweep
  (``onsite.sweep``: every ``SWEEP_EVERY_S`` from beat, and when a worker starts) hands it
  over again, as it does a run handed over long ago and still queued;
- tasks are acknowledged late and rejected back to the queue when their worker dies, so a
  worker killed mid-solve has its task redelivered; the run's lease tells a redelivered task
  whether the first owner is gone (then the run is taken over) or still solving (then the task
  looks again when the lease could have run out);
- a task is idempotent: a run that is no longer queued or running is left alone, so a run
  handed over twice is solved once;
- a worker that cannot reach the database fails the task's attempt with the reason and retries
  it with a growing delay; the run stays queued meanwhile, and its notes say how many attempts
  failed and why once one gets through.

A run over several areas is split into one part per area, and an area with more engineers than
``part_max_engineers`` into geographic parts (:func:`split_run`), each a run of its own handed
over as its own task, so that several workers solve them at once; each part publishes its share
of its area, and the run settles when its last part has finished.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.signals import worker_ready
from sqlalchemy import or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import Clock
from dispatch.db import unit_of_work
from dispatch.errors import Unavailable
from dispatch.geo_support import GeoContext
from dispatch.models import DispatchRun
from dispatch.models.enums import RunStatus
from dispatch.planning.runs import (
    RunSettings,
    execute_run,
    process_identity,
    recover_interrupted,
    settle_parent,
    split_run,
    split_runs_to_settle,
    take_over,
)
from dispatch.planning.solver import Solver

log = logging.getLogger("onsite.cluster")

EXECUTE = "onsite.execute_run"
SWEEP = "onsite.sweep"
ALERTS = "onsite.alerts"
ALERTS_EVERY_S = 60.0
SWEEP_EVERY_S = 30.0
# A queued run handed to the broker this long ago is handed over again: a safety net for a
# message lost with a broker that kept nothing on disk.
HAND_OVER_AGAIN = timedelta(minutes=15)
DB_RETRY_S = (2, 5, 15, 30, 60)
PUBLISH_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class WorkerContext:
    """What a worker process needs to execute runs (built once per process, after the fork)."""

    factory: sessionmaker[Session]
    geo: GeoContext
    solver: Solver
    clock: Clock
    settings: RunSettings


def make_celery(
    broker_url: str, queue: str = "onsite", context: Callable[[], WorkerContext] | None = None
) -> Celery:
    """The Celery application on ``queue``; ``context`` (workers only) builds a worker's
    resources.

    Solve tasks are acknowledged after they finish, rejected back to the queue if their worker
    dies, and fetched one at a time (a solve takes seconds to minutes: prefetching would keep a
    second run waiting behind the first while another worker is idle).
    """
    app = Celery("onsite", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=PUBLISH_TIMEOUT_S,
        # Publisher confirms: a hand-off counts only once the broker has stored the message.
        broker_transport_options={"confirm_publish": True},
        worker_hijack_root_logger=False,
        beat_schedule={
            "sweep": {"task": SWEEP, "schedule": SWEEP_EVERY_S},
            "alerts": {"task": ALERTS, "schedule": ALERTS_EVERY_S},
        },
        task_routes={"onsite.*": {"queue": queue}},
    )
    if context is None:
        return app
    ctx: list[WorkerContext] = []

    def current() -> WorkerContext:
        if not ctx:
            ctx.append(context())
        return ctx[0]

    @app.task(name=EXECUTE, bind=True, max_retries=None)
    def execute(self: Task, run_id: int, unreachable: list[str] | None = None) -> str:
        try:
            return _execute(app, current(), run_id, unreachable or [])
        except (Unavailable, OperationalError, InterfaceError) as exc:
            # The database is away (or went away mid-task): this attempt fails with the reason,
            # kept in the task, and the run, still queued (or leased), is tried again later.
            delay = DB_RETRY_S[min(self.request.retries, len(DB_RETRY_S) - 1)]
            reason = _unreachable_reason(exc)
            log.warning("run %s: %s; retrying in %s s", run_id, reason, delay)
            seen = [*(unreachable or []), f"{datetime.now(UTC).isoformat()} {reason}"]
            raise self.retry(
                exc=exc, countdown=delay, args=[run_id], kwargs={"unreachable": seen[-5:]}
            ) from exc
        except _LeaseHeld as held:
            raise self.retry(countdown=held.seconds) from None

    @app.task(name=ALERTS)
    def alerts() -> dict[str, int]:
        from dispatch.desk.alerts import evaluate

        try:
            with unit_of_work(current().factory) as session:
                return evaluate(session, now=current().clock.now())
        except (Unavailable, OperationalError, InterfaceError) as exc:
            log.warning("alert rules skipped: %s", _unreachable_reason(exc))
            return {}

    @app.task(name=SWEEP)
    def sweep() -> list[int]:
        try:
            return sweep_runs(app, current())
        except (Unavailable, OperationalError, InterfaceError) as exc:
            # The next sweep (beat's, or a worker's start) looks again.
            log.warning("sweep skipped: %s", _unreachable_reason(exc))
            return []

    @worker_ready.connect(weak=False)
    def sweep_at_start(sender: Any = None, **_: Any) -> None:
        # Runs queued while no worker was up, or left behind by a worker that died.
        app.send_task(SWEEP)

    return app


class _LeaseHeld(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"lease held for {seconds:.0f} s more")
        self.seconds = seconds


def _unreachable_reason(exc: Exception) -> str:
    """One line saying why the database could not be used (never the password)."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"database unreachable from worker {process_identity()}: " + (
        detail[0][:300] if detail else type(exc).__name__
    )


def _execute(app: Celery, ctx: WorkerContext, run_id: int, unreachable: list[str]) -> str:
    now = ctx.settings.lease_clock.now()
    with unit_of_work(ctx.factory) as session:
        run = session.get(DispatchRun, run_id)
        if run is None:
            return "unknown run"
        if unreachable:
            # Earlier attempts of this task failed for want of the database: say so on the run.
            note = {
                "request_id": None,
                "kind": "worker_retried",
                "message": f"the run waited for the database: {len(unreachable)} attempts of "
                "its task failed before one could reach it",
                "attempts": unreachable,
            }
            # One such note, with every attempt so far (a later wait replaces it).
            kept = [n for n in run.notes or [] if n.get("kind") != "worker_retried"]
            run.notes = [*kept, note]
        status, lease, parent = run.status, run.lease_expires_at, run.parent_id
        if run.part_count:
            return "runs as its parts"  # split already: its parts are tasks of their own
    if status == RunStatus.QUEUED.value and parent is None:
        parts = split_run(
            ctx.factory, run_id, now=now, part_max_engineers=ctx.settings.part_max_engineers
        )
        if parts:
            # One task per area (or geographic part): idle workers take the others at once.
            for part in parts:
                hand_over(app, ctx.factory, part, now=now)
            return f"split into runs {parts}"
    if status == RunStatus.RUNNING.value:
        status = take_over(ctx.factory, run_id, now=now) or "unknown run"
        if status == RunStatus.RUNNING.value:
            # Its owner is alive (its lease holds): look again once the lease could be over.
            left = (lease - now).total_seconds() if lease is not None else 0.0
            raise _LeaseHeld(max(1.0, left + 1.0))
    if status != RunStatus.QUEUED.value:
        return status  # done: a redelivered or repeated task does nothing
    execute_run(ctx.factory, ctx.geo, ctx.solver, run_id, clock=ctx.clock, settings=ctx.settings)
    if parent is not None:
        settle_parent(ctx.factory, parent, now=ctx.clock.now())
    with ctx.factory() as session:
        return str(session.scalar(select(DispatchRun.status).where(DispatchRun.id == run_id)))


def sweep_runs(app: Celery, ctx: WorkerContext) -> list[int]:
    """Re-queue runs whose owner is gone; hand every queued run not (recently) handed over to
    the broker. Returns the runs handed over."""
    now = ctx.settings.lease_clock.now()
    for parent in split_runs_to_settle(ctx.factory):
        # A part that failed for good in a recovery has no worker to settle its run.
        settle_parent(ctx.factory, parent, now=ctx.clock.now())
    queued = set(recover_interrupted(ctx.factory, now=now))
    with ctx.factory() as session:
        due = set(
            session.scalars(
                select(DispatchRun.id).where(
                    DispatchRun.status == RunStatus.QUEUED.value,
                    or_(
                        DispatchRun.handed_at.is_(None),
                        DispatchRun.handed_at < now - HAND_OVER_AGAIN,
                    ),
                )
            )
        )
    handed = []
    for run_id in sorted(queued & due):
        if hand_over(app, ctx.factory, run_id, now=now):
            handed.append(run_id)
    return handed


def hand_over(app: Celery, factory: sessionmaker[Session], run_id: int, *, now: datetime) -> bool:
    """Send the run's task to the broker and note when; False (logged) if the broker is away."""
    try:
        app.send_task(
            EXECUTE,
            args=[run_id],
            retry=False,
        )
    except Exception as exc:  # the broker is down: the run stays queued for the sweep
        log.warning("run %s not handed to the broker yet (%s); the sweep will", run_id, exc)
        return False
    with unit_of_work(factory) as session:
        session.execute(
            update(DispatchRun)
            .where(DispatchRun.id == run_id)
            .values(handed_at=now)
            .execution_options(synchronize_session=False)
        )
    return True


class CeleryRunner:
    """The API side of the cluster: hands submitted runs to the broker, never blocking."""

    def __init__(self, app: Celery, factory: sessionmaker[Session], clock: Clock) -> None:
        self.app = app
        self.factory = factory
        self.clock = clock
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send, name="broker-hand-off", daemon=True)
        self._thread.start()

    def submit(self, run_id: int) -> None:
        self._queue.put(run_id)

    def _send(self) -> None:
        while (run_id := self._queue.get()) is not None:
            try:
                hand_over(self.app, self.factory, run_id, now=self.clock.now())
            except Exception:  # the database went away after the run was stored: sweep's job
                log.exception("could not record the hand-off of run %s", run_id)
            finally:
                self._queue.task_done()

    def wait_sent(self) -> None:
        """Block until every submitted run was handed over or given up (tests)."""
        self._queue.join()

    def broker_status(self) -> dict[str, Any]:
        """Whether the broker answers, for the health check."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            return {"configured": True, "reachable": True, "error": None}
        except Exception as exc:
            return {"configured": True, "reachable": False, "error": f"{type(exc).__name__}"}

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=PUBLISH_TIMEOUT_S + 1)
