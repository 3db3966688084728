"""The discrete-event day simulator.

Customers call (Poisson arrivals) and go through intake as the service desk's calls do; the
dispatcher plans the morning and re-plans during the day through dispatch runs; engineers
follow the published route in the engineer's app, reporting accepted, en route, arrived and
completed. Travel and time on site are the plan's times with the scenario's noise. Everything
runs on a virtual clock against a real database, through ``dispatch``'s public services only.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.clock import FixedClock
from dispatch.db import make_engine, make_session_factory, migrate, unit_of_work
from dispatch.engineers import service as engineers
from dispatch.errors import Conflict, DomainError, InvalidInput
from dispatch.field import service as engineer_app
from dispatch.geo_support import GeoContext
from dispatch.planning.capacity import CapacityIndex
from dispatch.planning.runner import SynchronousRunner
from dispatch.planning.runs import RunSettings, create_run, execute_run, get_run_or_raise
from dispatch.planning.solver import InlineSolver
from dispatch.requests import intake
from dispatch.requests import service as requests
from geo.model import DEFAULT_RUSH_HOURS, ModelProvider, TravelModel, TravelProfile
from simulation.noise import NoiseModel
from simulation.report import EngineerDay, Report, RequestRecord, build_report
from simulation.scenario import Scenario
from simulation.world import EngineerInfo, RequestSpec, build_world, draw_demand, use_window_policy

GRACE = timedelta(minutes=30)  # engineers start no new visit later than this after shift end
POLL = timedelta(minutes=10)  # an engineer sets off home once no visit can start this soon
IDLE_POLL = timedelta(hours=4)  # a waiting engineer looks at the route again at least this
# often; otherwise the app tells them when their route changed (a run, a booking at intake)
DRAIN_DAYS = 7  # days without new calls, at most, to serve what was promised
WINDOW_POLICIES = ("fixed", "calibrated")


@dataclass
class _Engineer:
    info: EngineerInfo
    position: tuple[float, float]
    day: date | None = None
    shift_end: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    travel_s: float = 0.0
    service_s: float = 0.0
    visits: int = 0
    working: bool = False
    busy_until: datetime | None = None
    waiting: int | None = None
    """While the engineer waits (for a visit's start or for work), the token of the wake-up
    scheduled; a route change wakes them at once and makes the scheduled one void."""
    driving: _Drive | None = None
    """The leg under way, if the engineer is on the road to a visit or home."""

    @property
    def heading_home(self) -> bool:
        """On shift and on the way home at the end of the day."""
        return self.working and self.driving is not None and self.driving.request_id is None


@dataclass(frozen=True)
class _Drive:
    request_id: int | None
    """The visit's request, or ``None`` for the drive home at the end of the day."""
    origin: tuple[float, float]
    destination: tuple[float, float]
    set_off: datetime
    arrive: datetime
    travel_s: float
    service_s: float = 0.0
    """The visit's planned service: how long a dispatcher expects the engineer to be busy
    there after arriving."""

    def done(self, now: datetime) -> float:
        """The share of the leg driven by ``now``."""
        whole = (self.arrive - self.set_off).total_seconds()
        return min(1.0, (now - self.set_off).total_seconds() / whole) if whole > 0 else 1.0

    def position(self, now: datetime) -> tuple[float, float]:
        """Where on the road the engineer is at ``now`` (on the straight line)."""
        done, (a, b), (c, d) = self.done(now), self.origin, self.destination
        return a + (c - a) * done, b + (d - b) * done


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    action: Callable[[], None] = field(compare=False)


class Simulator:
    """One simulated run of a scenario.

    Parameters
    ----------
    scenario
        The validated scenario.
    seed
        Seeds every random draw: the same seed gives the same day.
    policy
        ``fixed`` or ``calibrated`` arrival windows (the SLA policy's window rule).
    database_url
        A migrated-on-the-fly throwaway SQLite file by default; give an empty PostgreSQL
        database's URL to run there.
    progress
        Called with (requests taken, requests of the run) as the day goes on.
    until
        Stop the day there (the demo stops at the current time, engineers under way),
        rather than when every promise made has been served.
    references
        Give requests an external reference ``{references}-{yymmdd}-{n}``, as a CRM would.
    demand_scale
        The share of the scenario's requests on a day (all of them by default).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 1,
        policy: str = "fixed",
        database_url: str | None = None,
        progress: Callable[[int, int], None] | None = None,
        until: datetime | None = None,
        references: str | None = None,
        demand_scale: Callable[[date], float] | None = None,
    ) -> None:
        if policy not in WINDOW_POLICIES:
            raise InvalidInput("policy", f"window policy is one of {', '.join(WINDOW_POLICIES)}")
        self.scenario = scenario
        self.seed = seed
        self.policy = policy
        self.noise = NoiseModel(seed, scenario.noise)
        self.progress = progress
        self.until = until
        self.references = references
        self.demand_scale = demand_scale or (lambda _day: 1.0)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if database_url is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="onsite-sim-")
            database_url = f"sqlite:///{Path(self._tmp.name) / 'sim.db'}"
        migrate(database_url)
        self.engine = make_engine(database_url)
        self.factory = make_session_factory(self.engine)
        self.clock = FixedClock(datetime.combine(scenario.start_date, time(0), ZoneInfo("UTC")))
        self.geo = GeoContext()
        self.truth = ModelProvider(
            TravelModel(
                areas={
                    a.name: TravelProfile(
                        timezone=a.timezone, rush_hours=DEFAULT_RUSH_HOURS if a.rush_hours else ()
                    )
                    for a in scenario.areas
                }
            )
        )
        self.capacity = CapacityIndex()
        # Runs search by iterations, not seconds, so a seed gives the same day on any machine.
        self.run_settings = RunSettings(search_iterations=scenario.dispatching.search_iterations)
        self.runner = SynchronousRunner(
            self.factory, self.geo, InlineSolver(), self.clock, self.run_settings
        )
        self.intake_settings = intake.IntakeSettings(
            replan_on_urgent=True,
            replan_time_limit_s=scenario.dispatching.urgent_replan_time_limit_s,
        )
        self._events: list[_Event] = []
        self._seq = itertools.count()
        self.records: dict[int, RequestRecord] = {}
        self.days: list[EngineerDay] = []
        self.runs = 0
        self._risk_replan: datetime | None = None
        self.sigma = {a.name: a.travel_sigma for a in scenario.areas}
        self.timezone = {a.name: a.timezone for a in scenario.areas}

    # -- the loop --------------------------------------------------------------------------

    def at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, _Event(when, next(self._seq), action))

    def run(self) -> Report:
        """Simulate the scenario's days and report what the customers saw."""
        try:
            with unit_of_work(self.factory) as session:
                self.world = build_world(session, self.geo, self.scenario, self.seed)
                use_window_policy(session, self.policy)
            self.engineers = {e.id: _Engineer(e, e.home) for e in self.world.engineers}
            self.area_of = {a_id: name for name, a_id in self.world.area_ids.items()}
            self._demand = {
                day: draw_demand(
                    self.scenario.scaled(self.demand_scale(day)), self.world, day, self.seed
                )
                for day in (
                    self.scenario.start_date + timedelta(days=offset)
                    for offset in range(self.scenario.days)
                )
            }
            self._total = sum(
                1
                for specs in self._demand.values()
                for spec in specs
                if self.until is None or spec.at <= self.until
            )
            self._plan_day(self.scenario.start_date)
            while self._events and (self.until is None or self._events[0].at <= self.until):
                event = heapq.heappop(self._events)
                if event.at > self.clock.current:
                    self.clock.current = event.at
                event.action()
            if self.until is not None:
                self.clock.current = max(self.clock.current, self.until)
            else:
                for engineer in self.engineers.values():
                    self._close_day(engineer)
            return build_report(
                self.scenario,
                self.seed,
                self.policy,
                list(self.records.values()),
                self.days,
                runs=self.runs,
                end=self.clock.current,
            )
        finally:
            self.runner.close()
            self.engine.dispose()
            if self._tmp is not None:
                self._tmp.cleanup()

    def _open_promises(self) -> bool:
        return any(
            r.refused is None and r.arrived_at is None and r.cancelled_at is None
            for r in self.records.values()
        )

    def _plan_day(self, day: date) -> None:
        """Schedule a day: the morning plan, re-plans, engineers' shifts and the day's calls.

        After the days with demand the simulation goes on without new calls until every
        promise made is served (or ``DRAIN_DAYS`` more days have passed), so every promise is
        judged.
        """
        demand = self._demand.get(day, [])
        tz = ZoneInfo(self.scenario.areas[0].timezone)
        dispatching = self.scenario.dispatching
        last_demand = self.scenario.start_date + timedelta(days=self.scenario.days - 1)

        def next_day() -> None:
            following = day + timedelta(days=1)
            if following <= last_demand or (
                self._open_promises() and following <= last_demand + timedelta(days=DRAIN_DAYS)
            ):
                self._plan_day(following)

        self.at(datetime.combine(day, time(23, 30), tz), next_day)
        morning = datetime.combine(day, time.fromisoformat(dispatching.morning_plan), tz)
        self.at(morning, lambda: self._replan(day))
        shifts = self._shifts(day)
        for engineer in self.engineers.values():
            hours = shifts.get(engineer.info.id)
            if hours is not None:
                self.at(morning, lambda e=engineer, h=hours: self._start_day(e, day, *h))
        if dispatching.replan_every_minutes and shifts:
            step = timedelta(minutes=dispatching.replan_every_minutes)
            last = max(end for _, end in shifts.values())
            when = morning + step
            while when < last:
                self.at(when, lambda: self._replan(day))
                when += step
        for spec in demand:
            self.at(spec.at, lambda s=spec: self._call(s))

    # -- the dispatcher ----------------------------------------------------------------------

    def _replan(self, day: date) -> None:
        """A dispatcher's run over every area for ``day`` (skipped once its shifts are over)."""
        now = self.clock.now()
        try:
            with unit_of_work(self.factory) as session:
                run = create_run(
                    session,
                    area_ids=None,
                    horizon_start=day,
                    days=1,
                    time_limit_s=self.scenario.dispatching.run_time_limit_s,
                    actor="simulated dispatcher",
                    now=now,
                )
                run_id = run.id
        except InvalidInput:
            return
        execute_run(
            self.factory,
            self.geo,
            InlineSolver(),
            run_id,
            clock=self.clock,
            settings=self.run_settings,
        )
        self.runs += 1
        with self.factory() as session:
            get_run_or_raise(session, run_id)
        self._route_changed()

    # -- customers and the service desk ------------------------------------------------------

    def _call(self, spec: RequestSpec) -> None:
        now = self.clock.now()
        try:
            with unit_of_work(self.factory) as session:
                taken = intake.take_request(
                    session,
                    now=now,
                    actor="simulated desk",
                    geo=self.geo,
                    capacity=self.capacity,
                    runner=self.runner,
                    settings=self.intake_settings,
                    site_id=spec.site.id,
                    channel=spec.channel,
                    tier=spec.tier,
                    problem_type=spec.problem.code,
                    skills=[{"skill": spec.problem.skill, "min_level": spec.problem.min_level}],
                    service_minutes=spec.problem.service_minutes,
                    availability=[{"start": s, "end": e} for s, e in spec.availability],
                    external_ref=self._reference(spec),
                )
                request = taken.request
                record = RequestRecord(
                    request_id=request.id,
                    tier=request.tier or spec.tier,
                    locality=request.locality or "same_city",
                    area=spec.site.area,
                    received_at=request.received_at,
                    window_start=request.window_start,
                    window_end=request.window_end,
                    arrival_due=request.arrival_due,
                    first_response_due=request.first_response_due,
                    customer_chosen=request.customer_chosen,
                    at_risk=request.at_risk,
                    urgent_eligible=self._urgent_eligible(spec, now)
                    if spec.tier == "urgent" and request.locality == "same_city"
                    else None,
                )
        except DomainError as exc:
            self.records[-spec.key - 1] = RequestRecord.of_refusal(
                now, spec.site.area, spec.tier, exc.message
            )
            return
        if taken.replan_run_id is not None:
            self.runs += 1
            self._route_changed()
        elif taken.inserted and taken.prediction is not None:
            self._route_changed([taken.prediction.engineer_id or 0])
        self.records[record.request_id] = record
        if self.progress is not None:
            self.progress(len(self.records), self._total)
        self.at(now + spec.first_response_after, lambda: self._acknowledge(record))
        if spec.cancel_after is not None:
            self.at(now + spec.cancel_after, lambda: self._cancel(record))

    def _reference(self, spec: RequestSpec) -> str | None:
        if self.references is None:
            return None
        local = spec.at.astimezone(ZoneInfo(self.timezone[spec.site.area]))
        return f"{self.references}-{local:%y%m%d}-{spec.key + 1:03d}"

    def _urgent_eligible(self, spec: RequestSpec, now: datetime) -> bool:
        """Whether some engineer with the skill and level, on shift, could be on site within
        2 h if diverted (from where they are, once the visit at hand is done: the one they
        are on the way to or at; from the road when driving home), at a time the customer said
        they are there (when they gave their availability)."""
        need, level = spec.problem.skill, spec.problem.min_level
        due = now + timedelta(hours=2)
        if spec.availability and not any(s < due and e > now for s, e in spec.availability):
            return False
        for engineer in self.engineers.values():
            info = engineer.info
            if info.skills.get(need, 0) < level or engineer.shift_end is None:
                continue
            if not engineer.working or engineer.shift_end < now:
                continue
            position, free = engineer.position, max(now, engineer.busy_until or now)
            drive = engineer.driving
            if drive is not None and drive.request_id is None:
                position = drive.position(now)  # on the way home: turned round
            elif drive is not None:  # on the way to a visit: free once it is done
                free = max(now, drive.arrive + timedelta(seconds=drive.service_s))
            # The drive when they would set off, rush hours included, as the plan sees it.
            travel = self._planned_travel(engineer, position, (spec.site.lat, spec.site.lon), free)
            if free + timedelta(seconds=travel) <= min(due, engineer.shift_end):
                return True
        return False

    def _acknowledge(self, record: RequestRecord) -> None:
        now = self.clock.now()
        try:
            with unit_of_work(self.factory) as session:
                requests.acknowledge(session, record.request_id, actor="simulated desk", now=now)
            record.acknowledged_at = now
        except Conflict:
            pass  # already closed or acknowledged

    def _cancel(self, record: RequestRecord) -> None:
        if record.arrived_at is not None:
            return
        now = self.clock.now()
        try:
            with unit_of_work(self.factory) as session:
                intake.cancel(
                    session,
                    self.geo,
                    record.request_id,
                    reason="the customer fixed it themselves",
                    by="customer",
                    actor="simulated desk",
                    now=now,
                )
            record.cancelled_at = now
        except Conflict:
            return
        driver = next(
            (
                e
                for e in self.engineers.values()
                if e.driving is not None and e.driving.request_id == record.request_id
            ),
            None,
        )
        if driver is not None:
            self._turn_off(driver)

    def _turn_off(self, engineer: _Engineer) -> None:
        """The app tells an engineer on the way that the visit is cancelled (or, on the way
        home, that a visit was added): they stop where they are on the road and take the next
        visit of their route."""
        drive = engineer.driving
        if drive is None:
            return  # arrived meanwhile
        now = self.clock.now()
        engineer.position = drive.position(now)
        engineer.travel_s -= drive.travel_s * (1.0 - drive.done(now))
        engineer.driving = None
        self._next(engineer)

    # -- engineers ---------------------------------------------------------------------------

    def _shifts(self, day: date) -> dict[int, tuple[datetime, datetime]]:
        """Who works ``day`` and when, as the engineers' templates and exceptions say."""
        with self.factory() as session:
            staff = [
                e
                for e in (engineers.get_engineer(session, i) for i in self.engineers)
                if e is not None and e.active
            ]
            planned = engineers.planned_shifts(session, staff, day, day)
        return {
            engineer_id: (spec.start_at, spec.end_at)
            for engineer_id, days in planned.items()
            for spec, _ in days
        }

    def _start_day(
        self, engineer: _Engineer, day: date, start: datetime, shift_end: datetime
    ) -> None:
        info = engineer.info
        engineer.day = day
        engineer.shift_end = shift_end
        engineer.position = info.home
        engineer.started_at = engineer.finished_at = None
        engineer.travel_s = engineer.service_s = 0.0
        engineer.visits = 0
        if self.noise.no_show(info.id, day):
            # The dispatcher hears of it at the start of the shift: leave, and a re-plan.
            def absent() -> None:
                with unit_of_work(self.factory) as session:
                    engineers.set_shift_exception(
                        session, info.id, day=day, kind="leave", note="did not turn up"
                    )
                self._replan(day)

            self.at(start + timedelta(minutes=15), absent)
            return
        late = timedelta(minutes=self.noise.late_start_minutes(info.id, day))
        self.at(start + late, lambda: self._begin(engineer))

    def _begin(self, engineer: _Engineer) -> None:
        engineer.working = True
        engineer.waiting = None
        engineer.busy_until = self.clock.now()
        engineer.started_at = self.clock.now()
        self._next(engineer)

    def _next(self, engineer: _Engineer) -> None:
        """The engineer is free: take the next visit of their route, or wait for one."""
        now = self.clock.now()
        assert engineer.day is not None and engineer.shift_end is not None
        if now > engineer.shift_end + GRACE:
            self._go_home(engineer)
            return
        with self.factory() as session:
            route = engineer_app.my_route(
                session, engineer_id=engineer.info.id, day=engineer.day, now=now
            )
        pending = [v for v in route["visits"] if v["status"] in ("planned", "accepted")]
        if not pending:
            # Nothing to do yet: wait for work, or set off to be home when the shift ends.
            home = timedelta(
                seconds=self._planned_travel(engineer, engineer.position, engineer.info.home, now)
            )
            leave = engineer.shift_end - home
            if now + POLL <= leave:
                self._wait(engineer, min(now + IDLE_POLL, leave), lambda: self._next(engineer))
            else:
                self._wait(engineer, max(now, leave), lambda: self._go_home(engineer))
            return
        visit = pending[0]
        site = (visit["site"]["lat"], visit["site"]["lon"])
        planned = self._planned_travel(engineer, engineer.position, site, now)
        # Leave so as to reach the site at the planned start, or at the opening of the
        # customer's window when that is sooner (an engineer who is free goes early within the
        # window rather than at the last planned minute), never to wait long at the door.
        target = visit["eta"]
        if visit["window_start"] is not None:
            target = min(target, max(visit["window_start"], now))
        leave = max(now, target - timedelta(seconds=planned))
        if leave > now:
            self._wait(engineer, leave, lambda: self._depart(engineer, visit["visit_id"]))
        else:
            self._depart(engineer, visit["visit_id"])

    def _wait(self, engineer: _Engineer, until: datetime, then: Callable[[], None]) -> None:
        """The engineer waits until ``until``, then does ``then``, unless woken before."""
        token = next(self._seq)
        engineer.waiting = token

        def wake() -> None:
            if engineer.waiting == token:
                engineer.waiting = None
                then()

        self.at(until, wake)

    def _route_changed(self, engineer_ids: Iterable[int] | None = None) -> None:
        """Tell waiting engineers their route changed (``None``: everyone's may have), as the
        app's push does: each looks at the route again now instead of at the planned time."""
        chosen = (
            self.engineers.values()
            if engineer_ids is None
            else (self.engineers[i] for i in engineer_ids if i in self.engineers)
        )
        for engineer in chosen:
            if engineer.waiting is not None and engineer.working:
                engineer.waiting = None
                self.at(self.clock.now(), lambda e=engineer: self._next(e))
            elif engineer.heading_home:
                # Still on shift on the way home: the app's push turns them round.
                self.at(self.clock.now(), functools.partial(self._turn_round, engineer))

    def _report(self, engineer: _Engineer, visit_id: int, kind: str, **extra: Any) -> bool:
        now = self.clock.now()
        try:
            with unit_of_work(self.factory) as session:
                reported = engineer_app.report_visit_event(
                    session,
                    self.geo,
                    engineer_id=engineer.info.id,
                    visit_id=visit_id,
                    type_=kind,
                    at=None,
                    now=now,
                    actor=f"engineer:{engineer.info.name}",
                    **extra,
                )
        except (Conflict, DomainError):
            return False
        if reported.newly_at_risk and engineer.day is not None:
            self._answer_risk(engineer.day, now)
        return True

    def _answer_risk(self, day: date, now: datetime) -> None:
        """The dispatcher sees an "ETA after window" alert and re-plans the day (at most once
        in the scenario's ``replan_on_risk_minutes``), so another engineer can keep the
        promise if one can."""
        gap = self.scenario.dispatching.replan_on_risk_minutes
        if not gap or (
            self._risk_replan is not None and now - self._risk_replan < timedelta(minutes=gap)
        ):
            return
        self._risk_replan = now
        self.at(now, lambda: self._replan(day))

    def _depart(self, engineer: _Engineer, visit_id: int) -> None:
        now = self.clock.now()
        with self.factory() as session:
            route = engineer_app.my_route(
                session, engineer_id=engineer.info.id, day=engineer.day, now=now
            )
        visit = next((v for v in route["visits"] if v["visit_id"] == visit_id), None)
        if visit is None or visit["status"] not in ("planned", "accepted"):
            self._next(engineer)  # re-planned away meanwhile
            return
        if visit["status"] == "planned" and not self._report(engineer, visit_id, "accepted"):
            self._next(engineer)
            return
        if not self._report(engineer, visit_id, "en_route"):
            self._next(engineer)
            return
        request_id = visit["request"]["id"]
        record = self.records.get(request_id)
        if record is not None:
            record.eta_at_departure = visit["eta"]
        site = (visit["site"]["lat"], visit["site"]["lon"])
        area = self.area_of[engineer.info.area_id]
        # The real leg: the roads at that hour (rush hours), times the scenario's noise.
        real = self._rush(engineer.position, site, now, area) * self.noise.travel_factor(
            request_id, self.sigma[area], now, self.timezone[area]
        )
        engineer.travel_s += real
        origin, engineer.position = engineer.position, site
        arrive = now + timedelta(seconds=real)
        window_start = visit["window_start"]
        service = visit["service_minutes"] * 60
        drive = _Drive(request_id, origin, site, now, arrive, real, service)
        engineer.driving = drive

        def reached() -> None:
            if engineer.driving is drive:
                engineer.driving = None
                self._arrive(engineer, visit_id, request_id, window_start)

        self.at(arrive, reached)

    def _arrive(
        self, engineer: _Engineer, visit_id: int, request_id: int, window_start: datetime | None
    ) -> None:
        now = self.clock.now()
        if window_start is not None and now < window_start:
            # Early: the engineer waits for the window rather than knock before it.
            self.at(window_start, lambda: self._arrive(engineer, visit_id, request_id, None))
            return
        if not self._report(engineer, visit_id, "arrived"):
            self._next(engineer)
            return
        record = self.records.get(request_id)
        if record is not None:
            record.arrived_at = now
            record.engineer_id = engineer.info.id
        with self.factory() as session:
            request = requests.get_request_or_raise(session, request_id)
            minutes, problem = request.service_minutes, request.problem_type
            if record is not None:
                record.window_start_at_arrival = request.window_start
                record.window_end_at_arrival = request.window_end
        spec = next(p for p in self.scenario.problem_types if p.code == problem)
        service = self.noise.service_minutes(request_id, minutes, spec) * 60
        engineer.service_s += service
        engineer.visits += 1
        engineer.busy_until = now + timedelta(seconds=service)
        self.at(engineer.busy_until, lambda: self._complete(engineer, visit_id, request_id))

    def _complete(self, engineer: _Engineer, visit_id: int, request_id: int) -> None:
        now = self.clock.now()
        if self._report(engineer, visit_id, "completed"):
            record = self.records.get(request_id)
            if record is not None:
                record.completed_at = now
        engineer.busy_until = now
        self._next(engineer)

    def _turn_round(self, engineer: _Engineer) -> None:
        """Told on the way home that a visit was added, if still on the way home."""
        if engineer.heading_home:
            self._turn_off(engineer)

    def _go_home(self, engineer: _Engineer) -> None:
        """The engineer drives home; on shift until there, so a visit added meanwhile turns
        them round (``_route_changed``)."""
        if not engineer.working or engineer.driving is not None:
            return
        now = self.clock.now()
        back = self._planned_travel(engineer, engineer.position, engineer.info.home, now)
        engineer.travel_s += back
        origin, engineer.position = engineer.position, engineer.info.home
        drive = _Drive(None, origin, engineer.info.home, now, now + timedelta(seconds=back), back)
        engineer.driving = drive

        def home() -> None:
            if engineer.driving is drive:
                engineer.driving = None
                engineer.finished_at = drive.arrive
                engineer.working = False
                self._close_day(engineer)

        self.at(drive.arrive, home)

    def _close_day(self, engineer: _Engineer) -> None:
        if engineer.day is None or engineer.started_at is None:
            engineer.day = None
            return
        if engineer.working:
            engineer.finished_at = self.clock.now()
            engineer.working = False
        assert engineer.shift_end is not None and engineer.finished_at is not None
        self.days.append(
            EngineerDay(
                engineer_id=engineer.info.id,
                day=engineer.day,
                started_at=engineer.started_at,
                finished_at=engineer.finished_at,
                shift_end=engineer.shift_end,
                travel_s=engineer.travel_s,
                service_s=engineer.service_s,
                visits=engineer.visits,
            )
        )
        engineer.day = None
        engineer.started_at = None

    # -- travel --------------------------------------------------------------------------------

    def _planned_travel(
        self,
        engineer: _Engineer,
        origin: tuple[float, float],
        destination: tuple[float, float],
        when: datetime,
    ) -> float:
        """What the plan's travel model says of the leg leaving at ``when``: plans are timed
        with departure-time travel, and each area of the world is given the rush hours its
        roads have (``world.build_world``), so the plan's view is the roads' at that hour
        before noise. (It used to be the off-peak drive: an engineer set off for a visit, or
        home, as if the roads were empty, and at rush hour an urgent call counted engineers
        as able to be there in 2 h whom the plan itself did not see there in time.)"""
        return self._rush(origin, destination, when, self.area_of[engineer.info.area_id])

    def _rush(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        when: datetime,
        area: str,
    ) -> float:
        """The leg on the real roads at that time (rush hours included), before noise."""
        matrix = self.truth.matrix([origin], [destination], departure=when, area=area)
        return float(matrix.durations[0, 0])
