"""The outbox of events for the outside world, webhook subscriptions and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy import false as sql_false
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, TimestampMixin, enum_check, utcnow
from dispatch.models.enums import AlertState, DeliveryStatus


class OutboxEvent(Base):
    """An event someone outside may care about, written in the transaction of the change it
    tells of. Rows are only added; fanning out to subscriptions marks them."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_pending", "fanned_out", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("repair_requests.id", ondelete="SET NULL"), index=True
    )
    external_ref: Mapped[str | None] = mapped_column(String(120))
    service_area_id: Mapped[int | None] = mapped_column(Integer)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Only for a test-fire: the one subscription the event is for.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sql_false())


class WebhookSubscription(TimestampMixin, Base):
    """A receiver of events: where, which types, which areas (None: all), and its secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    service_area_ids: Mapped[list[int] | None] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # "event": the event's JSON; "customer_message": the message to the customer, rendered in
    # their language, with their contact (for an SMS or e-mail gateway).
    format: Mapped[str] = mapped_column(String(24), default="event", server_default="event")
    created_by: Mapped[str] = mapped_column(String(120))


class WebhookDelivery(TimestampMixin, Base):
    """One event for one subscription: pending until the receiver answers 2xx, retried with
    backoff, dead once the retry time is up (replayable)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        CheckConstraint(enum_check("status", DeliveryStatus), name="status_valid"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None]


class Alert(TimestampMixin, Base):
    """Something that needs doing, found by the alert rules on their schedule. One alert per
    condition (``key``) until it is resolved; acknowledged says someone has it in hand."""

    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(enum_check("state", AlertState), name="state_valid"),
        Index(
            "uq_alerts_open_key",
            "key",
            unique=True,
            sqlite_where=text("state != 'resolved'"),
            postgresql_where=text("state != 'resolved'"),
        ),
        Index("ix_alerts_state_area", "state", "service_area_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16), default=AlertState.OPEN.value)
    severity: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("repair_requests.id", ondelete="CASCADE"), index=True
    )
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id", ondelete="CASCADE"))
    service_area_id: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(500))
    suggested_action: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))
    resolved_at: Mapped[datetime | None]
