"""The service desk: what was promised, where the engineer is, how the SLA clocks stand; alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ClockDep, PagingDep, SessionDep, StaffUser
from api.schemas.common import Id, Page, QueryText
from api.schemas.desk import AlertRead, PromiseView
from dispatch.desk import service

router = APIRouter(prefix="/v1", tags=["service desk"])


@router.get("/requests/{request_id}/promise", response_model=PromiseView)
def get_promise(
    request_id: Id, session: SessionDep, clock: ClockDep, user: StaffUser
) -> dict[str, Any]:
    """Promised window, live ETA, engineer's first name, SLA clocks and the timeline."""
    return service.promise_of(session, request_id, now=clock.now())


@router.get("/promises", response_model=Page[PromiseView])
def find_promises(
    session: SessionDep,
    clock: ClockDep,
    user: StaffUser,
    paging: PagingDep,
    external_ref: QueryText | None = None,
    customer_id: Id | None = None,
) -> dict[str, Any]:
    """Promises by external reference or by customer, newest first."""
    page = service.find_promises(
        session,
        now=clock.now(),
        external_ref=external_ref,
        customer_id=customer_id,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page.of(page, lambda view: view)


@router.get("/alerts", response_model=Page[AlertRead])
def get_alerts(
    session: SessionDep,
    clock: ClockDep,
    user: StaffUser,
    paging: PagingDep,
    service_area_id: Annotated[list[Id] | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """What needs doing now, each with the request and a suggested action, most urgent first."""
    page = service.alerts(
        session,
        now=clock.now(),
        area_ids=service_area_id,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page.of(page, lambda alert: alert)
