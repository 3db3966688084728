"""The compiled search core (:mod:`optimizer._core`, C++): packing a problem for it and running it.

The core runs the same ruin-and-recreate as :mod:`optimizer.search` (which stays the reference
implementation: the tests cross-check the two on random instances, move by move), about a
hundred times faster. Python packs the problem once into flat arrays (travel matrices, each
job's windows, start bounds and lateness weight, each engineer-day's limits and break, the
eligible engineer-days of each job with the fixed cost of each), the core searches without
holding the GIL, and the plan comes back as job sequences, ``None`` marking the break.

The core adds what the Python search does not have: a local search (relocate, swap, 2-opt*
and 2-opt between nearest neighbours, first improvement) over the routes of every new best
plan and of one ruin-and-recreate iteration in ten. It prices a move from the arcs it changes
and times it in full only when that price is lower (or lateness could fall), so it keeps
every field constraint; ``Core.local_search`` runs it alone, for the tests.

With ``threads`` > 1, independent searches with different seeds run side by side in epochs;
after each epoch every search restarts from the best plan found so far, and the annealing
schedule carries on where the epoch left it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from optimizer.costs import assignment_cost, drop_penalty
from optimizer.eligibility import RouteSlot, slot_shape, start_bounds
from optimizer.params import Weights
from optimizer.problem import Problem, VisitStatus
from optimizer.search import ANNEAL_END, ANNEAL_START, _repair_late, check_schedule, with_break

try:
    from optimizer import _core
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "optimizer._core, Onsite's compiled search core, is not built: install the package "
        "with a C++ compiler present (`make install`, or `pip install -e .`)"
    ) from exc

_NONE = _core.NONE
# Epochs of a multi-threaded search: enough to share good plans, few enough that each search
# has time to go its own way.
_EPOCHS = 4

Sequences = list[list[int | None]]


def _opt(value: int | None) -> int:
    return _NONE if value is None else value


def pack(
    problem: Problem,
    slots: Sequence[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    weights: Weights,
) -> _core.Core:
    """Return the problem as the compiled core holds it.

    Parameters
    ----------
    problem, slots, candidates, weights
        As for :func:`optimizer.search.ruin_and_recreate`; jobs outside ``candidates`` are
        never planned.
    """
    jobs = problem.jobs
    windows: list[int] = [0]
    w_start: list[int] = []
    w_end: list[int] = []
    lo: list[int] = []
    hi: list[int] = []
    hi_uncapped: list[int] = []
    progress: list[int] = []
    started: list[int] = []
    for job in jobs:
        for w in job.windows:
            w_start.append(w.start)
            w_end.append(w.end)
        windows.append(len(w_start))
        low, high = start_bounds(job, weights)
        lo.append(_opt(low))
        hi.append(_opt(high))
        hi_uncapped.append(_opt(start_bounds(job, None)[1]))
        ip = job.in_progress
        if ip is None:
            progress.append(0)
            started.append(_NONE)
        elif ip.status is VisitStatus.ON_SITE:
            progress.append(2)
            started.append(_opt(ip.started_at))
        else:
            progress.append(1)
            started.append(_NONE)
    cand: list[list[int]] = [[] for _ in jobs]
    fixed: list[list[int]] = [[] for _ in jobs]
    days = [problem.engineers[s.engineer].shifts[s.shift].day for s in slots]
    for j, allowed in candidates.items():
        job = jobs[j]
        cand[j] = list(allowed)
        fixed[j] = [
            assignment_cost(job, problem.engineers[slots[v].engineer], days[v], weights)
            for v in allowed
        ]
    shapes: dict[RouteSlot, int] = {}
    classes = [shapes.setdefault(slot_shape(s), len(shapes)) for s in slots]
    data = {
        "n_loc": problem.num_locations,
        "durations": list(itertools.chain.from_iterable(problem.durations)),
        "distances": list(itertools.chain.from_iterable(problem.distances)),
        "travel_per_s": weights.travel_per_s,
        "distance_per_unit": weights.distance_per_unit,
        "anneal_start": ANNEAL_START,
        "anneal_end": ANNEAL_END,
        "job_location": [j.location for j in jobs],
        "job_service": [j.service_s for j in jobs],
        "job_demand": [j.demand for j in jobs],
        "job_windows": windows,
        "window_start": w_start,
        "window_end": w_end,
        "job_due": [_opt(j.promise_due) for j in jobs],
        "job_late_weight": [weights.lateness_per_s[j.priority] for j in jobs],
        "job_lo": lo,
        "job_hi": hi,
        "job_hi_uncapped": hi_uncapped,
        "job_progress": progress,
        "job_started": started,
        "job_penalty": [drop_penalty(j, weights) for j in jobs],
        "job_skills": [1 if j.skills else 0 for j in jobs],
        "slot_start_location": [s.start_location for s in slots],
        "slot_end_location": [s.end_location for s in slots],
        "slot_start_time": [s.start_time for s in slots],
        "slot_end_time": [s.end_time for s in slots],
        "slot_max_work": [_opt(s.max_work_s) for s in slots],
        "slot_max_visits": [_opt(s.max_visits) for s in slots],
        "slot_capacity": [_opt(s.capacity) for s in slots],
        "slot_has_break": [0 if s.break_ is None else 1 for s in slots],
        "slot_break_earliest": [0 if s.break_ is None else s.break_.earliest_start for s in slots],
        "slot_break_latest": [0 if s.break_ is None else s.break_.latest_start for s in slots],
        "slot_break_duration": [0 if s.break_ is None else s.break_.duration_s for s in slots],
        "slot_engineer": [s.engineer for s in slots],
        "slot_empty_class": classes,
        "candidates": cand,
        "fixed": fixed,
    }
    return _core.Core(data)


def to_core(route: Sequence[int | None]) -> list[int]:
    """A sequence in the core's form: ``-1`` marks the break."""
    return [-1 if j is None else j for j in route]


def from_core(route: Sequence[int]) -> list[int | None]:
    """A sequence from the core's form back to ``None`` for the break."""
    return [None if j < 0 else j for j in route]


def ruin_and_recreate(
    problem: Problem,
    slots: Sequence[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    weights: Weights,
    routes: Sequence[Sequence[int | None]],
    *,
    deadline: float | None = None,
    iterations: int | None = None,
    seed: int = 0,
    threads: int = 1,
    schedule: tuple[float, float] = (0.0, 1.0),
) -> Sequences:
    """:func:`optimizer.search.ruin_and_recreate` on the compiled core.

    Parameters are those of the Python search, plus ``threads``: the number of searches run
    side by side (each with its own seed) that share their best plan between epochs. With one
    thread and ``iterations`` the result depends only on the inputs and the seed.
    """
    if deadline is None and iterations is None:
        raise ValueError("ruin_and_recreate: give a deadline or a number of iterations")
    if threads < 1:
        raise ValueError("ruin_and_recreate: threads must be >= 1")
    check_schedule(schedule)
    core = pack(problem, slots, candidates, weights)
    best = [to_core(with_break(problem, slot, r)) for slot, r in zip(slots, routes, strict=True)]
    if threads == 1:
        seconds = -1.0 if deadline is None else max(0.0, deadline - time.perf_counter())
        its = -1 if iterations is None else iterations
        best, _, _ = core.search(best, seconds, its, seed, *schedule)
    else:
        best = _threaded(core, best, deadline, iterations, seed, threads, schedule)
    return _repair_late(problem, slots, candidates, weights, [from_core(r) for r in best])


def _threaded(
    core: _core.Core,
    start: list[list[int]],
    deadline: float | None,
    iterations: int | None,
    seed: int,
    threads: int,
    schedule: tuple[float, float],
) -> list[list[int]]:
    best, best_cost = start, None
    low, high = schedule
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for epoch in range(_EPOCHS):
            f0 = low + (high - low) * epoch / _EPOCHS
            f1 = low + (high - low) * (epoch + 1) / _EPOCHS
            if deadline is None:
                seconds = -1.0
            else:
                left = deadline - time.perf_counter()
                seconds = max(0.0, left / (_EPOCHS - epoch))
            its = -1 if iterations is None else max(1, iterations // _EPOCHS)
            futures = [
                pool.submit(core.search, best, seconds, its, seed + 7919 * t + epoch, f0, f1)
                for t in range(threads)
            ]
            for future in futures:
                routes, cost, _ = future.result()
                if best_cost is None or cost < best_cost:
                    best, best_cost = routes, cost
    return best
