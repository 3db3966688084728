"""The objective, term by term: the one definition every phase of the search prices plans with.

A plan costs the travel (time and distance) of every leg, door to door; the lateness of each
visit past its promise, weighted by priority; a per-assignment cost (engineers more qualified
than needed, and moving a promised visit away from its previous engineer-day); and a penalty
for each job left out. Construction, ruin-and-recreate, OR-Tools' model and the final
comparison of phases all use these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from optimizer.eligibility import RouteSlot, over_qualification
from optimizer.params import Weights
from optimizer.problem import Engineer, Job, Problem


def drop_penalty(job: Job, weights: Weights) -> int:
    """Return the cost of leaving ``job`` out of the plan.

    Parameters
    ----------
    job
        The job.
    weights
        Objective weights; their per-priority penalty applies unless the job has its own.
    """
    if job.drop_penalty is not None:
        return job.drop_penalty
    return weights.drop_per_priority[job.priority]


def stability_cost(job: Job, engineer_id: str, day: int, weights: Weights) -> int:
    """Return the stability penalty of serving ``job`` on this engineer-day.

    A promised job (one the customer has been told about) that moves away from its previous
    engineer-day costs :attr:`~optimizer.params.Weights.stability`.
    """
    prev = job.previous
    if job.promised and prev is not None and (prev.engineer_id, prev.day) != (engineer_id, day):
        return weights.stability
    return 0


def assignment_cost(job: Job, engineer: Engineer, day: int, weights: Weights) -> int:
    """Return what serving ``job`` by ``engineer`` on ``day`` costs whatever the order:
    over-qualification and stability."""
    cost = stability_cost(job, engineer.id, day, weights)
    if job.skills:
        cost += weights.over_qualification_per_level * max(0, over_qualification(engineer, job))
    return cost


def lateness_cost(job: Job, start: int, weights: Weights) -> int:
    """Return the priority-weighted lateness of starting ``job`` at ``start``."""
    if job.promise_due is None or start <= job.promise_due:
        return 0
    return weights.lateness_per_s[job.priority] * (start - job.promise_due)


def route_cost(
    problem: Problem,
    slot: RouteSlot,
    sequence: Sequence[int | None],
    starts: Sequence[int],
    weights: Weights,
    fixed: Callable[[int], int] | None = None,
) -> tuple[int, list[int]]:
    """Return the cost of one route and the jobs it serves late.

    Parameters
    ----------
    problem
        The problem.
    slot
        The engineer-day.
    sequence
        Job indices in visiting order; ``None`` entries (the break) are skipped.
    starts
        Service start of each entry of ``sequence`` (entries for ``None`` are ignored).
    weights
        Objective weights.
    fixed
        The :func:`assignment_cost` of a job index on this route, when the caller caches it.
    """
    if all(j is None for j in sequence):
        return 0, []
    dur, dist = problem.durations, problem.distances
    w_t, w_d = weights.travel_per_s, weights.distance_per_unit
    eng = problem.engineers[slot.engineer]
    day = eng.shifts[slot.shift].day
    loc = slot.start_location
    cost = 0
    late: list[int] = []
    for j, start in zip(sequence, starts, strict=True):
        if j is None:
            continue
        job = problem.jobs[j]
        cost += w_t * dur[loc][job.location] + w_d * dist[loc][job.location]
        if job.promise_due is not None and start > job.promise_due:
            cost += weights.lateness_per_s[job.priority] * (start - job.promise_due)
            late.append(j)
        cost += fixed(j) if fixed is not None else assignment_cost(job, eng, day, weights)
        loc = job.location
    cost += w_t * dur[loc][slot.end_location] + w_d * dist[loc][slot.end_location]
    return cost, late


__all__ = [
    "assignment_cost",
    "drop_penalty",
    "lateness_cost",
    "route_cost",
    "stability_cost",
]
