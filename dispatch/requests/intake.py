"""Taking a repair request, as one use case: the SLA promise, placed by capacity, persisted,
and what follows (an urgent request goes into a route at once). Quotes and slot offers answer
the same question without saving; cancelling is the one way a request is called off.

When no engineer can meet the SLA the answer says so, with the earliest feasible arrival and
why, instead of promising the impossible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.calendars import calendar_for
from dispatch.geo_support import GeoContext
from dispatch.models import Engineer, RepairRequest, ServiceArea, Visit
from dispatch.planning import manual
from dispatch.planning.capacity import CapacityIndex, Prediction, insertion_options, predict
from dispatch.planning.publish import bump_plan_version, lock_scopes
from dispatch.planning.runner import JobRunner, submit_after_commit
from dispatch.planning.runs import create_run
from dispatch.planning.snapshot import ACTIVE_VISIT
from dispatch.promise import (
    Promise,
    SlaPolicy,
    explain,
    place_calibrated_window,
    place_window,
)
from dispatch.promise.calibration import arrival_spread
from dispatch.requests import service as requests
from dispatch.sla.service import policy_for


@dataclass(frozen=True)
class IntakeSettings:
    """Capacity-aware intake behaviour (from the service settings).

    ``assign_on_intake`` books every promised request into the route capacity found for it at
    once, so the next caller's quote sees it (promises made between two runs would otherwise
    all count on the same free time); an urgent one also starts a re-plan of its area
    (``replan_on_urgent``).
    """

    replan_on_urgent: bool = True
    replan_time_limit_s: int = 20
    assign_on_intake: bool = True


@dataclass(frozen=True)
class Taken:
    """A request taken at intake, with what capacity said and what was done about it."""

    request: RepairRequest
    created: bool
    prediction: Prediction | None
    inserted: bool
    replan_run_id: int | None


def _skills(skills: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {str(s["skill"]): int(s.get("min_level", 1)) for s in skills}


def place_by_capacity(
    session: Session,
    geo: GeoContext,
    capacity: CapacityIndex,
    promise: Promise,
    *,
    policy: SlaPolicy,
    base_area_id: int,
    site: tuple[float, float],
    skills: Mapping[str, int],
    service_minutes: int,
    availability: Sequence[tuple[datetime, datetime]],
    now: datetime,
    parts_volume: int = 0,
) -> tuple[Promise, Prediction]:
    """Place the promise's window around the arrival current capacity allows, as ``policy``
    (the one the promise was made under) sizes windows.

    Capacity is known for the days the index covers; a booking wholly after them is promised
    on the SLA alone (not at risk) and planned when its day comes into view.
    """
    urgent = promise.tier.value == "urgent"
    context = capacity.context(session, geo, base_area_id, now, fresh=urgent)
    if availability and all(start >= context.until for start, _ in availability):
        if policy.window_mode == "calibrated":
            # Too far ahead to know where the plan will put it: promise the customer's own
            # availability (as much of it as the policy allows), not its first hours.
            start, end = promise.window_bounds  # the availability window the SLA chose
            end = min(end, start + timedelta(minutes=policy.window_max_minutes))
            promise = dataclasses.replace(
                promise, window_start=start, window_end=end, plan_by=start + (end - start) / 2
            )
            promise = dataclasses.replace(promise, explanation=explain(promise))
        return promise, Prediction.beyond(context.until)
    lead = policy.lead(promise.tier)
    prediction = predict(
        context,
        geo,
        site=site,
        skills=skills,
        service_minutes=service_minutes,
        tier=promise.tier.value,
        earliest=now + lead,
        latest=context.until,
        availability=availability,
        arrival_due=promise.arrival_target,
        parts_volume=parts_volume,
        trip_max_days=policy.trip_max_days,
    )
    if prediction.eta is None:
        risk = f"no engineer can take it: {prediction.message}"
        adjusted = dataclasses.replace(promise, at_risk=True, risk_reason=risk)
        return dataclasses.replace(adjusted, explanation=explain(adjusted)), prediction
    if policy.window_mode == "calibrated":
        estimate = capacity.noise.estimate(session, base_area_id, now)
        spread = arrival_spread(
            prediction.legs,
            estimate,
            tz=ZoneInfo(promise.timezone),
            first_of_day=prediction.first_of_day,
        )
        placed = place_calibrated_window(
            promise, prediction.eta, spread, policy=policy, now=now, lead=lead
        )
        return placed, prediction
    placed = place_window(
        promise,
        prediction.eta,
        width=timedelta(minutes=policy.window_minutes),
        now=now,
        lead=lead,
    )
    return placed, prediction


def _sla_quote(
    session: Session,
    geo: GeoContext,
    *,
    now: datetime,
    site_id: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    customer_id: int | None = None,
    tier: str | None,
    problem_type: str | None,
    skills: Sequence[Mapping[str, Any]],
    service_minutes: int,
    availability: Sequence[Mapping[str, Any]] = (),
) -> tuple[requests.Location, tuple[float, float], Promise]:
    """Where a quoted request is, and its SLA promise (before capacity)."""
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
    return location, point, promise


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
    parts_volume: int = 0,
) -> tuple[Promise, Prediction | None]:
    """The promise a request would get now, capacity included; nothing is saved."""
    location, point, promise = _sla_quote(
        session,
        geo,
        now=now,
        site_id=site_id,
        lat=lat,
        lon=lon,
        customer_id=customer_id,
        tier=tier,
        problem_type=problem_type,
        skills=skills,
        service_minutes=service_minutes,
        availability=availability,
    )
    base = location.placement.base_area_id
    if base is None:
        return promise, None
    return place_by_capacity(
        session,
        geo,
        capacity,
        promise,
        policy=policy_for(session, location.contract).policy,
        base_area_id=base,
        site=point,
        skills=_skills(skills),
        service_minutes=service_minutes,
        availability=[(w["start"], w["end"]) for w in availability],
        now=now,
        parts_volume=parts_volume,
    )


def take_request(
    session: Session,
    *,
    now: datetime,
    actor: str,
    geo: GeoContext | None = None,
    capacity: CapacityIndex | None = None,
    runner: JobRunner | None = None,
    settings: IntakeSettings | None = None,
    idempotency_key: str | None = None,
    **fields: Any,
) -> Taken:
    """Take a repair request and promise it at once.

    1. A retry (the same external reference or Idempotency-Key) answers the original.
    2. The SLA promise: the policy's deadlines and window for the request's facts.
    3. Capacity (given ``capacity``): the window is placed around the arrival the published
       plan allows; a booked slot is the window, whole.
    4. The request, its promise and its timeline are stored.
    5. What follows: an urgent request is put into a route at once and its area re-planned
       (given ``runner``).
    """
    settings = settings or IntakeSettings()
    fingerprint = requests.intake_fingerprint(fields)
    retry = requests.find_retry(
        session,
        external_ref=fields.get("external_ref"),
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
    )
    if retry is not None:
        return Taken(retry, False, None, False, None)
    draft = requests.draft_request(
        session, now=now, idempotency_key=idempotency_key, fingerprint=fingerprint, **fields
    )
    promise, policy = requests.promise_draft(session, draft, now=now)
    prediction = None
    site = draft.site
    if capacity is not None and geo is not None and site.base_area_id is not None:
        urgent = promise.tier.value == "urgent"
        if settings.assign_on_intake or (urgent and settings.replan_on_urgent):
            # The area's turn is taken before the capacity check, not only for the booking:
            # the promise is made on the plan as it is (two callers at once are never both
            # promised the same free time), and the booking can then be made from the quote.
            lock_scopes(session, [site.base_area_id])
        promise, prediction = place_by_capacity(
            session,
            geo,
            capacity,
            promise,
            policy=policy.policy,
            base_area_id=site.base_area_id,
            site=(site.lat, site.lon),
            skills={s.code: level for s, level in draft.skills},
            service_minutes=draft.service_minutes,
            availability=draft.windows,
            now=now,
            parts_volume=draft.parts_volume,
        )
    if draft.slot is not None:
        promise = dataclasses.replace(
            promise, window_start=draft.slot[0], window_end=draft.slot[1], plan_by=None
        )
        promise = dataclasses.replace(promise, explanation=explain(promise))
    request, created = requests.persist(session, draft, promise, policy, actor=actor, now=now)
    if not created:
        return Taken(request, False, None, False, None)
    inserted, run_id = _book(
        session,
        geo,
        runner,
        settings,
        capacity=capacity,
        request=request,
        prediction=prediction,
        now=now,
    )
    return Taken(request, True, prediction, inserted, run_id)


def _book(
    session: Session,
    geo: GeoContext | None,
    runner: JobRunner | None,
    settings: IntakeSettings,
    *,
    capacity: CapacityIndex | None = None,
    request: RepairRequest,
    prediction: Prediction | None,
    now: datetime,
) -> tuple[bool, int | None]:
    """Put the request into the route capacity found for it (every request, or urgent ones
    only, by the settings); an urgent one's area is then re-planned."""
    urgent = request.tier == "urgent"
    wanted = settings.assign_on_intake or (urgent and settings.replan_on_urgent)
    if (
        not wanted
        or geo is None
        or prediction is None
        or prediction.engineer_id is None
        or prediction.day is None
    ):
        return False, None
    if prediction.overnight:
        # A trip is planned by a run over both its days, never booked into a day at home.
        if not urgent:
            return False, None
        start = prediction.trip_start or prediction.day
        return False, _urgent_run(session, runner, settings, request, start, 2, now)
    if _book_from_quote(session, geo, capacity, request, prediction, now):
        return True, (
            None
            if not urgent
            else _urgent_run(session, runner, settings, request, prediction.day, 1, now)
        )
    # ``assign`` takes its turn with other changes to the area (bookings, a dispatcher's moves,
    # a publishing run) and reads the route after the wait.
    manual.assign(
        session,
        geo,
        request_id=request.id,
        engineer_id=prediction.engineer_id,
        day=prediction.day,
        # A diverted engineer goes there next (or straight after an urgent visit of theirs);
        # otherwise the cheapest place in the route.
        position=prediction.position if prediction.diverted else None,
        dry_run=False,
        accept_warnings=True,
        actor="auto:urgent insertion" if urgent else "auto:booked at intake",
        now=now,
        lock=False,
        # Held for the quote until a run publishes it (an urgent one's re-plan follows).
        reserve=True,
    )
    if capacity is not None and prediction.quoted is not None and request.base_area_id:
        # The next caller's quote sees this booking without rebuilding the area's capacity.
        capacity.book_after_commit(
            session,
            request.base_area_id,
            prediction.quoted,
            request_id=request.id,
            engineer_id=prediction.engineer_id,
            day=prediction.day,
            window_start=request.window_start,
            due=request.plan_by or request.window_end,
        )
    if not urgent:
        return True, None
    return True, _urgent_run(session, runner, settings, request, prediction.day, 1, now)


def _book_from_quote(
    session: Session,
    geo: GeoContext,
    capacity: CapacityIndex | None,
    request: RepairRequest,
    prediction: Prediction,
    now: datetime,
) -> bool:
    """Book the request where its quote placed it, timed on the quote's problem, when the
    area's plan has not moved since (the common case: one booking after another); False when
    it must be booked the long way."""
    quoted = prediction.quoted
    if (
        capacity is None
        or quoted is None
        or prediction.diverted
        or prediction.engineer_id is None
        or prediction.day is None
        or request.base_area_id is None
    ):
        return False
    booking = capacity.booking(
        session,
        request.base_area_id,
        quoted,
        request_id=request.id,
        engineer_id=prediction.engineer_id,
        day=prediction.day,
        window_start=request.window_start,
        due=request.plan_by or request.window_end,
        now=now,
    )
    if booking is None:
        return False
    manual.book_timed(
        session,
        geo,
        request_id=request.id,
        engineer_id=prediction.engineer_id,
        day=prediction.day,
        visits=booking.visits,
        timed_route=booking.timed(),
        position=booking.position,
        timezone=booking.built.snapshot.timezone,
        engineer_name=booking.engineer_name,
        area_id=request.base_area_id,
        actor="auto:urgent insertion" if request.tier == "urgent" else "auto:booked at intake",
        now=now,
    )
    return True


def _urgent_run(
    session: Session,
    runner: JobRunner | None,
    settings: IntakeSettings,
    request: RepairRequest,
    start: date,
    days: int,
    now: datetime,
) -> int | None:
    """Queue the re-plan an urgent request's booking calls for (``days`` from ``start``: two
    for a trip), when the settings ask for one; its id."""
    if not settings.replan_on_urgent or runner is None:
        return None
    if request.base_area_id is None:  # pragma: no cover - a promised request has a base
        return None
    run = create_run(
        session,
        area_ids=[request.base_area_id],
        horizon_start=start,
        days=days,
        time_limit_s=settings.replan_time_limit_s,
        actor=f"auto: urgent {request.external_ref}" + (" (a trip)" if days > 1 else ""),
        now=now,
    )
    submit_after_commit(session, runner, run.id)
    return run.id


def promise_return(
    session: Session,
    geo: GeoContext | None,
    capacity: CapacityIndex | None,
    runner: JobRunner | None,
    settings: IntakeSettings | None,
    *,
    request_id: int,
    ready_at: datetime,
    reason: str,
    actor: str,
    now: datetime,
) -> Taken:
    """Promise a request's return visit (the first could not finish it: parts, a second
    visit) from ``ready_at``, as intake promises a new request: its SLA rule, the arrival
    capacity allows, and the booking into that route; the customer is told the new window."""
    settings = settings or IntakeSettings()
    request = session.get(RepairRequest, request_id)
    assert request is not None
    promise, policy, windows = requests.return_promise(session, request, ready_at=ready_at, now=now)
    prediction = None
    site = request.site
    if capacity is not None and geo is not None and site.base_area_id is not None:
        promise, prediction = place_by_capacity(
            session,
            geo,
            capacity,
            promise,
            policy=policy.policy,
            base_area_id=site.base_area_id,
            site=(site.lat, site.lon),
            skills={s.skill.code: s.min_level for s in request.skills},
            service_minutes=request.service_minutes,
            availability=windows,
            now=now,
            parts_volume=request.parts_volume or 0,
        )
    requests.apply_return_promise(
        session, request, promise, policy, reason=reason, actor=actor, now=now
    )
    inserted, run_id = _book(
        session,
        geo,
        runner,
        settings,
        capacity=capacity,
        request=request,
        prediction=prediction,
        now=now,
    )
    return Taken(request, True, prediction, inserted, run_id)


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
    parts_volume: int = 0,
) -> list[dict[str, Any]]:
    """Arrival windows current capacity can keep, best first (within the SLA, then cheapest)."""
    location, point, promise = _sla_quote(
        session,
        geo,
        now=now,
        site_id=site_id,
        tier=tier,
        problem_type=problem_type,
        skills=skills,
        service_minutes=service_minutes,
    )
    base_area_id = location.placement.base_area_id
    if base_area_id is None:
        return []
    area = session.get(ServiceArea, base_area_id)
    if area is None:  # pragma: no cover - the foreign key keeps it
        return []
    context = capacity.context(session, geo, area.id, now)
    lead = policy_for(session, location.contract).policy.lead(promise.tier)
    offers = []
    for start, end in _blocks(area, now + lead, context.until, slot_minutes):
        options, _, _ = insertion_options(
            context,
            geo,
            site=point,
            skills=_skills(skills),
            service_minutes=service_minutes,
            tier=promise.tier.value,
            windows=[(start, end)],
            promise_due=promise.arrival_target,
            parts_volume=parts_volume,
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
    area: ServiceArea, earliest: datetime, until: datetime, minutes: int
) -> list[tuple[datetime, datetime]]:
    """Blocks of ``minutes`` inside the area's open hours (holidays and closures respected),
    on local clock boundaries, from ``earliest`` to ``until`` (the capacity horizon)."""
    calendar = calendar_for(area)
    tz = ZoneInfo(area.timezone)
    day = earliest.astimezone(tz).date()
    out = []
    while datetime.combine(day, datetime.min.time(), tz) < until:
        for open_, close in calendar.open_intervals_on(day):
            start = open_
            while start + timedelta(minutes=minutes) <= close:
                end = start + timedelta(minutes=minutes)
                if start >= earliest and end <= until:
                    out.append((start, end))
                start = end
        day += timedelta(days=1)
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
    """Cancel a request (by the customer, or by us: a broken promise) and close the gap its
    visit leaves in the engineer's day."""
    visit = session.scalar(
        select(Visit).where(Visit.request_id == request_id, Visit.status.in_(ACTIVE_VISIT))
    )
    request = requests.close_cancelled(
        session, request_id, reason=reason, by=by, actor=actor, now=now
    )
    if visit is not None:
        manual.retime_route(session, geo, visit.engineer_id, visit.date, now)
        engineer = session.get(Engineer, visit.engineer_id)
        if engineer is not None:
            bump_plan_version(session, [engineer.service_area_id])
    return request


__all__ = [
    "IntakeSettings",
    "Taken",
    "cancel",
    "offer_slots",
    "place_by_capacity",
    "quote",
    "take_request",
]
