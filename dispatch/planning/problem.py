"""Turn a snapshot into the optimiser's problem (integer seconds from an epoch, index matrices)
and translate its answers back into datetimes and database ids."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.geo_support import GeoContext
from dispatch.models.enums import LockKind, VisitStatus
from dispatch.planning.snapshot import EngineerSnap, JobSnap, Snapshot
from dispatch.traffic import representative, representative_durations
from geo.model import TravelProfile
from optimizer import (
    Assignment,
    Break,
    CurrentPosition,
    Engineer,
    InProgress,
    Job,
    Lock,
    Priority,
    Problem,
    Shift,
    TimeWindow,
    TripRules,
    plan_route,
)
from optimizer import VisitStatus as OptVisitStatus
from optimizer.trips import on_the_road

DEFAULT_FREEZE = timedelta(minutes=60)
OVERTIME_MARGIN_S = 10 * 60
"""Overtime granted for an urgent visit beyond what its timing needs, so that a few minutes
of re-timing do not make the visit unplannable."""

Seconds = Callable[[datetime], int]
"""Converts an instant to whole seconds from the plan epoch."""


def job_key(request_id: int) -> str:
    return f"r{request_id}"


def engineer_key(engineer_id: int) -> str:
    return f"e{engineer_id}"


def request_of(job_id: str) -> int:
    return int(job_id[1:])


def engineer_of(key: str) -> int:
    return int(key[1:])


@dataclass(frozen=True)
class Note:
    """Something a run did with a request the dispatcher should know about."""

    request_id: int
    kind: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"request_id": self.request_id, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class Built:
    """The optimiser's problem with the means to translate it back.

    ``broken_locks`` are requests whose dispatcher lock named an engineer who does not work in
    the horizon (leave, a day off, deactivated): they are re-planned freely and their lock is
    released when the plan is published. ``notes`` say so, and which visits under way were left
    as they are.
    """

    problem: Problem
    epoch: datetime
    horizon_start: date
    points: tuple[tuple[float, float], ...]
    snapshot: Snapshot
    broken_locks: frozenset[int] = frozenset()
    notes: tuple[Note, ...] = ()
    traffic_factor: float = 1.0
    """The representative rush multiplier the search's matrix carries (``dispatch.traffic``)."""
    lodging_names: dict[int, str] = dataclasses.field(default_factory=dict)
    """What to call each place an engineer may stay on a trip, by matrix index."""

    def seconds(self, moment: datetime) -> int:
        """Seconds from the epoch (never negative: the past is clamped to the epoch)."""
        return max(0, int((moment - self.epoch).total_seconds()))

    def instant(self, seconds: int) -> datetime:
        return self.epoch + timedelta(seconds=seconds)

    def day_key(self, day: date) -> int:
        return (day - self.horizon_start).days

    def date_of(self, day_key: int) -> date:
        return self.horizon_start + timedelta(days=day_key)

    def location(self, point: tuple[float, float]) -> int:
        """The matrix index of a point of the problem."""
        return self.points.index((round(point[0], 6), round(point[1], 6)))


class _Points:
    def __init__(self) -> None:
        self.index: dict[tuple[float, float], int] = {}
        self.points: list[tuple[float, float]] = []

    def __call__(self, point: tuple[float, float]) -> int:
        key = (round(point[0], 6), round(point[1], 6))
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.points)
            self.points.append(key)
        return found


def _epoch(snapshot: Snapshot) -> datetime:
    midnight = datetime.combine(
        snapshot.horizon_start, datetime.min.time(), ZoneInfo(snapshot.timezone)
    )
    start = min(midnight.astimezone(UTC), snapshot.now)
    return start.replace(second=0, microsecond=0)


def build_problem(
    snapshot: Snapshot,
    geo: GeoContext,
    *,
    freeze: timedelta = DEFAULT_FREEZE,
    history: bool = True,
    extra_points: tuple[tuple[float, float], ...] = (),
    keep_locks: bool = True,
    pins: Mapping[int, datetime] | None = None,
) -> Built:
    """The optimiser problem for ``snapshot``; travel times from ``geo``'s provider.

    ``history=False`` leaves out previous assignments and engineer locks: for timing a given
    order on one engineer, where other engineers are not part of the problem (a visit locked in
    time still starts at its time there: its windows begin then). ``extra_points`` become
    matrix locations too (e.g. where an engineer is busy). ``keep_locks=False`` is the
    fallback when no plan honours the locks: freeze locks are not made and dispatchers' locks
    are released, each with a ``lock_broken`` note. ``pins`` (request id -> service start)
    keep visits at a time when an order is timed (``history=False``), as the visits' own time
    locks do there: the work starts then, or as soon after as the engineer gets there.
    """
    epoch = _epoch(snapshot)
    points = _Points()
    now_s = max(0, int((snapshot.now - epoch).total_seconds()))

    def sec(moment: datetime) -> int:
        return max(0, int((moment - epoch).total_seconds()))

    in_progress = {
        j.visit.engineer_id: j
        for j in snapshot.jobs
        if j.visit is not None
        and j.visit.status in (VisitStatus.EN_ROUTE.value, VisitStatus.ARRIVED.value)
    }
    engineers = []
    for e in snapshot.engineers:
        built = _engineer(e, snapshot, points, sec, now_s, in_progress.get(e.id))
        if built is not None:
            engineers.append(built)
    horizon_end_s = sec(
        datetime.combine(
            snapshot.horizon_end + timedelta(days=1),
            datetime.min.time(),
            ZoneInfo(snapshot.timezone),
        )
    )
    working = {e.id: e for e in engineers}
    jobs = []
    broken: set[int] = set()
    notes: list[Note] = []
    for j in snapshot.jobs:
        job = _job(
            j,
            snapshot,
            points,
            sec,
            now_s,
            horizon_end_s,
            freeze if keep_locks else timedelta(0),
            history,
            (pins or {}).get(j.request_id),
        )
        job, note = _without_absent_engineers(job, j, working, now_s)
        if job is not None and job.lock is not None and not keep_locks:
            job = dataclasses.replace(job, lock=None)
            if note is None and j.visit is not None and j.visit.lock != LockKind.NONE.value:
                note = Note(
                    j.request_id,
                    "lock_broken",
                    f"{j.external_ref}: no plan keeps every lock with the visits under way, so "
                    "its lock is released and the visit re-planned",
                )
        if note is not None:
            notes.append(note)
            if note.kind == "lock_broken":
                broken.add(j.request_id)
        if job is not None:
            jobs.append(job)
    for point in extra_points:
        points(point)
    trips, names = _trip_rules(snapshot, points, jobs)
    matrix = geo.provider.matrix(points.points) if points.points else None
    engineers, factor = _with_traffic(snapshot, engineers, epoch, horizon_end_s)
    durations = representative_durations(matrix, factor).tolist() if matrix is not None else []
    distances = matrix.distances.tolist() if matrix is not None else []
    problem = Problem(
        durations=durations, distances=distances, jobs=jobs, engineers=engineers, trips=trips
    )
    problem = _lunch_on_the_road(problem)
    problem = _fit_under_way(problem)
    problem = _fit_urgent(problem, snapshot, sec)
    return Built(
        problem=problem,
        epoch=epoch,
        horizon_start=snapshot.horizon_start,
        points=tuple(points.points),
        snapshot=snapshot,
        broken_locks=frozenset(broken),
        notes=tuple(notes),
        traffic_factor=factor,
        lodging_names=names,
    )


def _trip_rules(
    snapshot: Snapshot, points: _Points, jobs: list[Job]
) -> tuple[TripRules | None, dict[int, str]]:
    """The trips a run may make (the active policy's rules, every area's lodging) and the
    names of the places to stay: a lodging's own, or the site of the visit it is near."""
    names: dict[int, str] = {}
    for job in snapshot.jobs:
        names.setdefault(points(job.site), f"near the site of {job.external_ref}")
    for e in snapshot.engineers:
        for night in e.nights.values():
            names[points(night.point)] = night.name
    lodgings = []
    for lodging in snapshot.lodgings:
        index = points(lodging.point)
        names[index] = lodging.name
        lodgings.append(index)
    if not snapshot.decide_nights or snapshot.trip_max_days < 2:
        return None, names
    away = {
        engineer_key(e.id): days
        for e in snapshot.engineers
        if (days := e.away_days(snapshot.horizon_start)) > 0
    }
    rules = TripRules(
        max_days=snapshot.trip_max_days,
        overnight_cost=snapshot.overnight_s,
        lodgings=tuple(lodgings),
        away_days=away,
    )
    return rules, names


def _with_traffic(
    snapshot: Snapshot, engineers: list[Engineer], epoch: datetime, horizon_end_s: int
) -> tuple[list[Engineer], float]:
    """The engineers with their area's hourly traffic, relative to the representative factor
    (the mean multiplier over their shifts), and that factor (see ``dispatch.traffic``)."""
    if not snapshot.traffic or not engineers:
        return engineers, 1.0
    area_of = {engineer_key(e.id): e.area_id for e in snapshot.engineers}
    fallback = next(iter(snapshot.traffic.values()))
    profiles = [snapshot.traffic.get(area_of.get(e.id, -1), fallback) for e in engineers]
    spans = [
        (epoch + timedelta(seconds=s.start), max(1, (s.end - s.start) // 3600))
        for e in engineers
        for s in e.shifts
    ]
    shift_profiles = [p for p, e in zip(profiles, engineers, strict=True) for _ in e.shifts]
    factor = representative(shift_profiles, spans)
    hours = horizon_end_s // 3600 + 1
    curves: dict[TravelProfile, tuple[float, ...]] = {}  # one per area, not per engineer
    for profile in profiles:
        if profile not in curves:
            curves[profile] = tuple(m / factor for m in profile.hourly(epoch, hours))
    out = [
        dataclasses.replace(e, traffic=curves[p]) for e, p in zip(engineers, profiles, strict=True)
    ]
    return out, factor


def _lunch_on_the_road(problem: Problem) -> Problem:
    """A day that starts at a trip's lodging and ends at home (or the other way) is a long
    drive: its lunch may be taken on the road, as the optimiser plans trips
    (:func:`optimizer.trips.on_the_road`)."""
    dur = problem.durations
    changed = False
    engineers = []
    for e in problem.engineers:
        shifts = tuple(
            dataclasses.replace(s, break_=on_the_road(s, dur[s.start_location][s.end_location]))
            if s.start_location != s.end_location
            else s
            for s in e.shifts
        )
        if shifts != e.shifts:
            changed = True
            e = dataclasses.replace(e, shifts=shifts)
        engineers.append(e)
    # A new problem re-checks its matrices: only when a day away changed something.
    return dataclasses.replace(problem, engineers=tuple(engineers)) if changed else problem


def _fit_under_way(problem: Problem) -> Problem:
    """Shifts in which every visit under way can be finished.

    An engineer on the way to a long visit, or on site, may not be able to finish it, take the
    break inside its window and drive home by the end of the shift. That is a fact, not a plan
    to refuse: the break is dropped when it no longer fits after the visit, and the shift runs
    over as far as the visit and the drive home need.
    """
    for job in problem.jobs:
        ip = job.in_progress
        engineer = problem.engineer(ip.engineer_id) if ip is not None else None
        index = engineer.current_shift_index() if engineer is not None else None
        if engineer is None or index is None:
            continue
        shift = engineer.shifts[index]
        fitted = _fit_shift(problem, engineer.id, shift, job.id)
        if fitted != shift:
            problem = _with_shift(problem, engineer.id, fitted)
    return problem


def _fit_urgent(problem: Problem, snapshot: Snapshot, sec: Seconds) -> Problem:
    """Shifts that run over, by at most the policy's urgent overtime, where an urgent visit
    assigned to its engineer cannot be done and driven home from by the shift end; and breaks
    that may end later by the urgent visit's time on site (:func:`break_after`).

    Intake sends an engineer to an urgent call that arrives while they can still get there on
    shift (``dispatch.planning.capacity``); the work then runs past the shift. Only the shift
    of the engineer holding the visit grows, and only as far as that visit (after the one
    under way) needs, so a late urgent call is not moved to the next morning.
    """
    allowance = snapshot.urgent_overtime_s
    if allowance <= 0:
        return problem
    under_way = {j.in_progress.engineer_id: j.id for j in problem.jobs if j.in_progress is not None}
    for snap in snapshot.jobs:
        visit = snap.visit
        if (
            snap.tier != "urgent"
            or visit is None
            or visit.status not in (VisitStatus.PLANNED.value, VisitStatus.ACCEPTED.value)
        ):
            continue
        engineer = problem.engineer(engineer_key(visit.engineer_id))
        day = (visit.date - snapshot.horizon_start).days
        shift = next((s for s in engineer.shifts if s.day == day), None) if engineer else None
        urgent_job = problem.job(job_key(snap.request_id))
        if engineer is None or shift is None or urgent_job is None:
            continue
        before = under_way.get(engineer.id)
        if before is not None and not shift.start <= sec(snapshot.now) <= shift.end:
            before = None
        order = [*([before] if before else []), job_key(snap.request_id)]
        # The break waits for the urgent visit where it would hold it back, as intake's
        # diversion assumed (``dispatch.planning.capacity._Diversions``).
        longest = lengthened(shift, allowance)
        if _starts_sooner(
            problem, engineer.id, order, longest, break_after(longest, urgent_job.service_s)
        ):
            shift = break_after(shift, urgent_job.service_s)
            problem = _with_shift(problem, engineer.id, shift)
        try:
            # The search times legs on the representative matrix, published routes in the
            # traffic of the hour: the shift must hold the visit under both.
            ends = [
                plan_route(p, engineer.id, day, order)[0].end_time
                for p in (problem, _without_traffic(problem, engineer.id))
            ]
        except ValueError:
            continue
        if max(ends) <= shift.end:
            continue
        over = min(max(ends) + OVERTIME_MARGIN_S - shift.end, allowance)
        problem = _with_shift(problem, engineer.id, lengthened(shift, over))
    return problem


def _starts_sooner(
    problem: Problem, engineer_id: str, order: list[str], shift: Shift, other: Shift
) -> bool:
    """Whether the last visit of ``order`` starts sooner (or fits at all) on ``other`` than on
    ``shift``, the engineer's day visiting ``order`` only."""

    def start(on: Shift) -> int | None:
        try:
            timed, missed = plan_route(
                _with_shift(problem, engineer_id, on), engineer_id, on.day, order
            )
        except ValueError:
            return None
        if order[-1] in missed:
            return None
        return next((v.start for v in timed.visits if v.job_id == order[-1]), None)

    held, freed = start(shift), start(other)
    return freed is not None and (held is None or freed < held)


def lengthened(shift: Shift, seconds: int) -> Shift:
    """The shift running ``seconds`` longer, its working-time limit too (overtime)."""
    return dataclasses.replace(
        shift,
        end=shift.end + seconds,
        max_work_s=None if shift.max_work_s is None else shift.max_work_s + seconds,
    )


def break_after(shift: Shift, visit_s: int) -> Shift:
    """The shift whose break may wait for a visit of ``visit_s`` seconds (an urgent one): its
    window may end that visit and the break's own length later (never past the shift's end), so
    the break can be taken after the visit. A dispatcher sends an engineer to a stopped line and
    the lunch waits, not the customer."""
    found = shift.break_
    if found is None or visit_s <= 0 or found.latest_end >= shift.end:
        return shift
    latest = min(shift.end, found.latest_end + visit_s + found.duration_s)
    return dataclasses.replace(shift, break_=dataclasses.replace(found, latest_end=latest))


def _without_traffic(problem: Problem, engineer_id: str) -> Problem:
    return dataclasses.replace(
        problem,
        engineers=tuple(
            dataclasses.replace(e, traffic=()) if e.id == engineer_id else e
            for e in problem.engineers
        ),
    )


def _with_shift(problem: Problem, engineer_id: str, shift: Shift) -> Problem:
    """The problem with the engineer's shift of ``shift.day`` replaced by ``shift``."""
    return dataclasses.replace(
        problem,
        engineers=tuple(
            dataclasses.replace(
                e, shifts=tuple(shift if s.day == shift.day else s for s in e.shifts)
            )
            if e.id == engineer_id
            else e
            for e in problem.engineers
        ),
    )


def _fit_shift(problem: Problem, engineer_id: str, shift: Shift, job_id: str) -> Shift:
    try:
        route, _ = plan_route(problem, engineer_id, shift.day, [job_id])
    except ValueError:
        return shift
    brk = shift.break_
    if (
        brk is not None
        and route.break_start is not None
        and route.break_start + brk.duration_s > brk.latest_end
    ):
        shift = dataclasses.replace(shift, break_=None)
        route, _ = plan_route(
            _with_shift(problem, engineer_id, shift), engineer_id, shift.day, [job_id]
        )
    if route.end_time > shift.end:
        shift = dataclasses.replace(shift, end=route.end_time)
    if shift.max_work_s is not None and route.work_s > shift.max_work_s:
        shift = dataclasses.replace(shift, max_work_s=route.work_s)
    return shift


def _without_absent_engineers(
    job: Job, snap: JobSnap, working: dict[str, Engineer], now_s: int
) -> tuple[Job | None, Note | None]:
    """Drop what a job says of an engineer who has no shift in the horizon (on leave, a day
    off, deactivated): a visit under way with an engineer not at work now (or finishing their
    day with it) stays out of the plan as it is, a lock to them is broken (the visit is
    re-planned), and their previous assignment is forgotten."""
    ip = job.in_progress
    if ip is not None:
        engineer = working.get(ip.engineer_id)
        if engineer is None or not any(sh.start <= now_s <= sh.end for sh in engineer.shifts):
            return None, Note(
                snap.request_id,
                "left_as_is",
                f"{snap.external_ref} is under way with an engineer who is off shift: left as it "
                "is",
            )
    note = None
    lock = job.lock
    if lock is not None and lock.engineer_id is not None and lock.engineer_id not in working:
        if snap.visit is not None and snap.visit.lock != LockKind.NONE.value:
            note = Note(
                snap.request_id,
                "lock_broken",
                f"{snap.external_ref} was locked to an engineer who does not work in the "
                "horizon: the lock is released and the visit re-planned",
            )
        job = dataclasses.replace(job, lock=None)
    if job.previous is not None and job.previous.engineer_id not in working:
        job = dataclasses.replace(job, previous=None)
    return job, note


def _engineer(
    e: EngineerSnap,
    snapshot: Snapshot,
    points: _Points,
    sec: Seconds,
    now_s: int,
    busy: JobSnap | None,
) -> Engineer | None:
    home = points(e.home)

    def night(day: date) -> int | None:
        """Where the engineer sleeps after ``day``: a published trip's lodging, unless the run
        decides that night (inside its horizon)."""
        stay = e.nights.get(day)
        if stay is None or (
            snapshot.decide_nights and snapshot.horizon_start <= day < snapshot.horizon_end
        ):
            return None
        return points(stay.point)

    shifts = []
    finishing = _busy_until(busy, sec, now_s) if busy is not None else None
    today = snapshot.now.astimezone(ZoneInfo(snapshot.timezone)).date()
    for s in e.shifts:
        start, end = sec(s.start), sec(s.end)
        if end <= now_s:
            continue  # already over
        if busy is not None and s.date == today and start > now_s:
            # Under way before today's shift starts: the engineer began the day early, and
            # it runs from now (their visit is timed from where they are, not from the start).
            start = now_s
        if finishing is not None and start <= now_s and end < finishing:
            # The visit under way will run past this shift's end: the engineer finishes it
            # and their day; the plan leaves both as they are.
            continue
        start = max(start, now_s)
        brk = None
        if s.break_minutes and s.break_start and s.break_end:
            # No break during the visit under way: it can only come after it (or not at all
            # today, when its window closes first).
            free = finishing if finishing is not None and start <= now_s else start
            earliest, latest = max(sec(s.break_start), start, free), min(sec(s.break_end), end)
            if latest - earliest >= s.break_minutes * 60:
                brk = Break(earliest, latest, s.break_minutes * 60)
        before, after = night(s.date - timedelta(days=1)), night(s.date)
        shifts.append(
            Shift(
                day=(s.date - snapshot.horizon_start).days,
                start=start,
                end=end,
                start_location=home if before is None else before,
                end_location=home if after is None else after,
                break_=brk,
                max_work_s=e.max_work_minutes * 60,
                max_visits=e.max_visits,
            )
        )
    if not shifts:
        return None
    current = None
    # The optimiser needs the engineer's position inside a shift while a visit is under way.
    inside = next((sh for sh in shifts if sh.start <= now_s <= sh.end), None)
    at = now_s if inside is not None else min(sh.start for sh in shifts)
    on_site = busy is not None and busy.visit is not None and busy.visit.status == "arrived"
    if on_site:
        assert busy is not None
        current = CurrentPosition(points(busy.site), at)
    elif e.position is not None and inside is not None:
        current = CurrentPosition(points(e.position[:2]), now_s)
    elif busy is not None:
        first = min(shifts, key=lambda sh: sh.start)
        current = CurrentPosition(first.start_location, at)
    return Engineer(
        id=engineer_key(e.id),
        skills=e.skills,
        shifts=tuple(shifts),
        capacity=e.capacity,
        current=current,
    )


# Room left for the drive to a site the engineer is on the way to when the visit has no ETA
# (the snapshot has no matrix), and for the rest of the drive once its ETA has passed.
EN_ROUTE_ALLOWANCE_S = 45 * 60
OVERDUE_ALLOWANCE_S = 10 * 60


def _busy_until(busy: JobSnap, sec: Seconds, now_s: int) -> int:
    """When the visit under way will be done, as far as the snapshot can tell."""
    visit = busy.visit
    service = busy.service_minutes * 60
    if visit is not None and visit.status == VisitStatus.ARRIVED.value and visit.arrived_at:
        return max(now_s, sec(visit.arrived_at) + service)
    if visit is not None and visit.eta is not None:
        # On the way: the live ETA says when the work can begin (a long out-of-town drive
        # takes more than any fixed allowance).
        return max(sec(visit.eta), now_s + OVERDUE_ALLOWANCE_S) + service
    return now_s + EN_ROUTE_ALLOWANCE_S + service


PRIORITY = {"urgent": Priority.URGENT, "important": Priority.IMPORTANT, "general": Priority.GENERAL}


def _job(
    j: JobSnap,
    snapshot: Snapshot,
    points: _Points,
    sec: Seconds,
    now_s: int,
    horizon_end_s: int,
    freeze: timedelta,
    history: bool,
    pin: datetime | None = None,
) -> Job:
    visit = j.visit
    in_progress = None
    windows: tuple[TimeWindow, ...] = ()
    lock = None
    service_s = j.service_minutes * 60
    if visit is not None and visit.status in (
        VisitStatus.EN_ROUTE.value,
        VisitStatus.ARRIVED.value,
    ):
        on_site = visit.status == VisitStatus.ARRIVED.value
        started = sec(visit.arrived_at) if on_site and visit.arrived_at else None
        in_progress = InProgress(
            engineer_id=engineer_key(visit.engineer_id),
            status=OptVisitStatus.ON_SITE if on_site else OptVisitStatus.EN_ROUTE,
            started_at=started,
        )
        if started is not None:
            # Work running over its planned time is not done yet: it lasts at least until
            # now (as ``_busy_until`` says), so nothing after it is timed to leave in the past.
            service_s = max(service_s, now_s - started)
    else:
        # The promised window opens the door (the customer expects us from its start on);
        # availability windows are hard; nothing can start in the past.
        floor = max(sec(j.window_start), now_s)
        spans = j.availability or ((j.window_start, None),)
        found = []
        for s, e in spans:
            lo = max(sec(s), floor)
            hi = sec(e) if e is not None else max(horizon_end_s, lo)
            if hi >= lo:
                found.append(TimeWindow(lo, hi))
        # No window left (the customer's availability has passed): an instant no shift reaches,
        # so the job comes back unassigned with the optimiser's reason.
        windows = tuple(_merge(found)) if found else (TimeWindow(0, 0),)
        lock = _lock(j, snapshot, sec, freeze) if history else None
        if not history:
            if visit is not None and visit.lock in (LockKind.TIME.value, LockKind.BOTH.value):
                pin = pin or visit.locked_arrival
            if pin is not None:
                windows = _pinned(windows, max(sec(pin), now_s))
    previous = None
    day = None if visit is None else (visit.date - snapshot.horizon_start).days
    if visit is not None and day is not None and 0 <= day < snapshot.days and history:
        previous = Assignment(engineer_key(visit.engineer_id), day, visit.sequence)
    return Job(
        id=job_key(j.request_id),
        location=points(j.site),
        service_s=service_s,
        demand=j.parts_volume,
        windows=windows,
        promise_due=sec(j.plan_by if j.plan_by is not None else j.window_end),
        priority=PRIORITY.get(j.tier, Priority.GENERAL),
        skills=j.skills,
        lock=lock,
        in_progress=in_progress,
        # Stability holds what an engineer has been shown (a published or dispatcher's visit,
        # or one accepted), not intake's own reservations.
        promised=visit is not None
        and history
        and not (visit.reserved and visit.status == VisitStatus.PLANNED.value),
        previous=previous,
        # Whoever declined the visit is not given it again; a dispatcher who put it back on
        # their route since (a manual assignment) has the last word.
        declined_by=frozenset(
            engineer_key(e) for e in j.declined_by if visit is None or e != visit.engineer_id
        ),
    )


def _merge(windows: list[TimeWindow]) -> list[TimeWindow]:
    windows.sort(key=lambda w: w.start)
    merged: list[TimeWindow] = []
    for w in windows:
        if merged and w.start <= merged[-1].end:
            merged[-1] = TimeWindow(merged[-1].start, max(merged[-1].end, w.end))
        else:
            merged.append(w)
    return merged


def _pinned(windows: tuple[TimeWindow, ...], start: int) -> tuple[TimeWindow, ...]:
    """The windows from ``start`` on: a visit kept at a time starts then or, when the engineer
    gets there later, on arrival. Past every window the visit can start only at ``start``."""
    kept = tuple(TimeWindow(max(w.start, start), w.end) for w in windows if w.end >= start)
    return kept or (TimeWindow(start, start),)


def _lock(j: JobSnap, snapshot: Snapshot, sec: Seconds, freeze: timedelta) -> Lock | None:
    visit = j.visit
    if visit is None:
        return None
    engineer = None
    start = None
    if visit.lock in (LockKind.ENGINEER.value, LockKind.BOTH.value):
        engineer = engineer_key(visit.engineer_id)
    if visit.lock in (LockKind.TIME.value, LockKind.BOTH.value) and visit.locked_arrival:
        start = sec(visit.locked_arrival)
    late = visit.eta is not None and visit.eta > j.window_end
    if visit.planned_arrival - snapshot.now < freeze and not late:
        # Inside the freeze horizon the engineer is already on their way in their head: keep
        # them, unless their ETA is past the window (then another engineer may keep it).
        engineer = engineer_key(visit.engineer_id)
    if engineer is None and start is None:
        return None
    return Lock(engineer_id=engineer, start=start)
