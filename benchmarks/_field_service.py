"""The planted field day fed through the service, as a customer would feed it.

An area and its engineers (skills with levels, the day's shift and lunch break, home), a site
per job, then every job as a request through ``POST /v1/requests`` (capacity-aware intake) with
the customer's availability, and a dispatch run over the day. Travel is the generator's own,
served through the travel-provider interface (``geo.matrix.MatrixProvider``), with no rush
hours, so the planted plan stays feasible on the service's roads.

Each time limit runs on a copy of the same database, so every run starts from the same state.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from _field_gen import CITY_RADIUS_M, HOUR, FieldDay

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from dispatch.areas.service import create_area  # noqa: E402
from dispatch.auth.service import create_api_key  # noqa: E402
from dispatch.clock import FixedClock  # noqa: E402
from dispatch.customers.service import create_customer, create_site  # noqa: E402
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work  # noqa: E402
from dispatch.engineers.service import create_engineer, create_skill  # noqa: E402
from dispatch.geo_support import GeoContext  # noqa: E402
from dispatch.models import DispatchRun  # noqa: E402
from dispatch.planning.runs import create_run, execute_run  # noqa: E402
from dispatch.planning.solver import ProcessSolver  # noqa: E402
from dispatch.settings import Settings  # noqa: E402
from geo.cache import CachedProvider  # noqa: E402
from geo.matrix import TravelMatrix  # noqa: E402
from geo.types import as_points  # noqa: E402

ZONE = "Asia/Shanghai"
CENTRE = (31.23, 121.47)
M_PER_DEG = 111_320.0
# Monday 23 November 2026 in Shanghai: midnight (the generator's time 0) and 06:30, when the
# desk takes the day's requests.
MIDNIGHT = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
INTAKE_AT = MIDNIGHT + timedelta(hours=6, minutes=30)
TIER = {"urgent": "important", "important": "important", "general": "general"}
"""Planted priorities as tiers. Urgent calls are taken as they come and divert an engineer at
once (a run each); a day's bulk feed has none, so its most pressing jobs are important."""


def to_latlon(p: tuple[float, float]) -> tuple[float, float]:
    lat = CENTRE[0] + p[1] / M_PER_DEG
    lon = CENTRE[1] + p[0] / (M_PER_DEG * math.cos(math.radians(CENTRE[0])))
    return (round(lat, 6), round(lon, 6))


def to_metres(lat: float, lon: float) -> tuple[float, float]:
    return (
        (lon - CENTRE[1]) * M_PER_DEG * math.cos(math.radians(CENTRE[0])),
        (lat - CENTRE[0]) * M_PER_DEG,
    )


class PlantedProvider:
    """The generator's travel times for any points: each known point's exact planted position,
    others by the same road model from their coordinates."""

    name = "planted"

    def __init__(self, points: list[tuple[float, float]]) -> None:
        self._known = {to_latlon(p): p for p in points}

    def _metres(self, lat: float, lon: float) -> tuple[float, float]:
        return self._known.get((round(lat, 6), round(lon, 6))) or to_metres(lat, lon)

    def matrix(
        self, origins: Any, destinations: Any = None, *, departure: Any = None, area: Any = None
    ) -> TravelMatrix:
        a = np.array([self._metres(lat, lon) for lat, lon in as_points(origins, "origins")])
        b = (
            a
            if destinations is None
            else np.array(
                [self._metres(lat, lon) for lat, lon in as_points(destinations, "destinations")]
            )
        )
        a, b = a.reshape(-1, 2), b.reshape(-1, 2)
        # _field_gen.road and travel_time, on arrays (the same integers).
        straight = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
        metres = np.ceil(1.3 * straight)
        town = np.minimum(metres, 5000.0)
        seconds = np.ceil(town / 8.33 + (metres - town) / 19.4)
        return TravelMatrix(
            seconds.astype(np.int32), metres.astype(np.int32), provider=self.name, estimated=False
        )


@dataclass(frozen=True)
class Fed:
    """The database with the day taken, and what intake took to take it."""

    url: str
    area_id: int
    intake_ms: list[float]
    geo: GeoContext


def _clock(seconds: int) -> str:
    return f"{seconds // HOUR:02d}:{seconds % HOUR // 60:02d}"


def feed(day: FieldDay, directory: str) -> Fed:
    """Set up the area and its engineers, and take every job as a request over HTTP."""
    problem = day.problem
    url = f"sqlite:///{directory}/field.db"
    migrate(url)
    planted = PlantedProvider(day.points)
    # As the service sets up its own provider: planning matrices cached, single sites asked.
    geo = GeoContext(CachedProvider(planted), point_provider=planted)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    half = (CITY_RADIUS_M + 5_000) / M_PER_DEG
    lat0, lon0 = CENTRE
    wide = half / math.cos(math.radians(lat0))
    ring = [
        [lon0 - wide, lat0 - half],
        [lon0 + wide, lat0 - half],
        [lon0 + wide, lat0 + half],
        [lon0 - wide, lat0 + half],
        [lon0 - wide, lat0 - half],
    ]
    skills = sorted({s for e in problem.engineers for s in e.skills})
    sites: list[int] = []
    with unit_of_work(factory) as session:
        for code in skills:
            create_skill(session, code=code, name=code.title())
        area = create_area(
            session,
            name="City",
            boundary={"type": "Polygon", "coordinates": [ring]},
            timezone=ZONE,
            business_hours={d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
            travel_profile={"rush_hours": []},
        )
        area_id = area.id
        for i, engineer in enumerate(problem.engineers):
            shift = engineer.shifts[0]
            home = to_latlon(day.points[shift.start_location])
            lunch = shift.break_
            assert lunch is not None
            template = {
                "start": _clock(shift.start),
                "end": _clock(shift.end),
                "break_start": _clock(lunch.earliest_start),
                "break_end": _clock(lunch.latest_start + lunch.duration_s),
                "break_minutes": lunch.duration_s // 60,
            }
            create_engineer(
                session,
                name=f"Engineer {i:03d}",
                home_lat=home[0],
                home_lon=home[1],
                service_area_id=area_id,
                skills=[{"skill": s, "level": lv} for s, lv in engineer.skills.items()],
                weekly_template={"mon": template},
                max_visits=25,
                max_work_minutes=(shift.end - shift.start) // 60,
            )
        customer = create_customer(session, name="Field customer").id
        for job in problem.jobs:
            lat, lon = to_latlon(day.points[job.location])
            site = create_site(
                session, geo, customer_id=customer, name=job.id, address=job.id, lat=lat, lon=lon
            )
            sites.append(site.id)
    engine.dispose()

    app = create_app(Settings(database_url=url, solver="inline"))
    app.state.geo = geo
    app.state.clock = FixedClock(INTAKE_AT)
    with unit_of_work(app.state.session_factory) as session:
        key = create_api_key(session, role="service_desk", name="bench").key
    headers = {"Authorization": f"Bearer {key}"}
    day_from, day_to = problem.engineers[0].shifts[0].start, problem.engineers[0].shifts[0].end
    latencies = []
    with TestClient(app) as client:
        for job, site_id in zip(problem.jobs, sites, strict=True):
            # The customer's availability: their window, or the working day when they have none.
            windows = [(w.start, w.end) for w in job.windows] or [(day_from, day_to)]
            body = {
                "external_ref": job.id,
                "site_id": site_id,
                "channel": "phone",
                "tier": TIER[job.priority.value],
                "skills": [{"skill": s, "min_level": lv} for s, lv in job.skills.items()],
                "service_minutes": math.ceil(job.service_s / 60),
                "availability": [
                    {
                        "start": (MIDNIGHT + timedelta(seconds=a)).isoformat(),
                        "end": (MIDNIGHT + timedelta(seconds=b)).isoformat(),
                    }
                    for a, b in windows
                ],
            }
            started = time.perf_counter()
            response = client.post("/v1/requests", json=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise SystemExit(f"intake refused {job.id}: {response.status_code} {response.text}")
    app.state.engine.dispose()
    return Fed(url, area_id, latencies, geo)


def run(fed: Fed, limit: float, directory: str) -> dict[str, float | int | None]:
    """One dispatch run over the day on a copy of the fed database; its figures."""
    copy = Path(directory) / f"run_{limit:g}.db"
    shutil.copyfile(fed.url.removeprefix("sqlite:///"), copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        run_id = create_run(
            session,
            area_ids=[fed.area_id],
            horizon_start=INTAKE_AT.astimezone(ZoneInfo(ZONE)).date(),
            days=1,
            time_limit_s=limit,
            actor="bench",
            now=INTAKE_AT,
        ).id
    solver = ProcessSolver()
    solver.warm()  # a running service has its worker process warm; measure the run
    started = time.perf_counter()
    execute_run(factory, fed.geo, solver, run_id, clock=FixedClock(INTAKE_AT))
    wall = time.perf_counter() - started
    solver.close()
    with factory() as session:
        finished = session.get(DispatchRun, run_id)
        assert finished is not None
        kpis = finished.kpis_after or {}
        status = finished.status
        timings = finished.timings or {}
    engine.dispose()
    copy.unlink()
    if status != "succeeded":
        raise SystemExit(f"the run at {limit} s did not succeed: {status}")
    return {
        "dropped": kpis.get("unassigned"),
        "late": kpis.get("late_visits"),
        "late_min": kpis.get("late_minutes"),
        "travel_h": round(kpis.get("travel_minutes", 0) / 60, 2),
        "solve_s": timings.get("solve_s"),
        "wall_s": round(wall, 2),
    }


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


__all__ = ["Fed", "PlantedProvider", "feed", "p95", "run"]
