"""Time-dependent travel: routes are timed with the traffic of the hour each leg sets off in."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer import Engineer, Job, Priority, Shift, SolveParams, solve
from optimizer.eligibility import route_slots
from optimizer.params import Weights
from optimizer.planmode import plan_route
from optimizer.solve import _timed_in_traffic
from tests.unit.optimizer.checker import check_plan
from tests.unit.optimizer.conftest import make_problem

HOUR = 3600


def _rush_engineer(traffic: tuple[float, ...]) -> Engineer:
    return Engineer("e", {}, (Shift(0, 0, 10 * HOUR, 0, 0),), traffic=traffic)


def test_a_leg_in_the_rush_hour_takes_longer() -> None:
    """A 1,000 s leg takes 1,500 s when it sets off in an hour with multiplier 1.5, and its
    own length outside it."""
    jobs = [Job("a", 1, 600), Job("b", 2, 600)]
    problem = make_problem([0, 1000, 2000], jobs, [_rush_engineer((1.0, 1.5))])
    route, _ = plan_route(problem, "e", 0, ["a", "b"], time=3000)
    # a: sets off at 3,000 (hour 0) and arrives at 4,000; b: sets off at 4,600 (hour 1).
    assert [v.arrival for v in route.visits] == [4000, 4600 + 1500]
    later, _ = plan_route(problem, "e", 0, ["a", "b"], time=2 * HOUR)
    assert [v.travel_s for v in later.visits] == [1000, 1000]


def test_the_solved_plan_is_timed_with_traffic() -> None:
    """solve() searches on the matrix but reports ETAs with the hourly multipliers."""
    jobs = [Job("a", 1, 600), Job("b", 2, 600)]
    flat = make_problem([0, 1000, 2000], jobs, [_rush_engineer(())])
    rush = dataclasses.replace(flat, engineers=(_rush_engineer((2.0,) * 10),))
    params = SolveParams(time_limit_s=0.3, solution_limit=50)
    plain, timed = solve(flat, params), solve(rush, params)
    check_plan(flat, plain)
    check_plan(rush, timed)
    assert [v.job_id for v in timed.routes[0].visits] == [v.job_id for v in plain.routes[0].visits]
    assert timed.routes[0].visits[0].arrival == 2 * plain.routes[0].visits[0].arrival
    assert timed.routes[0].end_time > plain.routes[0].end_time


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), 11.0])
def test_traffic_multipliers_are_checked(bad: float) -> None:
    """A multiplier outside (0, 10] is refused with the engineer named."""
    with pytest.raises(ValueError, match=r"Engineer\[e\]\.traffic"):
        _rush_engineer((1.0, bad))


def test_a_route_that_rush_hours_push_past_the_shift_end_leaves_a_visit_out() -> None:
    """The search (on the matrix) fits both visits; timed at rush hours the engineer would get
    home after the shift, so the visit whose removal brings them home soonest is left out,
    reported unassigned, and the route ends within the shift."""
    jobs = [Job("a", 1, 600), Job("b", 2, 600)]
    engineer = Engineer("e", {}, (Shift(0, 0, 6000, 0, 0),), traffic=(2.0,) * 10)
    flat = make_problem([0, 1000, 2000], jobs, [dataclasses.replace(engineer, traffic=())])
    rush = dataclasses.replace(flat, engineers=(engineer,))
    params = SolveParams(time_limit_s=0.3, solution_limit=50)
    plain, timed = solve(flat, params), solve(rush, params)
    assert sorted(v.job_id for v in plain.routes[0].visits) == ["a", "b"]
    check_plan(rush, timed)
    assert [v.job_id for v in timed.routes[0].visits] == ["a"]
    assert timed.routes[0].end_time <= 6000
    assert [u.job_id for u in timed.unassigned] == ["b"]


def test_rush_hours_leave_out_the_general_visit_before_the_urgent_one() -> None:
    """When rush hours push the drive home past the shift, the visit cheapest to leave out
    goes, not the one whose removal brings the engineer home soonest: the urgent visit stays
    (its removal would have saved more time) and the general one is reported unassigned."""
    jobs = [Job("a", 1, 600), Job("b", 2, 600, priority=Priority.URGENT)]
    engineer = Engineer("e", {}, (Shift(0, 0, 9000, 0, 0),), traffic=(2.0,) * 10)
    flat = make_problem([0, 1000, 2000], jobs, [dataclasses.replace(engineer, traffic=())])
    rush = dataclasses.replace(flat, engineers=(engineer,))
    params = SolveParams(time_limit_s=0.3, solution_limit=50)
    assert sorted(v.job_id for v in solve(flat, params).routes[0].visits) == ["a", "b"]
    timed = solve(rush, params)
    check_plan(rush, timed)
    assert [v.job_id for v in timed.routes[0].visits] == ["b"]
    assert timed.routes[0].end_time <= 9000
    assert [u.job_id for u in timed.unassigned] == ["a"]


def test_a_long_drive_meets_each_hour_at_that_hours_pace() -> None:
    """A 3-hour leg setting off at 07:00 in a one-hour rush (x1.5 from 07:00 to 08:00) drives
    40 minutes of road in the rush hour and the rest at the free pace: 3 h 20 min, not the
    4 h 30 min of the rush all the way; a leg of an hour or less keeps its hour's pace."""
    traffic = (1.0,) * 7 + (1.5,) + (1.0,) * 10
    engineer = Engineer("e", {}, (Shift(0, 0, 18 * HOUR, 0, 0),), traffic=traffic)
    assert engineer.leg_duration(3 * HOUR, 7 * HOUR) == 3 * HOUR + 20 * 60
    assert engineer.leg_duration(HOUR, 7 * HOUR + 1800) == round(1.5 * HOUR)
    assert engineer.leg_duration(3 * HOUR, 9 * HOUR) == 3 * HOUR


def test_a_route_that_lost_a_visit_to_the_traffic_is_re_ordered() -> None:
    """The search's order suits the longer route; once rush hours have left a visit out, the
    rest is re-ordered where that costs less (the urgent visit, late behind the important one,
    goes first), never breaking a hard constraint. A route that lost nothing keeps the
    search's order."""
    important = Job("i", 3, 600, promise_due=20_000, priority=Priority.IMPORTANT)
    urgent = Job("u", 1, 600, promise_due=3000, priority=Priority.URGENT)
    general = Job("g", 5, 600)
    engineer = Engineer("e", {}, (Shift(0, 0, 20_000, 0, 0),), traffic=(1.5,) * 10)
    positions = [0, 1000, 2000, 3000, 4000, 5000]
    problem = make_problem(positions, [important, urgent, general], [engineer])
    slot = route_slots(problem)[0]
    route = _timed_in_traffic(problem, slot, [important, urgent, general], 0, Weights())
    assert route is not None
    assert [v.job_id for v in route.visits] == ["u", "i"]
    assert route.visits[0].start <= 3000 and route.end_time <= 20_000
    kept = _timed_in_traffic(problem, slot, [important, urgent], 0, Weights())
    assert kept is not None and [v.job_id for v in kept.visits] == ["i", "u"]
