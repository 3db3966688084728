"""Webhook subscriptions (admins): create, list, pause or resume, delete, test-fire; and their
deliveries, dead letters included, with replay."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status

from api.deps import AdminUser, ClockDep, PagingDep, SessionDep
from api.schemas.common import Id, Page
from api.schemas.webhooks import (
    CustomerMessageBody,
    DeliveryRead,
    EventEnvelope,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionRead,
    SubscriptionUpdate,
    TestFired,
)
from dispatch.notify import webhooks as service

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


def _settings(request: Request) -> service.WebhookSettings:
    return request.app.state.webhook_settings


@router.post(
    "/subscriptions", response_model=SubscriptionCreated, status_code=status.HTTP_201_CREATED
)
def create_subscription(
    body: SubscriptionCreate, request: Request, session: SessionDep, user: AdminUser
) -> SubscriptionCreated:
    """Subscribe a receiver; the answer is the only time the secret is shown."""
    created = service.create_subscription(
        session,
        _settings(request),
        url=body.url,
        event_types=body.event_types,
        service_area_ids=body.service_area_ids,
        secret=body.secret,
        description=body.description,
        format=body.format,
        actor=user.name,
    )
    read = SubscriptionRead.model_validate(created)
    return SubscriptionCreated(**read.model_dump(), secret=created.secret)


@router.get("/subscriptions", response_model=Page[SubscriptionRead])
def list_subscriptions(session: SessionDep, user: AdminUser, paging: PagingDep) -> dict[str, Any]:
    """Every subscription (never its secret)."""
    page = service.list_subscriptions(session, limit=paging.limit, offset=paging.offset)
    return Page.of(page, SubscriptionRead.model_validate)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
def get_subscription(subscription_id: Id, session: SessionDep, user: AdminUser) -> Any:
    return SubscriptionRead.model_validate(service.get_subscription(session, subscription_id))


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
def update_subscription(
    subscription_id: Id,
    body: SubscriptionUpdate,
    request: Request,
    session: SessionDep,
    user: AdminUser,
) -> Any:
    """Pause (``active: false``) or resume a subscription, or change its types or URL."""
    updated = service.update_subscription(
        session,
        _settings(request),
        subscription_id,
        active=body.active,
        event_types=body.event_types,
        url=body.url,
    )
    return SubscriptionRead.model_validate(updated)


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(subscription_id: Id, session: SessionDep, user: AdminUser) -> None:
    """Remove a subscription and its deliveries."""
    service.delete_subscription(session, subscription_id)


@router.post(
    "/subscriptions/{subscription_id}/test",
    response_model=TestFired,
    status_code=status.HTTP_202_ACCEPTED,
)
def test_fire(
    subscription_id: Id, session: SessionDep, user: AdminUser, clock: ClockDep
) -> TestFired:
    """Send a ``webhook.test`` event to this subscription (delivered like any other)."""
    return TestFired(event_id=service.test_fire(session, subscription_id, now=clock.now()).event_id)


@router.get("/deliveries", response_model=Page[DeliveryRead])
def list_deliveries(
    session: SessionDep,
    user: AdminUser,
    paging: PagingDep,
    subscription_id: Id | None = None,
    status_: Annotated[
        Literal["pending", "delivered", "dead"] | None, Query(alias="status")
    ] = None,
) -> dict[str, Any]:
    """Deliveries, newest first; ``status=dead`` lists the dead letters."""
    page = service.list_deliveries(
        session,
        subscription_id=subscription_id,
        status=status_,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page.of(page, DeliveryRead.model_validate)


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryRead)
def replay(delivery_id: Id, session: SessionDep, user: AdminUser, clock: ClockDep) -> Any:
    """Send a dead (or delivered) delivery again, with the same event id."""
    return DeliveryRead.model_validate(service.replay(session, delivery_id, now=clock.now()))


@router.get("/example-event", response_model=EventEnvelope)
def example_event(user: AdminUser) -> Any:
    """An example of a delivery's body (its schema is ``EventEnvelope``)."""
    return EventEnvelope(
        id="evt_0123456789abcdef0123456789abcdef",
        type="engineer.en_route",
        occurred_at="2026-12-01T06:05:00+00:00",  # type: ignore[arg-type]
        schema_version=1,
        external_ref="CRM-4711",
        request_id=42,
        service_area_id=1,
        data={
            "eta": "2026-12-01T06:40:00+00:00",
            "window_start": "2026-12-01T06:00:00+00:00",
            "window_end": "2026-12-01T08:00:00+00:00",
        },
    )


@router.get("/example-message", response_model=CustomerMessageBody)
def example_message(user: AdminUser) -> Any:
    """An example of what a ``customer_message`` subscription receives (schema
    ``CustomerMessageBody``)."""
    return CustomerMessageBody(
        event_id="evt_0123456789abcdef0123456789abcdef",
        type="engineer.en_route",
        language="zh-CN",
        text="Onsite：工程师Wei已出发处理 CRM-4711，预计 14:40 到达。",
        to={
            "customer": "Huadong Foods",
            "name": "Li Na",
            "phone": "+86 21 5555 0101",
            "email": None,
        },
    )
