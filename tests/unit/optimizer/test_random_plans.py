"""Random small field days: every plan the optimiser returns passes the independent checker."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (
    Break,
    Engineer,
    FirstSolution,
    Job,
    Metaheuristic,
    Priority,
    Problem,
    Shift,
    SolveParams,
    TimeWindow,
    Weights,
    solve,
)
from tests.unit.optimizer.checker import check_plan


@st.composite
def field_days(draw: st.DrawFn) -> Problem:
    n_loc = draw(st.integers(3, 9))
    xs = draw(st.lists(st.integers(0, 60), min_size=n_loc, max_size=n_loc))
    ys = draw(st.lists(st.integers(0, 60), min_size=n_loc, max_size=n_loc))
    matrix = tuple(
        tuple(abs(xs[a] - xs[b]) + abs(ys[a] - ys[b]) for b in range(n_loc)) for a in range(n_loc)
    )
    engineers = []
    for e in range(draw(st.integers(1, 3))):
        brk = Break(100, 200, 20) if draw(st.booleans()) else None
        shift = Shift(
            day=0,
            start=0,
            end=400,
            start_location=e % n_loc,
            end_location=e % n_loc,
            break_=brk,
            max_visits=draw(st.one_of(st.none(), st.integers(1, 4))),
            max_work_s=draw(st.one_of(st.none(), st.integers(150, 400))),
        )
        engineers.append(
            Engineer(
                id=f"e{e}",
                skills={"gas": draw(st.integers(1, 5))},
                shifts=(shift,),
                capacity=draw(st.one_of(st.none(), st.integers(2, 6))),
            )
        )
    jobs = []
    for j in range(draw(st.integers(1, 7))):
        start = draw(st.integers(0, 300))
        windows = (TimeWindow(start, start + draw(st.integers(10, 150))),)
        jobs.append(
            Job(
                id=f"j{j}",
                location=draw(st.integers(0, n_loc - 1)),
                service_s=draw(st.integers(0, 40)),
                windows=windows if draw(st.booleans()) else (),
                promise_due=draw(st.one_of(st.none(), st.integers(0, 400))),
                priority=draw(st.sampled_from(list(Priority))),
                skills={"gas": draw(st.integers(1, 5))} if draw(st.booleans()) else {},
                demand=draw(st.integers(0, 3)),
            )
        )
    return Problem(durations=matrix, distances=matrix, jobs=tuple(jobs), engineers=tuple(engineers))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field_days(), st.booleans(), st.booleans())
def test_every_plan_passes_the_checker(problem: Problem, capped: bool, ortools: bool) -> None:
    """Whatever the instance and phase (own search or OR-Tools), the plan passes the checker."""
    weights = Weights(max_lateness_s=60 if capped else None)
    if ortools:
        params = SolveParams(
            time_limit_s=2,
            solution_limit=30,
            first_solution=FirstSolution.PARALLEL_CHEAPEST_INSERTION,
            metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH,
            weights=weights,
        )
    else:
        params = SolveParams(time_limit_s=0.2, ruin_iterations=30, weights=weights)
    plan = solve(problem, params)
    assert plan.is_feasible()
    check_plan(problem, plan, weights.max_lateness_s)
