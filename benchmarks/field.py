"""A generated field day with a planted feasible plan, solved through the production API.

100 engineers, 1,000 requests in a city and its surroundings (some out of town), skills with
levels, promises with priorities, customer windows and lunch breaks. A plan serving every job
on time is planted by construction, so any dropped or late job is the optimiser's failure.

The day is solved with increasing time limits (each run from scratch, single-threaded); the
figures are the first plan (Onsite's construction alone) and the plans at each limit. Every
plan is verified by the independent checker of the unit tests.

With ``--through-service`` the same day is also fed through the production path as a customer
would (``benchmarks/_field_service.py``: area, engineers, sites, every request through
``POST /v1/requests`` with its availability, then a dispatch run on SQLite, the planted travel
times served by a travel provider) and the run's figures are printed beside the direct ones.
Travel is door to door in both modes, the drive home included.

An out-of-town stretch follows (``benchmarks/_field_gen.py:generate_trips``): 12 engineers
over three working days, a city day each plus three towns 3.5-6.5 h from the city whose sites
a planted plan serves on trips of two or three days (nights at each town's hotel). It is
solved from scratch at the largest limit with the trip rules (at most 3 days, a night costing
4 h of driving); its ``oot_*`` figures count every job of those days, city ones included, and
its travel includes the drives to and from the hotels. ``--skip-trips`` leaves it out.

Usage: ``python benchmarks/field.py [--engineers 100] [--jobs 1000] [--limits 10,30,60]
[--through-service] [--skip-trips] [--trip-seed 1] [--trips-only]``. The last line printed is
one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _field_gen import FieldDay, generate, generate_trips

from optimizer import Plan, SolveParams, plan_route, solve, with_trips

# The repository root, to reuse the independent checker of the unit tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.unit.optimizer.checker import check_plan


def _figures(plan: Plan) -> dict[str, float | int]:
    k = plan.kpis
    return {
        "dropped": k.dropped,
        "late": k.late_count,
        "late_min": round(k.late_minutes, 1),
        "travel_h": round(k.travel_s / 3600, 2),
        "runtime_s": round(plan.runtime_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engineers", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limits", default="10,30,60", help="time limits in seconds")
    parser.add_argument(
        "--through-service", action="store_true", help="also feed the day through the service"
    )
    parser.add_argument("--skip-trips", action="store_true", help="leave out the trips day")
    parser.add_argument("--trip-seed", type=int, default=1)
    parser.add_argument(
        "--trips-only",
        action="store_true",
        help="only the out-of-town stretch, at the largest limit",
    )
    args = parser.parse_args()
    if args.trips_only:
        limit = max(float(x) for x in args.limits.split(","))
        print(json.dumps({"trip_seed": args.trip_seed, **_trips_day(args.trip_seed, limit)}))
        return

    t0 = time.perf_counter()
    day = generate(args.engineers, args.jobs, args.seed)
    problem = day.problem
    print(
        f"generated {len(problem.jobs)} jobs, {len(problem.engineers)} engineers, "
        f"{day.out_of_town} out-of-town jobs in {time.perf_counter() - t0:.1f} s"
    )
    # The planted plan is re-timed by plan mode: it must miss no window and be on time.
    planted_ok = True
    for eng_id, ids in day.planted_routes.items():
        route, missed = plan_route(problem, eng_id, 0, ids)
        eng = problem.engineer(eng_id)
        assert eng is not None
        if missed or any(v.lateness_s for v in route.visits) or route.end_time > eng.shifts[0].end:
            planted_ok = False
    planted_h = day.planted_travel_s / 3600
    print(f"planted plan: travel {planted_h:.2f} h, feasible and on time: {planted_ok}")

    # The first plan: Onsite's construction alone, no improvement phase.
    first = solve(problem, SolveParams(time_limit_s=600, ruin_share=1.0, ruin_iterations=0))
    check_plan(problem, first)
    print(f"first plan: {_figures(first)}")
    results: dict[float, dict[str, float | int]] = {}
    for limit in (float(x) for x in args.limits.split(",")):
        plan = solve(problem, SolveParams(time_limit_s=limit))
        check_plan(problem, plan)  # the independent checker: raises on any broken hard rule
        results[limit] = _figures(plan)
        print(f"limit {limit:5.1f} s: {results[limit]}", flush=True)

    all_served = [r["runtime_s"] for r in results.values() if r["dropped"] == 0 and r["late"] == 0]
    last = results[max(results)]
    service: dict[str, object] = {}
    if args.through_service:
        service = _through_service(day, sorted(results))
    trips = {} if args.skip_trips else _trips_day(args.trip_seed, max(results))
    figures = {
        "engineers": len(problem.engineers),
        "jobs": len(problem.jobs),
        "planted_feasible": planted_ok,
        "first_feasible_s": round(first.runtime_s, 2),
        "first_dropped": first.kpis.dropped,
        "all_served_s": min(all_served) if all_served else None,
        "dropped_60s": last["dropped"],
        "late_60s": last["late"],
        "late_min_60s": last["late_min"],
        "travel_h_60s": last["travel_h"],
        "planted_travel_h": round(planted_h, 2),
        "by_limit": {str(k): v for k, v in results.items()},
        **service,
        **trips,
    }
    print(json.dumps(figures))


def _trips_day(seed: int, limit: float) -> dict[str, object]:
    """The out-of-town stretch: its planted plan checked, then solved at ``limit``."""
    stretch = generate_trips(seed=seed)
    problem = stretch.problem
    planted = with_trips(problem, stretch.planted_trips)
    planted_ok = True
    for (eng_id, day_key), ids in stretch.planted_routes.items():
        route, missed = plan_route(planted, eng_id, day_key, ids)
        eng = planted.engineer(eng_id)
        assert eng is not None
        shift = next(s for s in eng.shifts if s.day == day_key)
        late = any(v.lateness_s for v in route.visits)
        if missed or late or route.end_time > shift.end:
            planted_ok = False
    planted_h = stretch.planted_travel_s / 3600
    print(
        f"out of town: {len(problem.jobs)} jobs ({stretch.out_of_town_jobs} in towns), "
        f"{len(problem.engineers)} engineers x 3 days, {len(stretch.planted_trips)} planted "
        f"trips, planted travel {planted_h:.2f} h, feasible and on time: {planted_ok}",
        flush=True,
    )
    plan = solve(problem, SolveParams(time_limit_s=limit))
    check_plan(problem, plan)
    nights = sum(t.nights for t in plan.trips)
    print(
        f"out of town at {limit:.0f} s: {_figures(plan)}, {len(plan.trips)} trips "
        f"({nights} nights)",
        flush=True,
    )
    return {
        "oot_jobs": stretch.out_of_town_jobs,
        "oot_all_jobs": len(problem.jobs),
        "oot_planted_feasible": planted_ok,
        "oot_trips": len(plan.trips),
        "oot_planted_trips": len(stretch.planted_trips),
        f"oot_dropped_{limit:.0f}s": plan.kpis.dropped,
        f"oot_late_{limit:.0f}s": plan.kpis.late_count,
        f"oot_travel_h_{limit:.0f}s": round(plan.kpis.travel_s / 3600, 2),
        "oot_planted_travel_h": round(planted_h, 2),
    }


def _through_service(day: FieldDay, limits: list[float]) -> dict[str, object]:
    """The day fed through intake and a run per limit; the service's figures."""
    import _field_service as fs

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        fed = fs.feed(day, tmp)
        p95 = fs.p95(fed.intake_ms)
        print(
            f"through the service: {len(fed.intake_ms)} requests taken in "
            f"{time.perf_counter() - t0:.0f} s, intake p95 {p95:.1f} ms",
            flush=True,
        )
        by_limit = {}
        for limit in limits:
            by_limit[limit] = fs.run(fed, limit, tmp)
            print(f"service run {limit:5.1f} s: {by_limit[limit]}", flush=True)
    last = by_limit[max(by_limit)]
    return {
        "service_dropped_60s": last["dropped"],
        "service_late_60s": last["late"],
        "service_travel_h_60s": last["travel_h"],
        "service_run_wall_s_60s": last["wall_s"],
        "service_intake_p95_ms": round(p95, 1),
        "service_by_limit": {str(k): v for k, v in by_limit.items()},
    }


if __name__ == "__main__":
    main()
