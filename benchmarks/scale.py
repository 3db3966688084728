"""Cluster benchmark: PostgreSQL + RabbitMQ, API processes and Celery workers on this machine.

A day of 4 areas x 250 requests (40 engineers per area, every request through intake with a
3-hour availability window between 08:00 and 18:00) is planned by one run over the four
areas. Each phase starts from a fresh copy of the same day (same seed), so the runs solve the
same problem:

1. two API processes, one worker: the run's wall time;
2. two API processes, two workers: the run's wall time (the run is split into one part per
   area, each with the run's time limit, so two workers should need about half the time);
3. two API processes, one worker, and 8 clients posting new requests through
   ``POST /v1/requests`` while the run solves: intake throughput and latency;
4. the same load on one API process.

Needs PostgreSQL and RabbitMQ (defaults: the development machine's, 127.0.0.1). It creates a
database and a broker queue of its own and drops both at the end. Every process it starts
(API, workers) runs on this machine: with 2 cores, the API processes, the clients and the
workers share them, so intake figures under two solving workers would measure the machine.

Run: .venv/bin/python benchmarks/scale.py [--time-limit 20] [--clients 8]
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatch.areas.service import create_area  # noqa: E402
from dispatch.auth.service import create_api_key  # noqa: E402
from dispatch.customers.service import create_customer, create_site  # noqa: E402
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work  # noqa: E402
from dispatch.engineers.service import create_engineer, create_skill  # noqa: E402
from dispatch.geo_support import GeoContext  # noqa: E402
from dispatch.requests.intake import take_request  # noqa: E402
from tests.fixtures.factories import square  # noqa: E402

CITIES = {
    "Shanghai": (31.23, 121.47),
    "Suzhou": (31.30, 120.62),
    "Hangzhou": (30.27, 120.16),
    "Nanjing": (32.06, 118.80),
}
HALF = 0.15
SKILLS = ["hvac", "refrigeration", "electrical", "plc"]
SHIFT = {
    "start": "08:00",
    "end": "18:00",
    "break_start": "11:30",
    "break_end": "14:00",
    "break_minutes": 30,
}
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZONE = ZoneInfo("Asia/Shanghai")


def _tomorrow() -> tuple[datetime, str]:
    day = (datetime.now(ZONE) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, 7, tzinfo=ZONE).astimezone(UTC), str(day)


def build(url: str, engineers: int, requests: int, spare_sites: int, seed: int) -> dict:
    """Four areas with engineers and requests promised for tomorrow, and spare sites for the
    intake load; returns the area ids, the spare sites and two API keys."""
    rng = random.Random(seed)
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    geo = GeoContext()
    start, _ = _tomorrow()
    areas: list[int] = []
    spare: list[int] = []
    with unit_of_work(factory) as session:
        for code in SKILLS:
            create_skill(session, code=code, name=code.title())
        customer = create_customer(session, name="Scale Foods")
        for name, (lat, lon) in CITIES.items():
            area = create_area(
                session,
                name=name,
                boundary=square(lat, lon, HALF),
                timezone="Asia/Shanghai",
                business_hours={d: [["08:00", "20:00"]] for d in EVERY_DAY},
            )
            areas.append(area.id)

            def point(lat: float = lat, lon: float = lon) -> tuple[float, float]:
                return (
                    round(lat + rng.uniform(-HALF, HALF) * 0.9, 5),
                    round(lon + rng.uniform(-HALF, HALF) * 0.9, 5),
                )

            for i in range(engineers):
                home = point()
                create_engineer(
                    session,
                    name=f"{name} {i:02d}",
                    home_lat=home[0],
                    home_lon=home[1],
                    service_area_id=area.id,
                    skills=[{"skill": s, "level": 4} for s in rng.sample(SKILLS, k=3)],
                    weekly_template={d: SHIFT for d in EVERY_DAY},
                    max_visits=14,
                )
            for r in range(requests + spare_sites // len(CITIES)):
                at = point()
                site = create_site(
                    session,
                    geo,
                    customer_id=customer.id,
                    name=f"{name} site {r:04d}",
                    address=f"{r} {name} Road",
                    lat=at[0],
                    lon=at[1],
                )
                if r >= requests:
                    spare.append(site.id)
                    continue
                # The customer's own availability, spread over the day as real calls are.
                opens = start + timedelta(hours=1 + rng.randrange(8))
                take_request(
                    session,
                    now=start,
                    actor="bench",
                    site_id=site.id,
                    channel="phone",
                    tier="general",
                    availability=[{"start": opens, "end": opens + timedelta(hours=3)}],
                    skills=[{"skill": rng.choice(SKILLS), "min_level": 2}],
                    service_minutes=rng.choice([30, 45, 60]),
                )
        dispatcher = create_api_key(session, role="dispatcher", name="bench").key
        desk = create_api_key(session, role="service_desk", name="bench").key
    engine.dispose()
    return {"areas": areas, "spare": spare, "dispatcher": dispatcher, "desk": desk}


class Processes:
    """The cluster's processes on this machine, each in its own process group."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> None:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "api.cli", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the API at {base} did not come up")


def _run(base: str, key: str, areas: list[int], limit: int) -> tuple[float, dict]:
    """Create a run over the areas and wait for it: its wall time and the finished run."""
    headers = {"Authorization": f"Bearer {key}"}
    _, day = _tomorrow()
    started = time.perf_counter()
    created = httpx.post(
        f"{base}/v1/dispatch/runs",
        json={"scope": {"service_area_ids": areas}, "horizon_start": day, "time_limit_s": limit},
        headers=headers,
        timeout=30,
    )
    created.raise_for_status()
    run_id = created.json()["id"]
    while True:
        run = httpx.get(f"{base}/v1/dispatch/runs/{run_id}", headers=headers, timeout=30).json()
        if run["status"] in ("succeeded", "failed"):
            return time.perf_counter() - started, run
        time.sleep(0.25)


def _load(base: str, key: str, sites: list[int], clients: int, seconds: float) -> dict:
    """``clients`` threads posting requests for ``seconds``: throughput and latencies."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    queue = list(sites)
    random.Random(3).shuffle(queue)

    def client() -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
            while time.monotonic() < stop:
                with lock:
                    if not queue:
                        return
                    site = queue.pop()
                t0 = time.perf_counter()
                answer = http.post(
                    f"{base}/v1/requests",
                    json={
                        "site_id": site,
                        "channel": "online",
                        "tier": "general",
                        "service_minutes": 45,
                        "external_ref": f"load-{site}-{uuid.uuid4().hex[:6]}",
                    },
                )
                ms = 1000 * (time.perf_counter() - t0)
                with lock:
                    if answer.status_code in (200, 201):
                        latencies.append(ms)
                    else:
                        errors.append(f"{answer.status_code} {answer.text[:200]}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(0.95 * len(ordered)) - 1)] if ordered else float("nan")
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(ordered[len(ordered) // 2], 1) if ordered else float("nan"),
        "p95_ms": round(p95, 1),
    }


def _quality(run: dict) -> dict:
    k = run.get("kpis_after") or {}
    return {
        "status": run["status"],
        "parts": len(run.get("parts") or []),
        "unassigned": k.get("unassigned"),
        "late": k.get("late_visits"),
        "travel_h": round((k.get("travel_minutes") or 0) / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--time-limit", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--engineers", type=int, default=40, help="per area")
    parser.add_argument("--requests", type=int, default=250, help="per area")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    admin = make_url(args.postgres)
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    queue = f"onsite-scale-{uuid.uuid4().hex[:8]}"
    logs = Path(f"/tmp/{queue}")
    logs.mkdir()

    def phase(label: str, workers: int, api_processes: int, with_load: bool) -> dict:
        """A fresh copy of the day (same seed), its processes, one run (and the load)."""
        name = f"onsite_scale_{uuid.uuid4().hex[:8]}"
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin.set(database=name).render_as_string(hide_password=False)
        env = dict(os.environ)
        env.update(
            ONSITE_DATABASE_URL=url, ONSITE_BROKER_URL=args.broker, ONSITE_BROKER_QUEUE=queue
        )
        procs = Processes(env, logs)
        try:
            t0 = time.perf_counter()
            world = build(url, args.engineers, args.requests, spare_sites=1200, seed=args.seed)
            built = time.perf_counter() - t0
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            serve = ["serve", "--port", str(port), "--workers", str(api_processes)]
            procs.start(f"{label}-api", *serve)
            for w in range(workers):
                procs.start(f"{label}-worker-{w}", "worker")
            _wait_ready(base)
            time.sleep(8)  # the workers connect and load OR-Tools
            load: dict = {}
            loader = threading.Thread(
                target=lambda: load.update(
                    _load(base, world["desk"], world["spare"], args.clients, args.time_limit)
                )
            )
            if with_load:
                loader.start()
            wall, run = _run(base, world["dispatcher"], world["areas"], args.time_limit)
            if with_load:
                loader.join()
            out = {"run_s": round(wall, 1), "built_s": round(built, 1), **_quality(run)}
            if with_load:
                out["intake"] = load
            print(f"{label}: {out}")
            return out
        finally:
            procs.stop_all()
            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    try:
        one = phase("1 worker", 1, 2, with_load=False)
        two = phase("2 workers", 2, 2, with_load=False)
        loaded = phase("intake on 2 API processes, 1 worker solving", 1, 2, with_load=True)
        single = phase("intake on 1 API process, 1 worker solving", 1, 1, with_load=True)
        figures = {
            "areas": 4,
            "requests": 4 * args.requests,
            "engineers": 4 * args.engineers,
            "time_limit_s": args.time_limit,
            "run_s_1_worker": one["run_s"],
            "run_s_2_workers": two["run_s"],
            "speedup": round(one["run_s"] / two["run_s"], 2),
            "time_ratio_2_to_1": round(two["run_s"] / one["run_s"], 3),
            "unassigned_1_worker": one["unassigned"],
            "unassigned_2_workers": two["unassigned"],
            "late_1_worker": one["late"],
            "late_2_workers": two["late"],
            "intake_rps": loaded["intake"]["rps"],
            "intake_p95_ms": loaded["intake"]["p95_ms"],
            "intake_errors": loaded["intake"]["errors"],
            "intake_rps_1_process": single["intake"]["rps"],
            "intake_p95_ms_1_process": single["intake"]["p95_ms"],
        }
    finally:
        admin_engine.dispose()
        try:
            from dispatch.planning.cluster import make_celery

            with make_celery(args.broker, queue).connection_for_write() as conn:
                conn.default_channel.queue_delete(queue)
        except Exception as exc:  # the broker may be gone; the queue is then its problem
            print(f"could not delete the broker queue {queue}: {exc}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
