"""A simulated service day, described as data: where, who, how much demand, how noisy.

Scenarios are TOML (or JSON) files validated here; a wrong value is refused with the dotted
path of the field (``engineers.0.count: must be at least 1``).
"""

from __future__ import annotations

import json
import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Share = Annotated[float, Field(ge=0.0, le=1.0)]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Mix = dict[str, Annotated[float, Field(ge=0.0)]]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class AreaSpec(_Spec):
    """A city where engineers are based."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    timezone: str = "Asia/Shanghai"
    boundary: list[tuple[float, float]] = Field(
        min_length=4, description="the outline as [lon, lat] points, first = last"
    )
    business_hours: dict[str, list[tuple[HHMM, HHMM]]] = Field(
        default_factory=lambda: {
            d: [("09:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")
        }
    )
    holiday_country: str | None = "CN"
    travel_sigma: Annotated[float, Field(ge=0.0, le=2.0)] = Field(
        default=0.25, description="spread of real against planned travel (lognormal sigma)"
    )
    rush_hours: bool = Field(
        default=True, description="the real roads are slower at rush hours (07-10, 16-19)"
    )

    @model_validator(mode="after")
    def _closed(self) -> AreaSpec:
        if tuple(self.boundary[0]) != tuple(self.boundary[-1]):
            raise ValueError("boundary: the outline must end where it starts")
        return self


class ShiftSpec(_Spec):
    start: HHMM = "08:30"
    end: HHMM = "17:30"
    break_start: HHMM | None = "11:30"
    break_end: HHMM | None = "13:30"
    break_minutes: Annotated[int, Field(gt=0, le=240)] | None = 30
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )


class EngineerGroup(_Spec):
    """Engineers of one area who work the same shift."""

    area: str
    count: Annotated[int, Field(ge=1, le=1000)]
    shift: ShiftSpec = ShiftSpec()
    skills: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(
        description="skill -> the highest level in the group (each engineer holds 1..that)"
    )
    max_visits: Annotated[int, Field(ge=1, le=100)] = 8


class ProblemType(_Spec):
    """A kind of fault: who can fix it and how long it takes on site."""

    code: Annotated[str, Field(min_length=1, max_length=64)]
    share: Annotated[float, Field(gt=0.0)]
    skill: str
    min_level: Annotated[int, Field(ge=1, le=5)] = 1
    service_minutes: Annotated[int, Field(ge=5, le=600)] = Field(
        description="what the desk estimates (the request's service time)"
    )
    spread: Annotated[float, Field(ge=0.0, le=0.9)] = Field(
        default=0.3, description="real time on site: the estimate x uniform(1 - spread, 1 + spread)"
    )


class Demand(_Spec):
    """Requests of a day: how many, when, which tier, channel and locality."""

    requests: Annotated[int, Field(ge=0, le=10_000)]
    hours: tuple[Annotated[int, Field(ge=0, le=23)], Annotated[int, Field(ge=1, le=24)]] = (7, 19)
    hourly_weights: list[Annotated[float, Field(ge=0.0)]] | None = Field(
        default=None, description="relative arrival rate per hour of `hours` (flat when omitted)"
    )
    tiers: Mix = Field(default_factory=lambda: {"urgent": 0.1, "important": 0.3, "general": 0.6})
    channels: Mix = Field(
        default_factory=lambda: {"phone": 0.5, "online": 0.2, "email": 0.15, "app": 0.15}
    )
    out_of_town: Share = 0.15
    availability: Share = Field(
        default=0.2, description="share of customers who give their own availability"
    )
    availability_hours: Annotated[int, Field(ge=1, le=12)] = 3
    advance_days: Annotated[int, Field(ge=0, le=10)] = Field(
        default=3, description="customers with availability book up to this many days ahead"
    )
    cancellations: Share = 0.03
    weekend_share: Share = Field(
        default=1.0,
        description="requests on a Saturday or Sunday as a share of a weekday's",
    )
    first_response_minutes: tuple[
        Annotated[int, Field(ge=0, le=600)], Annotated[int, Field(ge=0, le=600)]
    ] = (2, 40)

    @model_validator(mode="after")
    def _consistent(self) -> Demand:
        start, end = self.hours
        if end <= start:
            raise ValueError("hours: the day must end after it starts")
        if self.hourly_weights is not None and len(self.hourly_weights) != end - start:
            raise ValueError(f"hourly_weights: give one weight per hour ({end - start})")
        for name, mix in (("tiers", self.tiers), ("channels", self.channels)):
            if not mix or sum(mix.values()) <= 0:
                raise ValueError(f"{name}: give at least one positive share")
        allowed = {"urgent", "important", "general"}
        if set(self.tiers) - allowed:
            raise ValueError(f"tiers: unknown tier {sorted(set(self.tiers) - allowed)}")
        return self


class Noise(_Spec):
    """How the real day differs from the plan."""

    rush_bias: Annotated[float, Field(ge=0.5, le=3.0)] = Field(
        default=1.0, description="extra factor on rush-hour travel beyond the rush-hour model"
    )
    late_start: Share = Field(default=0.1, description="share of engineer-days starting late")
    late_start_minutes: tuple[
        Annotated[int, Field(ge=0, le=240)], Annotated[int, Field(ge=0, le=240)]
    ] = (5, 30)
    no_show: Share = Field(default=0.01, description="share of engineer-days not worked at all")


class Dispatching(_Spec):
    """How the dispatcher runs the day."""

    morning_plan: HHMM = "06:30"
    replan_every_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 120
    replan_on_risk_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = Field(
        default=30,
        description="re-plan when an engineer's report puts an ETA past its window (the "
        "'ETA after window' alert), at most once in this many minutes; 0: never",
    )
    run_time_limit_s: Annotated[int, Field(ge=1, le=600)] = 2
    urgent_replan_time_limit_s: Annotated[int, Field(ge=1, le=600)] = 1
    search_iterations: Annotated[int, Field(ge=10, le=1_000_000)] = Field(
        default=1500,
        description="each run's search effort (iterations, so a seed replays the same day)",
    )


class OutOfTown(_Spec):
    """Where out-of-town customers are: a ring around each city."""

    min_km: Annotated[float, Field(gt=0.0, le=500.0)] = 25.0
    max_km: Annotated[float, Field(gt=0.0, le=500.0)] = 70.0


class Scenario(_Spec):
    """A simulated service day (or several)."""

    name: Annotated[str, Field(min_length=1, max_length=100)]
    start_date: date = date(2026, 11, 23)
    days: Annotated[int, Field(ge=1, le=31)] = 1
    areas: list[AreaSpec] = Field(min_length=1)
    engineers: list[EngineerGroup] = Field(min_length=1)
    problem_types: list[ProblemType] = Field(min_length=1)
    demand: Demand
    noise: Noise = Noise()
    dispatching: Dispatching = Dispatching()
    out_of_town_sites: OutOfTown = OutOfTown()
    sites_per_area: Annotated[int, Field(ge=1, le=5000)] = 60
    vip_customers: bool = Field(
        default=False,
        description="some customers hold a VIP tier (silver, gold, platinum), which raises "
        "their requests' priority as the SLA policy says",
    )

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        names = {a.name for a in self.areas}
        for i, group in enumerate(self.engineers):
            if group.area not in names:
                raise ValueError(f"engineers.{i}.area: no area named {group.area!r}")
        skills = {s for g in self.engineers for s in g.skills}
        for i, problem in enumerate(self.problem_types):
            if problem.skill not in skills:
                raise ValueError(
                    f"problem_types.{i}.skill: no engineer group holds {problem.skill!r}"
                )
        return self

    def scaled(self, demand_factor: float) -> Scenario:
        """The same scenario with ``demand_factor`` times the requests."""
        demand = self.demand.model_copy(
            update={"requests": round(self.demand.requests * demand_factor)}
        )
        return self.model_copy(update={"demand": demand})


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the field."""


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "scenario"
        lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)


def parse_scenario(data: dict[str, Any]) -> Scenario:
    """A validated scenario from parsed TOML or JSON.

    ``extends = "standard"`` starts from a shipped scenario and replaces the top-level tables
    given; ``demand_factor = 1.4`` then scales its requests.
    """
    data = dict(data)
    base = data.pop("extends", None)
    factor = data.pop("demand_factor", None)
    if base is not None:
        if base not in SHIPPED:
            raise ScenarioError(f"extends: no shipped scenario {base!r} ({', '.join(SHIPPED)})")
        data = _shipped(base) | data
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_describe(exc)) from None
    if factor is not None:
        if not isinstance(factor, int | float) or not 0 < factor <= 20:
            raise ScenarioError("demand_factor: must be a number above 0 and at most 20")
        scenario = scenario.scaled(float(factor))
    return scenario


SHIPPED = ("standard", "stress", "demo")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (``standard``, ``stress``) or a TOML/JSON file."""
    if str(name_or_path) in SHIPPED:
        return parse_scenario(_shipped(str(name_or_path)))
    path = Path(name_or_path)
    if not path.exists():
        raise ScenarioError(
            f"scenario: no file {path} (or use a shipped scenario: {', '.join(SHIPPED)})"
        )
    raw = path.read_text(encoding="utf-8")
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(
            f"scenario: {path} is not valid {path.suffix[1:].upper()}: {exc}"
        ) from None
    return parse_scenario(data)


def _shipped(name: str) -> dict[str, Any]:
    text = resources.files("simulation.scenarios").joinpath(f"{name}.toml")
    return tomllib.loads(text.read_text(encoding="utf-8"))
