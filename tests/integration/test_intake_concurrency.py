"""Concurrent retries of one request create it once, on both databases (real commits)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from dispatch.clock import FixedClock
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work
from dispatch.models import RepairRequest, RequestEvent
from dispatch.settings import Settings
from tests.conftest import drop_postgres_database, fresh_database_url
from tests.fixtures.factories import (
    api_key,
    create_area,
    create_customer,
    create_engineer,
    create_site,
)


@pytest.fixture
def committed_world(backend: str, tmp_path: Path) -> Iterator[dict]:
    url = fresh_database_url(backend, tmp_path)
    migrate(url)
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        area = create_area(session)
        create_engineer(session, area=area, home=(31.23, 121.47))
        site = create_site(session, customer=create_customer(session), at=(31.25, 121.50))
        key = api_key(session, "service_desk")
        site_id = site.id
    yield {"url": url, "engine": engine, "site_id": site_id, "key": key}
    engine.dispose()
    if backend == "postgres":
        drop_postgres_database(url)


@pytest.mark.parametrize("by", ["idempotency_key", "external_ref"])
def test_concurrent_retries_create_one_request(committed_world: dict, by: str) -> None:
    """Six simultaneous posts of the same request: one 201, five 200, all the same id."""
    app = create_app(Settings(database_url=committed_world["url"]))
    app.state.clock = FixedClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    headers = {"Authorization": f"Bearer {committed_world['key']}"}
    # Not urgent: an urgent request would also start a re-plan, beside the point here.
    body = {"site_id": committed_world["site_id"], "channel": "phone", "tier": "important"}
    if by == "idempotency_key":
        headers["Idempotency-Key"] = "retry-42"
    else:
        body["external_ref"] = "CRM-42"
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(6)
    with TestClient(app) as client:

        def post() -> None:
            barrier.wait()
            r = client.post("/v1/requests", json=body, headers=headers)
            results.append((r.status_code, r.json().get("id") or r.text[:300]))

        threads = [threading.Thread(target=post) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    codes = sorted(code for code, _ in results)
    assert codes == [200, 200, 200, 200, 200, 201], results
    assert len({rid for _, rid in results}) == 1
    with make_session_factory(committed_world["engine"])() as session:
        assert session.scalar(select(func.count()).select_from(RepairRequest)) == 1
        # Created, promised and booked into a route once, whatever the retries.
        events = session.scalars(select(RequestEvent.type).order_by(RequestEvent.id)).all()
        assert list(events) == ["created", "promised", "assigned"]
