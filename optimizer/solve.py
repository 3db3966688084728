"""`solve(problem, params) -> Plan`: pre-solve checks, the search, and the plan with reasons."""

from __future__ import annotations

import dataclasses
import time

from optimizer import compiled
from optimizer.construct import construct_routes
from optimizer.costs import drop_penalty, route_cost
from optimizer.eligibility import (
    Reason,
    RouteSlot,
    check_job,
    route_slots,
    slot_shape,
    start_bounds,
)
from optimizer.insertion import explain_unassigned
from optimizer.model import RawRoute, RawSolution, RoutingModel
from optimizer.params import FirstSolution, Metaheuristic, SearchCore, SolveParams, Weights
from optimizer.problem import Job, Problem
from optimizer.schedule import build_route, forward_times
from optimizer.search import route_fits, ruin_and_recreate, timed_routes, with_break
from optimizer.solution import Kpis, Plan, PlanStatus, Route, Unassigned
from optimizer.trips import solve_with_trips

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

    Notes
    -----
    The search runs in phases: pre-solve checks give every ineligible job its reason; a first
    plan is built by Onsite's cheapest-insertion construction (or taken from the previous plan
    when jobs carry :attr:`~optimizer.problem.Job.previous`); ruin-and-recreate improves it;
    OR-Tools' guided local search refines it (small problems alternate the two twice). Every
    phase's plan is costed by the same function and the cheapest is returned; jobs left out
    get a reason from an insertion analysis of the final routes.

    With :attr:`Problem.trips`, out-of-town trips are chosen around this search
    (:func:`optimizer.trips.solve_with_trips`) and listed in :attr:`Plan.trips`.
    """
    return solve_with_trips(problem, params or SolveParams(), _solve_fixed)


def _solve_fixed(problem: Problem, params: SolveParams) -> Plan:
    """The search on the shifts as they are (every start and end location fixed)."""
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

    warm = _warm_start(problem, slots, candidates)
    warm_cost = None
    if warm is not None:
        start = _own_solution(problem, slots, candidates, weights, warm)
        warm_cost = start.objective if start is not None else None
    raw = _search(problem, slots, candidates, params, started) if candidates else _EMPTY
    if raw is None:
        for j in candidates:
            unassigned[j] = Unassigned(problem.jobs[j].id, Reason.LOCK, _NO_SOLUTION_MESSAGE)
        return _plan(problem, slots, PlanStatus.NO_SOLUTION, [], unassigned, 0, started)

    routes = _build_routes(problem, slots, raw, weights)
    served = {problem.job_position(v.job_id) for r in routes for v in r.visits}
    for j in candidates:
        if j not in served:
            reason, message = explain_unassigned(problem, routes, problem.jobs[j], weights, slots)
            unassigned[j] = Unassigned(problem.jobs[j].id, reason, message)
    cost = _cost(problem, slots, candidates, weights, raw)
    plan = _plan(problem, slots, PlanStatus.SOLVED, routes, unassigned, cost, started)
    return dataclasses.replace(plan, warm_start_cost=warm_cost)


_RUIN_FIRST = (Metaheuristic.AUTO, Metaheuristic.RUIN_AND_RECREATE)
_EMPTY = RawSolution(routes=(), objective=0)
# Below this much time left, OR-Tools cannot even restore a plan of a thousand visits.
_MIN_ORTOOLS_S = 0.5
# Problems up to this many jobs alternate ruin-and-recreate with OR-Tools' guided local search;
# larger ones give all the time to ruin-and-recreate. Before the compiled core had its own
# local search, on the ten Gehring & Homberger 200 at 30 s, all the time to ruin-and-recreate
# gave a mean gap of 1.06 % against 0.66-0.87 % alternating; on the six 400-customer *_4_2 at
# 60 s, 1.45 % alternating against 1.63-1.67 % alone. With it, alternating still wins on four
# other 400-customer instances (r1, r2, rc1, rc2 *_4_5): 0.70 % against 1.02 % alone. Beyond
# 500 jobs OR-Tools' model takes too much of the time to build and restore a plan.
_SMALL_PROBLEM = 500
# The share of the time ruin-and-recreate gets on a small problem depends on its routes' length
# in the first plan. On short routes (tight windows, many engineers) OR-Tools' local search is
# quick and polishes the plan well in 30 % of the time; on long routes with wide windows each of
# its moves re-times a long route and it does little, so it gets 15 %. Measured on
# the Solomon set at 10 s (mean gap): short routes (R1, RC1) 1.2 % at 0.7 against 1.5 % with
# ruin-and-recreate alone; long routes (R2, RC2) 2.0 % at 0.85 against 2.7 % at 0.3; and on the
# five long-route Gehring & Homberger instances at 30 s, 2.1 % at 0.85 against 3.2 % alone.
_SHORT_ROUTE = 15
_SHORT_ROUTE_SHARE = 0.7
_LONG_ROUTE_SHARE = 0.85
_ROUNDS = 2


def _search(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    params: SolveParams,
    started: float,
) -> RawSolution | None:
    """First plan, then rounds of ruin-and-recreate and OR-Tools; the cheapest plan wins.

    Under a time limit, small problems alternate the two searches twice: each restarts from
    the other's best plan, which neither finds alone. Onsite's own plan is kept as a
    fallback: OR-Tools may run out of time before it has even restored it on large instances,
    and then answers nothing or an empty plan.
    """
    weights = params.weights
    sequences = _initial_routes(problem, slots, candidates, params)
    ours: RawSolution | None = None
    if sequences is not None:
        ours = _own_solution(problem, slots, candidates, weights, sequences)
    share = _ruin_share(params, candidates, sequences)
    limit = params.time_limit_s
    rounds = _ROUNDS if limit is not None and 0.0 < share < 1.0 else 1
    model: _FleetModel | None = None
    for r in range(rounds):
        if sequences is not None and params.metaheuristic in _RUIN_FIRST:
            deadline = None if limit is None else started + limit * (r + share) / rounds
            schedule = (r / rounds, (r + 1) / rounds)
            improved = _ruin_phase(
                problem, slots, candidates, params, sequences, deadline, schedule
            )
            better = _own_solution(problem, slots, candidates, weights, improved)
            if better is not None and (ours is None or better.objective <= ours.objective):
                ours, sequences = better, improved
        round_end = None if limit is None else started + limit * (r + 1) / rounds
        left = None if round_end is None else round_end - time.perf_counter()
        if ours is not None and (share >= 1.0 or (left is not None and left < _MIN_ORTOOLS_S)):
            continue
        if model is None or not model.covers(sequences):
            model = _FleetModel(problem, slots, candidates, weights, sequences)
        round_params = params if left is None else dataclasses.replace(params, time_limit_s=left)
        theirs = model.solve(round_params, sequences)
        if theirs is None:
            continue
        theirs = dataclasses.replace(
            theirs, objective=_cost(problem, slots, candidates, weights, theirs)
        )
        if ours is None or theirs.objective < ours.objective:
            ours, sequences = theirs, _sequences(slots, theirs)
    if ours is None and params.first_solution not in (FirstSolution.AUTO, FirstSolution.INSERTION):
        # OR-Tools' own first-solution strategies can fail outright (e.g. parallel cheapest
        # insertion under tight visit limits); Onsite's construction always gives a plan.
        fallback = construct_routes(problem, slots, candidates, weights)
        ours = _own_solution(problem, slots, candidates, weights, fallback)
    return ours


# Idle engineer-days given to OR-Tools per class of identical ones (see _FleetModel).
_IDLE_PER_CLASS = 2


class _FleetModel:
    """The OR-Tools model over the engineer-days in use and a few idle ones of each kind.

    A fleet of identical idle engineer-days (a depot's vans, a team sharing a base and a
    shift) gives OR-Tools the same move once per idle route: on a Solomon R1 instance, 25 vans
    of which 12 are used make most of the local search try equivalent moves. Idle days are
    grouped by everything that matters to the model (start, end, times, limits, break, skill
    profile and the jobs allowed on them) and only a few of each group are kept; a day
    referenced by a job's previous plan is always kept. If a later round's plan uses a day
    outside the model, the model is rebuilt.
    """

    def __init__(
        self,
        problem: Problem,
        slots: list[RouteSlot],
        candidates: dict[int, tuple[int, ...]],
        weights: Weights,
        sequences: list[list[int | None]] | None,
    ) -> None:
        allowed: list[list[int]] = [[] for _ in slots]
        for j in sorted(candidates):
            for v in candidates[j]:
                allowed[v].append(j)
        anchored = {
            job.previous.engineer_id
            for j in candidates
            if (job := problem.jobs[j]).previous is not None
        }
        kept: list[int] = []
        idle: dict[tuple[object, ...], int] = {}
        for v, slot in enumerate(slots):
            eng = problem.engineers[slot.engineer]
            used = sequences is not None and any(j is not None for j in sequences[v])
            if used or eng.id in anchored:
                kept.append(v)
                continue
            key = (
                slot_shape(slot),
                tuple(sorted(eng.skills.items())),
                tuple(allowed[v]),
            )
            if idle.get(key, 0) < _IDLE_PER_CLASS:
                idle[key] = idle.get(key, 0) + 1
                kept.append(v)
        self.kept = kept
        self.index = {v: i for i, v in enumerate(kept)}
        self.model = RoutingModel(
            problem,
            [slots[v] for v in kept],
            {j: tuple(self.index[v] for v in c if v in self.index) for j, c in candidates.items()},
            weights,
        )

    def covers(self, sequences: list[list[int | None]] | None) -> bool:
        """Whether every engineer-day used by ``sequences`` is in the model."""
        if sequences is None:
            return True
        return all(
            v in self.index for v, seq in enumerate(sequences) if any(j is not None for j in seq)
        )

    def solve(
        self, params: SolveParams, sequences: list[list[int | None]] | None
    ) -> RawSolution | None:
        initial = None
        if sequences is not None:
            initial = [[j for j in sequences[v] if j is not None] for v in self.kept]
        raw = self.model.solve(params, initial)
        if raw is None:
            return None
        routes = tuple(dataclasses.replace(r, slot=self.kept[r.slot]) for r in raw.routes)
        return dataclasses.replace(raw, routes=routes)


def _sequences(slots: list[RouteSlot], raw: RawSolution) -> list[list[int | None]]:
    """Routes of a solver answer as job sequences with the break marked where it is taken."""
    sequences: list[list[int | None]] = [
        [None] if slot.break_ is not None else [] for slot in slots
    ]
    for r in raw.routes:
        seq: list[int | None] = list(r.jobs)
        if slots[r.slot].break_ is not None:
            at = len(seq)
            if r.break_start is not None:
                at = next((i for i, t in enumerate(r.starts) if t >= r.break_start), len(seq))
            seq.insert(at, None)
        sequences[r.slot] = seq
    return sequences


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
    cost = sum(route_cost(problem, slots[r.slot], r.jobs, r.starts, weights)[0] for r in raw.routes)
    served = {j for r in raw.routes for j in r.jobs}
    return cost + sum(drop_penalty(problem.jobs[j], weights) for j in candidates if j not in served)


def _build_routes(
    problem: Problem, slots: list[RouteSlot], raw: RawSolution, weights: Weights
) -> list[Route]:
    routes = []
    for r in raw.routes:
        if not r.jobs:
            continue
        slot = slots[r.slot]
        jobs = [problem.jobs[j] for j in r.jobs]
        if problem.engineers[slot.engineer].traffic:
            # The search drove on the matrices; the published times follow the traffic of the
            # hour each leg sets off in.
            route = _timed_in_traffic(problem, slot, jobs, r.departure, weights)
            if route is not None:
                routes.append(route)
            continue
        routes.append(build_route(problem, slot, jobs, list(r.starts), r.departure, r.break_start))
    return routes


def _in_traffic_cost(
    problem: Problem, slot: RouteSlot, jobs: list[Job], departure: int, weights: Weights
) -> int | None:
    """The cost of visiting ``jobs`` in this order, timed in traffic; ``None`` when the order
    breaks a hard constraint (a window missed, the break past its window, the lateness cap,
    the end of the shift or the working time)."""
    starts, break_start, missed = forward_times(problem, slot, jobs, departure)
    if any(missed):
        return None
    brk = slot.break_
    if brk is not None and break_start is not None and break_start > brk.latest_start:
        return None
    for job, start in zip(jobs, starts, strict=True):
        _, hi = start_bounds(job, weights)
        if job.in_progress is None and hi is not None and start > hi:
            return None
    route = build_route(problem, slot, jobs, starts, departure, break_start)
    limit = slot.end_time
    if slot.max_work_s is not None:
        limit = min(limit, departure + slot.max_work_s)
    if route.end_time > limit:
        return None
    positions = [problem.job_position(job.id) for job in jobs]
    return route_cost(problem, slot, positions, starts, weights)[0]


def _reordered(
    problem: Problem, slot: RouteSlot, jobs: list[Job], departure: int, weights: Weights
) -> list[Job]:
    """``jobs`` re-ordered after the traffic took a visit out of their route.

    The search chose the order for the longer route; without the visit another order may fit
    and cost less (an urgent visit put back in front of one the search had to place first to
    fit the break). Each visit not under way is tried at every other place, first improvement,
    until none improves; routes are short, so this is a few hundred timings at most.
    """
    best = list(jobs)
    best_cost = _in_traffic_cost(problem, slot, best, departure, weights)
    if best_cost is None:
        return best
    head = sum(1 for job in best if job.in_progress is not None)
    moves = [(i, k) for i in range(head, len(best)) for k in range(head, len(best)) if k != i]
    while True:
        for i, k in moves:
            trial = best[:i] + best[i + 1 :]
            trial.insert(k, best[i])
            cost = _in_traffic_cost(problem, slot, trial, departure, weights)
            if cost is not None and cost < best_cost:
                best, best_cost = trial, cost
                break
        else:
            return best


def _timed_in_traffic(
    problem: Problem, slot: RouteSlot, jobs: list[Job], departure: int, weights: Weights
) -> Route | None:
    """The route re-timed with the traffic of each leg's hour; ``None`` when nothing is left.

    Slower legs at rush hours than the search's representative matrix can push the drive home
    past the end of the shift. Then the visit cheapest to leave out (its drop penalty: a
    general visit before an urgent one), and of those the one whose removal brings the
    engineer home earliest, is left out (never a visit under way), until the route ends in
    time; the jobs left out are reported unassigned with their reason, and the rest are
    re-ordered where that now costs less (:func:`_reordered`).
    """
    dropped = False
    while True:
        starts, break_start, _ = forward_times(problem, slot, jobs, departure)
        route = build_route(problem, slot, jobs, starts, departure, break_start)
        movable = [i for i, job in enumerate(jobs) if job.in_progress is None]
        if route.end_time <= slot.end_time or not movable:
            if dropped:
                reordered = _reordered(problem, slot, jobs, departure, weights)
                if reordered != jobs:  # the route as timed above stands otherwise
                    starts, break_start, _ = forward_times(problem, slot, reordered, departure)
                    route = build_route(problem, slot, reordered, starts, departure, break_start)
            return route
        dropped = True
        cheapest = min(drop_penalty(jobs[i], weights) for i in movable)
        best: tuple[int, list[Job]] | None = None
        for i in movable:
            if drop_penalty(jobs[i], weights) != cheapest:
                continue
            rest = jobs[:i] + jobs[i + 1 :]
            if not rest:
                return None
            rest_starts, rest_break, _ = forward_times(problem, slot, rest, departure)
            end = build_route(problem, slot, rest, rest_starts, departure, rest_break).end_time
            if best is None or end < best[0]:
                best = (end, rest)
        assert best is not None
        jobs = best[1]


def _ruin_phase(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    params: SolveParams,
    initial: list[list[int | None]],
    deadline: float | None,
    schedule: tuple[float, float],
) -> list[list[int | None]]:
    """Run ruin-and-recreate until the deadline or for the configured iterations.

    ``schedule`` is this round's part of one annealing schedule over all rounds: a later round
    continues cooling from where the previous one stopped rather than heating up again.
    """
    iterations = params.ruin_iterations
    if iterations == 0 or (iterations is None and deadline is None):
        return initial
    search = ruin_and_recreate if params.core is SearchCore.PYTHON else compiled.ruin_and_recreate
    return search(
        problem,
        slots,
        candidates,
        params.weights,
        initial,
        deadline=deadline,
        iterations=iterations,
        seed=params.seed,
        threads=params.threads,
        schedule=schedule,
    )


def _ruin_share(
    params: SolveParams,
    candidates: dict[int, tuple[int, ...]],
    sequences: list[list[int | None]] | None,
) -> float:
    """The share of the time limit given to ruin-and-recreate (see ``_SHORT_ROUTE``)."""
    if params.ruin_share is not None:
        return params.ruin_share
    if len(candidates) > _SMALL_PROBLEM:
        return 1.0
    lengths = [n for seq in sequences or () if (n := sum(j is not None for j in seq))]
    if lengths and sum(lengths) <= _SHORT_ROUTE * len(lengths):
        return _SHORT_ROUTE_SHARE
    return _LONG_ROUTE_SHARE


def _initial_routes(
    problem: Problem,
    slots: list[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    params: SolveParams,
) -> list[list[int | None]] | None:
    """Warm start from the previous plan if there is one, else Onsite's own construction.

    A previous plan the day has overtaken (a visit under way that ran long, an engineer gone
    home) keeps what still fits of each route, in its order; the rest is inserted again.
    """
    warm = _warm_start(problem, slots, candidates)
    if warm is not None:
        if timed_routes(problem, slots, params.weights, warm) is not None:
            return warm
        kept = [
            _fitting(problem, slot, params.weights, seq)
            for slot, seq in zip(slots, warm, strict=True)
        ]
        return construct_routes(problem, slots, candidates, params.weights, start=kept)
    if params.first_solution in (FirstSolution.AUTO, FirstSolution.INSERTION):
        return construct_routes(problem, slots, candidates, params.weights)
    return None


def _fitting(
    problem: Problem, slot: RouteSlot, weights: Weights, sequence: list[int | None]
) -> list[int | None]:
    """The jobs of ``sequence`` that still fit its engineer-day, in order (break marked)."""
    kept: list[int] = []
    for j in sequence:
        if j is not None and route_fits(problem, slot, weights, [*kept, j]):
            kept.append(j)
    return with_break(problem, slot, kept)


def _warm_start(
    problem: Problem, slots: list[RouteSlot], candidates: dict[int, tuple[int, ...]]
) -> list[list[int | None]] | None:
    """The previous plan as sequences (breaks placed), or None when no job has one."""
    if not any(problem.jobs[j].previous is not None for j in candidates):
        return None
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
    return [
        with_break(problem, slot, [j for _, j in sorted(r)])
        for slot, r in zip(slots, routes, strict=True)
    ]


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
