"""What past days say about how far real times stray from planned ones: the noise estimate
calibrated windows are made from.

Read from the visits of the last weeks: real travel (arrived - set off) against the planned
travel into each visit, by the local hour band of departure (a drive that ended as the window
opened counts as "at most this long", since the engineer may have waited at the door; a drive
more than four times longer or shorter than planned is a tap forgotten or made at the door, not
a road, and is left out); real time on site (completed -
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
MAX_TRAVEL_LOG_RATIO = math.log(4)  # beyond: an app tap at the wrong moment, not a drive
DOOR_WAIT_TOLERANCE = timedelta(minutes=1)  # an arrival this close after the window opened


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
            RepairRequest.window_start,
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
    censored: dict[int, list[float]] = defaultdict(list)
    service: dict[str, list[float]] = defaultdict(list)
    all_service: list[float] = []
    delays: list[float] = []
    first_of_day: set[tuple[int, object]] = set()
    for row in rows:
        tz = zones[row.service_area_id]
        if row.en_route_at and row.arrived_at:
            seen = drive_seen(row.en_route_at, row.arrived_at, row.travel_seconds, row.window_start)
            if seen is not None:
                band = band_of(row.en_route_at.astimezone(tz).hour)
                (censored if seen[1] else travel)[band].append(seen[0])
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
            band: blend(PRIOR_RUSH if band in rush else PRIOR_TRAVEL, travel[band], censored[band])
            for band in {*travel, *censored}
        },
        service={kind: blend(service_default, logs) for kind, logs in service.items() if kind},
        service_default=service_default,
        start_delay_min=_start_delay(delays),
    )


def drive_seen(
    set_off: datetime, arrived: datetime, planned_s: float, window_start: datetime | None
) -> tuple[float, bool] | None:
    """What a reported drive says about the roads: ``(log(real / planned), at_most)``, where
    ``at_most`` means the engineer reported the arrival as the window opened, so may have waited
    at the door and driven for less; ``None`` when it says nothing (a leg too short, or a ratio
    no road gives: an app tap forgotten or made at the door)."""
    if planned_s < MIN_PLANNED_TRAVEL_S:
        return None
    real = (arrived - set_off).total_seconds()
    if real <= 0:
        return None
    ratio = math.log(real / planned_s)
    if abs(ratio) > MAX_TRAVEL_LOG_RATIO:
        return None
    waited = (
        window_start is not None and window_start <= arrived <= window_start + DOOR_WAIT_TOLERANCE
    )
    return ratio, waited


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
