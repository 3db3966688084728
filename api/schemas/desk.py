"""The service desk's view of a promise, and alerts, over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import OutputModel
from api.schemas.dispatch import PromiseState

ClockStateName = Literal["ok", "warning", "danger", "breached", "met", "stopped", "paused"]


class SlaClockRead(OutputModel):
    due: dt.datetime
    met_at: dt.datetime | None
    state: ClockStateName = Field(
        description="share of the allowed time used: ok < 50 %, warning 50-75 %, danger 75-100 %"
    )
    used_pct: float
    time_left_s: int
    paused_since: dt.datetime | None = Field(
        default=None,
        description="waiting for the customer since then: the clock stands still (state paused)",
    )
    paused_s: int = Field(
        default=0, description="how long earlier pauses held the clock (their time moved due on)"
    )


class SlaClocks(OutputModel):
    response: SlaClockRead | None = None
    arrival: SlaClockRead | None = None
    resolution: SlaClockRead | None = None


class EngineerFirstName(OutputModel):
    first_name: str


class TimelineEntry(OutputModel):
    type: str
    at: dt.datetime
    actor: str
    payload: dict[str, Any]


class PromiseView(OutputModel):
    """What the service desk tells a customer: window, live ETA, engineer, clocks, timeline."""

    request_id: int
    external_ref: str
    status: str
    tier: str | None
    locality: str | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    arrival_target: dt.datetime | None
    customer_chosen: bool
    explanation: str | None
    eta: dt.datetime | None
    promise_state: PromiseState
    engineer: EngineerFirstName | None
    visit_status: str | None
    clocks: SlaClocks
    timeline: list[TimelineEntry]


AlertKind = Literal[
    "first_response_due",
    "resolution_due",
    "arrival_due_unassigned",
    "eta_after_window",
    "engineer_behind_plan",
    "moved_by_absence",
    "declined_unassigned",
]


class AlertRead(OutputModel):
    """Something that needs doing, with a suggested action; kept while its condition lasts
    (evaluated every minute), then resolved."""

    id: int
    kind: AlertKind
    state: Literal["open", "acknowledged", "resolved"]
    severity: Literal["danger", "warning"]
    request_id: int | None
    external_ref: str | None
    customer: str | None
    tier: str | None
    service_area_id: int | None
    message: str
    suggested_action: str
    opened_at: dt.datetime
    last_seen_at: dt.datetime = Field(description="when the rules last found the condition")
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: dt.datetime | None = None
    due: dt.datetime | None = None
    eta: dt.datetime | None = None
    window_end: dt.datetime | None = None
    engineer_id: int | None = None
    minutes_behind: int | None = None
