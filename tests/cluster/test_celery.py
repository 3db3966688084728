"""The cluster on the real broker and PostgreSQL: runs handed to Celery workers are solved once,
survive a worker killed mid-solve, and are not lost when the broker is down as they are made.

These tests start `onsite worker` processes. They need ``ONSITE_TEST_BROKER_URL`` (RabbitMQ)
and ``ONSITE_TEST_POSTGRES_URL``; without either they are skipped, saying which is missing.
Each test has its own database and its own broker queue, so leftovers cannot interfere.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dispatch.auth.service import create_api_key
from dispatch.clock import SystemClock
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work
from dispatch.models import DispatchRun, Visit
from dispatch.planning.cluster import CeleryRunner, WorkerContext, make_celery, sweep_runs
from dispatch.planning.runs import RunSettings, create_run
from dispatch.planning.solver import InlineSolver
from dispatch.requests.intake import take_request
from tests.conftest import POSTGRES_ENV, create_postgres_database, drop_postgres_database
from tests.fixtures.factories import (
    DAY_SHIFT,
    create_area,
    create_customer,
    create_engineer,
    create_site,
)
from tests.fixtures.plan_checker import check_published_routes
from tests.fixtures.tcp_proxy import TcpProxy

BROKER_ENV = "ONSITE_TEST_BROKER_URL"
ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 3
UNREACHABLE_BROKER = "amqp://guest:guest@127.0.0.1:1//"

pytestmark = [
    pytest.mark.skipif(not os.environ.get(BROKER_ENV), reason=f"{BROKER_ENV} is not set"),
    pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"{POSTGRES_ENV} is not set"),
]


class Cluster:
    """A migrated PostgreSQL database, a broker queue of its own, and worker processes."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = create_postgres_database("onsite_cluster")
        migrate(self.url)
        self.engine = make_engine(self.url)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        self.broker = os.environ[BROKER_ENV]
        self.queue = f"onsite-test-{uuid.uuid4().hex[:10]}"
        self.tmp_path = tmp_path
        self.workers: list[subprocess.Popen[bytes]] = []
        self.celery = make_celery(self.broker, self.queue)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            ONSITE_DATABASE_URL=self.url,
            ONSITE_BROKER_URL=self.broker,
            ONSITE_BROKER_QUEUE=self.queue,
            ONSITE_RUN_LEASE_S=str(LEASE_S),
        )
        return env

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp_path / f"worker-{len(self.workers)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker", "--concurrency", "1"],
            cwd=ROOT,
            env={**self.env(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes its children too
        )
        self.workers.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def context(self) -> WorkerContext:
        from dispatch.geo_support import GeoContext

        return WorkerContext(
            factory=self.factory,
            geo=GeoContext(),
            solver=InlineSolver(),
            clock=SystemClock(),
            settings=RunSettings(lease=timedelta(seconds=LEASE_S)),
        )

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.tmp_path.glob("*.log"))
        )

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.kill(proc)
        with self.celery.connection_for_write() as conn:
            conn.default_channel.queue_delete(self.queue)
        self.engine.dispose()
        drop_postgres_database(self.url)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    try:
        yield c
    finally:
        c.close()


def _tomorrow() -> tuple[datetime, Any]:
    """08:00 on the next working day after today in Shanghai (as UTC) and that date: a day whose
    shifts are all ahead and on which a general request taken at 08:00 is promised (taken on a
    weekend or a public holiday, it would be promised for the next working day instead)."""
    zone = ZoneInfo("Asia/Shanghai")
    day = (datetime.now(zone) + timedelta(days=1)).date()
    closed = holidays.country_holidays("CN", years=[day.year, day.year + 1])
    while day.weekday() >= 5 or day in closed:
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 8, tzinfo=zone).astimezone(UTC)
    return start, day


def _day(
    factory: sessionmaker[Session],
    requests: int = 12,
    city: tuple[str, tuple[float, float]] = ("Shanghai", (31.23, 121.47)),
) -> int:
    """An area with three engineers working every day and requests promised for tomorrow."""
    start, _ = _tomorrow()
    every_day = {d: DAY_SHIFT for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    name, (lat, lon) = city
    with unit_of_work(factory) as session:
        area = create_area(session, name=name, center=(lat, lon), half=0.15)
        for i in range(3):
            create_engineer(
                session, area=area, name=f"{name} {i}", template=every_day,
                home=(lat - 0.05 + 0.04 * i, lon - 0.05 + 0.04 * i),
            )  # fmt: skip
        customer = create_customer(session, name=f"{name} Foods")
        for i in range(requests):
            site = create_site(
                session,
                customer=customer,
                at=(lat - 0.08 + 0.01 * (i % 7), lon - 0.07 + 0.013 * (i % 5)),
                name=f"{name} plant {i}",
            )
            take_request(
                session,
                now=start,
                actor="test",
                site_id=site.id,
                channel="phone",
                tier="general",
                service_minutes=45,
            )
        return area.id


def _queue_run(
    factory: sessionmaker[Session], areas: int | list[int], time_limit_s: int = 2
) -> int:
    _, day = _tomorrow()
    with unit_of_work(factory) as session:
        run = create_run(
            session,
            area_ids=areas if isinstance(areas, list) else [areas],
            horizon_start=day,
            days=1,
            time_limit_s=time_limit_s,
            actor="test",
            now=datetime.now(UTC),
        )
        session.flush()
        return run.id


def _wait(cluster: Cluster, what: str, check: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}; worker logs:\n{cluster.logs()}")


def _run(factory: sessionmaker[Session], run_id: int) -> DispatchRun:
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None
        return run


def _planned(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        return list(
            session.execute(
                select(Visit.request_id, Visit.engineer_id, Visit.date, Visit.sequence)
                .where(Visit.status == "planned")
                .order_by(Visit.request_id)
            )
        )


def test_a_run_handed_to_the_broker_is_solved_once_by_a_worker(cluster: Cluster) -> None:
    """The API side hands the run over; a worker solves and publishes it; a second hand-off of
    the same run (a redelivery) changes nothing."""
    area_id = _day(cluster.factory)
    cluster.start_worker()
    runner = CeleryRunner(cluster.celery, cluster.factory, SystemClock())
    try:
        run_id = _queue_run(cluster.factory, area_id)
        runner.submit(run_id)
        runner.wait_sent()
        assert _run(cluster.factory, run_id).handed_at is not None
        _wait(cluster, "the run", lambda: _run(cluster.factory, run_id).status == "succeeded")
        published = _planned(cluster.factory)
        assert published, "the run published no visit"
        runner.submit(run_id)  # handed over again: the worker leaves a finished run alone
        runner.wait_sent()
        time.sleep(3)
        assert _planned(cluster.factory) == published
        run = _run(cluster.factory, run_id)
        assert (run.status, run.attempts, run.recoveries) == ("succeeded", 1, 0)
    finally:
        runner.close()
    with cluster.factory() as session:
        assert check_published_routes(session) == len(published)


def test_a_worker_killed_mid_solve_has_its_run_finished_by_another(cluster: Cluster) -> None:
    """kill -9 of the worker while it solves: the plan in force stays untouched until another
    worker takes the redelivered task over (once the lease ran out) and publishes once."""
    area_id = _day(cluster.factory)
    first = _queue_run(cluster.factory, area_id)
    victim = cluster.start_worker()
    hand = CeleryRunner(cluster.celery, cluster.factory, SystemClock())
    try:
        hand.submit(first)
        hand.wait_sent()
        _wait(cluster, "the first run", lambda: _run(cluster.factory, first).status == "succeeded")
        in_force = _planned(cluster.factory)
        run_id = _queue_run(cluster.factory, area_id, time_limit_s=30)
        hand.submit(run_id)
        hand.wait_sent()
    finally:
        hand.close()
    _wait(cluster, "the solve to start", lambda: _run(cluster.factory, run_id).owner is not None)
    time.sleep(1)
    cluster.kill(victim)
    assert _run(cluster.factory, run_id).status == "running"
    assert _planned(cluster.factory) == in_force, "a killed solve wrote part of a plan"
    cluster.start_worker()
    _wait(
        cluster,
        "another worker to finish the run",
        lambda: _run(cluster.factory, run_id).status == "succeeded",
        timeout=120,
    )
    run = _run(cluster.factory, run_id)
    assert run.recoveries == 1
    with cluster.factory() as session:
        assert check_published_routes(session) == len(_planned(cluster.factory))


def test_a_run_made_while_the_broker_is_down_is_handed_over_when_it_is_back(
    cluster: Cluster,
) -> None:
    """With the broker away the run is stored as queued (not handed over) and nothing blocks;
    the sweep hands it over once the broker answers, and a worker solves it."""
    area_id = _day(cluster.factory)
    down = CeleryRunner(
        make_celery(UNREACHABLE_BROKER, cluster.queue), cluster.factory, SystemClock()
    )
    try:
        assert down.broker_status()["reachable"] is False
        run_id = _queue_run(cluster.factory, area_id)
        started = time.monotonic()
        down.submit(run_id)
        assert time.monotonic() - started < 0.5  # the request never waits for the broker
        down.wait_sent()
    finally:
        down.close()
    run = _run(cluster.factory, run_id)
    assert (run.status, run.handed_at) == ("queued", None)
    assert sweep_runs(cluster.celery, cluster.context()) == [run_id]
    assert sweep_runs(cluster.celery, cluster.context()) == []  # handed over once, not again
    cluster.start_worker()
    _wait(cluster, "the run", lambda: _run(cluster.factory, run_id).status == "succeeded")


def test_a_run_over_two_areas_is_solved_by_two_workers_at_once(cluster: Cluster) -> None:
    """One part per area, handed to two workers: the parts' solves overlap in time, each
    publishes its area, and the run settles as succeeded with both parts' routes."""
    first = _day(cluster.factory, requests=6)
    second = _day(cluster.factory, requests=6, city=("Suzhou", (31.30, 120.62)))
    for _ in range(2):
        cluster.start_worker()
    runner = CeleryRunner(cluster.celery, cluster.factory, SystemClock())
    try:
        run_id = _queue_run(cluster.factory, [first, second], time_limit_s=8)
        runner.submit(run_id)
        runner.wait_sent()
    finally:
        runner.close()
    _wait(cluster, "the run", lambda: _run(cluster.factory, run_id).status == "succeeded")
    run = _run(cluster.factory, run_id)
    assert [p.scope["service_area_ids"] for p in run.parts] == [[first], [second]]
    assert all(p.status == "succeeded" for p in run.parts)
    a, b = run.parts
    assert a.started_at is not None and b.started_at is not None
    assert a.finished_at is not None and b.finished_at is not None
    overlap = max(a.started_at, b.started_at) < min(a.finished_at, b.finished_at)
    assert overlap, f"solved in turn:\n{cluster.logs()}"
    assert run.plan == [r for p in run.parts for r in (p.plan or [])]
    with cluster.factory() as session:
        assert check_published_routes(session) == len(_planned(cluster.factory))


def test_a_large_area_is_solved_in_geographic_parts_by_two_workers(cluster: Cluster) -> None:
    """With parts of at most two engineers, one area of three is split into two parts that two
    workers solve; both publish the area, every request is planned once, and the routes check
    out."""
    area_id = _day(cluster.factory, requests=10)
    for _ in range(2):
        cluster.start_worker(ONSITE_PART_MAX_ENGINEERS="2")
    runner = CeleryRunner(cluster.celery, cluster.factory, SystemClock())
    try:
        run_id = _queue_run(cluster.factory, area_id, time_limit_s=4)
        runner.submit(run_id)
        runner.wait_sent()
    finally:
        runner.close()
    _wait(cluster, "the run", lambda: _run(cluster.factory, run_id).status == "succeeded")
    run = _run(cluster.factory, run_id)
    assert len(run.parts) == 2 and all(p.status == "succeeded" for p in run.parts)
    assert sorted(len(p.scope["part"]["groups"][p.scope["part"]["index"]]) for p in run.parts) == [
        1,
        2,
    ]
    kpis = run.kpis_after or {}
    assert kpis["assigned"] + kpis["unassigned"] == 10
    with cluster.factory() as session:
        assert check_published_routes(session) == len(_planned(cluster.factory)) == kpis["assigned"]


def test_a_worker_that_cannot_reach_the_database_retries_and_says_why(cluster: Cluster) -> None:
    """A worker whose database connection is cut fails each attempt of the task with the reason
    and retries it; the run stays queued, and once the database answers it is solved once and
    its notes say how many attempts failed and why."""
    area_id = _day(cluster.factory, requests=6)
    real = make_url(cluster.url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))  # down until up()
    through = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    cluster.start_worker(ONSITE_DATABASE_URL=through)
    runner = CeleryRunner(cluster.celery, cluster.factory, SystemClock())
    try:
        run_id = _queue_run(cluster.factory, area_id)
        runner.submit(run_id)
        runner.wait_sent()
    finally:
        runner.close()
    try:
        _wait(cluster, "a failed attempt", lambda: "database unreachable" in cluster.logs())
        assert _run(cluster.factory, run_id).status == "queued"
        proxy.up()
        _wait(cluster, "the run", lambda: _run(cluster.factory, run_id).status == "succeeded")
    finally:
        proxy.down()
    run = _run(cluster.factory, run_id)
    assert run.attempts == 1
    retried = [n for n in run.notes or [] if n["kind"] == "worker_retried"]
    assert len(retried) == 1, run.notes
    assert retried[0]["attempts"], retried
    assert all("database unreachable" in a for a in retried[0]["attempts"])
    with cluster.factory() as session:
        assert check_published_routes(session) == len(_planned(cluster.factory))


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


def _broker_restartable() -> str | None:
    """Why the broker cannot be restarted from here, or None if it can."""
    if shutil.which("rabbitmqctl") is None:
        return "rabbitmqctl is not on this machine"
    try:
        _rabbitmqctl("status")
    except (subprocess.SubprocessError, OSError) as exc:
        return f"rabbitmqctl cannot manage the broker here: {exc}"
    return None


def test_runs_queued_across_a_broker_restart_are_all_solved_once(cluster: Cluster) -> None:
    """The broker is restarted while one run solves and two wait in its queue: every run is
    solved, each exactly once (one attempt, no recovery), and the final plan checks out."""
    why = _broker_restartable()
    if why is not None:
        pytest.skip(why)
    area_a = _day(cluster.factory, requests=6)
    area_b = _day(cluster.factory, requests=6, city=("Suzhou", (31.30, 120.62)))
    cluster.start_worker()
    runner = CeleryRunner(cluster.celery, cluster.factory, SystemClock())
    try:
        runs = [
            _queue_run(cluster.factory, area_a, time_limit_s=6),
            _queue_run(cluster.factory, area_b, time_limit_s=2),
            _queue_run(cluster.factory, area_a, time_limit_s=2),
        ]
        for run_id in runs:
            runner.submit(run_id)
        runner.wait_sent()
    finally:
        runner.close()
    assert all(_run(cluster.factory, r).handed_at is not None for r in runs)
    _wait(cluster, "the first solve", lambda: _run(cluster.factory, runs[0]).owner is not None)
    try:
        _rabbitmqctl("stop_app")
        time.sleep(2)
    finally:
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")
    _wait(
        cluster,
        "every run",
        lambda: all(_run(cluster.factory, r).status == "succeeded" for r in runs),
        timeout=180,
    )
    for run_id in runs:
        run = _run(cluster.factory, run_id)
        assert (run.attempts, run.recoveries) == (1, 0), (run_id, run.notes)
    with cluster.factory() as session:
        assert session.scalar(select(func.count()).select_from(DispatchRun)) == len(runs)
        assert check_published_routes(session) == len(_planned(cluster.factory))


def _serve(cluster: Cluster, name: str) -> tuple[subprocess.Popen[bytes], str]:
    """An API process (``onsite serve``) on the cluster's database and broker."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    log = open(cluster.tmp_path / f"{name}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=cluster.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    cluster.workers.append(proc)  # stopped with the workers
    base = f"http://127.0.0.1:{port}"
    _wait(cluster, f"{name} to serve", lambda: _answers(base), timeout=60)
    return proc, base


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_two_api_processes_creating_runs_for_one_scope_at_once_run_them_in_turn(
    cluster: Cluster,
) -> None:
    """Two API processes each create a run for the same area at the same moment, with two
    workers free: both runs are stored and solved, one after the other (their solves never
    overlap), and the final plan books no engineer twice."""
    area_id = _day(cluster.factory)
    with unit_of_work(cluster.factory) as session:
        key = create_api_key(session, role="dispatcher", name="test").key
    bases = [_serve(cluster, f"api-{i}")[1] for i in range(2)]
    for _ in range(2):
        cluster.start_worker()
    _, day = _tomorrow()
    barrier = threading.Barrier(2)
    created: list[int] = []

    def create(base: str) -> None:
        barrier.wait()
        answer = httpx.post(
            f"{base}/v1/dispatch/runs",
            json={
                "scope": {"service_area_ids": [area_id]},
                "horizon_start": str(day),
                "time_limit_s": 4,
            },
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        created.append(answer.json()["id"])

    threads = [threading.Thread(target=create, args=(b,)) for b in bases]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(created)) == 2
    _wait(
        cluster,
        "both runs",
        lambda: all(_run(cluster.factory, r).status == "succeeded" for r in created),
        timeout=120,
    )
    first, second = sorted((_run(cluster.factory, r) for r in created), key=lambda r: r.started_at)
    assert first.finished_at is not None and second.started_at is not None
    assert first.finished_at <= second.started_at, "the two runs solved the scope at once"
    with cluster.factory() as session:
        assert session.scalar(select(func.count()).select_from(DispatchRun)) == 2
        assert check_published_routes(session) == len(_planned(cluster.factory))


def test_workers_deliver_webhooks_and_run_the_alert_rules(cluster: Cluster) -> None:
    """On a cluster the API only writes events: two workers deliver each of them once to a real
    receiver, and the alert task beat sends stores the alerts the rules find."""
    from dispatch.desk.service import current_alerts
    from dispatch.models import Alert, OutboxEvent, Site
    from dispatch.notify.webhooks import WebhookSettings, create_subscription
    from tests.fixtures.receiver import Receiver

    receiver = Receiver().start()
    try:
        with unit_of_work(cluster.factory) as session:
            create_subscription(
                session,
                WebhookSettings(allow_private=True),
                url=receiver.url,
                event_types=["*"],
                actor="test",
            )
        for _ in range(2):
            cluster.start_worker(ONSITE_WEBHOOK_ALLOW_PRIVATE="true")
        _day(cluster.factory, requests=4)
        with cluster.factory() as session:
            made = set(session.scalars(select(OutboxEvent.event_id)))
        assert len(made) >= 4
        _wait(cluster, "the deliveries", lambda: set(receiver.ids()) >= made)
        assert sorted(receiver.ids()) == sorted(made)  # each once, by one of the two workers
        with unit_of_work(cluster.factory) as session:  # urgent, now: its response is due soon
            site = session.scalars(select(Site.id)).first()
            take_request(
                session, now=datetime.now(UTC), actor="test", site_id=site, channel="phone",
                tier="urgent", service_minutes=30,
            )  # fmt: skip
        with cluster.factory() as session:
            expected = {a["kind"] for a in current_alerts(session, now=datetime.now(UTC))}
        assert "first_response_due" in expected
        cluster.celery.send_task("onsite.alerts")

        def stored() -> bool:
            with cluster.factory() as session:
                return set(session.scalars(select(Alert.kind))) == expected

        _wait(cluster, "the alert rules", stored)
    finally:
        receiver.stop()
