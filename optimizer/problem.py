"""The immutable routing problem: jobs, engineers, shifts and the travel matrices.

Every time is an integer number of seconds from a plan epoch chosen by the caller; every
distance is an integer (metres in production, scaled units in benchmarks). Instances are
validated on construction and raise :class:`ValueError` naming the offending field, so that a
service can map them to a client error.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from operator import add
from types import MappingProxyType

MIN_SKILL_LEVEL = 1
LONG_LEG_S = 3600
"""Legs longer than this (in matrix seconds) are timed hour by hour in traffic."""
MAX_SKILL_LEVEL = 5


class Priority(StrEnum):
    """Priority tier of a repair request, as in the service-level table."""

    URGENT = "urgent"
    IMPORTANT = "important"
    GENERAL = "general"


class VisitStatus(StrEnum):
    """State of a visit that is already under way and must not move."""

    EN_ROUTE = "en_route"
    ON_SITE = "on_site"


def _frozen_skills(name: str, skills: Mapping[str, int]) -> Mapping[str, int]:
    for skill, level in skills.items():
        if not isinstance(skill, str) or not skill:
            raise ValueError(f"{name}: skill names must be non-empty strings")
        if isinstance(level, bool) or not isinstance(level, int):
            raise ValueError(f"{name}[{skill!r}]: level must be an integer")
        if not MIN_SKILL_LEVEL <= level <= MAX_SKILL_LEVEL:
            raise ValueError(
                f"{name}[{skill!r}]: level {level} is outside {MIN_SKILL_LEVEL}..{MAX_SKILL_LEVEL}"
            )
    return MappingProxyType(dict(sorted(skills.items())))


def _non_negative(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: must be an integer, got {value!r}")
    if value < 0:
        raise ValueError(f"{name}: must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A closed interval ``[start, end]`` in which a service may start.

    Parameters
    ----------
    start, end
        Seconds from the plan epoch, ``start <= end``.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"TimeWindow.end: {self.end} is before start {self.start}")

    def contains(self, t: int) -> bool:
        """Return whether ``t`` lies in the window (bounds included)."""
        return self.start <= t <= self.end


@dataclass(frozen=True, slots=True)
class Break:
    """A break (lunch) of ``duration_s`` seconds taken inside ``[earliest_start, latest_end]``.

    Parameters
    ----------
    earliest_start
        Earliest time the break may begin.
    latest_end
        Latest time the break may end.
    duration_s
        Length of the break in seconds.
    """

    earliest_start: int
    latest_end: int
    duration_s: int

    def __post_init__(self) -> None:
        _non_negative("Break.duration_s", self.duration_s)
        if self.latest_end - self.earliest_start < self.duration_s:
            raise ValueError(
                "Break.latest_end: the window "
                f"[{self.earliest_start}, {self.latest_end}] is shorter than the duration "
                f"{self.duration_s}"
            )

    @property
    def latest_start(self) -> int:
        """Latest time the break may begin."""
        return self.latest_end - self.duration_s


@dataclass(frozen=True, slots=True)
class Shift:
    """One engineer-day: the engineer works between ``start`` and ``end`` and forms one route.

    Parameters
    ----------
    day
        Key of the day (e.g. days since the plan epoch); unique per engineer.
    start, end
        Earliest departure from ``start_location`` and latest return to ``end_location``.
    start_location, end_location
        Indices into the travel matrices (the base, or home).
    break_
        Optional break to take during the shift.
    max_work_s
        Optional limit on the working time, from leaving the start location to reaching the end
        location (travel, service, waiting on the way and the break all count).
    max_visits
        Optional limit on the number of visits.
    """

    day: int
    start: int
    end: int
    start_location: int
    end_location: int
    break_: Break | None = None
    max_work_s: int | None = None
    max_visits: int | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"Shift.end: {self.end} is before start {self.start}")
        _non_negative("Shift.start_location", self.start_location)
        _non_negative("Shift.end_location", self.end_location)
        if self.max_work_s is not None:
            _non_negative("Shift.max_work_s", self.max_work_s)
        if self.max_visits is not None:
            _non_negative("Shift.max_visits", self.max_visits)
        if self.break_ is not None and (
            self.break_.earliest_start < self.start or self.break_.latest_end > self.end
        ):
            raise ValueError(
                f"Shift.break_: the break window [{self.break_.earliest_start}, "
                f"{self.break_.latest_end}] is not inside the shift [{self.start}, {self.end}]"
            )


@dataclass(frozen=True, slots=True)
class CurrentPosition:
    """Where and when an engineer is now, for re-planning during the first shift.

    Parameters
    ----------
    location
        Index into the travel matrices of the current position.
    time
        The current time; the engineer cannot leave before it.
    """

    location: int
    time: int

    def __post_init__(self) -> None:
        _non_negative("CurrentPosition.location", self.location)


@dataclass(frozen=True)
class Engineer:
    """A field engineer with skill levels, an optional van capacity and shifts.

    Parameters
    ----------
    id
        Unique identifier.
    skills
        Skill name -> level (1..5).
    shifts
        One or more shifts; each becomes one route.
    capacity
        Optional load capacity of the van (same unit as :attr:`Job.demand`).
    current
        Current position and time: overrides the start location and time of the first shift
        that has not ended yet (re-planning after a progress report).
    traffic
        Travel-time multipliers, relative to the matrices, for legs departing in each hour
        from time 0 (hour ``k`` covers ``[3600 k, 3600 (k + 1))``; 1.0 beyond the tuple).
        The search uses the matrices as they are; routes are timed with the multipliers
        (:func:`leg_duration`), so the reported ETAs follow the traffic of the hour.
    """

    id: str
    skills: Mapping[str, int]
    shifts: tuple[Shift, ...]
    capacity: int | None = None
    current: CurrentPosition | None = None
    traffic: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("Engineer.id: must be a non-empty string")
        object.__setattr__(
            self, "skills", _frozen_skills(f"Engineer[{self.id}].skills", self.skills)
        )
        object.__setattr__(self, "shifts", tuple(self.shifts))
        object.__setattr__(self, "traffic", tuple(float(m) for m in self.traffic))
        if any(not (math.isfinite(m) and 0.0 < m <= 10.0) for m in self.traffic):
            raise ValueError(f"Engineer[{self.id}].traffic: multipliers must be in (0, 10]")
        if self.capacity is not None:
            _non_negative(f"Engineer[{self.id}].capacity", self.capacity)
        days = [s.day for s in self.shifts]
        if len(set(days)) != len(days):
            raise ValueError(f"Engineer[{self.id}].shifts: two shifts share a day key")
        ordered = sorted(self.shifts, key=lambda s: s.start)
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise ValueError(f"Engineer[{self.id}].shifts: shifts {a.day} and {b.day} overlap")

    def leg_duration(self, duration: int, departure: int) -> int:
        """A leg's travel time departing at ``departure``: its matrix duration scaled by the
        traffic of that hour; a leg longer than :data:`LONG_LEG_S` (an out-of-town drive)
        drives each hour it spans at that hour's pace instead, so a six-hour drive that sets
        off in the morning rush is not slowed by it all the way."""
        if not self.traffic or departure < 0:
            return duration
        hour = departure // 3600
        if hour >= len(self.traffic):
            return duration
        if duration <= LONG_LEG_S:
            return round(duration * self.traffic[hour])
        t, left = float(departure), float(duration)  # left: seconds of free-flow driving
        while left > 0:
            h = int(t // 3600)
            pace = self.traffic[h] if h < len(self.traffic) else 1.0
            room = (h + 1) * 3600 - t
            if left * pace <= room:
                t += left * pace
                break
            left -= room / pace
            t = (h + 1) * 3600.0
        return round(t - departure)

    def current_shift_index(self) -> int | None:
        """Index in :attr:`shifts` of the shift the current position applies to, if any."""
        if self.current is None:
            return None
        candidates = [i for i, s in enumerate(self.shifts) if s.end >= self.current.time]
        if not candidates:
            return None
        return min(candidates, key=lambda i: self.shifts[i].start)


@dataclass(frozen=True, slots=True)
class Lock:
    """A dispatcher's fix on a job: to an engineer (and optionally a day), to a time, or both.

    Parameters
    ----------
    engineer_id
        Engineer who must do the job, or ``None``.
    day
        Day key of the engineer's shift, only with ``engineer_id``.
    start
        Exact service start time, or ``None``.
    """

    engineer_id: str | None = None
    day: int | None = None
    start: int | None = None

    def __post_init__(self) -> None:
        if self.engineer_id is None and self.start is None:
            raise ValueError("Lock: lock an engineer, a start time, or both")
        if self.day is not None and self.engineer_id is None:
            raise ValueError("Lock.day: a day lock needs an engineer_id")


@dataclass(frozen=True, slots=True)
class InProgress:
    """A visit already under way: it stays the first stop of the engineer's current shift.

    Parameters
    ----------
    engineer_id
        The engineer doing the visit.
    status
        En route or on site.
    started_at
        For :attr:`VisitStatus.ON_SITE`, when service started (required).
    """

    engineer_id: str
    status: VisitStatus
    started_at: int | None = None

    def __post_init__(self) -> None:
        if self.status is VisitStatus.ON_SITE and self.started_at is None:
            raise ValueError("InProgress.started_at: required when the engineer is on site")


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a job sat in a previous plan (warm start and stability).

    Parameters
    ----------
    engineer_id
        Engineer of the previous plan.
    day
        Day key of that engineer's shift.
    position
        Rank of the visit in that route (0 = first).
    """

    engineer_id: str
    day: int
    position: int


@dataclass(frozen=True)
class Job:
    """A repair request to be served by one visit.

    Parameters
    ----------
    id
        Unique identifier.
    location
        Index into the travel matrices of the site.
    service_s
        Service duration on site, in seconds.
    windows
        Hard customer availability windows for the service start, sorted and disjoint; empty
        means any time in a shift.
    promise_due
        Soft deadline on the service start; lateness beyond it costs
        :attr:`Weights.lateness_per_s` of the job's priority.
    priority
        Priority tier: scales lateness and drop penalties.
    skills
        Required skills: name -> minimum level (1..5).
    demand
        Load taken from the engineer's van capacity.
    drop_penalty
        Overrides the priority's drop penalty; the job is optional in any case.
    lock
        Dispatcher lock, if any.
    in_progress
        Set when the visit is en route or on site.
    promised
        The customer was already told the engineer / time: moving the visit away from
        ``previous`` costs :attr:`Weights.stability`.
    previous
        Where the job sat in the previous plan.
    declined_by
        Ids of engineers who declined the visit: no plan gives it to them again.
    """

    id: str
    location: int
    service_s: int
    windows: tuple[TimeWindow, ...] = ()
    promise_due: int | None = None
    priority: Priority = Priority.GENERAL
    skills: Mapping[str, int] = field(default_factory=dict)
    demand: int = 0
    drop_penalty: int | None = None
    lock: Lock | None = None
    in_progress: InProgress | None = None
    promised: bool = False
    previous: Assignment | None = None
    declined_by: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("Job.id: must be a non-empty string")
        declined = frozenset(self.declined_by)
        if not all(isinstance(e, str) and e for e in declined):
            raise ValueError(f"Job[{self.id}].declined_by: engineer ids must be non-empty strings")
        object.__setattr__(self, "declined_by", declined)
        _non_negative(f"Job[{self.id}].location", self.location)
        _non_negative(f"Job[{self.id}].service_s", self.service_s)
        _non_negative(f"Job[{self.id}].demand", self.demand)
        if self.drop_penalty is not None:
            _non_negative(f"Job[{self.id}].drop_penalty", self.drop_penalty)
        object.__setattr__(self, "skills", _frozen_skills(f"Job[{self.id}].skills", self.skills))
        windows = tuple(self.windows)
        object.__setattr__(self, "windows", windows)
        for a, b in itertools.pairwise(windows):
            if b.start <= a.end:
                raise ValueError(f"Job[{self.id}].windows: windows must be sorted and disjoint")
        object.__setattr__(self, "priority", Priority(self.priority))

    def earliest_start(self) -> int | None:
        """Earliest allowed service start, or ``None`` without windows."""
        return self.windows[0].start if self.windows else None

    def latest_start(self) -> int | None:
        """Latest allowed service start, or ``None`` without windows."""
        return self.windows[-1].end if self.windows else None


class Matrix(tuple[tuple[int, ...], ...]):
    """A square matrix of integers >= 0 already checked: a problem made from another one's
    matrices (``dataclasses.replace`` with other jobs, as every quote and booking does) does not
    check its million entries again."""

    __slots__ = ()


def _check_rows(name: str, rows: Sequence[tuple[int, ...]], n: int, first: int = 0) -> None:
    for i, row in enumerate(rows, start=first):
        if len(row) != n:
            raise ValueError(f"Problem.{name}: row {i} has {len(row)} entries, expected {n}")
        # Checked with C-level builtins: matrices of a million entries are common.
        if row and (set(map(type, row)) != {int} or min(row) < 0):
            raise ValueError(f"Problem.{name}: row {i} must hold only integers >= 0")


def _square_matrix(name: str, matrix: Sequence[Sequence[int]]) -> Matrix:
    if isinstance(matrix, Matrix):
        return matrix
    rows = tuple(tuple(row) for row in matrix)
    _check_rows(name, rows, len(rows))
    return Matrix(rows)


def extended_matrix(
    matrix: Sequence[Sequence[int]],
    to_new: Sequence[Sequence[int]],
    from_new: Sequence[Sequence[int]],
    name: str = "matrix",
) -> Matrix:
    """``matrix`` (n x n) with k new locations appended: ``to_new`` (n x k) holds the entries
    from the old locations to the new ones, ``from_new`` (k x (n + k)) those from the new ones
    to every location. Only the new entries are checked when ``matrix`` is a checked one."""
    base = _square_matrix(name, matrix)
    n, k = len(base), len(from_new)
    if len(to_new) != n:
        raise ValueError(f"{name}: {len(to_new)} rows to the new locations, expected {n}")
    cols = [tuple(c) for c in to_new]
    # Checked all at once with C-level builtins (one quote appends one site to a matrix of
    # hundreds of rows); the row at fault is looked for only when there is one.
    entries = list(itertools.chain.from_iterable(cols))
    if (cols and set(map(len, cols)) != {k}) or (
        entries and (set(map(type, entries)) != {int} or min(entries) < 0)
    ):
        for i, col in enumerate(cols):
            if len(col) != k:
                raise ValueError(f"{name}: row {i} has {len(col)} new entries, expected {k}")
            if col and (set(map(type, col)) != {int} or min(col) < 0):
                raise ValueError(f"{name}: row {i} must hold only integers >= 0")
    rows = [tuple(r) for r in from_new]
    _check_rows(name, rows, n + k, first=n)
    return Matrix((*map(add, base, cols), *rows))


@dataclass(frozen=True)
class TripRules:
    """When and how engineers may be sent on out-of-town trips with overnight stays.

    A trip runs over consecutive shifts of one engineer: the first day ends at a lodging
    instead of home, the days between start and end there, and the last day starts there and
    ends with the journey home. The search decides which trips to make
    (:func:`optimizer.trips.solve_with_trips`).

    Parameters
    ----------
    max_days
        Longest trip in days, the first day and the journey home included (policy data,
        default 3: two nights away). 1 switches trips off.
    overnight_cost
        Cost of one night away, in the units of :class:`~optimizer.params.Weights` (default
        4 h of driving): a trip is made only when it saves more than its nights cost.
    lodgings
        Matrix indices of places to stay (a hotel configured per service area). The site of a
        far job is a candidate too (a lodging near the last visit).
    far_s
        A job this many seconds or more, one way, from every engineer's start is out of town
        and a candidate for a trip (default 3 h).
    away_days
        Engineer id -> days already away before the first shift (a trip under way: its first
        shift starts at the lodging).
    """

    max_days: int = 3
    overnight_cost: int = 4 * 3600
    lodgings: tuple[int, ...] = ()
    far_s: int = 3 * 3600
    away_days: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.max_days, bool) or not isinstance(self.max_days, int):
            raise ValueError("TripRules.max_days: must be an integer")
        if self.max_days < 1:
            raise ValueError(f"TripRules.max_days: must be >= 1, got {self.max_days}")
        _non_negative("TripRules.overnight_cost", self.overnight_cost)
        _non_negative("TripRules.far_s", self.far_s)
        object.__setattr__(self, "lodgings", tuple(self.lodgings))
        for i, loc in enumerate(self.lodgings):
            _non_negative(f"TripRules.lodgings[{i}]", loc)
        for eng, days in self.away_days.items():
            _non_negative(f"TripRules.away_days[{eng}]", days)
        object.__setattr__(self, "away_days", MappingProxyType(dict(self.away_days)))


@dataclass(frozen=True)
class Problem:
    """A routing problem: who can do which job, where, and when.

    Parameters
    ----------
    durations
        Square matrix of travel times in seconds between location indices.
    distances
        Square matrix of travel distances (same shape), reported and optionally costed.
    jobs
        The jobs to plan.
    engineers
        The engineers and their shifts.
    trips
        Out-of-town trips allowed, or ``None`` (default): every shift starts and ends where it
        says.

    Raises
    ------
    ValueError
        With a message naming the field when the instance is inconsistent.
    """

    durations: tuple[tuple[int, ...], ...]
    distances: tuple[tuple[int, ...], ...]
    jobs: tuple[Job, ...]
    engineers: tuple[Engineer, ...]
    trips: TripRules | None = None
    _job_index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _engineer_index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        durations = _square_matrix("durations", self.durations)
        distances = _square_matrix("distances", self.distances)
        if len(distances) != len(durations):
            raise ValueError("Problem.distances: must have the same size as durations")
        object.__setattr__(self, "durations", durations)
        object.__setattr__(self, "distances", distances)
        object.__setattr__(self, "jobs", tuple(self.jobs))
        object.__setattr__(self, "engineers", tuple(self.engineers))
        n = len(durations)

        job_index: dict[str, int] = {}
        for i, job in enumerate(self.jobs):
            if job.id in job_index:
                raise ValueError(f"Problem.jobs: duplicate job id {job.id!r}")
            job_index[job.id] = i
            if job.location >= n:
                raise ValueError(f"Job[{job.id}].location: {job.location} is outside the matrix")
        engineer_index: dict[str, int] = {}
        for i, eng in enumerate(self.engineers):
            if eng.id in engineer_index:
                raise ValueError(f"Problem.engineers: duplicate engineer id {eng.id!r}")
            engineer_index[eng.id] = i
            for shift in eng.shifts:
                for loc_name in ("start_location", "end_location"):
                    if getattr(shift, loc_name) >= n:
                        raise ValueError(
                            f"Engineer[{eng.id}].shifts[{shift.day}].{loc_name}: outside the matrix"
                        )
            if eng.current is not None and eng.current.location >= n:
                raise ValueError(f"Engineer[{eng.id}].current.location: outside the matrix")
        if self.trips is not None:
            for i, loc in enumerate(self.trips.lodgings):
                if loc >= n:
                    raise ValueError(f"Problem.trips.lodgings[{i}]: {loc} is outside the matrix")
        object.__setattr__(self, "_job_index", MappingProxyType(job_index))
        object.__setattr__(self, "_engineer_index", MappingProxyType(engineer_index))

        busy: dict[str, str] = {}
        for job in self.jobs:
            self._validate_references(job, busy)

    def _validate_references(self, job: Job, busy: dict[str, str]) -> None:
        if job.lock is not None and job.lock.engineer_id is not None:
            eng = self.engineer(job.lock.engineer_id)
            if eng is None:
                raise ValueError(f"Job[{job.id}].lock.engineer_id: unknown engineer")
            if job.lock.day is not None and all(s.day != job.lock.day for s in eng.shifts):
                raise ValueError(f"Job[{job.id}].lock.day: engineer has no shift that day")
        if job.in_progress is not None:
            eng_id = job.in_progress.engineer_id
            eng = self.engineer(eng_id)
            if eng is None:
                raise ValueError(f"Job[{job.id}].in_progress.engineer_id: unknown engineer")
            if eng_id in busy:
                raise ValueError(
                    f"Job[{job.id}].in_progress: engineer {eng_id!r} is already busy with "
                    f"job {busy[eng_id]!r}"
                )
            busy[eng_id] = job.id
            if eng.current is None or eng.current_shift_index() is None:
                raise ValueError(
                    f"Job[{job.id}].in_progress: engineer {eng_id!r} needs a current position "
                    "inside a shift"
                )
            if job.in_progress.status is VisitStatus.ON_SITE and (
                eng.current.location != job.location
            ):
                raise ValueError(
                    f"Job[{job.id}].in_progress: engineer {eng_id!r} is on site, so the current "
                    "position must be the job's location"
                )
        if job.previous is not None and self.engineer(job.previous.engineer_id) is None:
            raise ValueError(f"Job[{job.id}].previous.engineer_id: unknown engineer")

    @property
    def num_locations(self) -> int:
        """Number of locations in the matrices."""
        return len(self.durations)

    def job(self, job_id: str) -> Job | None:
        """Return the job with this id, or ``None``."""
        i = self._job_index.get(job_id)
        return None if i is None else self.jobs[i]

    def job_position(self, job_id: str) -> int:
        """Return the index of the job in :attr:`jobs` (raises ``KeyError`` if unknown)."""
        return self._job_index[job_id]

    def engineer(self, engineer_id: str) -> Engineer | None:
        """Return the engineer with this id, or ``None``."""
        i = self._engineer_index.get(engineer_id)
        return None if i is None else self.engineers[i]
