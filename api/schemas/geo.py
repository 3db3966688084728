"""Travel-time matrices over HTTP (for debugging promises and plans)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from api.schemas.common import InputModel, Instant, OutputModel, Point


class TravelTimesQuery(InputModel):
    points: Annotated[list[Point], Field(min_length=1, max_length=100)]
    departure: Instant | None = Field(
        default=None, description="aware departure time, for rush-hour effects"
    )


class TravelTimesRead(OutputModel):
    provider: str
    estimated: bool
    durations_s: list[list[int | None]] = Field(
        description="row = from, column = to; null = unreachable"
    )
    distances_m: list[list[int | None]]
