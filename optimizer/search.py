"""Ruin-and-recreate search (SISR-style) in pure Python, before OR-Tools polishes the plan.

OR-Tools' guided local search refines a plan well but rarely restructures it: on tight windows
it stalls a few per cent above the best known plans. Removing strings of nearby visits from a
few neighbouring routes and re-inserting them greedily, with blinks and simulated-annealing
acceptance (Christiaens and Vanden Berghe, "Slack induction by string removals", 2020),
does restructure it; it only needs a fast feasibility test, which :mod:`optimizer.insertion`
provides.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence

from optimizer.costs import assignment_cost, drop_penalty, route_cost
from optimizer.eligibility import RouteSlot, slot_shape
from optimizer.insertion import (
    _Stops,
    best_in_slot,
    cheapest_insertion,
    sequence_stops,
)
from optimizer.params import Weights
from optimizer.problem import Job, Problem, VisitStatus

_MAX_STRING = 10
_AVG_REMOVED = 10
_BLINK = 0.01
_NEIGHBOURS = 40
# Annealing temperatures relative to the mean arc cost of the first plan (both cores use them).
ANNEAL_START = 3.0
ANNEAL_END = 0.03
_GRANULAR = 20
# Share of iterations that empty a whole route instead of removing strings.
_ELIMINATE = 0.1


class _State:
    """Routes as sequences of job indices (``None`` marks the break) with cached costs."""

    def __init__(
        self,
        problem: Problem,
        slots: Sequence[RouteSlot],
        candidates: dict[int, tuple[int, ...]],
        weights: Weights,
        routes: Sequence[Sequence[int | None]],
    ) -> None:
        self.problem = problem
        self.slots = slots
        self.weights = weights
        self.candidates = candidates
        self.seqs: list[list[int | None]] = []
        for slot, route in zip(slots, routes, strict=True):
            self.seqs.append(with_break(problem, slot, route))
        self.stops = [self._stops(v) for v in range(len(slots))]
        # Over-qualification and stability cost of each job on each route, once computed.
        self._fixed: dict[tuple[int, int], int] = {}
        for v in range(len(slots)):
            if not _feasible(self.stops[v], slots[v]):
                # A warm start may no longer fit (times moved): start that route afresh.
                self.seqs[v] = [None] if slots[v].break_ is not None else []
                self.stops[v] = self._stops(v)
        self.late: list[list[int]] = [[] for _ in slots]
        self.costs = [self._cost(v) for v in range(len(slots))]
        self.route_of: dict[int, int] = {}
        for v, seq in enumerate(self.seqs):
            for j in seq:
                if j is not None:
                    self.route_of[j] = v
        self.unserved = {j for j in candidates if j not in self.route_of}
        # Identical empty engineer-days share a class number (see _recreate).
        shapes: dict[RouteSlot, int] = {}
        self.empty_class = [shapes.setdefault(slot_shape(s), len(shapes)) for s in slots]

    def _stops(self, v: int) -> _Stops:
        jobs: list[Job | None] = [None if j is None else self.problem.jobs[j] for j in self.seqs[v]]
        return sequence_stops(self.problem, self.slots[v], jobs, self.weights)

    def _cost(self, v: int) -> int:
        """Travel, lateness and per-assignment cost of route ``v`` at earliest times."""
        slot = self.slots[v]
        eng = self.problem.engineers[slot.engineer]
        day = eng.shifts[slot.shift].day

        def fixed(j: int) -> int:
            # Over-qualification and stability of a job on a route never change: cache them.
            cost = self._fixed.get((v, j))
            if cost is None:
                cost = self._fixed[v, j] = assignment_cost(
                    self.problem.jobs[j], eng, day, self.weights
                )
            return cost

        cost, self.late[v] = route_cost(
            self.problem, slot, self.seqs[v], self.stops[v].earliest, self.weights, fixed
        )
        return cost

    def refresh(self, v: int) -> None:
        self.stops[v] = self._stops(v)
        self.costs[v] = self._cost(v)

    def revert(self, touched: dict[int, list[int | None]], unserved: set[int]) -> None:
        """Put back the routes saved in ``touched`` and the set of unserved jobs."""
        # Forget every touched route's visits before recording the saved ones: a visit that
        # moved between two touched routes must end up on the route it came from.
        for v in touched:
            for j in self.seqs[v]:
                if j is not None:
                    self.route_of.pop(j, None)
        for v, seq in touched.items():
            self.seqs[v] = seq
            for j in seq:
                if j is not None:
                    self.route_of[j] = v
            self.refresh(v)
        self.unserved = unserved

    def penalty(self, j: int) -> int:
        return drop_penalty(self.problem.jobs[j], self.weights)

    def total(self) -> int:
        return sum(self.costs) + sum(self.penalty(j) for j in self.unserved)

    def routes(self) -> list[list[int | None]]:
        return [list(seq) for seq in self.seqs]


def _feasible(stops: _Stops, slot: RouteSlot) -> bool:
    if slot.capacity is not None and stops.load > slot.capacity:
        return False
    if slot.max_visits is not None and stops.n_visits > slot.max_visits:
        return False
    return all(e <= lt for e, lt in zip(stops.earliest, stops.latest, strict=True))


def timed_routes(
    problem: Problem,
    slots: Sequence[RouteSlot],
    weights: Weights,
    sequences: Sequence[Sequence[int | None]],
) -> list[tuple[int, list[int], list[int], int | None]] | None:
    """Earliest-time schedule of each non-empty route: ``(slot, jobs, starts, break_start)``.

    Returns ``None`` if some route breaks a hard constraint.
    """
    out = []
    for v, given in enumerate(sequences):
        if all(j is None for j in given):
            continue
        slot = slots[v]
        seq, stops = _with_break_timed(problem, slot, weights, given)
        if not _feasible(stops, slot):
            return None
        starts = [stops.earliest[i] for i, j in enumerate(seq) if j is not None]
        breaks = [stops.earliest[i] for i, j in enumerate(seq) if j is None]
        out.append((v, [j for j in seq if j is not None], starts, breaks[0] if breaks else None))
    return out


def route_fits(
    problem: Problem, slot: RouteSlot, weights: Weights, route: Sequence[int | None]
) -> bool:
    """Whether ``route`` (its break placed where the day can take it) keeps every hard
    constraint of its engineer-day."""
    _, stops = _with_break_timed(problem, slot, weights, route)
    return _feasible(stops, slot)


def _with_break_timed(
    problem: Problem, slot: RouteSlot, weights: Weights, route: Sequence[int | None]
) -> tuple[list[int | None], _Stops]:
    """``route`` with its break placed, and its earliest-time stops."""
    seq = with_break(problem, slot, route)
    jobs: list[Job | None] = [None if j is None else problem.jobs[j] for j in seq]
    return seq, sequence_stops(problem, slot, jobs, weights)


def with_break(problem: Problem, slot: RouteSlot, route: Sequence[int | None]) -> list[int | None]:
    """``route`` with the break marked (``None``) when its engineer-day has one.

    The break is a hard constraint in every phase: a sequence given without its marker (a
    previous plan, an outside answer) gets it where the day can take it, so no timing or cost
    ever treats a day with a break as break-free.
    """
    seq = list(route)
    if slot.break_ is None or None in seq:
        return seq
    jobs = [j for j in seq if j is not None]
    first = _break_index(problem, slot, jobs)
    weights = Weights()
    for i in (first, *(i for i in range(len(jobs) + 1) if i != first)):
        candidate: list[int | None] = [*jobs[:i], None, *jobs[i:]]
        stops = sequence_stops(
            problem, slot, [None if j is None else problem.jobs[j] for j in candidate], weights
        )
        if _feasible(stops, slot):
            return candidate
    return [*jobs[:first], None, *jobs[first:]]


def _break_index(problem: Problem, slot: RouteSlot, route: Sequence[int]) -> int:
    """Where to put the break in a route given without one: before the first visit that would
    end after the break's latest start, at earliest times."""
    brk = slot.break_
    assert brk is not None
    dur = problem.durations
    loc, t = slot.start_location, slot.start_time
    for i, j in enumerate(route):
        job = problem.jobs[j]
        arrive = t + dur[loc][job.location]
        start = max(arrive, job.earliest_start() or arrive)
        ip = job.in_progress
        if ip is not None and ip.status is VisitStatus.ON_SITE and ip.started_at is not None:
            start = ip.started_at  # under way since then, wherever the route starts
        if start + job.service_s > brk.latest_start:
            return i
        loc, t = job.location, start + job.service_s
    return len(route)


def _neighbours(problem: Problem, jobs: Sequence[int]) -> dict[int, list[int]]:
    dur = problem.durations
    out: dict[int, list[int]] = {}
    locs = {j: problem.jobs[j].location for j in jobs}
    for j in jobs:
        row = dur[locs[j]]
        out[j] = sorted(jobs, key=lambda k: row[locs[k]])[: _NEIGHBOURS + 1]
    return out


def check_schedule(schedule: tuple[float, float]) -> None:
    """Refuse a part of the annealing schedule that is not ``0 <= from <= to <= 1``."""
    if not 0.0 <= schedule[0] <= schedule[1] <= 1.0:
        raise ValueError("ruin_and_recreate: schedule must be 0 <= from <= to <= 1")


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
) -> list[list[int | None]]:
    """Improve ``routes`` by string removals and greedy re-insertion; return the best found.

    The reference implementation of the compiled core (:mod:`optimizer.compiled`), on one
    thread (``threads`` must be 1).

    One iteration in ten empties the shorter of two random routes instead; at the end, late and
    unserved visits of the best plan are moved to their cheapest place over every eligible
    route.

    Parameters
    ----------
    problem, slots, candidates, weights
        As for the routing model.
    routes
        A starting plan: job indices per slot, ``None`` marking the break (placed
        heuristically when missing). Routes that break a hard constraint are emptied first.

    Returns
    -------
    list of list
        The best routes found, in the same form (the break marked by ``None``).
    deadline
        ``time.perf_counter()`` value at which to stop.
    iterations
        Number of iterations to run (deterministic); at least one limit must be given.
    seed
        Seed of the random choices.
    schedule
        The part of the annealing schedule this call runs, as fractions ``(from, to)`` of the
        whole: the temperature falls from ``ANNEAL_START`` to ``ANNEAL_END`` over the whole,
        so rounds of a longer solve continue one schedule instead of heating up again.
    """
    if deadline is None and iterations is None:
        raise ValueError("ruin_and_recreate: give a deadline or a number of iterations")
    check_schedule(schedule)
    if threads != 1:
        raise ValueError("ruin_and_recreate: the Python search runs on one thread")
    rng = random.Random(seed)
    state = _State(problem, slots, candidates, weights, routes)
    movable = [j for j in candidates if problem.jobs[j].in_progress is None]
    if not movable:
        return state.routes()
    neighbours = _neighbours(problem, movable)
    current = state.total()
    best_cost, best_routes = current, state.routes()
    served = max(1, len(state.route_of))
    used = sum(1 for c in state.costs if c) or 1
    arc = max(1.0, sum(state.costs) / (served + used))
    t_start, t_end = ANNEAL_START * arc, ANNEAL_END * arc
    f0, f1 = schedule
    started = time.perf_counter()
    total_time = None if deadline is None else max(1e-3, deadline - started)
    k = 0
    while True:
        if iterations is not None and k >= iterations:
            break
        now = time.perf_counter()
        if deadline is not None and now >= deadline:
            break
        if total_time is not None:
            along = (now - started) / total_time
        else:
            along = k / max(1, iterations or 1)
        frac = f0 + (f1 - f0) * along
        temperature = t_start * (t_end / t_start) ** frac
        k += 1
        touched: dict[int, list[int | None]] = {}
        eliminate = rng.random() < _ELIMINATE
        if eliminate:
            removed = _ruin_route(state, rng, touched)
        else:
            removed = _ruin(state, rng, neighbours, touched)
        if not removed:
            continue
        old_unserved = set(state.unserved)
        _recreate(state, rng, removed, touched, neighbours, open_routes=not eliminate)
        new = state.total()
        if new < current - temperature * math.log(rng.random() or 1e-12):
            current = new
            if new < best_cost:
                best_cost, best_routes = new, state.routes()
        else:
            state.revert(touched, old_unserved)
    return _repair_late(problem, slots, candidates, weights, best_routes)


def _repair_late(
    problem: Problem,
    slots: Sequence[RouteSlot],
    candidates: dict[int, tuple[int, ...]],
    weights: Weights,
    routes: list[list[int | None]],
) -> list[list[int | None]]:
    """Move each late or unserved visit to its cheapest place over every eligible route.

    The search only tries the routes near a visit (granular insertion); a late visit far from
    the others (out of town) may have an on-time place on a route that serves none of its
    neighbours. Each move is kept only if the plan's total cost falls.
    """
    state = _State(problem, slots, candidates, weights, routes)
    todo = [j for late in state.late for j in late] + sorted(state.unserved)
    for j in todo:
        if problem.jobs[j].in_progress is not None:
            continue
        before = state.total()
        touched: dict[int, list[int | None]] = {}
        old_unserved = set(state.unserved)
        v0 = state.route_of.pop(j, None)
        if v0 is not None:
            touched[v0] = list(state.seqs[v0])
            state.seqs[v0].remove(j)
            state.refresh(v0)
            if not _feasible(state.stops[v0], slots[v0]):
                state.revert(touched, old_unserved)
                continue
        state.unserved.discard(j)
        best = cheapest_insertion(
            problem, slots, state.stops, problem.jobs[j], weights, candidates[j]
        )
        if best is None or best[0] >= state.penalty(j):
            state.unserved.add(j)
        else:
            _, v, p = best
            touched.setdefault(v, list(state.seqs[v]))
            state.seqs[v].insert(p, j)
            state.route_of[j] = v
            state.refresh(v)
        if state.total() >= before:
            state.revert(touched, old_unserved)
    return state.routes()


def _ruin(
    state: _State,
    rng: random.Random,
    neighbours: dict[int, list[int]],
    touched: dict[int, list[int | None]],
) -> list[int]:
    served = list(state.route_of)
    if not served:
        return []
    seed_job = served[rng.randrange(len(served))]
    if rng.random() < 0.5:
        # Aim half of the ruins at late visits: lateness is what planners see first.
        late = [j for jobs in state.late for j in jobs if state.problem.jobs[j].in_progress is None]
        if late:
            seed_job = late[rng.randrange(len(late))]
    sizes = [sum(1 for j in state.seqs[v] if j is not None) for v in set(state.route_of.values())]
    avg_len = sum(sizes) / len(sizes)
    l_max = min(_MAX_STRING, avg_len)
    k_max = 4 * _AVG_REMOVED / (1 + l_max) - 1
    k_routes = int(rng.uniform(1, k_max + 1))
    removed: list[int] = []
    for j in neighbours.get(seed_job, [seed_job]):
        if len(touched) >= k_routes:
            break
        v = state.route_of.get(j)
        if v is None or v in touched:
            continue
        seq = state.seqs[v]
        touched[v] = list(seq)
        jobs_in = [i for i, x in enumerate(seq) if x is not None]
        size = len(jobs_in)
        length = min(size, int(rng.uniform(1, l_max + 1)))
        pos = jobs_in.index(seq.index(j))
        first = max(0, min(pos - rng.randrange(length), size - length))
        chosen = jobs_in[first : first + length]
        if rng.random() < 0.5 and size > length:
            # Split string: keep one inner run of visits, as SISR's bypass does.
            extra = min(size - length, 1 + int(rng.random() * 2))
            total = length + extra
            first = max(0, min(pos - rng.randrange(total), size - total))
            span = jobs_in[first : first + total]
            keep_at = rng.randrange(total - extra + 1)
            kept = set(span[keep_at : keep_at + extra])
            chosen = [i for i in span if i not in kept]
        drop = {
            i
            for i in chosen
            if (x := seq[i]) is not None and state.problem.jobs[x].in_progress is None
        }
        state.seqs[v] = [x for i, x in enumerate(seq) if i not in drop]
        state.refresh(v)
        if not _feasible(state.stops[v], state.slots[v]) and not _replace_break(state, v):
            # Taking visits out moved the break to a place it no longer fits: keep the route.
            state.seqs[v] = list(seq)
            state.refresh(v)
            continue
        for i in sorted(drop):
            x = seq[i]
            assert x is not None
            removed.append(x)
            state.route_of.pop(x, None)
    return removed


def _ruin_route(
    state: _State, rng: random.Random, touched: dict[int, list[int | None]]
) -> list[int]:
    """Empty the shorter of two routes drawn at random (route elimination).

    String removals rarely empty a route, and a greedy re-insertion reopens one whenever a
    round trip is cheaper than a detour; plans then keep more, shorter routes than they need.
    Emptying a whole route and re-inserting its visits into the others (never into an idle
    engineer-day) lets the annealing weigh the plan with one route fewer.
    """
    used = sorted(set(state.route_of.values()))
    if len(used) < 2:
        return []
    a, b = used[rng.randrange(len(used))], used[rng.randrange(len(used))]
    size = state.stops
    v = a if size[a].n_visits <= size[b].n_visits else b
    seq = state.seqs[v]
    if any(j is not None and state.problem.jobs[j].in_progress is not None for j in seq):
        return []
    touched[v] = list(seq)
    removed = [j for j in seq if j is not None]
    state.seqs[v] = [None] if state.slots[v].break_ is not None else []
    state.refresh(v)
    for j in removed:
        state.route_of.pop(j, None)
    return removed


def _replace_break(state: _State, v: int) -> bool:
    """Move the break of route ``v`` to the cheapest position where the route is feasible."""
    seq = state.seqs[v]
    if None not in seq:
        return False
    jobs = [j for j in seq if j is not None]
    best: tuple[int, list[int | None]] | None = None
    for i in range(len(jobs) + 1):
        state.seqs[v] = [*jobs[:i], None, *jobs[i:]]
        state.refresh(v)
        if _feasible(state.stops[v], state.slots[v]) and (best is None or state.costs[v] < best[0]):
            best = (state.costs[v], list(state.seqs[v]))
    if best is None:
        state.seqs[v] = seq
        state.refresh(v)
        return False
    state.seqs[v] = best[1]
    state.refresh(v)
    return True


def _recreate(
    state: _State,
    rng: random.Random,
    removed: list[int],
    touched: dict[int, list[int | None]],
    neighbours: dict[int, list[int]],
    *,
    open_routes: bool = True,
) -> None:
    problem = state.problem
    order = list(removed) + [j for j in state.unserved if j not in removed]
    how = rng.random()
    if how < 0.4:
        rng.shuffle(order)
    elif how < 0.7:
        order.sort(key=lambda j: -problem.jobs[j].demand)
    elif how < 0.85:
        order.sort(key=lambda j: -_far(problem, state, j))
    else:
        order.sort(key=lambda j: problem.jobs[j].latest_start() or 2**62)
    state.unserved = set()
    empty_seen: set[tuple[int, int]] = set()
    for j in order:
        job = problem.jobs[j]
        best: tuple[int, int, int] | None = None
        empty_seen.clear()
        # Granular insertion: only routes serving one of the job's nearest neighbours, and
        # empty routes; a job fits elsewhere only at a higher cost.
        near = {state.route_of.get(k) for k in neighbours.get(j, ())[:_GRANULAR]}
        stops = state.stops
        for v in state.candidates[j]:
            if stops[v].n_visits:
                if v not in near:
                    continue
            else:
                if not open_routes:
                    continue
                # Identical empty engineer-days give identical insertions: try one of each.
                key = (state.empty_class[v], state.slots[v].engineer if job.skills else -1)
                if key in empty_seen:
                    continue
                empty_seen.add(key)
            if rng.random() < _BLINK:
                continue
            found = best_in_slot(problem, state.slots[v], state.stops[v], job, state.weights)
            if found is not None and (best is None or found[0].cost < best[0]):
                best = (found[0].cost, v, found[1])
        if best is None or best[0] >= state.penalty(j):
            state.unserved.add(j)
            continue
        _, v, p = best
        if v not in touched:
            touched[v] = list(state.seqs[v])
        state.seqs[v].insert(p, j)
        state.route_of[j] = v
        state.refresh(v)


def _far(problem: Problem, state: _State, j: int) -> int:
    slot = state.slots[state.candidates[j][0]]
    return problem.durations[slot.start_location][problem.jobs[j].location]
