"""Latency of the fast helpers: insertion of one new job, and plan-mode ETAs.

Builds a city day (default 50 engineers and 400 planned visits, i.e. 8 a day each, with
windows, promises, skills and lunch breaks), plans it once, then times
``best_insertions`` for many new requests and ``plan_route`` on 20-visit routes.

Usage: ``python benchmarks/insertion.py [--engineers 50] [--visits 400] [--trials 300]``.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import time

from optimizer import (
    Break,
    Engineer,
    Job,
    Priority,
    Problem,
    Shift,
    SolveParams,
    TimeWindow,
    best_insertions,
    plan_route,
    solve,
)
from optimizer.eligibility import route_slots

HOUR = 3600
SPEED_M_PER_S = 8.0  # about 30 km/h in town, door to door


def _matrices(points: list[tuple[float, float]]) -> tuple[tuple[tuple[int, ...], ...], ...]:
    dist = []
    dur = []
    for x1, y1 in points:
        d_row = [math.ceil(1.3 * math.hypot(x1 - x2, y1 - y2)) for x2, y2 in points]
        dist.append(tuple(d_row))
        dur.append(tuple(math.ceil(d / SPEED_M_PER_S) for d in d_row))
    return tuple(dur), tuple(dist)


def build(engineers: int, visits: int, extra: int, seed: int) -> tuple[Problem, list[Job]]:
    """A city of 15 km x 15 km, engineers starting at 8:00 from homes spread over it."""
    rng = random.Random(seed)
    points = [(rng.uniform(0, 15000), rng.uniform(0, 15000)) for _ in range(engineers)]
    skills = ["elec", "gas", "hvac"]
    jobs: list[Job] = []
    for i in range(visits + extra):
        points.append((rng.uniform(0, 15000), rng.uniform(0, 15000)))
        start = 8 * HOUR + rng.randrange(0, 7) * HOUR
        windows = (TimeWindow(start, start + 3 * HOUR),) if rng.random() < 0.6 else ()
        jobs.append(
            Job(
                id=f"r{i}",
                location=engineers + i,
                service_s=rng.choice([1800, 2700, 3600]),
                windows=windows,
                promise_due=(start + 2 * HOUR) if windows else None,
                priority=rng.choice(list(Priority)),
                skills={rng.choice(skills): rng.randint(1, 3)},
            )
        )
    team = []
    for e in range(engineers):
        shift = Shift(
            day=0,
            start=8 * HOUR,
            end=18 * HOUR,
            start_location=e,
            end_location=e,
            break_=Break(12 * HOUR, 14 * HOUR, 1800),
        )
        team.append(
            Engineer(
                id=f"e{e}",
                skills={s: rng.randint(2, 5) for s in skills},
                shifts=(shift,),
            )
        )
    dur, dist = _matrices(points)
    problem = Problem(durations=dur, distances=dist, jobs=tuple(jobs), engineers=tuple(team))
    return problem, jobs[visits:]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engineers", type=int, default=50)
    parser.add_argument("--visits", type=int, default=400)
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--solve-s", type=float, default=20.0, help="time to plan the base day")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    problem, new_jobs = build(args.engineers, args.visits, args.trials, args.seed)
    planned = Problem(
        durations=problem.durations,
        distances=problem.distances,
        jobs=problem.jobs[: args.visits],
        engineers=problem.engineers,
    )
    plan = solve(planned, SolveParams(time_limit_s=args.solve_s))
    print(f"base day: {plan.kpis.assigned} visits planned on {plan.kpis.routes} routes")
    slots = route_slots(problem)

    insert_ms = []
    options_found = 0
    for job in new_jobs:
        t0 = time.perf_counter()
        options = best_insertions(problem, plan.routes, job, slots=slots)
        insert_ms.append(1000 * (time.perf_counter() - t0))
        options_found += bool(options)

    # Plan mode on 20-visit routes: the engineer's fixed sequence after a progress report.
    pm_ms = []
    rng = random.Random(args.seed)
    for _ in range(args.trials):
        eng = problem.engineers[rng.randrange(len(problem.engineers))]
        ids = [j.id for j in rng.sample(problem.jobs, 20)]
        t0 = time.perf_counter()
        plan_route(problem, eng.id, 0, ids, time=9 * HOUR, slots=slots)
        pm_ms.append(1000 * (time.perf_counter() - t0))

    figures = {
        "engineers": args.engineers,
        "visits": plan.kpis.assigned,
        "trials": args.trials,
        "insertion_p50_ms": round(statistics.median(insert_ms), 3),
        "insertion_p95_ms": round(_pct(insert_ms, 0.95), 3),
        "insertion_with_option_pct": round(100 * options_found / max(1, len(new_jobs)), 1),
        "planmode_20_p50_ms": round(statistics.median(pm_ms), 3),
        "planmode_20_p95_ms": round(_pct(pm_ms, 0.95), 3),
    }
    print(
        f"insertion p50 {figures['insertion_p50_ms']} ms, p95 {figures['insertion_p95_ms']} ms; "
        f"plan mode (20 visits) p50 {figures['planmode_20_p50_ms']} ms, "
        f"p95 {figures['planmode_20_p95_ms']} ms"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
