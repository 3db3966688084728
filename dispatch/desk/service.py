"""The service desk's view of a promise (window, live ETA, engineer, SLA clocks) and the alerts
that tell people what needs doing now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.common.paging import Page, paginate
from dispatch.common.text import Text, text
from dispatch.errors import InvalidInput
from dispatch.models import (
    Customer,
    Engineer,
    RepairRequest,
    RequestEvent,
    ServiceArea,
    Site,
    Visit,
)
from dispatch.models.enums import RequestStatus, VisitStatus
from dispatch.planning.publish import first_name
from dispatch.planning.snapshot import ACTIVE_VISIT, OPEN_STATUSES
from dispatch.planning.views import promise_state
from dispatch.promise import BusinessCalendar
from dispatch.requests.repository import timeline
from dispatch.requests.service import clock_calendar, get_request_or_raise

RESPONSE_WARNING = timedelta(minutes=30)
RESOLUTION_WARNING = timedelta(minutes=60)
BEHIND_PLAN = timedelta(minutes=30)
ARRIVAL_WARNING = timedelta(minutes=60)
"""An arrival due this soon with no engineer assigned raises an alert."""
ABSENCE_SOON = timedelta(hours=4)
"""A visit an absence left without an engineer is a danger when its window opens this soon."""


class ClockState(StrEnum):
    """Share of the allowed time used: ok < 50 %, warning 50-75 %, danger 75-100 %."""

    OK = "ok"
    WARNING = "warning"
    DANGER = "danger"
    BREACHED = "breached"
    MET = "met"
    STOPPED = "stopped"
    PAUSED = "paused"
    """Waiting for the customer: the clock stands still (shown apart, never breached)."""


@dataclass(frozen=True)
class SlaClock:
    due: datetime
    met_at: datetime | None
    state: ClockState
    used_share: float
    time_left_s: int
    paused_since: datetime | None = None
    paused_s: int = 0
    """Time the clock stood in earlier pauses (the current one runs from ``paused_since``)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "met_at": self.met_at,
            "state": self.state.value,
            "used_pct": round(self.used_share * 100, 1),
            "time_left_s": self.time_left_s,
            "paused_since": self.paused_since,
            "paused_s": self.paused_s,
        }


def sla_clock(
    *,
    start: datetime,
    due: datetime,
    met_at: datetime | None,
    now: datetime,
    calendar: BusinessCalendar | None,
    stopped: bool = False,
    paused_since: datetime | None = None,
    paused_s: int = 0,
) -> SlaClock:
    """A clock from ``start`` to ``due``; on business time when ``calendar`` is given. A
    paused clock stands at ``paused_since``: its share and time left are frozen there."""
    # A clock paused after its due time stays breached: a pause never hides a breach.
    paused = met_at is None and paused_since is not None and not stopped and paused_since <= due
    end = met_at or (paused_since if paused and paused_since is not None else now)

    def span(a: datetime, b: datetime) -> float:
        if calendar is not None:
            return calendar.business_minutes_between(a, b)
        return max(0.0, (b - a).total_seconds() / 60)

    allowed = span(start, due)
    used = span(start, end)
    share = used / allowed if allowed > 0 else (1.0 if end >= due else 0.0)
    if met_at is not None:
        state = ClockState.MET if met_at <= due else ClockState.BREACHED
    elif paused:
        state = ClockState.PAUSED
    elif end > due:
        state = ClockState.BREACHED
    elif stopped:
        state = ClockState.STOPPED
    elif share < 0.5:
        state = ClockState.OK
    elif share < 0.75:
        state = ClockState.WARNING
    else:
        state = ClockState.DANGER
    return SlaClock(
        due=due,
        met_at=met_at,
        state=state,
        used_share=share,
        time_left_s=int((due - (end if paused else now)).total_seconds()),
        paused_since=paused_since if paused else None,
        paused_s=paused_s,
    )


def active_visit(session: Session, request_id: int) -> Visit | None:
    """The request's current (or finished) visit, if any."""
    return session.scalar(
        select(Visit)
        .where(Visit.request_id == request_id, Visit.status != VisitStatus.CANCELLED.value)
        .order_by(Visit.id.desc())
        .limit(1)
    )


def promise_view(session: Session, request: RepairRequest, *, now: datetime) -> dict[str, Any]:
    """What the service desk tells a customer: window, live ETA, engineer, clocks, timeline."""
    visit = active_visit(session, request.id)
    engineer = session.get(Engineer, visit.engineer_id) if visit is not None else None
    eta = None
    if visit is not None:
        eta = visit.current_eta
    calendar = clock_calendar(session, request)
    closed = request.status in (
        RequestStatus.COMPLETED.value,
        RequestStatus.CANNOT_COMPLETE.value,
        RequestStatus.CANCELLED.value,
    )
    clocks = {}
    if request.first_response_due is not None:
        clocks["response"] = sla_clock(
            start=request.received_at,
            due=request.first_response_due,
            met_at=request.acknowledged_at,
            now=now,
            calendar=calendar,
            stopped=closed,
        ).as_dict()
    if request.arrival_target is not None:
        clocks["arrival"] = sla_clock(
            start=request.received_at,
            due=request.arrival_target,
            met_at=visit.arrived_at if visit is not None else None,
            now=now,
            calendar=calendar,
            stopped=closed,
        ).as_dict()
    if request.resolution_due is not None:
        resolved = request.closed_at if request.status == RequestStatus.COMPLETED.value else None
        clocks["resolution"] = sla_clock(
            start=request.received_at,
            due=request.resolution_due,
            met_at=resolved,
            now=now,
            calendar=calendar,
            stopped=closed,
            paused_since=request.paused_at,
            paused_s=request.paused_s or 0,
        ).as_dict()
    return {
        "request_id": request.id,
        "external_ref": request.external_ref,
        "status": request.status,
        "tier": request.tier,
        "locality": request.locality,
        "window_start": request.window_start,
        "window_end": request.window_end,
        "arrival_target": request.arrival_target,
        "customer_chosen": request.customer_chosen,
        "explanation": request.promise_explanation,
        "said": request.promise_said,
        "eta": eta,
        "promise_state": promise_state(
            window_end=request.window_end,
            eta=eta,
            arrived_at=visit.arrived_at if visit else None,
            now=now,
        ).value,
        "engineer": None if engineer is None else {"first_name": first_name(engineer.name)},
        "visit_status": visit.status if visit is not None else None,
        "clocks": clocks,
        "timeline": [
            {"type": e.type, "at": e.at, "actor": e.actor, "payload": e.payload}
            for e in timeline(session, request.id)
        ],
    }


def promise_of(session: Session, request_id: int, *, now: datetime) -> dict[str, Any]:
    """The promise view of one request."""
    return promise_view(session, get_request_or_raise(session, request_id), now=now)


def find_promises(
    session: Session,
    *,
    now: datetime,
    external_ref: str | None = None,
    customer_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[dict[str, Any]]:
    """Promise views by external reference or customer (newest first)."""
    if external_ref is None and customer_id is None:
        raise InvalidInput("external_ref", "give external_ref or customer_id")
    stmt = select(RepairRequest).order_by(RepairRequest.received_at.desc(), RepairRequest.id.desc())
    if external_ref is not None:
        stmt = stmt.where(RepairRequest.external_ref == external_ref)
    if customer_id is not None:
        stmt = stmt.where(
            RepairRequest.site_id.in_(select(Site.id).where(Site.customer_id == customer_id))
        )
    page = paginate(session, stmt, limit=limit, offset=offset)
    return Page(
        items=[promise_view(session, r, now=now) for r in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


# --- alerts ---------------------------------------------------------------------------------


def _tense(overdue: bool) -> str:
    return "overdue" if overdue else "soon"


def _hhmm(moment: datetime, area: ServiceArea | None) -> str:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(area.timezone) if area is not None else None
    local = moment.astimezone(tz) if tz else moment
    return local.strftime("%a %H:%M")


def current_alerts(
    session: Session, *, now: datetime, area_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """The alert rules, as things stand at ``now``: responses and resolutions about to be
    missed, arrival deadlines near with no engineer assigned, ETAs beyond the promised window,
    engineers running more than 30 minutes behind the plan, visits an absence left with no
    engineer. Most urgent first."""
    stmt = select(RepairRequest).where(RepairRequest.status.in_(OPEN_STATUSES))
    if area_ids:
        stmt = stmt.where(RepairRequest.base_area_id.in_(area_ids))
    requests = {r.id: r for r in session.scalars(stmt)}
    areas = {a.id: a for a in session.scalars(select(ServiceArea))}
    customers = dict(
        session.execute(
            select(Site.id, Customer.name).join(Customer, Customer.id == Site.customer_id)
        ).all()
    )
    out: list[dict[str, Any]] = []

    def add(
        kind: str,
        request: RepairRequest,
        severity: str,
        message: str,
        action: str,
        said: Text,
        **extra: Any,
    ) -> None:
        out.append(
            {
                "kind": kind,
                "severity": severity,
                # The same message and action as data, for the caller's language.
                "text": said,
                "action_text": text(f"alert.{kind}.action"),
                "request_id": request.id,
                "external_ref": request.external_ref,
                "customer": customers.get(request.site_id),
                "tier": request.tier,
                "service_area_id": request.base_area_id,
                "message": message,
                "suggested_action": action,
                **extra,
            }
        )

    for r in requests.values():
        area = areas.get(r.base_area_id) if r.base_area_id else None
        if (
            r.acknowledged_at is None
            and r.first_response_due is not None
            and r.first_response_due - now <= RESPONSE_WARNING
        ):
            overdue = r.first_response_due < now
            add(
                "first_response_due",
                r,
                "danger" if overdue else "warning",
                f"first response {'was' if overdue else 'is'} due at "
                f"{_hhmm(r.first_response_due, area)} and nobody has contacted the customer",
                "call the customer now and record the first response",
                text(f"alert.first_response_due.{_tense(overdue)}", due_at=r.first_response_due),
                due=r.first_response_due,
            )
        if (
            r.resolution_due is not None
            # Waiting for the customer stops the clock, unless it had already run out.
            and (r.paused_at is None or r.paused_at > r.resolution_due)
            and r.resolution_due - now <= RESOLUTION_WARNING
        ):
            overdue = r.resolution_due < now
            add(
                "resolution_due",
                r,
                "danger" if overdue else "warning",
                f"resolution {'was' if overdue else 'is'} due at {_hhmm(r.resolution_due, area)}",
                "check progress with the engineer; escalate or agree a new time with the customer",
                text(f"alert.resolution_due.{_tense(overdue)}", due_at=r.resolution_due),
                due=r.resolution_due,
            )
    visits = session.scalars(
        select(Visit)
        .where(Visit.request_id.in_(list(requests)), Visit.status.in_(ACTIVE_VISIT))
        .order_by(Visit.engineer_id, Visit.date, Visit.sequence)
    ).all()
    visited = {v.request_id for v in visits}
    for r in requests.values():
        due = r.arrival_target or r.arrival_due
        if r.id in visited or due is None or due - now > ARRIVAL_WARNING:
            continue
        area = areas.get(r.base_area_id) if r.base_area_id else None
        overdue = due < now
        add(
            "arrival_due_unassigned",
            r,
            "danger" if overdue else "warning",
            f"on-site arrival {'was' if overdue else 'is'} due at {_hhmm(due, area)} and no "
            "engineer is assigned",
            "assign an engineer now (the board's picker ranks who can be there soonest)",
            text(f"alert.arrival_due_unassigned.{_tense(overdue)}", due_at=due),
            due=due,
        )
    names = dict(session.execute(select(Engineer.id, Engineer.name)).all())
    behind_seen: set[int] = set()
    for v in visits:
        r = requests[v.request_id]
        area = areas.get(r.base_area_id) if r.base_area_id else None
        if v.status == VisitStatus.ARRIVED.value:
            continue
        # An ETA already behind us for a visit nobody reached is stale: the earliest arrival is now.
        eta = max(v.current_eta, now)
        if r.window_end is not None and eta > r.window_end:
            add(
                "eta_after_window",
                r,
                "danger" if now > r.window_end else "warning",
                f"ETA {_hhmm(eta, area)} is after the promised window "
                f"(ends {_hhmm(r.window_end, area)})",
                "call the customer to agree a new window, or move the visit to another engineer",
                text("alert.eta_after_window", eta_at=eta, window_end_at=r.window_end),
                eta=eta,
                window_end=r.window_end,
                engineer_id=v.engineer_id,
            )
        if v.engineer_id not in behind_seen and eta - v.planned_start > BEHIND_PLAN:
            behind_seen.add(v.engineer_id)
            minutes = int((eta - v.planned_start).total_seconds() // 60)
            add(
                "engineer_behind_plan",
                r,
                "warning",
                f"{names.get(v.engineer_id, 'the engineer')} is {minutes} min behind plan "
                f"(next visit ETA {_hhmm(eta, area)}, planned {_hhmm(v.planned_start, area)})",
                "re-plan the engineer's day or move later visits to a colleague",
                text(
                    "alert.engineer_behind_plan",
                    engineer=names.get(v.engineer_id, ""),
                    minutes=minutes,
                    eta_at=eta,
                    planned_at=v.planned_start,
                ),
                engineer_id=v.engineer_id,
                minutes_behind=minutes,
            )
    _taken_off_route(session, requests, visited, areas, names, add, now)
    order = {"danger": 0, "warning": 1}
    out.sort(key=lambda a: (order[a["severity"]], a["request_id"], a["kind"]))
    return out


TAKEN_OFF = {"moved_for_absence": "moved_by_absence", "declined": "declined_unassigned"}
"""Timeline events that take a promised visit off a route, and the alert each raises while
no colleague has it."""


def _taken_off_route(
    session: Session,
    requests: dict[int, RepairRequest],
    visited: set[int],
    areas: dict[int, ServiceArea],
    names: dict[int, str],
    add: Any,
    now: datetime,
) -> None:
    """A promise an absence or a decline broke: the visit was taken off the engineer's route
    and no colleague has it yet (the re-plan found no one). Told until someone is assigned."""
    waiting = [r for r in requests if r not in visited]
    if not waiting:
        return
    latest: dict[int, RequestEvent] = {}
    for event in session.scalars(
        select(RequestEvent)
        .where(
            RequestEvent.request_id.in_(waiting),
            RequestEvent.type.in_((*TAKEN_OFF, "assigned", "reassigned")),
        )
        .order_by(RequestEvent.id)
    ):
        latest[event.request_id] = event
    for request_id, event in latest.items():
        if event.type not in TAKEN_OFF:
            continue
        r = requests[request_id]
        area = areas.get(r.base_area_id) if r.base_area_id else None
        payload = event.payload or {}
        who = names.get(payload.get("engineer_id", 0), "the engineer")
        soon = r.window_start is not None and r.window_start - now <= ABSENCE_SOON
        window = (
            f"{_hhmm(r.window_start, area)}-{_hhmm(r.window_end, area)}"
            if r.window_start is not None and r.window_end is not None
            else "its window"
        )
        why = (
            f"{who} is absent ({payload.get('reason', 'absence')})"
            if event.type == "moved_for_absence"
            else f"{who} declined the visit ({payload.get('reason', 'no reason given')})"
        )
        add(
            TAKEN_OFF[event.type],
            r,
            "danger" if soon else "warning",
            f"{why} and no colleague could take the visit promised for {window}",
            "assign an engineer (overtime if need be) or call the customer to agree a new window",
            text(
                f"alert.{TAKEN_OFF[event.type]}",
                engineer=names.get(payload.get("engineer_id", 0), ""),
                reason=payload.get("reason"),
                window_start_at=r.window_start,
                window_end_at=r.window_end,
            ),
            window_end=r.window_end,
        )
