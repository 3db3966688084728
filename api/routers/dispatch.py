"""Dispatchers: runs, the plan per area and day, manual assignment, locks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.deps import ClockDep, CurrentUser, GeoDep, PagingDep, RunnerDep, SessionDep
from api.schemas.common import Page
from api.schemas.dispatch import AssignmentCreate, LockCreate, RunCreate, RunRead
from dispatch.models.enums import Role
from dispatch.planning import manual, runs, views
from dispatch.planning.runner import submit_after_commit

router = APIRouter(prefix="/v1", tags=["dispatch"])


@router.post("/dispatch/runs", response_model=RunRead, status_code=status.HTTP_202_ACCEPTED)
def start_run(
    body: RunCreate, session: SessionDep, runner: RunnerDep, user: CurrentUser
) -> RunRead:
    """Queue a dispatch run; poll GET /v1/dispatch/runs/{id} for its progress and result."""
    user.require(Role.DISPATCHER)
    run = runs.create_run(
        session,
        area_ids=body.scope.service_area_ids,
        horizon_start=body.horizon_start,
        days=body.days,
        time_limit_s=body.time_limit_s,
        actor=user.actor,
    )
    submit_after_commit(session, runner, run.id)
    return RunRead.model_validate(run)


@router.get("/dispatch/runs", response_model=Page[RunRead])
def list_runs(
    session: SessionDep,
    user: CurrentUser,
    paging: PagingDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """Runs, newest first."""
    user.require(Role.DISPATCHER)
    page = runs.list_runs(session, limit=paging.limit, offset=paging.offset, status=status_)
    return Page.of(page, RunRead.model_validate)


@router.get("/dispatch/runs/{run_id}", response_model=RunRead)
def get_run(run_id: int, session: SessionDep, user: CurrentUser) -> RunRead:
    """A run's status, KPIs before and after, unassigned requests with reasons, and the plan."""
    user.require(Role.DISPATCHER)
    return RunRead.model_validate(runs.get_run_or_raise(session, run_id))


@router.get("/dispatch/plan")
def get_plan(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    service_area_id: int,
    date: dt.date,
) -> dict[str, Any]:
    """The plan of an area on a day: routes, visits, ETAs, promise states, unassigned."""
    user.require(Role.DISPATCHER)
    return views.area_day_plan(session, area_id=service_area_id, day=date, now=clock.now())


@router.post("/dispatch/assignments")
def assign(
    body: AssignmentCreate, session: SessionDep, geo: GeoDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Assign or move a request to an engineer-day; answers the check's warnings first."""
    user.require(Role.DISPATCHER)
    evaluation = manual.assign(
        session,
        geo,
        request_id=body.request_id,
        engineer_id=body.engineer_id,
        day=body.date,
        position=body.position,
        dry_run=body.dry_run,
        accept_warnings=body.accept_warnings,
        actor=user.actor,
        now=clock.now(),
    )
    return {
        "request_id": evaluation.request_id,
        "engineer_id": evaluation.engineer_id,
        "date": evaluation.date,
        "position": evaluation.position,
        "eta": evaluation.eta,
        "warnings": evaluation.warnings,
        "route": evaluation.route,
        "committed": evaluation.committed,
    }


@router.post("/visits/{visit_id}/lock")
def lock(
    visit_id: int, body: LockCreate, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Lock a visit to its engineer, its time, or both; runs respect it."""
    user.require(Role.DISPATCHER)
    visit = manual.lock_visit(
        session, visit_id, kind=body.kind, arrival=body.arrival, actor=user.actor, now=clock.now()
    )
    return {"visit_id": visit.id, "lock": visit.lock, "locked_arrival": visit.locked_arrival}


@router.delete("/visits/{visit_id}/lock")
def unlock(
    visit_id: int, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Release a lock."""
    user.require(Role.DISPATCHER)
    visit = manual.unlock_visit(session, visit_id, actor=user.actor, now=clock.now())
    return {"visit_id": visit.id, "lock": visit.lock, "locked_arrival": None}


@router.post("/visits/{visit_id}/unassign")
def unassign(
    visit_id: int, session: SessionDep, geo: GeoDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Take a visit off its route; the request waits for the next plan."""
    user.require(Role.DISPATCHER)
    request = manual.unassign(session, geo, visit_id, actor=user.actor, now=clock.now())
    return {"request_id": request.id, "status": request.status}
