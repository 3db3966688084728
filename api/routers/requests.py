"""Repair requests and promises: intake, quotes, corrections, acknowledgement, cancellation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status

from api.deps import (
    CapacityDep,
    ClockDep,
    CurrentUser,
    GeoDep,
    IntakeDep,
    PagingDep,
    RunnerDep,
    SessionDep,
)
from api.schemas.common import Page
from api.schemas.requests import (
    Acknowledge,
    Cancel,
    CapacityRead,
    EventRead,
    QuoteCreate,
    QuoteRead,
    RequestCreate,
    RequestRead,
    RequestUpdate,
    SlotQuery,
    SlotRead,
)
from dispatch import intake
from dispatch.auth.principal import STAFF
from dispatch.requests import service
from dispatch.requests.service import promise_payload

router = APIRouter(prefix="/v1", tags=["requests and promises"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="retries with the same key return the original request",
    ),
]


@router.post("/promises/quote", response_model=QuoteRead)
def quote(
    body: QuoteCreate,
    session: SessionDep,
    geo: GeoDep,
    capacity: CapacityDep,
    clock: ClockDep,
    user: CurrentUser,
) -> dict[str, Any]:
    """The promise a request would get now, with the arrival current capacity allows."""
    user.require(*STAFF)
    promise, prediction = intake.quote(
        session,
        geo,
        capacity,
        now=clock.now(),
        site_id=body.site_id,
        lat=body.location.lat if body.location else None,
        lon=body.location.lon if body.location else None,
        customer_id=body.customer_id,
        tier=body.tier,
        problem_type=body.problem_type,
        skills=[s.model_dump() for s in body.skills],
        service_minutes=body.service_minutes,
        availability=[w.model_dump() for w in body.availability],
    )
    return promise_payload(promise) | {
        "capacity": prediction.as_dict() if prediction is not None else None
    }


@router.post("/promises/slots", response_model=list[SlotRead])
def slots(
    body: SlotQuery,
    session: SessionDep,
    geo: GeoDep,
    capacity: CapacityDep,
    clock: ClockDep,
    user: CurrentUser,
) -> list[dict[str, Any]]:
    """Arrival windows current capacity can keep, best first; book one with ``slot``."""
    user.require(*STAFF)
    return intake.offer_slots(
        session,
        geo,
        capacity,
        now=clock.now(),
        site_id=body.site_id,
        tier=body.tier,
        problem_type=body.problem_type,
        skills=[s.model_dump() for s in body.skills],
        service_minutes=body.service_minutes,
        slot_minutes=body.slot_minutes,
        limit=body.limit,
    )


@router.post(
    "/requests",
    response_model=RequestRead,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "a retry: the original request and promise"}},
)
def create_request(
    body: RequestCreate,
    response: Response,
    session: SessionDep,
    geo: GeoDep,
    capacity: CapacityDep,
    runner: RunnerDep,
    settings: IntakeDep,
    clock: ClockDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> RequestRead:
    """Take a repair request and answer with its capacity-aware promise."""
    user.require(*STAFF)
    data = body.model_dump(exclude={"skills", "availability", "slot"})
    taken = intake.take_request(
        session,
        geo,
        capacity,
        runner,
        settings,
        now=clock.now(),
        actor=user.actor,
        idempotency_key=idempotency_key,
        skills=[s.model_dump() for s in body.skills],
        availability=[w.model_dump() for w in body.availability],
        slot=body.slot.model_dump() if body.slot else None,
        **data,
    )
    if not taken.created:
        response.status_code = status.HTTP_200_OK
    read = RequestRead.of(taken.request)
    if taken.prediction is not None:
        read.capacity = CapacityRead.model_validate(taken.prediction.as_dict())
    read.inserted = taken.inserted
    read.replan_run_id = taken.replan_run_id
    return read


@router.get("/requests", response_model=Page[RequestRead])
def list_requests(
    session: SessionDep,
    user: CurrentUser,
    paging: PagingDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    service_area_id: int | None = None,
    tier: Annotated[str | None, Query(pattern="^(urgent|important|general)$")] = None,
    locality: Annotated[str | None, Query(pattern="^(same_city|out_of_town)$")] = None,
    customer_id: int | None = None,
    received_from: Annotated[dt.datetime | None, Query(alias="from")] = None,
    received_to: Annotated[dt.datetime | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Requests by received time, filtered by status, area, tier, locality, customer and dates."""
    user.require(*STAFF)
    page = service.list_requests(
        session,
        limit=paging.limit,
        offset=paging.offset,
        status=status_,
        service_area_id=service_area_id,
        tier=tier,
        locality=locality,
        customer_id=customer_id,
        received_from=received_from,
        received_to=received_to,
    )
    return Page.of(page, RequestRead.of)


@router.get("/requests/by-ref/{external_ref}", response_model=RequestRead)
def get_by_ref(external_ref: str, session: SessionDep, user: CurrentUser) -> RequestRead:
    """Look a request up by its external reference."""
    user.require(*STAFF)
    return RequestRead.of(service.get_by_external_ref(session, external_ref))


@router.get("/requests/{request_id}", response_model=RequestRead)
def get_request(request_id: int, session: SessionDep, user: CurrentUser) -> RequestRead:
    """One request with its current promise."""
    user.require(*STAFF)
    return RequestRead.of(service.get_request_or_raise(session, request_id))


@router.get("/requests/{request_id}/events", response_model=list[EventRead])
def get_events(request_id: int, session: SessionDep, user: CurrentUser) -> list[EventRead]:
    """The request's timeline, oldest first."""
    user.require(*STAFF)
    return [EventRead.model_validate(e) for e in service.timeline(session, request_id)]


@router.patch("/requests/{request_id}", response_model=RequestRead)
def correct_request(
    request_id: int, body: RequestUpdate, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> RequestRead:
    """Correct a request; a changed tier, site, skills, duration or availability re-promises."""
    user.require(*STAFF)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    request = service.correct_request(
        session,
        request_id,
        changes=changes,
        expected_version=body.version,
        actor=user.actor,
        now=clock.now(),
    )
    return RequestRead.of(request)


@router.post("/requests/{request_id}/acknowledge", response_model=RequestRead)
def acknowledge(
    request_id: int, body: Acknowledge, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> RequestRead:
    """Record the first response (first effective contact), once."""
    user.require(*STAFF)
    request = service.acknowledge(
        session, request_id, actor=user.actor, now=clock.now(), at=body.at, note=body.note
    )
    return RequestRead.of(request)


@router.post("/requests/{request_id}/cancel", response_model=RequestRead)
def cancel(
    request_id: int,
    body: Cancel,
    session: SessionDep,
    geo: GeoDep,
    clock: ClockDep,
    user: CurrentUser,
) -> RequestRead:
    """Cancel a request with a reason (by the customer, or by us); its visit leaves the route."""
    user.require(*STAFF)
    request = intake.cancel(
        session,
        geo,
        request_id,
        reason=body.reason,
        by=body.by,
        actor=user.actor,
        now=clock.now(),
    )
    return RequestRead.of(request)
