"""Dispatch runs and plans over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from api.schemas.common import (
    Day,
    Id,
    InputModel,
    Instant,
    OutputModel,
    OvernightStop,
    PointRead,
)


class RunScope(InputModel):
    service_area_ids: Annotated[list[Id], Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="omit for every area with engineers based"
    )


class RunCreate(InputModel):
    scope: RunScope = RunScope()
    horizon_start: Day = Field(description="first local day to plan: today or later")
    days: Annotated[int, Field(ge=1, le=14)] = 1
    time_limit_s: Annotated[int, Field(ge=1, le=600)] = 30
    include_other_days: bool = Field(
        default=False,
        description="also take in requests planned on days outside the horizon (by default "
        "their visits stay where they are)",
    )


class RunPart(OutputModel):
    """One area of a run split for a cluster's workers, or one geographic part of a large area
    (its scope's ``part`` lists the engineers of each part and which one this is); a run of its
    own: /dispatch/runs/{id}."""

    id: int
    scope: dict[str, Any]
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    failure_reason: str | None


class RunNote(OutputModel):
    kind: str
    message: str
    request_id: int | None = None


class RunRead(OutputModel):
    id: int
    status: str
    scope: dict[str, Any]
    horizon_start: dt.date
    days: int
    time_limit_s: int
    requested_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    failure_reason: str | None
    attempts: int
    timings: dict[str, float] | None
    kpis_before: dict[str, Any] | None
    kpis_after: dict[str, Any] | None
    unassigned: list[dict[str, Any]] | None
    plan: list[dict[str, Any]] | None
    plan_version: int | None
    recoveries: int = Field(
        default=0, description="how often the run was queued again after its solver stopped"
    )
    notes: list[RunNote] = Field(
        default_factory=list,
        description="what the dispatcher should know about how the run went: broken locks, a "
        "recovery, attempts that could not reach the database",
    )
    parent_id: int | None = Field(
        default=None, description="the run this one is a part of (one area of it), if any"
    )
    parts: list[RunPart] = Field(
        default_factory=list,
        description="on a cluster, a run over several areas is solved as one part per area by "
        "different workers at once; each part's progress (empty otherwise)",
    )

    @field_validator("notes", mode="before")
    @classmethod
    def _no_notes(cls, value: Any) -> Any:
        return [] if value is None else value


class LockCreate(InputModel):
    kind: Literal["engineer", "time", "both"]
    arrival: Instant | None = Field(
        default=None, description="for time locks: the arrival to keep (default: the planned one)"
    )


class AssignmentCreate(InputModel):
    request_id: Id
    engineer_id: Id
    date: Day
    position: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None, description="place in the route (0 = first); omit for the best place"
    )
    arrival: Instant | None = Field(
        default=None,
        description="keep the visit at this time (a time lock, as a drop on the board's row "
        "makes): the work starts then, or on arrival when the engineer cannot be there sooner; "
        "without a position the visit goes where this time falls in the route",
    )
    lock: Literal["none", "engineer", "time", "both"] | None = Field(
        default=None,
        description="how the visit is kept afterwards (default: to the engineer, and to the "
        "time too when an arrival is given); undoing a change sends the lock the visit had",
    )
    dry_run: bool = Field(default=False, description="only check; change nothing")
    accept_warnings: bool = Field(
        default=False, description="commit although the check found warnings"
    )


PromiseState = Literal["on_time", "at_risk", "late"]


class RequiredSkillRead(OutputModel):
    skill: str
    min_level: int


class SiteBrief(OutputModel):
    id: int
    name: str
    address: str
    lat: float
    lon: float


class RequestBrief(OutputModel):
    """What the board shows of a request, planned or not."""

    request_id: int
    external_ref: str
    tier: str | None
    customer: str
    site: SiteBrief
    skills: list[RequiredSkillRead]
    service_minutes: int
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    promise_state: PromiseState


class VisitView(RequestBrief):
    """One visit as dispatchers see it."""

    visit_id: int
    status: str
    sequence: int
    arrival_target: dt.datetime | None
    planned_arrival: dt.datetime | None
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    eta: dt.datetime | None
    arrived_at: dt.datetime | None
    completed_at: dt.datetime | None
    travel_seconds: int
    lock: str
    locked_arrival: dt.datetime | None
    overrides: list[str] = Field(
        default_factory=list,
        description="the check's warnings a dispatcher accepted when putting the visit here "
        "(skill, shift for overtime, promise, ...); empty once a run re-plans it",
    )


class PositionSeen(OutputModel):
    """Where the engineer last reported being (the app's location reports), and when."""

    lat: float
    lon: float
    at: dt.datetime


class EngineerBrief(OutputModel):
    id: int
    name: str
    home: PointRead
    position: PositionSeen | None = Field(
        default=None, description="the last position reported that day, up to now"
    )


class ShiftView(OutputModel):
    start: dt.datetime
    end: dt.datetime
    break_start: dt.datetime | None
    break_end: dt.datetime | None
    break_minutes: int | None
    planned_break_start: dt.datetime | None
    planned_break_end: dt.datetime | None


class RouteView(OutputModel):
    engineer: EngineerBrief
    shift: ShiftView | None
    visits: list[VisitView]
    travel_seconds: int
    starts_from: OvernightStop | None = Field(
        default=None, description="the day starts away from home, where the engineer slept"
    )
    overnight: OvernightStop | None = Field(
        default=None, description="the day ends away from home: an out-of-town trip's night"
    )


class UnassignedView(RequestBrief):
    """An open request with no engineer yet, and why."""

    reason: str
    message: str | None


class PlanRead(OutputModel):
    """The plan of one service area on one day."""

    service_area_id: int
    date: dt.date
    timezone: str
    plan_version: int
    routes: list[RouteView]
    unassigned: list[UnassignedView]


class CheckWarning(OutputModel):
    code: str = Field(
        description="skill, capacity, shift, availability, promise, sla or delays_others"
    )
    message: str


class RouteEta(OutputModel):
    request_id: int
    eta: dt.datetime


class AssignmentRead(OutputModel):
    """What an assignment does (or would do, on a dry run), with the check's warnings."""

    request_id: int
    engineer_id: int
    date: dt.date
    position: int
    eta: dt.datetime | None
    warnings: list[CheckWarning]
    route: list[RouteEta] = Field(description="the engineer's day after the change")
    committed: bool


class CandidatesQuery(InputModel):
    request_id: Id
    date: Day


class SkillFit(OutputModel):
    skill: str
    level: int = Field(description="the engineer's level (0: none)")
    min_level: int = Field(description="what the request needs")


class Candidate(OutputModel):
    """An engineer who could take the request that day, with what it would mean."""

    engineer_id: int
    name: str
    qualified: bool = Field(description="every skill the request needs, at its level")
    skills: list[SkillFit]
    available: bool = Field(description="has a shift that day not yet over")
    reason: str | None = Field(description="why not available")
    eta: dt.datetime | None = Field(description="arrival at the best place in their route")
    travel_to_site_s: int | None = Field(description="the drive to the site, seconds")
    warnings: list[CheckWarning] = Field(description="the check's warnings other than skill")


class LockRead(OutputModel):
    visit_id: int
    lock: str
    locked_arrival: dt.datetime | None


class UnassignRead(OutputModel):
    request_id: int
    status: str
