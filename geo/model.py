"""The embedded travel-time model: great circle x circuity, speed bands, rush-hour multipliers.

Road distance is estimated as the great-circle distance times a circuity factor; travel time
follows from marginal speed bands over that road distance (the first kilometres of any trip are
driven slowly on access and urban roads, the rest faster), times an hour-of-day multiplier when a
departure time is given. A service area can override all of it (`TravelModel.areas`).

Defaults and where they come from (generic planning values, meant to be tuned per area):

* circuity 1.3. Measured road/straight-line ratios are about 1.2 for long trips and 1.3-1.4 for
  short urban trips: Ballou, Rahardja & Sakai (2002), "Selected country circuity factors for road
  travel distance estimation", Transportation Research Part A 36(9); Boscoe, Henry & Zdeb (2012),
  "A nationwide comparison of driving distance versus straight-line distance to hospitals",
  The Professional Geographer 64(2) (mean ratio 1.42 for short trips, lower for long ones).
* marginal speeds over road distance: 0-2 km at 20 km/h (leaving the site, parking, access
  roads), 2-10 km at 30 km/h (urban streets), 10-50 km at 55 km/h (arterials, ring roads), beyond
  50 km at 90 km/h (motorways and trunk roads). Average driving speeds of 20-30 km/h in large
  European and North American cities are what city congestion indices (e.g. the TomTom Traffic
  Index) report; 90 km/h is a door-to-door intercity average below motorway limits of 100-130 km/h.
  Because the speeds are marginal (like tax brackets) the travel time is continuous and increasing
  in distance: a longer trip never takes less time.
* rush hours, Monday-Friday local time: x1.25 for departures 07:00-07:59, x1.4 08:00-08:59,
  x1.2 09:00-09:59, x1.2 16:00-16:59, x1.4 17:00-17:59, x1.25 18:00-18:59. Congestion indices put
  peak-hour trips in congested cities at 30-60 % above off-peak; these are mid-range values.

Precision: the matrix kernel runs in float32 (half the memory traffic of float64). Unit vectors
are computed in float64 and rounded once, which leaves an absolute error below about 1 m on trips
within a city and a relative error below 5e-6 on long ones (worst near antipodes, where it reaches
tens of metres over 20,000 km); results are whole seconds and metres anyway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from geo.distance import EARTH_RADIUS_M, block_rows, half_angle_block, unit_vectors
from geo.errors import GeoError
from geo.matrix import TravelMatrix
from geo.types import PointsLike, as_points

__all__ = [
    "DEFAULT_RUSH_HOURS",
    "DEFAULT_SPEED_BANDS",
    "ModelProvider",
    "TravelModel",
    "TravelProfile",
]

DEFAULT_SPEED_BANDS: tuple[tuple[float, float], ...] = (
    (2_000.0, 20.0),
    (10_000.0, 30.0),
    (50_000.0, 55.0),
    (math.inf, 90.0),
)
"""``(upper bound of road distance in metres, marginal speed in km/h)`` per band."""

DEFAULT_RUSH_HOURS: tuple[tuple[int, float], ...] = (
    (7, 1.25),
    (8, 1.4),
    (9, 1.2),
    (16, 1.2),
    (17, 1.4),
    (18, 1.25),
)
"""``(local hour of departure, travel-time multiplier)``; hours not listed use 1.0."""

_WEEKDAYS = frozenset(range(5))
# Largest multiplier accepted: beyond it a "rush hour" is really a closure, and capping keeps every
# duration far below the int32 UNREACHABLE sentinel.
_MAX_MULTIPLIER = 10.0


@dataclass(frozen=True)
class TravelProfile:
    """Parameters of the travel-time model for one service area (or the default).

    Parameters
    ----------
    circuity : float, optional
        Road distance / great-circle distance, at least 1.0. Default 1.3.
    speed_bands : tuple of (float, float), optional
        ``(upper bound of road distance in metres, marginal speed in km/h)``, bounds strictly
        increasing and the last one ``math.inf``. Default `DEFAULT_SPEED_BANDS`.
    rush_hours : tuple of (int, float), optional
        ``(local hour 0-23, multiplier)`` applied to travel times departing in that hour on
        `rush_days`. Default `DEFAULT_RUSH_HOURS`; ``()`` switches rush hours off.
    rush_days : frozenset of int, optional
        Weekdays (Monday = 0) on which `rush_hours` apply. Default Monday-Friday.
    timezone : str, optional
        IANA timezone whose local hour selects the multiplier, e.g. ``"Europe/London"``. When
        None the departure's own timezone is used, so pass departures in local time.

    Raises
    ------
    geo.errors.GeoError
        If a parameter is out of range; ``field`` names it.
    """

    circuity: float = 1.3
    speed_bands: tuple[tuple[float, float], ...] = DEFAULT_SPEED_BANDS
    rush_hours: tuple[tuple[int, float], ...] = DEFAULT_RUSH_HOURS
    rush_days: frozenset[int] = _WEEKDAYS
    timezone: str | None = None
    _zone: ZoneInfo | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.circuity) and 1.0 <= self.circuity <= 5.0):
            raise GeoError("circuity", f"must be between 1.0 and 5.0, got {self.circuity}")
        if not self.speed_bands:
            raise GeoError("speed_bands", "at least one band is required")
        previous = 0.0
        for i, (upper, speed) in enumerate(self.speed_bands):
            if not upper > previous:
                raise GeoError(f"speed_bands[{i}]", "upper bounds must be strictly increasing")
            if not (math.isfinite(speed) and 1.0 <= speed <= 300.0):
                raise GeoError(f"speed_bands[{i}]", f"speed must be 1-300 km/h, got {speed}")
            previous = upper
        if not math.isinf(self.speed_bands[-1][0]):
            raise GeoError("speed_bands", "the last band must extend to infinity (math.inf)")
        hours = [hour for hour, _ in self.rush_hours]
        if len(set(hours)) != len(hours):
            raise GeoError("rush_hours", "each hour may appear only once")
        for hour, multiplier in self.rush_hours:
            if not (isinstance(hour, int) and 0 <= hour <= 23):
                raise GeoError("rush_hours", f"hour must be an integer 0-23, got {hour!r}")
            if not (math.isfinite(multiplier) and 0.0 < multiplier <= _MAX_MULTIPLIER):
                raise GeoError(
                    "rush_hours", f"multiplier for {hour}h must be in (0, 10], got {multiplier}"
                )
        if not self.rush_days <= frozenset(range(7)):
            raise GeoError("rush_days", "weekdays are 0 (Monday) to 6 (Sunday)")
        if self.timezone is not None:
            try:
                object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise GeoError("timezone", f"unknown timezone {self.timezone!r}") from exc

    def multiplier(self, departure: datetime | None) -> float:
        """Travel-time multiplier for a departure time.

        Parameters
        ----------
        departure : datetime.datetime or None
            Timezone-aware departure; None gives 1.0.

        Returns
        -------
        float
            The rush-hour multiplier of the local hour, or 1.0 outside rush hours.

        Raises
        ------
        geo.errors.GeoError
            If ``departure`` is naive (``field="departure"``).
        """
        if departure is None:
            return 1.0
        if departure.tzinfo is None or departure.utcoffset() is None:
            raise GeoError("departure", "must be timezone-aware (e.g. 2025-03-03T08:15:00+00:00)")
        local = departure.astimezone(self._zone) if self._zone is not None else departure
        if local.weekday() not in self.rush_days:
            return 1.0
        return dict(self.rush_hours).get(local.hour, 1.0)

    def hourly(self, start: datetime, hours: int) -> tuple[float, ...]:
        """Multipliers for departures in each hour from ``start`` (aware), ``hours`` of them.

        Parameters
        ----------
        start : datetime.datetime
            Timezone-aware start of the first hour.
        hours : int
            How many hours.

        Returns
        -------
        tuple of float
            ``multiplier(start + k hours)`` for k in ``range(hours)``.
        """
        return tuple(self.multiplier(start + timedelta(hours=k)) for k in range(hours))

    def duration_s(self, road_m: float, departure: datetime | None = None) -> float:
        """Travel time in seconds for a road distance, before rounding.

        Parameters
        ----------
        road_m : float
            Road distance in metres (already multiplied by the circuity).
        departure : datetime.datetime, optional
            Timezone-aware departure for the rush-hour multiplier.

        Returns
        -------
        float
            Seconds.
        """
        seconds = 0.0
        lower = 0.0
        for upper, speed in self.speed_bands:
            seconds += max(0.0, min(road_m, upper) - lower) * 3.6 / speed
            lower = upper
        return seconds * self.multiplier(departure)

    def _kinks(self, multiplier: float) -> tuple[float, list[tuple[float, float]]]:
        """Seconds per metre of the first band and ``(bound, change of seconds per metre)``."""
        paces = [3.6 / speed * multiplier for _, speed in self.speed_bands]
        changes = [
            (upper, paces[i + 1] - paces[i]) for i, (upper, _) in enumerate(self.speed_bands[:-1])
        ]
        return paces[0], changes


@dataclass(frozen=True)
class TravelModel:
    """The default profile plus per-service-area overrides.

    Parameters
    ----------
    default : TravelProfile, optional
        Used for trips whose area has no override, or when no area is given.
    areas : mapping of str to TravelProfile, optional
        Overrides keyed by service-area key (the same key the caller passes as ``area``).
    """

    default: TravelProfile = field(default_factory=TravelProfile)
    areas: Mapping[str, TravelProfile] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A read-only copy: the model is shared between threads and must not change under them.
        object.__setattr__(self, "areas", MappingProxyType(dict(self.areas)))

    def profile(self, area: str | None) -> TravelProfile:
        """Profile for a service-area key; the default when ``area`` is None or has no override.

        Parameters
        ----------
        area : str or None
            Service-area key.

        Returns
        -------
        TravelProfile
        """
        if area is None:
            return self.default
        return self.areas.get(area, self.default)


class ModelProvider:
    """`geo.matrix.MatrixProvider` computing travel matrices with a `TravelModel`.

    Parameters
    ----------
    model : TravelModel, optional
        Parameters; `TravelModel()` (documented defaults) when omitted.
    name : str, optional
        Provider name in results and cache keys. Default ``"model"``.

    Notes
    -----
    Results always have ``estimated=True``: they are straight-line estimates, not routes.
    Memory: besides the two int32 outputs (8 bytes per cell) only three float32 row blocks of
    about 1 MB each are allocated, however large the matrix.
    """

    def __init__(self, model: TravelModel | None = None, *, name: str = "model") -> None:
        self.model = model if model is not None else TravelModel()
        self._name = name

    @property
    def name(self) -> str:
        """Provider name."""
        return self._name

    def matrix(
        self,
        origins: PointsLike,
        destinations: PointsLike | None = None,
        *,
        departure: datetime | None = None,
        area: str | None = None,
    ) -> TravelMatrix:
        """Estimated travel durations and distances from each origin to each destination.

        Parameters
        ----------
        origins : array_like
            ``(N, 2)`` ``(lat, lon)`` degrees.
        destinations : array_like, optional
            ``(M, 2)`` ``(lat, lon)`` degrees; the origins when omitted.
        departure : datetime.datetime, optional
            Timezone-aware departure time selecting the rush-hour multiplier.
        area : str, optional
            Service-area key selecting a profile override.

        Returns
        -------
        TravelMatrix
            int32 seconds and metres, ``estimated=True``.

        Raises
        ------
        geo.errors.InvalidCoordinates
            If a point is malformed or out of range.
        geo.errors.GeoError
            If ``departure`` is naive.
        """
        a = as_points(origins, "origins")
        b = a if destinations is None else as_points(destinations, "destinations")
        profile = self.model.profile(area)
        durations, distances = _model_matrices(a, b, profile, profile.multiplier(departure))
        return TravelMatrix(durations, distances, provider=self._name, estimated=True)


def _model_matrices(
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    profile: TravelProfile,
    multiplier: float,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """Compute the int32 duration and distance matrices block by block in float32."""
    n, m = a.shape[0], b.shape[0]
    durations = np.empty((n, m), dtype=np.int32)
    distances = np.empty((n, m), dtype=np.int32)
    if n == 0 or m == 0:
        return durations, distances
    u = unit_vectors(a, np.float32)
    v = unit_vectors(b, np.float32)
    road_per_half_angle = np.float32(2.0 * EARTH_RADIUS_M * profile.circuity)
    first_pace, kinks = profile._kinks(multiplier)
    pace0 = np.float32(first_pace)
    kinks32 = [(np.float32(bound), np.float32(change)) for bound, change in kinks]
    step = block_rows(m)
    rows = min(step, n)
    road = np.empty((rows, m), dtype=np.float32)
    seconds = np.empty((rows, m), dtype=np.float32)
    extra = np.empty((rows, m), dtype=np.float32)
    for start in range(0, n, step):
        stop = min(start + step, n)
        r = stop - start
        road_b, seconds_b, extra_b = road[:r], seconds[:r], extra[:r]
        half_angle_block(u[:, start:stop], v, road_b, extra_b)
        np.multiply(road_b, road_per_half_angle, out=road_b)
        np.multiply(road_b, pace0, out=seconds_b)
        for bound, change in kinks32:
            np.subtract(road_b, bound, out=extra_b)
            np.maximum(extra_b, 0.0, out=extra_b)
            np.multiply(extra_b, change, out=extra_b)
            np.add(seconds_b, extra_b, out=seconds_b)
        np.rint(road_b, out=road_b)
        np.rint(seconds_b, out=seconds_b)
        distances[start:stop] = road_b
        durations[start:stop] = seconds_b
    return durations, distances
