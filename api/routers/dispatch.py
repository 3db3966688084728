"""Dispatchers: runs, the plan per area and day, manual assignment, locks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from api.deps import ClockDep, DispatcherUser, GeoDep, PagingDep, RunnerDep, SessionDep
from api.i18n import LocaleDep, localize_reasons, localize_warnings
from api.schemas.common import Day, Id, Page
from api.schemas.dispatch import (
    AssignmentCreate,
    AssignmentRead,
    Candidate,
    CandidatesQuery,
    LockCreate,
    LockRead,
    PlanRead,
    RunCreate,
    RunRead,
    UnassignRead,
)
from dispatch.models.enums import RunStatus
from dispatch.planning import manual, runs, views
from dispatch.planning.runner import submit_after_commit

router = APIRouter(prefix="/v1", tags=["dispatch"])


@router.post("/dispatch/runs", response_model=RunRead, status_code=status.HTTP_202_ACCEPTED)
def start_run(
    body: RunCreate, session: SessionDep, runner: RunnerDep, clock: ClockDep, user: DispatcherUser
) -> RunRead:
    """Queue a dispatch run; poll GET /v1/dispatch/runs/{id} for its progress and result."""
    run = runs.create_run(
        session,
        area_ids=body.scope.service_area_ids,
        horizon_start=body.horizon_start,
        days=body.days,
        time_limit_s=body.time_limit_s,
        include_other_days=body.include_other_days,
        actor=user.actor,
        now=clock.now(),
    )
    submit_after_commit(session, runner, run.id)
    return RunRead.model_validate(run)


@router.get("/dispatch/runs", response_model=Page[RunRead])
def list_runs(
    session: SessionDep,
    user: DispatcherUser,
    paging: PagingDep,
    status_: Annotated[RunStatus | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """Runs, newest first."""
    page = runs.list_runs(session, limit=paging.limit, offset=paging.offset, status=status_)
    return Page.of(page, RunRead.model_validate)


@router.get("/dispatch/runs/{run_id}", response_model=RunRead)
def get_run(run_id: Id, session: SessionDep, user: DispatcherUser, locale: LocaleDep) -> RunRead:
    """A run's status, KPIs before and after, unassigned requests with reasons, and the plan."""
    run = RunRead.model_validate(runs.get_run_or_raise(session, run_id))
    if run.unassigned:
        run.unassigned = localize_reasons(run.unassigned, locale)
    return run


@router.get("/dispatch/plan", response_model=PlanRead)
def get_plan(
    session: SessionDep,
    clock: ClockDep,
    user: DispatcherUser,
    service_area_id: Id,
    date: Day,
    locale: LocaleDep,
) -> dict[str, Any]:
    """The plan of an area on a day: routes, visits, ETAs, promise states, unassigned (the
    reasons in the language ``Accept-Language`` asks for)."""
    plan = views.area_day_plan(session, area_id=service_area_id, day=date, now=clock.now())
    return {**plan, "unassigned": localize_reasons(plan["unassigned"], locale)}


@router.post("/dispatch/assignments", response_model=AssignmentRead)
def assign(
    body: AssignmentCreate,
    session: SessionDep,
    geo: GeoDep,
    clock: ClockDep,
    user: DispatcherUser,
    locale: LocaleDep,
) -> manual.Evaluation:
    """Assign or move a request to an engineer-day; answers the check's warnings first (in the
    language ``Accept-Language`` asks for)."""
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
        arrival=body.arrival,
        lock_kind=body.lock,
    )
    evaluation.warnings = localize_warnings(evaluation.warnings, locale, evaluation.timezone)
    return evaluation


@router.post("/dispatch/candidates", response_model=list[Candidate])
def candidates(
    body: CandidatesQuery,
    session: SessionDep,
    geo: GeoDep,
    clock: ClockDep,
    user: DispatcherUser,
    locale: LocaleDep,
) -> list[dict[str, Any]]:
    """The engineers of the request's area ranked for it that day: qualified first, then the
    fewest warnings, then the earliest arrival; each with the check an assignment would make.
    Changes nothing."""
    rows = manual.candidates(
        session, geo, request_id=body.request_id, day=body.date, now=clock.now()
    )
    return [
        {**row, "warnings": localize_warnings(row["warnings"], locale, row["timezone"])}
        for row in rows
    ]


@router.post("/visits/{visit_id}/lock", response_model=LockRead)
def lock(
    visit_id: Id, body: LockCreate, session: SessionDep, clock: ClockDep, user: DispatcherUser
) -> LockRead:
    """Lock a visit to its engineer, its time, or both; runs respect it."""
    visit = manual.lock_visit(
        session, visit_id, kind=body.kind, arrival=body.arrival, actor=user.actor, now=clock.now()
    )
    return LockRead(visit_id=visit.id, lock=visit.lock, locked_arrival=visit.locked_arrival)


@router.delete("/visits/{visit_id}/lock", response_model=LockRead)
def unlock(visit_id: Id, session: SessionDep, clock: ClockDep, user: DispatcherUser) -> LockRead:
    """Release a lock."""
    visit = manual.unlock_visit(session, visit_id, actor=user.actor, now=clock.now())
    return LockRead(visit_id=visit.id, lock=visit.lock, locked_arrival=None)


@router.post("/visits/{visit_id}/unassign", response_model=UnassignRead)
def unassign(
    visit_id: Id, session: SessionDep, geo: GeoDep, clock: ClockDep, user: DispatcherUser
) -> UnassignRead:
    """Take a visit off its route; the request waits for the next plan."""
    request = manual.unassign(session, geo, visit_id, actor=user.actor, now=clock.now())
    return UnassignRead(request_id=request.id, status=request.status)
