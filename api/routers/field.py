"""The engineer's mobile app: my route, progress reports, position pings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from api.deps import (
    CapacityDep,
    ClockDep,
    EngineerUser,
    GeoDep,
    IntakeDep,
    RunnerDep,
    SessionDep,
)
from api.schemas.common import Day, Id
from api.schemas.field import (
    LocationCreate,
    LocationRead,
    MyRoute,
    VisitDecline,
    VisitDeclined,
    VisitEventCreate,
    VisitEventRead,
)
from dispatch.field import service
from dispatch.requests import intake

router = APIRouter(prefix="/v1/me", tags=["engineer app"])


@router.get("/route", response_model=MyRoute, response_model_exclude_none=False)
def my_route(
    session: SessionDep,
    clock: ClockDep,
    user: EngineerUser,
    date: Day | None = None,
    geometry: Annotated[bool, Query(description="add the route as a GeoJSON LineString")] = False,
) -> dict[str, Any]:
    """My visits for the day (default: today where I work), in order, with windows, ETAs,
    contacts and navigation links."""
    return service.my_route(
        session, engineer_id=user.own_engineer_id, day=date, now=clock.now(), geometry=geometry
    )


@router.post(
    "/visits/{visit_id}/events",
    response_model=VisitEventRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": VisitEventRead, "description": "a repeat: nothing changed"}},
)
def report(
    visit_id: Id,
    body: VisitEventCreate,
    response: Response,
    session: SessionDep,
    geo: GeoDep,
    capacity: CapacityDep,
    runner: RunnerDep,
    settings: IntakeDep,
    clock: ClockDep,
    user: EngineerUser,
) -> VisitEventRead:
    """Report progress on a visit; the rest of my day is re-timed. A visit that cannot be
    completed yet (reason needs_parts or needs_second_visit) keeps its request open: the return
    visit is promised at once, as intake would, and the customer told the new window."""
    reported = service.report_visit_event(
        session,
        geo,
        engineer_id=user.own_engineer_id,
        visit_id=visit_id,
        type_=body.type,
        at=body.at,
        now=clock.now(),
        lat=body.lat,
        lon=body.lon,
        reason=body.reason,
        ready_at=body.ready_at,
        actor=user.actor,
    )
    if reported.duplicate:
        response.status_code = status.HTTP_200_OK
    answer = VisitEventRead(
        visit_id=reported.visit.id,
        status=reported.visit.status,
        duplicate=reported.duplicate,
        newly_at_risk=reported.newly_at_risk,
    )
    if reported.return_ready_at is not None:
        returned = intake.promise_return(
            session,
            geo,
            capacity,
            runner,
            settings,
            request_id=reported.visit.request_id,
            ready_at=reported.return_ready_at,
            reason=body.reason or "",
            actor=user.actor,
            now=clock.now(),
        )
        answer.return_window_start = returned.request.window_start
        answer.return_window_end = returned.request.window_end
    return answer


@router.post(
    "/visits/{visit_id}/decline",
    response_model=VisitDeclined,
    responses={409: {"description": "the visit is already under way"}},
)
def decline(
    visit_id: Id,
    body: VisitDecline,
    session: SessionDep,
    geo: GeoDep,
    runner: RunnerDep,
    settings: IntakeDep,
    clock: ClockDep,
    user: EngineerUser,
) -> VisitDeclined:
    """Decline a visit before setting off: it leaves my route, goes to a colleague (never back
    to me unless a dispatcher says so) and the area is re-planned for that day."""
    declined = service.decline_visit(
        session,
        geo,
        runner,
        engineer_id=user.own_engineer_id,
        visit_id=visit_id,
        reason=body.reason,
        now=clock.now(),
        actor=user.actor,
        time_limit_s=settings.replan_time_limit_s,
    )
    return VisitDeclined(
        visit_id=declined.visit_id,
        request_id=declined.request_id,
        duplicate=declined.duplicate,
        replan_run_id=declined.replan_run_id,
    )


@router.post("/location", response_model=LocationRead, status_code=status.HTTP_202_ACCEPTED)
def location(
    body: LocationCreate, session: SessionDep, geo: GeoDep, clock: ClockDep, user: EngineerUser
) -> LocationRead:
    """Report my position."""
    at_risk = service.report_location(
        session,
        geo,
        engineer_id=user.own_engineer_id,
        lat=body.lat,
        lon=body.lon,
        at=body.at,
        now=clock.now(),
        accuracy_m=body.accuracy_m,
        actor=user.actor,
    )
    return LocationRead(accepted=True, newly_at_risk=at_risk)
