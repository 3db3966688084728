"""A dispatcher's hand on the plan: assign or move with a feasibility check, lock, unassign.

Every change re-times the routes it touches (plan mode), moves the area's plan version on (so a
run solving meanwhile notices) and is written to the request's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clock import iso
from dispatch.common.text import text
from dispatch.db import load_by_id
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.geo_support import GeoContext
from dispatch.models import Engineer, RepairRequest, RequestEvent, ServiceArea, Shift, Visit
from dispatch.models.enums import LockKind, RequestStatus, VisitStatus
from dispatch.planning.publish import (
    back_to_unassigned,
    bump_plan_version,
    first_name,
    lock_scopes,
)
from dispatch.planning.snapshot import OPEN_STATUSES
from dispatch.planning.timing import (
    Timed,
    TimedRoute,
    day_visits,
    save_break,
    set_predicted_arrivals,
    time_sequence,
    time_sequences,
)

MOVABLE = (VisitStatus.PLANNED.value, VisitStatus.ACCEPTED.value)
MAX_AHEAD = timedelta(days=366)


@dataclass
class Evaluation:
    """What an assignment would do, and what is wrong with it."""

    request_id: int
    engineer_id: int
    date: date
    position: int
    eta: datetime | None
    warnings: list[dict[str, Any]] = field(default_factory=list)
    route: list[dict[str, Any]] = field(default_factory=list)
    committed: bool = False
    timezone: str = "UTC"

    def warn(self, code: str, message: str, **params: Any) -> None:
        """A warning in English, with the same as data (``said``) for other languages."""
        self.warnings.append(
            {"code": code, "message": message, "said": text(f"warning.{code}", **params)}
        )


def _open_request(session: Session, request_id: int) -> RepairRequest:
    request = session.get(RepairRequest, request_id)
    if request is None:
        raise NotFound("repair request", request_id, field="request_id")
    if request.status not in OPEN_STATUSES:
        raise Conflict(f"request {request_id} is {request.status}; it cannot be assigned")
    return request


def _current_visit(session: Session, request_id: int) -> Visit | None:
    from dispatch.planning.snapshot import ACTIVE_VISIT

    return session.scalar(
        select(Visit).where(Visit.request_id == request_id, Visit.status.in_(ACTIVE_VISIT))
    )


def _score(timed: list[Timed], requests: dict[int, RepairRequest]) -> tuple[int, float, int]:
    missed = sum(t.missed for t in timed)
    late = sum(
        max(0.0, (t.start - requests[t.request_id].window_end).total_seconds())
        for t in timed
        if requests[t.request_id].window_end is not None
    )
    return missed, late, sum(t.travel_s for t in timed)


def evaluate_assignment(
    session: Session,
    geo: GeoContext,
    *,
    request_id: int,
    engineer_id: int,
    day: date,
    position: int | None,
    now: datetime,
    arrival: datetime | None = None,
) -> tuple[Evaluation, list[Visit], TimedRoute]:
    """Check putting the request in the engineer's route that day (at ``position`` or the best
    place): skills and levels, shift, the promise, and colleagues' visits made late.

    ``arrival`` keeps the visit at a time (a drop on the board): it goes where that time falls
    in the route unless ``position`` says otherwise, and a warning says when the engineer cannot
    be there by then."""
    request = _open_request(session, request_id)
    engineer = session.get(Engineer, engineer_id)
    if engineer is None or not engineer.active:
        raise InvalidInput("engineer_id", f"engineer {engineer_id} does not exist or is inactive")
    area = session.get(ServiceArea, engineer.service_area_id)
    zone = ZoneInfo(area.timezone) if area is not None else UTC
    today = now.astimezone(zone).date()
    if day < today:
        raise InvalidInput("date", f"{day.isoformat()} is in the past (today is {today})")
    if day > today + MAX_AHEAD:
        raise InvalidInput("date", "assign at most a year ahead")
    if arrival is not None:
        if arrival < now:
            raise InvalidInput("arrival", "the arrival to keep is in the past")
        if arrival.astimezone(zone).date() != day:
            raise InvalidInput("arrival", f"the arrival to keep is not on {day.isoformat()}")
    current = _current_visit(session, request_id)
    if current is not None and current.status not in MOVABLE:
        raise Conflict(f"the visit for request {request_id} is already {current.status}")
    route = [
        v
        for v in day_visits(session, engineer_id, day)
        if v.request_id != request_id and v.status != VisitStatus.COMPLETED.value
    ]
    fixed = sum(1 for v in route if v.status not in MOVABLE)
    pending = [v for v in route if v.status in MOVABLE]
    shift = _ensure_shift(session, engineer_id, day)
    if shift is None:
        raise Conflict(f"{engineer.name} has no shift on {day.isoformat()}", field="date")
    requests = {request.id: request}
    requests.update(load_by_id(session, RepairRequest, [v.request_id for v in pending]))
    assert all(v.request_id in requests for v in pending)
    order = [v.request_id for v in pending]
    if position is None and arrival is not None:
        position = sum(
            1 for v in pending if (v.planned_start or v.planned_arrival or arrival) < arrival
        )
    positions = range(len(order) + 1) if position is None else [min(position, len(order))]
    best: tuple[tuple[int, float, int], int, TimedRoute] | None = None
    # The day as it is and with the request in each place, on one problem built once.
    before_route, *candidates = time_sequences(
        session,
        geo,
        engineer,
        day,
        [order, *([*order[:p], request.id, *order[p:]] for p in positions)],
        now,
        pins={request.id: arrival} if arrival is not None else None,
    )
    before = before_route.visits if before_route is not None else []
    for p, candidate in zip(positions, candidates, strict=True):
        if candidate is None:  # the shift exists but is already over
            raise Conflict(
                f"{engineer.name}'s shift on {day.isoformat()} is already over", field="date"
            )
        score = _score(candidate.visits, requests)
        if best is None or score < best[0]:
            best = (score, p, candidate)
    assert best is not None
    _, chosen, timed_route = best
    timed = timed_route.visits
    mine = next(t for t in timed if t.request_id == request.id)
    evaluation = Evaluation(
        request.id, engineer_id, day, chosen + fixed, mine.start, timezone=str(zone)
    )
    held = {s.skill.code: s.level for s in engineer.skills}
    for need in request.skills:
        have = held.get(need.skill.code)
        if have is None or have < need.min_level:
            evaluation.warn(
                "skill",
                f"{engineer.name} has {need.skill.code} at level {have or 0}, "
                f"the request needs level {need.min_level}",
                engineer=engineer.name,
                skill=need.skill.code,
                have=have or 0,
                need=need.min_level,
            )

    if engineer.capacity is not None:
        carried = [request.parts_volume or 0]
        for v in route:
            other = requests.get(v.request_id) or session.get(RepairRequest, v.request_id)
            if other is not None:
                carried.append(other.parts_volume or 0)
        if sum(carried) > engineer.capacity:
            evaluation.warn(
                "capacity",
                f"{engineer.name}'s van would carry {sum(carried)}, it holds {engineer.capacity}",
                engineer=engineer.name,
                load=sum(carried),
                capacity=engineer.capacity,
            )

    def local(moment: datetime) -> str:
        # Messages are read by dispatchers: their area's clock, not UTC.
        return moment.astimezone(zone).strftime("%H:%M")

    if arrival is not None and mine.start > arrival + timedelta(minutes=1):
        evaluation.warn(
            "time",
            f"{engineer.name} can be there at {local(mine.start)} at the earliest, "
            f"not {local(arrival)}",
            engineer=engineer.name,
            earliest_time=mine.start,
            wanted_time=arrival,
        )
    if mine.departure > shift.end_at:
        evaluation.warn(
            "shift", f"the visit would end after {engineer.name}'s shift", engineer=engineer.name
        )
    if mine.missed:
        evaluation.warn("availability", "the customer's availability cannot be met")
    _warn_if_late(evaluation, request, mine.start, zone)
    was_late = {
        t.request_id
        for t in (before or [])
        if requests[t.request_id].window_end and t.start > requests[t.request_id].window_end
    }
    for t in timed:
        other = requests[t.request_id]
        if (
            t.request_id != request.id
            and other.window_end is not None
            and t.start > other.window_end
            and t.request_id not in was_late
        ):
            evaluation.warn(
                "delays_others",
                f"request {other.external_ref} would arrive after its window "
                f"({local(t.start)}, window ends {local(other.window_end)})",
                ref=other.external_ref,
                arrival_time=t.start,
                window_end_time=other.window_end,
            )
    evaluation.route = [{"request_id": t.request_id, "eta": t.start.isoformat()} for t in timed]
    return evaluation, pending, timed_route


def _warn_if_late(
    evaluation: Evaluation, request: RepairRequest, start: datetime, zone: tzinfo
) -> None:
    """Warn when the visit would start after its promised window, or after the SLA's arrival
    deadline (times on the area's clock, ``zone``)."""
    if request.window_end is not None and start > request.window_end:
        evaluation.warn(
            "promise",
            f"arrival {start.astimezone(zone):%H:%M} is after the promised window "
            f"(ends {request.window_end.astimezone(zone):%H:%M})",
            arrival_time=start,
            window_end_time=request.window_end,
        )
    if request.arrival_target is not None and start > request.arrival_target:
        evaluation.warn("sla", "arrival would be after the SLA's arrival deadline")


def _ensure_shift(session: Session, engineer_id: int, day: date) -> Shift | None:
    """The engineer's shift that day, stored from the weekly template when it is not yet;
    None when the engineer does not work that day."""
    shift = session.query(Shift).filter_by(engineer_id=engineer_id, date=day).one_or_none()
    if shift is None:
        from dispatch.engineers.service import generate_shifts

        generated = generate_shifts(session, [engineer_id], day, day)
        shift = generated[0] if generated else None
    return shift


def candidates(
    session: Session, geo: GeoContext, *, request_id: int, day: date, now: datetime
) -> list[dict[str, Any]]:
    """Who could take the request that day, best first: each active engineer of its area with
    the check an assignment would make (the best place in their route, its ETA, the drive to
    the site, the warnings) and their levels in the skills it needs. Qualified engineers with
    fewest warnings come first, then the earliest arrival; engineers with no shift left that
    day come last, with the reason."""
    request = _open_request(session, request_id)
    area_id = request.base_area_id or request.service_area_id
    if area_id is None:
        raise Conflict(f"request {request_id} has no service area to take engineers from")
    engineers = session.scalars(
        select(Engineer)
        .where(Engineer.service_area_id == area_id, Engineer.active.is_(True))
        .order_by(Engineer.name)
    ).all()
    needs = [(s.skill.code, s.min_level) for s in request.skills]
    area = session.get(ServiceArea, area_id)
    timezone = area.timezone if area is not None else "UTC"
    found = []
    for engineer in engineers:
        levels = {s.skill.code: s.level for s in engineer.skills}
        row: dict[str, Any] = {
            "engineer_id": engineer.id,
            "name": engineer.name,
            "skills": [
                {"skill": code, "level": levels.get(code, 0), "min_level": need}
                for code, need in needs
            ],
            "qualified": all(levels.get(code, 0) >= need for code, need in needs),
            "available": True,
            "reason": None,
            "eta": None,
            "travel_to_site_s": None,
            "warnings": [],
            "timezone": timezone,
        }
        try:
            evaluation, _, timed = evaluate_assignment(
                session,
                geo,
                request_id=request_id,
                engineer_id=engineer.id,
                day=day,
                position=None,
                now=now,
            )
        except Conflict as exc:  # no shift that day, or it is over
            row.update(available=False, reason=str(exc))
            found.append(row)
            continue
        mine = next(t for t in timed.visits if t.request_id == request_id)
        row.update(
            eta=evaluation.eta,
            travel_to_site_s=mine.travel_s,
            warnings=[w for w in evaluation.warnings if w["code"] != "skill"],
        )
        found.append(row)
    far = datetime.max.replace(tzinfo=UTC)
    found.sort(
        key=lambda r: (
            not r["available"],
            not r["qualified"],
            len(r["warnings"]),
            r["eta"] or far,
            r["name"],
        )
    )
    return found


def assign(
    session: Session,
    geo: GeoContext,
    *,
    request_id: int,
    engineer_id: int,
    day: date,
    position: int | None,
    dry_run: bool,
    accept_warnings: bool,
    actor: str,
    now: datetime,
    lock: bool = True,
    reserve: bool = False,
    arrival: datetime | None = None,
    lock_kind: str | None = None,
) -> Evaluation:
    """Assign (or move) a request to an engineer-day; commits unless dry-run or warned.

    A dispatcher's choice is locked to the engineer (``lock``) so runs keep it; an automatic
    insertion is not. Intake's booking only ``reserve``s the capacity it quoted: until a run
    publishes the visit, runs may move it without the stability penalty. ``arrival`` keeps the
    visit at a time as well (a time lock); ``lock_kind`` says exactly how the visit is kept
    afterwards (undoing a change restores the lock the visit had).

    A change takes its turn with every other change to the areas it touches (the engineer's,
    and the one the visit leaves): their plan-scope rows are locked before the route is read,
    so two changes never re-time the same route from the same reading, and one is not refused
    for the other's.
    """
    if not dry_run:
        _take_turn(session, request_id, engineer_id)
    evaluation, pending, timed_route = evaluate_assignment(
        session,
        geo,
        request_id=request_id,
        engineer_id=engineer_id,
        day=day,
        position=position,
        now=now,
        arrival=arrival,
    )
    if dry_run:
        return evaluation
    if evaluation.warnings and not accept_warnings:
        codes = ", ".join(w["code"] for w in evaluation.warnings)
        raise Conflict(
            f"the assignment has warnings ({codes}); check them and send accept_warnings=true",
            field="accept_warnings",
        )
    _write(
        session,
        geo,
        evaluation,
        pending,
        timed_route,
        actor=actor,
        now=now,
        lock=lock,
        reserve=reserve,
        arrival=arrival,
        lock_kind=lock_kind,
    )
    return evaluation


class DayRead(NamedTuple):
    """An engineer-day as a booking at intake read it under the area's turn."""

    visits: list[Visit]
    """The day's visits, in route order."""
    shift: Shift | None
    engineer_name: str
    area_id: int


def book_timed(
    session: Session,
    geo: GeoContext,
    *,
    request_id: int,
    engineer_id: int,
    day: date,
    visits: list[Visit],
    timed_route: TimedRoute,
    position: int,
    timezone: str,
    engineer_name: str,
    area_id: int,
    actor: str,
    now: datetime,
) -> Evaluation:
    """Book a new request into an engineer-day whose route the caller has already read under
    the area's turn (``visits``, in route order) and timed with the request at ``position``
    (intake booking from its quote): written as ``assign`` writes a reservation, without
    reading and timing the day a second time. Its own lateness is the only check made: the
    quote chose the place among those the engineer (``engineer_name``, of ``area_id``) is
    qualified, on shift and in time for."""
    request = session.get(RepairRequest, request_id)
    assert request is not None
    mine = next(t for t in timed_route.visits if t.request_id == request_id)
    evaluation = Evaluation(request_id, engineer_id, day, position, mine.start, timezone=timezone)
    _warn_if_late(evaluation, request, mine.start, ZoneInfo(timezone))
    pending = [v for v in visits if v.status in MOVABLE and v.request_id != request_id]
    moving = {v.request_id for v in pending} | {request_id}
    timed = TimedRoute(
        [t for t in timed_route.visits if t.request_id in moving],
        timed_route.break_start,
        timed_route.break_end,
    )
    day_read = DayRead(visits, _ensure_shift(session, engineer_id, day), engineer_name, area_id)
    _write(
        session,
        geo,
        evaluation,
        pending,
        timed,
        actor=actor,
        now=now,
        lock=False,
        reserve=True,
        day_read=day_read,
    )
    return evaluation


def _write(
    session: Session,
    geo: GeoContext,
    evaluation: Evaluation,
    pending: list[Visit],
    timed_route: TimedRoute,
    *,
    actor: str,
    now: datetime,
    lock: bool,
    reserve: bool,
    arrival: datetime | None = None,
    lock_kind: str | None = None,
    day_read: DayRead | None = None,
) -> None:
    """Store an evaluated assignment: the visit, the re-timed route (``pending`` are its movable
    visits), the break, the timeline event and the plan version.

    ``day_read`` is the engineer-day's visits and shift as the caller read them under the
    area's turn, for a request that has no visit yet (a booking at intake): neither is read
    again."""
    request_id, engineer_id, day = evaluation.request_id, evaluation.engineer_id, evaluation.date
    request = session.get(RepairRequest, request_id)
    assert request is not None
    if day_read is not None:
        name, area_id = day_read.engineer_name, day_read.area_id
    else:
        # Only the name and area are needed: no engineer (with skills) loaded for them.
        name, area_id = session.execute(
            select(Engineer.name, Engineer.service_area_id).where(Engineer.id == engineer_id)
        ).one()
    visit = None if day_read is not None else _current_visit(session, request_id)
    previous: tuple[int, date] | None = None
    areas = {area_id}
    if visit is not None:
        previous = (visit.engineer_id, visit.date)
        old = session.get(Engineer, previous[0])
        if old is not None:
            areas.add(old.service_area_id)
    # The plan versions move on first, so a new visit is inserted with its version.
    versions = bump_plan_version(session, sorted(areas))
    if visit is None:
        visit = Visit(request_id=request_id, status=VisitStatus.PLANNED.value, lock="none")
        session.add(visit)
        event = "assigned"
    else:
        if visit.engineer_id != engineer_id:
            visit.status = VisitStatus.PLANNED.value
            visit.accepted_at = None
        event = "reassigned" if visit.engineer_id != engineer_id else "moved"
    visit.engineer_id = engineer_id
    visit.date = day
    visit.reserved = reserve
    visit.plan_version = versions[area_id]
    if visit.lock is None:
        visit.lock = LockKind.NONE.value
    if lock_kind is not None:
        visit.lock = LockKind(lock_kind).value
        timed_lock = visit.lock in (LockKind.TIME.value, LockKind.BOTH.value)
        visit.locked_arrival = (arrival or evaluation.eta) if timed_lock else None
    elif arrival is not None:
        visit.lock = LockKind.BOTH.value if lock else LockKind.TIME.value
        visit.locked_arrival = arrival
    elif lock and visit.lock == LockKind.NONE.value:
        visit.lock = LockKind.ENGINEER.value
    elif lock and visit.lock == LockKind.TIME.value:
        visit.lock = LockKind.BOTH.value
    by_request = {v.request_id: v for v in pending}
    by_request[request_id] = visit
    if request.status in (RequestStatus.PROMISED.value, RequestStatus.ACKNOWLEDGED.value):
        request.status = RequestStatus.ASSIGNED.value
    timed = timed_route.visits
    # A new visit is complete only after this loop: nothing may be flushed before then.
    with session.no_autoflush:
        for offset, t in enumerate(timed):
            v = by_request[t.request_id]
            v.sequence = offset
            v.planned_arrival = t.arrival
            v.planned_start = t.start
            v.planned_end = t.departure
            v.travel_seconds = t.travel_s
            v.eta = t.start
        set_predicted_arrivals(session, {t.request_id: t.start for t in timed})
    session.flush()
    save_break(session, engineer_id, day, timed_route, day_read.shift if day_read else None)
    # Visits under way or done keep the front of the route; the re-timed order follows them.
    read = day_read.visits if day_read is not None else day_visits(session, engineer_id, day)
    started = [v for v in read if v.status not in MOVABLE]
    for i, v in enumerate(started):
        v.sequence = i
    for offset, t in enumerate(timed):
        by_request[t.request_id].sequence = len(started) + offset
    session.add(
        RequestEvent(
            request_id=request_id,
            type=event,
            at=now,
            actor=actor,
            payload={
                "engineer_id": engineer_id,
                "engineer": first_name(name),
                "planned_arrival": iso(evaluation.eta),
                "warnings": [w["code"] for w in evaluation.warnings],
            },
        )
    )
    session.flush()
    if previous is not None and previous != (engineer_id, day):
        retime_route(session, geo, previous[0], previous[1], now)
    evaluation.committed = True


def _take_turn(session: Session, request_id: int, engineer_id: int) -> None:
    """Lock the plan scopes a change to the request's visit touches, then forget what was read
    before the wait (another change may have committed while this one waited)."""
    session.flush()
    engineer = session.get(Engineer, engineer_id)
    areas = {engineer.service_area_id} if engineer is not None else set()
    current = _current_visit(session, request_id)
    if current is not None and current.engineer_id != engineer_id:
        previous = session.get(Engineer, current.engineer_id)
        if previous is not None:
            areas.add(previous.service_area_id)
    if areas:
        lock_scopes(session, sorted(areas))
        session.expire_all()


def retime_route(
    session: Session, geo: GeoContext, engineer_id: int, day: date, now: datetime
) -> None:
    """Close the gap a moved visit left: re-sequence and re-time the rest of that route."""
    engineer = session.get(Engineer, engineer_id)
    assert engineer is not None
    visits = day_visits(session, engineer_id, day)
    pending = [v for v in visits if v.status in MOVABLE]
    for i, v in enumerate(visits):
        v.sequence = i
    timed_route = time_sequence(session, geo, engineer, day, [v.request_id for v in pending], now)
    if timed_route is None:
        return
    save_break(session, engineer_id, day, timed_route)
    for v, t in zip(pending, timed_route.visits, strict=True):
        v.planned_arrival, v.planned_start, v.planned_end = t.arrival, t.start, t.departure
        v.travel_seconds = t.travel_s
        v.eta = t.start
    session.flush()


def _visit_or_404(session: Session, visit_id: int) -> Visit:
    visit = session.get(Visit, visit_id)
    if visit is None or visit.status == VisitStatus.CANCELLED.value:
        raise NotFound("visit", visit_id)
    return visit


def lock_visit(
    session: Session,
    visit_id: int,
    *,
    kind: str,
    arrival: datetime | None,
    actor: str,
    now: datetime,
) -> Visit:
    """Fix a visit to its engineer, its time, or both; runs keep it so until unlocked."""
    visit = _visit_or_404(session, visit_id)
    try:
        lock = LockKind(kind)
    except ValueError:
        raise InvalidInput("kind", "lock kind is engineer, time or both") from None
    if lock is LockKind.NONE:
        raise InvalidInput("kind", "use DELETE .../lock to unlock")
    if visit.status not in MOVABLE:
        raise Conflict(f"visit {visit_id} is {visit.status}; it no longer moves anyway")
    visit.lock = lock.value
    if lock in (LockKind.TIME, LockKind.BOTH):
        if arrival is not None and arrival.tzinfo is None:
            raise InvalidInput("arrival", "give the arrival with a timezone offset")
        visit.locked_arrival = arrival or visit.planned_start or visit.planned_arrival
    else:
        visit.locked_arrival = None
    _lock_event(session, visit, "locked", actor, now, kind=lock.value)
    return visit


def unlock_visit(session: Session, visit_id: int, *, actor: str, now: datetime) -> Visit:
    """Release a dispatcher's lock."""
    visit = _visit_or_404(session, visit_id)
    visit.lock = LockKind.NONE.value
    visit.locked_arrival = None
    _lock_event(session, visit, "unlocked", actor, now)
    return visit


def _lock_event(
    session: Session, visit: Visit, type_: str, actor: str, now: datetime, **payload: Any
) -> None:
    session.add(
        RequestEvent(
            request_id=visit.request_id,
            type=type_,
            at=now,
            actor=actor,
            payload={"visit_id": visit.id, **payload},
        )
    )
    engineer = session.get(Engineer, visit.engineer_id)
    assert engineer is not None
    bump_plan_version(session, [engineer.service_area_id])
    session.flush()


def unassign(
    session: Session, geo: GeoContext, visit_id: int, *, actor: str, now: datetime
) -> RepairRequest:
    """Take a visit off its route; the request waits for the next plan (taking its turn with
    other changes to the area, as ``assign`` does)."""
    visit = _visit_or_404(session, visit_id)
    _take_turn(session, visit.request_id, visit.engineer_id)
    visit = _visit_or_404(session, visit_id)
    if visit.status not in MOVABLE:
        raise Conflict(f"visit {visit_id} is {visit.status}; it can no longer be unassigned")
    request = session.get(RepairRequest, visit.request_id)
    assert request is not None
    engineer_id, day = visit.engineer_id, visit.date
    session.delete(visit)
    back_to_unassigned(request)
    request.predicted_arrival = None
    session.add(
        RequestEvent(
            request_id=request.id,
            type="unassigned",
            at=now,
            actor=actor,
            payload={"visit_id": visit_id, "engineer_id": engineer_id},
        )
    )
    session.flush()
    retime_route(session, geo, engineer_id, day, now)
    engineer = session.get(Engineer, engineer_id)
    assert engineer is not None
    bump_plan_version(session, [engineer.service_area_id])
    return request
