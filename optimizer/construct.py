"""Onsite's own construction of a first plan: cheapest feasible insertion, hardest jobs first.

OR-Tools' first-solution strategies leave many jobs out when windows are tight and fleets are
fixed; inserting jobs one by one, most constrained first, into the cheapest feasible position
of any route serves far more of them, and the search then starts from a good plan.
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.costs import drop_penalty
from optimizer.eligibility import RouteSlot
from optimizer.insertion import cheapest_insertion, empty_stops, sequence_stops
from optimizer.params import Weights
from optimizer.problem import Job, Priority, Problem


def _difficulty(
    problem: Problem, j: int, candidates: dict[int, tuple[int, ...]]
) -> tuple[bool, bool, int, int, int, str]:
    job = problem.jobs[j]
    # In-progress visits first (they are fixed), then urgent jobs, then the jobs with the
    # fewest engineer-days and the earliest deadline (window end or promise).
    latest = job.latest_start()
    if job.promise_due is not None:
        latest = job.promise_due if latest is None else min(latest, job.promise_due)
    width = (latest - (job.earliest_start() or 0)) if latest is not None else 2**62
    return (
        job.in_progress is None,
        job.priority is not Priority.URGENT,
        len(candidates[j]),
        latest if latest is not None else 2**62,
        width,
        job.id,
    )


def construct_routes(
    problem: Problem,
    slots: Sequence[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    weights: Weights,
    start: Sequence[Sequence[int | None]] | None = None,
) -> list[list[int | None]]:
    """Return job indices per slot, from cheapest feasible insertion of each job in turn.

    Parameters
    ----------
    problem
        The problem.
    slots
        The route slots.
    candidates
        For each job index to plan, the slots allowed to serve it.
    weights
        Objective weights (insertion costs use them).
    start
        Feasible routes to insert into (breaks marked); their jobs are not inserted again.
        Empty routes by default.

    Returns
    -------
    list of list
        Job indices in visiting order for each slot, ``None`` marking where the break is
        taken; jobs that fit nowhere are left out.
    """
    if start is None:
        sequences: list[list[int | None]] = [
            [None] if slot.break_ is not None else [] for slot in slots
        ]
        stops = [empty_stops(problem, slot, weights) for slot in slots]
    else:
        sequences = [list(seq) for seq in start]
        stops = [
            sequence_stops(
                problem, slot, [None if k is None else problem.jobs[k] for k in seq], weights
            )
            for slot, seq in zip(slots, sequences, strict=True)
        ]
    placed = {j for seq in sequences for j in seq if j is not None}
    order = sorted(
        (j for j in candidates if j not in placed),
        key=lambda j: _difficulty(problem, j, candidates),
    )
    for j in order:
        job = problem.jobs[j]
        best = cheapest_insertion(problem, slots, stops, job, weights, candidates[j])
        if best is None or best[0] >= drop_penalty(job, weights):
            continue
        _, v, p = best
        sequences[v].insert(p, j)
        jobs: list[Job | None] = [None if k is None else problem.jobs[k] for k in sequences[v]]
        stops[v] = sequence_stops(problem, slots[v], jobs, weights)
    return sequences
