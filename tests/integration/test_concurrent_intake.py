"""Bookings taken at once by several API processes (each with its own capacity cache) into the
same area: none is refused for a clash with another, and no engineer is booked twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work
from dispatch.geo_support import GeoContext
from dispatch.models import RepairRequest, Visit
from dispatch.planning.capacity import CapacityIndex
from dispatch.requests.intake import take_request
from tests.conftest import drop_postgres_database, fresh_database_url
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
PROCESSES = 3
EACH = 6


@pytest.fixture
def area_with_sites(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = fresh_database_url(backend, tmp_path)
    migrate(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            customer = create_customer(session)
            area = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
            # One engineer: every booking lands in the same few engineer-days.
            create_engineer(session, area=area, name="Shanghai 0", home=(31.23, 121.47))
            sites = [
                create_site(
                    session,
                    customer=customer,
                    at=(31.18 + 0.01 * (i % 9), 121.42 + 0.012 * (i % 7)),
                    name=f"plant {i}",
                ).id
                for i in range(PROCESSES * EACH)
            ]
        yield {"factory": factory, "sites": sites}
    finally:
        engine.dispose()
        if backend == "postgres":
            drop_postgres_database(url)


def test_bookings_taken_at_once_by_several_processes_all_land(
    area_with_sites: dict[str, Any],
) -> None:
    """Three "processes" (threads, each with its own capacity index) book six requests each into
    one engineer's days at the same time: every booking succeeds, each request has one visit,
    and the routes check out."""
    factory: sessionmaker[Session] = area_with_sites["factory"]
    sites: list[int] = area_with_sites["sites"]
    geo = GeoContext()
    barrier = threading.Barrier(PROCESSES)
    failures: list[str] = []

    def process(n: int) -> None:
        capacity = CapacityIndex()
        barrier.wait()
        for site in sites[n::PROCESSES]:
            try:
                with unit_of_work(factory) as session:
                    take_request(
                        session,
                        now=NOW,
                        actor="test",
                        geo=geo,
                        capacity=capacity,
                        site_id=site,
                        channel="online",
                        tier="general",
                        service_minutes=30,
                    )
            except Exception as exc:
                failures.append(f"site {site}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=process, args=(n,)) for n in range(PROCESSES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(RepairRequest)) == len(sites)
        visits = session.scalars(select(Visit)).all()
        assert sorted(v.request_id for v in visits) == sorted(
            session.scalars(select(RepairRequest.id))
        )
        assert check_published_routes(session) == len(visits)
