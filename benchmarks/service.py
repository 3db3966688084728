"""Service benchmark: capacity-aware quotes through the HTTP app, and a full dispatch run.

1. Quotes: a city with 50 engineers and about 400 planned visits (published by a real run),
   then capacity-aware ``POST /v1/promises/quote`` calls for new sites through the FastAPI app
   in process (TestClient). Target: p95 <= 50 ms. The first quote after a plan change builds the
   area's capacity context and is reported apart.
2. A run over 100 engineers and 1,000 requests through the production path (snapshot, solve in
   the worker process, publish). Target: the run finishes within its time limit plus at most 3 s
   for loading and publishing.

Run: .venv/bin/python benchmarks/service.py [--quotes 300] [--time-limit 30]
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from dispatch.areas.service import create_area  # noqa: E402
from dispatch.auth.service import create_api_key  # noqa: E402
from dispatch.clock import FixedClock  # noqa: E402
from dispatch.customers.service import create_customer, create_site  # noqa: E402
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work  # noqa: E402
from dispatch.engineers.service import create_engineer, create_skill  # noqa: E402
from dispatch.geo_support import GeoContext  # noqa: E402
from dispatch.models import DispatchRun  # noqa: E402
from dispatch.planning.runs import create_run, execute_run  # noqa: E402
from dispatch.planning.solver import ProcessSolver  # noqa: E402
from dispatch.requests.intake import take_request  # noqa: E402
from dispatch.settings import Settings  # noqa: E402

# Monday 23 November 2026, 07:00 in Shanghai.
NOW = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
CENTRE = (31.23, 121.47)
HALF = 0.22  # about 45 km across: a big city
SKILLS = ["hvac", "refrigeration", "electrical", "plc"]
DAY = {
    "start": "08:00",
    "end": "18:00",
    "break_start": "11:30",
    "break_end": "14:00",
    "break_minutes": 30,
}


def square(lat: float, lon: float, half: float) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def point(rng: random.Random) -> tuple[float, float]:
    return (
        round(CENTRE[0] + rng.uniform(-HALF, HALF) * 0.95, 5),
        round(CENTRE[1] + rng.uniform(-HALF, HALF) * 0.95, 5),
    )


def build_city(url: str, engineers: int, requests: int, seed: int) -> int:
    """A migrated database with one city, its engineers and open requests; returns the area."""
    rng = random.Random(seed)
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    geo = GeoContext()
    with unit_of_work(factory) as session:
        for code in SKILLS:
            create_skill(session, code=code, name=code.title())
        area = create_area(
            session,
            name="Metro",
            boundary=square(*CENTRE, HALF),
            timezone="Asia/Shanghai",
            business_hours={
                d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")
            },
            holiday_country="CN",
        )
        area_id = area.id
        for i in range(engineers):
            held = rng.sample(SKILLS, k=2)
            lat, lon = point(rng)
            create_engineer(
                session,
                name=f"Engineer {i:03d}",
                home_lat=lat,
                home_lon=lon,
                service_area_id=area.id,
                skills=[{"skill": s, "level": rng.randint(3, 5)} for s in held],
                weekly_template={d: DAY for d in ("mon", "tue", "wed", "thu", "fri")},
                max_visits=10,
            )
        customers = [create_customer(session, name=f"Customer {c:04d}") for c in range(100)]
        for r in range(requests):
            lat, lon = point(rng)
            site = create_site(
                session,
                geo,
                customer_id=customers[r % 100].id,
                name=f"Site {r:05d}",
                address=f"{r} Road",
                lat=lat,
                lon=lon,
            )
            take_request(
                session,
                now=NOW,
                actor="bench",
                site_id=site.id,
                channel="phone",
                tier=rng.choice(["important", "general", "general"]),
                skills=[{"skill": rng.choice(SKILLS), "min_level": rng.randint(1, 3)}],
                service_minutes=rng.choice([30, 45, 60]),
            )
    engine.dispose()
    return area_id


def run_once(url: str, area_id: int, days: int, time_limit: int) -> tuple[float, DispatchRun]:
    """Execute one run through the production path; wall time and the finished run."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        run = create_run(
            session,
            area_ids=[area_id],
            horizon_start=(NOW + timedelta(hours=8)).date(),
            days=days,
            time_limit_s=time_limit,
            actor="bench",
            now=NOW,
        )
        run_id = run.id
    solver = ProcessSolver()
    # A running service warms its worker process at start-up; measure the run, not the spawn.
    solver.warm()
    started = time.perf_counter()
    execute_run(factory, GeoContext(), solver, run_id, clock=FixedClock(NOW))
    total = time.perf_counter() - started
    solver.close()
    with factory() as session:
        finished = session.get(DispatchRun, run_id)
        assert finished is not None
        session.expunge(finished)
    engine.dispose()
    return total, finished


def quotes(url: str, count: int, seed: int) -> tuple[list[float], float]:
    """Capacity-aware quotes over HTTP; per-call latencies (ms) and the first (cold) one."""
    rng = random.Random(seed)
    app = create_app(Settings(database_url=url, solver="inline"))
    app.state.clock = FixedClock(NOW + timedelta(hours=2))
    with unit_of_work(app.state.session_factory) as session:
        key = create_api_key(session, role="service_desk", name="bench").key
    headers = {"Authorization": f"Bearer {key}"}
    latencies = []
    first = 0.0
    with TestClient(app) as client:
        for i in range(count + 1):
            lat, lon = point(rng)
            body = {
                "location": {"lat": lat, "lon": lon},
                "tier": rng.choice(["urgent", "important", "general"]),
                "skills": [{"skill": rng.choice(SKILLS), "min_level": rng.randint(1, 3)}],
                "service_minutes": 60,
            }
            started = time.perf_counter()
            r = client.post("/v1/promises/quote", json=body, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            assert r.status_code == 200, r.text
            assert r.json()["capacity"] is not None
            if i == 0:
                first = elapsed
            else:
                latencies.append(elapsed)
    return latencies, first


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=300)
    parser.add_argument("--time-limit", type=int, default=30, help="seconds for the big run")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/quotes.db"
        area = build_city(url, engineers=50, requests=450, seed=args.seed)
        _, planned = run_once(url, area, days=2, time_limit=15)
        visits = planned.kpis_after["assigned"] if planned.kpis_after else 0
        print(f"quote city: 50 engineers, {visits} planned visits over 2 days")
        latencies, cold = quotes(url, args.quotes, args.seed)
        p50, p95 = statistics.median(latencies), pct(latencies, 0.95)
        print(
            f"quotes: {len(latencies)}  p50 {p50:.1f} ms  p95 {p95:.1f} ms  "
            f"first (builds the capacity context) {cold:.0f} ms  (target p95 <= 50 ms)"
        )

        url = f"sqlite:///{tmp}/run.db"
        t0 = time.perf_counter()
        area = build_city(url, engineers=100, requests=1000, seed=args.seed + 1)
        print(
            f"run city: 100 engineers, 1000 requests (set up in {time.perf_counter() - t0:.0f} s)"
        )
        total, run = run_once(url, area, days=1, time_limit=args.time_limit)
        timings = run.timings or {}
        kpis = run.kpis_after or {}
        print(
            f"run {run.status}: total {total:.1f} s for a {args.time_limit} s limit "
            f"(load {timings.get('load_s')} s, solve {timings.get('solve_s')} s, "
            f"publish {timings.get('publish_s')} s); assigned {kpis.get('assigned')}, "
            f"unassigned {kpis.get('unassigned')}, late {kpis.get('late_visits')} "
            f"(target total <= limit + 3 s)"
        )
    figures = {
        "quote_engineers": 50,
        "quote_planned_visits": visits,
        "quote_p50_ms": round(p50, 1),
        "quote_p95_ms": round(p95, 1),
        "quote_cold_ms": round(cold, 1),
        "run_engineers": 100,
        "run_requests": 1000,
        "run_status": run.status,
        "run_time_limit_s": args.time_limit,
        "run_total_s": round(total, 2),
        "run_overhead_s": round(total - (timings.get("solve_s") or 0), 2),
        "run_assigned": kpis.get("assigned"),
        "run_unassigned": kpis.get("unassigned"),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
