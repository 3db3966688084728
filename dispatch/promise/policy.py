"""SLA policies as data: rules keyed by priority tier and locality, versioned, JSON round-trip."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from dispatch.errors import InvalidInput

Loc = tuple[str | int, ...]

#: Upper bound of any target, so that business-time arithmetic stays inside its search horizon.
MAX_TARGET_MIN = 60 * 24 * 60

E = TypeVar("E", bound=StrEnum)


class Tier(StrEnum):
    """Priority tier of a repair request, most pressing first."""

    URGENT = "urgent"
    IMPORTANT = "important"
    GENERAL = "general"

    @property
    def rank(self) -> int:
        """0 for urgent, 1 for important, 2 for general: lower is more pressing."""
        return _TIER_ORDER.index(self)

    def raised(self, steps: int) -> Tier:
        """The tier ``steps`` levels more pressing, never above urgent nor below general."""
        return _TIER_ORDER[min(max(self.rank - steps, 0), len(_TIER_ORDER) - 1)]


_TIER_ORDER: tuple[Tier, ...] = (Tier.URGENT, Tier.IMPORTANT, Tier.GENERAL)


class Locality(StrEnum):
    """Whether the site lies in a service area with engineers based in it."""

    SAME_CITY = "same_city"
    OUT_OF_TOWN = "out_of_town"


class Clock(StrEnum):
    """What time an SLA target counts: all elapsed time, or the area's business hours."""

    H24 = "24x7"
    BUSINESS_HOURS = "business_hours"


def parse_tier(value: Tier | str, loc: str | Loc = "tier") -> Tier:
    """A tier from its value; anything else is ``InvalidInput`` naming ``loc``."""
    return _parse_enum(Tier, value, loc)


def parse_locality(value: Locality | str, loc: str | Loc = "locality") -> Locality:
    """A locality from its value; anything else is ``InvalidInput`` naming ``loc``."""
    return _parse_enum(Locality, value, loc)


def _parse_enum(kind: type[E], value: object, loc: str | Loc) -> E:
    if isinstance(value, kind):
        return value
    if isinstance(value, str):
        try:
            return kind(value.strip().lower())
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in kind)
    raise InvalidInput(loc, f"unknown {kind.__name__.lower()} {value!r}; expected one of {allowed}")


def _positive_int(value: object, loc: str | Loc, *, upper: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(loc, "must be a positive whole number")
    if upper is not None and value > upper:
        raise InvalidInput(loc, f"must be at most {upper}")
    return value


@dataclass(frozen=True)
class SlaRule:
    """Targets for one tier and locality (optionally one travel-time band), on one clock.

    ``max_travel_s`` bounds the band by travel time from the serving base (inclusive); ``None``
    means no upper bound. All three targets count on ``clock``.
    """

    tier: Tier
    locality: Locality
    first_response_min: int
    arrival_min: int
    resolution_min: int
    clock: Clock
    max_travel_s: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tier", _parse_enum(Tier, self.tier, "tier"))
        object.__setattr__(self, "locality", _parse_enum(Locality, self.locality, "locality"))
        object.__setattr__(self, "clock", _parse_enum(Clock, self.clock, "clock"))
        for name in ("first_response_min", "arrival_min", "resolution_min"):
            _positive_int(getattr(self, name), name, upper=MAX_TARGET_MIN)
        if self.max_travel_s is not None:
            _positive_int(self.max_travel_s, "max_travel_s")

    @property
    def key(self) -> str:
        """A stable name of the rule, e.g. ``general/out_of_town/<=10800s``."""
        band = "any" if self.max_travel_s is None else f"<={self.max_travel_s}s"
        return f"{self.tier.value}/{self.locality.value}/{band}"

    def covers(self, travel_s: int) -> bool:
        """Whether a site ``travel_s`` seconds from its serving base falls in this rule's band."""
        return self.max_travel_s is None or travel_s <= self.max_travel_s


def _band_bound(rule: SlaRule) -> float:
    return float("inf") if rule.max_travel_s is None else float(rule.max_travel_s)


@dataclass(frozen=True)
class SlaPolicy:
    """A named, versioned table of SLA rules plus the settings of the customer window.

    Every tier x locality must be covered up to ``max_service_travel_s`` (``None``: no limit, so
    an unbounded rule is needed); a site beyond ``max_service_travel_s`` is refused.
    """

    name: str
    version: int
    rules: tuple[SlaRule, ...]
    max_service_travel_s: int | None = None
    window_minutes: int = 120
    min_lead_minutes: int = 30
    window_mode: str = "fixed"
    """``fixed``: the window is ``window_minutes`` wide around the predicted arrival;
    ``calibrated``: the narrowest window (in steps of ``window_slot_minutes``, at most
    ``window_max_minutes``) that holds the arrival with probability ``window_target``."""
    window_target: float = 0.95
    window_slot_minutes: int = 30
    window_max_minutes: int = 240
    urgent_overtime_minutes: int = 120
    """How far past the end of their shift an engineer sent to an urgent visit may work: an
    urgent call that arrives while an engineer can still get there on shift is taken, not left
    for the next morning because the work would run over."""
    trip_max_days: int = 3
    """The longest out-of-town trip, in working days from the first to the journey home (two
    nights away by default); 1 sends no one on trips."""
    trip_overnight_minutes: int = 240
    """What a night away costs the plan, in minutes of driving it must save to be worth it."""
    _index: dict[tuple[Tier, Locality], tuple[SlaRule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput("name", "a policy needs a name")
        _positive_int(self.version, "version")
        _positive_int(self.window_minutes, "window_minutes", upper=24 * 60)
        if (
            isinstance(self.min_lead_minutes, bool)
            or not isinstance(self.min_lead_minutes, int)
            or self.min_lead_minutes < 0
        ):
            raise InvalidInput("min_lead_minutes", "must be a non-negative whole number")
        if self.max_service_travel_s is not None:
            _positive_int(self.max_service_travel_s, "max_service_travel_s")
        if self.window_mode not in WINDOW_MODES:
            raise InvalidInput("window_mode", f"one of {', '.join(WINDOW_MODES)}")
        if (
            isinstance(self.window_target, bool)
            or not isinstance(self.window_target, int | float)
            or not 0.5 <= self.window_target < 1.0
        ):
            raise InvalidInput("window_target", "a probability from 0.5 up to (not) 1")
        _positive_int(self.window_slot_minutes, "window_slot_minutes", upper=240)
        _positive_int(self.window_max_minutes, "window_max_minutes", upper=24 * 60)
        if self.window_max_minutes < self.window_slot_minutes:
            raise InvalidInput("window_max_minutes", "at least one slot wide")
        if (
            isinstance(self.urgent_overtime_minutes, bool)
            or not isinstance(self.urgent_overtime_minutes, int)
            or not 0 <= self.urgent_overtime_minutes <= 12 * 60
        ):
            raise InvalidInput("urgent_overtime_minutes", "a whole number of minutes, 0 to 720")
        _positive_int(self.trip_max_days, "trip_max_days", upper=7)
        if (
            isinstance(self.trip_overnight_minutes, bool)
            or not isinstance(self.trip_overnight_minutes, int)
            or not 0 <= self.trip_overnight_minutes <= 24 * 60
        ):
            raise InvalidInput("trip_overnight_minutes", "a whole number of minutes, 0 to 1440")
        rules = tuple(self.rules)
        object.__setattr__(self, "rules", rules)
        seen: set[str] = set()
        for i, rule in enumerate(rules):
            if not isinstance(rule, SlaRule):
                raise InvalidInput(("rules", i), "not an SLA rule")
            if rule.key in seen:
                raise InvalidInput(("rules", i), f"two rules for {rule.key}")
            seen.add(rule.key)
            if rule.arrival_min <= self.min_lead_minutes:
                raise InvalidInput(
                    ("rules", i, "arrival_min"),
                    f"{rule.key}: an arrival target of {rule.arrival_min} min cannot be met "
                    f"with a minimum lead time of {self.min_lead_minutes} min",
                )
        for tier in Tier:
            for locality in Locality:
                # Narrowest band first: that is the rule a site in several bands gets.
                matching = sorted(
                    (r for r in rules if r.tier is tier and r.locality is locality),
                    key=_band_bound,
                )
                needed = (
                    float("inf")
                    if self.max_service_travel_s is None
                    else float(self.max_service_travel_s)
                )
                if not matching or _band_bound(matching[-1]) < needed:
                    reach = "any distance" if needed == float("inf") else f"{int(needed)} s"
                    raise InvalidInput(
                        "rules",
                        f"policy {self.name!r} has no rule for {tier.value}, "
                        f"{locality.value.replace('_', ' ')} up to {reach} of travel",
                    )
                self._index[(tier, locality)] = tuple(matching)

    def lead(self, tier: Tier | str) -> timedelta:
        """How soon after the call the customer's window may open: ``min_lead_minutes``,
        except for an urgent call, which is answered by sending an engineer now (a line
        stopped or a safety risk: the nearest engineer goes, however soon they can be there)."""
        if _parse_enum(Tier, tier, "tier") is Tier.URGENT:
            return timedelta(0)
        return timedelta(minutes=self.min_lead_minutes)

    def rule_for(self, tier: Tier | str, locality: Locality | str, travel_s: int) -> SlaRule:
        """The rule of the narrowest band holding ``travel_s``; sites out of range are refused."""
        tier = _parse_enum(Tier, tier, "tier")
        locality = _parse_enum(Locality, locality, "locality")
        if isinstance(travel_s, bool) or not isinstance(travel_s, int) or travel_s < 0:
            raise InvalidInput("travel_s", "travel time must be a non-negative whole number")
        if self.max_service_travel_s is not None and travel_s > self.max_service_travel_s:
            raise InvalidInput(
                "site",
                f"the site is {format_duration(travel_s)} from the nearest base, beyond the "
                f"{format_duration(self.max_service_travel_s)} service range "
                f"of policy {self.name!r}",
            )
        for rule in self._index[(tier, locality)]:
            if rule.covers(travel_s):
                return rule
        # Unreachable for a validated policy: the widest band reaches the service range.
        raise InvalidInput("site", f"no rule of policy {self.name!r} covers {travel_s} s travel")


def format_duration(seconds: int) -> str:
    """A travel time for people: ``3 h 20 min``, ``45 min``."""
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def rule_to_dict(rule: SlaRule) -> dict[str, Any]:
    """JSON-friendly form of a rule."""
    return {
        "tier": rule.tier.value,
        "locality": rule.locality.value,
        "max_travel_s": rule.max_travel_s,
        "first_response_min": rule.first_response_min,
        "arrival_min": rule.arrival_min,
        "resolution_min": rule.resolution_min,
        "clock": rule.clock.value,
    }


def policy_to_dict(policy: SlaPolicy) -> dict[str, Any]:
    """JSON-friendly form of a policy; :func:`policy_from_dict` reads it back equal."""
    return {
        "name": policy.name,
        "version": policy.version,
        "max_service_travel_s": policy.max_service_travel_s,
        "window_minutes": policy.window_minutes,
        "min_lead_minutes": policy.min_lead_minutes,
        "window_mode": policy.window_mode,
        "window_target": policy.window_target,
        "window_slot_minutes": policy.window_slot_minutes,
        "window_max_minutes": policy.window_max_minutes,
        "urgent_overtime_minutes": policy.urgent_overtime_minutes,
        "trip_max_days": policy.trip_max_days,
        "trip_overnight_minutes": policy.trip_overnight_minutes,
        "rules": [rule_to_dict(rule) for rule in policy.rules],
    }


WINDOW_MODES = ("fixed", "calibrated")
_SETTING_KEYS = (
    "window_mode",
    "window_target",
    "window_slot_minutes",
    "window_max_minutes",
    "urgent_overtime_minutes",
    "trip_max_days",
    "trip_overnight_minutes",
)
_POLICY_KEYS = frozenset(
    {
        "name",
        "version",
        "rules",
        "max_service_travel_s",
        "window_minutes",
        "min_lead_minutes",
        *_SETTING_KEYS,
    }
)
_RULE_KEYS = ("tier", "locality", "first_response_min", "arrival_min", "resolution_min", "clock")


def _rule_from_dict(data: object, loc: Loc) -> SlaRule:
    if not isinstance(data, Mapping):
        raise InvalidInput(loc, "a rule is an object")
    for key in _RULE_KEYS:
        if key not in data:
            raise InvalidInput((*loc, key), "required")
    unknown = sorted(set(data) - {*_RULE_KEYS, "max_travel_s"})
    if unknown:
        raise InvalidInput((*loc, unknown[0]), "unknown field")
    try:
        return SlaRule(
            tier=data["tier"],
            locality=data["locality"],
            first_response_min=data["first_response_min"],
            arrival_min=data["arrival_min"],
            resolution_min=data["resolution_min"],
            clock=data["clock"],
            max_travel_s=data.get("max_travel_s"),
        )
    except InvalidInput as exc:
        raise InvalidInput((*loc, *exc.loc), exc.message) from exc


def policy_from_dict(data: Mapping[str, Any]) -> SlaPolicy:
    """A validated policy from its JSON form; errors name the offending field."""
    if not isinstance(data, Mapping):
        raise InvalidInput((), "a policy is an object")
    for key in ("name", "version", "rules"):
        if key not in data:
            raise InvalidInput(key, "required")
    unknown = sorted(set(data) - _POLICY_KEYS)
    if unknown:
        raise InvalidInput(unknown[0], "unknown field")
    raw_rules = data["rules"]
    if isinstance(raw_rules, str | bytes) or not isinstance(raw_rules, list | tuple):
        raise InvalidInput("rules", "a list of rules")
    rules = tuple(_rule_from_dict(raw, ("rules", i)) for i, raw in enumerate(raw_rules))
    return SlaPolicy(
        name=data["name"],
        version=data["version"],
        rules=rules,
        max_service_travel_s=data.get("max_service_travel_s"),
        window_minutes=data.get("window_minutes", 120),
        min_lead_minutes=data.get("min_lead_minutes", 30),
        **{key: data[key] for key in _SETTING_KEYS if data.get(key) is not None},
    )


def _rule(
    tier: Tier, locality: Locality, first: int, arrival: int, resolution: int, clock: Clock
) -> SlaRule:
    return SlaRule(tier, locality, first, arrival, resolution, clock)


_H = 60

#: The seeded default policy, from common after-sales practice (see the issue's table).
DEFAULT_POLICY = SlaPolicy(
    name="default",
    version=1,
    rules=(
        _rule(Tier.URGENT, Locality.SAME_CITY, 15, 2 * _H, 2 * _H, Clock.H24),
        _rule(Tier.URGENT, Locality.OUT_OF_TOWN, 15, 12 * _H, 2 * _H, Clock.H24),
        _rule(Tier.IMPORTANT, Locality.SAME_CITY, 30, 4 * _H, 4 * _H, Clock.BUSINESS_HOURS),
        _rule(Tier.IMPORTANT, Locality.OUT_OF_TOWN, 30, 24 * _H, 4 * _H, Clock.BUSINESS_HOURS),
        _rule(Tier.GENERAL, Locality.SAME_CITY, 2 * _H, 8 * _H, 24 * _H, Clock.BUSINESS_HOURS),
        _rule(Tier.GENERAL, Locality.OUT_OF_TOWN, 2 * _H, 48 * _H, 48 * _H, Clock.BUSINESS_HOURS),
    ),
    # A working day's drive: beyond it an engineer cannot get there and back in one trip.
    max_service_travel_s=8 * 3600,
    window_minutes=120,
    min_lead_minutes=30,
)

__all__ = [
    "DEFAULT_POLICY",
    "Clock",
    "Locality",
    "SlaPolicy",
    "SlaRule",
    "Tier",
    "format_duration",
    "parse_locality",
    "parse_tier",
    "policy_from_dict",
    "policy_to_dict",
    "rule_to_dict",
]
