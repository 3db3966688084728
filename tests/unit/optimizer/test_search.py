"""The ruin-and-recreate phase on tiny instances, run for a fixed number of iterations."""

from __future__ import annotations

import itertools

from optimizer import Job, TimeWindow, Weights
from optimizer.eligibility import check_job, route_slots
from optimizer.search import ruin_and_recreate
from tests.unit.optimizer.conftest import engineer, make_problem


def test_ruin_and_recreate_untangles_a_zigzag_route() -> None:
    """A zigzag 0-30-10-40-20-0 route (travel 120) becomes an out-and-back one (travel 80)."""
    jobs = [Job(f"x{x}", i + 1, 0) for i, x in enumerate([10, 20, 30, 40])]
    problem = make_problem([0, 10, 20, 30, 40], jobs, [engineer("e")])
    weights = Weights()
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    zigzag = [[2, 0, 3, 1]]
    best = ruin_and_recreate(problem, slots, candidates, weights, zigzag, iterations=50)
    (route,) = best
    path = [0, *(jobs[j].location for j in route), 0]
    travel = sum(problem.durations[a][b] for a, b in itertools.pairwise(path))
    assert (sorted(route), travel) == ([0, 1, 2, 3], 80)


def test_ruin_and_recreate_keeps_windows_and_moves_jobs_between_routes() -> None:
    """Two engineers: each job moves to the engineer at its end of the line, windows kept."""
    jobs = [
        Job("a", 1, 0, windows=(TimeWindow(0, 100),)),
        Job("b", 2, 0, windows=(TimeWindow(0, 100),)),
    ]
    problem = make_problem([0, 5, 45, 50], jobs, [engineer("west"), engineer("east", base=3)])
    weights = Weights()
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    crossed = [[1], [0]]
    best = ruin_and_recreate(problem, slots, candidates, weights, crossed, iterations=30)
    assert best == [[0], [1]]


def test_route_elimination_empties_a_route_and_never_reopens_an_idle_one() -> None:
    """Emptying a route puts all its visits back into the other routes, not into idle ones."""
    import random

    from optimizer.search import _neighbours, _recreate, _ruin_route, _State

    jobs = [Job(f"j{i}", 1 + i, 0) for i in range(4)]
    vans = [engineer(f"v{k}") for k in range(4)]
    problem = make_problem([0, 10, 11, 12, 13], jobs, vans)
    weights = Weights()
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    state = _State(problem, slots, candidates, weights, [[0, 1, 2], [3], [], []])
    touched: dict[int, list[int | None]] = {}
    removed = _ruin_route(state, random.Random(0), touched)
    assert removed == [3] and touched == {1: [3]} and state.seqs[1] == []
    near = _neighbours(problem, list(candidates))
    _recreate(state, random.Random(0), removed, touched, near, open_routes=False)
    assert state.seqs[1:] == [[], [], []] and sorted(state.seqs[0]) == [0, 1, 2, 3]
    assert state.unserved == set()


def test_late_visits_are_moved_to_an_on_time_route_at_the_end() -> None:
    """A visit left late on a busy route moves to the idle engineer who is on time."""
    from optimizer.search import _repair_late

    jobs = [
        Job("busy", 1, 100, windows=(TimeWindow(0, 10),)),
        Job("late", 2, 10, promise_due=60),
    ]
    problem = make_problem([0, 5, 8, 50], jobs, [engineer("a"), engineer("b", base=3)])
    weights = Weights()
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    repaired = _repair_late(problem, slots, candidates, weights, [[0, 1], []])
    assert repaired == [[0], [1]]


def test_revert_restores_a_visit_that_moved_between_two_touched_routes() -> None:
    """Undoing an iteration that moved a visit from route 0 to route 1 leaves it on route 0.

    Regression: the undo forgot the visit's route when it restored route 0 before route 1, so
    the search stopped seeing it (never ruined it again, never counted it as a neighbour).
    """
    from optimizer.search import _State

    jobs = [Job(f"j{i}", 1 + i, 0) for i in range(3)]
    problem = make_problem([0, 10, 11, 12], jobs, [engineer("a"), engineer("b")])
    weights = Weights()
    slots = route_slots(problem)
    candidates = {j: check_job(problem, job, slots, weights).slots for j, job in enumerate(jobs)}
    state = _State(problem, slots, candidates, weights, [[0, 1], [2]])
    touched: dict[int, list[int | None]] = {0: [0, 1], 1: [2]}
    state.seqs[0] = [0]
    state.seqs[1] = [2, 1]
    state.route_of[1] = 1
    state.refresh(0)
    state.refresh(1)
    state.revert(touched, set())
    assert state.seqs == [[0, 1], [2]]
    assert state.route_of == {0: 0, 1: 0, 2: 1}
