"""What the customers saw: promises kept or broken, lateness, window widths, service levels,
and what it cost the engineers. Computed from what the simulator observed, not from tables."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from simulation.scenario import Scenario


@dataclass
class RequestRecord:
    """One request as the simulator saw it: what was promised first, what happened."""

    request_id: int
    tier: str
    locality: str
    area: str
    received_at: datetime
    window_start: datetime | None
    window_end: datetime | None
    arrival_due: datetime | None
    first_response_due: datetime | None
    customer_chosen: bool = False
    at_risk: bool = False
    urgent_eligible: bool | None = None
    refused: str | None = None
    acknowledged_at: datetime | None = None
    arrived_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    engineer_id: int | None = None
    window_start_at_arrival: datetime | None = None
    window_end_at_arrival: datetime | None = None
    eta_at_departure: datetime | None = None
    """The visit's ETA when its engineer set off for it (late already, or made late on the road)."""

    @classmethod
    def of_refusal(cls, received_at: datetime, area: str, tier: str, reason: str) -> RequestRecord:
        """A call intake refused (out of range, say): counted, never promised."""
        return cls(
            request_id=-1,
            tier=tier,
            locality="unknown",
            area=area,
            received_at=received_at,
            window_start=None,
            window_end=None,
            arrival_due=None,
            first_response_due=None,
            refused=reason,
        )

    @property
    def renegotiated(self) -> bool:
        """The customer was given another window later (never counted as kept)."""
        return self.arrived_at is not None and (
            self.window_start_at_arrival != self.window_start
            or self.window_end_at_arrival != self.window_end
        )


@dataclass(frozen=True)
class EngineerDay:
    engineer_id: int
    day: date
    started_at: datetime
    finished_at: datetime
    shift_end: datetime
    travel_s: float
    service_s: float
    visits: int


@dataclass
class Report:
    """The figures of a simulated run (``as_dict`` is its JSON)."""

    scenario: str
    seed: int
    policy: str
    requests: int
    refused: int
    promises: int
    due: int = 0
    kept: int = 0
    broken: int = 0
    early: int = 0
    renegotiated: int = 0
    cancelled: int = 0
    not_served: int = 0
    late_at_set_off: int = 0
    """Late arrivals whose ETA was past the window already when the engineer set off (the
    plan broke the promise); the rest were made late on the road."""
    kept_share: float | None = None
    broken_share: float | None = None
    early_share: float | None = None
    lateness_mean_min: float | None = None
    lateness_p90_min: float | None = None
    width_median_min: float | None = None
    width_p90_min: float | None = None
    sla_arrival_met: float | None = None
    sla_arrival_met_by: dict[str, float | None] = field(default_factory=dict)
    first_response_met: float | None = None
    urgent_same_city_on_site_2h: float | None = None
    urgent_same_city_eligible: int = 0
    overtime_min_per_day: float | None = None
    travel_share: float | None = None
    replans: int = 0
    told_new_window: int = 0
    kept_by_hour: dict[str, float | None] = field(default_factory=dict)
    widths_min: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("widths_min")
        return data


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (the definition the analytics use)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def build_report(
    scenario: Scenario,
    seed: int,
    policy: str,
    records: list[RequestRecord],
    days: list[EngineerDay],
    *,
    runs: int,
    end: datetime,
) -> Report:
    """The report of one simulated run; promises whose window ends after ``end`` (the end of
    the simulated days) are not yet due and left out of the shares."""
    zones = {a.name: ZoneInfo(a.timezone) for a in scenario.areas}
    promised = [r for r in records if r.refused is None and r.window_end is not None]
    report = Report(
        scenario=scenario.name,
        seed=seed,
        policy=policy,
        requests=len(records),
        refused=sum(1 for r in records if r.refused is not None),
        promises=len(promised),
        replans=runs,
    )
    late: list[float] = []
    by_hour: dict[int, list[bool]] = {}
    for r in promised:
        assert r.window_start is not None and r.window_end is not None
        report.widths_min.append(_minutes(r.window_end - r.window_start))
        if r.cancelled_at is not None and r.arrived_at is None:
            report.cancelled += 1
            continue
        if r.arrived_at is None and r.window_end > end:
            continue  # promised for after the simulated days
        report.due += 1
        kept = False
        if r.arrived_at is None:
            report.not_served += 1
            report.broken += 1
        elif r.renegotiated:
            report.renegotiated += 1
        elif r.arrived_at < r.window_start:
            report.early += 1
        elif r.arrived_at > r.window_end:
            report.broken += 1
            late.append(_minutes(r.arrived_at - r.window_end))
            if r.eta_at_departure is not None and r.eta_at_departure > r.window_end:
                report.late_at_set_off += 1
        else:
            report.kept += 1
            kept = True
        hour = r.window_start.astimezone(zones[r.area]).hour
        by_hour.setdefault(hour, []).append(kept)
    report.kept_share = _share(report.kept, report.due)
    report.broken_share = _share(report.due - report.kept, report.due)
    report.early_share = _share(report.early, report.due)
    report.told_new_window = report.renegotiated
    report.lateness_mean_min = round(sum(late) / len(late), 1) if late else None
    report.lateness_p90_min = percentile(late, 90)
    report.width_median_min = percentile(report.widths_min, 50)
    report.width_p90_min = percentile(report.widths_min, 90)
    report.kept_by_hour = {f"{h:02d}": _share(sum(v), len(v)) for h, v in sorted(by_hour.items())}

    arrivals = [r for r in promised if r.arrival_due is not None and r.cancelled_at is None]
    judged = [r for r in arrivals if r.arrived_at is not None or r.arrival_due <= end]  # type: ignore[operator]
    met = [r for r in judged if r.arrived_at is not None and r.arrived_at <= r.arrival_due]  # type: ignore[operator]
    report.sla_arrival_met = _share(len(met), len(judged))
    for tier in ("urgent", "important", "general"):
        for locality in ("same_city", "out_of_town"):
            group = [r for r in judged if r.tier == tier and r.locality == locality]
            ok = [r for r in group if r in met]
            report.sla_arrival_met_by[f"{tier}/{locality}"] = _share(len(ok), len(group))
    responses = [
        r for r in promised if r.first_response_due is not None and r.first_response_due <= end
    ]
    answered = [
        r
        for r in responses
        if r.acknowledged_at is not None and r.acknowledged_at <= r.first_response_due  # type: ignore[operator]
    ]
    report.first_response_met = _share(len(answered), len(responses))
    urgent = [r for r in promised if r.urgent_eligible and r.cancelled_at is None]
    report.urgent_same_city_eligible = len(urgent)
    on_time = [
        r
        for r in urgent
        if r.arrived_at is not None and r.arrived_at - r.received_at <= timedelta(hours=2)
    ]
    report.urgent_same_city_on_site_2h = _share(len(on_time), len(urgent))
    if days:
        overtime = [max(0.0, _minutes(d.finished_at - d.shift_end)) for d in days]
        report.overtime_min_per_day = round(sum(overtime) / len(days), 1)
        travel = sum(d.travel_s for d in days)
        work = travel + sum(d.service_s for d in days)
        report.travel_share = round(travel / work, 4) if work else None
    return report


def report_text(report: Report) -> str:
    """The plain-text report."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.1f} %"

    def num(value: float | None, unit: str) -> str:
        return "-" if value is None else f"{value:g} {unit}"

    lines = [
        f"scenario {report.scenario}, seed {report.seed}, {report.policy} windows",
        f"  requests {report.requests} (refused {report.refused}), promises {report.promises}, "
        f"due in the simulated days {report.due}, cancelled by customers {report.cancelled}",
        f"  kept (arrival inside the first window): {report.kept} = {pct(report.kept_share)}",
        f"  broken {report.due - report.kept} = {pct(report.broken_share)} "
        f"(late {report.broken - report.not_served}, never came {report.not_served}, "
        f"early {report.early}, renegotiated {report.renegotiated})",
        f"  of the late: {report.late_at_set_off} already past the window when the engineer set "
        f"off, {report.broken - report.not_served - report.late_at_set_off} made late on the road",
        f"  lateness past the window: mean {num(report.lateness_mean_min, 'min')}, "
        f"p90 {num(report.lateness_p90_min, 'min')}",
        f"  window width: median {num(report.width_median_min, 'min')}, "
        f"p90 {num(report.width_p90_min, 'min')}",
        f"  SLA arrival met: {pct(report.sla_arrival_met)}; first response met: "
        f"{pct(report.first_response_met)}",
        "  SLA arrival met by tier/locality: "
        + ", ".join(f"{k} {pct(v)}" for k, v in report.sla_arrival_met_by.items() if v is not None),
        f"  urgent same-city on site within 2 h (an engineer could): "
        f"{pct(report.urgent_same_city_on_site_2h)} of {report.urgent_same_city_eligible}",
        f"  engineers: overtime {num(report.overtime_min_per_day, 'min')} per engineer-day, "
        f"travel {pct(report.travel_share)} of working time",
        f"  runs {report.replans}, customers told of a new window {report.told_new_window}",
        "  kept by hour of the window: "
        + ", ".join(f"{h}h {pct(v)}" for h, v in report.kept_by_hour.items()),
    ]
    return "\n".join(lines)
