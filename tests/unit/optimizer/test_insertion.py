"""Insertion of a new job into current routes, and plan-mode ETAs, on tiny instances."""

from __future__ import annotations

from optimizer import (
    Break,
    Engineer,
    InsertionOption,
    Job,
    Plan,
    Priority,
    Problem,
    Route,
    Shift,
    SolveParams,
    TimeWindow,
    Weights,
    solve,
)
from optimizer.eligibility import route_slots
from optimizer.insertion import StopsCache, best_insertions
from optimizer.planmode import plan_route
from tests.unit.optimizer.checker import check_plan
from tests.unit.optimizer.conftest import engineer, make_problem

FAST = SolveParams(time_limit_s=0.3, solution_limit=100)


def _two_stop_plan(promise_b: int | None) -> tuple[Problem, Plan]:
    """Route e: x=0 -> a (x=10) -> b (x=30) -> x=40, and a new job n at x=20."""
    a = Job("a", 1, 0)
    b = Job("b", 3, 0, promise_due=promise_b)
    new = Job("n", 2, 5)
    e = Engineer("e", {}, (Shift(0, 0, 1000, 0, 4),))
    problem = make_problem([0, 10, 20, 30, 40], [a, b, new], [e])
    base = make_problem([0, 10, 20, 30, 40], [a, b], [e])
    plan = solve(base, FAST)
    check_plan(base, plan)
    return problem, plan


def _job(problem: Problem, job_id: str) -> Job:
    job = problem.job(job_id)
    assert job is not None
    return job


def test_insertion_between_stops_with_no_detour() -> None:
    """A site on the way between a and b is inserted there with 0 added travel and ETA 20."""
    problem, plan = _two_stop_plan(None)
    assert [v.job_id for v in plan.routes[0].visits] == ["a", "b"]
    (option,) = best_insertions(problem, plan.routes, _job(problem, "n"))
    assert option == InsertionOption(
        engineer_id="e",
        day=0,
        position=1,
        arrival=20,
        start=20,
        added_travel_s=0,
        added_distance=0,
        newly_late=(),
        added_lateness_s=0,
        lateness_s=0,
        cost=0,
    )


def test_insertion_reports_who_becomes_late() -> None:
    """Inserting 5 s of service before b, promised for 30, makes b 5 s late (cost 5 at 1/s)."""
    problem, plan = _two_stop_plan(30)
    weights = Weights(lateness_per_s=dict.fromkeys(Priority, 1))
    (option,) = best_insertions(problem, plan.routes, _job(problem, "n"), weights)
    assert (option.position, option.newly_late, option.added_lateness_s, option.cost) == (
        1,
        ("b",),
        5,
        5,
    )


def test_insertion_respects_the_new_jobs_window_and_ranks_engineers() -> None:
    """With a window at 100 the job waits; the nearer empty engineer-day ranks first."""
    new = Job("n", 1, 0, windows=(TimeWindow(100, 110),))
    problem = make_problem([0, 10, 50], [new], [engineer("far", base=2), engineer("near")])
    options = best_insertions(problem, [], new)
    assert [(o.engineer_id, o.arrival, o.start, o.added_travel_s) for o in options] == [
        ("near", 10, 100, 20),
        ("far", 40, 100, 80),
    ]


def test_insertion_rejects_a_full_van() -> None:
    """An engineer whose van is full offers no insertion."""
    a = Job("a", 1, 0, demand=10)
    new = Job("n", 1, 0, demand=1)
    problem = make_problem([0, 10], [a, new], [engineer("e", capacity=10)])
    plan = solve(make_problem([0, 10], [a], [engineer("e", capacity=10)]), FAST)
    assert best_insertions(problem, plan.routes, new) == []


def test_plan_mode_recomputes_etas_from_the_current_position() -> None:
    """From x=0 at t=10: a at 20, b waits for its window at 40, return at 65."""
    a = Job("a", 1, 5)
    b = Job("b", 2, 5, windows=(TimeWindow(40, 60),))
    problem = make_problem([0, 10, 20], [a, b], [engineer("e")])
    route, missed = plan_route(problem, "e", 0, ["a", "b"], location=0, time=10)
    assert missed == ()
    assert [(v.arrival, v.start, v.departure, v.waiting_s) for v in route.visits] == [
        (20, 20, 25, 0),
        (35, 40, 45, 5),
    ]
    assert route.end_time == 65


def test_plan_mode_flags_missed_windows() -> None:
    """Running late (t=100) b's window is missed: flagged, and timed at arrival."""
    a = Job("a", 1, 5)
    b = Job("b", 2, 5, windows=(TimeWindow(40, 60),))
    problem = make_problem([0, 10, 20], [a, b], [engineer("e")])
    route, missed = plan_route(problem, "e", 0, ["a", "b"], time=100)
    assert missed == ("b",)
    assert [v.start for v in route.visits] == [110, 125]


def test_plan_mode_takes_the_break_when_it_opens() -> None:
    """The break opens at 30 when a is done: taken 30-40, b reached at 50, home at 75."""
    a = Job("a", 1, 20)
    b = Job("b", 2, 5)
    problem = make_problem([0, 10, 20], [a, b], [engineer("e", break_=Break(30, 60, 10))])
    route, _ = plan_route(problem, "e", 0, ["a", "b"])
    assert (route.break_start, route.break_end) == (30, 40)
    assert [(v.arrival, v.start) for v in route.visits] == [(10, 10), (50, 50)]
    assert route.end_time == 75


def test_an_insertion_ahead_of_a_visit_already_past_its_window_is_priced_not_refused() -> None:
    """A route whose last visit already misses its window behind a fixed break (it starts on
    arrival, as the plan timed it) still takes a new visit at its front: the delay is carried
    through the late visit instead of stopping the quote."""
    jobs = [
        Job("a", 1, 100, promise_due=5000),
        Job("b", 2, 100, windows=(TimeWindow(3500, 4000),), promise_due=4000),
    ]
    lunch = Break(earliest_start=3000, latest_end=4000, duration_s=600)
    problem = make_problem([0, 1000, 2000, 500], jobs, [engineer("e", end=20_000, break_=lunch)])
    route, missed = plan_route(problem, "e", 0, ["a", "b"])
    assert missed == ("b",)
    options = best_insertions(problem, [route], Job("n", 3, 100, promise_due=10_000))
    assert [(o.engineer_id, o.position) for o in options] == [("e", 0)]


def test_kept_stops_give_the_same_insertions_and_follow_a_new_route() -> None:
    """Insertions made with routes' stops kept from call to call equal those made afresh, with
    sites appended to the matrix in between, and a route replaced by a new one is not answered
    from the stops of the old one."""
    a, b = Job("a", 1, 0), Job("b", 3, 0, promise_due=60)
    e1, e2 = engineer("e1"), engineer("e2", base=4)
    cache: StopsCache = {}
    slots = None
    routes: list[Route] = []
    for step, site in enumerate([2, 5, 4, 1]):
        points = [0, 10, 20, 30, 40, *[10 * s + 3 for s in range(step + 1)]]
        problem = make_problem(points, [a, b], [e1, e2])
        if slots is None:
            slots = tuple(route_slots(problem))
            routes = [plan_route(problem, "e1", 0, ["a", "b"], slots=slots)[0]]
        if step == 2:  # a new route object: b alone, then a for e2
            routes = [
                plan_route(problem, "e1", 0, ["b"], slots=slots)[0],
                plan_route(problem, "e2", 0, ["a"], slots=slots)[0],
            ]
        new = Job("n", 5 + step, 5 + site)
        kept = best_insertions(problem, routes, new, slots=slots, stops_cache=cache)
        fresh = best_insertions(problem, routes, new, slots=slots)
        assert kept == fresh
        assert kept
    assert len(cache) >= 3
