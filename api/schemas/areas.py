"""Service areas over HTTP (boundaries as GeoJSON)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import InputModel, Name, OutputModel

Interval = Annotated[list[str], Field(min_length=2, max_length=2, examples=[["09:00", "18:00"]])]

BOUNDARY_DOC = "GeoJSON Polygon or MultiPolygon (or a Feature with one), [lon, lat] order"


class BusinessHours(InputModel):
    mon: list[Interval] = []
    tue: list[Interval] = []
    wed: list[Interval] = []
    thu: list[Interval] = []
    fri: list[Interval] = []
    sat: list[Interval] = []
    sun: list[Interval] = []


class AreaCreate(InputModel):
    name: Name
    boundary: dict[str, Any] = Field(description=BOUNDARY_DOC)
    timezone: Annotated[str, Field(examples=["Asia/Shanghai"])]
    business_hours: BusinessHours
    holiday_country: Annotated[str, Field(max_length=8, examples=["CN"])] | None = None
    holiday_subdivision: Annotated[str, Field(max_length=16)] | None = None
    closed_dates: list[dt.date] = []
    engineers_based: bool = True
    travel_profile: dict[str, Any] | None = None


class AreaUpdate(InputModel):
    name: Name | None = None
    boundary: dict[str, Any] | None = Field(default=None, description=BOUNDARY_DOC)
    timezone: str | None = None
    business_hours: BusinessHours | None = None
    holiday_country: Annotated[str, Field(max_length=8)] | None = None
    holiday_subdivision: Annotated[str, Field(max_length=16)] | None = None
    closed_dates: list[dt.date] | None = None
    engineers_based: bool | None = None
    travel_profile: dict[str, Any] | None = None
    version: int | None = None


class AreaRead(OutputModel):
    id: int
    name: str
    boundary: dict[str, Any]
    timezone: str
    business_hours: dict[str, list[list[str]]]
    holiday_country: str | None
    holiday_subdivision: str | None
    closed_dates: list[str]
    engineers_based: bool
    travel_profile: dict[str, Any] | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
