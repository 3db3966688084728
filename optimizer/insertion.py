"""Fast insertion of one new job into current routes, without re-solving.

For each route the earliest service starts are computed forward and the latest starts that keep
every later stop feasible are computed backward, so that a candidate position is accepted or
rejected in constant time; lateness effects are then propagated forward only as far as the
delay is not absorbed by waiting. The break is treated as a stop at the previous location.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass

from optimizer.costs import assignment_cost
from optimizer.eligibility import (
    Reason,
    RouteSlot,
    check_job,
    earliest_feasible_start,
    route_slots,
    start_bounds,
)
from optimizer.params import Weights
from optimizer.problem import Job, Priority, Problem, VisitStatus
from optimizer.solution import Route


@dataclass(frozen=True, slots=True)
class InsertionOption:
    """The best way to add a job to one engineer-day.

    Parameters
    ----------
    engineer_id, day
        The route.
    position
        Number of visits before the new one (0 = first visit).
    arrival, start
        ETA and service start of the new visit.
    added_travel_s, added_distance
        Extra travel time and distance of the route.
    newly_late
        Ids of the jobs of the route that would become late (or later) against their promise.
    added_lateness_s
        Extra lateness of the other jobs in total.
    lateness_s
        Lateness of the new job against its promise.
    cost
        Added objective cost (travel, lateness, over-qualification), in cost units.
    """

    engineer_id: str
    day: int
    position: int
    arrival: int
    start: int
    added_travel_s: int
    added_distance: int
    newly_late: tuple[str, ...]
    added_lateness_s: int
    lateness_s: int
    cost: int


class _Stops:
    """A route as parallel arrays of stops, the break included as a stop."""

    __slots__ = (
        "departure",
        "earliest",
        "end_limit",
        "fixed_prefix",
        "has_promises",
        "jobs",
        "latest",
        "load",
        "locations",
        "n_visits",
        "pinned",
        "service",
    )

    def __init__(
        self,
        problem: Problem,
        slot: RouteSlot,
        sequence: Sequence[Job | None],
        weights: Weights,
    ) -> None:
        dur = problem.durations
        self.jobs: list[Job | None] = list(sequence)
        real = [j for j in self.jobs if j is not None]
        self.has_promises = any(j.promise_due is not None for j in real)
        self.fixed_prefix = 0
        for i, j in enumerate(self.jobs):
            if j is not None and j.in_progress is not None:
                self.fixed_prefix = i + 1
        self.n_visits = len(real)
        self.load = sum(j.demand for j in real)
        self.departure = slot.start_time
        brk = slot.break_
        n = len(self.jobs)
        self.locations = [0] * n
        self.service = [0] * n
        self.pinned: list[int | None] = [None] * n
        self.earliest = [0] * n
        self.latest = [0] * n
        # Each job's latest allowed start, computed once for the backward pass.
        his: list[int | None] = [None] * n
        loc, t = slot.start_location, slot.start_time
        for i, job in enumerate(self.jobs):
            if job is None:
                assert brk is not None
                self.locations[i] = loc
                self.service[i] = brk.duration_s
                s = max(t, brk.earliest_start)
            else:
                self.locations[i] = job.location
                self.service[i] = job.service_s
                ip = job.in_progress
                lo, his[i] = start_bounds(job, weights)
                if ip is not None and ip.status is VisitStatus.ON_SITE:
                    self.pinned[i] = ip.started_at
                    s = ip.started_at if ip.started_at is not None else t
                else:
                    arrival = t + dur[loc][job.location]
                    if lo is not None and lo > arrival:
                        arrival = lo
                    first = earliest_feasible_start(job, arrival) if ip is None else arrival
                    s = arrival if first is None else first
                loc = job.location
            self.earliest[i] = s
            t = s + self.service[i]
        end_limit = slot.end_time
        if slot.max_work_s is not None:
            end_limit = min(end_limit, slot.start_time + slot.max_work_s)
        self.end_limit = end_limit
        bound = end_limit
        next_loc = slot.end_location
        for i in range(n - 1, -1, -1):
            job = self.jobs[i]
            if job is None:
                # The break stands at the previous stop's location: the travel to the next stop
                # follows it.
                assert brk is not None
                here = self.locations[i]
                latest = min(bound - dur[here][next_loc] - brk.duration_s, brk.latest_start)
                self.latest[i] = latest
                bound, next_loc = latest, here
                continue
            limit = bound - dur[job.location][next_loc] - job.service_s
            self.latest[i] = _latest_start(job, limit, his[i])
            bound = self.latest[i]
            next_loc = job.location


def _latest_start(job: Job, limit: int, hi: int | None) -> int:
    """Latest start of ``job`` that keeps the stops after it feasible; ``hi`` from
    :func:`~optimizer.eligibility.start_bounds`."""
    ip = job.in_progress
    if ip is not None and ip.status is VisitStatus.ON_SITE and ip.started_at is not None:
        return ip.started_at if ip.started_at <= limit else -(2**62)
    if hi is not None and hi < limit:
        limit = hi
    if ip is not None or not job.windows:
        return limit
    for w in reversed(job.windows):
        if w.start <= limit:
            return min(limit, w.end)
    return -(2**62)


def _route_stops(
    problem: Problem, slot: RouteSlot, route: Route | None, weights: Weights
) -> _Stops:
    if route is None:
        return empty_stops(problem, slot, weights)
    jobs: list[Job | None] = [problem.jobs[problem.job_position(v.job_id)] for v in route.visits]
    if slot.break_ is not None:
        break_index = len(jobs)
        if route.break_start is not None:
            for i, v in enumerate(route.visits):
                if v.start >= route.break_start:
                    break_index = i
                    break
        jobs.insert(break_index, None)
    return _Stops(problem, slot, jobs, weights)


StopsCache = MutableMapping[tuple[int, int], tuple[RouteSlot, Route | None, Weights, _Stops]]
"""Routes' stops kept between insertions into the same routes (a service's quotes on one view
of its routes), by the identity of the slot and the route; see :func:`best_insertions`."""


def _cached_stops(
    cache: StopsCache | None,
    problem: Problem,
    slot: RouteSlot,
    route: Route | None,
    weights: Weights,
) -> _Stops:
    """The route's stops, from ``cache`` when they were made for this very slot and route
    object with the same weights (the objects are held in the entry, so an identity is never
    another object's)."""
    if cache is None:
        return _route_stops(problem, slot, route, weights)
    key = (id(slot), id(route))
    found = cache.get(key)
    if found is not None and found[0] is slot and found[1] is route and found[2] == weights:
        return found[3]
    stops = _route_stops(problem, slot, route, weights)
    cache[key] = (slot, route, weights, stops)
    return stops


def empty_stops(problem: Problem, slot: RouteSlot, weights: Weights) -> _Stops:
    """Return the stops of an empty route of ``slot`` (just the break, if any)."""
    return _Stops(problem, slot, [None] if slot.break_ is not None else [], weights)


def sequence_stops(
    problem: Problem, slot: RouteSlot, sequence: Sequence[Job | None], weights: Weights
) -> _Stops:
    """Return the stops of a route given as jobs in order, ``None`` marking the break."""
    return _Stops(problem, slot, sequence, weights)


def best_in_slot(
    problem: Problem, slot: RouteSlot, stops: _Stops, job: Job, weights: Weights
) -> tuple[InsertionOption, int] | None:
    """Return the cheapest feasible insertion into a route and its index among the stops."""
    outcome = _best_in_route(problem, slot, stops, job, weights)
    return None if isinstance(outcome, _Blocked) else outcome


def cheapest_insertion(
    problem: Problem,
    slots: Sequence[RouteSlot],
    stops: Sequence[_Stops],
    job: Job,
    weights: Weights,
    allowed: Sequence[int],
) -> tuple[int, int, int] | None:
    """Return ``(cost, slot, stop index)`` of the cheapest feasible insertion over ``allowed``."""
    best: tuple[int, int, int] | None = None
    for v in allowed:
        found = best_in_slot(problem, slots[v], stops[v], job, weights)
        if found is not None and (best is None or found[0].cost < best[0]):
            best = (found[0].cost, v, found[1])
    return best


@dataclass(frozen=True, slots=True)
class _Blocked:
    reason: Reason
    message: str


def _best_in_route(
    problem: Problem,
    slot: RouteSlot,
    stops: _Stops,
    job: Job,
    weights: Weights,
) -> tuple[InsertionOption, int] | _Blocked:
    if slot.capacity is not None and stops.load + job.demand > slot.capacity:
        return _Blocked(Reason.FULL, "the van is full")
    if slot.max_visits is not None and stops.n_visits + 1 > slot.max_visits:
        return _Blocked(Reason.FULL, "the engineer-day has its maximum number of visits")
    dur, dist = problem.durations, problem.distances
    jl = job.location
    lo, hi = start_bounds(job, weights)
    _, hi_uncapped = start_bounds(job, None)
    n = len(stops.jobs)
    first_free = stops.fixed_prefix
    eng = problem.engineers[slot.engineer]
    fixed_cost = assignment_cost(job, eng, eng.shifts[slot.shift].day, weights)
    late_w = weights.lateness_per_s
    own_w = late_w[job.priority]
    due = job.promise_due
    w_t, w_d = weights.travel_per_s, weights.distance_per_unit
    dur_from = dur[jl]
    locations, earliest, service, latest = (
        stops.locations,
        stops.earliest,
        stops.service,
        stops.latest,
    )
    brk = slot.break_
    best: tuple[int, int, int, int, int, int] | None = None  # cost, p, arrival, start, travel, dist
    late_only = False
    # First the detour of every position (it bounds the cost from below), then the positions in
    # order of detour, stopping once the detour alone costs more than the best feasible one.
    detours: list[tuple[int, int, int, int, int, int]] = []
    start_p = first_free
    # A visit under way is where the route begins: the engineer is on it now. One on site
    # started when it did, whatever time the route starts (the engineer is already there).
    ip = job.in_progress
    pinned = ip.started_at if ip is not None and ip.status is VisitStatus.ON_SITE else None
    last_p = 0 if ip is not None else n
    if lo is not None and ip is None:
        # Latest starts only grow along the route: before a visit whose latest start is earlier
        # than this job could even finish, there is no room. A break just before the first
        # position left is kept: the travel after it changes with the job's site.
        start_p = max(first_free, bisect.bisect_left(latest, lo + job.service_s))
        if start_p > first_free and stops.jobs[start_p - 1] is None:
            start_p -= 1
    for p in range(start_p, last_p + 1):
        if p > 0:
            prev_loc = locations[p - 1]
            prev_dep = earliest[p - 1] + service[p - 1]
        else:
            prev_loc, prev_dep = slot.start_location, stops.departure
        if hi_uncapped is not None and prev_dep > hi_uncapped and pinned is None:
            # Departures only grow along the route: no later position can start in time.
            break
        if p < n and stops.jobs[p] is None:
            next_loc = locations[p + 1] if p + 1 < n else slot.end_location
            old_from = locations[p]
        else:
            next_loc = locations[p] if p < n else slot.end_location
            old_from = prev_loc
        added_travel = dur[prev_loc][jl] + dur_from[next_loc] - dur[old_from][next_loc]
        added_dist = dist[prev_loc][jl] + dist[jl][next_loc] - dist[old_from][next_loc]
        detour = w_t * added_travel + w_d * added_dist + fixed_cost
        detours.append((detour, p, prev_loc, prev_dep, added_travel, added_dist))
    detours.sort()
    for cost, p, prev_loc, prev_dep, added_travel, added_dist in detours:
        if best is not None and cost > best[0]:
            break
        arrival = prev_dep + dur[prev_loc][jl]
        s = (
            pinned
            if pinned is not None
            else earliest_feasible_start(job, arrival if lo is None or arrival >= lo else lo)
        )
        if s is None:
            continue
        if hi is not None and s > hi:
            if hi_uncapped is None or s <= hi_uncapped:
                late_only = True
            continue
        if due is not None and s > due:
            cost += own_w * (s - due)
            if best is not None and cost > best[0]:
                continue
        t = s + job.service_s
        # Constant-time test: the next stop must start no later than its latest start.
        if p < n:
            nxt = stops.jobs[p]
            if nxt is None:
                # The break now stands at the new job's site, which changes the travel after it.
                assert brk is not None
                s_break = t if t > earliest[p] else earliest[p]
                if s_break > brk.latest_start:
                    continue
                t_after = s_break + brk.duration_s
                if p + 1 < n:
                    after = stops.jobs[p + 1]
                    assert after is not None
                    s_after = _start_at(
                        after, stops.pinned[p + 1], t_after + dur_from[after.location]
                    )
                    if s_after is None or s_after > latest[p + 1]:
                        continue
                elif t_after + dur_from[slot.end_location] > stops.end_limit:
                    continue
            else:
                s_next = _start_at(nxt, stops.pinned[p], t + dur_from[nxt.location])
                if s_next is None or s_next > latest[p]:
                    continue
        elif t + dur_from[slot.end_location] > stops.end_limit:
            continue
        if stops.has_promises:
            _, _, late_cost = _propagate(problem, stops, p, t, jl, late_w)
            cost += late_cost
        # The cheapest position wins; between equal costs, the earliest one.
        if best is None or cost < best[0] or (cost == best[0] and p < best[1]):
            best = (cost, p, arrival, s, added_travel, added_dist)
    if best is not None:
        cost, p, arrival, s, added_travel, added_dist = best
        newly_late: tuple[str, ...] = ()
        added_late = 0
        if stops.has_promises:
            newly_late, added_late, _ = _propagate(problem, stops, p, s + job.service_s, jl, late_w)
        option = InsertionOption(
            engineer_id=eng.id,
            day=eng.shifts[slot.shift].day,
            position=sum(1 for k in range(p) if stops.jobs[k] is not None),
            arrival=arrival,
            start=s,
            added_travel_s=added_travel,
            added_distance=added_dist,
            newly_late=newly_late,
            added_lateness_s=added_late,
            lateness_s=0 if due is None or s <= due else s - due,
            cost=cost,
        )
        return option, p
    if late_only:
        return _Blocked(Reason.LATE, "the engineer would be later than the allowed lateness")
    return _Blocked(Reason.FULL, "no gap in the engineer-day fits the visit and its windows")


def _start_at(job: Job, pinned: int | None, arrival: int) -> int | None:
    if pinned is not None:
        return pinned
    if job.in_progress is not None:
        return arrival
    return earliest_feasible_start(job, arrival)


def _propagate(
    problem: Problem,
    stops: _Stops,
    p: int,
    t: int,
    loc: int,
    late_w: Mapping[Priority, int],
) -> tuple[tuple[str, ...], int, int]:
    """Push the delay forward from stop ``p``; stop once waiting absorbs it."""
    dur = problem.durations
    newly: list[str] = []
    added = cost = 0
    for i in range(p, len(stops.jobs)):
        other = stops.jobs[i]
        if other is None:
            t = max(t, stops.earliest[i]) + stops.service[i]
            continue
        arrival = t + dur[loc][other.location]
        s_new = _start_at(other, stops.pinned[i], arrival)
        if s_new is None:
            # Its window is missed already (behind a fixed break, say): it starts on arrival,
            # as the route was timed.
            s_new = arrival
        old = stops.earliest[i]
        if s_new <= old:
            break
        if other.promise_due is not None:
            extra = max(0, s_new - other.promise_due) - max(0, old - other.promise_due)
            if extra > 0:
                newly.append(other.id)
                added += extra
                cost += late_w[other.priority] * extra
        t, loc = s_new + other.service_s, other.location
    return tuple(newly), added, cost


def _index_routes(problem: Problem, routes: Sequence[Route]) -> dict[tuple[str, int], Route]:
    return {(r.engineer_id, r.day): r for r in routes}


def best_insertions(
    problem: Problem,
    routes: Sequence[Route],
    job: Job,
    weights: Weights | None = None,
    slots: Sequence[RouteSlot] | None = None,
    stops_cache: StopsCache | None = None,
) -> list[InsertionOption]:
    """Return the cheapest feasible insertion of ``job`` per eligible engineer-day, best first.

    Parameters
    ----------
    problem
        The problem the routes belong to; ``job`` need not be one of its jobs, but its
        location must be a matrix index of the problem.
    routes
        Current routes (e.g. :attr:`Plan.routes`); engineer-days without a route are empty.
    job
        The new job.
    weights
        Objective weights used to rank the options (defaults if ``None``).
    slots
        Route slots of the problem, when the caller already has them.
    stops_cache
        Where to keep each route's stops for the next call with the same slot and route
        objects (a service answering many insertions into one set of routes). The caller
        vouches that the matrix entries among the routes' locations and their jobs are the
        same in every problem it is used with (new locations appended are fine).

    Returns
    -------
    list of InsertionOption
        One option per engineer-day that can take the job without breaking a hard
        constraint, cheapest first.
    """
    weights = weights or Weights()
    options, _, _ = _scan(problem, routes, job, weights, slots, stops_cache)
    return sorted(options, key=lambda o: (o.cost, o.engineer_id, o.day))


def _scan(
    problem: Problem,
    routes: Sequence[Route],
    job: Job,
    weights: Weights,
    slots: Sequence[RouteSlot] | None,
    stops_cache: StopsCache | None = None,
) -> tuple[list[InsertionOption], list[_Blocked], _Blocked | None]:
    all_slots = list(slots) if slots is not None else route_slots(problem)
    eligibility = check_job(problem, job, all_slots, weights)
    if eligibility.reason is not None:
        assert eligibility.message is not None
        return [], [], _Blocked(eligibility.reason, eligibility.message)
    by_key = _index_routes(problem, routes)
    options: list[InsertionOption] = []
    blocked: list[_Blocked] = []
    for i in eligibility.slots:
        slot = all_slots[i]
        eng = problem.engineers[slot.engineer]
        route = by_key.get((eng.id, eng.shifts[slot.shift].day))
        stops = _cached_stops(stops_cache, problem, slot, route, weights)
        outcome = _best_in_route(problem, slot, stops, job, weights)
        if isinstance(outcome, _Blocked):
            blocked.append(outcome)
        else:
            options.append(outcome[0])
    return options, blocked, None


def explain_unassigned(
    problem: Problem,
    routes: Sequence[Route],
    job: Job,
    weights: Weights,
    slots: Sequence[RouteSlot] | None = None,
) -> tuple[Reason, str]:
    """Return why ``job`` is not in a plan made of ``routes``.

    ``COST`` when some engineer-day could take it but dropping it was cheaper; ``LATE`` when
    only the lateness cap stands in the way; ``FULL`` otherwise.
    """
    options, blocked, presolve = _scan(problem, routes, job, weights, slots)
    if presolve is not None:
        return presolve.reason, presolve.message
    if options:
        best = min(options, key=lambda o: o.cost)
        return (
            Reason.COST,
            f"serving it (best: {best.engineer_id} day {best.day}) costs {best.cost}, more than "
            "leaving it out",
        )
    if blocked and all(b.reason is Reason.LATE for b in blocked):
        return Reason.LATE, "every eligible engineer would be later than the allowed lateness"
    return Reason.FULL, "every eligible engineer-day is full or cannot meet the windows"
