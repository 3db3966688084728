"""SQL for repair requests and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from dispatch.models import RepairRequest, RequestEvent, Site


def find_existing(
    session: Session, *, external_ref: str | None, idempotency_key: str | None
) -> RepairRequest | None:
    conditions = []
    if external_ref is not None:
        conditions.append(RepairRequest.external_ref == external_ref)
    if idempotency_key is not None:
        conditions.append(RepairRequest.idempotency_key == idempotency_key)
    if not conditions:
        return None
    return session.scalar(select(RepairRequest).where(or_(*conditions)).limit(1))


def by_external_ref(session: Session, external_ref: str) -> RepairRequest | None:
    return session.scalar(select(RepairRequest).where(RepairRequest.external_ref == external_ref))


def requests_query(
    *,
    status: str | None = None,
    service_area_id: int | None = None,
    tier: str | None = None,
    locality: str | None = None,
    customer_id: int | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
) -> Select[Any]:
    stmt = select(RepairRequest).order_by(RepairRequest.received_at, RepairRequest.id)
    if status:
        stmt = stmt.where(RepairRequest.status == status)
    if service_area_id is not None:
        stmt = stmt.where(
            or_(
                RepairRequest.service_area_id == service_area_id,
                RepairRequest.base_area_id == service_area_id,
            )
        )
    if tier:
        stmt = stmt.where(RepairRequest.tier == tier)
    if locality:
        stmt = stmt.where(RepairRequest.locality == locality)
    if customer_id is not None:
        stmt = stmt.where(
            RepairRequest.site_id.in_(select(Site.id).where(Site.customer_id == customer_id))
        )
    if received_from is not None:
        stmt = stmt.where(RepairRequest.received_at >= received_from)
    if received_to is not None:
        stmt = stmt.where(RepairRequest.received_at < received_to)
    return stmt


def timeline(session: Session, request_id: int) -> list[RequestEvent]:
    return list(
        session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .order_by(RequestEvent.at, RequestEvent.id)
        )
    )
