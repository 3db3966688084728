"""A run over several areas split into one part per area (as a cluster's workers solve it):
each part plans its own area, and the run settles from its parts, naming any that failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import FixedClock
from dispatch.db import unit_of_work
from dispatch.geo_support import GeoContext
from dispatch.models import DispatchRun, Engineer
from dispatch.planning.runs import create_run, execute_run, settle_parent, split_run
from dispatch.planning.solver import InlineSolver
from dispatch.requests.intake import take_request
from optimizer import Plan, Problem, SolveParams
from tests.conftest import migrated_factory
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
CITIES = {"Shanghai": (31.23, 121.47), "Suzhou": (31.30, 120.62)}


@pytest.fixture
def two_cities(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with migrated_factory(backend, tmp_path) as factory:
        areas = {}
        with unit_of_work(factory) as session:
            customer = create_customer(session)
            for name, (lat, lon) in CITIES.items():
                area = create_area(session, name=name, center=(lat, lon), half=0.15)
                areas[name] = area.id
                for i in range(2):
                    create_engineer(
                        session, area=area, name=f"{name} {i}", home=(lat + 0.02 * i, lon)
                    )
                for i in range(3):
                    site = create_site(
                        session,
                        customer=customer,
                        at=(lat - 0.03 + 0.02 * i, lon + 0.02),
                        name=f"{name} plant {i}",
                    )
                    take_request(
                        session,
                        now=NOW,
                        actor="test",
                        site_id=site.id,
                        channel="phone",
                        tier="general",
                        service_minutes=45,
                    )
        yield {"factory": factory, "areas": areas}


def _split(factory: sessionmaker[Session], areas: list[int]) -> tuple[int, list[int]]:
    with unit_of_work(factory) as session:
        run_id = create_run(
            session,
            area_ids=areas,
            horizon_start=NOW.date(),
            days=1,
            time_limit_s=1,
            actor="test",
            now=NOW,
        ).id
    return run_id, split_run(factory, run_id, now=NOW)


class FailingSolver(InlineSolver):
    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        raise RuntimeError("solver process died")


def test_each_part_plans_its_own_area_and_the_run_settles_when_both_are_done(
    two_cities: dict[str, Any],
) -> None:
    """Two areas, two parts of one area each: each part routes only its area's engineers, the
    run is running until its last part finishes, then succeeded with both parts' routes."""
    factory = two_cities["factory"]
    areas = sorted(two_cities["areas"].values())
    run_id, parts = _split(factory, areas)
    assert len(parts) == 2
    assert split_run(factory, run_id, now=NOW) == []  # split once
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None and (run.status, run.part_count) == ("running", 2)
        scopes = [p.scope["service_area_ids"] for p in run.parts]
        assert scopes == [[a] for a in areas]
    execute_run(factory, GeoContext(), InlineSolver(), parts[0], clock=FixedClock(NOW))
    assert not settle_parent(factory, run_id, now=NOW)
    execute_run(factory, GeoContext(), InlineSolver(), parts[1], clock=FixedClock(NOW))
    assert settle_parent(factory, run_id, now=NOW)
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None and run.status == "succeeded" and run.failure_reason is None
        parts_plans = [r for p in run.parts for r in (p.plan or [])]
        assert run.plan == parts_plans and parts_plans
        assert run.kpis_after is not None and run.kpis_after["assigned"] == sum(
            (p.kpis_after or {})["assigned"] for p in run.parts
        )
        home = {e.id: e.service_area_id for e in session.scalars(select(Engineer))}
        for part in run.parts:
            assert part.status == "succeeded"
            assert {home[r["engineer_id"]] for r in part.plan or []} == set(
                part.scope["service_area_ids"]
            )
        assert check_published_routes(session) == 6


def test_a_failed_part_fails_the_run_naming_its_area(two_cities: dict[str, Any]) -> None:
    """One part succeeds, the other's solver dies: the run fails, saying which area and why;
    the area that succeeded keeps its published plan."""
    factory = two_cities["factory"]
    areas = sorted(two_cities["areas"].values())
    run_id, parts = _split(factory, areas)
    execute_run(factory, GeoContext(), InlineSolver(), parts[0], clock=FixedClock(NOW))
    execute_run(factory, GeoContext(), FailingSolver(), parts[1], clock=FixedClock(NOW))
    assert settle_parent(factory, run_id, now=NOW)
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None and run.status == "failed"
        assert run.failure_reason == (
            f"area {areas[1]} (run {parts[1]}): RuntimeError: solver process died"
        )
        assert run.plan == run.parts[0].plan
        assert check_published_routes(session) == 3


def test_two_transactions_creating_an_areas_first_scope_wait_for_each_other(
    two_cities: dict[str, Any],
) -> None:
    """The first plan scope of an area created by two transactions at once (two bookings, or a
    booking and a run, in different processes): the second waits for the first and then locks
    the same row, instead of failing on the primary key."""
    import threading

    from dispatch.models import PlanScope
    from dispatch.planning.publish import lock_scopes

    factory = two_cities["factory"]
    area = two_cities["areas"]["Suzhou"]
    outcome: list[object] = []
    first = factory()
    try:
        lock_scopes(first, [area])  # inserted and locked, not committed yet

        def second() -> None:
            try:
                with unit_of_work(factory) as session:
                    scope = lock_scopes(session, [area])[area]
                    scope.plan_version += 1
                outcome.append("ok")
            except Exception as exc:  # the failure this test is about
                outcome.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1.0)
        first.commit()
    finally:
        first.close()
    thread.join(timeout=30)
    assert outcome == ["ok"]
    with factory() as session:
        assert session.get(PlanScope, area).plan_version == 1
