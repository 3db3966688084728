"""Dispatch runs on a real database (committed transactions): stale plans are re-solved, a
crash leaves the previous plan in force, overlapping runs never publish at the same time."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import FixedClock
from dispatch.db import unit_of_work
from dispatch.geo_support import GeoContext
from dispatch.models import DispatchRun, PlanScope, RepairRequest, Visit
from dispatch.planning.runs import LEASE, create_run, execute_run
from dispatch.planning.solver import InlineSolver
from dispatch.requests.intake import take_request
from optimizer import Plan, PlanStatus, Problem, SolveParams
from tests.conftest import migrated_factory
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai


@pytest.fixture
def world(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with migrated_factory(backend, tmp_path) as factory:
        with unit_of_work(factory) as session:
            area = create_area(session, half=0.15)
            for i, home in enumerate(((31.20, 121.44), (31.26, 121.50))):
                create_engineer(session, area=area, name=f"Engineer {i}", home=home)
            customer = create_customer(session)
            ids = []
            spots = ((31.21, 121.45), (31.25, 121.49), (31.27, 121.42), (31.19, 121.5))
            for i, at in enumerate(spots):
                site = create_site(session, customer=customer, at=at, name=f"Plant {i}")
                request = take_request(
                    session,
                    now=NOW,
                    actor="test",
                    site_id=site.id,
                    channel="phone",
                    tier="general",
                    service_minutes=45,
                ).request
                ids.append(request.id)
            area_id = area.id
        yield {"factory": factory, "area_id": area_id, "request_ids": ids}


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
    time.sleep(0.5)
    with factory() as session:
        waiting = session.get(DispatchRun, second)
        assert waiting is not None and waiting.status == "queued"  # waiting for the scope
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
        request = take_request(
            session,
            now=NOW,
            actor="test",
            site_id=site_id,
            channel="email",
            tier="general",
            availability=[{"start": tomorrow, "end": tomorrow.replace(hour=4)}],
        ).request
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


def test_travel_minutes_count_the_drive_home(world: dict[str, Any]) -> None:
    """A run's travel figure is door to door: more than the legs into its visits."""
    factory = world["factory"]
    run_id = _queue(factory, world["area_id"])
    execute_run(factory, GeoContext(), InlineSolver(), run_id, clock=FixedClock(NOW))
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None and run.kpis_after
        legs_in = sum(session.scalars(select(Visit.travel_seconds)).all()) / 60
        engineers = {v.engineer_id for v in session.scalars(select(Visit))}
    assert engineers and run.kpis_after["travel_minutes"] > legs_in + len(engineers) * 0.5


def _visits(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        return sorted(
            session.execute(
                select(Visit.request_id, Visit.engineer_id, Visit.date, Visit.planned_start)
            ).all()
        )


def _run(factory: sessionmaker[Session], area_id: int, solver: Any = None, **fields: Any) -> Any:
    with unit_of_work(factory) as session:
        run_id = create_run(
            session,
            area_ids=[area_id],
            horizon_start=fields.pop("horizon_start", NOW.date()),
            days=fields.pop("days", 1),
            time_limit_s=1,
            actor="test",
            now=NOW,
            **fields,
        ).id
    execute_run(factory, GeoContext(), solver or InlineSolver(), run_id, clock=FixedClock(NOW))
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None
        session.expunge(run)
        return run


def test_an_engineer_on_leave_breaks_their_locks_but_not_the_run(world: dict[str, Any]) -> None:
    """A visit locked to an engineer who then takes leave that day is re-planned without them;
    the run succeeds and says the lock was broken, on the run and the timeline."""
    from dispatch.engineers.service import set_shift_exception
    from dispatch.models import RequestEvent
    from dispatch.planning.manual import lock_visit

    factory = world["factory"]
    assert _run(factory, world["area_id"]).status == "succeeded"
    with unit_of_work(factory) as session:
        visit = session.scalars(select(Visit).order_by(Visit.id)).first()
        assert visit is not None
        lock_visit(session, visit.id, kind="engineer", arrival=None, actor="test", now=NOW)
        locked_request, on_leave = visit.request_id, visit.engineer_id
        set_shift_exception(session, on_leave, day=NOW.date(), kind="leave")
    run = _run(factory, world["area_id"])
    assert run.status == "succeeded", run.failure_reason
    assert [n["kind"] for n in run.notes if n["request_id"] == locked_request] == ["lock_broken"]
    with factory() as session:
        # Re-planned: with the colleague (unlocked), or unassigned with a reason (the four
        # windows overlap and one engineer cannot keep them all).
        moved = session.scalar(select(Visit).where(Visit.request_id == locked_request))
        if moved is None:
            assert locked_request in {u["request_id"] for u in run.unassigned}
        else:
            assert moved.engineer_id != on_leave and moved.lock == "none"
        assert not session.scalars(select(Visit).where(Visit.engineer_id == on_leave)).all()
        events = session.scalars(
            select(RequestEvent.type).where(RequestEvent.request_id == locked_request)
        ).all()
        assert "lock_broken" in events
        check_published_routes(session)


def test_a_locked_visit_no_plan_can_keep_says_so_on_the_timeline(world: dict[str, Any]) -> None:
    """A visit locked to an engineer whose day shrinks to half an hour before it is left out
    by the next run, and the request's timeline says the lock was broken."""
    from dispatch.engineers.service import set_shift_exception
    from dispatch.models import RequestEvent
    from dispatch.planning.manual import lock_visit

    factory = world["factory"]
    assert _run(factory, world["area_id"]).status == "succeeded"
    with unit_of_work(factory) as session:
        visit = session.scalars(select(Visit).order_by(Visit.planned_start.desc())).first()
        assert visit is not None
        lock_visit(session, visit.id, kind="engineer", arrival=None, actor="test", now=NOW)
        locked_request, engineer = visit.request_id, visit.engineer_id
        set_shift_exception(
            session,
            engineer,
            day=NOW.date(),
            kind="changed",
            hours={"start": "08:00", "end": "08:30"},
        )
    run = _run(factory, world["area_id"])
    assert run.status == "succeeded", run.failure_reason
    assert locked_request in {u["request_id"] for u in run.unassigned}
    with factory() as session:
        assert session.scalar(select(Visit).where(Visit.request_id == locked_request)) is None
        events = session.scalars(
            select(RequestEvent.type).where(RequestEvent.request_id == locked_request)
        ).all()
        assert events[-2:] == ["lock_broken", "unassigned"]


def test_a_run_for_tomorrow_leaves_todays_visits_where_they_are(world: dict[str, Any]) -> None:
    """Planning tomorrow changes nothing of today's plan; only when the dispatcher asks does a
    run take other days' visits in."""
    factory = world["factory"]
    _run(factory, world["area_id"])
    today = _visits(factory)
    assert len(today) == 4 and {v[2] for v in today} == {NOW.date()}
    tomorrow = NOW.date() + timedelta(days=1)
    run = _run(factory, world["area_id"], horizon_start=tomorrow)
    assert run.status == "succeeded", run.failure_reason
    assert run.kpis_before["assigned"] == 0
    assert _visits(factory) == today
    widened = _run(factory, world["area_id"], horizon_start=tomorrow, include_other_days=True)
    assert widened.status == "succeeded", widened.failure_reason
    assert widened.kpis_before["assigned"] == 4
    assert all(day != NOW.date() for _, _, day, _ in _visits(factory))


class NoSolution(InlineSolver):
    """Answers as the optimiser does when no plan honours the visits under way."""

    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        plan = super().solve(problem, params)
        return dataclasses.replace(plan, status=PlanStatus.NO_SOLUTION, routes=())


def test_a_run_without_a_solution_keeps_the_plan_in_force(
    world: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """A NO_SOLUTION answer fails the run with the reason and deletes no visit; the log says
    why in one warning line, without a traceback (it is an outcome, not a fault)."""
    factory = world["factory"]
    _run(factory, world["area_id"])
    before = _visits(factory)
    with caplog.at_level("WARNING", logger="onsite.planning"):
        run = _run(factory, world["area_id"], NoSolution())
    assert run.status == "failed" and "plan in force stays" in run.failure_reason
    assert _visits(factory) == before
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert [(r.levelname, r.exc_info) for r in failed] == [("WARNING", None)]


def test_a_re_plan_never_publishes_a_worse_plan(world: dict[str, Any]) -> None:
    """With nothing changed, the second run's objective is at most that of the plan in force,
    and its KPIs say both."""
    factory = world["factory"]
    _run(factory, world["area_id"])
    run = _run(factory, world["area_id"])
    kpis = run.kpis_after
    assert kpis["objective_in_force"] is not None
    assert kpis["objective"] <= kpis["objective_in_force"]


def test_recovery_takes_over_only_runs_whose_lease_expired(world: dict[str, Any]) -> None:
    """A running run with a live lease is left to its owner; an expired one is queued again
    with a note (no failure reason), and failed with the reason after too many takeovers."""
    from dispatch.planning.runs import MAX_RECOVERIES, recover_interrupted

    factory = world["factory"]
    run_id = _queue(factory, world["area_id"])
    wall = datetime.now(UTC)
    with unit_of_work(factory) as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None
        run.status, run.owner, run.lease_expires_at = "running", "elsewhere:1:1", wall + LEASE
    assert run_id not in recover_interrupted(factory, now=wall)
    with factory() as session:
        assert session.get(DispatchRun, run_id).status == "running"  # type: ignore[union-attr]
    for takeover in range(1, MAX_RECOVERIES + 2):
        with unit_of_work(factory) as session:
            run = session.get(DispatchRun, run_id)
            assert run is not None
            run.status, run.owner, run.lease_expires_at = "running", "gone:2:2", wall - LEASE
        queued = recover_interrupted(factory, now=wall)
        with factory() as session:
            run = session.get(DispatchRun, run_id)
            assert run is not None
            if takeover <= MAX_RECOVERIES:
                assert run_id in queued and run.status == "queued"
                assert run.failure_reason is None and run.recoveries == takeover
                assert run.notes[-1]["kind"] == "recovered"
            else:
                assert run.status == "failed" and "interrupted" in run.failure_reason


class LeaseWatcher(InlineSolver):
    """Solves slowly and records the run's lease while it solves."""

    def __init__(self, factory: sessionmaker[Session], run_id: int) -> None:
        self.factory = factory
        self.run_id = run_id
        self.leases: list[datetime | None] = []

    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        for _ in range(3):
            with self.factory() as session:
                run = session.get(DispatchRun, self.run_id)
                assert run is not None and run.status == "running"
                self.leases.append(run.lease_expires_at)
            time.sleep(0.4)
        return super().solve(problem, params)


def test_the_owner_renews_its_lease_while_solving(world: dict[str, Any]) -> None:
    """The heartbeat moves the lease on during a solve; the finished run holds none."""
    from dispatch.planning.runs import RunSettings

    factory = world["factory"]
    run_id = _queue(factory, world["area_id"])
    solver = LeaseWatcher(factory, run_id)
    settings = RunSettings(heartbeat_s=0.2)
    execute_run(factory, GeoContext(), solver, run_id, clock=FixedClock(NOW), settings=settings)
    leases = [lease for lease in solver.leases if lease is not None]
    assert len(leases) == 3 and leases[0] < leases[-1]
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None and run.status == "succeeded" and run.lease_expires_at is None


@pytest.fixture
def busy_day(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Five engineers with a 30-minute lunch in 12:00-13:00 and twenty visits over the day."""
    with migrated_factory(backend, tmp_path) as factory:
        with unit_of_work(factory) as session:
            area = create_area(session, half=0.2)
            for i in range(5):
                create_engineer(
                    session, area=area, name=f"Engineer {i}", home=(31.15 + 0.03 * i, 121.40)
                )
            customer = create_customer(session)
            for i in range(20):
                site = create_site(
                    session,
                    customer=customer,
                    at=(31.10 + 0.013 * i, 121.35 + 0.011 * (i % 7)),
                    name=f"Plant {i}",
                )
                hour = 1 + (i % 8)  # 09:00 to 16:00 in Shanghai
                take_request(
                    session,
                    now=NOW,
                    actor="test",
                    site_id=site.id,
                    channel="phone",
                    tier="general",
                    service_minutes=50,
                    availability=[
                        {"start": NOW.replace(hour=hour), "end": NOW.replace(hour=hour + 2)}
                    ],
                )
            area_id = area.id
        yield {"factory": factory, "area_id": area_id}


def test_a_re_plan_keeps_every_lunch_break(busy_day: dict[str, Any]) -> None:
    """Runs started from the plan in force keep each engineer's break inside its window, as
    the independent checker sees the published routes."""
    factory = busy_day["factory"]
    for _ in range(3):
        run = _run(factory, busy_day["area_id"])
        assert run.status == "succeeded", run.failure_reason
        with factory() as session:
            assert check_published_routes(session) == run.kpis_after["assigned"] > 10


def test_a_run_for_tomorrow_does_not_take_todays_promises(world: dict[str, Any]) -> None:
    """Requests promised for today and not yet planned stay for today's plan: a run for
    tomorrow leaves them out (unless the dispatcher brings other days in)."""
    factory = world["factory"]
    tomorrow = NOW.date() + timedelta(days=1)
    run = _run(factory, world["area_id"], horizon_start=tomorrow)
    assert run.status == "succeeded", run.failure_reason
    assert run.kpis_before["assigned"] + run.kpis_before["unassigned"] == 0
    assert _visits(factory) == []
    widened = _run(factory, world["area_id"], horizon_start=tomorrow, include_other_days=True)
    assert widened.kpis_before["unassigned"] == 4


def test_a_visit_running_past_the_shift_end_does_not_fail_the_run(world: dict[str, Any]) -> None:
    """An engineer on site whose job will run past the end of their shift (and past their
    break window) finishes it and their day; the run re-plans everyone else."""
    from dispatch.field.service import report_visit_event

    factory = world["factory"]
    _run(factory, world["area_id"])
    with factory() as session:
        visit = session.scalars(select(Visit).order_by(Visit.planned_start)).first()
        assert visit is not None
        visit_id, engineer_id = visit.id, visit.engineer_id
    late = NOW.replace(hour=8, minute=40)  # 16:40 in Shanghai; the shift ends at 17:00
    with unit_of_work(factory) as session:
        for kind in ("accepted", "en_route", "arrived"):
            report_visit_event(
                session,
                GeoContext(),
                engineer_id=engineer_id,
                visit_id=visit_id,
                type_=kind,
                at=late,
                now=late,
                actor="test",
            )
        session.get(RepairRequest, visit.request_id).service_minutes = 60  # type: ignore[union-attr]
    with unit_of_work(factory) as session:
        run = create_run(
            session,
            area_ids=[world["area_id"]],
            horizon_start=NOW.date(),
            days=1,
            time_limit_s=1,
            actor="test",
            now=late,
        )
        run_id = run.id
    execute_run(factory, GeoContext(), InlineSolver(), run_id, clock=FixedClock(late))
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None and run.status == "succeeded", run.failure_reason
        assert any(n["kind"] == "left_as_is" for n in run.notes)
        kept = session.get(Visit, visit_id)
        assert kept is not None and kept.status == "arrived"


def test_without_locks_a_problem_releases_them_with_a_note(world: dict[str, Any]) -> None:
    """The fallback of a run that cannot keep its locks: dispatchers' locks are released, each
    with a lock_broken note, and no freeze lock is made."""
    from dispatch.planning.manual import lock_visit
    from dispatch.planning.problem import build_problem, job_key
    from dispatch.planning.snapshot import read_snapshot

    factory = world["factory"]
    _run(factory, world["area_id"])
    with unit_of_work(factory) as session:
        visit = session.scalars(select(Visit).order_by(Visit.planned_start)).first()
        assert visit is not None
        lock_visit(session, visit.id, kind="both", arrival=None, actor="dispatcher", now=NOW)
        request_id = visit.request_id
    with factory() as session:
        snapshot = read_snapshot(
            session, area_ids=[world["area_id"]], horizon_start=NOW.date(), days=1, now=NOW
        )
    kept = build_problem(snapshot, GeoContext())
    released = build_problem(snapshot, GeoContext(), keep_locks=False)
    assert kept.problem.job(job_key(request_id)).lock is not None  # type: ignore[union-attr]
    assert all(j.lock is None for j in released.problem.jobs)
    assert request_id in released.broken_locks
    assert [n.kind for n in released.notes if n.request_id == request_id] == ["lock_broken"]
