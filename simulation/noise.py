"""How a real day differs from its plan: travel, time on site, engineers who start late or not
at all. Every draw is keyed by what it is about (a request, an engineer-day), so a seed gives
the same day whatever the policy under test does in between."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from simulation.scenario import Noise, ProblemType

# Local hours in which the real roads are slower than off-peak (weekdays), as the travel model
# documents; ``Noise.rush_bias`` scales them further.
RUSH_HOURS = frozenset({7, 8, 9, 16, 17, 18})


@dataclass(frozen=True)
class NoiseModel:
    """Seeded draws of the day's randomness."""

    seed: int
    noise: Noise

    def _rng(self, *key: object) -> random.Random:
        # A string seed is hashed with SHA-512 by ``random``: stable across runs and processes.
        return random.Random(":".join(str(k) for k in (self.seed, *key)))

    def travel_factor(self, request_id: int, sigma: float, departure: datetime, tz: str) -> float:
        """Real travel / planned travel on the leg into a visit: lognormal with median 1 and
        spread ``sigma``, times the rush-hour bias when leaving in a rush hour."""
        factor = self._rng("travel", request_id).lognormvariate(0.0, sigma) if sigma else 1.0
        local = departure.astimezone(ZoneInfo(tz))
        if local.weekday() < 5 and local.hour in RUSH_HOURS:
            factor *= self.noise.rush_bias
        return factor

    def service_minutes(self, request_id: int, estimate: int, problem: ProblemType) -> float:
        """Real time on site: the desk's estimate times uniform(1 - spread, 1 + spread)."""
        spread = problem.spread
        return estimate * self._rng("service", request_id).uniform(1 - spread, 1 + spread)

    def late_start_minutes(self, engineer_id: int, day: object) -> float:
        """Minutes an engineer-day starts late (0 on most days)."""
        rng = self._rng("late", engineer_id, day)
        if rng.random() >= self.noise.late_start:
            return 0.0
        lo, hi = self.noise.late_start_minutes
        return rng.uniform(lo, hi)

    def no_show(self, engineer_id: int, day: object) -> bool:
        """Whether the engineer does not work that day at all."""
        return self._rng("no_show", engineer_id, day).random() < self.noise.no_show


def lognormal_mean(sigma: float) -> float:
    """Mean of a lognormal factor with median 1 (what travel noise adds on average)."""
    return math.exp(sigma * sigma / 2)
