"""Dispatch runs: persisted jobs that read a snapshot, solve outside any transaction and
publish atomically. A run that fails leaves the previous plan in force.

A run is claimed atomically (queued -> running, by one process only) once its scope is free,
and holds a lease its owner renews while solving. Only runs whose lease expired are recovered,
by whichever process sees it first: they are queued again (up to ``MAX_RECOVERIES`` times).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import Clock, SystemClock
from dispatch.common.paging import Page, paginate
from dispatch.db import unit_of_work
from dispatch.engineers.service import planned_shifts
from dispatch.errors import InvalidInput, NotFound
from dispatch.geo_support import GeoContext
from dispatch.models import DispatchRun, Engineer, PlanScope, ServiceArea
from dispatch.models.enums import RunStatus
from dispatch.planning.partition import Part, group_engineers
from dispatch.planning.problem import DEFAULT_FREEZE, Built, build_problem
from dispatch.planning.publish import (
    StalePlan,
    current_kpis,
    lock_scopes,
    plan_kpis,
    publish,
    unassigned_summary,
)
from dispatch.planning.snapshot import MAX_DAYS, read_snapshot, scope_area_ids
from dispatch.planning.solver import Solver
from optimizer import Plan, SolveParams

log = logging.getLogger("onsite.planning")

MAX_ATTEMPTS = 3
RESOLVE_LIMIT_S = 5.0
CLAIM_WAIT_S = 600.0
LEASE = timedelta(seconds=30)
HEARTBEAT_S = 10.0
MAX_RECOVERIES = 3
MAX_AHEAD = timedelta(days=366)


@dataclass(frozen=True)
class RunSettings:
    """How runs behave; from the service settings.

    Leases are about processes, not about the planning day, so they are kept on
    ``lease_clock`` (the wall clock) even when the domain clock is fixed or simulated.
    """

    freeze: timedelta = DEFAULT_FREEZE
    claim_wait_s: float = CLAIM_WAIT_S
    lease: timedelta = LEASE
    heartbeat_s: float = HEARTBEAT_S
    lease_clock: Clock = field(default_factory=SystemClock)
    part_max_engineers: int | None = None
    """On a cluster, the most engineers one part of a split run plans (a larger area is split
    geographically); None: one part per area."""
    search_iterations: int | None = None
    """Search by a number of iterations instead of the run's time limit: the same inputs then
    give the same plan on any machine (the simulator's replays use it)."""

    def solve_params(self, time_limit_s: float) -> SolveParams:
        """How a run searches: for its time limit, or a fixed amount of work."""
        if self.search_iterations is None:
            return SolveParams(time_limit_s=time_limit_s)
        # Ruin-and-recreate does the work; OR-Tools only takes its plan (its local search has
        # no bound on time under a solution limit).
        return SolveParams(
            time_limit_s=None, ruin_iterations=self.search_iterations, solution_limit=1
        )


class RunFailed(Exception):
    """The run cannot produce a plan to publish; the previous plan stays in force."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LeaseLost(Exception):
    """Another process took the run over (this one was presumed gone): stop without writing."""


@cache
def process_identity() -> str:
    """Who this process is, for run ownership: host, pid and start time."""
    return f"{socket.gethostname()}:{os.getpid()}:{int(time.time())}"


def check_horizon(
    session: Session, area_ids: Sequence[int], horizon_start: date, days: int, now: datetime
) -> None:
    """Refuse a horizon in the past, too far ahead, or whose shifts have all ended."""
    from zoneinfo import ZoneInfo

    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", f"plan 1 to {MAX_DAYS} days at a time")
    zones = session.scalars(select(ServiceArea.timezone).where(ServiceArea.id.in_(area_ids)))
    today = min(now.astimezone(ZoneInfo(tz)).date() for tz in zones)
    if horizon_start < today:
        raise InvalidInput(
            "horizon_start", f"{horizon_start.isoformat()} is in the past (today is {today})"
        )
    if horizon_start > (now + MAX_AHEAD).date():
        raise InvalidInput("horizon_start", "plan at most a year ahead")
    end = horizon_start + timedelta(days=days - 1)
    engineers = session.scalars(
        select(Engineer).where(Engineer.service_area_id.in_(area_ids), Engineer.active.is_(True))
    ).all()
    shifts = [
        spec
        for specs in planned_shifts(session, engineers, horizon_start, end).values()
        for spec, _ in specs
    ]
    if not shifts:
        raise InvalidInput(
            "horizon_start",
            f"no engineer of the scope works from {horizon_start} to {end}: nothing to plan",
        )
    if max(spec.end_at for spec in shifts) <= now:
        raise InvalidInput(
            "horizon_start", f"every shift from {horizon_start} to {end} has already ended"
        )


def create_run(
    session: Session,
    *,
    area_ids: Sequence[int] | None,
    horizon_start: date,
    days: int,
    time_limit_s: int,
    actor: str,
    now: datetime,
    include_other_days: bool = False,
) -> DispatchRun:
    """Queue a run over the areas (all based areas when None)."""
    if not 1 <= time_limit_s <= 600:
        raise InvalidInput("time_limit_s", "the time limit must be 1 to 600 seconds")
    scope = scope_area_ids(session, area_ids)
    if not scope:
        raise InvalidInput(("scope", "service_area_ids"), "no service area with engineers based")
    check_horizon(session, scope, horizon_start, days, now)
    run = DispatchRun(
        status=RunStatus.QUEUED.value,
        scope={
            "service_area_ids": list(scope),
            "all": not area_ids,
            "include_other_days": include_other_days,
        },
        horizon_start=horizon_start,
        days=days,
        time_limit_s=time_limit_s,
        requested_by=actor,
        recoveries=0,
    )
    session.add(run)
    session.flush()
    return run


def get_run_or_raise(session: Session, run_id: int) -> DispatchRun:
    """The run, or NotFound."""
    run = session.get(DispatchRun, run_id)
    if run is None:
        raise NotFound("dispatch run", run_id)
    return run


def list_runs(session: Session, *, limit: int, offset: int, status: str | None = None) -> Page[Any]:
    """Runs, newest first."""
    stmt = select(DispatchRun).order_by(DispatchRun.id.desc())
    if status:
        stmt = stmt.where(DispatchRun.status == status)
    return paginate(session, stmt, limit=limit, offset=offset)


def _claim(
    factory: sessionmaker[Session], run_id: int, area_ids: Sequence[int], settings: RunSettings
) -> bool:
    """Wait for the scope, then take the run and the scope in one transaction.

    The run stays queued while it waits. Returns False when another process took the run (or
    it is no longer queued): then there is nothing to do here.
    """
    deadline = time.monotonic() + settings.claim_wait_s
    me = process_identity()
    while True:
        with unit_of_work(factory) as session:
            scopes = lock_scopes(session, area_ids)
            holders = {s.running_run_id for s in scopes.values()} - {None, run_id}
            if holders:
                _recover(session, settings.lease_clock.now(), only=holders)
            busy = [s for s in scopes.values() if s.running_run_id not in (None, run_id)]
            if not busy:
                now = settings.lease_clock.now()
                claimed = session.execute(
                    update(DispatchRun)
                    .where(DispatchRun.id == run_id, DispatchRun.status == RunStatus.QUEUED.value)
                    .values(
                        status=RunStatus.RUNNING.value,
                        owner=me,
                        lease_expires_at=now + settings.lease,
                        started_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount != 1:
                    return False
                for scope in scopes.values():
                    scope.running_run_id = run_id
                return True
            status = session.scalar(select(DispatchRun.status).where(DispatchRun.id == run_id))
            if status != RunStatus.QUEUED.value:
                return False
        if time.monotonic() > deadline:
            raise RunFailed(
                "overlapping runs kept the scope busy for "
                f"{int(settings.claim_wait_s)} s (areas {sorted(s.service_area_id for s in busy)})"
            )
        time.sleep(0.5)


class _Heartbeat:
    """Renews the run's lease while its owner works on it."""

    def __init__(self, factory: sessionmaker[Session], run_id: int, settings: RunSettings) -> None:
        self.factory = factory
        self.run_id = run_id
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"run-{run_id}-lease", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_s):
            try:
                with unit_of_work(self.factory) as session:
                    session.execute(
                        update(DispatchRun)
                        .where(
                            DispatchRun.id == self.run_id,
                            DispatchRun.owner == process_identity(),
                            DispatchRun.status == RunStatus.RUNNING.value,
                        )
                        .values(
                            lease_expires_at=self.settings.lease_clock.now() + self.settings.lease
                        )
                        .execution_options(synchronize_session=False)
                    )
            except Exception:  # a missed beat is retried; the lease outlives a few of them
                log.exception("could not renew the lease of run %s", self.run_id)


def _release(factory: sessionmaker[Session], run_id: int) -> None:
    with unit_of_work(factory) as session:
        session.execute(
            update(PlanScope).where(PlanScope.running_run_id == run_id).values(running_run_id=None)
        )


def _owned(session: Session, run_id: int) -> DispatchRun:
    """The run, if this process still owns it (raises LeaseLost otherwise)."""
    run = get_run_or_raise(session, run_id)
    if run.owner != process_identity() or run.status != RunStatus.RUNNING.value:
        raise LeaseLost(f"run {run_id} is now {run.status}, owned by {run.owner}")
    return run


def execute_run(
    factory: sessionmaker[Session],
    geo: GeoContext,
    solver: Solver,
    run_id: int,
    *,
    clock: Clock,
    settings: RunSettings | None = None,
) -> None:
    """Carry a queued run through: claim, snapshot, solve, publish (retrying when stale)."""
    settings = settings or RunSettings()
    with unit_of_work(factory) as session:
        run = get_run_or_raise(session, run_id)
        if run.status != RunStatus.QUEUED.value:
            return  # done, or another process has it: a redelivered run does nothing
        area_ids = list(run.scope["service_area_ids"])
        job = _Job(
            run_id=run_id,
            area_ids=area_ids,
            horizon_start=run.horizon_start,
            days=run.days,
            limit=run.time_limit_s,
            include_other_days=bool(run.scope.get("include_other_days", False)),
            part=Part.from_scope(run.scope.get("part")),
            siblings=tuple(run.scope.get("siblings", ())),
        )
    try:
        if not _claim(factory, run_id, area_ids, settings):
            return
        try:
            with _Heartbeat(factory, run_id, settings):
                _solve_and_publish(factory, geo, solver, job, clock, settings)
        finally:
            _release(factory, run_id)
    except LeaseLost as exc:
        log.warning("dispatch run %s: %s; leaving it to its new owner", run_id, exc)
    except Exception as exc:  # the run fails; the previous plan stays in force
        if isinstance(exc, StalePlan | RunFailed):
            # An outcome the run reports (no plan, or the plan moved on), not a fault.
            log.warning("dispatch run %s failed: %s", run_id, exc.reason)
            reason = exc.reason
        else:
            log.exception("dispatch run %s failed", run_id)
            reason = f"{type(exc).__name__}: {exc}"
        with unit_of_work(factory) as session:
            run = session.get(DispatchRun, run_id)
            if run is not None and run.owner in (None, process_identity()):
                run.status = RunStatus.FAILED.value
                run.failure_reason = reason[:1000]
                run.finished_at = clock.now()
                run.lease_expires_at = None


@dataclass(frozen=True)
class _Job:
    run_id: int
    area_ids: list[int]
    horizon_start: date
    days: int
    limit: float
    include_other_days: bool
    part: Part | None = None
    siblings: tuple[int, ...] = ()
    """The same run's other geographic parts of this area (they publish the same scope)."""


def _since(session: Session, run_ids: Sequence[int], then: int) -> Callable[[], int] | None:
    """How many of the runs published since ``then`` were counted, asked when called."""
    if not run_ids:
        return None
    return lambda: _published(session, run_ids) - then


def _published(session: Session, run_ids: Sequence[int]) -> int:
    """How many of the runs have published."""
    if not run_ids:
        return 0
    return int(
        session.scalar(
            select(func.count())
            .select_from(DispatchRun)
            .where(DispatchRun.id.in_(run_ids), DispatchRun.status == RunStatus.SUCCEEDED.value)
        )
        or 0
    )


def _solve_and_publish(
    factory: sessionmaker[Session],
    geo: GeoContext,
    solver: Solver,
    job: _Job,
    clock: Clock,
    settings: RunSettings,
) -> None:
    stale = ""
    limit = job.limit
    for attempt in range(1, MAX_ATTEMPTS + 1):
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            snapshot = read_snapshot(
                session,
                area_ids=job.area_ids,
                horizon_start=job.horizon_start,
                days=job.days,
                now=clock.now(),
                include_other_days=job.include_other_days,
                part=job.part,
            )
            # Counted after the snapshot's plan versions were read: a sibling publishing in
            # between is counted here too, so the allowance can only err towards stale.
            siblings_then = _published(session, job.siblings)
        built = build_problem(snapshot, geo, freeze=settings.freeze)
        with factory() as session:
            before = current_kpis(session, built)
        loaded = time.perf_counter()
        plan = solver.solve(built.problem, settings.solve_params(limit))
        if not plan.is_feasible() and any(j.lock is not None for j in built.problem.jobs):
            # The locks (a dispatcher's, or the freeze on visits about to start) cannot all be
            # kept with the visits under way: plan without them rather than keep no plan.
            built = build_problem(snapshot, geo, freeze=settings.freeze, keep_locks=False)
            plan = solver.solve(built.problem, settings.solve_params(limit))
        solved = time.perf_counter()
        if not plan.is_feasible():
            raise RunFailed(_no_plan_reason(plan))
        try:
            with unit_of_work(factory) as session:
                run = _owned(session, job.run_id)
                routes = publish(
                    session,
                    built,
                    plan,
                    run_id=job.run_id,
                    actor=f"run:{job.run_id}",
                    now=clock.now(),
                    siblings_since=_since(session, job.siblings, siblings_then),
                )
                run.status = RunStatus.SUCCEEDED.value
                run.finished_at = clock.now()
                run.attempts = attempt
                run.kpis_before = before
                run.kpis_after = plan_kpis(built, plan)
                run.unassigned = unassigned_summary(built, plan)
                # After what was noted on the way here (a recovery, a wait for the database).
                run.notes = [*(run.notes or []), *_notes(built, plan)]
                run.plan = routes
                run.lease_expires_at = None
                run.timings = {
                    "load_s": round(loaded - started, 3),
                    "solve_s": round(solved - loaded, 3),
                    "publish_s": round(time.perf_counter() - solved, 3),
                }
                run.plan_version = max(
                    s.plan_version
                    for s in session.scalars(
                        select(PlanScope).where(PlanScope.service_area_id.in_(job.area_ids))
                    )
                )
            return
        except StalePlan as exc:
            stale = exc.reason
            log.info("run %s attempt %s stale: %s", job.run_id, attempt, stale)
            with unit_of_work(factory) as session:
                _owned(session, job.run_id).attempts = attempt
            limit = min(limit, RESOLVE_LIMIT_S)
    raise StalePlan(f"the plan kept changing while solving ({MAX_ATTEMPTS} attempts): {stale}")


def _no_plan_reason(plan: Plan) -> str:
    messages = sorted({u.message for u in plan.unassigned})
    detail = "; ".join(messages[:3]) if messages else "the optimiser found no plan"
    return f"no plan honours the visits under way and the locks ({detail}); the plan in force stays"


def _notes(built: Built, plan: Plan) -> list[dict[str, Any]]:
    notes = [n.as_dict() for n in built.notes]
    if plan.warm_start_cost is not None and plan.cost >= plan.warm_start_cost:
        notes.append(
            {
                "request_id": None,
                "kind": "plan_kept",
                "message": "no better plan was found: the plan in force is kept (re-timed)",
            }
        )
    return notes


def _recover(session: Session, now: datetime, *, only: set[int] | None = None) -> list[int]:
    """Queue again (or fail, after ``MAX_RECOVERIES``) running runs whose lease expired, and
    release their scopes. Returns the ids queued again."""
    stmt = select(DispatchRun).where(
        DispatchRun.status == RunStatus.RUNNING.value,
        DispatchRun.part_count == 0,  # a run split into parts runs as its parts
        or_(DispatchRun.lease_expires_at.is_(None), DispatchRun.lease_expires_at < now),
    )
    if only is not None:
        stmt = stmt.where(DispatchRun.id.in_(only))
    expired = session.scalars(stmt.with_for_update(skip_locked=True)).all()
    queued = []
    for run in expired:
        owner = run.owner or "a previous process"
        if run.recoveries >= MAX_RECOVERIES:
            run.status = RunStatus.FAILED.value
            run.failure_reason = (
                f"interrupted: the process solving it stopped ({run.recoveries + 1} times, last "
                f"{owner})"
            )
            run.finished_at = now
        else:
            run.status = RunStatus.QUEUED.value
            run.recoveries += 1
            run.notes = [
                *(run.notes or []),
                {
                    "request_id": None,
                    "kind": "recovered",
                    "message": f"queued again: {owner} stopped while solving it",
                },
            ]
            queued.append(run.id)
        run.owner = None
        run.lease_expires_at = None
        run.handed_at = None  # to be handed to a worker again
    if expired:
        session.execute(
            update(PlanScope)
            .where(PlanScope.running_run_id.in_([r.id for r in expired]))
            .values(running_run_id=None)
        )
    return queued


def recover_interrupted(factory: sessionmaker[Session], *, now: datetime) -> list[int]:
    """Recover runs whose owner is gone (their lease expired) and return every queued run, in
    order, for a runner to take."""
    with unit_of_work(factory) as session:
        _recover(session, now)
        return list(
            session.scalars(
                select(DispatchRun.id)
                .where(DispatchRun.status == RunStatus.QUEUED.value)
                .order_by(DispatchRun.id)
            )
        )


def take_over(factory: sessionmaker[Session], run_id: int, *, now: datetime) -> str | None:
    """Queue a running run again if its lease expired (its owner is gone); its status after."""
    with unit_of_work(factory) as session:
        _recover(session, now, only={run_id})
        return session.scalar(select(DispatchRun.status).where(DispatchRun.id == run_id))


def split_run(
    factory: sessionmaker[Session],
    run_id: int,
    *,
    now: datetime,
    part_max_engineers: int | None = None,
) -> list[int]:
    """Split a queued run into parts solved at once by different workers: one per area, and an
    area with more than ``part_max_engineers`` active engineers into geographic parts of at most
    that many (:mod:`dispatch.planning.partition`). Returns the parts (none for a run that needs
    no split, a part, or a run that is no longer queued).

    Each part plans its engineers (as a run scoped to them would); requests held by an engineer
    of another area stay where they are. The run itself is running from then on, and settles
    when its last part has finished.
    """
    with unit_of_work(factory) as session:
        run = session.scalars(
            select(DispatchRun).where(DispatchRun.id == run_id).with_for_update()
        ).one_or_none()
        if run is None or run.status != RunStatus.QUEUED.value or run.parent_id is not None:
            return []
        areas = list(run.scope["service_area_ids"])
        pieces: list[tuple[int, Part | None]] = []
        for area_id in areas:
            groups: list[list[int]] = [[]]
            if part_max_engineers is not None:
                homes = {
                    e.id: (e.home_lat, e.home_lon)
                    for e in session.scalars(
                        select(Engineer).where(
                            Engineer.service_area_id == area_id, Engineer.active.is_(True)
                        )
                    )
                }
                groups = group_engineers(homes, part_max_engineers)
            if len(groups) < 2:
                pieces.append((area_id, None))
                continue
            frozen = tuple(tuple(g) for g in groups)
            pieces.extend((area_id, Part(frozen, i)) for i in range(len(groups)))
        if len(pieces) < 2:
            return []
        parts = [
            DispatchRun(
                status=RunStatus.QUEUED.value,
                scope={
                    "service_area_ids": [area_id],
                    "all": False,
                    "include_other_days": bool(run.scope.get("include_other_days", False)),
                    **({"part": part.as_scope()} if part is not None else {}),
                },
                horizon_start=run.horizon_start,
                days=run.days,
                time_limit_s=run.time_limit_s,
                requested_by=run.requested_by,
                recoveries=0,
                attempts=0,
                parent_id=run.id,
            )
            for area_id, part in pieces
        ]
        session.add_all(parts)
        session.flush()
        for part_run, (area_id, piece) in zip(parts, pieces, strict=True):
            if piece is not None:
                part_run.scope = {
                    **part_run.scope,
                    "siblings": [
                        other.id
                        for other, (other_area, _) in zip(parts, pieces, strict=True)
                        if other_area == area_id and other is not part_run
                    ],
                }
        run.status = RunStatus.RUNNING.value
        run.started_at = now
        run.part_count = len(parts)
        run.owner = None
        run.lease_expires_at = None
        session.flush()
        return [p.id for p in parts]


def settle_parent(factory: sessionmaker[Session], parent_id: int, *, now: datetime) -> bool:
    """Finish a split run once none of its parts is queued or running: succeeded when every
    part succeeded, failed (naming the areas and why) otherwise. Returns whether it settled."""
    with unit_of_work(factory) as session:
        parent = session.scalars(
            select(DispatchRun).where(DispatchRun.id == parent_id).with_for_update()
        ).one_or_none()
        if parent is None or parent.status != RunStatus.RUNNING.value or not parent.part_count:
            return False
        parts = session.scalars(
            select(DispatchRun)
            .where(DispatchRun.parent_id == parent_id)
            .order_by(DispatchRun.id)
            .execution_options(populate_existing=True)
        ).all()
        if any(p.status in (RunStatus.QUEUED.value, RunStatus.RUNNING.value) for p in parts):
            return False
        failed = [p for p in parts if p.status != RunStatus.SUCCEEDED.value]
        parent.status = (RunStatus.FAILED if failed else RunStatus.SUCCEEDED).value
        parent.failure_reason = (
            "; ".join(
                f"area {p.scope['service_area_ids'][0]} (run {p.id}): {p.failure_reason}"
                for p in failed
            )[:1000]
            or None
        )
        parent.finished_at = now
        parent.attempts = max((p.attempts for p in parts), default=0)
        parent.plan = [route for p in parts for route in (p.plan or [])]
        parent.unassigned = [u for p in parts for u in (p.unassigned or [])]
        parent.notes = [n for p in parts for n in (p.notes or [])]
        parent.kpis_before = _summed([p.kpis_before for p in parts])
        parent.kpis_after = _summed([p.kpis_after for p in parts])
        versions = [p.plan_version for p in parts if p.plan_version is not None]
        parent.plan_version = max(versions) if versions else None
        return True


def _summed(figures: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The parts' figures added up (every figure of a plan is a count, minutes or a cost);
    a figure some part lacks is None."""
    present = [f for f in figures if f is not None]
    if not present:
        return None
    keys = dict.fromkeys(k for f in present for k in f)
    total: dict[str, Any] = {}
    for key in keys:
        values = [f.get(key) for f in present]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        total[key] = round(sum(numbers), 1) if len(numbers) == len(figures) else None
    return total


def split_runs_to_settle(factory: sessionmaker[Session]) -> list[int]:
    """Split runs still running whose parts may all have finished (the sweep settles them)."""
    with factory() as session:
        return list(
            session.scalars(
                select(DispatchRun.id).where(
                    DispatchRun.status == RunStatus.RUNNING.value, DispatchRun.part_count > 0
                )
            )
        )
