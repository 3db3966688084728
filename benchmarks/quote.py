"""Quote latency: 10,000 in-process promise quotes with 50 service areas.

A quote is what the service desk asks while the customer is on the phone: it runs the same
service function as ``POST /v1/promises/quote`` (site lookup or classification of a new
location, nearest base by travel time, SLA rule, business calendar, window) on a migrated SQLite
database. Half the quotes name a known site, half a new location (classified against the 50
areas and 200 bases on the fly); tiers, problem types, VIP customers and availability windows
are mixed.

Run: .venv/bin/python benchmarks/quote.py [--quotes 10000]
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

from dispatch.areas.service import create_area  # noqa: E402
from dispatch.customers.service import create_customer, create_site  # noqa: E402
from dispatch.db import make_engine, make_session_factory, migrate  # noqa: E402
from dispatch.engineers.service import create_engineer, create_skill  # noqa: E402
from dispatch.geo_support import GeoContext  # noqa: E402
from dispatch.requests.service import locate, quote  # noqa: E402

HOURS = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
TIERS = ["urgent", "important", "general", None]
PROBLEMS = ["system_down", "core_function_broken", "minor_fault", "question", "unknown_kind"]


def square(lat: float, lon: float, half: float) -> dict:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def build(session, rng: random.Random) -> tuple[list[int], list[tuple[float, float]], list[int]]:
    create_skill(session, code="hvac", name="HVAC")
    centres = []
    for i in range(50):
        lat, lon = 28.0 + (i // 10) * 0.8, 115.0 + (i % 10) * 0.8
        centres.append((lat, lon))
        area = create_area(
            session,
            name=f"Area {i:02d}",
            boundary=square(lat, lon, 0.25),
            timezone="Asia/Shanghai",
            business_hours=HOURS,
            holiday_country="CN",
            engineers_based=i % 5 != 4,
        )
        if i % 5 != 4:
            for k in range(5):
                create_engineer(
                    session,
                    name=f"Engineer {i:02d}-{k}",
                    service_area_id=area.id,
                    home_lat=lat + rng.uniform(-0.2, 0.2),
                    home_lon=lon + rng.uniform(-0.2, 0.2),
                    skills=[{"skill": "hvac", "level": 3}],
                    weekly_template={"mon": {"start": "08:00", "end": "17:00"}},
                )
    geo = GeoContext()
    customers = [
        create_customer(
            session,
            name=f"Customer {c}",
            vip_tier=rng.choice(["none", "none", "none", "silver", "gold", "platinum"]),
        )
        for c in range(200)
    ]
    site_ids = []
    for s in range(1000):
        lat, lon = rng.choice(centres)
        site = create_site(
            session,
            geo,
            customer_id=customers[s % 200].id,
            name=f"Site {s}",
            address=f"{s} Road",
            lat=lat + rng.uniform(-0.45, 0.45),
            lon=lon + rng.uniform(-0.45, 0.45),
        )
        site_ids.append(site.id)
    session.commit()
    return site_ids, centres, [c.id for c in customers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/quote-bench.db"
        migrate(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        t0 = time.perf_counter()
        with factory() as session:
            site_ids, centres, customer_ids = build(session, rng)
        setup_s = time.perf_counter() - t0
        geo = GeoContext()
        now = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
        latencies = []
        with factory() as session:
            for i in range(args.quotes):
                at = now + timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
                availability = []
                if i % 4 == 0:
                    start = at + timedelta(hours=rng.randrange(1, 72))
                    availability = [{"start": start, "end": start + timedelta(hours=3)}]
                kwargs = {
                    "tier": rng.choice(TIERS),
                    "problem_type": rng.choice(PROBLEMS),
                    "service_minutes": rng.choice([30, 60, 90, 120]),
                    "availability": availability,
                    "skills": [{"skill": "hvac", "min_level": 2}],
                }
                if i % 2 == 0:
                    kwargs["site_id"] = rng.choice(site_ids)
                else:
                    lat, lon = rng.choice(centres)
                    kwargs |= {
                        "lat": lat + rng.uniform(-0.45, 0.45),
                        "lon": lon + rng.uniform(-0.45, 0.45),
                        "customer_id": rng.choice(customer_ids),
                    }
                where = {
                    k: kwargs.pop(k)
                    for k in ("site_id", "lat", "lon", "customer_id")
                    if k in kwargs
                }
                t = time.perf_counter()
                location, _ = locate(session, geo, **where)
                quote(session, location, now=at, **kwargs)
                latencies.append((time.perf_counter() - t) * 1000)
                session.rollback()  # each quote is its own short read, as over HTTP
        engine.dispose()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    figures = {
        "quotes": len(latencies),
        "areas": 50,
        "p50_ms": round(statistics.median(latencies), 3),
        "p95_ms": round(p(0.95), 3),
        "p99_ms": round(p(0.99), 3),
        "max_ms": round(latencies[-1], 3),
        "mean_ms": round(statistics.fmean(latencies), 3),
    }
    print(f"setup (50 areas, 200 engineers, 1000 sites): {setup_s:.1f} s")
    print(
        f"quotes: {figures['quotes']}  p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms"
        f"  p99 {figures['p99_ms']} ms  max {figures['max_ms']} ms  (target p95 <= 5 ms)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
