"""SLA analytics over HTTP."""

from __future__ import annotations

import datetime as dt

from pydantic import ConfigDict, Field

from api.schemas.common import OutputModel


class ResponseMinutes(OutputModel):
    mean: float | None
    median: float | None
    p90: float | None


class ArrivalMinutes(OutputModel):
    mean: float | None
    p90: float | None


class SlaFigures(OutputModel):
    """The service-level figures of one group (nearest-rank percentiles, shares 0-1)."""

    key: str | int | None
    label: str | None
    requests: int
    responses: int = Field(default=0, description="requests with a first response (its times)")
    arrivals: int = Field(default=0, description="visits arrived (arrival times, on-time rate)")
    promises_judged: int = Field(
        default=0, description="promises that could be kept or broken (broken-promise rate)"
    )
    with_response_due: int = Field(default=0, description="requests with a response due")
    with_resolution_due: int = Field(default=0, description="requests with a resolution due")
    first_response_min: ResponseMinutes
    arrival_min: ArrivalMinutes
    on_time_rate: float | None
    broken_promise_rate: float | None
    response_overdue_ratio: float | None
    resolution_overdue_ratio: float | None
    utilisation: float | None
    travel_share: float | None


class SlaReport(OutputModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: dt.date = Field(alias="from")
    to: dt.date
    tz: str
    group_by: str
    groups: list[SlaFigures]
    total: SlaFigures


class HeatmapCell(OutputModel):
    stage: str
    channel: str
    median_min: float | None
    count: int


class Heatmap(OutputModel):
    """Median minutes per stage and channel: where the time goes."""

    model_config = ConfigDict(populate_by_name=True)

    from_: dt.date = Field(alias="from")
    to: dt.date
    tz: str
    stages: list[str]
    channels: list[str]
    cells: list[HeatmapCell]
