"""The problem's matrices: checked once, extended by new locations without checking it all."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer import Engineer, Job, Problem, Shift, TimeWindow, extended_matrix


def _problem(n: int) -> Problem:
    matrix = [[abs(i - j) * 60 for j in range(n)] for i in range(n)]
    return Problem(
        durations=matrix,
        distances=matrix,
        jobs=(Job(id="j1", location=1, service_s=600, windows=(TimeWindow(0, 36000),)),),
        engineers=(
            Engineer(
                id="e1",
                skills={},
                shifts=(Shift(day=0, start=0, end=36000, start_location=0, end_location=0),),
            ),
        ),
    )


def test_an_extended_matrix_equals_the_whole_matrix_built_at_once() -> None:
    """Appending two locations gives the matrix a problem over all of them would hold."""
    problem = _problem(5)
    whole = [[abs(i - j) * 60 for j in range(7)] for i in range(7)]
    to_new = [row[5:] for row in whole[:5]]
    from_new = whole[5:]
    grown = extended_matrix(problem.durations, to_new, from_new)
    assert [list(row) for row in grown] == whole
    assert Problem(durations=grown, distances=grown, jobs=(), engineers=()).num_locations == 7


def test_a_new_entry_that_is_negative_or_misshapen_is_refused() -> None:
    """The new locations' entries are checked as a whole matrix's are."""
    problem = _problem(3)
    with pytest.raises(ValueError, match="integers >= 0"):
        extended_matrix(problem.durations, [[1], [2], [-3]], [[1, 2, 3, 0]])
    with pytest.raises(ValueError, match="integers >= 0"):
        extended_matrix(problem.durations, [[1], [2], [3]], [[1, 2.5, 3, 0]])
    with pytest.raises(ValueError, match="entries, expected 4"):
        extended_matrix(problem.durations, [[1], [2], [3]], [[1, 2, 3]])
    with pytest.raises(ValueError, match="expected 3"):
        extended_matrix(problem.durations, [[1], [2]], [[1, 2, 3, 0]])


def test_a_problem_with_other_jobs_keeps_the_checked_matrices() -> None:
    """Replacing a problem's jobs reuses its matrices as they are (no copy, no second check)."""
    problem = _problem(4)
    other = dataclasses.replace(
        problem, jobs=(Job(id="j2", location=2, service_s=600, windows=(TimeWindow(0, 36000),)),)
    )
    assert other.durations is problem.durations
    assert other.distances is problem.distances
