"""A large area's run split into geographic parts (as a cluster's workers solve it): every
request is planned by exactly one part, the parts publish the same scope one after the other
without refusing each other, and a change from outside still sends a part back to re-plan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import FixedClock
from dispatch.db import unit_of_work
from dispatch.geo_support import GeoContext
from dispatch.models import DispatchRun, Engineer, RepairRequest, Visit
from dispatch.planning import manual
from dispatch.planning.capacity import CapacityIndex
from dispatch.planning.partition import Part
from dispatch.planning.runs import create_run, execute_run, settle_parent, split_run
from dispatch.planning.snapshot import read_snapshot
from dispatch.planning.solver import InlineSolver
from dispatch.requests.intake import take_request
from optimizer import Plan, Problem, SolveParams
from tests.conftest import migrated_factory
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
WEST, EAST = (31.20, 121.35), (31.26, 121.59)


@pytest.fixture
def big_area(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """One area, three engineers in its west and three in its east, twelve requests spread
    over both (half booked into routes at intake, half waiting for the run)."""
    with migrated_factory(backend, tmp_path) as factory:
        with unit_of_work(factory) as session:
            customer = create_customer(session)
            area = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
            for side, (lat, lon) in (("west", WEST), ("east", EAST)):
                for i in range(3):
                    create_engineer(
                        session, area=area, name=f"{side} {i}", home=(lat + 0.01 * i, lon)
                    )
            capacity = CapacityIndex()
            geo = GeoContext()
            for i in range(12):
                lat, lon = WEST if i % 2 else EAST
                site = create_site(
                    session,
                    customer=customer,
                    at=(lat - 0.02 + 0.007 * i, lon + 0.01 * (i % 3)),
                    name=f"plant {i}",
                )
                take_request(
                    session,
                    now=NOW,
                    actor="test",
                    geo=geo if i < 6 else None,
                    capacity=capacity if i < 6 else None,
                    site_id=site.id,
                    channel="phone",
                    tier="general",
                    service_minutes=45,
                )
            area_id = area.id
        yield {"factory": factory, "area": area_id}


def _queue(session: Session, area: int) -> int:
    run = create_run(
        session, area_ids=[area], horizon_start=NOW.date(), days=1, time_limit_s=1, actor="test",
        now=NOW,
    )  # fmt: skip
    return run.id


def _split(factory: sessionmaker[Session], area: int) -> tuple[int, list[int]]:
    with unit_of_work(factory) as session:
        run_id = _queue(session, area)
    return run_id, split_run(factory, run_id, now=NOW, part_max_engineers=3)


def test_an_area_with_more_engineers_than_a_part_is_split_by_where_they_live(
    big_area: dict[str, Any],
) -> None:
    """Six engineers, three per part: two parts, the west's engineers in one and the east's in
    the other, and an area that fits one part is not split."""
    factory = big_area["factory"]
    _, parts = _split(factory, big_area["area"])
    assert len(parts) == 2
    with factory() as session:
        names = dict(session.execute(select(Engineer.id, Engineer.name)).all())
        groups = []
        for part_id in parts:
            part = session.get(DispatchRun, part_id)
            assert part is not None and part.scope["service_area_ids"] == [big_area["area"]]
            assert part.scope["siblings"] == [p for p in parts if p != part_id]
            found = Part.from_scope(part.scope["part"])
            assert found is not None
            groups.append({names[e].split()[0] for e in found.engineer_ids})
        assert sorted(map(sorted, groups)) == [["east"], ["west"]]
        other = _queue(session, big_area["area"])
        session.commit()
    assert split_run(factory, other, now=NOW, part_max_engineers=6) == []


def test_every_request_belongs_to_exactly_one_part(big_area: dict[str, Any]) -> None:
    """The parts' snapshots hold disjoint requests and engineers that together are the whole
    area's: no request is planned twice and none is left out."""
    factory = big_area["factory"]
    _, parts = _split(factory, big_area["area"])
    with factory() as session:
        whole = read_snapshot(
            session, area_ids=[big_area["area"]], horizon_start=NOW.date(), days=1, now=NOW
        )
        jobs: list[int] = []
        engineers: list[int] = []
        for part_id in parts:
            run = session.get(DispatchRun, part_id)
            assert run is not None
            snap = read_snapshot(
                session,
                area_ids=[big_area["area"]],
                horizon_start=NOW.date(),
                days=1,
                now=NOW,
                part=Part.from_scope(run.scope["part"]),
            )
            assert snap.jobs and snap.engineers
            jobs += [j.request_id for j in snap.jobs]
            engineers += [e.id for e in snap.engineers]
    assert sorted(jobs) == sorted(j.request_id for j in whole.jobs)
    assert sorted(engineers) == sorted(e.id for e in whole.engineers)


def test_the_parts_publish_one_after_the_other_and_every_request_is_planned_once(
    big_area: dict[str, Any],
) -> None:
    """Both parts publish the same area (the second over the first's new plan version), the run
    settles succeeded, every request has one visit, and the routes check out."""
    factory = big_area["factory"]
    run_id, parts = _split(factory, big_area["area"])
    for part_id in reversed(parts):
        execute_run(factory, GeoContext(), InlineSolver(), part_id, clock=FixedClock(NOW))
    assert settle_parent(factory, run_id, now=NOW)
    with factory() as session:
        run = session.get(DispatchRun, run_id)
        assert run is not None and run.status == "succeeded", run.failure_reason
        assert all(p.attempts == 1 for p in run.parts)
        visits = session.scalars(select(Visit)).all()
        assert len(visits) == len({v.request_id for v in visits})
        assert session.scalar(select(func.count()).select_from(RepairRequest)) == 12
        assert (run.kpis_after or {})["assigned"] + (run.kpis_after or {})["unassigned"] == 12
        assert check_published_routes(session) == len(visits) == 12


class MeddlingSolver(InlineSolver):
    """Solves, but the first time a dispatcher moves a visit meanwhile (into an engineer of the
    part being solved)."""

    def __init__(self, factory: sessionmaker[Session], request_id: int, engineer_id: int) -> None:
        super().__init__()
        self.factory, self.request_id, self.engineer_id = factory, request_id, engineer_id
        self.meddled = False

    def solve(self, problem: Problem, params: SolveParams) -> Plan:
        if not self.meddled:
            self.meddled = True
            with unit_of_work(self.factory) as session:
                manual.assign(
                    session,
                    GeoContext(),
                    request_id=self.request_id,
                    engineer_id=self.engineer_id,
                    day=NOW.date(),
                    position=None,
                    dry_run=False,
                    accept_warnings=True,
                    actor="dispatcher",
                    now=NOW,
                )
        return super().solve(problem, params)


def test_a_change_from_outside_still_sends_a_part_back_to_re_plan(
    big_area: dict[str, Any],
) -> None:
    """While the second part solves, a dispatcher moves one of the first part's requests to an
    engineer of the second: the sibling's publish is allowed for, the dispatcher's change is
    not, so the second part plans again (with the moved visit) and nothing is double-booked."""
    factory = big_area["factory"]
    run_id, (first, second) = _split(factory, big_area["area"])
    execute_run(factory, GeoContext(), InlineSolver(), first, clock=FixedClock(NOW))
    with factory() as session:
        part = session.get(DispatchRun, second)
        assert part is not None
        found = Part.from_scope(part.scope["part"])
        assert found is not None
        theirs = session.scalars(
            select(Visit.request_id).where(Visit.engineer_id.not_in(found.engineer_ids))
        ).first()
        assert theirs is not None
    solver = MeddlingSolver(factory, theirs, found.engineer_ids[0])
    execute_run(factory, GeoContext(), solver, second, clock=FixedClock(NOW))
    assert settle_parent(factory, run_id, now=NOW)
    with factory() as session:
        part = session.get(DispatchRun, second)
        assert part is not None and part.status == "succeeded" and part.attempts == 2
        visit = session.scalars(select(Visit).where(Visit.request_id == theirs)).one()
        assert visit.engineer_id in found.engineer_ids
        visits = session.scalars(select(Visit)).all()
        assert len(visits) == len({v.request_id for v in visits})
        assert check_published_routes(session) == len(visits)
