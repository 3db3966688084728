"""The engineer's mobile app over HTTP: my route, progress reports, position pings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from api.schemas.common import (
    InputModel,
    Instant,
    Latitude,
    Longitude,
    OutputModel,
    OvernightStop,
)
from api.schemas.dispatch import PromiseState, RequiredSkillRead


class VisitEventCreate(InputModel):
    type: Literal["accepted", "en_route", "arrived", "completed", "cannot_complete"]
    at: Instant | None = Field(default=None, description="when it happened; now if omitted")
    lat: Latitude | None = None
    lon: Longitude | None = None
    reason: Annotated[str, Field(max_length=500)] | None = Field(
        default=None,
        description="why a visit cannot be completed; needs_parts or needs_second_visit "
        "(optionally followed by ': a note') keeps the request open for a return visit",
    )
    ready_at: Instant | None = Field(
        default=None,
        description="a return visit: when it can be made (parts in); default 24 h after the "
        "report for needs_parts, at once for needs_second_visit",
    )


class VisitDecline(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")] = Field(
        description="why I cannot take the visit (the dispatcher and the timeline see it)"
    )


class VisitDeclined(OutputModel):
    visit_id: int
    request_id: int
    duplicate: bool = Field(description="a repeat of my earlier decline: nothing changed")
    replan_run_id: int | None = Field(
        description="the re-plan of the area for the visit's day; null for a repeat, or when "
        "that day has nothing left to plan (the desk is alerted instead)"
    )


class LocationCreate(InputModel):
    lat: Latitude
    lon: Longitude
    at: Instant | None = None
    accuracy_m: Annotated[float, Field(ge=0, le=100_000)] | None = None


class VisitEventRead(OutputModel):
    visit_id: int
    status: str
    duplicate: bool = Field(description="a repeat of the last report: nothing changed")
    newly_at_risk: list[int] = Field(description="requests of my day whose window now looks lost")
    return_window_start: dt.datetime | None = Field(
        default=None, description="a return visit: the window the customer is now promised"
    )
    return_window_end: dt.datetime | None = None


class LocationRead(OutputModel):
    accepted: bool
    newly_at_risk: list[int]


class MyRequest(OutputModel):
    id: int
    external_ref: str
    tier: str | None
    problem_type: str | None
    description: str


class MyCustomer(OutputModel):
    name: str
    contact_name: str | None
    phone: str | None


class MySite(OutputModel):
    name: str
    address: str
    lat: float
    lon: float


class Navigation(OutputModel):
    geo_uri: str
    osm_url: str


class MyVisit(OutputModel):
    visit_id: int
    sequence: int
    status: str
    request: MyRequest
    customer: MyCustomer
    site: MySite
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    planned_arrival: dt.datetime | None
    eta: dt.datetime | None
    service_minutes: int
    required_skills: list[RequiredSkillRead]
    promise_state: PromiseState
    navigation: Navigation


class MyShift(OutputModel):
    start: dt.datetime
    end: dt.datetime
    break_start: dt.datetime | None = Field(description="the break's window opens")
    break_end: dt.datetime | None = Field(description="the break's window closes")
    break_minutes: int | None
    planned_break_start: dt.datetime | None = Field(
        description=(
            "when the plan has the break; it may be after the window on a day with urgent "
            "work, which the break waits for (by at most that visit's length and its own)"
        )
    )
    planned_break_end: dt.datetime | None


class MyEngineer(OutputModel):
    id: int
    name: str


class LineString(OutputModel):
    type: Literal["LineString"]
    coordinates: list[list[float]]


class MyRoute(OutputModel):
    """My day: the shift and the visits in order, with everything needed on the doorstep."""

    date: dt.date
    engineer: MyEngineer
    shift: MyShift | None
    visits: list[MyVisit]
    starts_from: OvernightStop | None = Field(
        default=None, description="I start the day here, not at home (a trip's night)"
    )
    overnight: OvernightStop | None = Field(
        default=None, description="I end the day here and sleep away from home (a trip)"
    )
    geometry: LineString | None = None
