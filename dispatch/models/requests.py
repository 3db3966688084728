"""Repair requests, their promise and their append-only timeline."""

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
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dispatch.models.base import Base, TimestampMixin, enum_check, utcnow
from dispatch.models.customers import Site
from dispatch.models.engineers import Skill
from dispatch.models.enums import Channel, Locality, RequestStatus, Tier


class RepairRequest(TimestampMixin, Base):
    """A customer's ask for an engineer on site, with the promise made for it."""

    __tablename__ = "repair_requests"
    __table_args__ = (
        CheckConstraint(enum_check("channel", Channel), name="channel_valid"),
        CheckConstraint(enum_check("status", RequestStatus), name="status_valid"),
        CheckConstraint(f"tier IS NULL OR {enum_check('tier', Tier)}", name="tier_valid"),
        CheckConstraint(
            f"locality IS NULL OR {enum_check('locality', Locality)}", name="locality_valid"
        ),
        CheckConstraint("service_minutes > 0", name="service_minutes_positive"),
        CheckConstraint("parts_volume >= 0", name="parts_volume_non_negative"),
        CheckConstraint(
            "cancelled_by IS NULL OR cancelled_by IN ('customer', 'us')", name="cancelled_by_valid"
        ),
        CheckConstraint("window_start IS NULL OR window_end > window_start", name="window_ordered"),
        Index("ix_repair_requests_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_ref: Mapped[str] = mapped_column(String(100), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # What the keyed request asked for: a retry must ask for the same.
    idempotency_fingerprint: Mapped[str | None] = mapped_column(String(64))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    problem_type: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    service_minutes: Mapped[int] = mapped_column(Integer)
    # What the engineer must carry (parts, tools), in the unit of the engineers' van capacity.
    parts_volume: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    tier: Mapped[str | None] = mapped_column(String(16))
    tier_reason: Mapped[str | None] = mapped_column(String(300))
    # [{"start": "...Z", "end": "...Z"}]: hard windows in which the customer can receive us.
    availability: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(24), default=RequestStatus.NEW.value)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    # The promise (filled by the promise engine; kept as the request's current promise, with
    # every earlier one in the timeline).
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="RESTRICT")
    )
    policy_version: Mapped[int | None] = mapped_column(Integer)
    locality: Mapped[str | None] = mapped_column(String(16))
    service_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_areas.id", ondelete="SET NULL"), index=True
    )
    base_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_areas.id", ondelete="SET NULL")
    )
    promised_at: Mapped[datetime | None]
    first_response_due: Mapped[datetime | None]
    arrival_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    customer_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    # The instant arrival is judged against: the SLA's arrival due, or the end of the window the
    # customer chose when no availability could meet the SLA.
    arrival_target: Mapped[datetime | None]
    rule_key: Mapped[str | None] = mapped_column(String(80))
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_reason: Mapped[str | None] = mapped_column(String(500))
    promise_explanation: Mapped[str | None] = mapped_column(String(500))
    # The same account as data ({"timezone", "parts": [{"key", "params"}]}): other languages.
    promise_said: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    predicted_arrival: Mapped[datetime | None]
    plan_by: Mapped[datetime | None]
    """Plans aim to arrive by this (calibrated windows leave room for the road); None: the
    window's end."""
    acknowledged_at: Mapped[datetime | None]
    # Waiting for the customer: the resolution clock stands still from paused_at on; resuming
    # moves its due time on by the business time it stood (paused_s adds up the wall time).
    paused_at: Mapped[datetime | None]
    paused_reason: Mapped[str | None] = mapped_column(String(300))
    paused_s: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(500))
    # For cancellations: "customer" or "us" (ours count as broken promises in analytics).
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    site: Mapped[Site] = relationship(lazy="joined")
    skills: Mapped[list[RequestSkill]] = relationship(
        back_populates="request", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}


class RequestSkill(Base):
    """A skill a request needs, at a minimum level."""

    __tablename__ = "request_skills"
    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 5", name="min_level_range"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("repair_requests.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="RESTRICT"), primary_key=True
    )
    min_level: Mapped[int] = mapped_column(Integer)

    request: Mapped[RepairRequest] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")


class RequestEvent(Base):
    """One entry of a request's status timeline. Rows are only ever added."""

    __tablename__ = "request_events"
    __table_args__ = (Index("ix_request_events_request_at", "request_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("repair_requests.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@event.listens_for(RequestEvent, "before_update")
@event.listens_for(RequestEvent, "before_delete")
def _timeline_is_append_only(_mapper: Any, _connection: Any, target: RequestEvent) -> None:
    raise ValueError(f"request event {target.id} is part of the timeline and cannot change")
