"""What past days say about how far real times stray from planned ones: the noise estimate
calibrated windows are made from.

Read from the visits of the last weeks: real travel (arrived - set off) against the planned
travel into each visit, by the local hour band of departure; real time on site (completed -
arrived) against the request's estimate, by problem type; and how late engineer-days start
(the first set-off against the planned one). Few observations leave the documented prior in
charge (``dispatch.promise.calibration``).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Engineer, RepairRequest, ServiceArea, Visit
from dispatch.models.enums import VisitStatus
from dispatch.promise.calibration import (
    BANDS,
    PRIOR_RUSH,
    PRIOR_SERVICE,
    PRIOR_START_DELAY_MIN,
    PRIOR_TRAVEL,
    PRIOR_WEIGHT,
    NoiseEstimate,
    band_of,
    blend,
)

LOOKBACK = timedelta(days=28)
MIN_PLANNED_TRAVEL_S = 120  # shorter legs say more about parking than about roads


def learn_noise(session: Session, *, area_ids: Sequence[int], now: datetime) -> NoiseEstimate:
    """The noise estimate of the areas from their engineers' visits of the last four weeks."""
    zones = {
        a.id: ZoneInfo(a.timezone)
        for a in session.scalars(select(ServiceArea).where(ServiceArea.id.in_(area_ids)))
    }
    rows = session.execute(
        select(
            Visit.engineer_id,
            Visit.date,
            Visit.sequence,
            Visit.en_route_at,
            Visit.arrived_at,
            Visit.completed_at,
            Visit.travel_seconds,
            Visit.planned_arrival,
            RepairRequest.service_minutes,
            RepairRequest.problem_type,
            Engineer.service_area_id,
        )
        .join(RepairRequest, RepairRequest.id == Visit.request_id)
        .join(Engineer, Engineer.id == Visit.engineer_id)
        .where(
            Engineer.service_area_id.in_(area_ids),
            Visit.status == VisitStatus.COMPLETED.value,
            Visit.arrived_at >= now - LOOKBACK,
            Visit.arrived_at <= now,
        )
        .order_by(Visit.engineer_id, Visit.date, Visit.sequence)
    ).all()
    travel: dict[int, list[float]] = defaultdict(list)
    service: dict[str, list[float]] = defaultdict(list)
    all_service: list[float] = []
    delays: list[float] = []
    first_of_day: set[tuple[int, object]] = set()
    for row in rows:
        tz = zones[row.service_area_id]
        if row.en_route_at and row.arrived_at and row.travel_seconds >= MIN_PLANNED_TRAVEL_S:
            real = (row.arrived_at - row.en_route_at).total_seconds()
            if real > 0:
                band = band_of(row.en_route_at.astimezone(tz).hour)
                travel[band].append(math.log(real / row.travel_seconds))
        if row.arrived_at and row.completed_at and row.service_minutes:
            real = (row.completed_at - row.arrived_at).total_seconds()
            if real > 0:
                value = math.log(real / (row.service_minutes * 60))
                service[row.problem_type or ""].append(value)
                all_service.append(value)
        day = (row.engineer_id, row.date)
        if day not in first_of_day and row.en_route_at:
            first_of_day.add(day)
            planned_departure = row.planned_arrival - timedelta(seconds=row.travel_seconds)
            delays.append(max(0.0, (row.en_route_at - planned_departure).total_seconds() / 60))
    rush = {i for i, b in enumerate(BANDS) if b in ((7, 10), (16, 19))}
    service_default = blend(PRIOR_SERVICE, all_service)
    return NoiseEstimate(
        travel={
            band: blend(PRIOR_RUSH if band in rush else PRIOR_TRAVEL, logs)
            for band, logs in travel.items()
        },
        service={kind: blend(service_default, logs) for kind, logs in service.items() if kind},
        service_default=service_default,
        start_delay_min=_start_delay(delays),
    )


def _start_delay(delays: list[float]) -> tuple[float, float]:
    mean0, sd0 = PRIOR_START_DELAY_MIN
    n = len(delays)
    if n == 0:
        return mean0, sd0
    mean = sum(delays) / n
    var = sum((d - mean) ** 2 for d in delays) / n
    w = PRIOR_WEIGHT
    blended_mean = (w * mean0 + n * mean) / (w + n)
    blended_var = (w * sd0 * sd0 + n * var) / (w + n)
    return blended_mean, math.sqrt(blended_var)


class NoiseCache:
    """Per-process cache of noise estimates per area (history moves slowly)."""

    def __init__(self, ttl: timedelta = timedelta(minutes=30)) -> None:
        self.ttl = ttl
        self._found: dict[int, tuple[datetime, NoiseEstimate]] = {}
        self._lock = threading.Lock()

    def estimate(self, session: Session, area_id: int, now: datetime) -> NoiseEstimate:
        found = self._found.get(area_id)
        if found is not None and timedelta(0) <= now - found[0] < self.ttl:
            return found[1]
        estimate = learn_noise(session, area_ids=[area_id], now=now)
        with self._lock:
            self._found[area_id] = (now, estimate)
        return estimate
