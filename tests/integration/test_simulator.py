"""The day simulator end to end, on a real database through the real services."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from simulation.engine import Simulator
from simulation.scenario import parse_scenario
from tests.conftest import drop_postgres_database, fresh_database_url

SQUARE = [[121.40, 31.15], [121.55, 31.15], [121.55, 31.30], [121.40, 31.30], [121.40, 31.15]]


def tiny(**overrides: Any) -> dict[str, Any]:
    """One city, two engineers, a handful of calls in the morning; by default nothing noisy
    and no rush hours on the real roads, so the day goes exactly as planned."""
    data: dict[str, Any] = {
        "name": "tiny",
        "sites_per_area": 12,
        "areas": [
            {"name": "Shanghai", "boundary": SQUARE, "travel_sigma": 0.0, "rush_hours": False}
        ],
        "engineers": [
            {
                "area": "Shanghai",
                "count": 2,
                "skills": {"hvac": 3},
                "shift": {
                    "start": "08:00",
                    "end": "18:00",
                    "break_start": None,
                    "break_end": None,
                    "break_minutes": None,
                },
            }
        ],
        "problem_types": [
            {
                "code": "minor_fault",
                "share": 1,
                "skill": "hvac",
                "service_minutes": 30,
                "spread": 0.0,
            }
        ],
        "demand": {
            "requests": 6,
            "hours": [8, 11],
            "tiers": {"general": 1},
            "out_of_town": 0.0,
            "availability": 0.0,
            "cancellations": 0.0,
        },
        "noise": {"late_start": 0.0, "no_show": 0.0},
        "dispatching": {"search_iterations": 200},
    }
    data.update(overrides)
    return data


@pytest.fixture
def database(backend: str, tmp_path: Path) -> Any:
    url = fresh_database_url(backend, tmp_path)
    yield url
    if backend == "postgres":
        drop_postgres_database(url)


def test_a_day_without_noise_keeps_every_promise(database: str) -> None:
    """No noise, no rush hours, light demand: every engineer arrives at the planned time, so
    every promise is kept, nobody is late and every response is on time."""
    report = Simulator(parse_scenario(tiny()), seed=3, database_url=database).run()
    assert report.promises >= 3 and report.refused == 0
    assert report.due == report.promises
    assert report.kept == report.due and report.kept_share == 1.0
    assert report.broken == report.early == report.renegotiated == report.not_served == 0
    assert report.lateness_mean_min is None
    assert report.sla_arrival_met == 1.0
    assert report.width_median_min == 120.0
    assert report.overtime_min_per_day == 0.0


def test_a_seed_replays_the_same_day(tmp_path: Path) -> None:
    """Two runs with the same seed report the same figures; another seed another day."""
    scenario = parse_scenario(
        tiny(
            areas=[{"name": "Shanghai", "boundary": SQUARE, "travel_sigma": 0.3}],
            demand={"requests": 10, "hours": [8, 14], "availability": 0.3, "cancellations": 0.1},
            noise={"late_start": 0.3, "no_show": 0.0},
        )
    )
    first = Simulator(scenario, seed=11).run().as_dict()
    again = Simulator(scenario, seed=11).run().as_dict()
    other = Simulator(scenario, seed=12).run().as_dict()
    assert first == again
    assert other != first


def test_the_world_is_made_through_the_services(tmp_path: Path) -> None:
    """Engineers live and same-city sites lie inside their city, all at different places;
    out-of-town sites outside every city; the database holds exactly what the scenario says."""
    from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work
    from dispatch.geo_support import GeoContext
    from simulation.world import _inside, build_world

    scenario = parse_scenario(tiny(sites_per_area=8))
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as session:
        world = build_world(session, GeoContext(), scenario, seed=5)
    engine.dispose()
    city = [s for s in world.sites if not s.out_of_town]
    away = [s for s in world.sites if s.out_of_town]
    assert len(city) == 8 and len(away) == 2 and len(world.engineers) == 2
    assert len({(s.lat, s.lon) for s in world.sites}) == len(world.sites)
    assert all(_inside([tuple(p) for p in SQUARE], s.lat, s.lon) for s in city)
    assert not any(_inside([tuple(p) for p in SQUARE], s.lat, s.lon) for s in away)


class _Watched(Simulator):
    """The simulator, noting where engineers were when told a visit on the way was cancelled."""

    turned: list[tuple[tuple[float, float], tuple[float, float], tuple[float, float]]]
    homeward: list[int]
    """Engineers turned round on the way home."""

    def _turn_off(self, engineer: Any) -> None:
        drive = engineer.driving
        super()._turn_off(engineer)
        # Either waiting where they stopped, or already on the next leg, which starts there.
        after = engineer.driving
        stopped = engineer.position if after is None else after.origin
        assert after is None or after.set_off == self.clock.now()
        if drive.request_id is None:
            self.homeward = [*getattr(self, "homeward", []), engineer.info.id]
        else:
            self.turned = [*getattr(self, "turned", []), (drive.origin, stopped, drive.destination)]


def test_an_engineer_told_of_a_cancellation_on_the_way_stops_on_the_road(tmp_path: Path) -> None:
    """Every call cancelled within hours: an engineer on the way to a visit cancelled meanwhile
    stops where they are on the road (between the start of the leg and the site) and goes on
    with the route, rather than driving to the door to find the visit gone."""
    scenario = parse_scenario(
        tiny(
            demand={
                "requests": 12,
                "hours": [8, 11],
                "tiers": {"general": 1},
                "availability": 0.0,
                "cancellations": 1.0,
            }
        )
    )
    sim = _Watched(scenario, seed=5)
    report = sim.run()
    assert report.cancelled > 0
    assert sim.turned, "no engineer was on the way to a cancelled visit"
    for origin, stopped, site in sim.turned:
        for k in (0, 1):
            low, high = sorted((origin[k], site[k]))
            assert low <= stopped[k] <= high


def test_an_engineer_on_the_way_home_turns_round_for_an_urgent_call() -> None:
    """Urgent calls in the last hour of the shift: an engineer already driving home is still
    on shift, so the app's push of a visit added to the route turns them round, and every
    urgent call someone could reach in time is reached within 2 h."""
    demand = {"requests": 3, "hours": [17, 18], "tiers": {"urgent": 1}}
    sim = _Watched(parse_scenario(tiny(demand={**tiny()["demand"], **demand})), seed=8)
    report = sim.run()
    assert getattr(sim, "homeward", []), "no engineer was on the way home when a call came"
    assert report.urgent_same_city_eligible > 0
    assert report.urgent_same_city_on_site_2h == 1.0


def test_the_plans_view_of_a_leg_follows_the_hour_as_the_roads_do() -> None:
    """Engineers set off, and urgent calls are judged reachable, by the drive at the hour
    they would leave: in the morning rush it is longer than at midday, and it is the roads'
    own drive at that hour before noise, as the plan times it."""
    scenario = parse_scenario(tiny(areas=[{**tiny()["areas"][0], "rush_hours": True}]))
    sim = Simulator(scenario, seed=3)
    sim.run()
    engineer = next(iter(sim.engineers.values()))
    zone = ZoneInfo("Asia/Shanghai")
    day = scenario.start_date
    rush = datetime.combine(day, time(8, 0), zone)
    midday = datetime.combine(day, time(13, 0), zone)
    origin, site = engineer.info.home, (31.29, 121.54)
    at_rush = sim._planned_travel(engineer, origin, site, rush)
    at_midday = sim._planned_travel(engineer, origin, site, midday)
    assert at_rush > at_midday > 0
    assert at_rush == sim._rush(origin, site, rush, "Shanghai")
