"""Bookings taken at once by several API processes (each with its own capacity cache) into the
same area: none is refused for a clash with another, and no engineer is booked twice; and a
process's capacity catches up with the others' bookings without rebuilding itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.db import unit_of_work
from dispatch.geo_support import GeoContext
from dispatch.models import Engineer, RepairRequest, Site, Visit
from dispatch.planning import manual, timing
from dispatch.planning.capacity import CapacityIndex, insertion_options, predict
from dispatch.requests.intake import take_request
from tests.conftest import migrated_factory
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
PROCESSES = 3
EACH = 6


@pytest.fixture
def area_with_sites(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with migrated_factory(backend, tmp_path) as factory:
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


class CountingIndex(CapacityIndex):
    """A capacity index that counts its full rebuilds."""

    def __init__(self) -> None:
        super().__init__()
        self.builds = 0

    def _build(self, *args: Any, **kwargs: Any) -> Any:
        self.builds += 1
        return super()._build(*args, **kwargs)


def _book(factory: sessionmaker[Session], capacity: CapacityIndex, site: int, at: int) -> None:
    with unit_of_work(factory) as session:
        take_request(
            session,
            now=NOW + timedelta(minutes=at),
            actor="test",
            geo=GeoContext(),
            capacity=capacity,
            site_id=site,
            channel="online",
            tier="general",
            service_minutes=30,
        )


def _routes(context: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (r.engineer_id, r.day, tuple((v.job_id, v.arrival, v.start) for v in r.visits))
        for r in context.routes
    )


def test_a_context_refreshed_after_another_process_booked_answers_as_a_rebuilt_one(
    area_with_sites: dict[str, Any],
) -> None:
    """Process B's capacity, built before process A booked three requests, catches up without
    a rebuild: its routes are those a fresh build times, and it answers the next booking's quote
    as a fresh build does."""
    factory: sessionmaker[Session] = area_with_sites["factory"]
    sites: list[int] = area_with_sites["sites"]
    a, b = CapacityIndex(), CountingIndex()
    geo = GeoContext()
    with factory() as session:
        area_id = session.scalar(select(Site.base_area_id).where(Site.id == sites[0]))
        b.context(session, geo, area_id, NOW)
    assert b.builds == 1
    for i, site in enumerate(sites[:3]):
        _book(factory, a, site, i)
    later = NOW  # as when B built it: only the bookings differ
    with factory() as session:
        refreshed = b.context(session, geo, area_id, later)
        rebuilt = CapacityIndex().context(session, geo, area_id, later)
    assert b.builds == 1, "the context was rebuilt instead of refreshed"
    assert sum(len(r.visits) for r in refreshed.routes) == 3
    assert _routes(refreshed) == _routes(rebuilt)
    ask = {
        "site": (31.21, 121.45),
        "skills": {},
        "service_minutes": 30,
        "tier": "general",
        "windows": [(later, later + timedelta(days=2))],
        "promise_due": later + timedelta(hours=8),
    }
    mine, _, _ = insertion_options(refreshed, geo, **ask)
    theirs, _, _ = insertion_options(rebuilt, geo, **ask)
    best = lambda options: min((o.cost, o.start, o.engineer_id, o.day) for o in options)  # noqa: E731
    assert best(mine) == best(theirs)


def test_a_dispatcher_assigning_while_bookings_land_is_never_refused(
    area_with_sites: dict[str, Any],
) -> None:
    """A dispatcher assigning waiting requests to the one engineer while two processes book into
    the same days takes turns with them: no change is refused, every request has one visit, and
    the routes check out."""
    factory: sessionmaker[Session] = area_with_sites["factory"]
    sites: list[int] = area_with_sites["sites"]
    geo = GeoContext()
    waiting_sites, booked_sites = sites[:4], sites[4:]
    with unit_of_work(factory) as session:
        waiting = [
            take_request(
                session,
                now=NOW,
                actor="test",
                site_id=site,
                channel="phone",
                tier="general",
                service_minutes=30,
            ).request.id
            for site in waiting_sites
        ]
        engineer_id = session.scalars(select(Engineer.id)).one()
    # Two days ahead: bookings fill the first days, so the day has room for the dispatcher's.
    day = (NOW + timedelta(days=2, hours=8)).date()
    barrier = threading.Barrier(3)
    failures: list[str] = []

    def dispatcher() -> None:
        barrier.wait()
        for request_id in waiting:
            try:
                with unit_of_work(factory) as session:
                    manual.assign(
                        session,
                        geo,
                        request_id=request_id,
                        engineer_id=engineer_id,
                        day=day,
                        position=None,
                        dry_run=False,
                        accept_warnings=True,
                        actor="dispatcher",
                        now=NOW,
                    )
            except Exception as exc:
                failures.append(f"request {request_id}: {type(exc).__name__}: {exc}")

    def booking(n: int) -> None:
        capacity = CapacityIndex()
        barrier.wait()
        for site in booked_sites[n::2]:
            try:
                _book(factory, capacity, site, at=0)
            except Exception as exc:
                failures.append(f"site {site}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=dispatcher)] + [
        threading.Thread(target=booking, args=(n,)) for n in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with factory() as session:
        visits = session.scalars(select(Visit)).all()
        assert sorted(v.request_id for v in visits) == sorted(
            session.scalars(select(RepairRequest.id))
        )
        assert {v.request_id for v in visits if v.date == day} >= set(waiting)
        assert check_published_routes(session) == len(visits)


class BookingIndex(CapacityIndex):
    """A capacity index that counts the bookings it made from their quote."""

    def __init__(self) -> None:
        super().__init__()
        self.from_quote = 0

    def booking(self, *args: Any, **kwargs: Any) -> Any:
        found = super().booking(*args, **kwargs)
        self.from_quote += found is not None
        return found


def test_bookings_made_from_their_quote_store_the_times_a_fresh_timing_gives(
    area_with_sites: dict[str, Any],
) -> None:
    """Requests booked one after another are booked from their quote (no second reading and
    timing of the day), every stored visit starts when timing its stored route afresh says it
    does, and every request's predicted arrival is its visit's ETA (the route's other requests
    are re-timed by each booking without being read)."""
    factory: sessionmaker[Session] = area_with_sites["factory"]
    sites: list[int] = area_with_sites["sites"]
    capacity = BookingIndex()
    for site in sites[:8]:
        _book(factory, capacity, site, at=0)
    assert capacity.from_quote == 8
    geo = GeoContext()
    with factory() as session:
        visits = session.scalars(select(Visit).order_by(Visit.date, Visit.sequence)).all()
        assert len(visits) == 8
        engineer = session.scalars(select(Engineer)).one()
        for day in sorted({v.date for v in visits}):
            route = [v for v in visits if v.date == day]
            timed = timing.time_sequence(
                session, geo, engineer, day, [v.request_id for v in route], NOW
            )
            assert timed is not None
            assert [(t.request_id, t.start) for t in timed.visits] == [
                (v.request_id, v.planned_start) for v in route
            ]
        predicted = dict(
            session.execute(select(RepairRequest.id, RepairRequest.predicted_arrival)).all()
        )
        assert {v.request_id: v.eta for v in visits} == predicted
        assert check_published_routes(session) == 8


def test_a_quote_the_plan_moved_on_from_is_not_booked_from_it(
    area_with_sites: dict[str, Any],
) -> None:
    """When the area's plan changed between a quote and its booking (here a dispatcher's
    assignment into the same day), the quote is not booked from: intake then books the
    request the long way, and the routes still check out."""
    factory: sessionmaker[Session] = area_with_sites["factory"]
    sites: list[int] = area_with_sites["sites"]
    geo = GeoContext()
    capacity = BookingIndex()
    _book(factory, capacity, sites[0], at=0)
    with unit_of_work(factory) as session:
        waiting = take_request(
            session,
            now=NOW,
            actor="test",
            site_id=sites[1],
            channel="phone",
            tier="general",
            service_minutes=30,
        ).request
        engineer_id = session.scalars(select(Engineer.id)).one()
        area_id = session.scalar(select(Site.base_area_id).where(Site.id == sites[2]))
        context = capacity.context(session, geo, area_id, NOW)
        prediction = predict(
            context,
            geo,
            site=(31.2, 121.45),
            skills={},
            service_minutes=30,
            tier="general",
            earliest=NOW,
            latest=context.until,
            availability=[],
            arrival_due=NOW + timedelta(hours=8),
        )
        assert prediction.quoted is not None and prediction.day is not None
        manual.assign(
            session,
            geo,
            request_id=waiting.id,
            engineer_id=engineer_id,
            day=prediction.day,
            position=None,
            dry_run=False,
            accept_warnings=True,
            actor="dispatcher",
            now=NOW,
        )
        stale = capacity.booking(
            session,
            area_id,
            prediction.quoted,
            request_id=waiting.id,
            engineer_id=engineer_id,
            day=prediction.day,
            window_start=None,
            due=None,
            now=NOW,
        )
        assert stale is None
    _book(factory, capacity, sites[2], at=0)
    with factory() as session:
        visits = session.scalars(select(Visit)).all()
        assert len(visits) == 3
        assert check_published_routes(session) == 3


def test_a_booking_reads_a_longer_route_in_as_many_statements(
    area_with_sites: dict[str, Any],
) -> None:
    """Booking into a route of seven visits makes no more SQL statements than booking into a
    route of one: the route's requests are read together, not one by one."""
    factory: sessionmaker[Session] = area_with_sites["factory"]
    sites: list[int] = area_with_sites["sites"]
    capacity = CapacityIndex()
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        made = []
        for site in sites[:8]:
            statements.clear()
            _book(factory, capacity, site, at=0)
            made.append(len(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    with factory() as session:
        days = session.execute(select(Visit.date, func.count()).group_by(Visit.date)).all()
    assert days == [(days[0][0], 8)]  # one route, grown from one visit to eight
    assert made[-1] <= made[1]
