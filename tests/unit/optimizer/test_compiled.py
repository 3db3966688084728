"""The compiled search core against the Python reference, on random small field days.

Every property compares the two implementations on the same input: the timing and cost of a
route, the cheapest insertion of a job (its cost and its position), and a whole search, whose
plan must keep every hard constraint and cost what the Python objective says it costs.
"""

from __future__ import annotations

import importlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (
    Assignment,
    Break,
    CurrentPosition,
    Engineer,
    InProgress,
    Job,
    Lock,
    PlanStatus,
    Priority,
    Problem,
    SearchCore,
    Shift,
    SolveParams,
    TimeWindow,
    VisitStatus,
    Weights,
    compiled,
    solve,
)
from optimizer.construct import construct_routes
from optimizer.eligibility import RouteSlot, check_job, route_slots
from optimizer.insertion import best_in_slot, sequence_stops
from optimizer.search import _feasible, _State, ruin_and_recreate, timed_routes, with_break
from tests.unit.optimizer.checker import check_plan


@st.composite
def field_days(draw: st.DrawFn) -> Problem:
    """Several windows per job, promises, priorities, skills, breaks, limits, locks, previous
    assignments and visits under way."""
    n_loc = draw(st.integers(3, 10))
    xs = draw(st.lists(st.integers(0, 60), min_size=n_loc, max_size=n_loc))
    ys = draw(st.lists(st.integers(0, 60), min_size=n_loc, max_size=n_loc))
    durations = tuple(
        tuple(abs(xs[a] - xs[b]) + abs(ys[a] - ys[b]) for b in range(n_loc)) for a in range(n_loc)
    )
    distances = tuple(tuple(2 * d + 1 if d else 0 for d in row) for row in durations)
    n_jobs = draw(st.integers(1, 9))
    locations = [draw(st.integers(0, n_loc - 1)) for _ in range(n_jobs)]
    engineers = []
    under_way: dict[int, tuple[str, VisitStatus, int]] = {}
    for e in range(draw(st.integers(1, 3))):
        base = e % n_loc
        brk = Break(100, 220, 20) if draw(st.booleans()) else None
        shift = Shift(
            day=0,
            start=0,
            end=draw(st.integers(300, 500)),
            start_location=base,
            end_location=base,
            break_=brk,
            max_visits=draw(st.one_of(st.none(), st.integers(1, 5))),
            max_work_s=draw(st.one_of(st.none(), st.integers(200, 500))),
        )
        current = None
        if n_jobs > 1 and draw(st.integers(0, 3)) == 0:
            j = draw(st.integers(0, n_jobs - 1))
            if j not in under_way:
                on_site = draw(st.booleans())
                now = draw(st.integers(0, 60))
                where = locations[j] if on_site else base
                current = CurrentPosition(location=where, time=now)
                status = VisitStatus.ON_SITE if on_site else VisitStatus.EN_ROUTE
                under_way[j] = (f"e{e}", status, now)
        engineers.append(
            Engineer(
                id=f"e{e}",
                skills={"gas": draw(st.integers(1, 5))},
                shifts=(shift,),
                capacity=draw(st.one_of(st.none(), st.integers(2, 6))),
                current=current,
            )
        )
    jobs = []
    for j in range(n_jobs):
        windows: tuple[TimeWindow, ...] = ()
        if draw(st.booleans()):
            t = draw(st.integers(0, 200))
            parts = []
            for _ in range(draw(st.integers(1, 3))):
                end = t + draw(st.integers(10, 90))
                parts.append(TimeWindow(t, end))
                t = end + draw(st.integers(1, 60))
            windows = tuple(parts)
        ip = None
        if j in under_way:
            eid, status, now = under_way[j]
            ip = InProgress(eid, status, now if status is VisitStatus.ON_SITE else None)
            windows = ()
        lock = None
        if ip is None and draw(st.integers(0, 5)) == 0:
            lock = Lock(engineer_id=f"e{draw(st.integers(0, len(engineers) - 1))}")
        elif ip is None and not windows and draw(st.integers(0, 5)) == 0:
            lock = Lock(start=draw(st.integers(20, 250)))
        previous = None
        promised = False
        if ip is None and draw(st.integers(0, 3)) == 0:
            promised = True
            previous = Assignment(f"e{draw(st.integers(0, len(engineers) - 1))}", 0, 0)
        jobs.append(
            Job(
                id=f"j{j}",
                location=locations[j],
                service_s=draw(st.integers(0, 40)),
                windows=windows,
                promise_due=draw(st.one_of(st.none(), st.integers(0, 400))),
                priority=draw(st.sampled_from(list(Priority))),
                # A visit under way was dispatched to its engineer: it fits the van and skills.
                skills={"gas": draw(st.integers(1, 5))} if draw(st.booleans()) and not ip else {},
                demand=0 if ip else draw(st.integers(0, 3)),
                drop_penalty=draw(st.one_of(st.none(), st.integers(50, 5000))),
                lock=lock,
                in_progress=ip,
                promised=promised,
                previous=previous,
            )
        )
    return Problem(
        durations=durations, distances=distances, jobs=tuple(jobs), engineers=tuple(engineers)
    )


def _setup(problem: Problem, capped: bool) -> tuple:
    weights = Weights(max_lateness_s=60 if capped else None, distance_per_unit=1)
    slots = route_slots(problem)
    candidates = {}
    for j, job in enumerate(problem.jobs):
        elig = check_job(problem, job, slots, weights)
        if elig.reason is None:
            candidates[j] = elig.slots
    return weights, slots, candidates


def _random_sequences(problem, slots, candidates, rng: random.Random) -> list[list[int | None]]:
    """Routes drawn at random: each candidate job on one of its slots or left out, in a random
    order, the break at a random place; visits under way first."""
    seqs: list[list[int | None]] = [[] for _ in slots]
    for j, allowed in candidates.items():
        if rng.random() < 0.8:
            seqs[rng.choice(allowed)].append(j)
    out = []
    for v, seq in enumerate(seqs):
        rng.shuffle(seq)
        seq.sort(key=lambda j: problem.jobs[j].in_progress is None)
        if slots[v].break_ is not None:
            seq.insert(rng.randrange(len(seq) + 1), None)
        out.append(seq)
    return out


settings_ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_extension_is_built() -> None:
    """The install compiled the core: the module imports and is a binary extension."""
    module = importlib.import_module("optimizer._core")
    assert module.__file__ is not None and not module.__file__.endswith(".py")


@settings_
@given(field_days(), st.booleans(), st.integers(0, 2**16))
def test_route_timing_and_cost_match_the_reference(problem: Problem, capped: bool, seed: int):
    """Any sequence, feasible or not: same feasibility, cost, earliest and latest starts."""
    weights, slots, candidates = _setup(problem, capped)
    core = compiled.pack(problem, slots, candidates, weights)
    state = _State(problem, slots, candidates, weights, [[] for _ in slots])
    for v, seq in enumerate(_random_sequences(problem, slots, candidates, random.Random(seed))):
        jobs = [None if j is None else problem.jobs[j] for j in seq]
        stops = sequence_stops(problem, slots[v], jobs, weights)
        state.seqs[v], state.stops[v] = seq, stops
        cost = state._cost(v)
        feasible, c_cost, earliest, latest, late = core.route(v, compiled.to_core(seq))
        assert (feasible, c_cost, earliest, latest, late) == (
            _feasible(stops, slots[v]),
            cost,
            stops.earliest,
            stops.latest,
            state.late[v],
        )


@settings_
@given(field_days(), st.booleans(), st.integers(0, 2**16))
def test_best_insertion_matches_the_reference(problem: Problem, capped: bool, seed: int) -> None:
    """Into every feasible route, every other candidate job: same cost and same position."""
    weights, slots, candidates = _setup(problem, capped)
    core = compiled.pack(problem, slots, candidates, weights)
    plans = [construct_routes(problem, slots, candidates, weights)]
    plans.append(_random_sequences(problem, slots, candidates, random.Random(seed)))
    for plan in plans:
        for v, given_seq in enumerate(plan):
            seq = with_break(problem, slots[v], given_seq)
            jobs = [None if j is None else problem.jobs[j] for j in seq]
            stops = sequence_stops(problem, slots[v], jobs, weights)
            if not _feasible(stops, slots[v]):
                continue
            for j, allowed in candidates.items():
                if j in seq or v not in allowed or problem.jobs[j].in_progress is not None:
                    continue
                ours = best_in_slot(problem, slots[v], stops, problem.jobs[j], weights)
                expected = None if ours is None else (ours[0].cost, ours[1])
                assert core.best_insertion(v, compiled.to_core(seq), j) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field_days(), st.booleans(), st.integers(0, 1000), st.sampled_from([1, 2]))
def test_the_compiled_search_keeps_every_constraint_and_prices_as_python_does(
    problem: Problem, capped: bool, seed: int, threads: int
) -> None:
    """Its plan keeps hard constraints, each job once on an eligible day, and is no dearer."""
    weights, slots, candidates = _setup(problem, capped)
    if not candidates:
        return
    start = construct_routes(problem, slots, candidates, weights)
    before = _State(problem, slots, candidates, weights, start).total()
    routes = compiled.ruin_and_recreate(
        problem, slots, candidates, weights, start, iterations=200, seed=seed, threads=threads
    )
    assert timed_routes(problem, slots, weights, routes) is not None
    served = [j for seq in routes for j in seq if j is not None]
    assert len(served) == len(set(served))
    for v, seq in enumerate(routes):
        assert all(v in candidates[j] for j in seq if j is not None)
    assert _State(problem, slots, candidates, weights, routes).total() <= before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field_days(), st.booleans())
def test_plans_of_both_cores_pass_the_checker(problem: Problem, capped: bool) -> None:
    """Whichever core searches, the plan passes the independent checker; a day whose visits
    under way cannot all be kept has no solution for either core."""
    weights = Weights(max_lateness_s=60 if capped else None)
    statuses = set()
    for core in SearchCore:
        params = SolveParams(time_limit_s=0.3, ruin_iterations=100, weights=weights, core=core)
        plan = solve(problem, params)
        statuses.add(plan.status)
        if plan.status is PlanStatus.SOLVED:
            assert plan.is_feasible()
            check_plan(problem, plan, weights.max_lateness_s)
    assert len(statuses) == 1


def test_one_thread_with_iterations_is_deterministic() -> None:
    """Same problem, seed and iterations: the same plan, run after run."""
    rng = random.Random(5)
    points = [rng.randrange(100) for _ in range(30)]
    durations = tuple(tuple(abs(a - b) for b in points) for a in points)
    jobs = tuple(
        Job(f"j{i}", i, 5, windows=(TimeWindow(rng.randrange(300), 1000),)) for i in range(1, 30)
    )
    engineers = tuple(
        Engineer(f"e{k}", skills={}, shifts=(Shift(0, 0, 1000, 0, 0),)) for k in range(4)
    )
    problem = Problem(durations=durations, distances=durations, jobs=jobs, engineers=engineers)
    params = SolveParams(time_limit_s=None, solution_limit=1, ruin_iterations=300, seed=3)
    first = solve(problem, params)
    assert [r.visits for r in solve(problem, params).routes] == [r.visits for r in first.routes]


def test_threads_need_the_compiled_core() -> None:
    """Asking the Python search for several threads is a clear error naming the field."""
    with pytest.raises(ValueError, match=r"SolveParams\.threads"):
        SolveParams(core=SearchCore.PYTHON, threads=2)
    with pytest.raises(ValueError, match=r"SolveParams\.threads"):
        SolveParams(threads=0)


def _two_jobs() -> tuple[Problem, list[RouteSlot], dict[int, tuple[int, ...]], Weights]:
    points = [0, 10, 20]
    durations = tuple(tuple(abs(a - b) for b in points) for a in points)
    jobs = (Job("a", 1, 5), Job("b", 2, 5))
    engineers = (Engineer("e", skills={}, shifts=(Shift(0, 0, 1000, 0, 0),)),)
    problem = Problem(durations=durations, distances=durations, jobs=jobs, engineers=engineers)
    weights = Weights()
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    return problem, slots, candidates, weights


def test_the_core_refuses_an_annealing_schedule_that_rises(monkeypatch: pytest.MonkeyPatch):
    """A schedule whose end temperature is above its start (or not positive) is refused."""
    problem, slots, candidates, weights = _two_jobs()
    compiled.pack(problem, slots, candidates, weights)
    for start, end in ((1.0, 2.0), (1.0, 0.0), (float("nan"), 0.1)):
        monkeypatch.setattr(compiled, "ANNEAL_START", start)
        monkeypatch.setattr(compiled, "ANNEAL_END", end)
        with pytest.raises(ValueError, match="anneal"):
            compiled.pack(problem, slots, candidates, weights)


@pytest.mark.parametrize("search", [compiled.ruin_and_recreate, ruin_and_recreate])
def test_a_schedule_outside_zero_to_one_is_refused(search) -> None:
    """Both cores refuse a part of the annealing schedule that is not 0 <= from <= to <= 1."""
    problem, slots, candidates, weights = _two_jobs()
    start: list[list[int | None]] = [[0, 1]]
    assert search(problem, slots, candidates, weights, start, iterations=5, schedule=(0.5, 1.0))
    for schedule in ((0.6, 0.5), (-0.1, 0.5), (0.0, 1.5)):
        with pytest.raises(ValueError, match="schedule"):
            search(problem, slots, candidates, weights, start, iterations=5, schedule=schedule)


@settings_
@given(field_days(), st.booleans(), st.integers(0, 2**16))
def test_local_search_keeps_every_constraint_and_prices_as_python_does(
    problem: Problem, capped: bool, seed: int
) -> None:
    """From any feasible plan: a plan as feasible, the same jobs served, each on an eligible
    day, no dearer by the Python objective, and priced by the core as Python prices it."""
    weights, slots, candidates = _setup(problem, capped)
    if not candidates:
        return
    core = compiled.pack(problem, slots, candidates, weights)
    rng = random.Random(seed)
    starts = [construct_routes(problem, slots, candidates, weights)]
    drawn = _random_sequences(problem, slots, candidates, rng)
    if timed_routes(problem, slots, weights, drawn) is not None:
        starts.append(drawn)
    for start in starts:
        start = [with_break(problem, slot, r) for slot, r in zip(slots, start, strict=True)]
        before = _State(problem, slots, candidates, weights, start).total()
        out, cost = core.local_search([compiled.to_core(r) for r in start], seed)
        routes = [compiled.from_core(r) for r in out]
        assert timed_routes(problem, slots, weights, routes) is not None
        served = [j for seq in routes for j in seq if j is not None]
        assert len(served) == len(set(served))
        assert sorted(served) == sorted(j for seq in start for j in seq if j is not None)
        for v, seq in enumerate(routes):
            assert all(v in candidates[j] for j in seq if j is not None)
        assert cost == _State(problem, slots, candidates, weights, routes).total() <= before


def _line(points: list[int], engineers: int, max_visits: int | None = None) -> tuple:
    durations = tuple(tuple(abs(a - b) for b in points) for a in points)
    jobs = tuple(Job(f"j{i}", i, 0) for i in range(1, len(points)))
    team = tuple(
        Engineer(f"e{k}", skills={}, shifts=(Shift(0, 0, 10_000, 0, 0, max_visits=max_visits),))
        for k in range(engineers)
    )
    problem = Problem(durations=durations, distances=durations, jobs=jobs, engineers=team)
    weights = Weights(distance_per_unit=0)
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    return problem, slots, candidates, weights


def test_local_search_untangles_two_crossed_routes() -> None:
    """Two vans of two visits from a depot at 0, each sent to one near and one far site on
    opposite sides: exchanging their tails (2-opt*) gives each van one side, the cheapest plan."""
    problem, slots, candidates, weights = _line([0, -10, -20, 10, 20], 2, max_visits=2)
    core = compiled.pack(problem, slots, candidates, weights)
    # Van 0 goes to -10 then +20; van 1 goes to +10 then -20: 60 + 60 seconds of driving.
    out, cost = core.local_search([[0, 3], [2, 1]], 0)
    assert sorted(sorted(r) for r in out) == [[0, 1], [2, 3]]
    assert cost == 2 * 40 * weights.travel_per_s


def test_local_search_reverses_a_route_driven_back_and_forth() -> None:
    """One van visiting 10, 30, 20, 40 along a line drives 100 s; reordered it drives 80 s."""
    problem, slots, candidates, weights = _line([0, 10, 20, 30, 40], 1)
    core = compiled.pack(problem, slots, candidates, weights)
    out, cost = core.local_search([[0, 2, 1, 3]], 0)
    assert cost == 80 * weights.travel_per_s
    assert out == [[0, 1, 2, 3]] or out == [[3, 2, 1, 0]]
