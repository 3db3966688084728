"""Out-of-town trips: engineer-days whose start and end locations the search decides.

A site five hours from every base cannot be served by a day that starts and ends at home, and
three sites three hours away cost three return journeys. A *trip* ends an engineer's day at a
lodging near the out-of-town work, starts the next day there, and ends its last day with the
journey home (:class:`~optimizer.problem.TripRules`: at most ``max_days`` days, a cost per
night).

Trips are alternatives generated before the search and chosen by it: the far jobs are grouped
by where one would stay (a configured lodging near them, else the site itself); for each group,
the engineers qualified for most of its jobs (and least needed by the other jobs) and each run
of consecutive shifts up to the longest trip give one alternative, i.e. the problem with those
shifts' start and end moved to the lodging. Each alternative is planned in full by the routing
search, warm-started from the best plan so far (whichever core the parameters name: the trip is
data of the problem, so the compiled core and its Python reference plan it alike), and priced
by one objective: the plan's routes and left-out jobs, the drive of a trip day with no visits,
and the nights. The cheapest alternative is kept, the next group is tried on top of it, and
the chosen trips get the rest of the time.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Sequence

from optimizer.costs import drop_penalty, route_cost
from optimizer.eligibility import route_slots
from optimizer.insertion import InsertionOption, best_insertions
from optimizer.params import SolveParams, Weights
from optimizer.planmode import plan_route
from optimizer.problem import (
    Assignment,
    Break,
    Engineer,
    Job,
    Lock,
    Priority,
    Problem,
    Shift,
    TimeWindow,
    TripRules,
)
from optimizer.solution import Plan, Route, Trip

Solver = Callable[[Problem, SolveParams], Plan]

# A far job stays at a configured lodging this close to it, else at (near) its own site.
LODGING_NEAR_S = 3600
# Far jobs whose lodgings are this close share one: one trip can serve them all.
GROUP_RADIUS_S = 90 * 60
# Engineers tried per group of far jobs (see _alternatives for their order).
ENGINEERS_PER_GROUP = 3
# Shares of the time limit: the plan without new trips, then trying each alternative (warm
# started from the best plan so far); the chosen trips get the rest.
BASE_SHARE = 0.25
EVALUATION_SHARE = 0.35
# No alternative is planned in less than this (or in more than a fifth of the limit).
MIN_EVALUATION_S = 0.2


def with_trips(problem: Problem, trips: Sequence[Trip]) -> Problem:
    """The problem with each trip's shifts starting and ending at its lodging."""
    by_engineer: dict[str, list[Trip]] = {}
    for trip in trips:
        by_engineer.setdefault(trip.engineer_id, []).append(trip)
    if not by_engineer:
        return problem
    engineers = []
    for eng in problem.engineers:
        mine = by_engineer.get(eng.id)
        if not mine:
            engineers.append(eng)
            continue
        shifts = list(eng.shifts)
        for trip in mine:
            for i, shift in enumerate(shifts):
                if not trip.first_day <= shift.day <= trip.last_day:
                    continue
                start = shift.start_location if shift.day == trip.first_day else trip.lodging
                end = shift.end_location if shift.day == trip.last_day else trip.lodging
                drive = 0
                if shift.day == trip.first_day:
                    drive = problem.durations[start][trip.lodging]
                elif shift.day == trip.last_day:
                    drive = problem.durations[trip.lodging][end]
                shifts[i] = dataclasses.replace(
                    shift,
                    start_location=start,
                    end_location=end,
                    break_=on_the_road(shift, drive),
                )
        engineers.append(dataclasses.replace(eng, shifts=tuple(shifts)))
    return dataclasses.replace(problem, engineers=tuple(engineers))


def on_the_road(shift: Shift, drive: int) -> Break | None:
    """The shift's break as a trip's travel day has it: lunch may be taken on the road.

    The searches place a break as a stop before the next leg. On the day of a long drive to or
    from the lodging, a break taken during the drive is a stop that may begin up to the drive's
    length before the break's window opens (the engineer drives first, then stops): its
    earliest start moves back by the drive, never before the shift starts.
    """
    brk = shift.break_
    if brk is None or drive <= 0:
        return brk
    earliest = max(shift.start, brk.earliest_start - drive)
    return Break(earliest, brk.latest_end, brk.duration_s)


def home_of(engineer: Engineer) -> int:
    """Where the engineer's days end when not away: a shift starting and ending at the same
    place, else the last shift's end."""
    ordered = sorted(engineer.shifts, key=lambda s: s.start)
    same = [s for s in ordered if s.start_location == s.end_location]
    return (same[0] if same else ordered[-1]).end_location


def solve_with_trips(problem: Problem, params: SolveParams, solve_fixed: Solver) -> Plan:
    """Plan ``problem`` choosing its out-of-town trips (see the module's notes).

    Without :attr:`Problem.trips`, with trips switched off or with no far job, this is
    ``solve_fixed(problem, params)``. The plan returned lists its :attr:`Plan.trips`; its routes
    are timed in ``with_trips(problem, plan.trips)``, and a trip day with no visit is a route
    with no visits (the drive to or from the lodging).
    """
    rules = problem.trips
    groups = _groups(problem, rules) if rules is not None and rules.max_days >= 2 else []
    if rules is None or not groups:
        return solve_fixed(problem, params)
    started = time.perf_counter()
    weights = params.weights
    limit = params.time_limit_s
    alternatives = [_alternatives(problem, rules, lodging, jobs) for lodging, jobs in groups]
    count = sum(len(a) for a in alternatives)
    base, quick = params, params
    if limit is not None:
        base = dataclasses.replace(params, time_limit_s=limit * BASE_SHARE)
        each = limit * EVALUATION_SHARE / max(count, 1)
        each = min(max(each, MIN_EVALUATION_S), limit / 5)
        quick = dataclasses.replace(params, time_limit_s=each)
    deadline = None if limit is None else started + limit * (BASE_SHARE + EVALUATION_SHARE)

    def attempt(trips: list[Trip], run: SolveParams, start: Plan | None) -> tuple[int, Plan]:
        trip_problem = with_trips(problem, trips)
        anchored = _with_anchors(trip_problem, trips)
        if start is not None:
            anchored = _warm(anchored, start, trips)
        found = _without_anchors(trip_problem, solve_fixed(anchored, run), trips)
        if found is None:
            return UNUSABLE, best_plan
        plan = dataclasses.replace(found, cost=objective(trip_problem, found, weights))
        return plan.cost, plan

    best_plan = solve_fixed(problem, base)  # without trips: no anchor to take out
    best_cost = objective(problem, best_plan, weights)
    # The plan in force, priced like every plan here: the search's cost leaves out the jobs it
    # dropped before searching, which weigh the same in any plan of this problem.
    in_force = best_plan.warm_start_cost
    if in_force is not None:
        in_force += best_cost - best_plan.cost
    best_plan = dataclasses.replace(best_plan, cost=best_cost)
    chosen: list[Trip] = []
    for options in alternatives:
        found: tuple[int, Trip, Plan] | None = None
        for k, trip in enumerate(options):
            # Past the deadline each group still gets its first alternative: on a busy machine
            # the plan without trips may take all the time, and a far job that only a trip
            # reaches must still be given one.
            if k > 0 and deadline is not None and time.perf_counter() >= deadline:
                break
            if any(_overlap(trip, t) for t in chosen):
                continue
            cost, plan = attempt([*chosen, trip], quick, best_plan)
            if cost < best_cost and (found is None or cost < found[0]):
                found = (cost, trip, plan)
        if found is not None:
            best_cost, trip, best_plan = found
            chosen.append(trip)
    final = params
    if limit is not None:
        left = limit - (time.perf_counter() - started)
        final = dataclasses.replace(params, time_limit_s=max(left, MIN_EVALUATION_S))
    cost, plan = attempt(chosen, final, best_plan)
    if cost > best_cost:
        plan = best_plan  # the longer search did worse than the quick one: keep the quick plan
    return dataclasses.replace(
        plan, runtime_s=time.perf_counter() - started, warm_start_cost=in_force
    )


def _warm(problem: Problem, plan: Plan, trips: Sequence[Trip]) -> Problem:
    """The problem starting from ``plan``: each job the customer has not been promised yet
    (whose previous assignment is only a warm start, never a cost) starts where the plan has
    it, except on the days a trip changes, which the search fills afresh."""
    moved = {(t.engineer_id, d) for t in trips for d in range(t.first_day, t.last_day + 1)}
    where = {
        v.job_id: Assignment(r.engineer_id, r.day, k)
        for r in plan.routes
        if (r.engineer_id, r.day) not in moved
        for k, v in enumerate(r.visits)
    }
    jobs = tuple(
        dataclasses.replace(j, previous=where[j.id])
        if not j.promised and j.previous is None and j.id in where
        else j
        for j in problem.jobs
    )
    return dataclasses.replace(problem, jobs=jobs)


def objective(problem: Problem, plan: Plan, weights: Weights) -> int:
    """What a plan costs with its trips, from its published times: every route's travel,
    lateness and assignment costs, a trip day's drive when it has no visit, the penalty of
    every job left out, and the nights away."""
    slots = {
        (problem.engineers[s.engineer].id, problem.engineers[s.engineer].shifts[s.shift].day): s
        for s in route_slots(problem)
    }
    dur, dist = problem.durations, problem.distances
    cost = 0
    for route in plan.routes:
        slot = slots[(route.engineer_id, route.day)]
        if not route.visits:
            a, b = route.start_location, route.end_location
            cost += weights.travel_per_s * dur[a][b] + weights.distance_per_unit * dist[a][b]
            continue
        sequence: list[int | None] = [problem.job_position(v.job_id) for v in route.visits]
        cost += route_cost(problem, slot, sequence, [v.start for v in route.visits], weights)[0]
    for left in plan.unassigned:
        job = problem.job(left.job_id)
        assert job is not None
        cost += drop_penalty(job, weights)
    overnight = problem.trips.overnight_cost if problem.trips is not None else 0
    return cost + overnight * sum(t.nights for t in plan.trips)


ANCHOR_PREFIX = "trip-anchor:"


def _with_anchors(problem: Problem, trips: Sequence[Trip]) -> Problem:
    """The problem the search plans a trip in: each trip's first and last day get an
    *anchor*, a stop of no duration at the lodging locked to that engineer-day.

    The searches price an engineer-day without visits at nothing, since a day that starts and
    ends at home costs nothing when unused. A trip day always drives to or from the lodging, so
    the anchor keeps it a route whose legs are priced like any other: the search cannot save
    the drive to the hotel by moving the day's visits elsewhere.
    """
    anchors = []
    for trip in trips:
        eng = problem.engineer(trip.engineer_id)
        assert eng is not None
        for shift in eng.shifts:
            if shift.day in (trip.first_day, trip.last_day):
                anchors.append(
                    Job(
                        id=f"{ANCHOR_PREFIX}{trip.engineer_id}:{shift.day}",
                        location=trip.lodging,
                        service_s=0,
                        windows=(TimeWindow(shift.start, shift.end),),
                        priority=Priority.URGENT,
                        drop_penalty=ANCHOR_PENALTY,
                        lock=Lock(engineer_id=trip.engineer_id, day=shift.day),
                    )
                )
    return dataclasses.replace(problem, jobs=(*problem.jobs, *anchors))


# The price of an attempt whose plan could not be used.
UNUSABLE = 2**62
# Leaving an anchor out would drop the trip's drive from the price: never worth it.
ANCHOR_PENALTY = 10**15


def _without_anchors(problem: Problem, plan: Plan, trips: Sequence[Trip]) -> Plan | None:
    """The plan on the trip problem with the anchors taken out and the figures recomputed;
    ``None`` when an anchor sat between two visits and the route without it no longer keeps
    its windows (the search would not choose that: it is only a safeguard).

    An anchor is the last stop of a drive-out day (the route ends where it stands) or the first
    of a drive-home day (the route starts there), so taking it out changes no time; a day left
    with no visit is the drive to or from the lodging.
    """
    if not trips:
        return plan
    slots = route_slots(problem)
    routes: list[Route] = []
    for route in plan.routes:
        kept = tuple(v for v in route.visits if not _is_anchor(v.job_id))
        if len(kept) == len(route.visits):
            routes.append(route)
            continue
        inner = [
            k
            for k, v in enumerate(route.visits)
            if _is_anchor(v.job_id) and 0 < k < len(route.visits) - 1
        ]
        if inner:
            retimed, missed = plan_route(
                problem, route.engineer_id, route.day, [v.job_id for v in kept], slots=slots
            )
            if missed:
                return None
            routes.append(retimed)
            continue
        routes.append(dataclasses.replace(route, visits=kept))
    visits = [v for r in routes for v in r.visits]
    late = [v for v in visits if v.lateness_s > 0]
    unassigned = tuple(u for u in plan.unassigned if not _is_anchor(u.job_id))
    kpis = dataclasses.replace(
        plan.kpis,
        assigned=len(visits),
        dropped=len(unassigned),
        late_count=len(late),
        late_s=sum(v.lateness_s for v in late),
        travel_s=sum(r.travel_s for r in routes),
        distance=sum(r.distance for r in routes),
        routes=len(routes),
    )
    return dataclasses.replace(
        plan, routes=tuple(routes), unassigned=unassigned, kpis=kpis, trips=tuple(trips)
    )


def _is_anchor(job_id: str) -> bool:
    return job_id.startswith(ANCHOR_PREFIX)


def trip_insertions(
    problem: Problem,
    routes: Sequence[Route],
    job: Job,
    *,
    max_days: int,
    lodging: int | None = None,
    weights: Weights | None = None,
    far_s: int = TripRules.far_s,
) -> list[tuple[InsertionOption, Trip]]:
    """Where ``job`` fits on a one-night trip: for each engineer and two consecutive working
    days that start and end at home, the days with the first ending at ``lodging`` (default:
    near the job's site) and the second starting there, their visits re-timed so (every window
    still met, every day inside its shift), and the cheapest insertion of the job into either.

    This is the feasibility the search plans trips with, asked for one new job: a promise for
    a far site is made only from a trip that can be routed. Returns (option, trip) pairs,
    cheapest first. A site less than ``far_s`` from every engineer's home is never worth a
    night away (the planner's own rule, :attr:`TripRules.far_s`): the answer is then empty at
    once.
    """
    homes = {home_of(e) for e in problem.engineers if e.shifts}
    if max_days < 2 or not homes:
        return []
    if min(problem.durations[h][job.location] for h in homes) < far_s:
        return []
    stay = job.location if lodging is None else lodging
    by_day = {(r.engineer_id, r.day): r for r in routes}
    found: list[tuple[InsertionOption, Trip]] = []
    for eng in problem.engineers:
        if not _qualified(eng, job):
            continue
        home = home_of(eng)
        shifts = sorted(eng.shifts, key=lambda s: s.start)
        for first, second in itertools.pairwise(shifts):
            if second.day != first.day + 1 or first.end_location != home:
                continue
            if second.start_location != home or first.start_location != first.end_location:
                continue
            trip = Trip(eng.id, first.day, second.day, stay, nights=1)
            trip_problem = with_trips(problem, [trip])
            slots = route_slots(trip_problem)
            retimed = []
            for shift in (first, second):
                old = by_day.get((eng.id, shift.day))
                if old is None or not old.visits:
                    # A day with no visit is the drive to or from the lodging, timed on the
                    # matrix as the search times it (an insertion then re-times it).
                    moved = with_trips_shift(trip_problem, eng.id, shift.day)
                    if problem.durations[moved.start_location][moved.end_location] > _length(moved):
                        break
                    continue
                try:
                    route, missed = plan_route(
                        trip_problem, eng.id, shift.day, [v.job_id for v in old.visits], slots=slots
                    )
                except ValueError:
                    break  # the day is over
                if missed or route.end_time > shift.end:
                    break
                retimed.append(route)
            else:
                mine = [s for s in slots if trip_problem.engineers[s.engineer].id == eng.id]
                options = best_insertions(trip_problem, retimed, job, weights, slots=mine)
                found.extend((o, trip) for o in options if o.day in (first.day, second.day))
    return sorted(found, key=lambda ot: (ot[0].cost, ot[0].start, ot[0].engineer_id))


def with_trips_shift(problem: Problem, engineer_id: str, day: int) -> Shift:
    """The engineer's shift of ``day`` in ``problem``."""
    eng = problem.engineer(engineer_id)
    assert eng is not None
    return next(s for s in eng.shifts if s.day == day)


def _overlap(a: Trip, b: Trip) -> bool:
    return (
        a.engineer_id == b.engineer_id and a.first_day <= b.last_day and b.first_day <= a.last_day
    )


def _groups(problem: Problem, rules: TripRules) -> list[tuple[int, list[int]]]:
    """Far jobs grouped by where an engineer serving them would stay: (lodging, jobs), the
    largest group first."""
    dur = problem.durations
    homes = {home_of(e) for e in problem.engineers if e.shifts}
    if not homes:
        return []
    by_lodging: dict[int, list[int]] = {}
    for j, job in enumerate(problem.jobs):
        if job.in_progress is not None:
            continue
        if min(dur[h][job.location] for h in homes) < rules.far_s:
            continue
        near = [(dur[job.location][lo], lo) for lo in rules.lodgings]
        close = min(near) if near else None
        lodging = close[1] if close is not None and close[0] <= LODGING_NEAR_S else job.location
        by_lodging.setdefault(lodging, []).append(j)
    groups: list[tuple[int, list[int]]] = []
    for lodging, jobs in sorted(by_lodging.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        joined = next(
            (
                g
                for g in groups
                if dur[g[0]][lodging] <= GROUP_RADIUS_S and dur[lodging][g[0]] <= GROUP_RADIUS_S
            ),
            None,
        )
        if joined is not None:
            joined[1].extend(jobs)
        else:
            groups.append((lodging, list(jobs)))
    return groups


def _qualified(engineer: Engineer, job: Job) -> bool:
    return engineer.id not in job.declined_by and all(
        engineer.skills.get(skill, 0) >= level for skill, level in job.skills.items()
    )


def _alternatives(problem: Problem, rules: TripRules, lodging: int, jobs: list[int]) -> list[Trip]:
    """The trips that could serve a group: the engineers qualified for most of its jobs and
    least needed by the others, each run of consecutive shifts from two days to the longest
    trip, the shortest and earliest first."""
    dur = problem.durations
    # The engineers who can do most of the group's jobs first (one trip serves them all); among
    # them, those the other jobs need least (a job only few engineers can do counts for more
    # with each of them), then the nearest.
    able = {e.id: sum(_qualified(e, problem.jobs[j]) for j in jobs) for e in problem.engineers}
    group = set(jobs)
    others = [job for j, job in enumerate(problem.jobs) if j not in group]
    needed = dict.fromkeys(able, 0.0)
    for job in others:
        can = [e.id for e in problem.engineers if _qualified(e, job)]
        for eid in can:
            needed[eid] += 1.0 / len(can)
    qualified = [e for e in problem.engineers if e.shifts and able[e.id]]
    qualified.sort(key=lambda e: (-able[e.id], needed[e.id], dur[home_of(e)][lodging], e.id))
    found: list[Trip] = []
    for eng in qualified[:ENGINEERS_PER_GROUP]:
        found.extend(_runs(eng, rules, lodging, dur))
    found.sort(key=lambda t: (t.last_day - t.first_day, t.first_day))
    return found


def _runs(
    eng: Engineer, rules: TripRules, lodging: int, dur: tuple[tuple[int, ...], ...]
) -> list[Trip]:
    home = home_of(eng)
    shifts = sorted(eng.shifts, key=lambda s: s.start)
    away = rules.away_days.get(eng.id, 0)
    out: list[Trip] = []
    for a, first in enumerate(shifts):
        already = away if a == 0 and first.start_location != home else 0
        if first.end_location != home or (first.start_location != home and not already):
            continue
        if dur[first.start_location][lodging] > _length(first):
            continue  # cannot even reach the lodging on the first day
        for b in range(a + 1, len(shifts)):
            last = shifts[b]
            if last.day != shifts[b - 1].day + 1 or last.start_location != home:
                break  # trips run over consecutive days of work
            if b - 1 > a and shifts[b - 1].end_location != home:
                break
            if b - a + 1 + already > rules.max_days:
                break
            if dur[lodging][last.end_location] <= _length(last):
                out.append(Trip(eng.id, first.day, last.day, lodging, nights=b - a))
    return out


def _length(shift: Shift) -> int:
    return shift.end - shift.start


__all__ = ["home_of", "objective", "solve_with_trips", "trip_insertions", "with_trips"]
