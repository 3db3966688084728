"""The demo data set: realistic, deterministic, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.demo import load_demo
from dispatch.models import Engineer, ServiceArea, Site


def test_demo_loads_two_cities_engineers_and_sites(session: Session) -> None:
    """Two based cities, 25 engineers, sites inside and outside the cities."""
    counts = load_demo(session)
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


def test_demo_twice_changes_nothing(session: Session) -> None:
    """A second load adds nothing."""
    load_demo(session)
    again = load_demo(session)
    assert set(again.values()) == {0}
