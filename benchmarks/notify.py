"""Webhook benchmark: how soon a receiver hears of a change, and what a slow receiver costs intake.

One `onsite serve` process on a fresh database (SQLite, the embedded default, or PostgreSQL with
``--postgres``; webhooks delivered by the delivery process it starts beside itself, or by a
thread of it with ``ONSITE_WEBHOOK_DELIVERY=thread``), one area with 20 engineers,
and clients posting requests through ``POST /v1/requests`` (each is promised and, while
capacity lasts, booked into a route: a ``promise.made`` and a ``visit.assigned`` event).
Three phases of ``--requests`` requests each:

1. no subscription: intake latency as it is;
2. a subscription to every event, on a healthy receiver on 127.0.0.1: events emitted,
   deliveries, and the delay from each change (the event's ``occurred_at``, the server's wall
   clock) to the moment the receiver has it;
3. a subscription on a receiver that takes 2 s to answer every delivery: intake latency again
   (it should not move: deliveries run beside intake).

Each phase starts from a fresh copy of the same day (same seed: the same sites, the same
requests in the same order), so the three do the same work.

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


class Database:
    """A fresh database per phase: a SQLite file, or a database on the PostgreSQL server."""

    def __init__(self, folder: Path, postgres: str | None) -> None:
        self.folder = folder
        self.postgres = postgres
        self.made: list[str] = []

    def new(self, label: str) -> str:
        if not self.postgres:
            return f"sqlite:///{self.folder / f'{label}.db'}"
        import uuid

        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = make_url(self.postgres)
        name = f"onsite_notify_{uuid.uuid4().hex[:8]}"
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.made.append(name)
        return admin.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.postgres:
            return
        from sqlalchemy import create_engine, text

        engine = create_engine(self.postgres, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self.made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def phase(
    label: str, args: argparse.Namespace, databases: Database, receiver: Receiver | None
) -> dict:
    """A fresh copy of the day (same seed: the same sites and requests), one server, the load;
    with ``receiver``, a subscription to every event on it, and the delays it saw."""
    from dispatch.auth.service import create_api_key
    from dispatch.db import make_engine, make_session_factory, unit_of_work

    url = databases.new(label)
    t0 = time.perf_counter()
    world = scale.build(url, args.engineers, 0, spare_sites=args.requests, seed=args.seed)
    built = time.perf_counter() - t0
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        admin = create_api_key(session, role="admin", name="bench").key
    engine.dispose()
    env = dict(os.environ)
    env.update(ONSITE_DATABASE_URL=url, ONSITE_WEBHOOK_ALLOW_PRIVATE="true")
    env.pop("ONSITE_BROKER_URL", None)
    procs = scale.Processes(env, databases.folder)
    port = scale._free_port()
    base = f"http://127.0.0.1:{port}"
    out: dict = {"built_s": round(built, 1)}
    try:
        procs.start(f"{label}-api", "serve", "--port", str(port))
        scale._wait_ready(base)
        if receiver is not None:
            httpx.post(
                f"{base}/v1/webhooks/subscriptions",
                json={"url": receiver.url, "event_types": ["*"]},
                headers={"Authorization": f"Bearer {admin}"},
            ).raise_for_status()
        out["intake"] = scale._load(base, world["desk"], world["spare"], args.clients, 3600)
        out["events"] = _count_events(url)
        if receiver is not None and receiver.delay_s == 0:
            _wait_delivered(base, admin, receiver, out["events"], timeout=120)
            delays = [
                r.at - datetime.fromisoformat(json.loads(r.body)["occurred_at"]).timestamp()
                for r in receiver.received
            ]
            out["deliveries"] = len(receiver.received)
            out["delivery_p50_s"] = round(sorted(delays)[len(delays) // 2], 3)
            out["delivery_p95_s"] = round(_p95(delays), 3)
            out["delivery_max_s"] = round(max(delays), 3)
        elif receiver is not None:
            out["deliveries_during_load"] = len(receiver.received)
    finally:
        procs.stop_all()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="per phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--engineers", type=int, default=40)
    parser.add_argument("--slow-s", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", help="an admin URL: each phase's database is made there")
    args = parser.parse_args()

    scale.CITIES = dict(list(scale.CITIES.items())[:1])
    databases = Database(Path(tempfile.mkdtemp(prefix="onsite-notify-")), args.postgres)
    healthy = Receiver().start()
    slow = Receiver(delay_s=args.slow_s).start()
    try:
        quiet = phase("quiet", args, databases, None)
        print(f"1. no subscription: {quiet}")
        served = phase("healthy", args, databases, healthy)
        print(f"2. a healthy receiver: {served}")
        slowed = phase("slow", args, databases, slow)
        print(f"3. a receiver taking {args.slow_s:g} s per delivery: {slowed}")
    finally:
        healthy.stop()
        slow.stop()
        databases.drop_all()
    figures = {
        "database": "postgresql" if args.postgres else "sqlite",
        "events": served["events"],
        "deliveries": served["deliveries"],
        "delivery_p95_s": served["delivery_p95_s"],
        "intake_p95_ms": quiet["intake"]["p95_ms"],
        "intake_p95_ms_healthy_receiver": served["intake"]["p95_ms"],
        "intake_p95_ms_slow_receiver": slowed["intake"]["p95_ms"],
        "intake_errors": sum(p["intake"]["errors"] for p in (quiet, served, slowed)),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
