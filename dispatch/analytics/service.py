"""Service-level analytics, computed in SQL on both databases.

Definitions (DOMAIN.md "Measures managers ask for"):

* A request belongs to the period in which it was received; ``from`` and ``to`` are local dates
  in ``tz`` (from inclusive, to exclusive). ``group_by=day`` groups by the local date at the UTC
  offset ``tz`` has at the start of the period.
* First-response time: received -> first effective contact (acknowledged). On-site arrival
  time: received -> the engineer's arrival. Medians and 90th percentiles use the nearest-rank
  method (the value at rank ``ceil(p * n)`` in ascending order).
* On-time arrival rate: arrivals inside the promised window, over all arrivals. Broken-promise
  rate: arrivals outside the window plus cancellations by us, over arrivals plus cancellations by
  us.
* Response overdue: the first-response deadline passed without a response (late, or none by now
  unless cancelled first). Resolution overdue: the resolution deadline passed without the
  request being completed by then (cancelled requests are left out).
* ``group_by=engineer`` groups requests by the engineer of their current visit; requests without
  one (not planned yet, or cancelled) form the group ``null`` ("unassigned").
* Per engineer (``group_by=engineer``, over the visits dated in the period): utilisation =
  (service + travel) / (shift - break); travel share = travel / (service + travel). Service is
  the reported time on site when the visit was completed, else the planned service time.
* Heatmap stages: response (received -> acknowledged), travel (en route -> arrived), on site
  (arrived -> completed), resolution (received -> completed).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from dispatch.analytics.sql import local_date, minutes_between
from dispatch.errors import InvalidInput
from dispatch.models import Engineer, RepairRequest, ServiceArea, Shift, Visit
from dispatch.models.enums import Channel, RequestStatus, VisitStatus

GROUPS = ("channel", "tier", "locality", "area", "engineer", "day")
STAGES = ("response", "travel", "on_site", "resolution")
MAX_DAYS = 366


def period(start: date, end: date, tz: str) -> tuple[datetime, datetime, int]:
    """UTC bounds of local dates [start, end) and the UTC offset (minutes) at the start."""
    if end <= start:
        raise InvalidInput("to", "the period must end after it starts")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput("to", f"at most {MAX_DAYS} days at a time")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("tz", f"unknown IANA timezone {tz!r}") from None
    lo = datetime.combine(start, datetime.min.time(), zone)
    hi = datetime.combine(end, datetime.min.time(), zone)
    offset = lo.utcoffset() or timedelta(0)
    return lo.astimezone(UTC), hi.astimezone(UTC), int(offset.total_seconds() // 60)


def _last_visit() -> Any:
    """Each request's current (or final) visit: the newest that was not cancelled."""
    return (
        select(Visit.request_id, func.max(Visit.id).label("visit_id"))
        .where(Visit.status != VisitStatus.CANCELLED.value)
        .group_by(Visit.request_id)
        .subquery()
    )


def _base(lo: datetime, hi: datetime) -> Any:
    """Requests received in the period with their visit's timestamps, one row each."""
    last = _last_visit()
    return (
        select(
            RepairRequest.id.label("request_id"),
            RepairRequest.channel,
            RepairRequest.tier,
            RepairRequest.locality,
            RepairRequest.base_area_id.label("area_id"),
            RepairRequest.status,
            RepairRequest.received_at,
            RepairRequest.acknowledged_at,
            RepairRequest.first_response_due,
            RepairRequest.resolution_due,
            RepairRequest.window_start,
            RepairRequest.window_end,
            RepairRequest.closed_at,
            RepairRequest.cancelled_by,
            Visit.engineer_id,
            Visit.en_route_at,
            Visit.arrived_at,
            Visit.completed_at,
        )
        .select_from(RepairRequest)
        .outerjoin(last, last.c.request_id == RepairRequest.id)
        .outerjoin(Visit, Visit.id == last.c.visit_id)
        .where(RepairRequest.received_at >= lo, RepairRequest.received_at < hi)
        .subquery()
    )


def _key(base: Any, group_by: str, offset: int) -> ColumnElement[Any]:
    if group_by == "day":
        return local_date(base.c.received_at, offset)
    column = {"area": "area_id", "engineer": "engineer_id"}.get(group_by, group_by)
    return base.c[column]


def _ratio(numerator: ColumnElement[Any], denominator: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((denominator > 0, cast(numerator, Float) / cast(denominator, Float)), else_=None)


def _stats(
    session: Session, keys_and_values: Any, percentiles: Sequence[int], *, grouped: bool = True
) -> dict[Any, dict[str, float | int | None]]:
    """Mean and nearest-rank percentiles of ``v`` per ``k`` over a (k, v) selectable (over all
    rows, keyed "all", when not ``grouped``)."""
    vals = keys_and_values.subquery()
    partition = {"partition_by": vals.c.k} if grouped else {}
    ranked = select(
        vals.c.k,
        vals.c.v,
        func.row_number().over(order_by=vals.c.v, **partition).label("rn"),
        func.count().over(**partition).label("n"),
    ).subquery()
    key = ranked.c.k if grouped else literal("all").label("k")
    columns = [key, func.avg(ranked.c.v).label("mean"), func.count().label("count")]
    for p in percentiles:
        rank = (ranked.c.n * p + 99) // 100  # ceil(n * p / 100) in integers
        columns.append(func.max(case((ranked.c.rn == rank, ranked.c.v))).label(f"p{p}"))
    query = select(*columns)
    if grouped:
        query = query.group_by(ranked.c.k)
    out = {}
    for row in session.execute(query):
        if row.count == 0:
            continue
        out[_norm(row.k)] = {
            "mean": row.mean,
            "count": row.count,
            **{f"p{p}": getattr(row, f"p{p}") for p in percentiles},
        }
    return out


def _norm(key: Any) -> Any:
    # SQLite answers dates as text, PostgreSQL as dates: one form for both.
    if isinstance(key, date):
        return key.isoformat()
    return key


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


def sla_report(
    session: Session,
    *,
    start: date,
    end: date,
    group_by: str,
    tz: str = "UTC",
    now: datetime,
) -> dict[str, Any]:
    """The service-level figures of the period, per group and in total."""
    if group_by not in GROUPS:
        raise InvalidInput("group_by", f"group by one of {', '.join(GROUPS)}")
    lo, hi, offset = period(start, end, tz)
    base = _base(lo, hi)
    per_group = _report(session, base, _key(base, group_by, offset), now)
    total = _report(session, base, None, now).get("all") or _empty("all")
    if group_by == "engineer":
        usage = _engineer_usage(session, start, end)
        for key, figures in per_group.items():
            figures.update(usage.get(key, {"utilisation": None, "travel_share": None}))
    labels = _labels(session, group_by)
    groups = [
        {"key": key, "label": labels(key)} | figures
        for key, figures in sorted(per_group.items(), key=lambda kv: (kv[0] is None, str(kv[0])))
    ]
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tz": tz,
        "group_by": group_by,
        "groups": groups,
        "total": {"key": "all", "label": "all"} | total,
    }


def _empty(key: Any) -> dict[str, Any]:
    return {
        "requests": 0,
        # What each figure is based on: its denominator.
        "responses": 0,
        "arrivals": 0,
        "promises_judged": 0,
        "with_response_due": 0,
        "with_resolution_due": 0,
        "first_response_min": {"mean": None, "median": None, "p90": None},
        "arrival_min": {"mean": None, "p90": None},
        "on_time_rate": None,
        "broken_promise_rate": None,
        "response_overdue_ratio": None,
        "resolution_overdue_ratio": None,
        "utilisation": None,
        "travel_share": None,
    }


def _report(
    session: Session, base: Any, key: ColumnElement[Any] | None, now: datetime
) -> dict[Any, dict[str, Any]]:
    """Figures per value of ``key``; over all rows (keyed "all") when ``key`` is None."""
    c = base.c
    grouped = key is not None
    k = key if key is not None else literal("all")
    arrived = c.arrived_at.is_not(None)
    inside = and_(arrived, c.arrived_at >= c.window_start, c.arrived_at <= c.window_end)
    by_us = c.cancelled_by == "us"
    cancelled = c.status == RequestStatus.CANCELLED.value
    response_overdue = or_(
        c.acknowledged_at > c.first_response_due,
        and_(
            c.acknowledged_at.is_(None),
            c.first_response_due < now,
            ~and_(cancelled, c.closed_at <= c.first_response_due),
        ),
    )
    resolved_in_time = and_(
        c.status == RequestStatus.COMPLETED.value, c.closed_at <= c.resolution_due
    )
    resolution_overdue = and_(~resolved_in_time, c.resolution_due < now)

    def count_if(condition: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    counts = select(
        k.label("k"),
        func.count().label("requests"),
        count_if(arrived).label("arrived"),
        count_if(c.acknowledged_at.is_not(None)).label("responded"),
        count_if(inside).label("inside"),
        count_if(by_us).label("by_us"),
        count_if(c.first_response_due.is_not(None)).label("with_response_due"),
        count_if(and_(c.first_response_due.is_not(None), response_overdue)).label("resp_overdue"),
        count_if(and_(c.resolution_due.is_not(None), ~cancelled)).label("with_resolution_due"),
        count_if(and_(c.resolution_due.is_not(None), ~cancelled, resolution_overdue)).label(
            "resol_overdue"
        ),
    )
    if key is not None:
        counts = counts.group_by(key)
    out: dict[Any, dict[str, Any]] = {}
    rows = {_norm(r.k): r for r in session.execute(counts) if r.requests}
    response = _stats(
        session,
        select(k.label("k"), minutes_between(c.acknowledged_at, c.received_at).label("v")).where(
            c.acknowledged_at.is_not(None)
        ),
        (50, 90),
        grouped=grouped,
    )
    arrival = _stats(
        session,
        select(k.label("k"), minutes_between(c.arrived_at, c.received_at).label("v")).where(
            arrived
        ),
        (90,),
        grouped=grouped,
    )
    for k, r in rows.items():
        first = response.get(k, {})
        arr = arrival.get(k, {})
        out[k] = _empty(k) | {
            "requests": r.requests,
            "responses": r.responded or 0,
            "arrivals": r.arrived or 0,
            "promises_judged": (r.arrived or 0) + (r.by_us or 0),
            "with_response_due": r.with_response_due or 0,
            "with_resolution_due": r.with_resolution_due or 0,
            "first_response_min": {
                "mean": _round(first.get("mean")),
                "median": _round(first.get("p50")),
                "p90": _round(first.get("p90")),
            },
            "arrival_min": {"mean": _round(arr.get("mean")), "p90": _round(arr.get("p90"))},
            "on_time_rate": _frac(r.inside, r.arrived),
            "broken_promise_rate": _frac(
                (r.arrived or 0) - (r.inside or 0) + (r.by_us or 0),
                (r.arrived or 0) + (r.by_us or 0),
            ),
            "response_overdue_ratio": _frac(r.resp_overdue, r.with_response_due),
            "resolution_overdue_ratio": _frac(r.resol_overdue, r.with_resolution_due),
        }
    return out


def _frac(numerator: int | None, denominator: int | None) -> float | None:
    if not denominator:
        return None
    return round((numerator or 0) / denominator, 4)


def _engineer_usage(session: Session, start: date, end: date) -> dict[Any, dict[str, Any]]:
    """Utilisation and travel share per engineer over the visits and shifts of the period."""
    completed = Visit.status == VisitStatus.COMPLETED.value
    service = case(
        (
            and_(completed, Visit.arrived_at.is_not(None)),
            minutes_between(Visit.completed_at, Visit.arrived_at),
        ),
        else_=minutes_between(Visit.planned_end, Visit.planned_start),
    )
    work = (
        select(
            Visit.engineer_id.label("engineer_id"),
            func.sum(service).label("service"),
            func.sum(cast(Visit.travel_seconds, Float) / 60.0).label("travel"),
        )
        .where(Visit.date >= start, Visit.date < end, Visit.status != VisitStatus.CANCELLED.value)
        .group_by(Visit.engineer_id)
    )
    shifts = (
        select(
            Shift.engineer_id,
            func.sum(
                minutes_between(Shift.end_at, Shift.start_at)
                - func.coalesce(Shift.break_minutes, 0)
            ).label("shift"),
        )
        .where(Shift.date >= start, Shift.date < end)
        .group_by(Shift.engineer_id)
    )
    available = {r.engineer_id: r.shift for r in session.execute(shifts)}
    out = {}
    for r in session.execute(work):
        busy = (r.service or 0) + (r.travel or 0)
        shift = available.get(r.engineer_id)
        out[r.engineer_id] = {
            "utilisation": round(busy / shift, 4) if shift else None,
            "travel_share": round((r.travel or 0) / busy, 4) if busy else None,
        }
    return out


def _labels(session: Session, group_by: str) -> Any:
    if group_by == "area":
        names = dict(session.execute(select(ServiceArea.id, ServiceArea.name)).all())
        return lambda k: names.get(k, "no area") if k is not None else "no area"
    if group_by == "engineer":
        names = dict(session.execute(select(Engineer.id, Engineer.name)).all())
        return lambda k: names.get(k, "unassigned") if k is not None else "unassigned"
    return lambda k: str(k) if k is not None else "none"


def heatmap(session: Session, *, start: date, end: date, tz: str = "UTC") -> dict[str, Any]:
    """Median minutes per stage and channel: where the time goes."""
    lo, hi, _ = period(start, end, tz)
    c = _base(lo, hi).c
    completed = c.status == RequestStatus.COMPLETED.value
    parts = [
        select(
            literal("response").label("stage"),
            c.channel.label("channel"),
            minutes_between(c.acknowledged_at, c.received_at).label("v"),
        ).where(c.acknowledged_at.is_not(None)),
        select(literal("travel"), c.channel, minutes_between(c.arrived_at, c.en_route_at)).where(
            c.arrived_at.is_not(None), c.en_route_at.is_not(None)
        ),
        select(literal("on_site"), c.channel, minutes_between(c.completed_at, c.arrived_at)).where(
            c.completed_at.is_not(None), c.arrived_at.is_not(None)
        ),
        select(literal("resolution"), c.channel, minutes_between(c.closed_at, c.received_at)).where(
            completed, c.closed_at.is_not(None)
        ),
    ]
    stages = union_all(*parts).subquery()
    keyed = select(
        (stages.c.stage + literal("|") + stages.c.channel).label("k"), stages.c.v.label("v")
    )
    stats = _stats(session, keyed, (50,))
    channels = [ch.value for ch in Channel]
    cells = []
    for stage in STAGES:
        for channel in channels:
            found = stats.get(f"{stage}|{channel}", {})
            cells.append(
                {
                    "stage": stage,
                    "channel": channel,
                    "median_min": _round(found.get("p50")),
                    "count": found.get("count", 0),
                }
            )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tz": tz,
        "stages": list(STAGES),
        "channels": channels,
        "cells": cells,
    }


def sla_csv(report: dict[str, Any]) -> str:
    """The SLA report as CSV, one row per group and a total row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            report["group_by"],
            "label",
            "requests",
            "first_response_mean_min",
            "first_response_median_min",
            "first_response_p90_min",
            "arrival_mean_min",
            "arrival_p90_min",
            "on_time_rate",
            "broken_promise_rate",
            "response_overdue_ratio",
            "resolution_overdue_ratio",
            "utilisation",
            "travel_share",
        ]
    )
    for g in [*report["groups"], report["total"]]:
        writer.writerow(
            [
                g["key"],
                g["label"],
                g["requests"],
                g["first_response_min"]["mean"],
                g["first_response_min"]["median"],
                g["first_response_min"]["p90"],
                g["arrival_min"]["mean"],
                g["arrival_min"]["p90"],
                g["on_time_rate"],
                g["broken_promise_rate"],
                g["response_overdue_ratio"],
                g["resolution_overdue_ratio"],
                g["utilisation"],
                g["travel_share"],
            ]
        )
    return buffer.getvalue()


def heatmap_csv(report: dict[str, Any]) -> str:
    """The heatmap as CSV: stage, channel, median minutes, count."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["stage", "channel", "median_min", "count"])
    for cell in report["cells"]:
        writer.writerow([cell["stage"], cell["channel"], cell["median_min"], cell["count"]])
    return buffer.getvalue()
