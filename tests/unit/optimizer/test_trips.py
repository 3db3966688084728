"""Out-of-town trips on tiny instances with the exact expected trips, routes and times."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer import (
    Engineer,
    Job,
    Plan,
    Problem,
    Reason,
    SearchCore,
    Shift,
    SolveParams,
    TimeWindow,
    Trip,
    TripRules,
    best_insertions,
    solve,
    trip_insertions,
)
from tests.unit.optimizer.checker import PlanError, check_plan
from tests.unit.optimizer.conftest import line

H = 3600
DAY = 24 * H
CORES = [SearchCore.COMPILED, SearchCore.PYTHON]


def params(core: SearchCore) -> SolveParams:
    return SolveParams(time_limit_s=None, solution_limit=50, ruin_iterations=100, core=core)


def two_days(eid: str = "e0", home: int = 0, days: int = 2) -> Engineer:
    """An engineer working 08:00-17:00 on consecutive days, from and to home."""
    shifts = tuple(
        Shift(
            day=d,
            start=d * DAY + 8 * H,
            end=d * DAY + 17 * H,
            start_location=home,
            end_location=home,
        )
        for d in range(days)
    )
    return Engineer(id=eid, skills={}, shifts=shifts)


def problem(points: list[int], jobs: list[Job], engineers: list[Engineer], rules: TripRules | None):
    m = line(points)
    return Problem(
        durations=m, distances=m, jobs=tuple(jobs), engineers=tuple(engineers), trips=rules
    )


def run(p: Problem, core: SearchCore = SearchCore.COMPILED) -> Plan:
    plan = solve(p, params(core))
    check_plan(p, plan)
    return plan


def by_day(plan: Plan) -> dict[str, list[str]]:
    return {f"{r.engineer_id}/{r.day}": [v.job_id for v in r.visits] for r in plan.routes}


# Home at 0; a site 6 h away; a hotel 20 minutes beyond it.
SIX_HOURS = [0, 6 * H, 6 * H + 1200]


@pytest.mark.parametrize("core", CORES)
def test_a_site_six_hours_away_is_served_the_first_afternoon_with_a_night_at_the_hotel(core):
    """A site 6 h away (13 h there and back with the repair: more than a 9 h day) is served at
    14:00 on day 0 after the morning's drive, the engineer sleeps at the hotel near it and
    drives home on day 1; both cores choose the same trip."""
    job = Job("far", location=1, service_s=H, promise_due=DAY + 17 * H)
    p = problem(SIX_HOURS, [job], [two_days()], TripRules(lodgings=(2,)))
    plan = run(p, core)
    assert plan.trips == (Trip("e0", 0, 1, lodging=2, nights=1),)
    visit = plan.visit_of("far")
    assert visit is not None and (visit.arrival, visit.start) == (14 * H, 14 * H)
    assert by_day(plan) == {"e0/0": ["far"], "e0/1": []}
    home = plan.routes[1]
    assert (home.start_location, home.end_location) == (2, 0)
    assert (home.start_time, home.end_time) == (DAY + 8 * H, DAY + 8 * H + 6 * H + 1200)
    assert plan.routes[0].end_location == 2
    assert plan.kpis.travel_s == 6 * H + 1200 + 6 * H + 1200


def test_without_a_configured_hotel_the_engineer_stays_near_the_last_visit():
    """With no lodging configured near it, the engineer stays at (near) the site itself."""
    job = Job("far", location=1, service_s=H)
    p = problem([0, 6 * H], [job], [two_days()], TripRules())
    plan = run(p)
    assert plan.trips == (Trip("e0", 0, 1, lodging=1, nights=1),)
    assert plan.kpis.travel_s == 12 * H


def test_without_trips_the_far_site_is_unreachable():
    """Without trip rules, or with trips of one day at most, the same site cannot be routed."""
    job = Job("far", location=1, service_s=H)
    for rules in (None, TripRules(max_days=1, lodgings=(2,))):
        plan = run(problem(SIX_HOURS, [job], [two_days()], rules))
        assert plan.trips == ()
        assert [(u.job_id, u.reason) for u in plan.unassigned] == [("far", Reason.UNREACHABLE)]


# Home at 0; sites A, B, C 4 h away, 15 and 30 minutes apart; a hotel between B and C.
THREE_SITES = [0, 4 * H, 4 * H + 900, 4 * H + 1800, 4 * H + 1200]


@pytest.mark.parametrize("core", CORES)
def test_a_two_day_trip_serves_three_out_of_town_sites(core):
    """Three sites 4 h away, C open only on day 1 from 10:00: A and B on day 0, a night at the
    hotel, C on day 1 morning and the drive home; without the trip only A can be served."""
    jobs = [
        Job("A", location=1, service_s=H),
        Job("B", location=2, service_s=H),
        Job("C", location=3, service_s=H, windows=(TimeWindow(DAY + 10 * H, DAY + 11 * H),)),
    ]
    plan = run(problem(THREE_SITES, jobs, [two_days()], TripRules(lodgings=(4,))), core)
    assert plan.trips == (Trip("e0", 0, 1, lodging=4, nights=1),)
    assert by_day(plan) == {"e0/0": ["A", "B"], "e0/1": ["C"]}
    assert plan.visit_of("C").start == DAY + 10 * H  # type: ignore[union-attr]
    # 4 h out, 15 min A->B, 5 min to the hotel; 10 min to C, 4 h 30 min home.
    assert plan.kpis.travel_s == (4 * H + 900 + 300) + (600 + 4 * H + 1800)
    assert plan.unassigned == ()

    alone = run(problem(THREE_SITES, jobs, [two_days()], None), core)
    assert {v.job_id for r in alone.routes for v in r.visits} == {"A"}


def test_a_return_the_same_day_is_kept_when_a_night_costs_more():
    """A site 3.5 h away fits a 9 h day there and back: no trip, since the night costs more
    than the drive it would save (there is none)."""
    job = Job("near", location=1, service_s=H)
    plan = run(problem([0, 3 * H + 1800], [job], [two_days()], TripRules()))
    assert plan.trips == ()
    assert by_day(plan) == {"e0/0": ["near"]}


def test_a_trip_is_never_longer_than_the_rules_allow():
    """Four sites, each 4 h away and a day's work: a 3-day limit gives one trip of at most
    three days, and the checker refuses a plan whose trip is longer than the rules."""
    jobs = [
        Job(f"s{d}", location=1, service_s=6 * H, windows=(TimeWindow(d * DAY, d * DAY + 18 * H),))
        for d in range(4)
    ]
    p = problem([0, 4 * H], jobs, [two_days(days=4)], TripRules(max_days=3))
    plan = run(p)
    assert all(t.last_day - t.first_day + 1 <= 3 for t in plan.trips)
    too_long = dataclasses.replace(plan, trips=(Trip("e0", 0, 3, lodging=1, nights=3),))
    with pytest.raises(PlanError, match="longer than allowed"):
        check_plan(p, too_long)


def test_trip_rules_are_validated_naming_the_field():
    """Bad trip rules are refused with the field named."""
    with pytest.raises(ValueError, match=r"TripRules.max_days"):
        TripRules(max_days=0)
    with pytest.raises(ValueError, match=r"Problem.trips.lodgings\[0\]"):
        problem([0, 10], [], [two_days()], TripRules(lodgings=(5,)))


def test_a_new_far_job_fits_a_one_night_trip_where_no_day_at_home_takes_it():
    """The quote's question for a site 6 h away: no home-to-home day takes it, a one-night
    trip serves it at 14:00 on day 0 (staying near the site), or on day 1 after the drive out;
    with trips switched off there is no answer."""
    job = Job("far", location=1, service_s=H)
    p = problem(SIX_HOURS, [], [two_days()], None)
    assert best_insertions(p, [], job) == []
    found = trip_insertions(p, [], job, max_days=3)
    assert {(o.day, o.start) for o, _ in found} == {(0, 14 * H), (1, DAY + 8 * H)}
    assert {t for _, t in found} == {Trip("e0", 0, 1, lodging=1, nights=1)}
    assert trip_insertions(p, [], job, max_days=1) == []


def test_a_site_near_home_is_never_offered_a_trip():
    """A site under the far threshold from every home gets no trip options, even when no day
    at home takes it (its window is gone): a night away is for far sites only."""
    job = Job("near", location=1, service_s=H, windows=(TimeWindow(0, 60),))
    p = problem([0, 2 * H], [], [two_days()], None)
    assert trip_insertions(p, [], job, max_days=3) == []
    assert trip_insertions(p, [], dataclasses.replace(job, windows=()), max_days=3, far_s=H)
