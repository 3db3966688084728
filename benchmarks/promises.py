"""How often promised arrival windows hold: fixed 120-minute windows against calibrated ones.

Each (seed, policy) pair is one simulated run of the scenario (``onsite simulate``) against
the real services on a throw-away SQLite database: intake, runs, the engineers' reports. Runs
search by a fixed number of iterations (the scenario's ``dispatching.search_iterations``), so a
seed gives the same day on any machine; only the wall time depends on the machine. The pairs
run in a pool of at most one process per core.

Usage::

    python benchmarks/promises.py [--scenario standard|stress|PATH] [--seeds 3] [--first-seed 1]
                                  [--workers 2]

The figures pool the seeds (kept = arrivals inside the first window / promises due). The last
line printed is one JSON object with them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from simulation.engine import Simulator
from simulation.report import Report
from simulation.scenario import load_scenario

POLICIES = ("fixed", "calibrated")


def _one(job: tuple[str, int, str]) -> tuple[dict[str, Any], list[float], float]:
    scenario, seed, policy = job
    logging.disable(logging.ERROR)  # failed runs are counted in the report, not printed
    started = time.perf_counter()
    report: Report = Simulator(load_scenario(scenario), seed=seed, policy=policy).run()
    return report.as_dict(), report.widths_min, time.perf_counter() - started


def _pooled(runs: list[tuple[dict[str, Any], list[float], float]]) -> dict[str, Any]:
    due = sum(r["due"] for r, _, _ in runs)
    kept = sum(r["kept"] for r, _, _ in runs)
    widths = [w for _, ws, _ in runs for w in ws]
    eligible = sum(r["urgent_same_city_eligible"] for r, _, _ in runs)
    urgent = sum(
        (r["urgent_same_city_on_site_2h"] or 0.0) * r["urgent_same_city_eligible"]
        for r, _, _ in runs
    )
    met = [r["sla_arrival_met"] for r, _, _ in runs if r["sla_arrival_met"] is not None]
    late = [r["lateness_mean_min"] for r, _, _ in runs if r["lateness_mean_min"] is not None]
    return {
        "promises": sum(r["promises"] for r, _, _ in runs),
        "due": due,
        "kept": round(kept / due, 4) if due else None,
        "renegotiated": sum(r["renegotiated"] for r, _, _ in runs),
        "width_median_min": statistics.median(widths) if widths else None,
        "width_p90_min": statistics.quantiles(widths, n=10)[-1] if len(widths) > 1 else None,
        "lateness_mean_min": round(statistics.mean(late), 1) if late else None,
        "sla_arrival_met": round(statistics.mean(met), 4) if met else None,
        "urgent_same_city_on_site_2h": round(urgent / eligible, 4) if eligible else None,
        "urgent_eligible": eligible,
        "refused": sum(r["refused"] for r, _, _ in runs),
        "day_wall_s": round(max(w for _, _, w in runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="standard", help="standard, stress or a path")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=1, help="seeds first..first+seeds-1 (others than 1-3)"
    )
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)  # fails early, naming the field, on a bad file
    jobs = [
        (args.scenario, seed, p)
        for seed in range(args.first_seed, args.first_seed + args.seeds)
        for p in POLICIES
    ]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(_one, jobs))
    wall = time.perf_counter() - started
    by_policy = {
        p: _pooled([res for (_, _, q), res in zip(jobs, results, strict=True) if q == p])
        for p in POLICIES
    }
    print(f"scenario {scenario.name}, {args.seeds} seeds, {args.workers} worker processes")
    print(f"{'':32}{'fixed':>14}{'calibrated':>14}")
    for key in by_policy["fixed"]:
        a, b = by_policy["fixed"][key], by_policy["calibrated"][key]
        print(f"{key:32}{'-' if a is None else a:>14}{'-' if b is None else b:>14}")
    for (_, seed, policy), (report, _, seconds) in zip(jobs, results, strict=True):
        print(
            f"  seed {seed} {policy:10} kept {report['kept_share']}, width median "
            f"{report['width_median_min']} min, {seconds:.0f} s"
        )
    cal = by_policy["calibrated"]
    print(
        json.dumps(
            {
                "scenario": scenario.name,
                "seeds": args.seeds,
                "fixed_kept": by_policy["fixed"]["kept"],
                "calibrated_kept": cal["kept"],
                "calibrated_width_median_min": cal["width_median_min"],
                "urgent_same_city_on_site_2h": cal["urgent_same_city_on_site_2h"],
                "sla_arrival_met": cal["sla_arrival_met"],
                "day_wall_s_max": max(by_policy[p]["day_wall_s"] for p in POLICIES),
                "wall_s": round(wall, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
