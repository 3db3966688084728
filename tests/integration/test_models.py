"""Database-level guarantees: constraints, UTC timestamps, the append-only timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.models import EngineerSkill, RepairRequest, RequestEvent, Skill
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site


def _request(session: Session) -> RepairRequest:
    area = create_area(session)
    create_engineer(session, area=area)
    site = create_site(session, customer=create_customer(session), at=(31.24, 121.48))
    request = RepairRequest(
        external_ref="CASE-1",
        site_id=site.id,
        channel="phone",
        service_minutes=60,
        received_at=datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8))),
    )
    session.add(request)
    session.flush()
    return request


def test_timestamps_come_back_aware_utc(session: Session) -> None:
    """A +08:00 timestamp is stored and read back as the same instant in UTC."""
    request = _request(session)
    session.expire_all()
    stored = session.get(RepairRequest, request.id)
    assert stored is not None
    assert stored.received_at == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert stored.received_at.tzinfo is not None and stored.received_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session: Session) -> None:
    """A naive datetime cannot be written: its zone would be a guess."""
    request = _request(session)
    request.promised_at = datetime(2026, 11, 23, 9, 0)
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_skill_level_outside_one_to_five_is_refused_by_the_database(session: Session) -> None:
    """The CHECK constraint keeps levels in 1..5 even for writes that bypass the services."""
    engineer = create_engineer(session, area=create_area(session), skills={})
    skill = Skill(code="welding", name="Welding")
    session.add(skill)
    session.flush()
    session.add(EngineerSkill(engineer_id=engineer.id, skill_id=skill.id, level=6))
    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session: Session) -> None:
    """A request pointing at a missing site is refused (SQLite included: foreign_keys=ON)."""
    session.add(RepairRequest(external_ref="X", site_id=4242, channel="phone", service_minutes=30))
    with pytest.raises(IntegrityError):
        session.flush()


def test_request_events_are_append_only(session: Session) -> None:
    """Timeline rows can be added but never changed or deleted."""
    request = _request(session)
    event = RequestEvent(request_id=request.id, type="created", actor="test", payload={})
    session.add(event)
    session.flush()
    event.type = "rewritten"
    with pytest.raises(ValueError, match="cannot change"):
        session.flush()
    session.rollback()


def test_version_column_detects_concurrent_writers(engine) -> None:  # type: ignore[no-untyped-def]
    """Two sessions editing the same customer: the second, stale write fails."""
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.orm.exc import StaleDataError

    from dispatch.models import Customer

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as s:
        customer = create_customer(s, name="Concurrent Co")
        s.commit()
        cid = customer.id
    try:
        with factory() as a, factory() as b:
            # b reads (a dispatcher's screen), then a writes, then b writes from its stale copy.
            second = b.get(Customer, cid)
            b.commit()
            first = a.get(Customer, cid)
            assert first is not None and second is not None
            first.phone = "1"
            a.commit()
            second.phone = "2"
            with pytest.raises(StaleDataError):
                b.commit()
    finally:
        with factory() as s:
            s.execute(text("DELETE FROM customers WHERE id = :id"), {"id": cid})
            s.commit()
