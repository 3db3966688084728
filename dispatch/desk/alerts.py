"""Alerts kept: the rules evaluated on a schedule, each condition stored once while it lasts.

Every minute (Celery beat on a cluster, a timer in the embedded default) :func:`evaluate` runs
the rules (:func:`dispatch.desk.service.current_alerts`) and brings the stored alerts up to date
in one transaction:

- a new condition opens an alert (one per condition: the request and kind, or the engineer for
  one running behind; a unique index keeps a second open one out);
- a condition still there refreshes its alert (severity, message), open or acknowledged;
- a condition gone resolves its alert, automatically.

An alert on an SLA clock (first response, resolution, arrival with nobody assigned) also writes
an ``sla.warning`` event when it opens as a warning and an ``sla.breached`` event when its due
time has passed, each once per alert.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.clock import Clock
from dispatch.common.paging import Page, paginate
from dispatch.db import unit_of_work
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Alert, RepairRequest, ServiceArea
from dispatch.models.enums import AlertState
from dispatch.notify.events import outbox_row

log = logging.getLogger("onsite.alerts")

SLA_KINDS = ("first_response_due", "resolution_due", "arrival_due_unassigned")
KINDS = (
    *SLA_KINDS,
    "eta_after_window",
    "engineer_behind_plan",
    "moved_by_absence",
    "declined_unassigned",
)
DETAILS = ("due", "eta", "window_end", "minutes_behind")


def _key(condition: dict[str, Any]) -> str:
    if condition["kind"] == "engineer_behind_plan":
        return f"engineer_behind_plan:e{condition['engineer_id']}"
    return f"{condition['kind']}:r{condition['request_id']}"


SAID = ("text", "action_text")
"""The message and the action as data (catalogue key and parameters), kept in the details for
the API to say in the caller's language."""


def _details(condition: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name in (*DETAILS, *SAID):
        value = condition.get(name)
        if value is not None:
            out[name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _tell(session: Session, alert: Alert, type_: str, now: datetime) -> None:
    request = session.get(RepairRequest, alert.request_id) if alert.request_id else None
    session.add(
        outbox_row(
            type_,
            at=now,
            data={
                "alert_id": alert.id,
                "kind": alert.kind,
                "severity": alert.severity,
                "message": alert.message,
                **{k: v for k, v in alert.details.items() if k not in SAID},
            },
            request=request,
        )
    )
    alert.details = {**alert.details, f"told_{type_}": now.isoformat()}


def evaluate(session: Session, *, now: datetime) -> dict[str, int]:
    """Bring the stored alerts up to the rules at ``now``; counts of opened, kept, resolved."""
    from dispatch.desk.service import current_alerts

    conditions = {_key(c): c for c in current_alerts(session, now=now)}
    standing = {
        a.key: a
        for a in session.scalars(
            select(Alert).where(Alert.state != AlertState.RESOLVED.value).with_for_update()
        )
    }
    opened = kept = resolved = 0
    for key, condition in conditions.items():
        alert = standing.get(key)
        if alert is None:
            alert = Alert(
                key=key,
                kind=condition["kind"],
                state=AlertState.OPEN.value,
                request_id=condition.get("request_id"),
                engineer_id=condition.get("engineer_id"),
                opened_at=now,
                details={},
            )
            session.add(alert)
            opened += 1
        else:
            kept += 1
        alert.severity = condition["severity"]
        alert.service_area_id = condition.get("service_area_id")
        alert.message = condition["message"][:500]
        alert.suggested_action = condition["suggested_action"][:300]
        alert.details = {**{k: v for k, v in alert.details.items() if k.startswith("told_")},
                         **_details(condition)}  # fmt: skip
        alert.last_seen_at = now
        if alert.kind in SLA_KINDS:
            session.flush()  # the alert's id goes into its events
            if "told_sla.warning" not in alert.details and alert.severity == "warning":
                _tell(session, alert, "sla.warning", now)
            if "told_sla.breached" not in alert.details and alert.severity == "danger":
                _tell(session, alert, "sla.breached", now)
    for key, alert in standing.items():
        if key not in conditions:
            alert.state = AlertState.RESOLVED.value
            alert.resolved_at = now
            resolved += 1
    session.flush()
    return {"opened": opened, "kept": kept, "resolved": resolved}


def list_alerts(
    session: Session,
    *,
    area_ids: Sequence[int] | None = None,
    kinds: Sequence[str] | None = None,
    states: Sequence[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Alert]:
    """Stored alerts, most severe and oldest first; by default the ones not yet resolved."""
    wanted_states = (
        list(states) if states else [AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value]
    )
    stmt = select(Alert).where(Alert.state.in_(wanted_states))
    if area_ids:
        stmt = stmt.where(Alert.service_area_id.in_(area_ids))
    if kinds:
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise InvalidInput("kind", f"unknown alert kinds {unknown}; known: {', '.join(KINDS)}")
        stmt = stmt.where(Alert.kind.in_(kinds))
    stmt = stmt.order_by((Alert.severity != "danger"), Alert.opened_at, Alert.id)
    return paginate(session, stmt, limit=limit, offset=offset)


def alert_view(session: Session, alert: Alert) -> dict[str, Any]:
    """An alert as the desk reads it: the request's reference, customer and tier with it."""
    from dispatch.models import Customer, Site

    request = session.get(RepairRequest, alert.request_id) if alert.request_id else None
    site = session.get(Site, request.site_id) if request is not None else None
    customer = session.get(Customer, site.customer_id) if site is not None else None
    area = session.get(ServiceArea, alert.service_area_id) if alert.service_area_id else None
    return {
        "id": alert.id,
        "kind": alert.kind,
        "state": alert.state,
        "severity": alert.severity,
        "request_id": alert.request_id,
        "external_ref": request.external_ref if request is not None else None,
        "customer": customer.name if customer is not None else None,
        "tier": request.tier if request is not None else None,
        "service_area_id": alert.service_area_id,
        "engineer_id": alert.engineer_id,
        "message": alert.message,
        "suggested_action": alert.suggested_action,
        "opened_at": alert.opened_at,
        "last_seen_at": alert.last_seen_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": alert.resolved_at,
        **{k: v for k, v in alert.details.items() if not k.startswith("told_") and k not in SAID},
        "said": {k: alert.details[k] for k in SAID if k in alert.details},
        "timezone": area.timezone if area is not None else "UTC",
    }


def acknowledge(session: Session, alert_id: int, *, by: str, now: datetime) -> Alert:
    """Someone has it in hand: the alert stays until its condition clears, marked as theirs."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound("alert", alert_id)
    if alert.state == AlertState.RESOLVED.value:
        raise Conflict(f"alert {alert_id} is already resolved")
    if alert.state == AlertState.OPEN.value:
        alert.state = AlertState.ACKNOWLEDGED.value
        alert.acknowledged_at = now
        alert.acknowledged_by = by
        session.flush()
    return alert


class AlertLoop:
    """The embedded default's schedule: the rules at start-up and then every ``every_s``."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock, every_s: float = 60.0) -> None:
        self.factory = factory
        self.clock = clock
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="onsite-alerts", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with unit_of_work(self.factory) as session:
                    evaluate(session, now=self.clock.now())
            except Exception:  # the database away, say: the next round tries again
                log.exception("alert rules failed")
            self._stop.wait(self.every_s)


__all__ = [
    "KINDS",
    "SLA_KINDS",
    "AlertLoop",
    "acknowledge",
    "alert_view",
    "evaluate",
    "list_alerts",
]
