"""Service areas over HTTP (boundaries as GeoJSON)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field

from api.schemas.common import (
    Day,
    InputModel,
    Latitude,
    Longitude,
    Name,
    OutputModel,
    UpdateModel,
    Version,
)

HHMM = Annotated[str, Field(max_length=5, examples=["09:00"])]
Interval = Annotated[list[HHMM], Field(min_length=2, max_length=2, examples=[["09:00", "18:00"]])]

BOUNDARY_DOC = "GeoJSON Polygon or MultiPolygon (or a Feature with one), [lon, lat] order"


DayIntervals = Annotated[list[Interval], Field(max_length=12)]


class BusinessHours(InputModel):
    mon: DayIntervals = []
    tue: DayIntervals = []
    wed: DayIntervals = []
    thu: DayIntervals = []
    fri: DayIntervals = []
    sat: DayIntervals = []
    sun: DayIntervals = []


class TravelProfileIn(InputModel):
    """How much longer trips take when they start in an hour (on the area's local clock)."""

    rush_hours: (
        Annotated[
            list[tuple[Annotated[int, Field(ge=0, le=23)], Annotated[float, Field(gt=0, le=10)]]],
            Field(max_length=24, description="[local hour, multiplier]; [] for no rush hours"),
        ]
        | None
    ) = None
    rush_days: Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(max_length=7)] | None = (
        Field(default=None, description="weekdays the rush hours apply on, Monday = 0")
    )


class Lodging(InputModel):
    """Where engineers on an out-of-town trip stay in the area (a hotel the company uses)."""

    name: Annotated[str, Field(min_length=1, max_length=120, examples=["Jinjiang Inn, Kunshan"])]
    lat: Latitude
    lon: Longitude


class AreaCreate(InputModel):
    name: Name
    boundary: dict[str, Any] = Field(description=BOUNDARY_DOC)
    timezone: Annotated[str, Field(max_length=64, examples=["Asia/Shanghai"])]
    business_hours: BusinessHours
    holiday_country: Annotated[str, Field(max_length=8, examples=["CN"])] | None = None
    holiday_subdivision: Annotated[str, Field(max_length=16)] | None = None
    closed_dates: Annotated[list[Day], Field(max_length=1000)] = []
    working_dates: Annotated[list[Day], Field(max_length=1000)] = Field(
        default=[],
        description="make-up working days: open although a weekend or a public holiday, "
        "with the hours of a regular working day",
    )
    engineers_based: bool = True
    travel_profile: TravelProfileIn | None = None
    lodging: Lodging | None = Field(
        default=None, description="where engineers on a trip stay (out-of-town towns mostly)"
    )


class AreaUpdate(UpdateModel):
    nullable = frozenset(
        {"version", "holiday_country", "holiday_subdivision", "travel_profile", "lodging"}
    )

    name: Name | None = None
    boundary: dict[str, Any] | None = Field(default=None, description=BOUNDARY_DOC)
    timezone: Annotated[str, Field(max_length=64)] | None = None
    business_hours: BusinessHours | None = None
    holiday_country: Annotated[str, Field(max_length=8)] | None = None
    holiday_subdivision: Annotated[str, Field(max_length=16)] | None = None
    closed_dates: Annotated[list[Day], Field(max_length=1000)] | None = None
    working_dates: Annotated[list[Day], Field(max_length=1000)] | None = None
    engineers_based: bool | None = None
    travel_profile: TravelProfileIn | None = None
    lodging: Lodging | None = None
    version: Version | None = None


class AreaRead(OutputModel):
    id: int
    name: str
    boundary: dict[str, Any]
    timezone: str
    business_hours: dict[str, list[list[str]]]
    holiday_country: str | None
    holiday_subdivision: str | None
    closed_dates: list[str]
    working_dates: list[str]
    engineers_based: bool
    travel_profile: dict[str, Any] | None
    lodging: dict[str, Any] | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class AreaFeatureProperties(OutputModel):
    id: int
    name: str
    timezone: str
    engineers_based: bool


class AreaFeature(OutputModel):
    type: Literal["Feature"]
    id: int
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, [lon, lat]")
    properties: AreaFeatureProperties


class AreaFeatures(OutputModel):
    """Every service area as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[AreaFeature]
