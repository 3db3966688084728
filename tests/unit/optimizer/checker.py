"""Independent feasibility checker for plans.

It shares no code with the optimiser beyond the public problem and plan dataclasses: every time
is recomputed from the travel matrix, and every hard rule is re-stated here from the domain.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from optimizer.problem import Break, Engineer, Job, Problem, VisitStatus
from optimizer.solution import Plan, Route


class PlanError(AssertionError):
    """A plan breaks a hard rule."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise PlanError(message)


def _shift_of(problem: Problem, route: Route):  # type: ignore[no-untyped-def]
    eng = problem.engineer(route.engineer_id)
    _require(eng is not None, f"route of unknown engineer {route.engineer_id}")
    assert eng is not None
    shifts = [s for s in eng.shifts if s.day == route.day]
    _require(len(shifts) == 1, f"{route.engineer_id} has no shift on day {route.day}")
    return eng, shifts[0]


def _in_windows(job: Job, t: int) -> bool:
    return not job.windows or any(w.start <= t <= w.end for w in job.windows)


def check_plan(problem: Problem, plan: Plan, max_lateness_s: int | None = None) -> None:
    """Raise :class:`PlanError` unless ``plan`` honours every hard rule of ``problem``.

    Checks: each job at most once and unassigned jobs listed exactly once; skills and levels;
    windows; locks; visits under way first; the shift (start, end, current position); travel
    times recomputed from the matrix; the break (window, no overlap with service, room for the
    travel around it); working time; visit count; van capacity; the lateness cap; and the
    figures each route reports.
    """
    problem = _with_checked_trips(problem, plan)
    dur, dist = problem.durations, problem.distances
    seen: set[str] = set()
    for route in plan.routes:
        eng, shift = _shift_of(problem, route)
        start_loc, start_time = shift.start_location, shift.start
        first_shift = None
        if eng.current is not None:
            live = [s for s in eng.shifts if s.end >= eng.current.time]
            first_shift = min(live, key=lambda s: s.start) if live else None
            if first_shift is not None and first_shift.day == shift.day:
                start_loc = eng.current.location
                start_time = max(shift.start, eng.current.time)
            _require(shift.end >= eng.current.time, f"{eng.id}: route on a shift already over")
        _require(route.start_location == start_loc, f"{eng.id}: wrong start location")
        _require(route.end_location == shift.end_location, f"{eng.id}: wrong end location")
        _require(
            route.visits != () or route.start_location != route.end_location,
            f"{eng.id}: empty route reported (only a trip's journey may have no visit)",
        )

        brk = shift.break_
        if brk is None:
            _require(route.break_start is None, f"{eng.id}: break on a shift without one")
        else:
            _require(route.break_start is not None, f"{eng.id} day {shift.day}: break missing")
            assert route.break_start is not None
            _require(
                brk.earliest_start <= route.break_start
                and route.break_start + brk.duration_s <= brk.latest_end,
                f"{eng.id}: break outside its window",
            )
            _require(
                route.break_end == route.break_start + brk.duration_s,
                f"{eng.id}: break of the wrong length",
            )

        loc, t = start_loc, route.start_time
        on_site_first = bool(
            route.visits
            and (j := problem.job(route.visits[0].job_id)) is not None
            and j.in_progress is not None
            and j.in_progress.status is VisitStatus.ON_SITE
        )
        if not on_site_first:
            _require(route.start_time >= start_time, f"{eng.id}: leaves before the shift starts")
        load = travel_total = dist_total = 0
        gaps: list[tuple[int, int, int]] = []  # (free from, free until, travel inside)
        for k, visit in enumerate(route.visits):
            job = problem.job(visit.job_id)
            _require(job is not None, f"unknown job {visit.job_id}")
            assert job is not None
            _require(job.id not in seen, f"{job.id} served twice")
            seen.add(job.id)
            for skill, level in job.skills.items():
                _require(
                    eng.skills.get(skill, 0) >= level,
                    f"{eng.id} lacks {skill} level {level} for {job.id}",
                )
            travel = _leg(eng, dur[loc][job.location], t, visit.start, visit.travel_s)
            _require(visit.travel_s == travel, f"{job.id}: travel {visit.travel_s} != {travel}")
            ip = job.in_progress
            if ip is not None:
                _require(k == 0, f"{job.id}: a visit under way must be the first stop")
                _require(ip.engineer_id == eng.id, f"{job.id}: visit under way moved engineer")
                _require(
                    first_shift is not None and first_shift.day == shift.day,
                    f"{job.id}: visit under way moved day",
                )
            if ip is not None and ip.status is VisitStatus.ON_SITE:
                _require(visit.start == ip.started_at, f"{job.id}: on-site start moved")
            else:
                _require(visit.start - t >= travel, f"{job.id}: starts before it can arrive")
                gaps.append((t, visit.start, travel))
                if ip is None:
                    _require(_in_windows(job, visit.start), f"{job.id}: outside its windows")
            _require(visit.departure == visit.start + job.service_s, f"{job.id}: bad departure")
            if job.lock is not None and ip is None:
                if job.lock.engineer_id is not None:
                    _require(eng.id == job.lock.engineer_id, f"{job.id}: lock engineer broken")
                    if job.lock.day is not None:
                        _require(shift.day == job.lock.day, f"{job.id}: lock day broken")
                if job.lock.start is not None:
                    _require(visit.start == job.lock.start, f"{job.id}: lock time broken")
            lateness = 0 if job.promise_due is None else max(0, visit.start - job.promise_due)
            _require(visit.lateness_s == lateness, f"{job.id}: lateness {visit.lateness_s}")
            if max_lateness_s is not None and ip is None:
                _require(lateness <= max_lateness_s, f"{job.id}: later than the cap")
            _require(visit.arrival <= visit.start, f"{job.id}: arrival after service start")
            load += job.demand
            travel_total += travel
            dist_total += dist[loc][job.location]
            loc, t = job.location, visit.departure
        back = _leg(eng, dur[loc][shift.end_location], t, t, None)
        _require(route.end_time - t >= back, f"{eng.id}: returns faster than the matrix allows")
        gaps.append((t, route.end_time, back))
        travel_total += back
        dist_total += dist[loc][shift.end_location]
        latest_end = shift.end
        only = problem.job(route.visits[0].job_id) if len(route.visits) == 1 else None
        if only is not None and only.in_progress is not None:
            # Only the visit under way: the engineer finishes it, and the day ends when they
            # can be back, past the shift's end if need be.
            rest = brk.duration_s if brk is not None and route.break_start is not None else 0
            latest_end = max(latest_end, t + rest + back)
        _require(route.end_time <= latest_end, f"{eng.id}: returns after the shift ends")
        _require(route.travel_s == travel_total, f"{eng.id}: travel total is wrong")
        _require(route.distance == dist_total, f"{eng.id}: distance total is wrong")
        _require(route.load == load, f"{eng.id}: load total is wrong")
        if eng.capacity is not None:
            _require(load <= eng.capacity, f"{eng.id}: van overloaded ({load})")
        if shift.max_visits is not None:
            _require(len(route.visits) <= shift.max_visits, f"{eng.id}: too many visits")
        if shift.max_work_s is not None:
            _require(
                route.end_time - route.start_time <= shift.max_work_s,
                f"{eng.id}: works too long",
            )
        if brk is not None and route.break_start is not None:
            b0, b1 = route.break_start, route.break_start + brk.duration_s
            before = b1 <= route.start_time
            after = b0 >= route.end_time
            inside = any(
                a <= b0 and b1 <= b and b - a >= travel + brk.duration_s for a, b, travel in gaps
            )
            _require(before or after or inside, f"{eng.id}: break overlaps work or travel")
            if before or after:
                _require(
                    shift.start <= b0 and b1 <= shift.end, f"{eng.id}: break outside the shift"
                )

    unassigned = [u.job_id for u in plan.unassigned]
    _require(len(set(unassigned)) == len(unassigned), "a job is listed unassigned twice")
    _require(not seen & set(unassigned), "a job is both served and unassigned")
    _require(
        seen | set(unassigned) == {j.id for j in problem.jobs},
        "some job is neither served nor unassigned",
    )
    reasons = {u.job_id: u.reason.value for u in plan.unassigned}
    for job in problem.jobs:
        if job.in_progress is not None and plan.is_feasible() and job.id not in seen:
            _require(
                reasons[job.id] in ("unreachable", "lock", "skill"),
                f"{job.id}: a visit under way was dropped without a pre-solve reason",
            )


def _with_checked_trips(problem: Problem, plan: Plan) -> Problem:
    """The problem with the plan's trips applied, after checking them against the rules: only
    when trips are allowed, over consecutive days of one engineer's shifts, no longer than the
    longest trip, never two at once for one engineer."""
    if not plan.trips:
        return problem
    rules = problem.trips
    _require(rules is not None, "the plan makes trips the problem does not allow")
    assert rules is not None
    engineers = []
    for eng in problem.engineers:
        mine = sorted((t for t in plan.trips if t.engineer_id == eng.id), key=lambda t: t.first_day)
        shifts = {s.day: s for s in eng.shifts}
        for a, b in itertools.pairwise(mine):
            _require(a.last_day < b.first_day, f"{eng.id}: two trips at once")
        for trip in mine:
            days = list(range(trip.first_day, trip.last_day + 1))
            _require(len(days) >= 2, f"{eng.id}: a trip needs two days")
            _require(all(d in shifts for d in days), f"{eng.id}: trip over a day off")
            _require(trip.nights == len(days) - 1, f"{eng.id}: trip nights miscounted")
            first = shifts[days[0]]
            away = (
                rules.away_days.get(eng.id, 0) if first.start_location != first.end_location else 0
            )
            _require(len(days) + away <= rules.max_days, f"{eng.id}: trip longer than allowed")
            _require(0 <= trip.lodging < len(problem.durations), f"{eng.id}: lodging off the map")
            for d in days:
                s = shifts[d]
                start = s.start_location if d == days[0] else trip.lodging
                end = s.end_location if d == days[-1] else trip.lodging
                # On the drive out and the drive home, lunch may be taken on the road: the
                # break (a stop before the next leg) may begin up to that drive earlier.
                drive = (
                    problem.durations[start][trip.lodging]
                    if d == days[0]
                    else problem.durations[trip.lodging][end]
                    if d == days[-1]
                    else 0
                )
                brk = s.break_
                if brk is not None and drive > 0:
                    brk = Break(
                        max(s.start, brk.earliest_start - drive), brk.latest_end, brk.duration_s
                    )
                shifts[d] = replace(s, start_location=start, end_location=end, break_=brk)
        engineers.append(replace(eng, shifts=tuple(shifts[s.day] for s in eng.shifts)))
    _require(
        {t.engineer_id for t in plan.trips} <= {e.id for e in problem.engineers},
        "a trip of an unknown engineer",
    )
    return replace(problem, engineers=tuple(engineers))


def _leg(eng: Engineer, duration: int, leave: int, latest: int, reported: int | None) -> int:
    """A leg's travel under the engineer's hourly traffic: the matrix duration times the
    multiplier of the hour it sets off in (a leg over an hour: each hour it spans at that
    hour's multiplier), some time from ``leave`` (after a break, maybe) up to ``latest``; the
    reported value when it is one of those, else the one at ``leave``."""
    if not eng.traffic:
        return duration

    def multiplier(hour: int) -> float:
        return eng.traffic[hour] if 0 <= hour < len(eng.traffic) else 1.0

    def at(second: int) -> int:
        hour = second // 3600
        if hour < 0 or hour >= len(eng.traffic):
            return duration
        if duration <= 3600:
            return round(duration * multiplier(hour))
        # Drive hour by hour: each hour's multiplier stretches the free-flow seconds in it.
        clock, free = float(second), float(duration)
        while free * multiplier(int(clock // 3600)) > (int(clock // 3600) + 1) * 3600 - clock:
            end = (int(clock // 3600) + 1) * 3600
            free -= (end - clock) / multiplier(int(clock // 3600))
            clock = float(end)
        return round(clock + free * multiplier(int(clock // 3600)) - second)

    possible = {at(h * 3600) for h in range(leave // 3600 + 1, max(leave, latest) // 3600 + 1)}
    possible.add(at(leave))
    return reported if reported in possible else at(leave)
