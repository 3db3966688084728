"""The plan that :func:`optimizer.solve` returns: routes with ETAs, unassigned jobs, KPIs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from optimizer.eligibility import Reason


class PlanStatus(StrEnum):
    """Outcome of a solve."""

    SOLVED = "solved"
    """A plan honouring every hard constraint was found (some jobs may be unassigned)."""
    NO_SOLUTION = "no_solution"
    """No plan honours the hard constraints (e.g. a visit under way cannot be completed)."""


@dataclass(frozen=True, slots=True)
class Visit:
    """One stop of a route.

    Parameters
    ----------
    job_id
        The job served.
    arrival
        ETA at the site.
    start
        Service start.
    departure
        When the engineer leaves the site (``start + service``).
    waiting_s
        Idle time on site before the service start (the break excluded).
    lateness_s
        Seconds the service starts after the job's promise (0 if on time or no promise).
    travel_s, distance
        Travel from the previous stop.
    """

    job_id: str
    arrival: int
    start: int
    departure: int
    waiting_s: int
    lateness_s: int
    travel_s: int
    distance: int


@dataclass(frozen=True, slots=True)
class Route:
    """One engineer-day: the ordered visits and the day's figures.

    Parameters
    ----------
    engineer_id, day
        The engineer and the day key of the shift.
    start_location, end_location
        Matrix indices where the route starts and ends.
    start_time
        Departure from the start location.
    end_time
        Arrival at the end location.
    visits
        Visits in order.
    break_start, break_end
        When the break is taken, if the shift has one.
    travel_s, distance
        Total travel including the way back.
    service_s
        Total service time.
    work_s
        ``end_time - start_time``.
    load
        Total demand carried.
    """

    engineer_id: str
    day: int
    start_location: int
    end_location: int
    start_time: int
    end_time: int
    visits: tuple[Visit, ...]
    break_start: int | None
    break_end: int | None
    travel_s: int
    distance: int
    service_s: int
    work_s: int
    load: int


@dataclass(frozen=True, slots=True)
class Trip:
    """An out-of-town trip: the engineer sleeps away from home between two days.

    Parameters
    ----------
    engineer_id
        The engineer.
    first_day, last_day
        Day keys of the first shift (ending at the lodging) and of the last (starting there and
        ending with the journey home); the shifts between start and end at the lodging.
    lodging
        Matrix index of where the engineer stays.
    nights
        Nights away in the plan's horizon.
    """

    engineer_id: str
    first_day: int
    last_day: int
    lodging: int
    nights: int


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A job left out of the plan and why.

    Parameters
    ----------
    job_id
        The job.
    reason
        Machine-readable reason code.
    message
        Human-readable explanation.
    """

    job_id: str
    reason: Reason
    message: str


@dataclass(frozen=True, slots=True)
class Kpis:
    """Headline figures of a plan.

    Parameters
    ----------
    assigned, dropped
        Jobs in the plan and jobs left out.
    late_count, late_s
        Visits starting after their promise and their total lateness in seconds.
    travel_s, distance
        Total travel time and distance.
    routes
        Number of non-empty routes.
    utilisation
        Working time of all routes divided by the length of every usable shift (0..1).
    """

    assigned: int
    dropped: int
    late_count: int
    late_s: int
    travel_s: int
    distance: int
    routes: int
    utilisation: float

    @property
    def late_minutes(self) -> float:
        """Total lateness in minutes."""
        return self.late_s / 60


@dataclass(frozen=True)
class Plan:
    """The answer of :func:`optimizer.solve`.

    Parameters
    ----------
    status
        Whether a plan honouring every hard constraint was found.
    routes
        Non-empty routes, in engineer then day order.
    unassigned
        Jobs left out, each with a reason.
    kpis
        Headline figures.
    cost
        Objective value in cost units of :class:`optimizer.params.Weights`: travel, lateness,
        over-qualification, stability and drop penalties of the jobs that passed the
        pre-solve checks.
    runtime_s
        Wall-clock time of the solve.
    warm_start_cost
        Cost of the previous plan (the jobs' :attr:`~optimizer.problem.Job.previous`
        assignments) in this problem, when there is one and it still honours every hard
        constraint. ``cost`` is never above it: a re-plan never returns a worse plan than the
        one in force unless the inputs made that one impossible.
    """

    status: PlanStatus
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    kpis: Kpis
    cost: int
    runtime_s: float
    warm_start_cost: int | None = None
    trips: tuple[Trip, ...] = ()
    """Out-of-town trips the plan makes (``Problem.trips``); their shifts start or end at the
    lodging (:func:`optimizer.trips.with_trips` gives the problem the routes are timed in)."""

    def is_feasible(self) -> bool:
        """Return whether the plan honours every hard constraint."""
        return self.status is PlanStatus.SOLVED

    def route_of(self, job_id: str) -> Route | None:
        """Return the route serving ``job_id``, or ``None`` if it is unassigned."""
        for route in self.routes:
            if any(v.job_id == job_id for v in route.visits):
                return route
        return None

    def visit_of(self, job_id: str) -> Visit | None:
        """Return the visit serving ``job_id``, or ``None`` if it is unassigned."""
        for route in self.routes:
            for visit in route.visits:
                if visit.job_id == job_id:
                    return visit
        return None

    def summary(self) -> str:
        """Return a short human-readable account of the plan."""
        k = self.kpis
        lines = [
            f"status: {self.status.value}, cost {self.cost}, solved in {self.runtime_s:.2f} s",
            f"jobs: {k.assigned} assigned, {k.dropped} unassigned, {k.late_count} late "
            f"({k.late_minutes:.1f} min)",
            f"routes: {k.routes}, travel {k.travel_s / 3600:.2f} h, distance {k.distance}, "
            f"utilisation {100 * k.utilisation:.1f} %",
        ]
        for route in self.routes:
            stops = " -> ".join(v.job_id for v in route.visits)
            lines.append(f"  {route.engineer_id} day {route.day}: {stops}")
        for u in self.unassigned:
            lines.append(f"  unassigned {u.job_id}: {u.reason.value} ({u.message})")
        return "\n".join(lines)
