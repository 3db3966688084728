"""Calibrated arrival windows: how sure are we of a predicted arrival, and which window holds it.

A visit's real arrival is its predicted arrival plus the errors of everything before it on the
engineer's day: each leg driven (real / planned travel is lognormal, with a spread and a bias
per hour of departure) and each visit served before (real / estimated time on site, lognormal
per problem type), plus how late the day started. The errors are independent, so their
cumulants add: the mean, the variance and the third cumulant of the total are exact, and the
quantiles follow from a Cornish-Fisher expansion (normal plus the skew of the lognormal
terms). The window is then the narrowest interval, in whole slots of the policy, that holds the
arrival with the policy's target probability, capped at its maximum width.

Pure: no database and no clock; the noise estimate is passed in (learned from history by
``dispatch.planning.history``, or the documented prior).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import NormalDist
from zoneinfo import ZoneInfo

# Hour bands of departure (local time) that travel errors are learned in: the rush hours of
# the travel model, and the rest of the day.
BANDS: tuple[tuple[int, int], ...] = ((0, 7), (7, 10), (10, 16), (16, 19), (19, 24))


def band_of(hour: int) -> int:
    """The index in :data:`BANDS` of a local hour."""
    return next(i for i, (lo, hi) in enumerate(BANDS) if lo <= hour < hi)


@dataclass(frozen=True)
class LogNormal:
    """A multiplicative error: log(real / planned) ~ N(mu, sigma)."""

    mu: float
    sigma: float
    samples: int = 0

    def cumulants(self, scale: float) -> tuple[float, float, float]:
        """Mean, variance and third cumulant of ``scale x (X - 1)``."""
        s2 = self.sigma * self.sigma
        e = math.exp(self.mu + s2 / 2)
        growth = math.expm1(s2)
        var = growth * math.exp(2 * self.mu + s2)
        third = growth * growth * (growth + 3) * math.exp(3 * self.mu + 1.5 * s2)
        return scale * (e - 1), scale * scale * var, scale**3 * third


# The prior when history is thin (documented in the README): urban travel times vary by about
# a quarter around their estimate (a lognormal spread of 0.25), a little more at rush hours;
# time on site by about a fifth; and a day starts a few minutes late on average.
PRIOR_TRAVEL = LogNormal(0.0, 0.25)
PRIOR_RUSH = LogNormal(0.05, 0.3)
PRIOR_SERVICE = LogNormal(0.0, 0.2)
PRIOR_START_DELAY_MIN = (3.0, 8.0)  # mean and standard deviation, minutes
PRIOR_WEIGHT = 30  # the prior counts as this many observations
MIN_UNCENSORED = 5  # fewer drives seen whole, and the bounds are not fitted


PLAN_CHANGE_SHARE = 0.6
"""Of the misses a window's target allows (``1 - target``), the share left to what the noise
model does not see: the plan's own changes before the visit (an urgent call put ahead of it, a
re-plan after a long repair elsewhere). The window holds the road-and-service noise at
:func:`noise_level`: 0.98 for a target of 0.95. A constant chosen by measuring kept shares in
the day simulator (the README gives the figures), not yet learned from realised arrivals."""


def noise_level(target: float) -> float:
    """The probability a window holds the road-and-service noise at, for it to hold ``target``
    of arrivals once the plan's changes are counted too (:data:`PLAN_CHANGE_SHARE`)."""
    return 1.0 - (1.0 - target) * (1.0 - PLAN_CHANGE_SHARE)


@dataclass(frozen=True)
class NoiseEstimate:
    """Travel errors per hour band, time-on-site errors per problem type, start delays."""

    travel: Mapping[int, LogNormal] = field(default_factory=dict)
    service: Mapping[str, LogNormal] = field(default_factory=dict)
    service_default: LogNormal = PRIOR_SERVICE
    start_delay_min: tuple[float, float] = PRIOR_START_DELAY_MIN

    def travel_in(self, band: int) -> LogNormal:
        found = self.travel.get(band)
        if found is not None:
            return found
        return PRIOR_RUSH if BANDS[band] in ((7, 10), (16, 19)) else PRIOR_TRAVEL

    def service_of(self, problem_type: str | None) -> LogNormal:
        if problem_type is None:
            return self.service_default
        return self.service.get(problem_type, self.service_default)


def blend(prior: LogNormal, logs: Sequence[float], censored: Sequence[float] = ()) -> LogNormal:
    """The prior updated with observed log ratios (a conjugate-style shrinkage: the prior counts
    as :data:`PRIOR_WEIGHT` observations).

    ``censored`` are upper bounds rather than observations: legs whose engineer reached the door
    before the window opened and waited there, so the drive took at most the time recorded.
    Counting them as drives would read door waits as slow roads; dropping them would keep only
    the slower drives. Their share is estimated as a left-censored normal (:func:`censored_fit`).
    """
    if len(logs) < MIN_UNCENSORED:
        censored = ()  # bounds alone fit any mean below them: the prior stays in charge
    n = len(logs) + len(censored)
    if n == 0:
        return prior
    if censored:
        mean, spread = censored_fit(logs, censored)
    else:
        mean = sum(logs) / n
        spread = sum((x - mean) ** 2 for x in logs) / n
    w = PRIOR_WEIGHT
    mu = (w * prior.mu + n * mean) / (w + n)
    var = (w * (prior.sigma**2 + (prior.mu - mu) ** 2) + n * (spread + (mean - mu) ** 2)) / (w + n)
    return LogNormal(mu, math.sqrt(var), n)


def censored_fit(
    logs: Sequence[float], censored: Sequence[float], *, iterations: int = 60
) -> tuple[float, float]:
    """Mean and variance of a normal sample some of whose values are known only to be at most a
    bound (the maximum-likelihood fit of a left-censored normal, by expectation-maximisation:
    each bound stands for the expected value, and square, of a normal cut at it)."""
    n = len(logs) + len(censored)
    values = [*logs, *censored]
    mean = sum(values) / n
    var = max(sum((x - mean) ** 2 for x in values) / n, 1e-4)
    unit = NormalDist()
    seen_total, seen_squares = sum(logs), sum(x * x for x in logs)
    for _ in range(iterations):
        sd = math.sqrt(var)
        total, squares = seen_total, seen_squares
        for bound in censored:
            a = (bound - mean) / sd
            below = unit.cdf(a)
            ratio = unit.pdf(a) / below if below > 1e-12 else -a  # the tail's limit
            expected = mean - sd * ratio
            total += expected
            squares += expected * expected + var * max(1 - a * ratio - ratio * ratio, 0.0)
        new_mean = total / n
        new_var = max(squares / n - new_mean * new_mean, 1e-4)
        done = abs(new_mean - mean) < 1e-7 and abs(new_var - var) < 1e-7
        mean, var = new_mean, new_var
        if done:
            break
    return mean, var


@dataclass(frozen=True)
class Leg:
    """Something before the arrival on the engineer's day: a drive, then (maybe) a visit."""

    travel_s: float
    departure: datetime
    service_s: float = 0.0
    problem_type: str | None = None


@dataclass(frozen=True)
class ArrivalSpread:
    """The error of a predicted arrival, in seconds: its mean, variance and third cumulant."""

    mean: float
    variance: float
    third: float

    def quantile(self, p: float) -> float:
        """The ``p`` quantile of the error (Cornish-Fisher, with the skew of the terms)."""
        sd = math.sqrt(self.variance)
        if sd < 1e-6:  # under a microsecond: no spread to speak of (and no skew to divide by)
            return self.mean
        z = NormalDist().inv_cdf(p)
        skew = self.third / sd**3
        return self.mean + sd * (z + (z * z - 1) * skew / 6)


def arrival_spread(
    legs: Sequence[Leg], estimate: NoiseEstimate, *, tz: ZoneInfo, first_of_day: bool
) -> ArrivalSpread:
    """The error of an arrival reached through ``legs`` (the last one drives to the site).

    Each leg adds its travel error (by the hour band it departs in) and, for the visits before,
    their time-on-site error; the first visit of a day also carries the day's start delay.
    """
    mean = var = third = 0.0
    for leg in legs:
        band = band_of(leg.departure.astimezone(tz).hour)
        m, v, t = estimate.travel_in(band).cumulants(leg.travel_s)
        mean, var, third = mean + m, var + v, third + t
        if leg.service_s:
            m, v, t = estimate.service_of(leg.problem_type).cumulants(leg.service_s)
            mean, var, third = mean + m, var + v, third + t
    if first_of_day:
        delay_mean, delay_sd = estimate.start_delay_min
        mean += delay_mean * 60
        var += (delay_sd * 60) ** 2
    return ArrivalSpread(mean, var, third)


def narrowest_interval(
    spread: ArrivalSpread, target: float, steps: int = 40
) -> tuple[float, float]:
    """The shortest ``[lo, hi]`` (seconds of error) holding the error with probability
    ``target``: among the intervals between the ``a`` and ``a + target`` quantiles."""
    best: tuple[float, float] | None = None
    room = 1.0 - target
    for k in range(steps + 1):
        a = room * (0.005 + 0.99 * k / steps)
        lo, hi = spread.quantile(a), spread.quantile(a + target)
        if best is None or hi - lo < best[1] - best[0]:
            best = (lo, hi)
    assert best is not None
    return best


def calibrated_window(
    eta: datetime,
    spread: ArrivalSpread,
    *,
    target: float,
    slot: timedelta,
    max_width: timedelta,
    tz: ZoneInfo,
    earliest: datetime | None = None,
    latest: datetime | None = None,
) -> tuple[datetime, datetime]:
    """The window to promise for an arrival predicted at ``eta``.

    The narrowest interval holding the arrival with probability ``target``, widened to whole
    slots on the local clock (e.g. 14:00 or 14:30), at most ``max_width`` (kept around the
    median), moved to start no earlier than ``earliest`` and end no later than ``latest``
    (the SLA's arrival target) where it fits.
    """
    lo, hi = narrowest_interval(spread, target)
    start = _floor(eta + timedelta(seconds=lo), slot, tz)
    end = _ceil(eta + timedelta(seconds=hi), slot, tz)
    if end - start > max_width:
        middle = eta + timedelta(seconds=spread.quantile(0.5))
        start = _floor(middle - max_width / 2, slot, tz)
        end = start + max_width
    if earliest is not None and start < earliest:
        start, end = earliest, max(end, earliest + slot)
    if latest is not None and end > latest:
        width = end - start
        if earliest is None or latest - width >= earliest:
            start, end = latest - width, latest
    return start, end


def _floor(moment: datetime, slot: timedelta, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = (local - midnight) // slot
    return midnight + steps * slot


def _ceil(moment: datetime, slot: timedelta, tz: ZoneInfo) -> datetime:
    floored = _floor(moment, slot, tz)
    return floored if floored == moment.astimezone(tz) else floored + slot


__all__ = [
    "BANDS",
    "PRIOR_RUSH",
    "PRIOR_SERVICE",
    "PRIOR_TRAVEL",
    "ArrivalSpread",
    "Leg",
    "LogNormal",
    "NoiseEstimate",
    "arrival_spread",
    "band_of",
    "blend",
    "calibrated_window",
    "censored_fit",
    "narrowest_interval",
    "noise_level",
]
