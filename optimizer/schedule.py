"""Timing of a route: ETAs, waits and the break, from solver times or a forward pass.

Shared by the plan extraction of :func:`optimizer.solve` and by plan mode, so both report
times the same way: the arrival is the departure from the previous stop plus the travel, plus
the break when the break starts before the engineer would have arrived.
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.eligibility import RouteSlot, earliest_feasible_start
from optimizer.problem import Job, Problem, VisitStatus
from optimizer.solution import Route, Visit


def build_route(
    problem: Problem,
    slot: RouteSlot,
    jobs: Sequence[Job],
    starts: Sequence[int],
    departure: int,
    break_start: int | None,
) -> Route:
    """Return the :class:`Route` for given service starts, departure and break start.

    Parameters
    ----------
    problem
        The problem (matrices).
    slot
        The route slot.
    jobs
        Jobs in visiting order.
    starts
        Service start of each job.
    departure
        Departure from the start location.
    break_start
        Start of the break, or ``None`` when there is no break.
    """
    dur, dist = problem.durations, problem.distances
    eng = problem.engineers[slot.engineer]
    brk = slot.break_
    b_start = break_start if brk is not None else None
    b_len = brk.duration_s if brk is not None else 0
    visits = []
    prev_loc, prev_dep = slot.start_location, departure
    travel_total = dist_total = service_total = load = 0
    for job, start in zip(jobs, starts, strict=True):
        leave = prev_dep
        if b_start is not None and prev_dep <= b_start < prev_dep + dur[prev_loc][job.location]:
            leave = b_start + b_len  # the break is taken before setting off
        travel = eng.leg_duration(dur[prev_loc][job.location], leave)
        arrival = prev_dep + travel
        waiting = start - arrival
        if b_start is not None and prev_dep <= b_start and b_start + b_len <= start:
            if b_start < arrival:
                arrival += b_len
                waiting = start - arrival
            else:
                waiting -= b_len
        ip = job.in_progress
        if ip is not None and ip.status is VisitStatus.ON_SITE:
            arrival, waiting = start, 0
        lateness = 0 if job.promise_due is None else max(0, start - job.promise_due)
        departure_job = start + job.service_s
        visits.append(
            Visit(
                job_id=job.id,
                arrival=arrival,
                start=start,
                departure=departure_job,
                waiting_s=max(0, waiting),
                lateness_s=lateness,
                travel_s=travel,
                distance=dist[prev_loc][job.location],
            )
        )
        travel_total += travel
        dist_total += dist[prev_loc][job.location]
        service_total += job.service_s
        load += job.demand
        prev_loc, prev_dep = job.location, departure_job
    travel = eng.leg_duration(dur[prev_loc][slot.end_location], prev_dep)
    end = prev_dep + travel
    if b_start is not None and prev_dep <= b_start and b_start < end:
        end += b_len
    travel_total += travel
    dist_total += dist[prev_loc][slot.end_location]
    return Route(
        engineer_id=eng.id,
        day=eng.shifts[slot.shift].day,
        start_location=slot.start_location,
        end_location=slot.end_location,
        start_time=departure,
        end_time=end,
        visits=tuple(visits),
        break_start=b_start,
        break_end=None if b_start is None else b_start + b_len,
        travel_s=travel_total,
        distance=dist_total,
        service_s=service_total,
        work_s=end - departure,
        load=load,
    )


def forward_times(
    problem: Problem,
    slot: RouteSlot,
    jobs: Sequence[Job],
    start_time: int,
    break_taken: bool = False,
) -> tuple[list[int], int | None, list[bool]]:
    """Earliest service starts along a fixed sequence, with a greedy break.

    Parameters
    ----------
    problem
        The problem (matrices).
    slot
        The route slot (start location, break).
    jobs
        Jobs in visiting order.
    start_time
        Departure from the slot's start location.
    break_taken
        Whether the break is already behind the engineer.

    Returns
    -------
    starts, break_start, window_missed
        The service starts, when the break is taken (``None`` if not in this route) and for
        each job whether no window could be met any more (the start is then the arrival).
    """
    dur = problem.durations
    eng = problem.engineers[slot.engineer]
    brk = None if break_taken else slot.break_
    starts: list[int] = []
    missed: list[bool] = []
    break_start: int | None = None
    loc, t = slot.start_location, start_time
    for job in jobs:
        ip = job.in_progress
        if ip is not None and ip.status is VisitStatus.ON_SITE and ip.started_at is not None:
            starts.append(ip.started_at)
            missed.append(False)
            loc, t = job.location, ip.started_at + job.service_s
            continue
        travel = eng.leg_duration(dur[loc][job.location], t)
        if brk is not None and break_start is None and ip is None:
            # Take the break now if it is open, or if serving this job would push past its
            # latest start: a greedy rule that never postpones the break beyond its window.
            # Never before a visit under way: the engineer is already on the road to it.
            would_start = earliest_feasible_start(job, t + travel)
            would_end = (t + travel if would_start is None else would_start) + job.service_s
            if t >= brk.earliest_start or would_end > brk.latest_start:
                break_start = max(t, brk.earliest_start)
                t = break_start + brk.duration_s
                travel = eng.leg_duration(dur[loc][job.location], t)
        arrival = t + travel
        start = earliest_feasible_start(job, arrival)
        missed.append(start is None)
        start = arrival if start is None else start
        starts.append(start)
        loc, t = job.location, start + job.service_s
    if brk is not None and break_start is None:
        break_start = max(t, brk.earliest_start)
    return starts, break_start, missed
