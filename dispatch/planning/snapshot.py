"""What a plan is computed from: a consistent, plain-data read of engineers, shifts, open
requests and their current visits for a scope and horizon.

The snapshot is read in one short transaction and carries fingerprints of everything the plan
depends on, so that publishing can tell whether the world changed while the solver ran.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.engineers.service import generate_shifts, planned_shifts
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import (
    Engineer,
    LocationPing,
    PlanScope,
    RepairRequest,
    RequestEvent,
    ServiceArea,
    Shift,
    Site,
    Visit,
)
from dispatch.models.enums import LockKind, RequestStatus, VisitStatus
from dispatch.planning.partition import Part
from dispatch.sla.service import active_policy
from dispatch.traffic import area_traffic
from geo.model import TravelProfile

OPEN_STATUSES = (
    RequestStatus.PROMISED.value,
    RequestStatus.ACKNOWLEDGED.value,
    RequestStatus.ASSIGNED.value,
    RequestStatus.EN_ROUTE.value,
    RequestStatus.ON_SITE.value,
)
ACTIVE_VISIT = (
    VisitStatus.PLANNED.value,
    VisitStatus.ACCEPTED.value,
    VisitStatus.EN_ROUTE.value,
    VisitStatus.ARRIVED.value,
)
MOVABLE = (VisitStatus.PLANNED.value, VisitStatus.ACCEPTED.value)
MAX_DAYS = 14
POSITION_FRESH = timedelta(hours=2)
COMPLETED_POSITION_FRESH = timedelta(hours=10)  # one working day: where the last visit ended


@dataclass(frozen=True)
class ShiftSnap:
    date: date
    start: datetime
    end: datetime
    break_start: datetime | None
    break_end: datetime | None
    break_minutes: int | None


@dataclass(frozen=True)
class Lodging:
    """A place to stay on an out-of-town trip."""

    lat: float
    lon: float
    name: str

    @property
    def point(self) -> tuple[float, float]:
        return (self.lat, self.lon)


@dataclass(frozen=True)
class EngineerSnap:
    id: int
    name: str
    area_id: int
    home: tuple[float, float]
    skills: dict[str, int]
    max_work_minutes: int
    max_visits: int
    capacity: int | None
    shifts: tuple[ShiftSnap, ...]
    position: tuple[float, float, datetime] | None
    nights: dict[date, Lodging] = field(default_factory=dict)
    """Nights the published plan has the engineer away after a day (an out-of-town trip),
    from a week before the horizon to its end: the next day starts there."""

    def away_days(self, before: date) -> int:
        """Working days the engineer has been away on the trip under way at ``before``: the
        consecutive nights away up to the night before it."""
        days, night = 0, before - timedelta(days=1)
        while night in self.nights:
            days, night = days + 1, night - timedelta(days=1)
        return days


@dataclass(frozen=True)
class VisitSnap:
    id: int
    engineer_id: int
    date: date
    sequence: int
    status: str
    lock: str
    locked_arrival: datetime | None
    planned_arrival: datetime
    arrived_at: datetime | None
    version: int
    eta: datetime | None = None
    reserved: bool = False


@dataclass(frozen=True)
class JobSnap:
    request_id: int
    external_ref: str
    site: tuple[float, float]
    area_id: int | None
    base_area_id: int | None
    tier: str
    skills: dict[str, int]
    service_minutes: int
    window_start: datetime
    window_end: datetime
    arrival_target: datetime
    availability: tuple[tuple[datetime, datetime], ...]
    visit: VisitSnap | None
    fingerprint: str
    problem_type: str | None = None
    plan_by: datetime | None = None
    """Plans aim to arrive by this (calibrated windows); the window's end when None."""
    parts_volume: int = 0
    """What the engineer carries there, against the van's capacity."""
    declined_by: tuple[int, ...] = ()
    """Engineers who declined the visit: plans give it to someone else."""


@dataclass(frozen=True)
class Snapshot:
    """Everything a scoped plan depends on, as plain data."""

    now: datetime
    area_ids: tuple[int, ...]
    horizon_start: date
    days: int
    timezone: str
    engineers: tuple[EngineerSnap, ...]
    jobs: tuple[JobSnap, ...]
    plan_versions: dict[int, int] = field(default_factory=dict)
    traffic: dict[int, TravelProfile] = field(default_factory=dict)
    """Each area's rush hours on its local clock (``dispatch.traffic``)."""
    urgent_overtime_s: int = 0
    """How far an urgent visit may run its engineer's day past the shift (the active SLA
    policy's ``urgent_overtime_minutes``)."""
    lodgings: tuple[Lodging, ...] = ()
    """The service areas' lodgings for out-of-town trips."""
    trip_max_days: int = 1
    """The longest trip the active policy allows (1: none)."""
    overnight_s: int = 0
    """A night away's cost in seconds of driving (the active policy's)."""
    decide_nights: bool = False
    """A run decides the nights inside its horizon; other readers take them as published."""

    @property
    def horizon_end(self) -> date:
        return self.horizon_start + timedelta(days=self.days - 1)


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def request_fingerprint(request: RepairRequest, visit: Visit | None) -> str:
    """What of a request and its visit the plan depends on; a change means re-plan."""
    return _fingerprint(
        {
            "status": request.status,
            "site": request.site_id,
            "skills": sorted((s.skill.code, s.min_level) for s in request.skills),
            "minutes": request.service_minutes,
            "parts": request.parts_volume,
            "window": [request.window_start, request.window_end],
            "availability": request.availability,
            "tier": request.tier,
            "visit": None
            if visit is None
            else [visit.id, visit.engineer_id, visit.status, visit.lock, visit.locked_arrival],
        }
    )


def scope_area_ids(session: Session, area_ids: Sequence[int] | None) -> tuple[int, ...]:
    """The areas of a scope: the given ones (checked) or every area with engineers based."""
    if area_ids:
        known = set(session.scalars(select(ServiceArea.id).where(ServiceArea.id.in_(area_ids))))
        missing = sorted(set(area_ids) - known)
        if missing:
            raise InvalidInput(("scope", "service_area_ids"), f"unknown service areas {missing}")
        return tuple(sorted(set(area_ids)))
    return tuple(
        session.scalars(
            select(ServiceArea.id)
            .where(ServiceArea.engineers_based.is_(True))
            .order_by(ServiceArea.id)
        )
    )


LOCKED_KEY = "onsite_locked_scopes"


def locked_scopes(session: Session, area_ids: Sequence[int]) -> dict[int, PlanScope] | None:
    """The scopes' rows when this transaction holds their locks already (taken outside any
    savepoint: rolling one back releases the locks taken in it), else None."""
    held = session.info.get(LOCKED_KEY)
    if held is None or held[0] is not session.get_transaction():
        return None
    scopes: dict[int, PlanScope] = held[1]
    if any(a not in scopes for a in area_ids):
        return None
    return {a: scopes[a] for a in area_ids}


def remember_locked(session: Session, scopes: dict[int, PlanScope]) -> None:
    """Note the scopes this transaction has just locked, for ``locked_scopes``."""
    if session.get_nested_transaction() is not None:
        return
    transaction = session.get_transaction()
    held = session.info.get(LOCKED_KEY)
    if held is None or held[0] is not transaction:
        held = session.info[LOCKED_KEY] = (transaction, {})
    held[1].update(scopes)


def plan_versions(session: Session, area_ids: Sequence[int]) -> dict[int, int]:
    """The published plan version of each area (0 when never planned)."""
    locked = locked_scopes(session, area_ids)
    if locked is not None:  # this transaction's own rows: no other can have moved them
        return {a: s.plan_version for a, s in locked.items()}
    rows = dict(
        session.execute(
            select(PlanScope.service_area_id, PlanScope.plan_version).where(
                PlanScope.service_area_id.in_(area_ids)
            )
        ).all()
    )
    return {a: rows.get(a, 0) for a in area_ids}


def read_snapshot(
    session: Session,
    *,
    area_ids: Sequence[int] | None,
    horizon_start: date,
    days: int,
    now: datetime,
    include_other_days: bool = False,
    part: Part | None = None,
) -> Snapshot:
    """Read the engineers, shifts, open requests and visits of a scope and horizon.

    The plan takes the requests not yet planned and those planned inside the horizon; visits
    on other days stay where they are unless ``include_other_days`` brings them in too (work
    under way always stays with its day). A geographic ``part`` of one area's run takes only its
    engineers and the requests that belong to it (:mod:`dispatch.planning.partition`).
    """
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", f"plan 1 to {MAX_DAYS} days at a time")
    scope = scope_area_ids(session, area_ids)
    if not scope:
        raise InvalidInput(("scope", "service_area_ids"), "no service area with engineers based")
    areas = list(session.scalars(select(ServiceArea).where(ServiceArea.id.in_(scope))))
    engineers = session.scalars(
        select(Engineer)
        .where(Engineer.service_area_id.in_(scope), Engineer.active.is_(True))
        .order_by(Engineer.id)
    ).all()
    if part is not None:
        engineers, requests = _part_of(session, scope, engineers, part)
    else:
        requests = scope_requests(session, scope, [e.id for e in engineers])
    return snapshot_of(
        session,
        areas=sorted(areas, key=lambda a: a.id),
        engineers=engineers,
        requests=requests,
        start=horizon_start,
        days=days,
        now=now,
        to_horizon=True,
        include_other_days=include_other_days,
        materialise=True,
    )


def snapshot_of(
    session: Session,
    *,
    areas: Sequence[ServiceArea],
    engineers: Sequence[Engineer],
    requests: Sequence[RepairRequest],
    start: date,
    days: int,
    now: datetime,
    to_horizon: bool = False,
    include_other_days: bool = False,
    materialise: bool = False,
) -> Snapshot:
    """The snapshot of these engineers and requests over ``days`` from ``start``.

    Runs keep only the requests the horizon owns (``to_horizon``) and write the shift rows
    (``materialise``); capacity and re-timing take every request given as it is. The first
    area's timezone is the plan's.
    """
    end = start + timedelta(days=days - 1)
    by_id = {a.id: a for a in areas}
    trips = _trip_rules(session)
    return Snapshot(
        now=now,
        area_ids=tuple(a.id for a in areas),
        horizon_start=start,
        days=days,
        timezone=areas[0].timezone,
        engineers=engineer_snaps(session, engineers, start, end, now, materialise=materialise),
        jobs=job_snaps(
            session,
            requests,
            end if to_horizon else None,
            by_id,
            horizon_start=start if to_horizon else None,
            include_other_days=include_other_days,
            now=now,
        ),
        plan_versions=plan_versions(session, list(by_id)),
        traffic={a.id: area_traffic(a.travel_profile, a.timezone) for a in areas},
        urgent_overtime_s=_urgent_overtime_s(session),
        lodgings=_lodgings(session),
        trip_max_days=trips[0],
        overnight_s=trips[1],
        decide_nights=to_horizon,
    )


def _trip_rules(session: Session) -> tuple[int, int]:
    try:
        policy = active_policy(session).policy
    except NotFound:
        return 1, 0
    return policy.trip_max_days, policy.trip_overnight_minutes * 60


def _lodgings(session: Session) -> tuple[Lodging, ...]:
    """Every area's lodging: an engineer on a trip may stay in any town."""
    rows = session.scalars(select(ServiceArea.lodging).order_by(ServiceArea.id)).all()
    return tuple(
        Lodging(float(r["lat"]), float(r["lon"]), str(r["name"]))
        for r in rows
        if r  # JSON null
    )


def _urgent_overtime_s(session: Session) -> int:
    try:
        return active_policy(session).policy.urgent_overtime_minutes * 60
    except NotFound:  # no policy yet: nothing was promised, shifts are as they are
        return 0


# How far back a trip under way is looked for (longer than any trip the policy allows).
NIGHTS_LOOKBACK_DAYS = 7


def engineer_snaps(
    session: Session,
    engineers: Sequence[Engineer],
    start: date,
    end: date,
    now: datetime,
    *,
    materialise: bool = False,
) -> tuple[EngineerSnap, ...]:
    """Engineers with their shifts from ``start`` to ``end`` and their latest position.

    ``materialise`` also writes the shift rows (runs do, before publishing); other readers
    compute them without writing.
    """
    if materialise:
        generate_shifts(session, [e.id for e in engineers], start, end)
    by_engineer: dict[int, list[ShiftSnap]] = {
        engineer_id: [
            ShiftSnap(
                spec.date,
                spec.start_at,
                spec.end_at,
                spec.break_start_at,
                spec.break_end_at,
                spec.break_minutes,
            )
            for spec, _ in specs
        ]
        for engineer_id, specs in planned_shifts(session, engineers, start, end).items()
    }
    positions = _latest_positions(session, [e.id for e in engineers], now)
    nights: dict[int, dict[date, Lodging]] = {}
    for row in session.execute(
        select(
            Shift.engineer_id, Shift.date, Shift.night_lat, Shift.night_lon, Shift.night_label
        ).where(
            Shift.engineer_id.in_([e.id for e in engineers]),
            Shift.date >= start - timedelta(days=NIGHTS_LOOKBACK_DAYS),
            Shift.date <= end,
            Shift.night_lat.is_not(None),
            Shift.night_lon.is_not(None),
        )
    ):
        nights.setdefault(row[0], {})[row[1]] = Lodging(row[2], row[3], row[4] or "")
    return tuple(
        EngineerSnap(
            id=e.id,
            name=e.name,
            area_id=e.service_area_id,
            home=(e.home_lat, e.home_lon),
            skills={s.skill.code: s.level for s in e.skills},
            max_work_minutes=e.max_work_minutes,
            max_visits=e.max_visits,
            capacity=e.capacity,
            shifts=tuple(by_engineer.get(e.id, [])),
            position=positions.get(e.id),
            nights=nights.get(e.id, {}),
        )
        for e in engineers
    )


def _latest_positions(
    session: Session, engineer_ids: Sequence[int], now: datetime
) -> dict[int, tuple[float, float, datetime]]:
    if not engineer_ids:
        return {}
    rows = session.execute(
        select(LocationPing.engineer_id, LocationPing.lat, LocationPing.lon, LocationPing.at)
        .where(
            LocationPing.engineer_id.in_(engineer_ids),
            LocationPing.at >= now - POSITION_FRESH,
            LocationPing.at <= now,
        )
        .order_by(LocationPing.engineer_id, LocationPing.at)
    ).all()
    found = {r[0]: (r[1], r[2], r[3]) for r in rows}
    # Without a newer ping, an engineer who has just completed a visit is at its site (a phone
    # that sends no positions still reports its visits).
    done = session.execute(
        select(Visit.engineer_id, Site.lat, Site.lon, Visit.completed_at)
        .join(RepairRequest, RepairRequest.id == Visit.request_id)
        .join(Site, Site.id == RepairRequest.site_id)
        .where(
            Visit.engineer_id.in_(engineer_ids),
            Visit.status == VisitStatus.COMPLETED.value,
            Visit.completed_at >= now - COMPLETED_POSITION_FRESH,
            Visit.completed_at <= now,
        )
        .order_by(Visit.engineer_id, Visit.completed_at)
    ).all()
    for engineer_id, lat, lon, at in done:
        known = found.get(engineer_id)
        if known is None or _aware(known[2]) < _aware(at):
            found[engineer_id] = (lat, lon, at)
    return found


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _part_of(
    session: Session, scope: Sequence[int], engineers: Sequence[Engineer], part: Part
) -> tuple[list[Engineer], list[RepairRequest]]:
    """The part's engineers and the requests that belong to it."""
    ours = set(part.engineer_ids)
    mine = [e for e in engineers if e.id in ours]
    homes = {e.id: (e.home_lat, e.home_lon) for e in engineers}
    held = {e.id: {s.skill.code: s.level for s in e.skills} for e in engineers}
    everyone = scope_requests(session, scope, [e.id for e in engineers])
    visits = active_visits(session, [r.id for r in everyone])
    kept = []
    for r in everyone:
        visit = visits.get(r.id)
        holder = visit.engineer_id if visit is not None else None
        if holder is not None:
            if holder in ours:
                kept.append(r)
            continue
        qualified = [
            e
            for e, levels in held.items()
            if all(levels.get(n.skill.code, 0) >= n.min_level for n in r.skills)
        ]
        site = (r.site.lat, r.site.lon)
        if part.owner(site=site, held_by=None, homes=homes, qualified=qualified) == part.index:
            kept.append(r)
    return mine, kept


def scope_requests(
    session: Session, area_ids: Sequence[int], engineer_ids: Sequence[int]
) -> list[RepairRequest]:
    """The open requests a scoped plan owns: those visited by the scope's engineers, and those
    served from its areas that no engineer outside the scope holds."""
    ours = set(engineer_ids)
    based = session.scalars(open_requests_query(area_ids)).all()
    held = session.scalars(
        select(RepairRequest)
        .join(Visit, Visit.request_id == RepairRequest.id)
        .where(
            Visit.engineer_id.in_(ours),
            Visit.status.in_(ACTIVE_VISIT),
            RepairRequest.status.in_(OPEN_STATUSES),
        )
    ).all()
    visits = active_visits(session, [r.id for r in based])
    owned = {r.id: r for r in held}
    for r in based:
        visit = visits.get(r.id)
        if visit is None or visit.engineer_id in ours:
            owned.setdefault(r.id, r)
    return sorted(owned.values(), key=lambda r: r.id)


def open_requests_query(area_ids: Sequence[int]) -> Any:
    """Open requests served from the areas (by their serving base)."""
    return (
        select(RepairRequest)
        .where(
            RepairRequest.status.in_(OPEN_STATUSES),
            RepairRequest.base_area_id.in_(area_ids),
        )
        .order_by(RepairRequest.id)
    )


def active_visits(session: Session, request_ids: Sequence[int]) -> dict[int, Visit]:
    """The current visit of each request, if any."""
    if not request_ids:
        return {}
    rows = session.scalars(
        select(Visit).where(Visit.request_id.in_(request_ids), Visit.status.in_(ACTIVE_VISIT))
    ).all()
    return {v.request_id: v for v in rows}


def declined_by(session: Session, request_ids: Sequence[int]) -> dict[int, tuple[int, ...]]:
    """The engineers who declined each request's visit (from the timeline), in order."""
    if not request_ids:
        return {}
    out: dict[int, tuple[int, ...]] = {}
    for request_id, payload in session.execute(
        select(RequestEvent.request_id, RequestEvent.payload)
        .where(RequestEvent.request_id.in_(request_ids), RequestEvent.type == "declined")
        .order_by(RequestEvent.id)
    ):
        engineer_id = (payload or {}).get("engineer_id")
        if isinstance(engineer_id, int) and engineer_id not in out.get(request_id, ()):
            out[request_id] = (*out.get(request_id, ()), engineer_id)
    return out


def job_snaps(
    session: Session,
    requests: Sequence[RepairRequest],
    horizon_end: date | None,
    areas: dict[int, ServiceArea],
    *,
    horizon_start: date | None = None,
    include_other_days: bool = False,
    now: datetime | None = None,
) -> tuple[JobSnap, ...]:
    """Requests with their current visit. With a horizon, requests promised after its end are
    left out, and so are visits planned for a day after it or (given ``horizon_start``)
    before it, and requests promised for an earlier day that is still to come (given
    ``now``), unless ``include_other_days``; work under way on another day always is."""
    from zoneinfo import ZoneInfo

    visits = active_visits(session, [r.id for r in requests])
    declined = declined_by(session, [r.id for r in requests])
    sites = {
        s.id: s
        for s in session.scalars(select(Site).where(Site.id.in_({r.site_id for r in requests})))
    }
    out = []
    for r in requests:
        if r.window_start is None or r.window_end is None or r.arrival_target is None:
            continue
        tz = ZoneInfo(areas[r.base_area_id].timezone) if r.base_area_id in areas else None
        local_start = r.window_start.astimezone(tz).date() if tz else r.window_start.date()
        visit = visits.get(r.id)
        if horizon_end is not None:
            if visit is None and local_start > horizon_end:
                continue  # promised beyond the horizon: a later plan takes it
            local_end = r.window_end.astimezone(tz).date() if tz else r.window_end.date()
            if (
                visit is None
                and horizon_start is not None
                and not include_other_days
                and now is not None
                and local_end < horizon_start
                and r.window_end > now
            ):
                continue  # promised for an earlier day still to come: that day's plan takes it
            if (
                visit is not None
                and (
                    visit.date > horizon_end
                    or (horizon_start is not None and visit.date < horizon_start)
                )
                and (
                    not include_other_days
                    or visit.status not in MOVABLE
                    or visit.lock != LockKind.NONE.value
                )
            ):
                continue  # planned for another day (today, say): that day keeps it
        site = sites[r.site_id]
        out.append(
            JobSnap(
                request_id=r.id,
                external_ref=r.external_ref,
                site=(site.lat, site.lon),
                area_id=r.service_area_id,
                base_area_id=r.base_area_id,
                tier=r.tier or "general",
                skills={s.skill.code: s.min_level for s in r.skills},
                service_minutes=r.service_minutes,
                parts_volume=r.parts_volume or 0,
                window_start=r.window_start,
                window_end=r.window_end,
                plan_by=r.plan_by,
                arrival_target=r.arrival_target,
                availability=tuple(
                    (datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
                    for w in r.availability
                ),
                visit=None
                if visit is None
                else VisitSnap(
                    id=visit.id,
                    engineer_id=visit.engineer_id,
                    date=visit.date,
                    sequence=visit.sequence,
                    status=visit.status,
                    lock=visit.lock,
                    locked_arrival=visit.locked_arrival,
                    planned_arrival=visit.planned_arrival,
                    arrived_at=visit.arrived_at,
                    version=visit.version,
                    eta=visit.eta,
                    reserved=bool(visit.reserved),
                ),
                fingerprint=request_fingerprint(r, visit),
                problem_type=r.problem_type,
                declined_by=declined.get(r.id, ()),
            )
        )
    return tuple(out)
