"""Webhook benchmark: how soon a receiver hears of a change, and what a slow receiver costs intake.

One `onsite serve` process on a fresh database (SQLite, the embedded default, or PostgreSQL with
``--postgres``; webhooks delivered by a thread of that process), one area with 20 engineers,
and clients posting requests through ``POST /v1/requests`` (each is promised and, while
capacity lasts, booked into a route: a ``promise.made`` and a ``visit.assigned`` event).
Three phases of ``--requests`` requests each, on the same server:

1. no subscription: intake latency as it is;
2. a subscription to every event, on a healthy receiver on 127.0.0.1: events emitted,
   deliveries, and the delay from each change (the event's ``occurred_at``, the server's wall
   clock) to the moment the receiver has it;
3. the same subscription paused and another on a receiver that takes 2 s to answer every
   delivery: intake latency again (it should not move: deliveries run beside intake).

Run: .venv/bin/python benchmarks/notify.py [--requests 1000] [--clients 4]
         [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import scale  # noqa: E402

from tests.fixtures.receiver import Receiver  # noqa: E402


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(0.95 * len(ordered)) - 1)] if ordered else float("nan")


def _wait_delivered(base: str, key: str, receiver: Receiver, expected: int, timeout: float) -> None:
    """Until the receiver has every event emitted so far (or the timeout)."""
    deadline = time.monotonic() + timeout
    while (
        time.monotonic() < deadline
        and len({r.headers["webhook-id"] for r in receiver.received}) < expected
    ):
        time.sleep(0.2)


def _count_events(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM outbox_events")).scalar_one()
    engine.dispose()
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="per phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--engineers", type=int, default=20)
    parser.add_argument("--slow-s", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="an admin URL: the benchmark's database is made there")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="onsite-notify-"))
    url = f"sqlite:///{folder / 'onsite.db'}"
    admin_engine = name = None
    if args.postgres:
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin_url = make_url(args.postgres)
        admin_engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        name = f"onsite_notify_{uuid.uuid4().hex[:8]}"
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    scale.CITIES = dict(list(scale.CITIES.items())[:1])
    t0 = time.perf_counter()
    world = scale.build(url, args.engineers, 0, spare_sites=3 * args.requests, seed=args.seed)
    print(f"world built in {time.perf_counter() - t0:.1f} s ({3 * args.requests} sites)")
    from dispatch.auth.service import create_api_key
    from dispatch.db import make_engine, make_session_factory, unit_of_work

    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        admin = create_api_key(session, role="admin", name="bench").key
    engine.dispose()
    env = dict(os.environ)
    env.update(ONSITE_DATABASE_URL=url, ONSITE_WEBHOOK_ALLOW_PRIVATE="true")
    env.pop("ONSITE_BROKER_URL", None)
    procs = scale.Processes(env, folder)
    healthy = Receiver().start()
    slow = Receiver(delay_s=args.slow_s).start()
    port = scale._free_port()
    base = f"http://127.0.0.1:{port}"
    admin_h = {"Authorization": f"Bearer {admin}"}
    sites = world["spare"]
    n = args.requests
    try:
        procs.start("api", "serve", "--port", str(port))
        scale._wait_ready(base)
        quiet = scale._load(base, world["desk"], sites[:n], args.clients, 3600)
        print(f"1. no subscription: {quiet}")

        before = _count_events(url)
        sub = httpx.post(
            f"{base}/v1/webhooks/subscriptions",
            json={"url": healthy.url, "event_types": ["*"]},
            headers=admin_h,
        ).json()
        served = scale._load(base, world["desk"], sites[n : 2 * n], args.clients, 3600)
        emitted = _count_events(url) - before
        _wait_delivered(base, admin, healthy, emitted, timeout=120)
        delays = [
            r.at - datetime.fromisoformat(json.loads(r.body)["occurred_at"]).timestamp()
            for r in healthy.received
        ]
        print(
            f"2. healthy receiver: {served}; {emitted} events, {len(healthy.received)} "
            f"deliveries, delay p50 {sorted(delays)[len(delays) // 2]:.2f} s, "
            f"p95 {_p95(delays):.2f} s, max {max(delays):.2f} s"
        )

        httpx.patch(
            f"{base}/v1/webhooks/subscriptions/{sub['id']}", json={"active": False}, headers=admin_h
        ).raise_for_status()
        httpx.post(
            f"{base}/v1/webhooks/subscriptions",
            json={"url": slow.url, "event_types": ["*"]},
            headers=admin_h,
        ).raise_for_status()
        slowed = scale._load(base, world["desk"], sites[2 * n : 3 * n], args.clients, 3600)
        print(
            f"3. slow receiver ({args.slow_s:g} s per delivery): {slowed}; "
            f"{len(slow.received)} deliveries reached it meanwhile"
        )
    finally:
        procs.stop_all()
        healthy.stop()
        slow.stop()
        if admin_engine is not None:
            from sqlalchemy import text

            with admin_engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    figures = {
        "database": "postgresql" if args.postgres else "sqlite",
        "events": emitted,
        "deliveries": len(healthy.received),
        "delivery_p95_s": round(_p95(delays), 3),
        "intake_p95_ms": quiet["p95_ms"],
        "intake_p95_ms_healthy_receiver": served["p95_ms"],
        "intake_p95_ms_slow_receiver": slowed["p95_ms"],
        "intake_errors": quiet["errors"] + served["errors"] + slowed["errors"],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
