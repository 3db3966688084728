"""The service desk: what was promised, where the engineer is, how the SLA clocks stand; alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import ClockDep, CurrentUser, SessionDep
from dispatch.auth.principal import STAFF
from dispatch.desk import service

router = APIRouter(prefix="/v1", tags=["service desk"])


@router.get("/requests/{request_id}/promise")
def get_promise(
    request_id: int, session: SessionDep, clock: ClockDep, user: CurrentUser
) -> dict[str, Any]:
    """Promised window, live ETA, engineer's first name, SLA clocks and the timeline."""
    user.require(*STAFF)
    return service.promise_of(session, request_id, now=clock.now())


@router.get("/promises")
def find_promises(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    external_ref: str | None = None,
    customer_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Promises by external reference or by customer, newest first."""
    user.require(*STAFF)
    return service.find_promises(
        session, now=clock.now(), external_ref=external_ref, customer_id=customer_id, limit=limit
    )


@router.get("/alerts")
def get_alerts(
    session: SessionDep,
    clock: ClockDep,
    user: CurrentUser,
    service_area_id: Annotated[list[int] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """What needs doing now, each with the request and a suggested action."""
    user.require(*STAFF)
    return service.alerts(session, now=clock.now(), area_ids=service_area_id)
