"""What the live stream shows a reader: the outbox's events after a given one, filtered by who
reads (an engineer sees only events of requests they hold or held a visit for; staff see every
area, or the areas they ask for). Read from the database, so every API process's stream sees
every process's changes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import OutboxEvent, Visit

BATCH = 200


def latest_id(session: Session) -> int:
    """The newest event's id (0: none yet): a new reader starts after it."""
    return int(session.scalar(select(func.max(OutboxEvent.id))) or 0)


def events_after(
    session: Session,
    after_id: int,
    *,
    engineer_id: int | None = None,
    area_ids: Sequence[int] | None = None,
    limit: int = BATCH,
) -> list[OutboxEvent]:
    """Events after ``after_id``, oldest first, that the reader may see (never test-fires)."""
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.id > after_id, OutboxEvent.subscription_id.is_(None))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if engineer_id is not None:
        mine = select(Visit.request_id).where(Visit.engineer_id == engineer_id)
        stmt = stmt.where(OutboxEvent.request_id.in_(mine))
    if area_ids:
        stmt = stmt.where(OutboxEvent.service_area_id.in_(area_ids))
    return list(session.scalars(stmt))


__all__ = ["events_after", "latest_id"]
