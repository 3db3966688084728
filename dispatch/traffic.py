"""Traffic by the hour: each service area's rush hours, as the plans, quotes and ETAs use them.

The travel matrix of a plan is the off-peak one (the model's, or OSRM's free-flow durations);
an area's ``travel_profile`` says how much longer trips take when they start in each local hour
(``rush_hours``, on ``rush_days``; the model's documented defaults when the area has none). A
search cannot follow time-dependent travel (OR-Tools has no time-dependent arcs), so:

* the search drives on a *representative* matrix: the off-peak one times the mean multiplier
  over the working hours of the engineers being planned;
* every route is then re-timed leg by leg with the multiplier of the hour each leg departs in,
  so the ETAs published, refreshed and quoted are the time-dependent ones.

What is approximated: the order of visits is chosen on the representative matrix (a plan may
put a long drive in the rush hour where a timed search would not); a leg's multiplier is the
one of its departure hour for the whole leg.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.errors import InvalidInput
from geo.errors import GeoError
from geo.matrix import TravelMatrix
from geo.model import DEFAULT_RUSH_HOURS, TravelProfile

PROFILE_KEYS = ("rush_hours", "rush_days")


def validate_travel_profile(profile: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored form of an area's travel profile, or InvalidInput naming the bad field."""
    if profile is None:
        return None
    profile = {k: v for k, v in profile.items() if v is not None}
    unknown = sorted(set(profile) - set(PROFILE_KEYS))
    if unknown:
        raise InvalidInput(
            ("travel_profile", unknown[0]),
            f"unknown key; the profile has {', '.join(PROFILE_KEYS)}",
        )
    out: dict[str, Any] = {}
    if "rush_hours" in profile:
        hours = profile["rush_hours"]
        if not isinstance(hours, Sequence) or isinstance(hours, str):
            raise InvalidInput(("travel_profile", "rush_hours"), "a list of [hour, multiplier]")
        pairs = []
        for i, pair in enumerate(hours):
            if (
                not isinstance(pair, Sequence)
                or isinstance(pair, str)
                or len(pair) != 2
                or isinstance(pair[0], bool)
                or not isinstance(pair[0], int)
                or isinstance(pair[1], bool)
                or not isinstance(pair[1], int | float)
            ):
                raise InvalidInput(
                    ("travel_profile", "rush_hours", i), "give [local hour 0-23, multiplier]"
                )
            pairs.append([int(pair[0]), float(pair[1])])
        out["rush_hours"] = pairs
    if "rush_days" in profile:
        days = profile["rush_days"]
        if (
            not isinstance(days, Sequence)
            or isinstance(days, str)
            or not all(isinstance(d, int) and not isinstance(d, bool) for d in days)
        ):
            raise InvalidInput(("travel_profile", "rush_days"), "a list of weekdays, Monday = 0")
        out["rush_days"] = sorted(set(days))
    try:
        _profile(out, "UTC")
    except GeoError as exc:
        raise InvalidInput(("travel_profile", exc.field), exc.message) from exc
    return out


def area_traffic(travel_profile: Mapping[str, Any] | None, timezone: str) -> TravelProfile:
    """The rush-hour profile of an area on its local clock (the defaults when it has none)."""
    return _profile(travel_profile or {}, timezone)


def _profile(data: Mapping[str, Any], timezone: str) -> TravelProfile:
    hours = data.get("rush_hours")
    rush = DEFAULT_RUSH_HOURS if hours is None else tuple((int(h), float(m)) for h, m in hours)
    days = data.get("rush_days")
    kwargs: dict[str, Any] = {"rush_hours": rush, "timezone": timezone}
    if days is not None:
        kwargs["rush_days"] = frozenset(int(d) for d in days)
    return TravelProfile(**kwargs)


def representative(
    profiles: Sequence[TravelProfile], spans: Sequence[tuple[datetime, int]]
) -> float:
    """The mean multiplier over the given working spans (start, hours), one profile each."""
    values = [
        m
        for profile, (start, hours) in zip(profiles, spans, strict=True)
        for m in profile.hourly(start, hours)
    ]
    return sum(values) / len(values) if values else 1.0


def representative_durations(matrix: TravelMatrix, factor: float) -> npt.NDArray[np.int64]:
    """The search's representative travel times: ``matrix``'s off-peak durations times the
    day's mean rush ``factor`` (:func:`representative`; rounded, halves to even), pairs with
    no route left as they are."""
    scaled = np.rint(matrix.durations.astype(np.float64) * factor).astype(np.int64)
    return np.where(matrix.reachable, scaled, matrix.durations).astype(np.int64)


__all__ = ["area_traffic", "representative", "representative_durations", "validate_travel_profile"]
