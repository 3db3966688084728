"""Calibrated windows: the computed interval holds the arrival as often as it says."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatch.promise.calibration import (
    Leg,
    LogNormal,
    NoiseEstimate,
    arrival_spread,
    blend,
    calibrated_window,
    censored_fit,
    narrowest_interval,
)

TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
RUSH = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 17:00


def _route(n: int, start: datetime) -> list[Leg]:
    """n visits of 45-75 minutes, 15-35 minutes apart, then the drive to the new site."""
    rng = random.Random(n)
    legs, t = [], start
    for _ in range(n):
        travel, service = rng.uniform(900, 2100), rng.uniform(2700, 4500)
        legs.append(Leg(travel, t, service, "minor_fault"))
        t += timedelta(seconds=travel + service)
    legs.append(Leg(rng.uniform(900, 2100), t))
    return legs


def _monte_carlo(legs: list[Leg], estimate: NoiseEstimate, draws: int) -> list[float]:
    rng = random.Random(7)
    out = []
    for _ in range(draws):
        error = 0.0
        for leg in legs:
            hour = leg.departure.astimezone(TZ).hour
            band = next(
                i
                for i, (lo, hi) in enumerate(((0, 7), (7, 10), (10, 16), (16, 19), (19, 24)))
                if lo <= hour < hi
            )
            t = estimate.travel_in(band)
            error += leg.travel_s * (math.exp(rng.gauss(t.mu, t.sigma)) - 1)
            if leg.service_s:
                s = estimate.service_of(leg.problem_type)
                error += leg.service_s * (math.exp(rng.gauss(s.mu, s.sigma)) - 1)
        out.append(error)
    return out


@pytest.mark.parametrize("visits_before", [0, 2, 5])
@pytest.mark.parametrize("target", [0.8, 0.95])
@pytest.mark.parametrize("start", [NOON, RUSH])
def test_the_interval_holds_the_arrival_at_the_target_rate(
    visits_before: int, target: float, start: datetime
) -> None:
    """Against 40,000 Monte Carlo days, the computed interval covers the target share of
    arrivals within one and a half points, whatever the position on the route or the hour."""
    estimate = NoiseEstimate(start_delay_min=(0.0, 0.0))
    legs = _route(visits_before, start)
    lo, hi = narrowest_interval(arrival_spread(legs, estimate, tz=TZ, first_of_day=False), target)
    sample = _monte_carlo(legs, estimate, 40_000)
    covered = sum(lo <= x <= hi for x in sample) / len(sample)
    assert covered == pytest.approx(target, abs=0.015)


def test_uncertainty_grows_along_the_route() -> None:
    """The later a visit on the day, the wider the interval that holds it."""
    estimate = NoiseEstimate()
    widths = []
    for n in (0, 2, 4, 6):
        lo, hi = narrowest_interval(
            arrival_spread(_route(n, NOON), estimate, tz=TZ, first_of_day=False), 0.95
        )
        widths.append(hi - lo)
    assert widths == sorted(widths) and widths[-1] > 2 * widths[0]


def test_the_window_is_whole_slots_capped_and_before_the_target() -> None:
    """Slots on the local clock, at most the maximum width, ending by the SLA target."""
    estimate = NoiseEstimate()
    spread = arrival_spread(_route(3, NOON), estimate, tz=TZ, first_of_day=False)
    eta = datetime(2026, 11, 23, 6, 7, tzinfo=UTC)  # 14:07 local
    start, end = calibrated_window(
        eta, spread, target=0.95, slot=timedelta(minutes=30), max_width=timedelta(hours=4), tz=TZ
    )
    for edge in (start, end):
        assert edge.astimezone(TZ).minute in (0, 30) and edge.second == 0
    assert start <= eta <= end and end - start <= timedelta(hours=4)
    capped = calibrated_window(
        eta, spread, target=0.95, slot=timedelta(minutes=30), max_width=timedelta(hours=1), tz=TZ
    )
    assert capped[1] - capped[0] == timedelta(hours=1)
    latest = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # the SLA wants us there by 15:00
    kept = calibrated_window(
        eta,
        spread,
        target=0.95,
        slot=timedelta(minutes=30),
        max_width=timedelta(hours=4),
        tz=TZ,
        latest=latest,
    )
    assert kept[1] <= latest


def test_history_moves_the_prior_towards_what_was_seen() -> None:
    """Few observations barely move the prior; many take over from it."""
    prior = LogNormal(0.0, 0.25)
    slow = [math.log(1.3)] * 300
    assert blend(prior, slow[:3]).mu < 0.05
    learned = blend(prior, slow)
    assert learned.mu == pytest.approx(math.log(1.3), abs=0.03) and learned.samples == 300


def test_door_waits_are_read_as_bounds_not_as_drives() -> None:
    """Drives cut short by a wait at the door (only an upper bound known) leave the fitted
    spread of the roads where it is, where counting them as drives would widen it."""
    rng = random.Random(7)
    true_mu, true_sigma = 0.05, 0.3
    logs, bounds = [], []
    for _ in range(4000):
        x = rng.gauss(true_mu, true_sigma)
        wait_bound = rng.gauss(0.1, 0.2)  # the drive that would have reached the door as it opened
        if x < wait_bound:
            bounds.append(wait_bound)  # recorded as that long: the rest was a wait
        else:
            logs.append(x)
    mean, var = censored_fit(logs, bounds)
    assert mean == pytest.approx(true_mu, abs=0.02)
    assert math.sqrt(var) == pytest.approx(true_sigma, abs=0.02)
    naive = blend(LogNormal(0.0, 0.25), [*logs, *bounds])
    assert naive.mu > true_mu + 0.05  # what reading waits as drives would have learned
    learned = blend(LogNormal(0.0, 0.25), logs, bounds)
    assert learned.mu == pytest.approx(true_mu, abs=0.02) and learned.samples == 4000


def test_bounds_alone_leave_the_prior_in_charge() -> None:
    """A band whose few drives all ended at a window's opening (bounds only) does not drag the
    estimate towards ever faster roads: the prior stays."""
    prior = LogNormal(0.0, 0.25)
    learned = blend(prior, [0.1, -0.1], [-0.3] * 50)
    assert learned.mu == pytest.approx(0.0, abs=0.01) and learned.samples == 2
