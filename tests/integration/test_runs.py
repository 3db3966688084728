"""Dispatch runs on a real database (committed transactions): stale plans are re-solved, a
crash leaves the previous plan in force, overlapping runs never publish at the same time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import FixedClock
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work
from dispatch.geo_support import GeoContext
from dispatch.models import DispatchRun, PlanScope, RepairRequest, Visit
from dispatch.planning.runs import create_run, execute_run
from dispatch.planning.solver import InlineSolver
from dispatch.requests.service import create_request
from optimizer import Plan, Problem, SolveParams
from tests.conftest import drop_postgres_database, fresh_database_url
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai


@pytest.fixture
def world(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = fresh_database_url(backend, tmp_path)
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        area = create_area(session, half=0.15)
        for i, home in enumerate(((31.20, 121.44), (31.26, 121.50))):
            create_engineer(session, area=area, name=f"Engineer {i}", home=home)
        customer = create_customer(session)
        ids = []
        for i, at in enumerate(((31.21, 121.45), (31.25, 121.49), (31.27, 121.42), (31.19, 121.5))):
            site = create_site(session, customer=customer, at=at, name=f"Plant {i}")
            request, _ = create_request(
                session,
                now=NOW,
                actor="test",
                site_id=site.id,
                channel="phone",
                tier="general",
                service_minutes=45,
            )
            ids.append(request.id)
        area_id = area.id
    yield {"factory": factory, "area_id": area_id, "request_ids": ids}
    engine.dispose()
    if backend == "postgres":
        drop_postgres_database(url)


def _queue(factory: sessionmaker[Session], area_id: int) -> int:
    with unit_of_work(factory) as session:
        return create_run(
            session,
            area_ids=[area_id],
            horizon_start=NOW.date(),
            days=1,
            time_limit_s=1,
            actor="test",
            now=NOW,
        ).id


class MeddlingSolver(InlineSolver):
    """Changes a request while the first solve runs, as a desk agent might."""

    def __init__(self, factory: sessionmaker[Session], request_id: int) -> None:
        self.factory = factory
        self.request_id = request_id
        self.calls = 0

    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        self.calls += 1
        if self.calls == 1:
            with unit_of_work(self.factory) as session:
                request = session.get(RepairRequest, self.request_id)
                assert request is not None
                request.service_minutes = 90
        return super().solve(problem, params)


def test_a_request_changed_while_solving_is_re_solved(world: dict[str, Any]) -> None:
    """The first plan is stale at publish time: the run re-reads, re-solves and publishes."""
    factory = world["factory"]
    solver = MeddlingSolver(factory, world["request_ids"][0])
    run_id = _queue(factory, world["area_id"])
    execute_run(factory, GeoContext(), solver, run_id, clock=FixedClock(NOW))
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None
        assert (run.status, run.attempts, solver.calls) == ("succeeded", 2, 2)
        visit = session.scalar(select(Visit).where(Visit.request_id == world["request_ids"][0]))
        assert visit is not None
        assert (visit.planned_end - visit.planned_start).total_seconds() == 90 * 60
        check_published_routes(session)


class CrashingSolver(InlineSolver):
    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        raise RuntimeError("solver process died")


def test_a_crashed_run_leaves_the_previous_plan_in_force(world: dict[str, Any]) -> None:
    """After a good run, a crashing one fails with its reason and changes no visit."""
    factory = world["factory"]
    execute_run(
        factory,
        GeoContext(),
        InlineSolver(),
        _queue(factory, world["area_id"]),
        clock=FixedClock(NOW),
    )
    with factory() as session:
        before = sorted(
            session.execute(
                select(Visit.id, Visit.engineer_id, Visit.sequence, Visit.planned_start)
            ).all()
        )
        version = session.scalar(select(PlanScope.plan_version))
    failed_id = _queue(factory, world["area_id"])
    execute_run(factory, GeoContext(), CrashingSolver(), failed_id, clock=FixedClock(NOW))
    with factory() as session:
        failed = session.get(DispatchRun, failed_id)
        assert failed is not None and failed.status == "failed"
        assert failed.failure_reason == "RuntimeError: solver process died"
        after = sorted(
            session.execute(
                select(Visit.id, Visit.engineer_id, Visit.sequence, Visit.planned_start)
            ).all()
        )
        assert after == before
        assert session.scalar(select(PlanScope.plan_version)) == version
        assert session.scalar(select(PlanScope.running_run_id)) is None


class SlowSolver(InlineSolver):
    """Records when each solve runs; the first one takes a while."""

    def __init__(self, log: list[tuple[str, float]]) -> None:
        self.log = log

    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        self.log.append(("start", time.monotonic()))
        if len(self.log) == 1:
            time.sleep(1.5)
        plan = super().solve(problem, params)
        self.log.append(("end", time.monotonic()))
        return plan


def test_overlapping_runs_take_turns(world: dict[str, Any]) -> None:
    """Two runs on the same area started together: the second waits for the first's scope,
    both succeed one after the other, and the plan version moves on twice."""
    factory = world["factory"]
    first, second = _queue(factory, world["area_id"]), _queue(factory, world["area_id"])
    log: list[tuple[str, float]] = []
    solver = SlowSolver(log)
    threads = [
        threading.Thread(
            target=execute_run,
            args=(factory, GeoContext(), solver, run_id),
            kwargs={"clock": FixedClock(NOW)},
        )
        for run_id in (first, second)
    ]
    threads[0].start()
    time.sleep(0.3)
    threads[1].start()
    for t in threads:
        t.join(timeout=60)
    assert [kind for kind, _ in log] == ["start", "end", "start", "end"]
    with factory() as session:
        statuses = session.scalars(
            select(DispatchRun.status).where(DispatchRun.id.in_((first, second)))
        ).all()
        assert list(statuses) == ["succeeded", "succeeded"]
        assert session.scalar(select(PlanScope.plan_version)) == 2
        assert session.scalar(select(func.count()).select_from(Visit)) == 4
        check_published_routes(session)


def test_a_one_day_run_leaves_the_next_days_visits_alone(world: dict[str, Any]) -> None:
    """Visits planned for tomorrow by a two-day run survive a later run of today only."""
    factory = world["factory"]
    with unit_of_work(factory) as session:
        site_id = session.scalar(select(RepairRequest.site_id))
        tomorrow = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # Tuesday 09:00 in Shanghai
        request, _ = create_request(
            session,
            now=NOW,
            actor="test",
            site_id=site_id,
            channel="email",
            tier="general",
            availability=[{"start": tomorrow, "end": tomorrow.replace(hour=4)}],
        )
        tomorrow_id = request.id
        run = create_run(
            session,
            area_ids=[world["area_id"]],
            horizon_start=NOW.date(),
            days=2,
            time_limit_s=1,
            actor="test",
            now=NOW,
        )
        two_days = run.id
    execute_run(factory, GeoContext(), InlineSolver(), two_days, clock=FixedClock(NOW))
    with factory() as session:
        planned = session.scalar(select(Visit).where(Visit.request_id == tomorrow_id))
        assert planned is not None and planned.date.isoformat() == "2026-11-24"
        kept = (planned.id, planned.engineer_id, planned.planned_start)
    today_only = _queue(factory, world["area_id"])
    execute_run(factory, GeoContext(), InlineSolver(), today_only, clock=FixedClock(NOW))
    with factory() as session:
        run = session.get(DispatchRun, today_only)
        assert run is not None and run.status == "succeeded"
        visit = session.scalar(select(Visit).where(Visit.request_id == tomorrow_id))
        assert visit is not None
        assert (visit.id, visit.engineer_id, visit.planned_start) == kept
        assert run.kpis_before["assigned"] == run.kpis_after["assigned"] == 4


def test_before_figures_of_a_run_are_the_after_figures_of_the_last(world: dict[str, Any]) -> None:
    """Before/after KPIs count alike: a second run starts from exactly what the first published."""
    factory = world["factory"]
    first = _queue(factory, world["area_id"])
    execute_run(factory, GeoContext(), InlineSolver(), first, clock=FixedClock(NOW))
    second = _queue(factory, world["area_id"])
    execute_run(factory, GeoContext(), InlineSolver(), second, clock=FixedClock(NOW))
    with factory() as session:
        a = session.get(DispatchRun, first)
        b = session.get(DispatchRun, second)
        assert a is not None and b is not None and a.kpis_after and b.kpis_before
        for key in ("assigned", "unassigned", "late_visits", "travel_minutes", "engineers_used"):
            assert b.kpis_before[key] == pytest.approx(a.kpis_after[key], abs=0.1), key
