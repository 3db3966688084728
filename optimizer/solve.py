"""`solve(problem, params) -> Plan`: pre-solve checks, the search, and the plan with reasons."""

from __future__ import annotations

import dataclasses
import time

from optimizer.construct import construct_routes
from optimizer.eligibility import Reason, RouteSlot, check_job, route_slots
from optimizer.insertion import explain_unassigned
from optimizer.model import RawSolution, RoutingModel
from optimizer.params import FirstSolution, Metaheuristic, SolveParams
from optimizer.problem import Problem
from optimizer.schedule import build_route
from optimizer.search import ruin_and_recreate
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

    raw: RawSolution | None
    if candidates:
        initial = _initial_routes(problem, slots, candidates, params)
        if initial is not None and params.metaheuristic in _RUIN_FIRST:
            initial = _ruin_phase(problem, slots, candidates, params, initial, started)
        model = RoutingModel(problem, slots, candidates, weights)
        raw = model.solve(_remaining(params, started), initial)
    else:
        raw = RawSolution(routes=(), objective=0)

    if raw is None:
        for j in candidates:
            unassigned[j] = Unassigned(problem.jobs[j].id, Reason.LOCK, _NO_SOLUTION_MESSAGE)
        return _plan(problem, slots, PlanStatus.NO_SOLUTION, [], unassigned, 0, started)

    routes: list[Route] = []
    served: set[int] = set()
    for r in raw.routes:
        if not r.jobs:
            continue
        served.update(r.jobs)
        slot = slots[r.slot]
        routes.append(
            build_route(
                problem,
                slot,
                [problem.jobs[j] for j in r.jobs],
                r.starts,
                r.departure,
                r.break_start,
            )
        )
    for j in candidates:
        if j not in served:
            reason, message = explain_unassigned(problem, routes, problem.jobs[j], weights, slots)
            unassigned[j] = Unassigned(problem.jobs[j].id, reason, message)
    return _plan(problem, slots, PlanStatus.SOLVED, routes, unassigned, raw.objective, started)


_RUIN_FIRST = (Metaheuristic.AUTO, Metaheuristic.RUIN_AND_RECREATE)


def _ruin_phase(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    params: SolveParams,
    initial: list[list[int]],
    started: float,
) -> list[list[int]]:
    """Run ruin-and-recreate on the first plan for its share of the time or iteration budget."""
    iterations = params.ruin_iterations
    deadline = None
    if params.time_limit_s is not None:
        deadline = started + params.ruin_share * params.time_limit_s
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
) -> list[list[int]] | None:
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
