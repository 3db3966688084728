"""The room intake keeps for promises already made: a booking that eats into the last
``KEEP_MARGIN`` of a later visit's window counts, for the quote, as making that promise later."""

from __future__ import annotations

from datetime import timedelta

from dispatch.planning.capacity import KEEP_MARGIN, _with_margin
from optimizer import Engineer, Job, Plan, Problem, Shift, SolveParams, solve
from optimizer.insertion import best_insertions
from tests.unit.optimizer.conftest import make_problem


def _route_with_slack(slack_s: int) -> tuple[Problem, Plan, Job]:
    """Route e: x=0 -> a (x=10) -> b (x=30), b promised ``slack_s`` after its planned start;
    a new 5-second job n at x=20 on the way pushes b by 5 s."""
    a = Job("a", 1, 0)
    b = Job("b", 3, 0, promise_due=30 + slack_s)
    new = Job("n", 2, 5)
    e = Engineer("e", {}, (Shift(0, 0, 1000, 0, 4),))
    plan = solve(make_problem([0, 10, 20, 30, 40], [a, b], [e]), SolveParams(time_limit_s=0.3))
    assert [v.start for v in plan.routes[0].visits] == [10, 30]
    return make_problem([0, 10, 20, 30, 40], [a, b, new], [e]), plan, new


def test_a_push_into_the_kept_room_counts_as_making_the_promise_later() -> None:
    """With 8 s of slack, putting n before b is free on paper; with 6 s of room kept for b that
    would make b late, so the insertion goes after b instead (delaying nobody); with 20 s of
    slack it still goes before b."""
    problem, plan, new = _route_with_slack(8)
    (plain,) = best_insertions(problem, plan.routes, new)
    assert (plain.position, plain.newly_late, plain.added_travel_s) == (1, (), 0)
    (guarded,) = best_insertions(_with_margin(problem, timedelta(seconds=6)), plan.routes, new)
    assert (guarded.position, guarded.newly_late) == (2, ())
    roomy, roomy_plan, roomy_new = _route_with_slack(20)
    (safe,) = best_insertions(
        _with_margin(roomy, timedelta(seconds=6)), roomy_plan.routes, roomy_new
    )
    assert (safe.position, safe.newly_late) == (1, ())


def test_the_margin_only_moves_promises_and_never_what_is_stored() -> None:
    """Only the due times move, by the margin, and only for jobs with a promise; the problem
    given is left as it was; no margin gives the problem back unchanged."""
    problem, _, _ = _route_with_slack(8)
    kept = _with_margin(problem, KEEP_MARGIN)
    cut = int(KEEP_MARGIN.total_seconds())
    assert [j.promise_due for j in kept.jobs] == [None, 38 - cut, None]
    assert [j.promise_due for j in problem.jobs] == [None, 38, None]
    assert kept.durations == problem.durations
    assert _with_margin(problem, timedelta(0)) is problem
