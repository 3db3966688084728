"""The engineer's mobile app: my route, progress reports, position pings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime, Field

from api.deps import ClockDep, CurrentUser, GeoDep, SessionDep
from api.schemas.common import InputModel, Latitude, Longitude
from dispatch.errors import PermissionDenied
from dispatch.field import service
from dispatch.models.enums import Role

router = APIRouter(prefix="/v1/me", tags=["engineer app"])


class VisitEventCreate(InputModel):
    type: Literal["accepted", "en_route", "arrived", "completed", "cannot_complete"]
    at: AwareDatetime | None = Field(default=None, description="when it happened; now if omitted")
    lat: Latitude | None = None
    lon: Longitude | None = None
    reason: Annotated[str, Field(max_length=500)] | None = None


class LocationCreate(InputModel):
    lat: Latitude
    lon: Longitude
    at: AwareDatetime | None = None
    accuracy_m: Annotated[float, Field(ge=0)] | None = None


def _engineer_id(user: Any) -> int:
    if user.role is not Role.ENGINEER or user.engineer_id is None:
        raise PermissionDenied("this is the engineer's app: use an engineer key")
    return int(user.engineer_id)


@router.get("/route")
def my_route(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    date: dt.date | None = None,
    geometry: Annotated[bool, Query(description="add the route as a GeoJSON LineString")] = False,
) -> dict[str, Any]:
    """My visits for the day (default: today where I work), in order, with windows, ETAs,
    contacts and navigation links."""
    engineer_id = _engineer_id(user)
    return service.my_route(
        session, engineer_id=engineer_id, day=date, now=clock.now(), geometry=geometry
    )


@router.post("/visits/{visit_id}/events")
def report(
    visit_id: int,
    body: VisitEventCreate,
    response: Response,
    session: SessionDep,
    geo: GeoDep,
    clock: ClockDep,
    user: CurrentUser,
) -> dict[str, Any]:
    """Report progress on a visit; the rest of my day is re-timed."""
    reported = service.report_visit_event(
        session,
        geo,
        engineer_id=_engineer_id(user),
        visit_id=visit_id,
        type_=body.type,
        at=body.at,
        now=clock.now(),
        lat=body.lat,
        lon=body.lon,
        reason=body.reason,
        actor=user.actor,
    )
    response.status_code = status.HTTP_200_OK if reported.duplicate else status.HTTP_201_CREATED
    return {
        "visit_id": reported.visit.id,
        "status": reported.visit.status,
        "duplicate": reported.duplicate,
        "newly_at_risk": reported.newly_at_risk,
    }


@router.post("/location", status_code=status.HTTP_202_ACCEPTED)
def location(
    body: LocationCreate, session: SessionDep, geo: GeoDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Report my position."""
    at_risk = service.report_location(
        session,
        geo,
        engineer_id=_engineer_id(user),
        lat=body.lat,
        lon=body.lon,
        at=body.at,
        now=clock.now(),
        accuracy_m=body.accuracy_m,
        actor=user.actor,
    )
    return {"accepted": True, "newly_at_risk": at_risk}
