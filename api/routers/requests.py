"""Repair requests and promises: intake, quotes, corrections, acknowledgement, cancellation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import ValidationError

from api.deps import (
    CapacityDep,
    ClockDep,
    GeoDep,
    IntakeDep,
    IntakeTurn,
    PagingDep,
    RunnerDep,
    SessionDep,
    StaffUser,
)
from api.schemas.common import ErrorItem, Id, Instant, Page, QueryText
from api.schemas.requests import (
    Acknowledge,
    BatchCreate,
    BatchItemCreate,
    BatchRead,
    BatchResultRead,
    Cancel,
    CapacityRead,
    EventRead,
    PauseClock,
    QuoteCreate,
    QuoteRead,
    RequestCreate,
    RequestRead,
    RequestUpdate,
    SlotQuery,
    SlotRead,
)
from dispatch.models.enums import RequestStatus
from dispatch.requests import batch, intake, service
from dispatch.requests.batch import BatchItem
from dispatch.requests.service import PromiseView

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
    user: StaffUser,
) -> QuoteRead:
    """The promise a request would get now, with the arrival current capacity allows."""
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
        parts_volume=body.parts_volume,
        availability=[w.model_dump() for w in body.availability],
    )
    read = QuoteRead.of(PromiseView.of_promise(promise))
    read.capacity = CapacityRead.model_validate(prediction.as_dict()) if prediction else None
    return read


@router.post("/promises/slots", response_model=list[SlotRead])
def slots(
    body: SlotQuery,
    session: SessionDep,
    geo: GeoDep,
    capacity: CapacityDep,
    clock: ClockDep,
    user: StaffUser,
) -> list[dict[str, Any]]:
    """Arrival windows current capacity can keep, best first; book one with ``slot``."""
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
        parts_volume=body.parts_volume,
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
    _turn: IntakeTurn,
    session: SessionDep,
    geo: GeoDep,
    capacity: CapacityDep,
    runner: RunnerDep,
    settings: IntakeDep,
    clock: ClockDep,
    user: StaffUser,
    idempotency_key: IdempotencyKey = None,
) -> RequestRead:
    """Take a repair request and answer with its capacity-aware promise."""
    taken = intake.take_request(
        session,
        geo=geo,
        capacity=capacity,
        runner=runner,
        settings=settings,
        now=clock.now(),
        actor=user.actor,
        idempotency_key=idempotency_key,
        **body.intake_fields(),
    )
    if not taken.created:
        response.status_code = status.HTTP_200_OK
    return _read_of(taken)


@router.post("/requests/batch", response_model=BatchRead)
def create_batch(
    body: BatchCreate,
    request: Request,
    geo: GeoDep,
    capacity: CapacityDep,
    runner: RunnerDep,
    settings: IntakeDep,
    clock: ClockDep,
    user: StaffUser,
) -> BatchRead:
    """Take up to 1,000 requests, each exactly as ``POST /v1/requests`` would (its own promise,
    its own transaction, its own idempotency): the answer lists every request's result in
    order, and a refused one (with the same errors it would get alone) never costs the others.
    ``dry_run`` checks and promises them all and stores nothing."""
    items: list[BatchItem | None] = []
    invalid: dict[int, list[ErrorItem]] = {}
    for index, raw in enumerate(body.requests):
        try:
            item = BatchItemCreate.model_validate(raw)
        except ValidationError as exc:
            invalid[index] = [
                ErrorItem(
                    loc=[
                        "body",
                        "requests",
                        index,
                        *(p for p in e["loc"] if isinstance(p, str | int)),
                    ],
                    msg=e["msg"],
                    type=e["type"],
                )
                for e in exc.errors()
            ]
            items.append(None)
            continue
        items.append(BatchItem(item.intake_fields(), item.idempotency_key))
    reads: dict[int, RequestRead] = {}

    def read(_session: Any, result: batch.ItemResult) -> None:
        # The request as answered, built while its transaction still holds it.
        original = indexes[result.index]
        assert result.request is not None and result.taken is not None
        reads[original] = _read_of(result.taken)

    valid = [(i, it) for i, it in enumerate(items) if it is not None]
    indexes = [i for i, _ in valid]
    taken = batch.take_batch(
        request.app.state.session_factory,
        [it for _, it in valid],
        now=clock.now(),
        actor=user.actor,
        geo=geo,
        capacity=capacity,
        runner=runner,
        settings=settings,
        dry_run=body.dry_run,
        read=read,
    )
    outcome: dict[int, BatchResultRead] = {
        index: BatchResultRead(
            index=index, status="refused", request=None, errors=errors, error_status=422
        )
        for index, errors in invalid.items()
    }
    for result in taken:
        index = indexes[result.index]
        outcome[index] = BatchResultRead(
            index=index,
            status=result.status,  # type: ignore[arg-type]
            request=reads.get(index),
            errors=[
                ErrorItem(loc=["body", "requests", index, *r.loc], msg=r.msg, type=r.type)
                for r in result.refusals
            ],
            error_status=result.refusals[0].status if result.refusals else None,
        )
    results = [outcome[i] for i in range(len(items))]
    count = lambda status: sum(1 for r in results if r.status == status)  # noqa: E731
    return BatchRead(
        dry_run=body.dry_run,
        created=count("created"),
        existing=count("existing"),
        would_create=count("would_create"),
        refused=count("refused"),
        results=results,
    )


def _plain(loc: Any) -> list[str | int]:
    return [p for p in loc if isinstance(p, str | int)]


def _read_of(taken: intake.Taken) -> RequestRead:
    """The answer for a request taken at intake."""
    read = RequestRead.of(taken.request)
    if taken.prediction is not None:
        read.capacity = CapacityRead.model_validate(taken.prediction.as_dict())
    read.inserted = taken.inserted
    read.replan_run_id = taken.replan_run_id
    return read


@router.get("/requests", response_model=Page[RequestRead])
def list_requests(
    session: SessionDep,
    user: StaffUser,
    paging: PagingDep,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    service_area_id: Id | None = None,
    tier: Annotated[str | None, Query(pattern="^(urgent|important|general)$")] = None,
    locality: Annotated[str | None, Query(pattern="^(same_city|out_of_town)$")] = None,
    customer_id: Id | None = None,
    received_from: Annotated[Instant | None, Query(alias="from")] = None,
    received_to: Annotated[Instant | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """Requests by received time, filtered by status, area, tier, locality, customer and dates."""
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
def get_by_ref(external_ref: QueryText, session: SessionDep, user: StaffUser) -> RequestRead:
    """Look a request up by its external reference."""
    return RequestRead.of(service.get_by_external_ref(session, external_ref))


@router.get("/requests/{request_id}", response_model=RequestRead)
def get_request(request_id: Id, session: SessionDep, user: StaffUser) -> RequestRead:
    """One request with its current promise."""
    return RequestRead.of(service.get_request_or_raise(session, request_id))


@router.get("/requests/{request_id}/events", response_model=list[EventRead])
def get_events(request_id: Id, session: SessionDep, user: StaffUser) -> list[EventRead]:
    """The request's timeline, oldest first."""
    return [EventRead.model_validate(e) for e in service.timeline(session, request_id)]


@router.patch("/requests/{request_id}", response_model=RequestRead)
def correct_request(
    request_id: Id, body: RequestUpdate, session: SessionDep, clock: ClockDep, user: StaffUser
) -> RequestRead:
    """Correct a request; a changed tier, site, skills, duration or availability re-promises."""
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
    request_id: Id, body: Acknowledge, session: SessionDep, clock: ClockDep, user: StaffUser
) -> RequestRead:
    """Record the first response (first effective contact), once."""
    request = service.acknowledge(
        session, request_id, actor=user.actor, now=clock.now(), at=body.at, note=body.note
    )
    return RequestRead.of(request)


@router.post(
    "/requests/{request_id}/pause",
    response_model=RequestRead,
    responses={409: {"description": "already paused, or the request is closed"}},
)
def pause(
    request_id: Id, body: PauseClock, session: SessionDep, clock: ClockDep, user: StaffUser
) -> RequestRead:
    """Waiting for the customer: the resolution clock stands still until resumed (the
    engineer's arrival, or the request closing, resumes it too)."""
    request = service.pause_clock(
        session, request_id, reason=body.reason, actor=user.actor, now=clock.now()
    )
    return RequestRead.of(request)


@router.post(
    "/requests/{request_id}/resume",
    response_model=RequestRead,
    responses={409: {"description": "the clock is not paused"}},
)
def resume(request_id: Id, session: SessionDep, clock: ClockDep, user: StaffUser) -> RequestRead:
    """The customer is back: the resolution clock runs again, its due moved on by the
    (business) time it stood."""
    request = service.resume_clock(session, request_id, actor=user.actor, now=clock.now())
    return RequestRead.of(request)


@router.post("/requests/{request_id}/cancel", response_model=RequestRead)
def cancel(
    request_id: Id,
    body: Cancel,
    session: SessionDep,
    geo: GeoDep,
    clock: ClockDep,
    user: StaffUser,
) -> RequestRead:
    """Cancel a request with a reason (by the customer, or by us); its visit leaves the route."""
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
