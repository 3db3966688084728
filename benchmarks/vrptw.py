"""Solve public VRPTW instances through the production ``optimizer`` API and compare to BKS.

Customers become jobs with one hard window and a demand; vehicles become engineers with a van
capacity and one shift from the depot (a fixed fleet); travel time is the Euclidean distance.
Times are scaled to integers and travel times rounded *up*, so a plan feasible for the solver is
feasible in double precision; the script re-checks every route in double precision anyway.

Gap reference: Solomon against ``distance_euclid_double`` (distance-only BKS in double
precision); Gehring & Homberger against ``distance_dimacs_trunc1``, with our routes evaluated
under the same truncation rule (see the data README).

Usage::

    python benchmarks/vrptw.py --set solomon --time-limit 10 [--instances C101,R201]
    python benchmarks/vrptw.py --set homberger --time-limit 30 --instances c1_2_1,r1_2_1
    python benchmarks/vrptw.py --set homberger400 --time-limit 60 --jobs 2

``--jobs N`` solves N instances at a time, one process each (at most one per core for timed
figures); ``--core python`` runs the reference search instead of the compiled one.

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import statistics
import time
from collections import defaultdict
from pathlib import Path

from _vrp_data import Instance, data_dir, evaluate, read_bks, read_instance

from optimizer import (
    Engineer,
    Job,
    Problem,
    SearchCore,
    Shift,
    SolveParams,
    TimeWindow,
    Weights,
    solve,
)

SCALE = 1000
HOMBERGER_TEN = [
    "c1_2_1",
    "c2_2_1",
    "r1_2_1",
    "r2_2_1",
    "rc1_2_1",
    "rc2_2_1",
    "r1_2_5",
    "r2_2_5",
    "rc1_2_5",
    "rc2_2_5",
]


def to_problem(inst: Instance) -> Problem:
    """Map a VRPTW instance onto Onsite's problem: customers are jobs, vehicles engineers."""
    n = inst.size
    durations = []
    distances = []
    for i in range(n):
        exact = [inst.dist(i, j) * SCALE for j in range(n)]
        # Rounding travel times up keeps every solver-feasible plan feasible in doubles.
        durations.append(tuple(math.ceil(d - 1e-9) for d in exact))
        distances.append(tuple(round(d) for d in exact))
    # Serving every customer comes first: a penalty above any possible total distance.
    penalty = 10 * SCALE * sum(max(row) for row in distances)
    jobs = tuple(
        Job(
            id=str(c),
            location=c,
            service_s=inst.service[c] * SCALE,
            windows=(TimeWindow(inst.ready[c] * SCALE, inst.due[c] * SCALE),),
            demand=inst.demand[c],
            drop_penalty=penalty,
        )
        for c in range(1, n)
    )
    shift = Shift(
        day=0,
        start=inst.ready[0] * SCALE,
        end=inst.due[0] * SCALE,
        start_location=0,
        end_location=0,
    )
    engineers = tuple(
        Engineer(id=f"v{k}", skills={}, shifts=(shift,), capacity=inst.capacity)
        for k in range(inst.vehicles)
    )
    return Problem(
        durations=tuple(durations), distances=tuple(distances), jobs=jobs, engineers=engineers
    )


def instance_class(name: str) -> str:
    """Class of an instance: C1, C2, R1, R2, RC1 or RC2."""
    stem = name.upper().split("_")[0]
    letters = stem.rstrip("0123456789")
    digits = stem[len(letters) :]
    return letters + digits[0]


# One instance per class of the 400-customer set, number 2.
HOMBERGER_400_SAMPLE = ["c1_4_2", "c2_4_2", "r1_4_2", "r2_4_2", "rc1_4_2", "rc2_4_2"]
_FOLDERS = {"solomon": "solomon", "homberger": "homberger", "homberger400": "homberger_400"}


def _solve_one(task: tuple[str, str, str, float, str, int, int, float | None]) -> tuple:
    """Solve one instance (in a worker process when ``--jobs`` > 1) and evaluate its plan."""
    folder, name, set_name, limit, core, threads, seed, ruin_share = task
    inst = read_instance(Path(folder) / f"{name}.txt")
    problem = to_problem(inst)
    params = SolveParams(
        time_limit_s=limit,
        weights=Weights(travel_per_s=0, distance_per_unit=1),
        core=SearchCore(core),
        threads=threads,
        seed=seed,
        ruin_share=ruin_share,
    )
    t0 = time.perf_counter()
    plan = solve(problem, params)
    elapsed = time.perf_counter() - t0
    routes = [[int(v.job_id) for v in r.visits] for r in plan.routes]
    ev = evaluate(inst, routes)
    value = ev.distance if set_name == "solomon" else ev.distance_trunc1
    return name, ev, value, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=sorted(_FOLDERS), default="solomon")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--instances", default="", help="comma-separated names (default: all)")
    parser.add_argument("--data", default=None, help="VRPTW data folder (or ONSITE_VRPTW_DATA)")
    parser.add_argument("--jobs", type=int, default=1, help="instances solved at a time")
    parser.add_argument("--core", choices=[c.value for c in SearchCore], default="compiled")
    parser.add_argument("--threads", type=int, default=1, help="SolveParams.threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ruin-share", type=float, default=None, help="SolveParams.ruin_share (default: auto)"
    )
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs: must be >= 1")

    root = data_dir(args.data)
    folder = root / _FOLDERS[args.set]
    if args.instances:
        names = [n.strip() for n in args.instances.split(",") if n.strip()]
    elif args.set == "homberger":
        names = list(HOMBERGER_TEN)
    elif args.set == "homberger400":
        names = list(HOMBERGER_400_SAMPLE)
    else:
        names = sorted(p.stem for p in folder.glob("*.txt"))
    convention = "distance_euclid_double" if args.set == "solomon" else "distance_dimacs_trunc1"
    bks = read_bks(root / "BKS.csv", convention)
    tasks = [
        (
            str(folder),
            n,
            args.set,
            args.time_limit,
            args.core,
            args.threads,
            args.seed,
            args.ruin_share,
        )
        for n in names
    ]
    print(
        f"{len(names)} instances, {args.time_limit:g} s each, {args.jobs} at a time, "
        f"core {args.core}, {args.threads} thread(s) per solve",
        flush=True,
    )

    rows = []
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.jobs) if args.jobs > 1 else _Serial() as pool:
        for name, ev, value, elapsed in pool.imap(_solve_one, tasks):
            ref = bks.get(name)
            gap = 100 * (value / ref[1] - 1) if ref and ev.feasible else None
            rows.append((name, ev, value, ref, gap, elapsed))
            gap_txt = "-" if gap is None else f"{gap:6.2f} %"
            ref_txt = "-" if ref is None else f"{ref[1]:.2f} ({ref[0]} veh)"
            status = "ok" if ev.feasible else "INFEASIBLE: " + "; ".join(ev.problems[:3])
            print(
                f"{name:10s} distance {value:9.2f} vehicles {ev.vehicles:3d} bks {ref_txt:20s} "
                f"gap {gap_txt} time {elapsed:5.1f} s {status}",
                flush=True,
            )

    by_class: dict[str, list[tuple]] = defaultdict(list)
    for row in rows:
        by_class[instance_class(row[0])].append(row)
    print("class  n  feasible  mean gap %  mean vehicles  mean time s")
    for cls in sorted(by_class):
        group = by_class[cls]
        gaps = [r[4] for r in group if r[4] is not None]
        print(
            f"{cls:5s} {len(group):2d}  {sum(r[1].feasible for r in group):8d}  "
            f"{(statistics.mean(gaps) if gaps else float('nan')):10.2f}  "
            f"{statistics.mean(r[1].vehicles for r in group):13.2f}  "
            f"{statistics.mean(r[5] for r in group):11.2f}"
        )
    gaps = [r[4] for r in rows if r[4] is not None]
    figures = {
        "set": args.set,
        "instances": len(rows),
        "feasible": sum(r[1].feasible for r in rows),
        "time_limit_s": args.time_limit,
        "mean_gap_pct": round(statistics.mean(gaps), 3) if gaps else None,
        "mean_vehicles": round(statistics.mean(r[1].vehicles for r in rows), 2) if rows else None,
        "mean_time_s": round(statistics.mean(r[5] for r in rows), 2) if rows else None,
        "reference": convention,
        "jobs": args.jobs,
        "core": args.core,
        "threads": args.threads,
    }
    print(json.dumps(figures))


class _Serial:
    """The ``imap`` of a pool, in this process (``--jobs 1``)."""

    def __enter__(self) -> _Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def imap(self, fn, tasks):  # type: ignore[no-untyped-def]
        return map(fn, tasks)


if __name__ == "__main__":
    main()
