"""A visit under way is a fact: the shift bends around it rather than the run failing."""

from __future__ import annotations

from dispatch.planning.problem import _fit_under_way
from optimizer import (
    Break,
    CurrentPosition,
    Engineer,
    InProgress,
    Job,
    Problem,
    Shift,
    SolveParams,
    VisitStatus,
    solve,
)


def _problem(shift_end: int, brk: Break | None) -> Problem:
    """Home at 0, the site 50 s away; the engineer has been on site since t=100 for 850 s."""
    durations = ((0, 50), (50, 0))
    job = Job(
        "r1",
        1,
        850,
        in_progress=InProgress("e1", VisitStatus.ON_SITE, started_at=100),
    )
    shift = Shift(0, 100, shift_end, 0, 0, break_=brk)
    engineer = Engineer("e1", {}, (shift,), current=CurrentPosition(1, 900))
    return Problem(durations=durations, distances=durations, jobs=(job,), engineers=(engineer,))


def test_the_shift_runs_over_for_the_drive_home() -> None:
    """The visit ends at 950, inside a shift ending at 960, but home is 50 s away: the shift
    is extended to 1,000 and the plan keeps the visit."""
    fitted = _fit_under_way(_problem(960, None))
    assert fitted.engineers[0].shifts[0].end == 1000
    served = solve(fitted, SolveParams(time_limit_s=0.2))
    assert [v.job_id for r in served.routes for v in r.visits] == ["r1"]
    # The optimiser keeps a visit under way on its own too (its day ends when the engineer
    # can be home), so a problem built without this fitting no longer drops it.
    unfitted = solve(_problem(960, None), SolveParams(time_limit_s=0.2))
    assert [v.job_id for r in unfitted.routes for v in r.visits] == ["r1"]
    assert unfitted.routes[0].end_time == 1000


def test_a_break_that_no_longer_fits_after_the_visit_is_dropped() -> None:
    """The break must end by 980 but the visit lasts until 950: there is no room for it."""
    fitted = _fit_under_way(_problem(2000, Break(900, 980, 60)))
    assert fitted.engineers[0].shifts[0].break_ is None
    served = solve(fitted, SolveParams(time_limit_s=0.2))
    assert [v.job_id for r in served.routes for v in r.visits] == ["r1"]
