"""Dispatch runs and plans over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas.common import InputModel, OutputModel


class RunScope(InputModel):
    service_area_ids: Annotated[list[int], Field(min_length=1)] | None = Field(
        default=None, description="omit for every area with engineers based"
    )


class RunCreate(InputModel):
    scope: RunScope = RunScope()
    horizon_start: dt.date
    days: Annotated[int, Field(ge=1, le=14)] = 1
    time_limit_s: Annotated[int, Field(ge=1, le=600)] = 30


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


class LockCreate(InputModel):
    kind: Literal["engineer", "time", "both"]
    arrival: dt.datetime | None = Field(
        default=None, description="for time locks: the arrival to keep (default: the planned one)"
    )


class AssignmentCreate(InputModel):
    request_id: int
    engineer_id: int
    date: dt.date
    position: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="place in the route (0 = first); omit for the best place"
    )
    dry_run: bool = Field(default=False, description="only check; change nothing")
    accept_warnings: bool = Field(
        default=False, description="commit although the check found warnings"
    )
