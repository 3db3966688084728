"""The demo data set: realistic, deterministic, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.demo import load_demo
from dispatch.models import Engineer, RepairRequest, ServiceArea, Site

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def test_demo_loads_two_cities_engineers_and_sites(session: Session) -> None:
    """Two based cities, 25 engineers, sites inside and outside the cities."""
    counts = load_demo(session, now=NOW)
    assert counts["service areas"] == 2
    assert counts["engineers"] == 25
    names = set(session.scalars(select(ServiceArea.name)))
    assert names == {"Shanghai", "Hangzhou"}
    by_locality = dict(
        session.execute(select(Site.locality, func.count()).group_by(Site.locality)).all()
    )
    assert by_locality["same_city"] >= 40
    assert by_locality["out_of_town"] >= 25
    per_area = dict(
        session.execute(
            select(Engineer.service_area_id, func.count()).group_by(Engineer.service_area_id)
        ).all()
    )
    assert sorted(per_area.values()) == [11, 14]


def test_demo_day_of_requests_is_promised_and_mixed(session: Session) -> None:
    """150 requests, all promised, mixing tiers, channels and localities."""
    load_demo(session, now=NOW)
    rows = session.scalars(select(RepairRequest)).all()
    assert len(rows) == 150
    assert all(r.arrival_due is not None and r.window_end is not None for r in rows)
    assert {r.tier for r in rows} == {"urgent", "important", "general"}
    assert {r.locality for r in rows} == {"same_city", "out_of_town"}
    assert len({r.channel for r in rows}) == 5
    assert all(r.received_at <= NOW for r in rows)


def test_demo_twice_changes_nothing(session: Session) -> None:
    """A second load adds nothing."""
    load_demo(session, now=NOW)
    again = load_demo(session, now=NOW)
    assert set(again.values()) == {0}
