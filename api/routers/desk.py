"""The service desk: what was promised, where the engineer is, how the SLA clocks stand; alerts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import ClockDep, PagingDep, SessionDep, StaffUser
from api.i18n import LocaleDep, localize_alert, localize_promise
from api.schemas.common import Id, Page, QueryText
from api.schemas.desk import AlertKind, AlertRead, PromiseView
from dispatch.desk import alerts, service

AlertStateName = Literal["open", "acknowledged", "resolved"]

router = APIRouter(prefix="/v1", tags=["service desk"])


@router.get("/requests/{request_id}/promise", response_model=PromiseView)
def get_promise(
    request_id: Id, session: SessionDep, clock: ClockDep, user: StaffUser, locale: LocaleDep
) -> dict[str, Any]:
    """Promised window, live ETA, engineer's first name, SLA clocks and the timeline (the
    explanation in the language ``Accept-Language`` asks for)."""
    return localize_promise(service.promise_of(session, request_id, now=clock.now()), locale)


@router.get("/promises", response_model=Page[PromiseView])
def find_promises(
    session: SessionDep,
    clock: ClockDep,
    user: StaffUser,
    paging: PagingDep,
    locale: LocaleDep,
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
    return Page.of(page, lambda view: localize_promise(view, locale))


@router.get("/alerts", response_model=Page[AlertRead])
def get_alerts(
    session: SessionDep,
    user: StaffUser,
    paging: PagingDep,
    locale: LocaleDep,
    service_area_id: Annotated[list[Id] | None, Query(max_length=200)] = None,
    kind: Annotated[list[AlertKind] | None, Query(max_length=10)] = None,
    state: Annotated[list[AlertStateName] | None, Query(max_length=3)] = None,
) -> dict[str, Any]:
    """The stored alerts (the rules run every minute), most severe and oldest first; by
    default those not yet resolved. Filter by area, kind and state. Messages and suggested
    actions come in the language ``Accept-Language`` asks for (English or Chinese)."""
    page = alerts.list_alerts(
        session,
        area_ids=service_area_id,
        kinds=kind,
        states=state,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page.of(page, lambda alert: localize_alert(alerts.alert_view(session, alert), locale))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead)
def acknowledge_alert(
    alert_id: Id, session: SessionDep, clock: ClockDep, user: StaffUser, locale: LocaleDep
) -> dict[str, Any]:
    """Take an alert in hand: it stays (acknowledged, by whom) until its condition clears."""
    alert = alerts.acknowledge(session, alert_id, by=user.name, now=clock.now())
    return localize_alert(alerts.alert_view(session, alert), locale)
