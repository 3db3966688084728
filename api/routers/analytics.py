"""Service-level analytics for managers and dispatchers, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import ClockDep, DispatcherUser, SessionDep
from api.schemas.analytics import Heatmap, SlaReport
from api.schemas.common import Day, QueryText
from dispatch.analytics import service

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

From = Annotated[Day, Query(alias="from", description="first local date (inclusive)")]
To = Annotated[Day, Query(alias="to", description="last local date (exclusive)")]
Tz = Annotated[QueryText, Query(description="IANA timezone the dates are in")]
Format = Annotated[Literal["json", "csv"], Query(alias="format")]
CSV = {200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}}


@router.get("/sla", response_model=SlaReport, response_model_by_alias=True, responses=CSV)
def sla(
    session: SessionDep,
    clock: ClockDep,
    user: DispatcherUser,
    start: From,
    end: To,
    group_by: Annotated[
        Literal["channel", "tier", "locality", "area", "engineer", "day"], Query()
    ] = "channel",
    tz: Tz = "UTC",
    format_: Format = "json",
) -> Any:
    """Response and arrival times, on-time and broken-promise rates, overdue ratios, per group."""
    report = service.sla_report(
        session, start=start, end=end, group_by=group_by, tz=tz, now=clock.now()
    )
    if format_ == "csv":
        return _csv(service.sla_csv(report), f"sla-{group_by}-{start}-{end}.csv")
    return report


@router.get("/heatmap", response_model=Heatmap, response_model_by_alias=True, responses=CSV)
def heatmap(
    session: SessionDep,
    user: DispatcherUser,
    start: From,
    end: To,
    tz: Tz = "UTC",
    format_: Format = "json",
) -> Any:
    """Median minutes per stage (response, travel, on site, resolution) and channel."""
    report = service.heatmap(session, start=start, end=end, tz=tz)
    if format_ == "csv":
        return _csv(service.heatmap_csv(report), f"heatmap-{start}-{end}.csv")
    return report


def _csv(text: str, filename: str) -> Response:
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
