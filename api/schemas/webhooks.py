"""Webhook subscriptions, their deliveries, and the events they carry."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas.common import Id, InputModel, OutputModel, UpdateModel
from dispatch.notify.events import EVENT_TYPES

EventType = Literal[("*", *EVENT_TYPES)]  # type: ignore[valid-type]
"""An event type (``dispatch.notify.events.EVENT_TYPES``), or "*" for every one."""
Url = Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$")]


class SubscriptionCreate(InputModel):
    url: Url = Field(description="where events are POSTed (http or https)")
    event_types: list[EventType] = Field(
        min_length=1, max_length=20, description='the event types wanted; "*" for every type'
    )
    service_area_ids: list[Id] | None = Field(
        default=None, max_length=500, description="only events of these areas (default: all)"
    )
    secret: str | None = Field(
        default=None,
        min_length=30,
        max_length=200,
        description="the signing secret (whsec_ and base64); left out, one is made and shown once",
    )
    description: str | None = Field(default=None, max_length=200)
    format: Literal["event", "customer_message"] = Field(
        default="event",
        description="event: the event's JSON; customer_message: the message to the customer "
        "(text in their language, and their phone and e-mail), for an SMS or e-mail gateway",
    )


class SubscriptionUpdate(UpdateModel):
    active: bool | None = Field(default=None, description="false pauses, true resumes")
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    url: Url | None = None


class SubscriptionRead(OutputModel):
    id: int
    url: str
    description: str | None
    event_types: list[str]
    service_area_ids: list[int] | None
    active: bool
    format: str
    created_by: str
    created_at: dt.datetime


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(description="shown only in this answer: keep it to verify signatures")


class DeliveryRead(OutputModel):
    id: int
    subscription_id: int
    event_id: int
    status: str = Field(description="pending, delivered or dead (replay with POST .../replay)")
    attempts: int
    next_attempt_at: dt.datetime
    last_attempt_at: dt.datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime


class CustomerMessageBody(OutputModel):
    """The body a ``customer_message`` subscription receives."""

    event_id: str
    type: EventType
    language: Literal["zh-CN", "en"]
    text: str = Field(description="the message, ready to send")
    to: dict[str, str | None] = Field(description="customer, name, phone, email")


class TestFired(OutputModel):
    event_id: str = Field(description="the test event's id (the webhook-id header)")


class EventEnvelope(OutputModel):
    """The body of every delivery (schema version 1). Receivers de-duplicate by ``id``."""

    id: str = Field(description="stable event id, evt_ and 32 hex digits; also webhook-id")
    type: EventType
    occurred_at: dt.datetime
    schema_version: Literal[1]
    external_ref: str | None = Field(description="the request's reference in your system")
    request_id: int | None
    service_area_id: int | None
    data: dict[str, Any] = Field(
        description="by type: promise.* give window_start, window_end, arrival_due, "
        "first_response_due, resolution_due, tier, locality, at_risk, explanation (and "
        "previous_window_start/end and reason for promise.changed); visit.assigned gives "
        "engineer, planned_arrival, window_start, window_end; engineer.en_route gives eta and "
        "the window; eta.changed gives eta, the window, inside_window and reason; "
        "engineer.arrived gives at and the window; visit.completed and visit.cannot_complete "
        "give at and reason; request.cancelled gives by and reason; visit.unassigned gives "
        "reason"
    )
