"""The demo: a believable service day at whatever time it is loaded.

The demo's world is the ``demo`` scenario's (Shanghai and Hangzhou, 25 engineers, customers in
both cities and in the towns around them). Loading it replays four weeks of that scenario's
days through the simulator, up to the current time: customers call and get promises from
capacity-aware intake, the dispatcher plans and re-plans, engineers report their progress. So
the analytics and the calibrated windows have a real history, and today's board shows visits
done, engineers under way and the afternoon still to come. The runs of the replay search with
short limits (the scenario's ``search_iterations``) so that it loads within a minute.

Deterministic for a given date and time (the seed is the date); a second load leaves a
database that already holds data alone; ``reset`` empties the database first.
"""

from __future__ import annotations

import time as wall
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.areas import service as areas
from dispatch.auth.service import create_api_key, hash_key, list_api_keys
from dispatch.clock import FixedClock
from dispatch.db import (
    Session,
    SessionFactory,
    make_engine,
    make_session_factory,
    migrate,
    reset_database,
    unit_of_work,
)
from dispatch.engineers import service as engineers
from dispatch.errors import InvalidInput
from dispatch.geo_support import GeoContext
from dispatch.planning.runs import RunSettings, create_run, execute_run
from dispatch.planning.solver import InlineSolver
from simulation.engine import Simulator
from simulation.report import Report
from simulation.scenario import Scenario, load_scenario

# Documented demo keys, one per role, so a newcomer can call the API at once. Demo only.
DEMO_KEYS = {
    "admin": "osk_demo_admin",
    "dispatcher": "osk_demo_dispatcher",
    "service_desk": "osk_demo_service_desk",
    "engineer": "osk_demo_engineer",
}
HISTORY_DAYS = 28
HISTORY_DEMAND = 0.2
"""The days before yesterday carry this share of a day's calls: enough visits for the
analytics and the calibration to learn from, few enough that four weeks replay within a
minute."""
REFERENCE_PREFIX = "CRM"


@dataclass(frozen=True)
class DemoLoad:
    """What loading the demo did."""

    loaded: bool
    """False when the database already held data (nothing was changed)."""
    days: int = 0
    report: Report | None = None
    wall_s: float = 0.0


def demo_scenario(today: date, history_days: int = HISTORY_DAYS) -> Scenario:
    """The demo scenario, from ``history_days`` before ``today`` to ``today``."""
    if not 0 <= history_days <= 30:
        raise InvalidInput("history_days", "history_days: the demo's history is 0 to 30 days")
    scenario = load_scenario("demo")
    return scenario.model_copy(
        update={"start_date": today - timedelta(days=history_days), "days": history_days + 1}
    )


def _holds_data(url: str) -> bool:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return areas.list_areas(session, limit=1, offset=0).total > 0
    finally:
        engine.dispose()


def load_demo(
    database_url: str,
    *,
    now: datetime,
    history_days: int = HISTORY_DAYS,
    reset: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DemoLoad:
    """Replay the demo's days up to ``now`` into the database at ``database_url``.

    Does nothing when the database already holds data, unless ``reset`` (which empties it
    first). Ends with the dispatcher's plan of today and tomorrow, as of ``now``.
    """
    started = wall.monotonic()
    scenario = load_scenario("demo")
    tz = ZoneInfo(scenario.areas[0].timezone)
    today = now.astimezone(tz).date()
    scenario = demo_scenario(today, history_days)
    if reset:
        reset_database(database_url)
    else:
        migrate(database_url)
        if _holds_data(database_url):
            return DemoLoad(loaded=False)
    seed = int(today.strftime("%Y%m%d"))
    report = Simulator(
        scenario,
        seed=seed,
        policy="calibrated",
        database_url=database_url,
        progress=progress,
        until=now,
        references=REFERENCE_PREFIX,
        # Today and yesterday are full days, so the board looks busy at any hour (at night
        # too, when today holds only what was booked ahead).
        demand_scale=lambda day: 1.0 if day >= today - timedelta(days=1) else HISTORY_DEMAND,
    ).run()
    engine = make_engine(database_url)
    try:
        factory = make_session_factory(engine)
        with unit_of_work(factory) as session:
            add_demo_keys(session)
        _plan_ahead(factory, scenario, today, now)
    finally:
        engine.dispose()
    return DemoLoad(
        loaded=True, days=scenario.days, report=report, wall_s=wall.monotonic() - started
    )


def add_demo_keys(session: Session) -> None:
    """The documented demo keys (the engineer key is the first engineer's), once."""
    first = engineers.list_engineers(session, limit=1, offset=0).items
    have = {k.key_hash for k in list_api_keys(session)}
    for role, key in DEMO_KEYS.items():
        if hash_key(key) not in have:
            create_api_key(
                session,
                role=role,
                name=f"demo {role}",
                engineer_id=first[0].id if role == "engineer" and first else None,
                key=key,
            )


def _plan_ahead(factory: SessionFactory, scenario: Scenario, today: date, now: datetime) -> None:
    """The dispatcher's last plan: today (the rest of it) and tomorrow's bookings."""
    try:
        with unit_of_work(factory) as session:
            run_id = create_run(
                session,
                area_ids=None,
                horizon_start=today,
                days=2,
                time_limit_s=scenario.dispatching.run_time_limit_s,
                actor="demo dispatcher",
                now=now,
            ).id
    except InvalidInput:
        return  # nobody works today or tomorrow
    execute_run(
        factory,
        GeoContext(),
        InlineSolver(),
        run_id,
        clock=FixedClock(now),
        settings=RunSettings(search_iterations=scenario.dispatching.search_iterations),
    )
