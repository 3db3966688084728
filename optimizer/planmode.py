"""Plan mode: recompute ETAs along a fixed sequence after a progress report, without solving."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from optimizer.eligibility import RouteSlot, route_slots
from optimizer.problem import Problem
from optimizer.schedule import build_route, forward_times
from optimizer.solution import Route


def plan_route(
    problem: Problem,
    engineer_id: str,
    day: int,
    job_ids: Sequence[str],
    *,
    location: int | None = None,
    time: int | None = None,
    break_taken: bool = False,
    slots: Sequence[RouteSlot] | None = None,
) -> tuple[Route, tuple[str, ...]]:
    """Return the route through ``job_ids`` in this order, with earliest ETAs.

    Parameters
    ----------
    problem
        The problem holding the jobs, the engineer and the matrices.
    engineer_id, day
        The engineer-day.
    job_ids
        The fixed visiting order.
    location, time
        Current position and time of the engineer; default: the engineer's
        :attr:`~optimizer.problem.Engineer.current` for its current shift, else the shift start.
    break_taken
        Whether the break is already behind the engineer.
    slots
        Route slots of the problem, when the caller already has them.

    Returns
    -------
    route, missed
        The timed route, and the ids of the jobs whose windows can no longer be met (their
        service is then timed at arrival).

    Raises
    ------
    ValueError
        When the engineer-day or a job id is unknown.
    """
    eng = problem.engineer(engineer_id)
    if eng is None:
        raise ValueError(f"engineer_id: unknown engineer {engineer_id!r}")
    all_slots = slots if slots is not None else route_slots(problem)
    slot = next(
        (
            s
            for s in all_slots
            if problem.engineers[s.engineer].id == engineer_id and eng.shifts[s.shift].day == day
        ),
        None,
    )
    if slot is None:
        raise ValueError(f"day: engineer {engineer_id!r} has no usable shift on day {day}")
    jobs = []
    for job_id in job_ids:
        job = problem.job(job_id)
        if job is None:
            raise ValueError(f"job_ids: unknown job {job_id!r}")
        jobs.append(job)
    if location is not None:
        slot = dataclasses.replace(slot, start_location=location)
    if time is not None:
        slot = dataclasses.replace(slot, start_time=time)
    starts, break_start, missed = forward_times(
        problem, slot, jobs, slot.start_time, break_taken=break_taken
    )
    if break_taken:
        slot = dataclasses.replace(slot, break_=None)
    route = build_route(problem, slot, jobs, starts, slot.start_time, break_start)
    return route, tuple(j.id for j, m in zip(jobs, missed, strict=True) if m)
