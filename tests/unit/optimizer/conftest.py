"""Tiny hand-checkable instances for the optimiser tests."""

from __future__ import annotations

from collections.abc import Sequence

from optimizer import Engineer, Job, Problem, Shift


def line(points: Sequence[int]) -> tuple[tuple[int, ...], ...]:
    """Travel matrix of points on a line: the time between two points is their distance."""
    return tuple(tuple(abs(a - b) for b in points) for a in points)


def make_problem(
    points: Sequence[int], jobs: Sequence[Job], engineers: Sequence[Engineer]
) -> Problem:
    """A problem on a line, with distances equal to durations."""
    m = line(points)
    return Problem(durations=m, distances=m, jobs=tuple(jobs), engineers=tuple(engineers))


def engineer(
    eid: str,
    *,
    skills: dict[str, int] | None = None,
    start: int = 0,
    end: int = 1000,
    base: int = 0,
    **shift_kw: object,
) -> Engineer:
    """An engineer with one shift on day 0 from and to ``base``."""
    capacity = shift_kw.pop("capacity", None)
    shift = Shift(day=0, start=start, end=end, start_location=base, end_location=base, **shift_kw)  # type: ignore[arg-type]
    return Engineer(id=eid, skills=skills or {}, shifts=(shift,), capacity=capacity)  # type: ignore[arg-type]
