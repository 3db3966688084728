"""Capacity: when could an engineer really be at a new site, given the published plan?

For each service area the current routes are timed once per plan version (and refreshed every
few minutes as time moves on); a quote then only adds the new site to the travel matrix and asks
the optimiser's fast insertion for the cheapest feasible place in every engineer-day.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session

from dispatch.geo_support import GeoContext
from dispatch.models import Engineer, RepairRequest, ServiceArea, Visit
from dispatch.models.enums import VisitStatus
from dispatch.planning.history import NoiseCache
from dispatch.planning.problem import (
    PRIORITY,
    Built,
    break_after,
    build_problem,
    engineer_key,
    engineer_of,
    job_key,
    lengthened,
    request_of,
)
from dispatch.planning.publish import lock_scopes
from dispatch.planning.snapshot import job_snaps, plan_versions, snapshot_of
from dispatch.planning.timing import Timed, TimedRoute, day_visits
from dispatch.promise.calibration import Leg
from dispatch.traffic import representative_durations
from optimizer import Engineer as OptimizerEngineer
from optimizer import (
    InsertionOption,
    Job,
    Priority,
    Problem,
    Route,
    TimeWindow,
    plan_route,
    trip_insertions,
)
from optimizer import best_insertions as optimizer_best_insertions
from optimizer.eligibility import RouteSlot, route_slots
from optimizer.insertion import StopsCache, explain_unassigned
from optimizer.params import Weights
from optimizer.problem import Matrix

CONTEXT_TTL = timedelta(minutes=5)
FIELD_TTL = timedelta(minutes=1)
"""A quote other than an urgent call's takes a view this old at most when an engineer has
reported from the field since it was built (an urgent call's takes none). Rebuilding for every
quote after any report kept about as many promises on the simulated `stress` seeds 4-9 (91.4 %
against 91.3 %; each seed moved by up to 3 points either way, as any change to a day does)
and rebuilt more often."""
# Room kept free at the end of each engineer-day when promising new work: real days run longer
# than planned ones (time on site varies by about 20 %, travel by 25 %; over a day of five
# visits that is a spread of about half an hour), and a promise that only fits a day with no
# overrun is bumped to the next day when one comes. Runs still plan to the true shift end.
HEADROOM = timedelta(minutes=45)
KEEP_MARGIN = timedelta(minutes=15)
"""A booking should leave the promised visits after it this much room before the end of their
windows: each visit put in front of one adds a drive and a repair, whose times vary, to what
its arrival depends on. Pushing a later visit into that last quarter of an hour (or further
past its window) counts, for the quote, as making that promise later, so intake prefers a slot
that keeps every earlier promise safe over one that merely keeps it on paper."""
URGENT_WAIT_S = 2 * 3600
"""An urgent call waits for an engineer's earlier urgent visit, rather than take him from it,
only when the routes can still serve it within this long after its due; otherwise he is
diverted (a stopped line is not left for the next morning)."""
URGENT_ROOM_S = 15 * 60
"""How long before its due an urgent visit is planned to arrive when anyone can: the road's
noise (a quarter of the drive, give or take) must not turn a kept promise into a broken one."""
URGENT_AMPLE_S = 45 * 60
"""An urgent arrival this long before its due is safe from the road and from the visit at hand
running over; a diversion that needs overtime but arrives this early is preferred to one that
needs none and cuts it finer (a stopped line is worth the overtime)."""
MAX_SET_ASIDE = 1
"""An urgent request diverts an engineer only if it sets aside at most this many of their
promised visits: each one set aside is a promise the re-plan may not find another way to keep.
A visit counts as set aside when the diversion makes it late (or later) or pushes it past the
shift. With that count, allowing three cost `standard` seed 4 its kept share (96.0 % with one,
85.2 % with three). Measured on the three `stress` days when every visit after the one at
hand counted (which only engineers near the end of their day passed), calibrated kept /
urgent on site in 2 h: at most one, 88.3 % / 82.6 %; any number, 86.3 % / 87.0 %; any number,
choosing whoever breaks the fewest promises after colleagues take what they can, 84.3 % /
89.9 %."""
ROUTE_STATUSES = (
    VisitStatus.PLANNED.value,
    VisitStatus.ACCEPTED.value,
    VisitStatus.EN_ROUTE.value,
    VisitStatus.ARRIVED.value,
)
MOVABLE_STATUSES = (VisitStatus.PLANNED.value, VisitStatus.ACCEPTED.value)


@dataclass(frozen=True)
class Context:
    """One area's timed routes over the next days, ready for insertions."""

    key: tuple[Any, ...]
    built_at: datetime
    built: Built
    routes: tuple[Route, ...]
    slots: tuple[RouteSlot, ...]
    names: Mapping[int, str]
    until: datetime
    """The end of the last local day the context covers: capacity is known up to here."""
    full_shifts: tuple[OptimizerEngineer, ...] = ()
    """The engineers with their whole shifts (``built`` ends them early by the headroom)."""
    field: tuple[tuple[str, int], ...] = ()
    """The engineers' reports from the field when it was built (``_field_state``)."""
    stops: StopsCache = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """Its routes' stops for insertions, kept from quote to quote: shared by the contexts a
    booking or a refresh makes from this one (their matrices only grow, and an entry is used
    only for the very route object it was made for)."""


@dataclass(frozen=True)
class Prediction:
    """The answer of a capacity check for one request."""

    eta: datetime | None
    engineer_id: int | None
    engineer_name: str | None
    day: date | None
    position: int | None
    within_sla: bool
    reason: str | None
    message: str | None
    options: int
    legs: tuple[Leg, ...] = ()
    """What comes before the arrival on the engineer's day: the visits and drives before it,
    and the drive to the site (for calibrated windows)."""
    first_of_day: bool = False
    overnight: bool = False
    """The arrival is on an out-of-town trip: the engineer spends a night away near the site
    (no day that starts and ends at home can meet the SLA)."""
    trip_start: date | None = None
    """The first day of that trip (the drive out), when ``overnight``."""
    diverted: bool = False
    """An urgent request that no free capacity serves within its SLA, promised from an
    engineer diverted to it next (their planned visits after it are left to the re-plan)."""
    quoted: Quoted | None = None
    """The context and problem the answer came from, so a booking can be added to them."""

    @classmethod
    def beyond(cls, until: datetime) -> Prediction:
        """The answer for a booking wholly after the capacity horizon: not checked yet."""
        return cls(
            None,
            None,
            None,
            None,
            None,
            True,
            "beyond_horizon",
            f"capacity is known until {until.isoformat()}; this booking is planned when its day "
            "comes into view",
            0,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "eta": self.eta,
            "engineer_id": self.engineer_id,
            "engineer": self.engineer_name.split()[-1] if self.engineer_name else None,
            "date": self.day,
            "within_sla": self.within_sla,
            "reason": self.reason,
            "message": self.message,
            "options": self.options,
            "overnight": self.overnight,
        }


@dataclass(frozen=True)
class Quoted:
    """A quote's working: the context's key, and its problem with the new site appended."""

    key: tuple[Any, ...]
    problem: Problem
    job: Job
    site: tuple[float, float]


@dataclass(frozen=True)
class Booking:
    """A quoted request booked from its quote: the engineer-day's stored visits (route order,
    read under the area's turn) and its timed route with the request in it."""

    visits: list[Visit]
    route: Route
    built: Built
    position: int
    """Where in the route the request went."""
    engineer_name: str

    def timed(self) -> TimedRoute:
        """The timed route in the instants the plan stores."""
        built, route = self.built, self.route
        return TimedRoute(
            visits=[
                Timed(
                    request_id=request_of(v.job_id),
                    arrival=built.instant(v.arrival),
                    start=built.instant(v.start),
                    departure=built.instant(v.departure),
                    travel_s=v.travel_s,
                    missed=False,
                )
                for v in route.visits
            ],
            break_start=(
                built.instant(route.break_start) if route.break_start is not None else None
            ),
            break_end=built.instant(route.break_end) if route.break_end is not None else None,
        )


FIELD_STATUSES = (
    VisitStatus.EN_ROUTE.value,
    VisitStatus.ARRIVED.value,
    VisitStatus.COMPLETED.value,
    VisitStatus.CANNOT_COMPLETE.value,
)


def _field_state(
    session: Session, engineers: Sequence[tuple[int, int]], now: datetime
) -> tuple[tuple[str, int], ...]:
    """How many of the engineers' visits around today each report from the field has
    reached: an engineer who set off, arrived or finished changes it, so a context that
    still sees them free (and would divert them to an urgent call from where they were) is
    rebuilt (``CapacityIndex.context``) rather than kept until it grows stale."""
    if not engineers:
        return ()
    return tuple(
        (status, count)
        for status, count in session.execute(
            select(Visit.status, func.count())
            .where(
                Visit.engineer_id.in_([e for e, _ in engineers]),
                Visit.date >= now.date() - timedelta(days=1),
                Visit.date <= now.date() + timedelta(days=1),
                Visit.status.in_(FIELD_STATUSES),
            )
            .group_by(Visit.status)
            .order_by(Visit.status)
        )
    )


class CapacityIndex:
    """Per-process cache of capacity contexts, one per service area.

    A context covers today and the ``days`` local days after it: quotes, intake and slot offers
    all look exactly that far (``Context.until``).
    """

    def __init__(
        self, *, days: int = 3, ttl: timedelta = CONTEXT_TTL, headroom: timedelta = HEADROOM
    ) -> None:
        self.days = days
        self.ttl = ttl
        self.headroom = headroom
        self.noise = NoiseCache()
        self._contexts: dict[int, Context] = {}
        self._lock = threading.Lock()

    def context(
        self, session: Session, geo: GeoContext, area_id: int, now: datetime, *, fresh: bool = False
    ) -> Context:
        """The area's context, rebuilt when the plan changed or it grew stale, or when an
        engineer reported from the field since it was built and it is ``FIELD_TTL`` old;
        ``fresh`` (an urgent call, whose engineer is chosen by the minute) whatever its age."""
        version = plan_versions(session, [area_id])[area_id]
        engineers_fp = tuple(
            session.execute(
                select(Engineer.id, Engineer.version)
                .where(Engineer.service_area_id == area_id, Engineer.active.is_(True))
                .order_by(Engineer.id)
            ).all()
        )
        key = (version, hash(engineers_fp), now.date())
        found = self._contexts.get(area_id)
        field = None
        if fresh or found is None or now - found.built_at >= FIELD_TTL:
            field = _field_state(session, engineers_fp, now)
        context = None
        if (
            found is not None
            and now - found.built_at < self.ttl
            and (field is None or found.field == field)
        ):
            if found.key == key:
                return found
            if found.key[1:] == key[1:] and found.key[0] < version:
                # The plan moved on elsewhere (another process's bookings, mostly): re-time
                # only the engineer-days that changed, unless too much did (a run published).
                context = _refreshed(session, geo, found, key, now)
        if context is None:
            if field is None:
                field = _field_state(session, engineers_fp, now)
            context = self._build(session, geo, area_id, now, key, field)
        with self._lock:
            self._contexts[area_id] = context
        return context

    def book_after_commit(
        self,
        session: Session,
        area_id: int,
        quoted: Quoted,
        *,
        request_id: int,
        engineer_id: int,
        day: date,
        window_start: datetime | None,
        due: datetime | None,
    ) -> None:
        """Once the transaction that booked a quoted request into a route commits, add it to
        the area's context instead of rebuilding the whole context for the next caller.

        Only a context still exactly the one quoted from is changed, and only when the
        committed plan moved on by this booking alone (one version), so any other change to
        the plan still rebuilds it. The route is re-timed in the order stored.
        """
        version = plan_versions(session, [area_id])[area_id]
        if quoted.key[0] + 1 != version:
            return
        order = [
            v.request_id
            for v in day_visits(session, engineer_id, day)
            if v.status in ROUTE_STATUSES
        ]

        def _patch(_session: Session) -> None:
            with self._lock:
                found = self._contexts.get(area_id)
                if found is None or found.key != quoted.key:
                    return
                problem = _booked_problem(found, quoted, request_id, window_start, due)
                booked = _with_booking(found, quoted, problem, request_id, engineer_id, day, order)
                if booked is None:
                    del self._contexts[area_id]
                else:
                    self._contexts[area_id] = dataclasses.replace(
                        booked, key=(version, *quoted.key[1:])
                    )

        event.listen(session, "after_commit", _patch, once=True)

    def booking(
        self,
        session: Session,
        area_id: int,
        quoted: Quoted,
        *,
        request_id: int,
        engineer_id: int,
        day: date,
        window_start: datetime | None,
        due: datetime | None,
        now: datetime,
    ) -> Booking | None:
        """Book a quoted request from the quote itself: after taking the area's turn, when
        the plan is still the one quoted from (same version, and the engineer-day's route
        stored as the context holds it, nothing under way on it), the route with the request
        in each place is timed on the quote's problem, and of the places where every visit
        can still be served in its windows the one an assignment would choose is kept (least
        lateness against the promised windows, then least travel). None when anything moved
        on, or no place serves every visit: the caller then books it the long way (reading
        and timing the day afresh, where a visit that cannot be served is weighed, not ruled
        out).

        The context is updated with the booking once the transaction commits.
        """
        lock_scopes(session, [area_id])
        version = plan_versions(session, [area_id])[area_id]
        with self._lock:
            found = self._contexts.get(area_id)
        if found is None or found.key != quoted.key or quoted.key[0] != version:
            return None
        built = found.built
        engineer, shift_day = engineer_key(engineer_id), built.day_key(day)
        held = next(
            (r for r in found.routes if (r.engineer_id, r.day) == (engineer, shift_day)), None
        )
        held_ids = [request_of(v.job_id) for v in held.visits] if held is not None else []
        visits = day_visits(session, engineer_id, day, fresh=True)
        in_route = [v for v in visits if v.status in ROUTE_STATUSES]
        if [v.request_id for v in in_route] != held_ids or any(
            v.status not in MOVABLE_STATUSES for v in in_route
        ):
            return None
        ends = dict(
            session.execute(
                select(RepairRequest.id, RepairRequest.window_end).where(
                    RepairRequest.id.in_([*held_ids, request_id])
                )
            ).all()
        )
        problem = _booked_problem(found, quoted, request_id, window_start, due)
        best: tuple[tuple[int, int], Context, Route] | None = None
        for position in range(len(held_ids) + 1):
            order = [*held_ids[:position], request_id, *held_ids[position:]]
            tried = _with_booking(
                found, quoted, problem, request_id, engineer_id, day, order, now=now
            )
            if tried is None:
                continue
            timed = next(r for r in tried.routes if (r.engineer_id, r.day) == (engineer, shift_day))
            late = sum(
                max(0, v.start - built.seconds(end))
                for v in timed.visits
                if (end := ends.get(request_of(v.job_id))) is not None
            )
            score = (late, sum(v.travel_s for v in timed.visits))
            if best is None or score < best[0]:
                best = (score, tried, timed)
        if best is None:
            return None
        _, booked, route = best

        def _patch(_session: Session) -> None:
            with self._lock:
                if self._contexts.get(area_id) is found:
                    self._contexts[area_id] = dataclasses.replace(
                        booked, key=(version + 1, *quoted.key[1:])
                    )

        event.listen(session, "after_commit", _patch, once=True)
        position = next(i for i, v in enumerate(route.visits) if v.job_id == job_key(request_id))
        return Booking(
            visits=visits,
            route=route,
            built=booked.built,
            position=position,
            engineer_name=found.names[engineer_id],
        )

    def _build(
        self,
        session: Session,
        geo: GeoContext,
        area_id: int,
        now: datetime,
        key: tuple[Any, ...],
        field: tuple[tuple[str, int], ...],
    ) -> Context:
        area = session.get(ServiceArea, area_id)
        assert area is not None
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(area.timezone)
        today = now.astimezone(zone).date()
        end = today + timedelta(days=self.days)
        engineers = session.scalars(
            select(Engineer)
            .where(Engineer.service_area_id == area_id, Engineer.active.is_(True))
            .order_by(Engineer.id)
        ).all()
        visits = session.scalars(
            select(Visit)
            .where(
                Visit.engineer_id.in_([e.id for e in engineers]),
                Visit.date >= today,
                Visit.date <= end,
                Visit.status.in_(ROUTE_STATUSES),
            )
            .order_by(Visit.engineer_id, Visit.date, Visit.sequence)
        ).all()
        requests = session.scalars(
            select(RepairRequest).where(RepairRequest.id.in_([v.request_id for v in visits]))
        ).all()
        snapshot = snapshot_of(
            session,
            areas=[area],
            engineers=engineers,
            requests=requests,
            start=today,
            days=self.days + 1,
            now=now,
        )
        whole = build_problem(snapshot, geo, freeze=timedelta(0), history=False)
        built = _with_headroom(whole, self.headroom)
        # Room for the sites quotes and bookings will add (see ``_Roomy``).
        built = dataclasses.replace(built, problem=with_room(built.problem, len(built.points)))
        problem = built.problem
        known_jobs = {j.id for j in problem.jobs}
        routes = []
        for engineer in problem.engineers:
            for shift in engineer.shifts:
                day = built.date_of(shift.day)
                order = [
                    job_key(v.request_id)
                    for v in visits
                    if v.engineer_id == engineer_of(engineer.id) and v.date == day
                ]
                order = [j for j in order if j in known_jobs]
                if not order:
                    continue
                route, _missed = plan_route(problem, engineer.id, shift.day, order)
                routes.append(route)
        return Context(
            key=key,
            built_at=now,
            built=built,
            routes=tuple(routes),
            slots=tuple(route_slots(problem)),
            names={e.id: e.name for e in engineers},
            full_shifts=whole.problem.engineers,
            until=datetime.combine(end + timedelta(days=1), datetime.min.time(), zone),
            field=field,
        )


REFRESH_MAX_ROUTES = 6
"""An area's context is re-timed in place when at most this many of its engineer-days changed
since it was built (bookings elsewhere); more (a run published) rebuild it."""


_STORED_ROUTES = (
    select(Visit.engineer_id, Visit.date, Visit.request_id)
    .where(
        Visit.engineer_id.in_(bindparam("engineers", expanding=True)),
        Visit.date >= bindparam("first"),
        Visit.date <= bindparam("last"),
        Visit.status.in_(bindparam("statuses", expanding=True)),
    )
    .order_by(Visit.engineer_id, Visit.date, Visit.sequence)
)
"""The area's stored routes in order: built once, its values bound on each refresh (building
the IN lists anew took more time than the query)."""


def _refreshed(
    session: Session, geo: GeoContext, context: Context, key: tuple[Any, ...], now: datetime
) -> Context | None:
    """The context brought up to the stored routes by re-timing the engineer-days whose order
    changed, with the jobs booked since it was built added; None when a rebuild is better
    (many routes changed, or one no longer times)."""
    built = context.built
    problem = built.problem
    first = built.horizon_start
    last = context.until.date() - timedelta(days=1)
    engineers = [engineer_of(e.id) for e in problem.engineers]
    stored: dict[tuple[str, int], list[str]] = {}
    for engineer_id, day, request_id in session.execute(
        _STORED_ROUTES,
        {"engineers": engineers, "statuses": list(ROUTE_STATUSES), "first": first, "last": last},
    ):
        key_ = (engineer_key(engineer_id), built.day_key(day))
        stored.setdefault(key_, []).append(job_key(request_id))
    held = {(r.engineer_id, r.day): [v.job_id for v in r.visits] for r in context.routes}
    changed = [k for k in stored.keys() | held.keys() if stored.get(k, []) != held.get(k, [])]
    if len(changed) > REFRESH_MAX_ROUTES:
        return None
    known = {j.id for j in problem.jobs}
    new_ids = sorted({request_of(j) for k in changed for j in stored.get(k, []) if j not in known})
    points = built.points
    if new_ids:
        requests = session.scalars(select(RepairRequest).where(RepairRequest.id.in_(new_ids))).all()
        area = session.get(ServiceArea, built.snapshot.area_ids[0])
        assert area is not None
        # Only the new jobs are read: the rest of the snapshot (the area's traffic, the
        # policy's overtime and trips, the lodgings) is the one the context was built on.
        jobs = job_snaps(session, requests, None, {area.id: area}, now=now)
        mini = build_problem(
            dataclasses.replace(built.snapshot, now=now, engineers=(), jobs=jobs),
            geo,
            freeze=timedelta(0),
            history=False,
        )
        if mini.epoch != built.epoch or len(mini.problem.jobs) != len(new_ids):
            return None
        problem, at = _with_sites(context, geo, list(mini.points))
        problem = dataclasses.replace(
            problem,
            jobs=(
                *problem.jobs,
                *(dataclasses.replace(j, location=at + j.location) for j in mini.problem.jobs),
            ),
        )
        points = _placed(points, at, mini.points)
    routes = {(r.engineer_id, r.day): r for r in context.routes}
    for engineer, day in changed:
        order = stored.get((engineer, day), [])
        if not order:
            routes.pop((engineer, day), None)
            continue
        if problem.engineer(engineer) is None:
            return None
        try:
            route, missed = plan_route(problem, engineer, day, order, slots=context.slots)
        except ValueError:
            # No usable day left in the context's view (an urgent visit booked into the
            # shift's headroom, or its overtime, after the shift the context offers ended).
            return None
        if missed:
            return None
        routes[(engineer, day)] = route
    return dataclasses.replace(
        context,
        key=key,
        built=dataclasses.replace(built, problem=problem, points=points),
        routes=tuple(routes.values()),
    )


def _booked_problem(
    context: Context,
    quoted: Quoted,
    request_id: int,
    window_start: datetime | None,
    due: datetime | None,
) -> Problem:
    """The quote's problem with the quoted job as the booked request: its id, its windows from
    the promised window's start, its promise due."""
    built = context.built
    job = quoted.job
    floor = built.seconds(window_start) if window_start is not None else 0
    windows = tuple(
        TimeWindow(max(w.start, floor), w.end) for w in job.windows if w.end >= max(w.start, floor)
    ) or (TimeWindow(0, 0),)
    job = dataclasses.replace(
        job,
        id=job_key(request_id),
        windows=windows,
        promise_due=built.seconds(due) if due is not None else job.promise_due,
    )
    return dataclasses.replace(quoted.problem, jobs=(*quoted.problem.jobs, job))


def _with_booking(
    context: Context,
    quoted: Quoted,
    problem: Problem,
    request_id: int,
    engineer_id: int,
    day: date,
    order: Sequence[int],
    *,
    now: datetime | None = None,
) -> Context | None:
    """The context with a booked request in its engineer-day (``problem``: the
    ``_booked_problem``), or None if the route as stored cannot be timed in it (the caller then
    rebuilds). Given ``now``, a day already started is timed from then (the context may have
    been built a few minutes before)."""
    built = context.built
    ids = [job_key(r) for r in order if problem.job(job_key(r)) is not None]
    engineer = engineer_key(engineer_id)
    shift_day = built.day_key(day)
    if job_key(request_id) not in ids or problem.engineer(engineer) is None:
        return None
    slot = next(
        (
            s
            for s in context.slots
            if problem.engineers[s.engineer].id == engineer
            and problem.engineers[s.engineer].shifts[s.shift].day == shift_day
        ),
        None,
    )
    if slot is None:
        return None
    now_s = built.seconds(now) if now is not None else None
    late_start = now_s if now_s is not None and slot.start_time < now_s else None
    route, missed = plan_route(
        problem, engineer, shift_day, ids, time=late_start, slots=context.slots
    )
    if missed:
        return None
    routes = [r for r in context.routes if (r.engineer_id, r.day) != (engineer, shift_day)]
    point = (round(quoted.site[0], 6), round(quoted.site[1], 6))
    return dataclasses.replace(
        context,
        built=dataclasses.replace(
            built, problem=problem, points=_placed(built.points, quoted.job.location, [point])
        ),
        routes=(*routes, route),
    )


def _with_headroom(built: Built, headroom: timedelta) -> Built:
    """The problem with each shift ending ``headroom`` early for new work (never before its
    start), so that promises made now leave the day room to run late."""
    cut = int(headroom.total_seconds())
    if cut <= 0:
        return built
    engineers = tuple(
        dataclasses.replace(
            e,
            shifts=tuple(
                dataclasses.replace(s, end=max(s.start, s.end - cut))
                if s.break_ is None or s.break_.latest_end <= s.end - cut
                else s
                for s in e.shifts
            ),
        )
        for e in built.problem.engineers
    )
    return dataclasses.replace(
        built, problem=dataclasses.replace(built.problem, engineers=engineers)
    )


def _with_site(context: Context, geo: GeoContext, site: tuple[float, float]) -> tuple[Problem, int]:
    """The context's problem with the new site appended as the last location."""
    return _with_sites(context, geo, [site])


class _Room:
    """How much of a roomy matrix pair's room is taken (shared by both matrices)."""

    def __init__(self, used: int, size: int) -> None:
        self.used = used
        self.size = size
        self._lock = threading.Lock()

    def take(self, k: int) -> int | None:
        """The first of ``k`` locations never handed out before, or None when full."""
        with self._lock:
            if self.used + k > self.size:
                return None
            first, self.used = self.used, self.used + k
            return first


class _Roomy(Matrix):
    """A square matrix whose rows are lists with room at the end for locations to come.

    Every quote appends its site, and copying a matrix of hundreds of rows for each one took
    more time than the rest of the quote (and grew with the square of the area's locations).
    A context's problem instead shares one roomy matrix with the contexts grown from it:
    each new site takes locations nobody took before (``_Room.take``) and writes its row and
    its column in place. An index is written once, before any problem holding it exists, so
    what any problem reads never changes; cells between locations of different contexts
    (quotes that were never booked, say) are never read, as no problem holds both."""

    room: _Room

    @classmethod
    def of(cls, matrix: Sequence[Sequence[int]], used: int, size: int, room: _Room) -> _Roomy:
        pad = [0] * (size - used)
        rows = [[*matrix[i][:used], *pad] for i in range(used)]
        rows.extend([0] * size for _ in range(size - used))
        made = cls(rows)
        made.room = room
        return made


ROOM_MIN = 64
"""Locations a roomy matrix has room for beyond those in use (or a quarter of them if more):
when they are all taken, the next site copies the matrix once into a roomier one."""


def with_room(problem: Problem, used: int, extra: int = 0) -> Problem:
    """``problem`` on roomy copies of its matrices (``used`` locations in use), with room
    for ``extra`` more locations besides the usual room."""
    size = used + extra + max(ROOM_MIN, used // 4)
    room = _Room(used, size)
    return dataclasses.replace(
        problem,
        durations=_Roomy.of(problem.durations, used, size, room),
        distances=_Roomy.of(problem.distances, used, size, room),
    )


def _placed(
    points: tuple[tuple[float, float], ...], at: int, new: Sequence[tuple[float, float]]
) -> tuple[tuple[float, float], ...]:
    """``points`` with ``new`` at matrix index ``at``: the locations between, taken by others'
    sites, hold the first point (never read)."""
    if at < len(points):
        raise ValueError(f"new locations at {at}, inside the {len(points)} in use")
    return (*points, *[points[0]] * (at - len(points)), *new)


def _with_sites(
    context: Context, geo: GeoContext, sites: Sequence[tuple[float, float]]
) -> tuple[Problem, int]:
    """The context's problem with ``sites`` as new locations, and the index of the first of
    them (they follow each other; see ``_Roomy`` for where)."""
    problem = context.built.problem
    points = list(context.built.points)
    n, k = len(points), len(sites)
    if not points:
        return Problem(durations=[[0]], distances=[[0]], jobs=(), engineers=()), 0
    durations, distances = problem.durations, problem.distances
    room = getattr(durations, "room", None)
    first = None
    if room is not None and getattr(distances, "room", None) is room:
        first = room.take(k)
    if first is None:  # no room (left): copied once into roomier matrices
        roomy = with_room(problem, n, k)
        durations, distances = roomy.durations, roomy.distances
        first = durations.room.take(k)
        assert first == n
    to_sites = geo.point_provider.matrix(points, list(sites))
    from_sites = geo.point_provider.matrix(list(sites), [*points, *sites])
    factor = context.built.traffic_factor  # the representative matrix of the problem
    new = range(first, first + k)
    for matrix, to, back in (
        (
            durations,
            representative_durations(to_sites, factor),
            representative_durations(from_sites, factor),
        ),
        (distances, to_sites.distances, from_sites.distances),
    ):
        # Only the new sites' entries are checked: the area's matrix was when it was built.
        if (to.size and to.min() < 0) or (back.size and back.min() < 0):
            raise ValueError("travel matrix: negative entries for a new site")
        for i, row in enumerate(to.astype(np.int64).tolist()):
            matrix[i][first : first + k] = row
        for s, row in zip(new, back.astype(np.int64).tolist(), strict=True):
            matrix[s][:n] = row[:n]
            matrix[s][first : first + k] = row[n:]
    return (
        Problem(
            durations=durations, distances=distances, jobs=problem.jobs, engineers=problem.engineers
        ),
        first,
    )


def insertion_options(
    context: Context,
    geo: GeoContext,
    *,
    site: tuple[float, float],
    skills: Mapping[str, int],
    service_minutes: int,
    tier: str,
    windows: Sequence[tuple[datetime, datetime]],
    promise_due: datetime | None,
    parts_volume: int = 0,
) -> tuple[list[InsertionOption], Job, Problem]:
    """Cheapest feasible insertion per engineer-day for a request at ``site``."""
    problem, location = _with_site(context, geo, site)
    built = context.built
    spans = [
        TimeWindow(built.seconds(s), built.seconds(e))
        for s, e in windows
        if built.seconds(e) >= built.seconds(s)
    ]
    job = Job(
        id="new",
        location=location,
        service_s=service_minutes * 60,
        demand=parts_volume,
        windows=tuple(spans) if spans else (TimeWindow(0, 0),),
        promise_due=built.seconds(promise_due) if promise_due is not None else None,
        priority=PRIORITY.get(tier, PRIORITY["general"]),
        skills=dict(skills),
    )
    if len(context.stops) > 4 * len(context.slots):  # routes replaced since: start afresh
        context.stops.clear()
    options = optimizer_best_insertions(
        _with_margin(problem, KEEP_MARGIN),
        context.routes,
        job,
        slots=context.slots,
        stops_cache=context.stops,
    )
    return options, job, problem


_MARGIN_JOBS: dict[int, tuple[tuple[Job, ...], int, tuple[Job, ...]]] = {}
"""The jobs of a context's problem with the margin taken off, by the identity of its jobs (kept
here, so the identity is not reused while cached): every quote on a context shares its jobs,
a booking adds one at the end, and copying a few hundred of them took a sixth of a quote's
time."""
_MARGIN_LOCK = threading.Lock()


def _shifted(job: Job, cut: int) -> Job:
    if job.promise_due is None:
        return job
    return dataclasses.replace(job, promise_due=job.promise_due - cut)


def _margin_jobs(jobs: tuple[Job, ...], cut: int) -> tuple[Job, ...]:
    """``jobs`` with ``cut`` off every promise, from the cache: the same jobs, or the jobs of
    a context it grew from by bookings (the same jobs first), re-used."""
    with _MARGIN_LOCK:
        found = _MARGIN_JOBS.get(id(jobs))
        if found is not None and found[0] is jobs and found[1] == cut:
            return found[2]
        grown = [
            c
            for c in _MARGIN_JOBS.values()
            if c[1] == cut
            and len(c[0]) < len(jobs)
            and all(a is b for a, b in zip(c[0], jobs, strict=False))
        ]
    base = max(grown, key=lambda c: len(c[0]), default=None)
    done = base[2] if base is not None else ()
    shifted = (*done, *(_shifted(j, cut) for j in jobs[len(done) :]))
    with _MARGIN_LOCK:
        if len(_MARGIN_JOBS) >= 32:  # contexts come and go: start afresh now and then
            _MARGIN_JOBS.clear()
        _MARGIN_JOBS[id(jobs)] = (jobs, cut, shifted)
    return shifted


def _with_margin(problem: Problem, margin: timedelta) -> Problem:
    """The problem with each visit due ``margin`` before its promise (every request in the
    context was promised at intake; for weighing insertions only: routes, their times and what
    is stored keep the true promise)."""
    cut = int(margin.total_seconds())
    if cut <= 0:
        return problem
    return dataclasses.replace(problem, jobs=_margin_jobs(problem.jobs, cut))


def predict(
    context: Context,
    geo: GeoContext,
    *,
    site: tuple[float, float],
    skills: Mapping[str, int],
    service_minutes: int,
    tier: str,
    earliest: datetime,
    latest: datetime,
    availability: Sequence[tuple[datetime, datetime]],
    arrival_due: datetime,
    parts_volume: int = 0,
    trip_max_days: int = 1,
) -> Prediction:
    """The best arrival current capacity allows: the cheapest option meeting the SLA's
    arrival due, or else the earliest possible one with the reason the SLA cannot be met.

    When no day that starts and ends at home meets the due (a far out-of-town site), a
    one-night trip is asked the same feasibility the planner uses (``trip_max_days`` >= 2):
    the engineer ends a day at the site and starts the next there, every visit of both days
    still in its window."""
    windows = [(max(s, earliest), min(e, latest)) for s, e in availability] or [(earliest, latest)]
    options, job, problem = insertion_options(
        context,
        geo,
        site=site,
        skills=skills,
        service_minutes=service_minutes,
        tier=tier,
        windows=windows,
        promise_due=arrival_due,
        parts_volume=parts_volume,
    )
    built = context.built
    due_s = built.seconds(arrival_due)
    trips: dict[InsertionOption, int] = {}
    if trip_max_days >= 2 and not any(o.start <= due_s for o in options):
        away = trip_insertions(
            _with_margin(problem, KEEP_MARGIN), context.routes, job, max_days=trip_max_days
        )
        trips = {o: t.first_day for o, t in away}
        options = [*options, *trips]
    meeting = [o for o in options if o.start <= due_s]
    diverted = None
    if tier == "urgent":
        # Room for the road first: a plan arriving minutes before the due is a coin toss in
        # traffic. The route as it is when it leaves that room, else a diverted engineer who
        # does, else the route that meets the due at all, else a diversion that does (also
        # when every route is too full to take the visit at all).
        roomy = [o for o in meeting if o.start <= due_s - URGENT_ROOM_S]
        if roomy:
            meeting = roomy
        else:
            diversions = _Diversions(context, problem, job)
            diverted = diversions.best(due_s - URGENT_ROOM_S)
            if diverted is None and not meeting:
                diverted = diversions.best(due_s)
            if diverted is None and not meeting:
                # Only engineers whose own urgent visit it would make late could be there in
                # time. That customer was promised first and keeps them: this call comes next
                # after it (in the urgent overtime), or the soonest the routes allow, when that
                # is soon after its due; else one is diverted all the same.
                soonest = min((o.start for o in options), default=None)
                queued = diversions.behind_urgent(due_s + URGENT_WAIT_S)
                if queued is not None and (soonest is None or queued[0].start <= soonest):
                    diverted = queued
                elif soonest is None or soonest > due_s + URGENT_WAIT_S:
                    diverted = diversions.best(due_s, spare_urgent=False)
    if diverted is None and not options:
        reason, message = explain_unassigned(problem, context.routes, job, Weights(), context.slots)
        return Prediction(None, None, None, None, None, False, reason.value, message, 0)
    if diverted is not None:
        option, routes, position = diverted
        engineer_id = engineer_of(option.engineer_id)
        legs, first_of_day = _legs_before(context, option, routes)
        in_time = option.start <= due_s
        return Prediction(
            eta=built.instant(option.start),
            engineer_id=engineer_id,
            engineer_name=context.names.get(engineer_id),
            day=built.date_of(option.day),
            position=position,
            within_sla=in_time,
            reason=None if in_time else "late",
            message=None
            if in_time
            else (
                f"the engineers who could be there in time are on another urgent call; the "
                f"soonest arrival is {built.instant(option.start).isoformat()}"
            ),
            options=len(options) + 1,
            legs=legs,
            first_of_day=first_of_day,
            diverted=True,
        )
    chosen = _choose(options, meeting, urgent=tier == "urgent")
    overnight = chosen in trips
    engineer_id = engineer_of(chosen.engineer_id)
    legs, first_of_day = _legs_before(context, chosen)
    reason = message = None
    if not meeting:
        reason = "late"
        message = (
            f"no engineer can be on site before {built.instant(chosen.start).isoformat()}; "
            f"the SLA asks for {arrival_due.isoformat()}"
        )
    return Prediction(
        eta=built.instant(chosen.start),
        engineer_id=engineer_id,
        engineer_name=context.names.get(engineer_id),
        day=built.date_of(chosen.day),
        position=chosen.position,
        within_sla=bool(meeting),
        reason=reason,
        message=message,
        options=len(options),
        legs=legs,
        first_of_day=first_of_day,
        overnight=overnight,
        trip_start=built.date_of(trips[chosen]) if overnight else None,
        # A booking on a trip is not added to the context's home-based routes: the next run
        # that covers both days plans the trip.
        quoted=None if overnight else Quoted(context.key, problem, job, site),
    )


def _choose(
    options: Sequence[InsertionOption], meeting: Sequence[InsertionOption], *, urgent: bool
) -> InsertionOption:
    """The option to promise: promises already made are commitments, so an option that makes
    none of them later than planned comes first; within the SLA when it can (an urgent request
    meets its SLA even at that price, or else is promised the soonest arrival anyone can make),
    else the earliest."""
    clean = [o for o in options if not o.newly_late]
    clean_meeting = [o for o in meeting if not o.newly_late]
    by_cost = lambda o: (o.cost, o.start)  # noqa: E731
    by_start = lambda o: (o.start, o.cost)  # noqa: E731
    if clean_meeting:
        return min(clean_meeting, key=by_cost)
    if urgent and meeting:
        return min(meeting, key=by_cost)
    if urgent:  # no one in time: the soonest anyone can be there, not a clean slot days later
        return min(options, key=by_start)
    if clean:
        return min(clean, key=by_start)
    return min(meeting, key=by_cost) if meeting else min(options, key=by_start)


Diverted = tuple[InsertionOption, tuple[Route, ...], int]
"""An urgent option, the routes its legs are read from, and how many of the route's movable
visits go before it (0: the engineer goes there next)."""


class _Diversions:
    """Where an urgent job could go with an engineer sent there straight after the visit at
    hand, for one quote: the options and what each sets aside are worked out once, then asked
    for several dues (with room for the road, without, soon after).

    The whole shift counts (the headroom kept for running late is what an urgent call uses),
    and the policy's urgent overtime after it for the urgent visit itself, and the break may
    wait for it (the re-plan grants the same, ``dispatch.planning.problem._fit_urgent``).
    """

    def __init__(self, context: Context, problem: Problem, job: Job) -> None:
        engineers = context.full_shifts or problem.engineers
        self.shift_end = {(e.id, s.day): s.end for e in engineers for s in e.shifts}
        over = context.built.snapshot.urgent_overtime_s
        longer = dataclasses.replace(
            problem,
            engineers=tuple(
                dataclasses.replace(
                    e,
                    shifts=tuple(break_after(lengthened(s, over), job.service_s) for s in e.shifts),
                )
                for e in engineers
            ),
        )
        self.problem, self.job = problem, job
        self.routes = tuple(
            dataclasses.replace(r, visits=tuple(v for v in r.visits if self.under_way(v.job_id)))
            for r in context.routes
        )
        self.options = optimizer_best_insertions(
            longer, self.routes, job, slots=route_slots(longer)
        )
        self.by_route = {(r.engineer_id, r.day): r for r in context.routes}
        self.with_job = dataclasses.replace(longer, jobs=(*longer.jobs, job))
        self.due_of = {j.id: j.promise_due for j in problem.jobs}
        self.urgent = {j.id for j in problem.jobs if j.priority is Priority.URGENT}
        self._aside: dict[InsertionOption, tuple[int, int]] = {}

    def under_way(self, job_id: str) -> bool:
        return self.problem.jobs[self.problem.job_position(job_id)].in_progress is not None

    def meeting(self, due_s: int) -> list[InsertionOption]:
        """The options arriving by ``due_s`` and before the end of the engineer's shift."""
        return [
            o
            for o in self.options
            if o.start <= min(due_s, self.shift_end.get((o.engineer_id, o.day), o.start))
        ]

    def set_aside(self, o: InsertionOption) -> tuple[int, int]:
        """The promised visits of the route that the urgent one, put straight after the visit
        at hand, makes late (or later) or pushes past the shift: what the re-plan must give to
        colleagues or break. Urgent ones first: diverting an engineer from one urgent call
        to another only moves the breach."""
        found = self._aside.get(o)
        if found is not None:
            return found
        route = self.by_route.get((o.engineer_id, o.day))
        count = urgent_count = 0
        if route is not None:
            ids = [v.job_id for v in route.visits]
            rest = [i for i in ids if not self.under_way(i)]
            order = [*(i for i in ids if self.under_way(i)), self.job.id, *rest]
            timed, missed = plan_route(self.with_job, o.engineer_id, o.day, order)
            before = {v.job_id: v.start for v in route.visits}
            after = {v.job_id: v for v in timed.visits}
            end = self.shift_end[(o.engineer_id, o.day)]
            for i in rest:
                visit, due = after[i], self.due_of.get(i)
                late = due is not None and visit.start > max(due, before[i])
                if i in missed or late or visit.departure > end:
                    count += 1
                    urgent_count += i in self.urgent
        self._aside[o] = (urgent_count, count)
        return urgent_count, count

    def best(self, due_s: int, *, spare_urgent: bool = True) -> Diverted | None:
        """An engineer who reaches the site by ``due_s`` (with ``spare_urgent``, without making
        another urgent visit of theirs late): the one setting aside fewest of their urgent,
        then other promised visits, preferably no urgent one and at most ``MAX_SET_ASIDE`` in
        all, then one arriving with ample room (``URGENT_AMPLE_S``), then one who needs no
        overtime, then the soonest there. None when no one can."""
        meeting = self.meeting(due_s)
        due = self.job.promise_due if self.job.promise_due is not None else due_s

        def rank(o: InsertionOption) -> tuple[tuple[int, int], bool, bool, int, int]:
            needs_overtime = o.start + self.job.service_s > self.shift_end[(o.engineer_id, o.day)]
            tight = o.start > due - URGENT_AMPLE_S
            return self.set_aside(o), tight, needs_overtime, o.start, o.cost

        fair = [o for o in meeting if self.set_aside(o) <= (0, MAX_SET_ASIDE)]
        if fair:
            return min(fair, key=rank), self.routes, 0
        # Everyone who could be there in time would set more aside: an urgent call still gets
        # the engineer who sets aside fewest (the re-plan its booking queues gives those visits
        # to colleagues), as a dispatcher diverts someone for a stopped line. Not from another
        # urgent call he would make late (``spare_urgent``): that customer was promised first,
        # and taking him away only moves the breach (in a full evening it pushed that call to
        # the next morning). ``predict`` then puts this call after that visit, or diverts him
        # all the same.
        if not spare_urgent:
            return (min(meeting, key=rank), self.routes, 0) if meeting else None
        spared = [o for o in meeting if self.set_aside(o)[0] == 0]
        return (min(spared, key=rank), self.routes, 0) if spared else None

    def behind_urgent(self, due_s: int) -> Diverted | None:
        """Of the engineers who could be there by ``due_s`` only by making an urgent visit of
        theirs late, the soonest there when the job is put straight after their last urgent
        visit (their other planned visits follow)."""
        best: tuple[InsertionOption, int] | None = None
        for o in self.meeting(due_s):
            if self.set_aside(o)[0] == 0:
                continue
            route = self.by_route[(o.engineer_id, o.day)]
            ids = [v.job_id for v in route.visits]
            ahead = [i for i in ids if self.under_way(i)]
            rest = [i for i in ids if not self.under_way(i)]
            after = 1 + max((k for k, i in enumerate(rest) if i in self.urgent), default=-1)
            order = [*ahead, *rest[:after], self.job.id, *rest[after:]]
            timed, missed = plan_route(self.with_job, o.engineer_id, o.day, order)
            if self.job.id in missed or any(i in missed for i in rest[:after]):
                continue
            visit = next(v for v in timed.visits if v.job_id == self.job.id)
            if visit.start > due_s or (best is not None and visit.start >= best[0].start):
                continue
            placed = dataclasses.replace(
                o, position=len(ahead) + after, arrival=visit.arrival, start=visit.start
            )
            best = (placed, after)
        if best is None:
            return None
        return best[0], tuple(self.by_route.values()), best[1]


def _legs_before(
    context: Context, option: InsertionOption, routes: Sequence[Route] | None = None
) -> tuple[tuple[Leg, ...], bool]:
    """The drives and visits before an inserted arrival, and whether it opens the day."""
    built = context.built
    route = next(
        (
            r
            for r in (context.routes if routes is None else routes)
            if (r.engineer_id, r.day) == (option.engineer_id, option.day)
        ),
        None,
    )
    kinds = {job_key(j.request_id): j.problem_type for j in built.snapshot.jobs}
    legs = []
    before = route.visits[: option.position] if route is not None else ()
    for v in before:
        legs.append(
            Leg(
                travel_s=v.travel_s,
                departure=built.instant(v.arrival - v.travel_s),
                service_s=v.departure - v.start,
                problem_type=kinds.get(v.job_id),
            )
        )
    if before:
        last = before[-1].departure
    elif route is not None:
        last = route.start_time
    else:  # an empty day: the drive out is about half the detour (out and back)
        last = option.arrival - option.added_travel_s // 2
    own = max(0, option.arrival - last)
    legs.append(Leg(travel_s=own, departure=built.instant(last)))
    now_s = built.seconds(built.snapshot.now)
    starts_later = route is None or route.start_time > now_s
    return tuple(legs), not before and starts_later


__all__ = ["Booking", "CapacityIndex", "Context", "Prediction", "insertion_options", "predict"]
