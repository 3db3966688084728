"""The demo: the demo scenario's days replayed through the simulator up to now, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dispatch.auth.service import authenticate
from dispatch.db import make_engine, make_session_factory
from dispatch.errors import InvalidInput
from dispatch.models import Engineer, RepairRequest, ServiceArea, Visit
from dispatch.sla import service as sla
from simulation.demo import DEMO_KEYS, load_demo
from tests.conftest import drop_postgres_database, fresh_database_url

# Tuesday 1 December 2026, 14:30 in Shanghai: the morning's visits done, the afternoon ahead.
AFTERNOON = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    url = fresh_database_url(backend, tmp_path)
    yield url
    if backend == "postgres":
        drop_postgres_database(url)


def _state(url: str) -> tuple[list[tuple[str | None, str]], list[tuple[int, str]]]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            requests = session.execute(
                select(RepairRequest.external_ref, RepairRequest.status).order_by(
                    RepairRequest.external_ref
                )
            ).all()
            visits = session.execute(
                select(Visit.request_id, Visit.status).order_by(Visit.request_id, Visit.id)
            ).all()
            return [tuple(r) for r in requests], [tuple(v) for v in visits]  # type: ignore[misc]
    finally:
        engine.dispose()


def test_the_demo_is_a_day_under_way_with_a_history(database: str) -> None:
    """Two cities, 25 engineers, yesterday served, today's visits done, under way and ahead,
    calibrated windows, and the documented keys working."""
    result = load_demo(database, now=AFTERNOON, history_days=1)
    assert result.loaded and result.days == 2
    assert result.report is not None and result.report.promises > 0
    engine = make_engine(database)
    try:
        with make_session_factory(engine)() as session:
            assert set(session.scalars(select(ServiceArea.name))) == {"Shanghai", "Hangzhou"}
            assert session.scalar(select(func.count()).select_from(Engineer)) == 25
            statuses = dict(
                session.execute(select(Visit.status, func.count()).group_by(Visit.status)).all()
            )
            assert statuses.get("completed", 0) > 10
            assert statuses.get("en_route", 0) + statuses.get("arrived", 0) > 0
            assert statuses.get("planned", 0) + statuses.get("accepted", 0) > 0
            refs = list(session.scalars(select(RepairRequest.external_ref)))
            assert refs and all(r is not None and r.startswith("CRM-") for r in refs)
            assert all(r.received_at <= AFTERNOON for r in session.scalars(select(RepairRequest)))
            assert sla.active_policy(session).policy.window_mode == "calibrated"
            for role, key in DEMO_KEYS.items():
                principal = authenticate(session, key, now=AFTERNOON)
                assert principal is not None and principal.role == role
    finally:
        engine.dispose()


def test_a_second_load_changes_nothing_and_reset_replays_the_same_day(database: str) -> None:
    """Loading again leaves the data alone; ``reset`` replays it identically (same seed)."""
    load_demo(database, now=AFTERNOON, history_days=1)
    first = _state(database)
    assert not load_demo(database, now=AFTERNOON, history_days=1).loaded
    assert _state(database) == first
    assert load_demo(database, now=AFTERNOON, history_days=1, reset=True).loaded
    assert _state(database) == first


def test_the_history_is_at_most_a_month(tmp_path: Path) -> None:
    """A history beyond 30 days is refused, naming the option."""
    with pytest.raises(InvalidInput) as raised:
        load_demo(f"sqlite:///{tmp_path / 'd.db'}", now=AFTERNOON, history_days=31)
    assert raised.value.loc == ("history_days",)
