"""Generator of a field-service day with a planted feasible plan.

Routes are drawn first (each engineer walks from home through nearby sites, with a lunch
break), and each job's windows, promise and skill needs are then chosen around its planted
visit, so a plan serving every job on time is known to exist. Its travel is the reference the
optimiser should beat.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from optimizer import Break, Engineer, Job, Priority, Problem, Shift, TimeWindow, Trip, TripRules

HOUR = 3600
SKILLS = ("electrical", "gas", "hvac", "plumbing", "refrigeration")
CITY_RADIUS_M = 15_000
OUT_OF_TOWN_M = (40_000, 80_000)


def travel_time(d_m: float) -> int:
    """Seconds to drive ``d_m`` metres of road: 30 km/h in town, 70 km/h beyond 5 km."""
    town = min(d_m, 5000.0)
    return math.ceil(town / 8.33 + (d_m - town) / 19.4)


@dataclass(frozen=True)
class FieldDay:
    """A generated day and its planted plan."""

    problem: Problem
    planted_routes: dict[str, list[str]]
    planted_travel_s: int
    out_of_town: int
    points: list[tuple[float, float]]
    """Every location of the matrices on the plane, in metres: engineers' homes first."""


def road(a: tuple[float, float], b: tuple[float, float]) -> int:
    """Metres of road between two points of the plane: 1.3 times the straight line."""
    return math.ceil(1.3 * math.hypot(a[0] - b[0], a[1] - b[1]))


def generate(engineers: int = 100, jobs: int = 1000, seed: int = 1) -> FieldDay:
    """Return a day of ``jobs`` requests for ``engineers`` engineers with a planted plan."""
    rng = random.Random(seed)

    def city_point(r: float = CITY_RADIUS_M) -> tuple[float, float]:
        ang, rad = rng.uniform(0, 2 * math.pi), r * math.sqrt(rng.random())
        return (rad * math.cos(ang), rad * math.sin(ang))

    homes = [city_point() for _ in range(engineers)]
    skill_sets = []
    for _ in range(engineers):
        owned = rng.sample(SKILLS, rng.randint(1, 3))
        skill_sets.append({s: rng.randint(2, 5) for s in owned})

    # Share jobs over engineers as evenly as possible.
    quota = [jobs // engineers + (1 if e < jobs % engineers else 0) for e in range(engineers)]
    n_far = max(1, engineers // 10)
    far_engineers = set(rng.sample(range(engineers), n_far))

    points: list[tuple[float, float]] = list(homes)
    job_list: list[Job] = []
    planted: dict[str, list[str]] = {}
    planted_travel = 0
    shift_start, shift_end = 8 * HOUR, 18 * HOUR
    lunch = Break(12 * HOUR, 14 * HOUR, 30 * 60)
    carry = 0
    for e in range(engineers):
        here = homes[e]
        t = shift_start
        route: list[str] = []
        break_done = False
        # Jobs a full route could not take move on to the next engineer.
        count = quota[e] + carry
        far_slot = rng.randrange(count) if e in far_engineers and count else -1
        k = 0
        while k < count:
            if k == far_slot:
                ang = rng.uniform(0, 2 * math.pi)
                rad = rng.uniform(*OUT_OF_TOWN_M)
                site = (rad * math.cos(ang), rad * math.sin(ang))
            else:
                # Next site near the current position, pulled gently back toward home.
                step = rng.uniform(800, 3500)
                ang = rng.uniform(0, 2 * math.pi)
                site = (
                    0.85 * (here[0] + step * math.cos(ang)) + 0.15 * homes[e][0],
                    0.85 * (here[1] + step * math.sin(ang)) + 0.15 * homes[e][1],
                )
            service = rng.choice([15, 20, 25, 30, 40]) * 60
            travel = travel_time(road(here, site))
            arrival = t + travel
            if not break_done and arrival + service > lunch.latest_start:
                t = max(t, lunch.earliest_start) + lunch.duration_s
                break_done = True
                arrival = t + travel
            back = travel_time(road(site, homes[e]))
            if arrival + service + back > shift_end - 15 * 60:
                break
            loc = len(points)
            points.append(site)
            job_id = f"r{len(job_list)}"
            needed = rng.choice(list(skill_sets[e]))
            priority = rng.choices(list(Priority), weights=(1, 3, 6))[0]
            windows: tuple[TimeWindow, ...] = ()
            if rng.random() < 0.5:
                before = rng.choice([0, 30, 60, 90]) * 60
                width = rng.choice([2, 3, 4]) * HOUR
                lo = max(shift_start, arrival - before)
                windows = (TimeWindow(lo, max(arrival, lo + width)),)
            promise = arrival + rng.choice([30, 60, 120, 240]) * 60
            job_list.append(
                Job(
                    id=job_id,
                    location=loc,
                    service_s=service,
                    windows=windows,
                    promise_due=promise,
                    priority=priority,
                    skills={needed: rng.randint(1, skill_sets[e][needed])},
                )
            )
            route.append(job_id)
            planted_travel += travel
            here, t = site, arrival + service
            k += 1
            if not break_done and t >= lunch.earliest_start:
                t += lunch.duration_s
                break_done = True
        carry = count - k
        planted_travel += travel_time(road(here, homes[e]))
        planted[f"e{e}"] = route

    durations = []
    distances = []
    for a in points:
        d_row = tuple(road(a, b) for b in points)
        distances.append(d_row)
        durations.append(tuple(travel_time(d) for d in d_row))
    team = tuple(
        Engineer(
            id=f"e{e}",
            skills=skill_sets[e],
            shifts=(
                Shift(
                    day=0,
                    start=shift_start,
                    end=shift_end,
                    start_location=e,
                    end_location=e,
                    break_=lunch,
                ),
            ),
        )
        for e in range(engineers)
    )
    problem = Problem(
        durations=tuple(durations), distances=tuple(distances), jobs=tuple(job_list), engineers=team
    )
    return FieldDay(problem, planted, planted_travel, out_of_town=n_far, points=points)


TOWN_TRAVEL_H = (3.5, 6.5)
"""Out-of-town towns lie this many hours' drive from the city centre (3-7 h from a base)."""
TOWN_RADIUS_M = 8_000
DAY = 24 * HOUR


@dataclass(frozen=True)
class TripDay:
    """A generated out-of-town stretch of days and its planted plan with trips."""

    problem: Problem
    planted_routes: dict[tuple[str, int], list[str]]
    planted_trips: list[Trip]
    planted_travel_s: int
    out_of_town_jobs: int


def _metres_for(seconds: float) -> float:
    """Straight-line metres whose road takes ``seconds`` to drive (inverse of the model)."""
    road_m = 5000 + 19.4 * (seconds - 5000 / 8.33)
    return road_m / 1.3


def generate_trips(engineers: int = 12, towns: int = 3, days: int = 3, seed: int = 1) -> TripDay:
    """Return ``days`` working days of a city team with ``towns`` out-of-town towns to serve.

    Each town gets one engineer on a planted trip of two or three days (from home to the
    town's sites, nights at its hotel, home at the end); every other engineer-day walks
    through city sites near home as in :func:`generate`. Windows and promises are drawn around
    the planted visits, so the planted plan, trips included, serves every job on time.
    """
    rng = random.Random(seed)

    def city_point(r: float = CITY_RADIUS_M) -> tuple[float, float]:
        ang, rad = rng.uniform(0, 2 * math.pi), r * math.sqrt(rng.random())
        return (rad * math.cos(ang), rad * math.sin(ang))

    homes = [city_point() for _ in range(engineers)]
    skill_sets = []
    for _ in range(engineers):
        owned = rng.sample(SKILLS, rng.randint(1, 3))
        skill_sets.append({s: rng.randint(2, 5) for s in owned})
    points: list[tuple[float, float]] = list(homes)
    hotels: list[int] = []
    town_centres = []
    for t in range(towns):
        ang = 2 * math.pi * (t + rng.uniform(0.2, 0.8)) / towns
        rad = _metres_for(rng.uniform(*TOWN_TRAVEL_H) * HOUR)
        centre = (rad * math.cos(ang), rad * math.sin(ang))
        town_centres.append(centre)
        hotels.append(len(points))
        points.append((centre[0] + rng.uniform(-1500, 1500), centre[1] + rng.uniform(-1500, 1500)))

    start_h, end_h = 8 * HOUR, 18 * HOUR
    # Lunch is taken at a stop: a window wide enough for a morning's drive out of town.
    lunch = (11 * HOUR, 16 * HOUR, 30 * 60)
    jobs: list[Job] = []
    planted: dict[tuple[str, int], list[str]] = {}
    trips: list[Trip] = []
    travel_total = 0
    oot = 0

    def add_job(site: tuple[float, float], arrival: int, service: int, e: int, day: int) -> str:
        job_id = f"r{len(jobs)}"
        loc = len(points)
        points.append(site)
        needed = rng.choice(list(skill_sets[e]))
        windows: tuple[TimeWindow, ...] = ()
        base = day * DAY
        if rng.random() < 0.5:
            before = rng.choice([0, 30, 60, 90]) * 60
            width = rng.choice([2, 3, 4]) * HOUR
            lo = max(base + start_h, arrival - before)
            windows = (TimeWindow(lo, max(arrival, lo + width)),)
        else:  # the customer's whole day: any time of the planted day
            windows = (TimeWindow(base + start_h, base + end_h),)
        jobs.append(
            Job(
                id=job_id,
                location=loc,
                service_s=service,
                windows=windows,
                promise_due=arrival + rng.choice([30, 60, 120, 240]) * 60,
                priority=rng.choices(list(Priority), weights=(1, 3, 6))[0],
                skills={needed: rng.randint(1, skill_sets[e][needed])},
            )
        )
        return job_id

    def walk(
        e: int, day: int, start: tuple[float, float], end: tuple[float, float], sites: list
    ) -> tuple[list[str], int]:
        """Plant a day from ``start`` through as many of ``sites`` as fit, to ``end``; the
        sites are consumed. Returns the job ids and the day's travel."""
        base = day * DAY
        here, t, lunch_done, route, travel = start, base + start_h, False, [], 0
        while sites:
            site = sites[0]
            service = rng.choice([20, 30, 40, 60]) * 60
            leg = travel_time(road(here, site))
            arrival = t + leg
            if not lunch_done and arrival >= base + lunch[0]:
                # Lunch on arrival (or before setting off, when the morning runs past it).
                pause = max(arrival, base + lunch[0])
                if pause + lunch[2] > base + lunch[1]:
                    break
                arrival = pause + lunch[2]
                lunch_done = True
            back = travel_time(road(site, end))
            # Room for the model's own choice of where lunch goes (before a leg, say).
            if arrival + service + back > base + end_h - 45 * 60:
                break
            sites.pop(0)
            route.append(add_job(site, arrival, service, e, day))
            travel += leg
            here, t = site, arrival + service
        return route, travel + travel_time(road(here, end))

    trip_engineers = rng.sample(range(engineers), towns)
    for e in range(engineers):
        away: dict[int, int] = {}  # day -> town
        if e in trip_engineers:
            town = trip_engineers.index(e)
            length = rng.choice([2, 3]) if days >= 3 else 2
            first = rng.randrange(days - length + 1)
            trips.append(Trip(f"e{e}", first, first + length - 1, hotels[town], length - 1))
            for d in range(first, first + length):
                away[d] = town
        for day in range(days):
            if day in away:
                town = away[day]
                centre, trip = town_centres[town], trips[-1]
                hotel = points[hotels[town]]
                start = homes[e] if day == trip.first_day else hotel
                end = homes[e] if day == trip.last_day else hotel
                sites = [
                    (centre[0] + dx, centre[1] + dy)
                    for dx, dy in (city_point(TOWN_RADIUS_M) for _ in range(6))
                ]
                route, travel = walk(e, day, start, end, sites)
                oot += len(route)
            else:
                here = homes[e]
                sites = []
                for _ in range(12):
                    step, ang = rng.uniform(800, 3500), rng.uniform(0, 2 * math.pi)
                    here = (
                        0.85 * (here[0] + step * math.cos(ang)) + 0.15 * homes[e][0],
                        0.85 * (here[1] + step * math.sin(ang)) + 0.15 * homes[e][1],
                    )
                    sites.append(here)
                route, travel = walk(e, day, homes[e], homes[e], sites)
            planted[(f"e{e}", day)] = route
            travel_total += travel

    durations, distances = [], []
    for a in points:
        d_row = tuple(road(a, b) for b in points)
        distances.append(d_row)
        durations.append(tuple(travel_time(d) for d in d_row))
    team = tuple(
        Engineer(
            id=f"e{e}",
            skills=skill_sets[e],
            shifts=tuple(
                Shift(
                    day=d,
                    start=d * DAY + start_h,
                    end=d * DAY + end_h,
                    start_location=e,
                    end_location=e,
                    break_=Break(d * DAY + lunch[0], d * DAY + lunch[1], lunch[2]),
                )
                for d in range(days)
            ),
        )
        for e in range(engineers)
    )
    problem = Problem(
        durations=tuple(durations),
        distances=tuple(distances),
        jobs=tuple(jobs),
        engineers=team,
        trips=TripRules(max_days=3, lodgings=tuple(hotels)),
    )
    return TripDay(problem, planted, trips, travel_total, oot)
