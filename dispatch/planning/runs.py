"""Dispatch runs: persisted jobs that read a snapshot, solve outside any transaction and
publish atomically. A run that fails leaves the previous plan in force."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import Clock
from dispatch.common.paging import Page, paginate
from dispatch.db import unit_of_work
from dispatch.errors import InvalidInput, NotFound
from dispatch.geo_support import GeoContext
from dispatch.models import DispatchRun, PlanScope
from dispatch.models.enums import RunStatus
from dispatch.planning.problem import DEFAULT_FREEZE, build_problem
from dispatch.planning.publish import (
    StalePlan,
    current_kpis,
    lock_scopes,
    plan_kpis,
    publish,
    unassigned_summary,
)
from dispatch.planning.snapshot import read_snapshot, scope_area_ids
from dispatch.planning.solver import Solver
from optimizer import SolveParams

log = logging.getLogger("onsite.planning")

MAX_ATTEMPTS = 3
RESOLVE_LIMIT_S = 5.0
CLAIM_WAIT_S = 600.0


@dataclass(frozen=True)
class RunSettings:
    """How runs behave; from the service settings."""

    freeze: timedelta = DEFAULT_FREEZE
    claim_wait_s: float = CLAIM_WAIT_S


def create_run(
    session: Session,
    *,
    area_ids: Sequence[int] | None,
    horizon_start: date,
    days: int,
    time_limit_s: int,
    actor: str,
) -> DispatchRun:
    """Queue a run over the areas (all based areas when None)."""
    if not 1 <= days <= 14:
        raise InvalidInput("days", "plan 1 to 14 days at a time")
    if not 1 <= time_limit_s <= 600:
        raise InvalidInput("time_limit_s", "the time limit must be 1 to 600 seconds")
    scope = scope_area_ids(session, area_ids)
    if not scope:
        raise InvalidInput(("scope", "service_area_ids"), "no service area with engineers based")
    run = DispatchRun(
        status=RunStatus.QUEUED.value,
        scope={"service_area_ids": list(scope), "all": not area_ids},
        horizon_start=horizon_start,
        days=days,
        time_limit_s=time_limit_s,
        requested_by=actor,
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
    factory: sessionmaker[Session], run_id: int, area_ids: Sequence[int], wait_s: float
) -> None:
    """Take the scope for this run; wait while an overlapping run holds part of it."""
    deadline = time.monotonic() + wait_s
    while True:
        with unit_of_work(factory) as session:
            scopes = lock_scopes(session, area_ids)
            busy = [s for s in scopes.values() if s.running_run_id not in (None, run_id)]
            if not busy:
                for scope in scopes.values():
                    scope.running_run_id = run_id
                return
        if time.monotonic() > deadline:
            raise RuntimeError(
                "overlapping runs kept the scope busy for "
                f"{int(wait_s)} s (areas {sorted(s.service_area_id for s in busy)})"
            )
        time.sleep(0.5)


def _release(factory: sessionmaker[Session], run_id: int) -> None:
    with unit_of_work(factory) as session:
        session.execute(
            update(PlanScope).where(PlanScope.running_run_id == run_id).values(running_run_id=None)
        )


def _set(factory: sessionmaker[Session], run_id: int, **values: Any) -> None:
    with unit_of_work(factory) as session:
        run = get_run_or_raise(session, run_id)
        for key, value in values.items():
            setattr(run, key, value)


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
            return
        area_ids = list(run.scope["service_area_ids"])
        horizon_start, days, limit = run.horizon_start, run.days, run.time_limit_s
        run.status = RunStatus.RUNNING.value
        run.started_at = clock.now()
    try:
        _claim(factory, run_id, area_ids, settings.claim_wait_s)
        try:
            _solve_and_publish(
                factory, geo, solver, run_id, area_ids, horizon_start, days, limit, clock, settings
            )
        finally:
            _release(factory, run_id)
    except Exception as exc:  # the run fails; the previous plan stays in force
        log.exception("dispatch run %s failed", run_id)
        reason = exc.reason if isinstance(exc, StalePlan) else f"{type(exc).__name__}: {exc}"
        _set(
            factory,
            run_id,
            status=RunStatus.FAILED.value,
            failure_reason=reason[:1000],
            finished_at=clock.now(),
        )


def _solve_and_publish(
    factory: sessionmaker[Session],
    geo: GeoContext,
    solver: Solver,
    run_id: int,
    area_ids: list[int],
    horizon_start: date,
    days: int,
    limit: float,
    clock: Clock,
    settings: RunSettings,
) -> None:
    stale = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            snapshot = read_snapshot(
                session, area_ids=area_ids, horizon_start=horizon_start, days=days, now=clock.now()
            )
        built = build_problem(snapshot, geo, freeze=settings.freeze)
        with factory() as session:
            before = current_kpis(session, built)
        loaded = time.perf_counter()
        plan = solver.solve(built.problem, SolveParams(time_limit_s=limit))
        solved = time.perf_counter()
        try:
            with unit_of_work(factory) as session:
                routes = publish(
                    session, built, plan, run_id=run_id, actor=f"run:{run_id}", now=clock.now()
                )
                run = get_run_or_raise(session, run_id)
                run.status = RunStatus.SUCCEEDED.value
                run.finished_at = clock.now()
                run.attempts = attempt
                run.kpis_before = before
                run.kpis_after = plan_kpis(built, plan)
                run.unassigned = unassigned_summary(built, plan)
                run.plan = routes
                run.timings = {
                    "load_s": round(loaded - started, 3),
                    "solve_s": round(solved - loaded, 3),
                    "publish_s": round(time.perf_counter() - solved, 3),
                }
                run.plan_version = max(
                    s.plan_version
                    for s in session.scalars(
                        select(PlanScope).where(PlanScope.service_area_id.in_(area_ids))
                    )
                )
            return
        except StalePlan as exc:
            stale = exc.reason
            log.info("run %s attempt %s stale: %s", run_id, attempt, stale)
            _set(factory, run_id, attempts=attempt)
            limit = min(limit, RESOLVE_LIMIT_S)
    raise StalePlan(f"the plan kept changing while solving ({MAX_ATTEMPTS} attempts): {stale}")


def recover_interrupted(factory: sessionmaker[Session], *, now: datetime) -> list[int]:
    """After a restart: fail runs that were running, release their claims, return queued ids."""
    with unit_of_work(factory) as session:
        running = session.scalars(
            select(DispatchRun).where(DispatchRun.status == RunStatus.RUNNING.value)
        ).all()
        for run in running:
            run.status = RunStatus.FAILED.value
            run.failure_reason = "interrupted: the service stopped while the run was solving"
            run.finished_at = now
        session.execute(
            update(PlanScope)
            .where(PlanScope.running_run_id.in_([r.id for r in running]))
            .values(running_run_id=None)
        )
        return list(
            session.scalars(
                select(DispatchRun.id)
                .where(DispatchRun.status == RunStatus.QUEUED.value)
                .order_by(DispatchRun.id)
            )
        )
