"""`solve(problem, params) -> Plan`: pre-solve checks, the search, and the plan with reasons."""

from __future__ import annotations

import dataclasses
import time

from optimizer.construct import construct_routes
from optimizer.eligibility import Reason, RouteSlot, check_job, over_qualification, route_slots
from optimizer.insertion import explain_unassigned, stability_cost
from optimizer.model import RawRoute, RawSolution, RoutingModel
from optimizer.params import FirstSolution, Metaheuristic, SolveParams, Weights
from optimizer.problem import Problem
from optimizer.schedule import build_route
from optimizer.search import ruin_and_recreate, timed_routes
from optimizer.solution import Kpis, Plan, PlanStatus, Route, Unassigned

_NO_SOLUTION_MESSAGE = "no plan keeps every visit under way and lock within the shifts"


def solve(problem: Problem, params: SolveParams | None = None) -> Plan:
    """Plan the jobs of ``problem`` onto its engineers' shifts.

    Parameters
    ----------
    problem
        The immutable problem.
    params
        Search limits, strategies and objective weights (defaults if ``None``).

    Returns
    -------
    Plan
        Routes with ETAs, unassigned jobs with reasons, and KPIs. When no plan honours the hard
        constraints (only possible with visits under way), the plan has status
        :attr:`PlanStatus.NO_SOLUTION` and every job is unassigned.
    """
    params = params or SolveParams()
    weights = params.weights
    started = time.perf_counter()
    slots = route_slots(problem)
    candidates: dict[int, tuple[int, ...]] = {}
    unassigned: dict[int, Unassigned] = {}
    for j, job in enumerate(problem.jobs):
        elig = check_job(problem, job, slots, weights)
        if elig.reason is None:
            candidates[j] = elig.slots
        else:
            assert elig.message is not None
            unassigned[j] = Unassigned(job.id, elig.reason, elig.message)

    raw = _search(problem, slots, candidates, params, started) if candidates else _EMPTY
    if raw is None:
        for j in candidates:
            unassigned[j] = Unassigned(problem.jobs[j].id, Reason.LOCK, _NO_SOLUTION_MESSAGE)
        return _plan(problem, slots, PlanStatus.NO_SOLUTION, [], unassigned, 0, started)

    routes = _build_routes(problem, slots, raw)
    served = {problem.job_position(v.job_id) for r in routes for v in r.visits}
    for j in candidates:
        if j not in served:
            reason, message = explain_unassigned(problem, routes, problem.jobs[j], weights, slots)
            unassigned[j] = Unassigned(problem.jobs[j].id, reason, message)
    cost = _cost(problem, slots, candidates, weights, raw)
    return _plan(problem, slots, PlanStatus.SOLVED, routes, unassigned, cost, started)


_RUIN_FIRST = (Metaheuristic.AUTO, Metaheuristic.RUIN_AND_RECREATE)
_EMPTY = RawSolution(routes=(), objective=0)
# Below this much time left, OR-Tools cannot even restore a plan of a thousand visits.
_MIN_ORTOOLS_S = 0.5
# Problems up to this many jobs leave 70 % of the time to OR-Tools' guided local search.
_SMALL_PROBLEM = 300
_SMALL_SHARE = 0.3


def _search(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    params: SolveParams,
    started: float,
) -> RawSolution | None:
    """First plan, ruin-and-recreate, then OR-Tools; the cheapest plan of the phases wins.

    Onsite's own plan is kept as a fallback: OR-Tools may run out of time before it has even
    restored it on large instances, and then answers nothing or an empty plan.
    """
    weights = params.weights
    sequences = _initial_routes(problem, slots, candidates, params)
    ours: RawSolution | None = None
    if sequences is not None:
        ours = _own_solution(problem, slots, candidates, weights, sequences)
        if params.metaheuristic in _RUIN_FIRST:
            improved = _ruin_phase(problem, slots, candidates, params, sequences, started)
            better = _own_solution(problem, slots, candidates, weights, improved)
            if better is not None and (ours is None or better.objective <= ours.objective):
                ours, sequences = better, improved
    remaining = _remaining(params, started)
    if ours is not None and (
        _ruin_share(params, candidates) >= 1.0
        or (remaining.time_limit_s is not None and remaining.time_limit_s < _MIN_ORTOOLS_S)
    ):
        return ours
    model = RoutingModel(problem, slots, candidates, weights)
    initial = None
    if sequences is not None:
        initial = [[j for j in seq if j is not None] for seq in sequences]
    theirs = model.solve(_remaining(params, started), initial)
    if theirs is None or ours is None:
        return theirs or ours
    return min((ours, theirs), key=lambda raw: _cost(problem, slots, candidates, weights, raw))


def _own_solution(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    weights: Weights,
    sequences: list[list[int | None]],
) -> RawSolution | None:
    timed = timed_routes(problem, slots, weights, sequences)
    if timed is None:
        return None
    served = {j for _, jobs, _, _ in timed for j in jobs}
    if any(problem.jobs[j].in_progress is not None and j not in served for j in candidates):
        return None
    routes = tuple(
        RawRoute(
            slot=v,
            jobs=tuple(jobs),
            starts=tuple(starts),
            departure=slots[v].start_time,
            end=0,
            break_start=break_start,
        )
        for v, jobs, starts, break_start in timed
    )
    raw = RawSolution(routes=routes, objective=0)
    return dataclasses.replace(raw, objective=_cost(problem, slots, candidates, weights, raw))


def _cost(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    weights: Weights,
    raw: RawSolution,
) -> int:
    """The objective of a plan, computed the same way whichever phase produced it."""
    jobs = problem.jobs
    dur, dist = problem.durations, problem.distances
    cost = 0
    served: set[int] = set()
    for r in raw.routes:
        if not r.jobs:
            continue
        slot = slots[r.slot]
        eng = problem.engineers[slot.engineer]
        day = eng.shifts[slot.shift].day
        loc = slot.start_location
        for j, start in zip(r.jobs, r.starts, strict=True):
            job = jobs[j]
            served.add(j)
            cost += weights.travel_per_s * dur[loc][job.location]
            cost += weights.distance_per_unit * dist[loc][job.location]
            if job.promise_due is not None and start > job.promise_due:
                cost += weights.lateness_per_s[job.priority] * (start - job.promise_due)
            cost += weights.over_qualification_per_level * max(0, over_qualification(eng, job))
            cost += stability_cost(job, eng.id, day, weights)
            loc = job.location
        cost += weights.travel_per_s * dur[loc][slot.end_location]
        cost += weights.distance_per_unit * dist[loc][slot.end_location]
    for j in candidates:
        if j not in served:
            job = jobs[j]
            penalty = job.drop_penalty
            cost += weights.drop_per_priority[job.priority] if penalty is None else penalty
    return cost


def _build_routes(problem: Problem, slots: list[RouteSlot], raw: RawSolution) -> list[Route]:
    return [
        build_route(
            problem,
            slots[r.slot],
            [problem.jobs[j] for j in r.jobs],
            r.starts,
            r.departure,
            r.break_start,
        )
        for r in raw.routes
        if r.jobs
    ]


def _ruin_phase(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    params: SolveParams,
    initial: list[list[int | None]],
    started: float,
) -> list[list[int | None]]:
    """Run ruin-and-recreate on the first plan for its share of the time or iteration budget."""
    iterations = params.ruin_iterations
    deadline = None
    if params.time_limit_s is not None:
        deadline = started + _ruin_share(params, candidates) * params.time_limit_s
    if iterations is None and deadline is None:
        return initial
    if iterations == 0:
        return initial
    return ruin_and_recreate(
        problem,
        slots,
        candidates,
        params.weights,
        initial,
        deadline=deadline,
        iterations=iterations,
        seed=params.seed,
    )


def _ruin_share(params: SolveParams, candidates: dict[int, tuple[int, ...]]) -> float:
    if params.ruin_share is not None:
        return params.ruin_share
    return _SMALL_SHARE if len(candidates) <= _SMALL_PROBLEM else 1.0


def _remaining(params: SolveParams, started: float) -> SolveParams:
    """The parameters for OR-Tools with the time already spent taken off the limit."""
    if params.time_limit_s is None:
        return params
    left = params.time_limit_s - (time.perf_counter() - started)
    return dataclasses.replace(params, time_limit_s=max(0.05, left))


def _initial_routes(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    params: SolveParams,
) -> list[list[int | None]] | None:
    """Warm start from the previous plan if there is one, else Onsite's own construction."""
    if any(problem.jobs[j].previous is not None for j in candidates):
        slot_of = {
            (problem.engineers[s.engineer].id, problem.engineers[s.engineer].shifts[s.shift].day): v
            for v, s in enumerate(slots)
        }
        routes: list[list[tuple[int, int]]] = [[] for _ in slots]
        for j in candidates:
            prev = problem.jobs[j].previous
            if prev is None:
                continue
            v = slot_of.get((prev.engineer_id, prev.day))
            if v is not None and v in candidates[j]:
                routes[v].append((prev.position, j))
        return [[j for _, j in sorted(r)] for r in routes]
    if params.first_solution in (FirstSolution.AUTO, FirstSolution.INSERTION):
        return construct_routes(problem, slots, candidates, params.weights)
    return None


def _plan(
    problem: Problem,
    slots: list[RouteSlot],
    status: PlanStatus,
    routes: list[Route],
    unassigned: dict[int, Unassigned],
    cost: int,
    started: float,
) -> Plan:
    visits = [v for r in routes for v in r.visits]
    late = [v for v in visits if v.lateness_s > 0]
    available = sum(
        problem.engineers[s.engineer].shifts[s.shift].end
        - problem.engineers[s.engineer].shifts[s.shift].start
        for s in slots
    )
    kpis = Kpis(
        assigned=len(visits),
        dropped=len(unassigned),
        late_count=len(late),
        late_s=sum(v.lateness_s for v in late),
        travel_s=sum(r.travel_s for r in routes),
        distance=sum(r.distance for r in routes),
        routes=len(routes),
        utilisation=(sum(r.work_s for r in routes) / available) if available else 0.0,
    )
    return Plan(
        status=status,
        routes=tuple(routes),
        unassigned=tuple(unassigned[j] for j in sorted(unassigned)),
        kpis=kpis,
        cost=cost,
        runtime_s=time.perf_counter() - started,
    )
