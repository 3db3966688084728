"""Model tests: each feature on a tiny instance with the exact expected routes and times."""

from __future__ import annotations

from typing import Any

import pytest

from optimizer import (
    Assignment,
    Break,
    CurrentPosition,
    Engineer,
    FirstSolution,
    InProgress,
    Job,
    Lock,
    Metaheuristic,
    Plan,
    PlanStatus,
    Priority,
    Problem,
    Reason,
    Shift,
    SolveParams,
    TimeWindow,
    VisitStatus,
    Weights,
    solve,
)
from optimizer.construct import construct_routes
from optimizer.eligibility import route_slots
from tests.unit.optimizer.checker import check_plan
from tests.unit.optimizer.conftest import engineer, make_problem

FAST = SolveParams(time_limit_s=0.3, solution_limit=200)
# As the simulator searches: by iterations, OR-Tools stopping at its first plan.
BY_ITERATIONS: dict[str, Any] = {"time_limit_s": None, "solution_limit": 1, "ruin_iterations": 50}


def run(problem: Problem, params: SolveParams = FAST) -> Plan:
    plan = solve(problem, params)
    check_plan(problem, plan, params.weights.max_lateness_s)
    return plan


def routes(plan: Plan) -> dict[str, list[str]]:
    return {f"{r.engineer_id}/{r.day}": [v.job_id for v in r.visits] for r in plan.routes}


def times(plan: Plan, job_id: str) -> tuple[int, int, int, int]:
    v = plan.visit_of(job_id)
    assert v is not None
    return v.arrival, v.start, v.departure, v.waiting_s


def reason(plan: Plan, job_id: str) -> Reason:
    return next(u.reason for u in plan.unassigned if u.job_id == job_id)


def test_windows_order_the_route_and_etas_are_exact() -> None:
    """Hard windows force b before a; ETAs, waits and the return follow the matrix."""
    a = Job("a", 1, 5, windows=(TimeWindow(100, 120),))
    b = Job("b", 2, 5, windows=(TimeWindow(0, 50),))
    plan = run(make_problem([0, 10, 20], [a, b], [engineer("e")]))
    assert routes(plan) == {"e/0": ["b", "a"]}
    assert times(plan, "b") == (20, 20, 25, 0)
    assert times(plan, "a") == (35, 100, 105, 65)
    r = plan.routes[0]
    assert (r.start_time, r.end_time, r.travel_s, r.work_s) == (0, 115, 40, 115)
    assert plan.is_feasible() and plan.kpis.assigned == 2 and plan.kpis.dropped == 0


def test_skill_level_below_requirement_is_not_eligible() -> None:
    """An engineer below the required level is skipped even if nearer (allowed vehicles)."""
    job = Job("j", 0, 10, skills={"elec": 3})
    near = engineer("near", skills={"elec": 2}, base=1)
    far = engineer("far", skills={"elec": 4}, base=2)
    plan = run(make_problem([0, 10, 50], [job], [near, far]))
    assert routes(plan) == {"far/0": ["j"]}
    assert times(plan, "j") == (50, 50, 60, 0)
    assert plan.routes[0].end_time == 110


def test_missing_skill_gives_skill_reason() -> None:
    """A job nobody is qualified for is unassigned with reason skill naming skill and level."""
    job = Job("j", 1, 10, skills={"gas": 5})
    plan = run(make_problem([0, 10], [job], [engineer("e", skills={"gas": 4})]))
    assert plan.routes == ()
    (u,) = plan.unassigned
    assert (u.job_id, u.reason) == ("j", Reason.SKILL)
    assert "gas at level 5" in u.message


def test_an_engineer_who_declined_a_job_is_never_given_it() -> None:
    """A job declined by the nearer engineer goes to the farther one; declined by every
    qualified engineer, it waits with reason declined (not skill)."""
    job = Job("j", 0, 10, skills={"elec": 2}, declined_by=frozenset({"near"}))
    near = engineer("near", skills={"elec": 3}, base=1)
    far = engineer("far", skills={"elec": 2}, base=2)
    plan = run(make_problem([0, 10, 50], [job], [near, far]))
    assert routes(plan) == {"far/0": ["j"]}
    everyone = Job("j", 0, 10, skills={"elec": 2}, declined_by=frozenset({"near", "far"}))
    plan = run(make_problem([0, 10, 50], [everyone], [near, far]))
    assert plan.routes == () and reason(plan, "j") is Reason.DECLINED


def test_declined_by_must_name_engineers() -> None:
    """A declined_by entry that is not a non-empty id is refused when the job is built."""
    with pytest.raises(ValueError, match="declined_by"):
        Job("j", 0, 10, declined_by=frozenset({""}))


def test_window_outside_every_shift_gives_no_shift_reason() -> None:
    """A window after the horizon's shifts is reported as no_shift."""
    job = Job("j", 1, 10, windows=(TimeWindow(2000, 2100),))
    plan = run(make_problem([0, 10], [job], [engineer("e", end=1000)]))
    assert reason(plan, "j") is Reason.NO_SHIFT


def test_window_that_cannot_be_reached_gives_unreachable_reason() -> None:
    """A window closing before the engineer can get there is reported as unreachable."""
    job = Job("j", 1, 10, windows=(TimeWindow(0, 5),))
    plan = run(make_problem([0, 20], [job], [engineer("e")]))
    assert reason(plan, "j") is Reason.UNREACHABLE


def test_second_window_is_used_when_the_first_is_missed() -> None:
    """With several windows the service starts at the opening of the first reachable one."""
    job = Job("j", 1, 0, windows=(TimeWindow(10, 20), TimeWindow(100, 120)))
    plan = run(make_problem([0, 30], [job], [engineer("e")]))
    assert times(plan, "j") == (30, 100, 100, 70)


def test_late_rather_than_dropped() -> None:
    """A job that can only be served after its promise is served late, lateness reported."""
    job = Job("j", 1, 0, promise_due=10)
    plan = run(make_problem([0, 30], [job], [engineer("e")]))
    v = plan.visit_of("j")
    assert v is not None and (v.start, v.lateness_s) == (30, 20)
    assert (plan.kpis.late_count, plan.kpis.late_s) == (1, 20)


def test_dropped_when_serving_costs_more_than_the_penalty() -> None:
    """A job whose travel and lateness cost more than its drop penalty is left out: cost."""
    job = Job("j", 1, 0, promise_due=0, drop_penalty=10)
    plan = run(make_problem([0, 30], [job], [engineer("e")]))
    assert plan.routes == () and reason(plan, "j") is Reason.COST


def test_lateness_cap_gives_late_reason() -> None:
    """Beyond the allowed lateness a job is unassigned with reason late."""
    job = Job("j", 1, 0, promise_due=10)
    params = SolveParams(time_limit_s=2, solution_limit=50, weights=Weights(max_lateness_s=5))
    plan = run(make_problem([0, 30], [job], [engineer("e")]), params)
    assert reason(plan, "j") is Reason.LATE


def test_van_capacity_splits_jobs() -> None:
    """Two loads of 6 do not fit one van of 10: the far engineer takes the second job."""
    a, b = Job("a", 1, 0, demand=6), Job("b", 2, 0, demand=6)
    e1 = engineer("e1", capacity=10)
    e2 = engineer("e2", capacity=10, base=3)
    plan = run(make_problem([0, 10, 12, 40], [a, b], [e1, e2]))
    assert routes(plan) == {"e1/0": ["a"], "e2/0": ["b"]}
    assert [r.load for r in plan.routes] == [6, 6]


def test_demand_above_every_capacity_gives_capacity_reason() -> None:
    """A demand no van can carry is reported as capacity."""
    plan = run(make_problem([0, 10], [Job("a", 1, 0, demand=11)], [engineer("e", capacity=10)]))
    assert reason(plan, "a") is Reason.CAPACITY


def test_max_visits_per_day() -> None:
    """With one visit per engineer-day, e1 takes the nearer a (76 s in total, not 84 s)."""
    a, b = Job("a", 1, 0), Job("b", 2, 0)
    engineers = [engineer("e1", max_visits=1), engineer("e2", base=3, max_visits=1)]
    plan = run(make_problem([0, 10, 12, 40], [a, b], engineers))
    assert routes(plan) == {"e1/0": ["a"], "e2/0": ["b"]}


def test_max_working_time() -> None:
    """Working-time limits (22 s, 58 s) leave e1 the 20 s trip to a and e2 the 56 s one to b."""
    a, b = Job("a", 1, 0), Job("b", 2, 0)
    engineers = [engineer("e1", max_work_s=22), engineer("e2", base=3, max_work_s=58)]
    plan = run(make_problem([0, 10, 12, 40], [a, b], engineers))
    assert routes(plan) == {"e1/0": ["a"], "e2/0": ["b"]}
    assert plan.routes[0].work_s == 20


def test_lunch_break_is_taken_inside_its_window_during_travel() -> None:
    """The break [30, 60] of 10 s falls between a and b and delays b's arrival by 10 s."""
    a = Job("a", 1, 20, windows=(TimeWindow(0, 15),))
    b = Job("b", 2, 20)
    e = engineer("e", end=200, break_=Break(30, 60, 10))
    plan = run(make_problem([0, 10, 20], [a, b], [e]))
    assert routes(plan) == {"e/0": ["a", "b"]}
    r = plan.routes[0]
    assert (r.break_start, r.break_end) == (30, 40)
    assert times(plan, "a") == (10, 10, 30, 0)
    assert times(plan, "b") == (50, 50, 70, 0)
    assert r.end_time == 90


@pytest.mark.parametrize("ruin", [0, None])
def test_a_warm_start_from_the_previous_plan_keeps_the_break(ruin: int | None) -> None:
    """Re-planning from a previous plan (which carries no break marker) still takes the
    break, also when the search does no ruin-and-recreate at all, and the plan's cost is at
    most the previous plan's."""
    a = Job("a", 1, 20, windows=(TimeWindow(0, 15),), previous=Assignment("e", 0, 0))
    b = Job("b", 2, 20, previous=Assignment("e", 0, 1))
    e = engineer("e", end=200, break_=Break(30, 60, 10))
    params = SolveParams(time_limit_s=0.05, ruin_iterations=ruin)
    plan = run(make_problem([0, 10, 20], [a, b], [e]), params)
    r = plan.routes[0]
    assert r.break_start is not None and 30 <= r.break_start <= 50
    assert plan.warm_start_cost is not None and plan.cost <= plan.warm_start_cost


def test_multi_day_job_goes_to_the_day_of_its_window() -> None:
    """A job available only on day 1 goes to the day-1 route; one promised today stays on 0."""
    shifts = (Shift(0, 0, 100, 0, 0), Shift(1, 1000, 1100, 0, 0))
    e = Engineer("e", {}, shifts)
    today = Job("today", 1, 0, promise_due=100)
    later = Job("later", 1, 0, windows=(TimeWindow(1000, 1100),))
    plan = run(make_problem([0, 10], [today, later], [e]))
    assert routes(plan) == {"e/0": ["today"], "e/1": ["later"]}
    assert times(plan, "later") == (1010, 1010, 1010, 0)


def test_lock_to_engineer() -> None:
    """A job locked to the far engineer goes to that engineer."""
    job = Job("j", 1, 0, lock=Lock(engineer_id="far"))
    plan = run(make_problem([0, 10, 40], [job], [engineer("near"), engineer("far", base=2)]))
    assert routes(plan) == {"far/0": ["j"]}
    assert times(plan, "j") == (30, 30, 30, 0)


def test_lock_to_time() -> None:
    """A job locked to 50 starts at exactly 50 after waiting."""
    job = Job("j", 1, 0, lock=Lock(start=50))
    plan = run(make_problem([0, 10], [job], [engineer("e")]))
    assert times(plan, "j") == (10, 50, 50, 40)


def test_on_site_visit_stays_first_from_its_start() -> None:
    """An on-site visit keeps its start and engineer; the next stop follows its departure."""
    shift = Shift(0, 0, 1000, 0, 0)
    e1 = Engineer("e1", {}, (shift,), current=CurrentPosition(location=1, time=100))
    e2 = Engineer("e2", {}, (Shift(0, 0, 1000, 2, 2),))
    busy = Job("busy", 1, 30, in_progress=InProgress("e1", VisitStatus.ON_SITE, started_at=90))
    nxt = Job("next", 2, 0)
    plan = run(make_problem([0, 10, 20], [busy, nxt], [e1, e2]))
    assert routes(plan) == {"e1/0": ["busy"], "e2/0": ["next"]}
    assert times(plan, "busy") == (90, 90, 120, 0)


def test_on_site_visit_begun_before_now_is_planned_first_on_a_day_with_a_break() -> None:
    """An on-site visit that began before the route's start is planned first, before the break,
    when there is no previous plan to start from."""
    brk = Break(earliest_start=100, latest_end=400, duration_s=30)
    shift = Shift(0, 0, 1000, 0, 0, break_=brk)
    e = Engineer("e", {}, (shift,), current=CurrentPosition(location=1, time=100))
    busy = Job("busy", 1, 60, in_progress=InProgress("e", VisitStatus.ON_SITE, started_at=90))
    nxt = Job("next", 2, 10)
    for first in (FirstSolution.AUTO, FirstSolution.INSERTION):
        params = SolveParams(first_solution=first, **BY_ITERATIONS)
        plan = run(make_problem([0, 10, 20], [busy, nxt], [e]), params)
        assert plan.is_feasible()
        assert routes(plan) == {"e/0": ["busy", "next"]}
        assert times(plan, "busy") == (90, 90, 150, 0)


def test_construction_starts_a_route_with_the_on_site_visit_before_its_break() -> None:
    """Onsite's construction places an on-site visit that began before the route's start first,
    before the break (it used to find no place for it and leave the plan to OR-Tools)."""
    brk = Break(earliest_start=100, latest_end=400, duration_s=30)
    e = Engineer("e", {}, (Shift(0, 0, 1000, 0, 0, break_=brk),), current=CurrentPosition(1, 100))
    busy = Job("busy", 1, 60, in_progress=InProgress("e", VisitStatus.ON_SITE, started_at=90))
    nxt = Job("next", 2, 10)
    problem = make_problem([0, 10, 20], [busy, nxt], [e])
    slots = route_slots(problem)
    (route,) = construct_routes(problem, slots, {0: (0,), 1: (0,)}, Weights())
    assert route[0] == 0 and sorted(route, key=str) == [0, 1, None]


def test_construction_from_given_routes_inserts_only_the_rest() -> None:
    """Given routes are kept as they are and only the jobs not on them are inserted."""
    e = Engineer("e", {}, (Shift(0, 0, 1000, 0, 0),))
    jobs = [Job("a", 2, 0), Job("b", 1, 0), Job("c", 3, 0)]
    problem = make_problem([0, 10, 20, 30], jobs, [e])
    slots = route_slots(problem)
    every = {0: (0,), 1: (0,), 2: (0,)}
    # a and b keep their order; c goes first, its cheapest place (0-30-20-10-0 is 60 s).
    assert construct_routes(problem, slots, every, Weights(), start=[[0, 1]]) == [[2, 0, 1]]


def test_a_previous_plan_overtaken_by_a_long_visit_keeps_what_still_fits() -> None:
    """When the visit under way runs long and the previous plan no longer fits the day, the
    plan keeps the visit under way and what still fits, in the previous order, rather than
    finding no plan at all."""
    e = Engineer("e", {}, (Shift(0, 0, 200, 0, 0),), current=CurrentPosition(location=1, time=100))
    busy = Job(
        "busy",
        1,
        60,
        in_progress=InProgress("e", VisitStatus.ON_SITE, started_at=90),
        previous=Assignment("e", 0, 0),
    )
    a = Job("a", 2, 10, previous=Assignment("e", 0, 1))
    b = Job("b", 3, 10, previous=Assignment("e", 0, 2))
    plan = run(make_problem([0, 10, 20, 30], [busy, a, b], [e]), SolveParams(**BY_ITERATIONS))
    assert plan.is_feasible()
    assert routes(plan) == {"e/0": ["busy", "a"]}
    assert [u.job_id for u in plan.unassigned] == ["b"]


def test_a_visit_under_way_past_the_shift_end_is_kept_and_nothing_else_added() -> None:
    """A visit under way that keeps its engineer past the end of the shift stays on their
    route (the day ends when they can be home); no other visit is added after it."""
    e1 = Engineer("e1", {}, (Shift(0, 0, 100, 0, 0),), current=CurrentPosition(1, 80))
    e2 = Engineer("e2", {}, (Shift(0, 0, 1000, 0, 0),))
    busy = Job("busy", 1, 30, in_progress=InProgress("e1", VisitStatus.ON_SITE, started_at=70))
    other = Job("other", 1, 5)
    plan = run(make_problem([0, 10], [busy, other], [e1, e2]))
    assert plan.is_feasible()
    assert routes(plan) == {"e1/0": ["busy"], "e2/0": ["other"]}
    assert plan.routes[0].end_time == 110


def test_en_route_visit_stays_first_even_when_another_order_is_shorter() -> None:
    """An en-route visit is the first stop although serving b first would be shorter."""
    e = Engineer("e", {}, (Shift(0, 0, 1000, 0, 0),), current=CurrentPosition(0, 0))
    a = Job("a", 2, 0, in_progress=InProgress("e", VisitStatus.EN_ROUTE))
    b = Job("b", 1, 0)
    plan = run(make_problem([0, 10, 30], [a, b], [e]))
    assert routes(plan) == {"e/0": ["a", "b"]}
    assert times(plan, "a") == (30, 30, 30, 0)
    assert times(plan, "b") == (50, 50, 50, 0)
    assert plan.routes[0].end_time == 60


def test_stability_keeps_a_promised_job_with_its_previous_engineer() -> None:
    """Moving a promised job costs the stability penalty, so it stays with e2 despite 4 s."""
    prev = Assignment("e2", 0, 0)
    promised = Job("j", 1, 0, promised=True, previous=prev)
    engineers = [engineer("e1", base=0), engineer("e2", base=2)]
    plan = run(make_problem([2, 10, 20], [promised], engineers))
    assert routes(plan) == {"e2/0": ["j"]}
    free = Job("j", 1, 0, promised=False, previous=prev)
    plan = run(make_problem([2, 10, 20], [free], engineers))
    assert routes(plan) == {"e1/0": ["j"]}


def test_over_qualification_keeps_the_expert_free() -> None:
    """With equal travel the level-3 engineer takes a level-3 job, not the level-5 expert."""
    job = Job("j", 1, 0, skills={"elec": 3})
    engineers = [engineer("expert", skills={"elec": 5}), engineer("fitter", skills={"elec": 3})]
    plan = run(make_problem([0, 10], [job], engineers))
    assert routes(plan) == {"fitter/0": ["j"]}


def test_urgent_job_is_never_dropped_for_a_general_one() -> None:
    """When only one of two loads fits, the far urgent job is served and the general dropped."""
    urgent = Job("u", 2, 0, demand=10, priority=Priority.URGENT)
    general = Job("g", 1, 0, demand=10)
    plan = run(make_problem([0, 5, 100], [urgent, general], [engineer("e", capacity=10)]))
    assert routes(plan) == {"e/0": ["u"]}
    assert reason(plan, "g") is Reason.FULL


def test_same_input_and_solution_limit_give_the_same_plan() -> None:
    """Determinism: identical problem and solution-limited parameters give identical routes."""
    jobs = [Job(f"j{i}", i, 5, windows=(TimeWindow(0, 400),)) for i in range(1, 8)]
    problem = make_problem([0, 13, 27, 4, 31, 19, 8, 22], jobs, [engineer("a"), engineer("b")])
    params = SolveParams(time_limit_s=30, solution_limit=100, ruin_iterations=200)
    first, second = run(problem, params), run(problem, params)
    assert first.routes == second.routes and first.cost == second.cost


def test_validation_names_the_field() -> None:
    """Inconsistent inputs raise ValueError naming the offending field."""
    with pytest.raises(ValueError, match=r"Job\[j\]\.windows"):
        Job("j", 0, 0, windows=(TimeWindow(10, 20), TimeWindow(15, 30)))
    with pytest.raises(ValueError, match=r"level 7"):
        Job("j", 0, 0, skills={"gas": 7})
    with pytest.raises(ValueError, match=r"Problem\.durations"):
        Problem(durations=((0, 1),), distances=((0,),), jobs=(), engineers=())
    with pytest.raises(ValueError, match=r"Job\[j\]\.location"):
        make_problem([0], [Job("j", 3, 0)], [])
    with pytest.raises(ValueError, match=r"Shift\.break_"):
        Shift(0, 0, 100, 0, 0, break_=Break(90, 120, 10))
    with pytest.raises(ValueError, match=r"SolveParams\.time_limit_s"):
        SolveParams(time_limit_s=None)


def test_identical_idle_vans_are_offered_to_or_tools_only_twice() -> None:
    """A depot's identical idle vans are grouped: the solver sees the used ones and two more.

    Vans that differ (skills, base) are never grouped with the others, and the plan found
    through the reduced fleet is still complete and checked.
    """
    from optimizer.eligibility import check_job, route_slots
    from optimizer.solve import _FleetModel

    jobs = [Job(f"j{i}", 1 + i % 3, 5, demand=1) for i in range(6)]
    vans = [engineer(f"v{k}", capacity=2) for k in range(12)]
    vans.append(engineer("expert", skills={"gas": 3}, capacity=2))
    vans.append(engineer("north", base=3, capacity=2))
    problem = make_problem([0, 10, 20, 30], jobs, vans)
    weights = Weights()
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    sequences: list[list[int | None]] = [[] for _ in slots]
    sequences[0], sequences[1], sequences[2] = [0, 1], [2, 3], [4, 5]
    fleet = _FleetModel(problem, slots, candidates, weights, sequences)
    assert fleet.kept == [0, 1, 2, 3, 4, 12, 13]
    assert fleet.covers(sequences)
    sequences[7] = [0]
    assert not fleet.covers(sequences)

    plan = run(problem, SolveParams(time_limit_s=1.0, solution_limit=100, ruin_share=0.0))
    assert plan.kpis.dropped == 0 and plan.kpis.routes == 3


def test_a_failed_or_tools_first_solution_falls_back_to_our_construction() -> None:
    """Parallel cheapest insertion finds nothing here (one visit per engineer, five urgent
    jobs); the plan still serves two jobs and explains the three others, never NO_SOLUTION."""
    jobs = [Job(f"j{i}", 0, 0, priority=Priority.URGENT) for i in range(5)]
    engineers = [engineer("e0", max_visits=1), engineer("e1", base=1, max_visits=1)]
    params = SolveParams(
        time_limit_s=2,
        solution_limit=30,
        first_solution=FirstSolution.PARALLEL_CHEAPEST_INSERTION,
        metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH,
    )
    plan = run(make_problem([0, 0], jobs, engineers), params)
    assert plan.status is PlanStatus.SOLVED and plan.is_feasible()
    assert (plan.kpis.assigned, plan.kpis.dropped) == (2, 3)
    assert {u.reason for u in plan.unassigned} == {Reason.FULL}


def test_ruin_share_follows_the_first_plans_route_length() -> None:
    """Short routes leave 30 % of the time to OR-Tools, long ones 15 %, large problems none."""
    from optimizer.solve import _ruin_share

    small = {j: (0,) for j in range(40)}
    short = [list(range(k, k + 10)) for k in range(0, 40, 10)]
    long = [list(range(20)), [*range(20, 40), None]]
    assert _ruin_share(SolveParams(), small, short) == 0.7
    assert _ruin_share(SolveParams(), small, long) == 0.85
    assert _ruin_share(SolveParams(), {j: (0,) for j in range(400)}, short) == 0.7
    assert _ruin_share(SolveParams(), {j: (0,) for j in range(501)}, short) == 1.0
    assert _ruin_share(SolveParams(ruin_share=0.2), small, long) == 0.2
