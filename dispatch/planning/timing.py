"""Live timing of one engineer-day along its fixed order (plan mode): after a progress report,
a position ping or a dispatcher's change, without re-solving anything."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from dispatch.db import held_by_id
from dispatch.geo_support import GeoContext
from dispatch.models import Engineer, RepairRequest, RequestEvent, ServiceArea, Shift, Visit
from dispatch.models.enums import VisitStatus
from dispatch.planning.problem import Built, build_problem, engineer_key, job_key
from dispatch.planning.snapshot import snapshot_of
from optimizer import plan_route

log = logging.getLogger("onsite.planning")

PENDING = (VisitStatus.PLANNED.value, VisitStatus.ACCEPTED.value, VisitStatus.EN_ROUTE.value)


@dataclass(frozen=True)
class Timed:
    """One visit of a re-timed route. ``start`` is the ETA people see: an engineer early for a
    window does not stand at the door, so the shown arrival is when the work can begin."""

    request_id: int
    arrival: datetime
    start: datetime
    departure: datetime
    travel_s: int
    missed: bool


def day_visits(
    session: Session, engineer_id: int, day: date, *, fresh: bool = False
) -> list[Visit]:
    """The engineer's visits that day, in route order; ``fresh`` reads them anew even when the
    session holds them already (after waiting for a lock)."""
    query = (
        select(Visit)
        .where(
            Visit.engineer_id == engineer_id,
            Visit.date == day,
            Visit.status != VisitStatus.CANCELLED.value,
        )
        .order_by(Visit.sequence, Visit.id)
    )
    if fresh:
        query = query.execution_options(populate_existing=True)
    return list(session.scalars(query))


def engineer_day_problem(
    session: Session,
    geo: GeoContext,
    engineer: Engineer,
    day: date,
    request_ids: list[int],
    now: datetime,
    extra_points: tuple[tuple[float, float], ...] = (),
    pins: Mapping[int, datetime] | None = None,
) -> Built:
    """A one-engineer, one-day problem holding the given requests."""
    area = session.get(ServiceArea, engineer.service_area_id)
    assert area is not None
    requests = list(session.scalars(select(RepairRequest).where(RepairRequest.id.in_(request_ids))))
    snapshot = snapshot_of(
        session, areas=[area], engineers=[engineer], requests=requests, start=day, days=1, now=now
    )
    # The order is given, only times are computed: no freezes or plan history, and of the
    # locks only the times visits are kept at (``pins`` adds to them).
    return build_problem(
        snapshot, geo, freeze=timedelta(0), history=False, extra_points=extra_points, pins=pins
    )


@dataclass(frozen=True)
class TimedRoute:
    """A re-timed engineer-day: its visits and where the break falls."""

    visits: list[Timed]
    break_start: datetime | None
    break_end: datetime | None


def time_sequence(
    session: Session,
    geo: GeoContext,
    engineer: Engineer,
    day: date,
    sequence: list[int],
    now: datetime,
    *,
    busy_until: tuple[datetime, tuple[float, float]] | None = None,
) -> TimedRoute | None:
    """ETAs along ``sequence`` (request ids) from the engineer's current position and time.

    ``busy_until`` is when and where the engineer becomes free (finishing an on-site visit).
    Returns None when the engineer has no shift that day.
    """
    return time_sequences(session, geo, engineer, day, [sequence], now, busy_until=busy_until)[0]


def time_sequences(
    session: Session,
    geo: GeoContext,
    engineer: Engineer,
    day: date,
    sequences: Sequence[list[int]],
    now: datetime,
    *,
    busy_until: tuple[datetime, tuple[float, float]] | None = None,
    pins: Mapping[int, datetime] | None = None,
) -> list[TimedRoute | None]:
    """``time_sequence`` for several orders of the same engineer-day, the problem built once
    for all the requests they hold (as trying every place for one more visit does); ``pins``
    keeps requests at a time (a dispatcher's drop on the board)."""
    wanted = sorted({r for sequence in sequences for r in sequence})
    if not wanted:
        return [TimedRoute([], None, None) for _ in sequences]
    extra = (busy_until[1],) if busy_until is not None else ()
    built = engineer_day_problem(session, geo, engineer, day, wanted, now, extra, pins)
    key = engineer_key(engineer.id)
    found = built.problem.engineer(key)
    if found is None:
        return [None if sequence else TimedRoute([], None, None) for sequence in sequences]
    location = time = None
    if busy_until is not None:
        free_at, where = busy_until
        time = built.seconds(max(free_at, now))
        location = built.location(where)
    shift = found.shifts[0]
    brk = shift.break_
    break_taken = brk is not None and built.seconds(now) >= brk.latest_end
    timed: list[TimedRoute | None] = []
    known = {job.id for job in built.problem.jobs}
    for sequence in sequences:
        if not sequence:
            timed.append(TimedRoute([], None, None))
            continue
        left_out = [r for r in sequence if job_key(r) not in known]
        if left_out:
            # The day's problem could not hold a visit (say one under way on another day's
            # route): that order cannot be timed, and its times stay as they are.
            log.warning(
                "engineer %s on %s: requests %s cannot be timed", engineer.id, day, left_out
            )
            timed.append(None)
            continue
        route, missed = plan_route(
            built.problem,
            key,
            shift.day,
            [job_key(r) for r in sequence],
            location=location,
            time=time,
            break_taken=break_taken,
        )
        missed_set = set(missed)
        timed.append(
            TimedRoute(
                visits=[
                    Timed(
                        request_id=int(v.job_id[1:]),
                        arrival=built.instant(v.arrival),
                        start=built.instant(v.start),
                        departure=built.instant(v.departure),
                        travel_s=v.travel_s,
                        missed=v.job_id in missed_set,
                    )
                    for v in route.visits
                ],
                break_start=(
                    built.instant(route.break_start) if route.break_start is not None else None
                ),
                break_end=built.instant(route.break_end) if route.break_end is not None else None,
            )
        )
    return timed


def set_predicted_arrivals(session: Session, arrivals: Mapping[int, datetime]) -> None:
    """Store each request's predicted arrival: on the rows the session holds, and for the others
    in one statement that loads nothing (a booking re-times a whole route, and loading every
    request of it with its skills cost more than the rest of the write)."""
    held, missing = held_by_id(session, RepairRequest, arrivals)
    for request_id, request in held.items():
        request.predicted_arrival = arrivals[request_id]
    if not missing:
        return
    table = cast(Table, RepairRequest.__table__)
    statement = (
        update(table)
        .where(table.c.id == bindparam("request_id"))
        .values(
            predicted_arrival=bindparam("arrival"),
            # The row's version moves on as an ORM update would move it, so a change made
            # from an older read of the request fails its version check.
            version=table.c.version + 1,
        )
    )
    session.connection().execute(
        statement, [{"request_id": i, "arrival": arrivals[i]} for i in missing]
    )


def save_break(
    session: Session, engineer_id: int, day: date, timed: TimedRoute, shift: Shift | None = None
) -> None:
    """Record where the re-timed day puts the break (when the day has one not yet taken);
    ``shift`` is the day's shift when the caller holds it already."""
    if shift is None:
        shift = session.scalar(
            select(Shift).where(Shift.engineer_id == engineer_id, Shift.date == day)
        )
    if shift is not None and timed.break_start is not None:
        shift.planned_break_start, shift.planned_break_end = timed.break_start, timed.break_end


def _moved(session: Session, request: RepairRequest, eta: datetime) -> bool:
    """Whether ``eta`` is more than the threshold away from the last ETA the outside world was
    told for the request (by ``engineer.en_route`` or ``eta.changed``)."""
    from dispatch.notify.events import last_told_eta
    from dispatch.settings import get_settings

    told = last_told_eta(session, request.id)
    if told is None:
        return False
    return abs(eta - told) > timedelta(minutes=get_settings().eta_change_minutes)


def refresh_etas(
    session: Session, geo: GeoContext, engineer_id: int, day: date, now: datetime, *, actor: str
) -> list[Visit]:
    """Recompute the ETAs of the engineer's remaining visits that day; flag new risks.

    Returns the visits whose promise newly became at risk.
    """
    engineer = session.get(Engineer, engineer_id)
    assert engineer is not None
    visits = day_visits(session, engineer_id, day)
    remaining = [v for v in visits if v.status in PENDING]
    if not remaining:
        return []
    on_site = next((v for v in visits if v.status == VisitStatus.ARRIVED.value), None)
    busy_until = None
    if on_site is not None and on_site.arrived_at is not None:
        request = session.get(RepairRequest, on_site.request_id)
        assert request is not None
        site = request.site
        busy_until = (
            on_site.arrived_at + timedelta(minutes=request.service_minutes),
            (site.lat, site.lon),
        )
    timed_route = time_sequence(
        session, geo, engineer, day, [v.request_id for v in remaining], now, busy_until=busy_until
    )
    if timed_route is None:
        return []
    save_break(session, engineer_id, day, timed_route)
    newly_at_risk = []
    for visit, t in zip(remaining, timed_route.visits, strict=True):
        visit.eta = t.start
        request = session.get(RepairRequest, visit.request_id)
        assert request is not None
        request.predicted_arrival = t.start
        late = request.window_end is not None and t.start > request.window_end
        if late and not request.at_risk:
            request.at_risk = True
            request.risk_reason = (
                f"ETA {t.start.isoformat()} is after the promised window "
                f"(ends {request.window_end.isoformat()})"
            )
            session.add(
                RequestEvent(
                    request_id=request.id,
                    type="at_risk",
                    at=now,
                    actor=actor,
                    payload={"eta": t.start.isoformat(), "reason": request.risk_reason},
                )
            )
            newly_at_risk.append(visit)
        elif visit.status == VisitStatus.EN_ROUTE.value and _moved(session, request, t.start):
            # Under way, the customer was told an ETA: a move of more than the threshold is
            # news (smaller ones are not: no storm of tiny updates).
            session.add(
                RequestEvent(
                    request_id=request.id,
                    type="eta_moved",
                    at=now,
                    actor=actor,
                    payload={"eta": t.start.isoformat()},
                )
            )
        elif not late and request.at_risk and request.window_end is not None:
            request.at_risk = False
            request.risk_reason = None
            session.add(
                RequestEvent(
                    request_id=request.id,
                    type="back_on_time",
                    at=now,
                    actor=actor,
                    payload={"eta": t.start.isoformat()},
                )
            )
    session.flush()
    return newly_at_risk
