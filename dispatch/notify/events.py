"""Events for the outside world, written to the outbox in the transaction of the change.

Every change someone outside may care about already leaves an entry in the request's timeline
(``RequestEvent``). A session hook turns each new timeline entry of a kind listed in
``FROM_TIMELINE`` into an outbox row just before the transaction commits, from the request as it
stands then: the event and the change it tells of are committed together or not at all, and no
code path that records the change can forget to tell of it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from dispatch.db import load_by_id
from dispatch.models import Engineer, OutboxEvent, RepairRequest, RequestEvent, Visit
from dispatch.models.enums import VisitStatus

SCHEMA_VERSION = 1
INFO_KEY = "onsite_timeline_added"
WRITTEN_KEY = "onsite_outbox_written"
HELD_KEY = "onsite_timeline_requests"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _promise(request: RepairRequest, _payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
        "arrival_due": _iso(request.arrival_due),
        "first_response_due": _iso(request.first_response_due),
        "resolution_due": _iso(request.resolution_due),
        "tier": request.tier,
        "locality": request.locality,
        "at_risk": request.at_risk,
        "explanation": request.promise_explanation,
    }


def _changed(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    previous = payload.get("previous") or {}
    return {
        **_promise(request, payload),
        "previous_window_start": previous.get("window_start"),
        "previous_window_end": previous.get("window_end"),
        "reason": payload.get("reason") or "the promise was made again from changed facts",
    }


def _assigned(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "engineer": payload.get("engineer"),
        "planned_arrival": payload.get("planned_arrival") or _iso(request.predicted_arrival),
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
    }


def _unassigned(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"reason": payload.get("message") or payload.get("reason")}


def _accepted(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "engineer": payload.get("engineer"),
        "visit_id": payload.get("visit_id"),
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
    }


def _en_route(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "engineer": payload.get("engineer"),
        "eta": _iso(request.predicted_arrival),
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
    }


def _eta(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    eta = payload.get("eta") or _iso(request.predicted_arrival)
    return {
        "engineer": payload.get("engineer"),
        "eta": eta,
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
        "inside_window": not request.at_risk,
        "reason": payload.get("reason"),
    }


def _closed(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"at": _iso(request.closed_at), "reason": payload.get("reason")}


def _arrived(request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "engineer": payload.get("engineer"),
        "at": _iso(request.predicted_arrival),
        "window_start": _iso(request.window_start),
        "window_end": _iso(request.window_end),
    }


def _cancelled(_request: RepairRequest, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {"by": payload.get("by"), "reason": payload.get("reason")}


Builder = Callable[[RepairRequest, Mapping[str, Any]], dict[str, Any]]
FROM_TIMELINE: dict[str, tuple[str, Builder]] = {
    "promised": ("promise.made", _promise),
    "re_promised": ("promise.changed", _changed),
    "assigned": ("visit.assigned", _assigned),
    "reassigned": ("visit.assigned", _assigned),
    "unassigned": ("visit.unassigned", _unassigned),
    "engineer_accepted": ("visit.accepted", _accepted),
    "en_route": ("engineer.en_route", _en_route),
    "on_site": ("engineer.arrived", _arrived),
    "completed": ("visit.completed", _closed),
    "cannot_complete": ("visit.cannot_complete", _closed),
    "cancelled": ("request.cancelled", _cancelled),
    "at_risk": ("eta.changed", _eta),
    "eta_moved": ("eta.changed", _eta),
    "back_on_time": ("eta.changed", _eta),
}
"""Timeline entry -> (event type, its data). ``eta.changed`` is told only when the ETA crosses
the promised window (out of it, or back in), or, with the engineer on the way, moves more than
``ONSITE_ETA_CHANGE_MINUTES`` from the ETA last told: no storm of small moves."""

EVENT_TYPES = (
    "promise.made",
    "promise.changed",
    "visit.assigned",
    "visit.unassigned",
    "visit.accepted",
    "engineer.en_route",
    "eta.changed",
    "engineer.arrived",
    "visit.completed",
    "visit.cannot_complete",
    "request.cancelled",
    "sla.warning",
    "sla.breached",
    "webhook.test",
)


def last_told_eta(session: Session, request_id: int) -> datetime | None:
    """The ETA in the request's latest committed ``engineer.en_route`` or ``eta.changed`` event
    (this transaction's own events are written only as it commits)."""
    row = session.scalar(
        select(OutboxEvent)
        .where(
            OutboxEvent.request_id == request_id,
            OutboxEvent.type.in_(("engineer.en_route", "eta.changed")),
        )
        .order_by(OutboxEvent.id.desc())
        .limit(1)
    )
    eta = row.data.get("eta") if row is not None else None
    return datetime.fromisoformat(eta) if eta else None


def outbox_row(
    type_: str,
    *,
    at: datetime,
    data: dict[str, Any],
    request: RepairRequest | None = None,
    subscription_id: int | None = None,
) -> OutboxEvent:
    """An outbox row with a new stable id (``evt_`` and 32 hex digits)."""
    return OutboxEvent(
        event_id=f"evt_{uuid.uuid4().hex}",
        type=type_,
        occurred_at=at,
        request_id=request.id if request is not None else None,
        external_ref=request.external_ref if request is not None else None,
        service_area_id=request.base_area_id if request is not None else None,
        schema_version=SCHEMA_VERSION,
        data=data,
        subscription_id=subscription_id,
        fanned_out=False,
    )


def envelope(row: OutboxEvent) -> dict[str, Any]:
    """The JSON a receiver gets for an outbox row (the body of a webhook delivery)."""
    return {
        "id": row.event_id,
        "type": row.type,
        "occurred_at": row.occurred_at.isoformat(),
        "schema_version": row.schema_version,
        "external_ref": row.external_ref,
        "request_id": row.request_id,
        "service_area_id": row.service_area_id,
        "data": row.data,
    }


def _engineer(session: Session, request_id: int) -> str | None:
    """The first name of the engineer holding the request's visit, if any."""
    name = session.scalar(
        select(Engineer.name)
        .join(Visit, Visit.engineer_id == Engineer.id)
        .where(Visit.request_id == request_id, Visit.status != VisitStatus.CANCELLED.value)
        .order_by(Visit.id.desc())
        .limit(1)
    )
    return name.split()[-1] if name else None


def _collect(session: Session, _context: Any) -> None:
    added = [o for o in session.new if isinstance(o, RequestEvent) and o.type in FROM_TIMELINE]
    if added:
        session.info.setdefault(INFO_KEY, []).extend(added)
        # Their requests, held until the commit writes the outbox (the session's references
        # are weak: a request the caller has let go would be read again, site and skills).
        held = session.info.setdefault(HELD_KEY, {})
        for entry in added:
            request = session.identity_map.get(identity_key(RepairRequest, entry.request_id))
            if request is not None:
                held[entry.request_id] = request


WAKERS: list[threading.Event] = []
"""Set after a commit that wrote outbox rows: in-process delivery loops start at once."""


def _write(session: Session) -> None:
    session.flush()  # timeline entries still pending are collected by this flush
    added: list[RequestEvent] = [
        entry
        for entry in session.info.pop(INFO_KEY, [])
        if inspect(entry).persistent  # not undone with a savepoint
    ]
    kept_alive = session.info.pop(HELD_KEY, {})  # load_by_id finds them in the session
    held = load_by_id(session, RepairRequest, [entry.request_id for entry in added])
    del kept_alive
    # An assignment's entry names the engineer: the request's other entries of this
    # transaction (its promise, say) name the last one without asking the database.
    named: dict[int, str] = {}
    for e in added:
        if "engineer" in (e.payload or {}):
            named[e.request_id] = e.payload["engineer"]
        elif e.type in ("unassigned", "cancelled"):
            named.pop(e.request_id, None)
    for entry in added:
        request = held.get(entry.request_id)
        if request is None:
            continue
        session.info[WRITTEN_KEY] = True
        type_, build = FROM_TIMELINE[entry.type]
        payload = dict(entry.payload or {})
        if "engineer" not in payload:
            payload["engineer"] = (
                named[request.id] if request.id in named else _engineer(session, request.id)
            )
        session.add(outbox_row(type_, at=entry.at, data=build(request, payload), request=request))


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(INFO_KEY, None)
    session.info.pop(HELD_KEY, None)
    session.info.pop(WRITTEN_KEY, None)


def _wake(session: Session) -> None:
    if session.info.pop(WRITTEN_KEY, False):
        for waker in list(WAKERS):
            waker.set()


def install() -> None:
    """Hook every session: collect new timeline entries at each flush, write their outbox rows
    before the commit, forget them on a rollback. Idempotent."""
    if not event.contains(Session, "after_flush", _collect):
        event.listen(Session, "after_flush", _collect)
        event.listen(Session, "before_commit", _write)
        event.listen(Session, "after_rollback", _forget)
        event.listen(Session, "after_commit", _wake)


__all__ = [
    "EVENT_TYPES",
    "FROM_TIMELINE",
    "SCHEMA_VERSION",
    "WAKERS",
    "envelope",
    "install",
    "outbox_row",
]
