"""Route slots (one per engineer-shift), skill eligibility and pre-solve reasons.

Everything here is pure Python and shared by the model builder, the insertion helper and the
plan extraction, so that they agree on what a route may do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from optimizer.params import Weights
from optimizer.problem import Break, Engineer, Job, Problem, Shift, VisitStatus


class Reason(StrEnum):
    """Why a job is not in the plan."""

    SKILL = "skill"
    """No engineer has a required skill at the required level."""
    NO_SHIFT = "no_shift"
    """No shift of an eligible engineer overlaps the customer's windows."""
    UNREACHABLE = "unreachable"
    """No eligible shift can reach the site, serve it and return within its hours."""
    CAPACITY = "capacity"
    """The job's demand exceeds every eligible engineer's van capacity."""
    LOCK = "lock"
    """The dispatcher's lock cannot be honoured (engineer, day or time)."""
    FULL = "full"
    """Every eligible engineer-day is full (time, visits, working time, load, break)."""
    LATE = "late"
    """Every eligible engineer could only arrive later than the allowed lateness."""
    COST = "cost"
    """Serving the job would cost more (lateness, travel) than its drop penalty."""
    DECLINED = "declined"
    """Every qualified engineer declined the visit."""


@dataclass(frozen=True, slots=True)
class RouteSlot:
    """One engineer-shift, i.e. one route, with its effective start after re-planning.

    Parameters
    ----------
    engineer
        Index of the engineer in :attr:`Problem.engineers`.
    shift
        Index of the shift in the engineer's :attr:`Engineer.shifts`.
    start_location, start_time
        Where and when the route may start (the current position for re-planning).
    end_location, end_time
        Where the route ends and the latest arrival there.
    break_
        The shift's break, if any.
    max_work_s, max_visits, capacity
        Limits of the shift and van; ``None`` for no limit.
    """

    engineer: int
    shift: int
    start_location: int
    start_time: int
    end_location: int
    end_time: int
    break_: Break | None
    max_work_s: int | None
    max_visits: int | None
    capacity: int | None


def slot_shape(slot: RouteSlot) -> RouteSlot:
    """The slot without its engineer and shift: equal shapes give identical empty routes
    (start, end, times, limits, break), whoever the engineer is."""
    return replace(slot, engineer=0, shift=0)


def route_slots(problem: Problem) -> list[RouteSlot]:
    """Return the usable engineer-shifts of a problem, in engineer then shift-start order.

    A shift that ended before the engineer's current time is not usable and is left out; the
    current position replaces the start of the shift it falls in (or the next one). A visit
    under way is a fact the plan keeps: when finishing it (and the break) and driving to the
    end of the day takes the engineer past the shift's end, that day ends when they can be
    back, and nothing else fits in it.
    """
    under_way = {j.in_progress.engineer_id: j for j in problem.jobs if j.in_progress is not None}
    slots: list[RouteSlot] = []
    for e, eng in enumerate(problem.engineers):
        current_idx = eng.current_shift_index()
        order = sorted(range(len(eng.shifts)), key=lambda i: eng.shifts[i].start)
        for s in order:
            shift = eng.shifts[s]
            start_location, start_time = shift.start_location, shift.start
            end_time = shift.end
            if eng.current is not None:
                if shift.end < eng.current.time:
                    continue
                if s == current_idx:
                    start_location = eng.current.location
                    start_time = max(shift.start, eng.current.time)
                    busy = under_way.get(eng.id)
                    if busy is not None:
                        end_time = max(end_time, _back_after(problem, eng, shift, busy))
            slots.append(
                RouteSlot(
                    engineer=e,
                    shift=s,
                    start_location=start_location,
                    start_time=start_time,
                    end_location=shift.end_location,
                    end_time=end_time,
                    break_=shift.break_,
                    max_work_s=shift.max_work_s,
                    max_visits=shift.max_visits,
                    capacity=eng.capacity,
                )
            )
    return slots


def _back_after(problem: Problem, eng: Engineer, shift: Shift, busy: Job) -> int:
    """The earliest time the engineer can end the day after the visit under way."""
    assert eng.current is not None and busy.in_progress is not None
    dur = problem.durations
    ip, now = busy.in_progress, eng.current.time
    if ip.status is VisitStatus.ON_SITE and ip.started_at is not None:
        done = max(now, ip.started_at + busy.service_s)
    else:
        done = now + dur[eng.current.location][busy.location] + busy.service_s
    rest = shift.break_.duration_s if shift.break_ is not None else 0
    return done + rest + dur[busy.location][shift.end_location]


def is_qualified(engineer: Engineer, job: Job) -> bool:
    """Return whether the engineer has every skill the job needs at the required level."""
    skills = engineer.skills
    return all(skills.get(name, 0) >= level for name, level in job.skills.items())


def over_qualification(engineer: Engineer, job: Job) -> int:
    """Return the sum over the job's required skills of the levels the engineer has in excess."""
    return sum(engineer.skills.get(name, 0) - level for name, level in job.skills.items())


def _lock_allows(problem: Problem, job: Job, slot: RouteSlot) -> bool:
    eng = problem.engineers[slot.engineer]
    if job.in_progress is not None:
        return eng.id == job.in_progress.engineer_id and slot.shift == eng.current_shift_index()
    lock = job.lock
    if lock is None or lock.engineer_id is None:
        return True
    if eng.id != lock.engineer_id:
        return False
    return lock.day is None or eng.shifts[slot.shift].day == lock.day


def start_bounds(job: Job, weights: Weights | None) -> tuple[int | None, int | None]:
    """Return the earliest and latest allowed service start from windows, lock and lateness cap.

    ``None`` means unbounded on that side; ``weights=None`` leaves the lateness cap out. An
    on-site visit is pinned to its start; an en-route visit happens whatever its windows say,
    so only lateness is accounted for it.
    """
    if job.in_progress is not None:
        if job.in_progress.status is VisitStatus.ON_SITE:
            return job.in_progress.started_at, job.in_progress.started_at
        return None, None
    windows = job.windows
    lo = windows[0].start if windows else None
    hi = windows[-1].end if windows else None
    lock = job.lock
    if lock is not None and lock.start is not None:
        lo = lock.start if lo is None else max(lo, lock.start)
        hi = lock.start if hi is None else min(hi, lock.start)
    cap = None if weights is None else weights.max_lateness_s
    if job.promise_due is not None and cap is not None:
        hi = job.promise_due + cap if hi is None else min(hi, job.promise_due + cap)
    return lo, hi


def earliest_feasible_start(job: Job, t: int) -> int | None:
    """Return the earliest time >= ``t`` inside one of the job's windows (``t`` without windows),
    and not before a dispatcher's locked start: an engineer early for it waits."""
    if job.lock is not None and job.lock.start is not None:
        t = max(t, job.lock.start)
    if not job.windows:
        return t
    for w in job.windows:
        if t <= w.end:
            return max(t, w.start)
    return None


def lone_visit_fits(problem: Problem, job: Job, slot: RouteSlot, weights: Weights | None) -> bool:
    """Return whether the slot could serve this job as its only visit (ignoring the break)."""
    dur = problem.durations
    lo, hi = start_bounds(job, weights)
    if job.in_progress is not None and job.in_progress.status is VisitStatus.ON_SITE:
        start = job.in_progress.started_at
        assert start is not None
    else:
        arrive = slot.start_time + dur[slot.start_location][job.location]
        if lo is not None:
            arrive = max(arrive, lo)
        first = arrive if job.in_progress is not None else earliest_feasible_start(job, arrive)
        if first is None or (hi is not None and first > hi):
            return False
        start = first
    back = start + job.service_s + dur[job.location][slot.end_location]
    if back > slot.end_time:
        return False
    work = (
        dur[slot.start_location][job.location]
        + job.service_s
        + dur[job.location][slot.end_location]
    )
    return slot.max_work_s is None or work <= slot.max_work_s


def _fits_capacity(job: Job, capacity: int | None) -> bool:
    return capacity is None or job.demand <= capacity


def _overlaps(job: Job, slot: RouteSlot) -> bool:
    if not job.windows:
        return True
    return any(w.end >= slot.start_time and w.start <= slot.end_time for w in job.windows)


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Outcome of the pre-solve checks for one job.

    Parameters
    ----------
    slots
        Indices into the route slots that may serve the job.
    reason, message
        Why no slot may serve it (both ``None`` when ``slots`` is not empty).
    """

    slots: tuple[int, ...]
    reason: Reason | None = None
    message: str | None = None


def check_job(problem: Problem, job: Job, slots: list[RouteSlot], weights: Weights) -> Eligibility:
    """Return the slots that may serve ``job``, or the first reason none can.

    Checks run from the most to the least fundamental, so that the reason names the real
    obstacle: skills, lock, capacity, shift overlap, then reachability.
    """
    engineers = problem.engineers
    qualified = {e for e, eng in enumerate(engineers) if is_qualified(eng, job)}
    if not qualified:
        missing = []
        for name, level in job.skills.items():
            if not any(eng.skills.get(name, 0) >= level for eng in engineers):
                missing.append(f"{name} at level {level}")
        detail = ", ".join(missing) if missing else "this combination of skills"
        return Eligibility((), Reason.SKILL, f"no engineer has {detail}")
    if job.declined_by:
        qualified = {e for e in qualified if engineers[e].id not in job.declined_by}
        if not qualified:
            return Eligibility(
                (), Reason.DECLINED, "every engineer qualified for the visit has declined it"
            )
    candidates = [i for i, s in enumerate(slots) if s.engineer in qualified]
    locked = [i for i in candidates if _lock_allows(problem, job, slots[i])]
    if not locked:
        who = (
            job.in_progress.engineer_id
            if job.in_progress is not None
            else (job.lock.engineer_id if job.lock is not None else None)
        )
        return Eligibility(
            (), Reason.LOCK, f"the locked engineer {who!r} is not qualified or has no shift"
        )
    lo, hi = start_bounds(job, weights)
    if lo is not None and hi is not None and lo > hi:
        return Eligibility(
            (), Reason.LOCK, "the locked time is outside the customer's windows or lateness cap"
        )
    sized = [i for i in locked if _fits_capacity(job, slots[i].capacity)]
    if not sized:
        return Eligibility(
            (), Reason.CAPACITY, f"demand {job.demand} exceeds every eligible van's capacity"
        )
    visits = [i for i in sized if slots[i].max_visits != 0]
    if not visits:
        return Eligibility((), Reason.FULL, "every eligible engineer-day allows no visits")
    overlapping = [i for i in visits if _overlaps(job, slots[i])]
    if not overlapping:
        return Eligibility(
            (),
            Reason.NO_SHIFT,
            "no shift of an eligible engineer overlaps the customer's windows within the horizon",
        )
    fitting = [i for i in overlapping if lone_visit_fits(problem, job, slots[i], weights)]
    if not fitting:
        late_only = (
            hi is not None
            and job.promise_due is not None
            and any(lone_visit_fits(problem, job, slots[i], None) for i in overlapping)
        )
        if late_only and weights.max_lateness_s is not None:
            return Eligibility(
                (), Reason.LATE, "every eligible engineer would be later than the allowed lateness"
            )
        return Eligibility(
            (),
            Reason.UNREACHABLE,
            "no eligible engineer-day can reach the site within the customer's windows and "
            "return within the shift",
        )
    return Eligibility(tuple(fitting))
