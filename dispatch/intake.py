"""Capacity-aware intake: the SLA promise, then a check against the published plan that places
the customer's window around a real predicted arrival, and slot offers.

When no engineer can meet the SLA the answer says so, with the earliest feasible arrival and
why, instead of promising the impossible. An urgent request can be inserted into a route at once,
and its area re-planned in the background.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dispatch.calendars import calendar_for
from dispatch.geo_support import GeoContext
from dispatch.models import RepairRequest, ServiceArea, Site
from dispatch.planning import manual
from dispatch.planning.capacity import CapacityIndex, Prediction, insertion_options, predict
from dispatch.planning.runner import JobRunner, submit_after_commit
from dispatch.planning.runs import create_run
from dispatch.promise import Promise, explain, place_window
from dispatch.requests import service as requests
from dispatch.sla.service import active_policy


@dataclass(frozen=True)
class IntakeSettings:
    """Capacity-aware intake behaviour (from the service settings)."""

    capacity_days: int = 3
    replan_on_urgent: bool = True
    replan_time_limit_s: int = 20


def _skills(skills: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {str(s["skill"]): int(s.get("min_level", 1)) for s in skills}


def _windows(availability: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, datetime]]:
    return [(w["start"], w["end"]) for w in availability]


def with_capacity(
    session: Session,
    geo: GeoContext,
    capacity: CapacityIndex,
    promise: Promise,
    *,
    base_area_id: int,
    site: tuple[float, float],
    skills: Mapping[str, int],
    service_minutes: int,
    availability: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> tuple[Promise, Prediction]:
    """Place the promise's window around the arrival current capacity allows."""
    policy = active_policy(session).policy
    context = capacity.context(session, geo, base_area_id, now)
    lead = timedelta(minutes=policy.min_lead_minutes)
    horizon_end = now + timedelta(days=capacity.days)
    prediction = predict(
        context,
        geo,
        site=site,
        skills=skills,
        service_minutes=service_minutes,
        tier=promise.tier.value,
        earliest=now + lead,
        latest=max(horizon_end, promise.window_end),
        availability=availability,
        arrival_due=promise.arrival_target,
    )
    if prediction.eta is None:
        risk = f"no engineer can take it: {prediction.message}"
        adjusted = dataclasses.replace(promise, at_risk=True, risk_reason=risk)
        return dataclasses.replace(adjusted, explanation=explain(adjusted)), prediction
    placed = place_window(
        promise,
        prediction.eta,
        width=timedelta(minutes=policy.window_minutes),
        now=now,
        lead=lead,
    )
    return placed, prediction


def quote(
    session: Session,
    geo: GeoContext,
    capacity: CapacityIndex,
    *,
    now: datetime,
    site_id: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    customer_id: int | None = None,
    tier: str | None = None,
    problem_type: str | None = None,
    skills: Sequence[Mapping[str, Any]] = (),
    service_minutes: int = 60,
    availability: Sequence[Mapping[str, Any]] = (),
) -> tuple[Promise, Prediction | None]:
    """The promise a request would get now, capacity included; nothing is saved."""
    location, point = requests.locate(
        session, geo, site_id=site_id, lat=lat, lon=lon, customer_id=customer_id
    )
    promise = requests.quote(
        session,
        location,
        now=now,
        tier=tier,
        problem_type=problem_type,
        skills=skills,
        service_minutes=service_minutes,
        availability=availability,
    )
    base = location.placement.base_area_id
    if base is None:
        return promise, None
    return with_capacity(
        session,
        geo,
        capacity,
        promise,
        base_area_id=base,
        site=point,
        skills=_skills(skills),
        service_minutes=service_minutes,
        availability=_windows(availability),
        now=now,
    )


@dataclass(frozen=True)
class Taken:
    """A request taken at intake, with what capacity said and what was done about it."""

    request: RepairRequest
    created: bool
    prediction: Prediction | None
    inserted: bool
    replan_run_id: int | None


def take_request(
    session: Session,
    geo: GeoContext,
    capacity: CapacityIndex,
    runner: JobRunner | None,
    settings: IntakeSettings,
    *,
    now: datetime,
    actor: str,
    site_id: int,
    skills: Sequence[Mapping[str, Any]] = (),
    service_minutes: int = 60,
    availability: Sequence[Mapping[str, Any]] = (),
    slot: Mapping[str, datetime] | None = None,
    **fields: Any,
) -> Taken:
    """Create the request with a capacity-aware promise; insert an urgent one at once."""
    predictions: list[Prediction] = []
    if slot is not None:
        # Booking an offered slot: the customer's choice becomes their availability.
        availability = [{"start": slot["start"], "end": slot["end"]}]

    def adjust(promise: Promise, site: Site) -> Promise:
        if site.base_area_id is None:
            return promise
        placed, prediction = with_capacity(
            session,
            geo,
            capacity,
            promise,
            base_area_id=site.base_area_id,
            site=(site.lat, site.lon),
            skills=_skills(skills),
            service_minutes=service_minutes,
            availability=_windows(availability),
            now=now,
        )
        predictions.append(prediction)
        if slot is not None:
            # The booked slot is the promised window, whole.
            placed = dataclasses.replace(placed, window_start=slot["start"], window_end=slot["end"])
            placed = dataclasses.replace(placed, explanation=explain(placed))
        return placed

    request, created = requests.create_request(
        session,
        now=now,
        actor=actor,
        site_id=site_id,
        skills=skills,
        service_minutes=service_minutes,
        availability=availability,
        adjust=adjust,
        **fields,
    )
    prediction = predictions[0] if predictions else None
    inserted = False
    run_id = None
    if (
        created
        and settings.replan_on_urgent
        and request.tier == "urgent"
        and prediction is not None
        and prediction.engineer_id is not None
        and prediction.day is not None
    ):
        manual.assign(
            session,
            geo,
            request_id=request.id,
            engineer_id=prediction.engineer_id,
            day=prediction.day,
            position=None,
            dry_run=False,
            accept_warnings=True,
            actor="auto:urgent insertion",
            now=now,
            lock=False,
        )
        inserted = True
        if runner is not None and request.base_area_id is not None:
            run = create_run(
                session,
                area_ids=[request.base_area_id],
                horizon_start=prediction.day,
                days=1,
                time_limit_s=settings.replan_time_limit_s,
                actor=f"auto: urgent {request.external_ref}",
                now=now,
            )
            run_id = run.id
            submit_after_commit(session, runner, run.id)
    return Taken(request, created, prediction, inserted, run_id)


def offer_slots(
    session: Session,
    geo: GeoContext,
    capacity: CapacityIndex,
    *,
    now: datetime,
    site_id: int,
    tier: str | None = None,
    problem_type: str | None = None,
    skills: Sequence[Mapping[str, Any]] = (),
    service_minutes: int = 60,
    slot_minutes: int = 120,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Arrival windows current capacity can keep, best first (within the SLA, then cheapest)."""
    location, _ = requests.locate(session, geo, site_id=site_id)
    promise = requests.quote(
        session,
        location,
        now=now,
        tier=tier,
        problem_type=problem_type,
        skills=skills,
        service_minutes=service_minutes,
    )
    site = session.get(Site, site_id)
    assert site is not None
    if site.base_area_id is None:
        return []
    area = session.get(ServiceArea, site.base_area_id)
    assert area is not None
    context = capacity.context(session, geo, area.id, now)
    lead = timedelta(minutes=active_policy(session).policy.min_lead_minutes)
    tz = ZoneInfo(area.timezone)
    offers = []
    for start, end in _blocks(area, tz, now + lead, capacity.days, slot_minutes):
        options, _, _ = insertion_options(
            context,
            geo,
            site=(site.lat, site.lon),
            skills=_skills(skills),
            service_minutes=service_minutes,
            tier=promise.tier.value,
            windows=[(start, end)],
            promise_due=promise.arrival_target,
        )
        if not options:
            continue
        best = min(options, key=lambda o: (o.cost, o.start))
        eta = context.built.instant(best.start)
        late = max(timedelta(0), eta - promise.arrival_target)
        offers.append(
            {
                "start": start,
                "end": end,
                "eta": eta,
                "within_sla": late == timedelta(0),
                "minutes_after_sla": int(late.total_seconds() // 60),
                "cost": best.cost,
                "engineers_able": len(options),
            }
        )
    offers.sort(key=lambda o: (not o["within_sla"], o["minutes_after_sla"], o["cost"], o["start"]))
    return offers[:limit]


def _blocks(
    area: ServiceArea, tz: ZoneInfo, earliest: datetime, days: int, minutes: int
) -> list[tuple[datetime, datetime]]:
    """Blocks of ``minutes`` inside the area's open hours (holidays and closures respected)
    over the next ``days`` local days, on local clock boundaries, starting after ``earliest``."""
    calendar = calendar_for(area)
    first = earliest.astimezone(tz).date()
    out = []
    for offset in range(days + 1):
        for open_, close in calendar.open_intervals_on(first + timedelta(days=offset)):
            start = open_
            while start + timedelta(minutes=minutes) <= close:
                end = start + timedelta(minutes=minutes)
                if start >= earliest:
                    out.append((start, end))
                start = end
    return out


def cancel(
    session: Session,
    geo: GeoContext,
    request_id: int,
    *,
    reason: str,
    by: str,
    actor: str,
    now: datetime,
) -> RepairRequest:
    """Cancel a request and close the gap its visit leaves in the engineer's day."""
    from sqlalchemy import select

    from dispatch.models import Engineer, Visit
    from dispatch.planning.publish import bump_plan_version

    visit = session.scalar(
        select(Visit).where(
            Visit.request_id == request_id,
            Visit.status.in_(("planned", "accepted", "en_route", "arrived")),
        )
    )
    request = requests.cancel_request(
        session, request_id, reason=reason, by=by, actor=actor, now=now
    )
    if visit is not None:
        manual.retime_route(session, geo, visit.engineer_id, visit.date, now)
        engineer = session.get(Engineer, visit.engineer_id)
        if engineer is not None:
            bump_plan_version(session, [engineer.service_area_id])
    return request
