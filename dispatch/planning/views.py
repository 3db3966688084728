"""Read models of the published plan: a dispatcher's day per area, promise states."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.areas.service import get_area_or_raise
from dispatch.clock import iso
from dispatch.models import (
    Customer,
    DispatchRun,
    Engineer,
    LocationPing,
    RepairRequest,
    RequestEvent,
    Shift,
    Site,
    Visit,
)
from dispatch.models.enums import RunStatus
from dispatch.planning.snapshot import ACTIVE_VISIT, OPEN_STATUSES, plan_versions


class PromiseState(StrEnum):
    """Whether the customer's arrival window holds."""

    ON_TIME = "on_time"
    AT_RISK = "at_risk"
    LATE = "late"


def promise_state(
    *,
    window_end: datetime | None,
    eta: datetime | None,
    arrived_at: datetime | None,
    now: datetime,
) -> PromiseState:
    """On time while the arrival (or its ETA) is inside the window; at risk when the ETA is past
    the window but the window is still open; late once the window closed without an arrival."""
    if window_end is None:
        return PromiseState.ON_TIME
    if arrived_at is not None:
        return PromiseState.ON_TIME if arrived_at <= window_end else PromiseState.LATE
    if now > window_end:
        return PromiseState.LATE
    if eta is None or eta > window_end:
        return PromiseState.AT_RISK
    return PromiseState.ON_TIME


def visit_view(
    visit: Visit,
    request: RepairRequest,
    site: Site,
    customer: Customer,
    now: datetime,
    overrides: list[str] | None = None,
) -> dict[str, Any]:
    """One visit as dispatchers see it."""
    eta = visit.current_eta
    return {
        "overrides": overrides or [],
        "visit_id": visit.id,
        "request_id": request.id,
        "external_ref": request.external_ref,
        "tier": request.tier,
        "status": visit.status,
        "sequence": visit.sequence,
        "customer": customer.name,
        "site": {
            "id": site.id,
            "name": site.name,
            "address": site.address,
            "lat": site.lat,
            "lon": site.lon,
        },
        "skills": [{"skill": s.skill.code, "min_level": s.min_level} for s in request.skills],
        "service_minutes": request.service_minutes,
        "window_start": iso(request.window_start),
        "window_end": iso(request.window_end),
        "arrival_target": iso(request.arrival_target),
        "planned_arrival": iso(visit.planned_arrival),
        "planned_start": iso(visit.planned_start),
        "planned_end": iso(visit.planned_end),
        "eta": iso(eta),
        "arrived_at": iso(visit.arrived_at),
        "completed_at": iso(visit.completed_at),
        "travel_seconds": visit.travel_seconds,
        "lock": visit.lock,
        "locked_arrival": iso(visit.locked_arrival),
        "promise_state": promise_state(
            window_end=request.window_end, eta=eta, arrived_at=visit.arrived_at, now=now
        ).value,
    }


PLACED = ("assigned", "reassigned", "moved")


def accepted_overrides(session: Session, request_ids: list[int]) -> dict[int, list[str]]:
    """The warnings a dispatcher accepted in placing each request's visit where it is: those of
    the newest event that placed it, when that was a dispatcher's (a run's carries none)."""
    if not request_ids:
        return {}
    newest = (
        select(func.max(RequestEvent.id))
        .where(RequestEvent.request_id.in_(request_ids), RequestEvent.type.in_(PLACED))
        .group_by(RequestEvent.request_id)
    )
    found = {}
    for event in session.scalars(select(RequestEvent).where(RequestEvent.id.in_(newest))):
        codes = (event.payload or {}).get("warnings") or []
        if codes:
            found[event.request_id] = [str(c) for c in codes]
    return found


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, datetime.min.time(), tz)
    return start, start + timedelta(days=1)


def last_unassigned_reasons(session: Session, area_id: int) -> dict[int, dict[str, Any]]:
    """Reasons from the newest successful run that covered the area."""
    runs = session.scalars(
        select(DispatchRun)
        .where(DispatchRun.status == RunStatus.SUCCEEDED.value)
        .order_by(DispatchRun.id.desc())
        .limit(20)
    )
    for run in runs:
        if area_id in run.scope.get("service_area_ids", []):
            return {u["request_id"]: u for u in run.unassigned or []}
    return {}


def last_positions(
    session: Session, engineer_ids: list[int], *, since: datetime, until: datetime
) -> dict[int, dict[str, Any]]:
    """Each engineer's last reported position between ``since`` and ``until``."""
    if until <= since or not engineer_ids:
        return {}
    latest = (
        select(LocationPing.engineer_id, func.max(LocationPing.at).label("at"))
        .where(
            LocationPing.engineer_id.in_(engineer_ids),
            LocationPing.at >= since,
            LocationPing.at <= until,
        )
        .group_by(LocationPing.engineer_id)
        .subquery()
    )
    rows = session.execute(
        select(LocationPing).join(
            latest,
            (LocationPing.engineer_id == latest.c.engineer_id) & (LocationPing.at == latest.c.at),
        )
    ).scalars()
    return {p.engineer_id: {"lat": p.lat, "lon": p.lon, "at": iso(p.at)} for p in rows}


def nights_around(
    session: Session, engineer_ids: list[int], day: date
) -> tuple[dict[int, dict[str, Any]], dict[int, dict[str, Any]]]:
    """For each engineer away on an out-of-town trip: where they start ``day`` (the night
    before) and where they end it (the night after), by engineer id."""
    rows = session.scalars(
        select(Shift).where(
            Shift.engineer_id.in_(engineer_ids),
            Shift.date.in_([day - timedelta(days=1), day]),
            Shift.night_lat.is_not(None),
            Shift.night_lon.is_not(None),
        )
    ).all()
    before: dict[int, dict[str, Any]] = {}
    after: dict[int, dict[str, Any]] = {}
    for s in rows:
        stop = {"name": s.night_label or "", "lat": s.night_lat, "lon": s.night_lon}
        (after if s.date == day else before)[s.engineer_id] = stop
    return before, after


def area_day_plan(session: Session, *, area_id: int, day: date, now: datetime) -> dict[str, Any]:
    """The plan of one service area on one day: routes with visits and ETAs, and the requests
    still waiting for an engineer, with the reason."""
    area = get_area_or_raise(session, area_id)
    engineers = session.scalars(
        select(Engineer)
        .where(Engineer.service_area_id == area_id, Engineer.active.is_(True))
        .order_by(Engineer.name)
    ).all()
    ids = [e.id for e in engineers]
    shifts = {
        s.engineer_id: s
        for s in session.scalars(select(Shift).where(Shift.engineer_id.in_(ids), Shift.date == day))
    }
    rows = session.execute(
        select(Visit, RepairRequest, Site, Customer)
        .join(RepairRequest, RepairRequest.id == Visit.request_id)
        .join(Site, Site.id == RepairRequest.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .where(Visit.engineer_id.in_(ids), Visit.date == day, Visit.status != "cancelled")
        .order_by(Visit.engineer_id, Visit.sequence)
    ).all()
    starts_from, overnight = nights_around(session, ids, day)
    day_start, day_end = day_bounds(day, area.timezone)
    seen = last_positions(session, ids, since=day_start, until=min(day_end, now))
    accepted = accepted_overrides(session, [request.id for _, request, _, _ in rows])
    by_engineer: dict[int, list[dict[str, Any]]] = {}
    for visit, request, site, customer in rows:
        by_engineer.setdefault(visit.engineer_id, []).append(
            visit_view(visit, request, site, customer, now, accepted.get(request.id))
        )
    routes = []
    for e in engineers:
        shift = shifts.get(e.id)
        visits = by_engineer.get(e.id, [])
        routes.append(
            {
                "engineer": {
                    "id": e.id,
                    "name": e.name,
                    "home": {"lat": e.home_lat, "lon": e.home_lon},
                    "position": seen.get(e.id),
                },
                "shift": None
                if shift is None
                else {
                    "start": iso(shift.start_at),
                    "end": iso(shift.end_at),
                    "break_start": iso(shift.break_start_at),
                    "break_end": iso(shift.break_end_at),
                    "break_minutes": shift.break_minutes,
                    "planned_break_start": iso(shift.planned_break_start),
                    "planned_break_end": iso(shift.planned_break_end),
                },
                "visits": visits,
                "travel_seconds": sum(v["travel_seconds"] for v in visits),
                "starts_from": starts_from.get(e.id),
                "overnight": overnight.get(e.id),
            }
        )
    _, end = day_bounds(day, area.timezone)
    return {
        "service_area_id": area_id,
        "date": day.isoformat(),
        "timezone": area.timezone,
        "plan_version": plan_versions(session, [area_id])[area_id],
        "routes": routes,
        "unassigned": unassigned_requests(session, area_id=area_id, until=end, now=now),
    }


def unassigned_requests(
    session: Session, *, area_id: int, until: datetime, now: datetime
) -> list[dict[str, Any]]:
    """Open requests served from the area, due to start before ``until``, with no engineer."""
    planned = select(Visit.request_id).where(Visit.status.in_(ACTIVE_VISIT))
    rows = session.execute(
        select(RepairRequest, Site, Customer)
        .join(Site, Site.id == RepairRequest.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .where(
            RepairRequest.base_area_id == area_id,
            RepairRequest.status.in_(OPEN_STATUSES),
            RepairRequest.id.not_in(planned),
            RepairRequest.window_start < until,
        )
        .order_by(RepairRequest.window_end)
    ).all()
    reasons = last_unassigned_reasons(session, area_id)
    out = []
    for request, site, customer in rows:
        why = reasons.get(request.id)
        out.append(
            {
                "request_id": request.id,
                "external_ref": request.external_ref,
                "tier": request.tier,
                "customer": customer.name,
                "site": {
                    "id": site.id,
                    "name": site.name,
                    "address": site.address,
                    "lat": site.lat,
                    "lon": site.lon,
                },
                "skills": [
                    {"skill": s.skill.code, "min_level": s.min_level} for s in request.skills
                ],
                "service_minutes": request.service_minutes,
                "window_start": iso(request.window_start),
                "window_end": iso(request.window_end),
                "promise_state": promise_state(
                    window_end=request.window_end, eta=None, arrived_at=None, now=now
                ).value,
                "reason": why["reason"] if why else "not_planned",
                "message": why["message"] if why else "no dispatch run has planned it yet",
            }
        )
    return out
