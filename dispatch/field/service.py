"""The engineer's mobile app: my route, progress reports (a strict state machine) and position
pings. After every report the engineer's remaining ETAs are re-timed along the fixed order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import ensure_utc
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.geo_support import GeoContext
from dispatch.models import (
    Customer,
    Engineer,
    LocationPing,
    RepairRequest,
    RequestEvent,
    Shift,
    Site,
    Visit,
    VisitEvent,
)
from dispatch.models.enums import RequestStatus, VisitStatus
from dispatch.planning import manual
from dispatch.planning.replan import queue_replan
from dispatch.planning.runner import JobRunner
from dispatch.planning.snapshot import MOVABLE
from dispatch.planning.timing import day_visits, refresh_etas
from dispatch.planning.views import nights_around, promise_state
from dispatch.requests.service import end_pause

# Event type -> (statuses it may follow, the visit status it leads to, the request's status).
TRANSITIONS: dict[str, tuple[frozenset[str], VisitStatus, RequestStatus | None]] = {
    "accepted": (frozenset({"planned"}), VisitStatus.ACCEPTED, None),
    "en_route": (frozenset({"accepted"}), VisitStatus.EN_ROUTE, RequestStatus.EN_ROUTE),
    "arrived": (frozenset({"en_route"}), VisitStatus.ARRIVED, RequestStatus.ON_SITE),
    "completed": (frozenset({"arrived"}), VisitStatus.COMPLETED, RequestStatus.COMPLETED),
    "cannot_complete": (
        frozenset({"accepted", "en_route", "arrived"}),
        VisitStatus.CANNOT_COMPLETE,
        RequestStatus.CANNOT_COMPLETE,
    ),
}
REQUEST_EVENT = {
    "accepted": "engineer_accepted",
    "en_route": "en_route",
    "arrived": "on_site",
    "completed": "completed",
    "cannot_complete": "cannot_complete",
}
TIMESTAMP = {
    "accepted": "accepted_at",
    "en_route": "en_route_at",
    "arrived": "arrived_at",
    "completed": "completed_at",
}
CLOCK_SKEW = timedelta(minutes=5)
PING_MAX_AGE = timedelta(hours=24)
# A report of the same event again within this long is a retry (a phone that lost the answer).
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Reported:
    """The outcome of a progress report."""

    visit: Visit
    duplicate: bool
    newly_at_risk: list[int]
    return_ready_at: datetime | None = None
    """A visit that cannot be completed yet (parts, a second visit): when the return visit
    can be made; the request stays open and is promised again from then."""


RETURN_LEAD = {"needs_parts": timedelta(hours=24), "needs_second_visit": timedelta(0)}
"""Reasons of ``cannot_complete`` that keep the request open for a return visit, and how long
after the report it can be made when the engineer does not say (parts take a day by default)."""


def return_reason(reason: str | None) -> str | None:
    """The return-visit code of a ``cannot_complete`` reason (``needs_parts`` or
    ``needs_parts: compressor on order``), or None for a final one."""
    code = (reason or "").split(":", 1)[0].strip()
    return code if code in RETURN_LEAD else None


def _own_visit(session: Session, engineer_id: int, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    # Another engineer's visit is "not found": keys cannot probe what exists.
    if visit is None or visit.engineer_id != engineer_id:
        raise NotFound("visit", visit_id)
    return visit


def _check_time(at: datetime, now: datetime, field: str = "at") -> datetime:
    at = ensure_utc(at, field=field)
    if at > now + CLOCK_SKEW:
        raise InvalidInput(field, "the time is in the future; check the phone's clock")
    return at


def report_visit_event(
    session: Session,
    geo: GeoContext,
    *,
    engineer_id: int,
    visit_id: int,
    type_: str,
    at: datetime | None,
    now: datetime,
    lat: float | None = None,
    lon: float | None = None,
    reason: str | None = None,
    ready_at: datetime | None = None,
    actor: str,
) -> Reported:
    """Record ``accepted``, ``en_route``, ``arrived``, ``completed`` or ``cannot_complete``.

    ``cannot_complete`` with a reason ``needs_parts`` or ``needs_second_visit`` (optionally
    followed by ``: a note``) ends the visit but not the request: ``return_ready_at`` (from
    ``ready_at``, or the reason's default lead time) tells the caller to promise the return
    visit."""
    if type_ not in TRANSITIONS:
        raise InvalidInput("type", f"unknown event {type_!r}; use one of {', '.join(TRANSITIONS)}")
    visit = _own_visit(session, engineer_id, visit_id)
    at = _check_time(at, now) if at is not None else now
    received = session.scalar(
        select(RepairRequest.received_at).where(RepairRequest.id == visit.request_id)
    )
    if received is not None and at < received:
        raise InvalidInput("at", "earlier than the request itself; check the phone's clock")
    if (lat is None) != (lon is None):
        raise InvalidInput("lat" if lat is None else "lon", "give both lat and lon, or neither")
    last = session.scalar(
        select(VisitEvent)
        .where(VisitEvent.visit_id == visit_id)
        .order_by(VisitEvent.id.desc())
        .limit(1)
    )
    if last is not None and last.type == type_:
        # A retry (the phone lost the answer): the same event again, at the same time or
        # within a few minutes of it, changes nothing and is answered as a repeat.
        if abs(at - last.at) <= REPEAT_WINDOW:
            return Reported(visit=visit, duplicate=True, newly_at_risk=[])
        raise Conflict(f"visit {visit_id} is already {type_} (since {last.at.isoformat()})")
    allowed_from, new_status, request_status = TRANSITIONS[type_]
    if visit.status not in allowed_from:
        raise Conflict(
            f"visit {visit_id} is {visit.status}; {type_} can only follow "
            f"{' or '.join(sorted(allowed_from))}",
            field="type",
        )
    if last is not None and at < last.at:
        raise InvalidInput("at", f"earlier than the previous report ({last.at.isoformat()})")
    if type_ == "cannot_complete" and not (reason and reason.strip()):
        raise InvalidInput("reason", "say why the visit cannot be completed")
    returning = return_reason(reason) if type_ == "cannot_complete" else None
    if ready_at is not None:
        if returning is None:
            raise InvalidInput(
                "ready_at", "only a return visit (reason needs_parts or needs_second_visit) has one"
            )
        ready_at = ensure_utc(ready_at, field="ready_at")
        if ready_at < at:
            raise InvalidInput("ready_at", "the return visit cannot be before the report")
        if ready_at > at + timedelta(days=60):
            raise InvalidInput("ready_at", "more than 60 days ahead; agree a date later instead")
    if type_ in ("en_route", "arrived"):
        busy = session.scalar(
            select(Visit.id).where(
                Visit.engineer_id == engineer_id,
                Visit.id != visit_id,
                Visit.status.in_((VisitStatus.EN_ROUTE.value, VisitStatus.ARRIVED.value)),
            )
        )
        if busy is not None:
            raise Conflict(f"visit {busy} is still under way; complete it first", field="type")
    session.add(
        VisitEvent(
            visit_id=visit_id,
            engineer_id=engineer_id,
            type=type_,
            at=at,
            received_at=now,
            lat=lat,
            lon=lon,
            reason=reason,
        )
    )
    if lat is not None and lon is not None:
        session.add(LocationPing(engineer_id=engineer_id, at=at, lat=lat, lon=lon))
    visit.status = new_status.value
    if type_ in TIMESTAMP:
        setattr(visit, TIMESTAMP[type_], at)
    if type_ == "arrived":
        visit.eta = at
    if type_ == "cannot_complete":
        visit.cannot_complete_reason = reason
    request = session.get(RepairRequest, visit.request_id)
    assert request is not None
    if returning is not None:
        # Not done yet: the request waits for its return visit (promised by the caller).
        request.status = (
            RequestStatus.ACKNOWLEDGED.value
            if request.acknowledged_at is not None
            else RequestStatus.PROMISED.value
        )
        request.predicted_arrival = None
    elif request_status is not None:
        request.status = request_status.value
    if type_ in ("arrived", "completed", "cannot_complete"):
        # The engineer is at the customer's: whatever the request waited for is over.
        end_pause(session, request, actor=actor, now=at)
    if type_ == "completed" or (type_ == "cannot_complete" and returning is None):
        request.closed_at = at
        request.close_reason = reason
    if type_ == "arrived":
        request.predicted_arrival = at
    session.add(
        RequestEvent(
            request_id=request.id,
            type="return_visit_needed" if returning is not None else REQUEST_EVENT[type_],
            at=at,
            actor=actor,
            payload={
                k: v
                for k, v in {"visit_id": visit_id, "reason": reason, "lat": lat, "lon": lon}.items()
                if v is not None
            },
        )
    )
    if type_ == "arrived" and request.acknowledged_at is None:
        # Nobody called the customer before the engineer rang the bell: that is the first
        # effective contact, so the response clock stops there (met or breached), and the
        # desk's "call the customer" alert goes away.
        request.acknowledged_at = at
        session.add(
            RequestEvent(
                request_id=request.id,
                type="acknowledged",
                at=at,
                actor=actor,
                payload={"note": "first contact: the engineer arrived on site"},
            )
        )
    session.flush()
    at_risk = refresh_etas(session, geo, engineer_id, visit.date, now, actor=actor)
    ready = None
    if returning is not None:
        ready = ready_at if ready_at is not None else at + RETURN_LEAD[returning]
    return Reported(
        visit=visit,
        duplicate=False,
        newly_at_risk=[v.request_id for v in at_risk],
        return_ready_at=ready,
    )


@dataclass(frozen=True)
class Declined:
    """The outcome of declining a visit."""

    visit_id: int
    request_id: int
    duplicate: bool
    replan_run_id: int | None
    """The re-plan of the area for the visit's day (None for a repeat, or when that day has
    nothing left to plan)."""


def _declined_before(session: Session, engineer_id: int, visit_id: int) -> RequestEvent | None:
    """My earlier decline of this visit (the visit itself is gone from the route by then)."""
    return session.scalar(
        select(RequestEvent)
        .where(
            RequestEvent.type == "declined",
            RequestEvent.payload["visit_id"].as_integer() == visit_id,
            RequestEvent.payload["engineer_id"].as_integer() == engineer_id,
        )
        .limit(1)
    )


def decline_visit(
    session: Session,
    geo: GeoContext,
    runner: JobRunner | None,
    *,
    engineer_id: int,
    visit_id: int,
    reason: str,
    now: datetime,
    actor: str,
    time_limit_s: int,
) -> Declined:
    """Decline a visit before setting off (with a reason): it leaves my route, the request goes
    back to the plan, never to me again unless a dispatcher says so, and the area is re-planned
    for that day. A repeat (the phone lost the answer) changes nothing."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason", "say why you decline the visit")
    visit = session.get(Visit, visit_id)
    if visit is None or visit.engineer_id != engineer_id:
        # Gone from my route: a repeat of my decline (its id may even serve another visit by
        # now), or not mine at all.
        earlier = _declined_before(session, engineer_id, visit_id)
        if earlier is not None:
            return Declined(visit_id, earlier.request_id, duplicate=True, replan_run_id=None)
    visit = _own_visit(session, engineer_id, visit_id)
    if visit.status not in MOVABLE:
        raise Conflict(
            f"visit {visit_id} is {visit.status}; only a visit not yet under way can be declined "
            "(on site, report cannot_complete instead)"
        )
    engineer = session.get(Engineer, engineer_id)
    assert engineer is not None
    request_id, day = visit.request_id, visit.date
    session.add(
        RequestEvent(
            request_id=request_id,
            type="declined",
            at=now,
            actor=actor,
            payload={"visit_id": visit_id, "engineer_id": engineer_id, "reason": reason},
        )
    )
    manual.unassign(session, geo, visit_id, actor=actor, now=now)
    run_id = queue_replan(
        session,
        runner,
        area_id=engineer.service_area_id,
        days=[day],
        reason=f"{engineer.name} declined a visit: {reason}",
        time_limit_s=time_limit_s,
        now=now,
    )
    return Declined(visit_id, request_id, duplicate=False, replan_run_id=run_id)


def report_location(
    session: Session,
    geo: GeoContext,
    *,
    engineer_id: int,
    lat: float,
    lon: float,
    at: datetime | None,
    now: datetime,
    accuracy_m: float | None = None,
    actor: str,
) -> list[int]:
    """Store a position; when the engineer is on the way, re-time the rest of the day."""
    at = _check_time(at, now) if at is not None else now
    if at < now - PING_MAX_AGE:
        raise InvalidInput("at", "a position older than a day is no use to anyone")
    session.add(
        LocationPing(engineer_id=engineer_id, at=at, lat=lat, lon=lon, accuracy_m=accuracy_m)
    )
    session.flush()
    en_route = session.scalar(
        select(Visit).where(
            Visit.engineer_id == engineer_id, Visit.status == VisitStatus.EN_ROUTE.value
        )
    )
    if en_route is None:
        return []
    at_risk = refresh_etas(session, geo, engineer_id, en_route.date, now, actor=actor)
    return [v.request_id for v in at_risk]


def _navigation(lat: float, lon: float) -> dict[str, str]:
    return {
        "geo_uri": f"geo:{lat},{lon}?q={lat},{lon}",
        "osm_url": f"https://www.openstreetmap.org/directions?to={lat}%2C{lon}",
    }


def my_route(
    session: Session,
    *,
    engineer_id: int,
    day: date | None,
    now: datetime,
    geometry: bool = False,
) -> dict[str, Any]:
    """The engineer's day (default: today in their area's timezone): shift, ordered visits with
    everything needed on the doorstep."""
    engineer = session.get(Engineer, engineer_id)
    if engineer is None:
        raise NotFound("engineer", engineer_id)
    if day is None:
        from zoneinfo import ZoneInfo

        from dispatch.models import ServiceArea

        area = session.get(ServiceArea, engineer.service_area_id)
        assert area is not None
        day = now.astimezone(ZoneInfo(area.timezone)).date()
    shift = session.scalar(select(Shift).where(Shift.engineer_id == engineer_id, Shift.date == day))
    visits_out = []
    before, after = nights_around(session, [engineer_id], day)
    starts_from, overnight = before.get(engineer_id), after.get(engineer_id)
    first = starts_from or {"lat": engineer.home_lat, "lon": engineer.home_lon}
    line = [[first["lon"], first["lat"]]]
    for visit in day_visits(session, engineer_id, day):
        request = session.get(RepairRequest, visit.request_id)
        assert request is not None
        site = session.get(Site, request.site_id)
        customer = session.get(Customer, site.customer_id) if site else None
        assert site is not None and customer is not None
        eta = visit.current_eta
        visits_out.append(
            {
                "visit_id": visit.id,
                "sequence": visit.sequence,
                "status": visit.status,
                "request": {
                    "id": request.id,
                    "external_ref": request.external_ref,
                    "tier": request.tier,
                    "problem_type": request.problem_type,
                    "description": request.description,
                },
                "customer": {
                    "name": customer.name,
                    "contact_name": site.contact_name or customer.contact_name,
                    "phone": site.contact_phone or customer.phone,
                },
                "site": {
                    "name": site.name,
                    "address": site.address,
                    "lat": site.lat,
                    "lon": site.lon,
                },
                "window_start": request.window_start,
                "window_end": request.window_end,
                "planned_arrival": visit.planned_arrival,
                "eta": eta,
                "service_minutes": request.service_minutes,
                "required_skills": [
                    {"skill": s.skill.code, "min_level": s.min_level} for s in request.skills
                ],
                "promise_state": promise_state(
                    window_end=request.window_end, eta=eta, arrived_at=visit.arrived_at, now=now
                ).value,
                "navigation": _navigation(site.lat, site.lon),
            }
        )
        line.append([site.lon, site.lat])
    last = overnight or {"lat": engineer.home_lat, "lon": engineer.home_lon}
    line.append([last["lon"], last["lat"]])
    result: dict[str, Any] = {
        "date": day,
        "engineer": {"id": engineer.id, "name": engineer.name},
        "shift": None
        if shift is None
        else {
            "start": shift.start_at,
            "end": shift.end_at,
            "break_start": shift.break_start_at,
            "break_end": shift.break_end_at,
            "break_minutes": shift.break_minutes,
            "planned_break_start": shift.planned_break_start,
            "planned_break_end": shift.planned_break_end,
        },
        "visits": visits_out,
        "starts_from": starts_from,
        "overnight": overnight,
    }
    if geometry:
        result["geometry"] = {"type": "LineString", "coordinates": line}
    return result
