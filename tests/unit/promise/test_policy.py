"""SLA policies: the seeded default, rule lookup, validation and the JSON round trip."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from dispatch.errors import InvalidInput
from dispatch.promise import (
    DEFAULT_POLICY,
    Clock,
    Locality,
    SlaPolicy,
    SlaRule,
    Tier,
    policy_from_dict,
    policy_to_dict,
)

SC, OT = Locality.SAME_CITY, Locality.OUT_OF_TOWN
BH, H24 = Clock.BUSINESS_HOURS, Clock.H24


@pytest.mark.parametrize(
    ("tier", "locality", "targets", "clock"),
    [
        (Tier.URGENT, SC, (15, 120, 120), H24),
        (Tier.URGENT, OT, (15, 720, 120), H24),
        (Tier.IMPORTANT, SC, (30, 240, 240), BH),
        (Tier.IMPORTANT, OT, (30, 1440, 240), BH),
        (Tier.GENERAL, SC, (120, 480, 1440), BH),
        (Tier.GENERAL, OT, (120, 2880, 2880), BH),
    ],
)
def test_default_policy_matches_the_issue_table(
    tier: Tier, locality: Locality, targets: tuple[int, int, int], clock: Clock
) -> None:
    """The seeded policy's first response, arrival and resolution targets follow the issue."""
    rule = DEFAULT_POLICY.rule_for(tier, locality, 0)
    assert (rule.first_response_min, rule.arrival_min, rule.resolution_min) == targets
    assert rule.clock is clock


def test_default_policy_settings() -> None:
    """The default window is 2 h wide with a 30 min lead and an 8 h service range; urgent
    work may run 2 h past a shift."""
    assert (DEFAULT_POLICY.name, DEFAULT_POLICY.version) == ("default", 1)
    assert DEFAULT_POLICY.window_minutes == 120
    assert DEFAULT_POLICY.min_lead_minutes == 30
    assert DEFAULT_POLICY.max_service_travel_s == 8 * 3600
    assert DEFAULT_POLICY.urgent_overtime_minutes == 120


def banded_policy() -> SlaPolicy:
    """The default policy with urgent out-of-town split at 1 h, 3 h and beyond."""
    others = tuple(r for r in DEFAULT_POLICY.rules if r.key != "urgent/out_of_town/any")
    bands = (
        SlaRule(Tier.URGENT, OT, 15, 1440, 120, H24),
        SlaRule(Tier.URGENT, OT, 15, 480, 120, H24, max_travel_s=3600),
        SlaRule(Tier.URGENT, OT, 15, 720, 120, H24, max_travel_s=10800),
    )
    return replace(DEFAULT_POLICY, rules=(*others, *bands))


@pytest.mark.parametrize(
    ("travel_s", "arrival_min"),
    [(0, 480), (3600, 480), (3601, 720), (10800, 720), (10801, 1440), (8 * 3600, 1440)],
)
def test_rule_for_picks_the_narrowest_band(travel_s: int, arrival_min: int) -> None:
    """Bands are inclusive upper bounds; the narrowest band containing the travel time wins."""
    assert banded_policy().rule_for(Tier.URGENT, OT, travel_s).arrival_min == arrival_min


def test_rule_for_accepts_string_values() -> None:
    """Tier and locality may be given by value, as the API receives them."""
    assert DEFAULT_POLICY.rule_for("important", "same_city", 0).key == "important/same_city/any"


def test_a_policy_missing_a_tier_and_locality_is_invalid() -> None:
    """Dropping the general out-of-town rule makes the policy invalid, naming what is missing."""
    rules = tuple(r for r in DEFAULT_POLICY.rules if r.key != "general/out_of_town/any")
    with pytest.raises(InvalidInput) as raised:
        replace(DEFAULT_POLICY, rules=rules)
    assert raised.value.loc == ("rules",)
    assert "general, out of town" in raised.value.message


def test_bands_must_reach_the_service_range() -> None:
    """Bands that stop short of the maximum service travel leave far sites without a rule."""
    others = tuple(r for r in DEFAULT_POLICY.rules if r.key != "urgent/out_of_town/any")
    near = SlaRule(Tier.URGENT, OT, 15, 480, 120, H24, max_travel_s=3600)
    with pytest.raises(InvalidInput) as raised:
        replace(DEFAULT_POLICY, rules=(*others, near))
    assert "up to 28800 s of travel" in raised.value.message
    # Without a service range an unbounded rule is required.
    with pytest.raises(InvalidInput):
        replace(DEFAULT_POLICY, rules=(*others, near), max_service_travel_s=None)
    assert replace(DEFAULT_POLICY, rules=(*others, near), max_service_travel_s=3600)


def test_duplicate_rules_are_invalid() -> None:
    """Two rules for the same tier, locality and band are ambiguous."""
    with pytest.raises(InvalidInput) as raised:
        replace(DEFAULT_POLICY, rules=(*DEFAULT_POLICY.rules, DEFAULT_POLICY.rules[0]))
    assert raised.value.loc == ("rules", 6)


def test_an_arrival_target_within_the_lead_time_is_invalid() -> None:
    """A rule whose arrival target is not beyond the minimum lead can never be promised."""
    with pytest.raises(InvalidInput) as raised:
        replace(DEFAULT_POLICY, min_lead_minutes=120)
    assert raised.value.loc == ("rules", 0, "arrival_min")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_response_min", 0),
        ("arrival_min", -10),
        ("resolution_min", 10**9),
        ("resolution_min", True),
        ("max_travel_s", 0),
    ],
)
def test_rule_targets_must_be_positive_and_bounded(field: str, value: object) -> None:
    """Targets are positive whole minutes within the computable range."""
    with pytest.raises(InvalidInput) as raised:
        replace(DEFAULT_POLICY.rules[0], **{field: value})  # type: ignore[arg-type]
    assert raised.value.loc == (field,)


def test_policy_round_trips_through_json() -> None:
    """policy_to_dict then JSON then policy_from_dict gives back an equal policy."""
    policy = banded_policy()
    data = json.loads(json.dumps(policy_to_dict(policy)))
    assert policy_from_dict(data) == policy
    assert data["rules"][0] == {
        "tier": "urgent",
        "locality": "same_city",
        "max_travel_s": None,
        "first_response_min": 15,
        "arrival_min": 120,
        "resolution_min": 120,
        "clock": "24x7",
    }


def _with_rule_change(index: int, **change: Any) -> dict[str, Any]:
    data = policy_to_dict(DEFAULT_POLICY)
    data["rules"][index].update(change)
    return data


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        (_with_rule_change(2, tier="critical"), ("rules", 2, "tier")),
        (_with_rule_change(3, clock="weekdays"), ("rules", 3, "clock")),
        (_with_rule_change(4, locality="abroad"), ("rules", 4, "locality")),
        (_with_rule_change(5, arrival_min="48h"), ("rules", 5, "arrival_min")),
        (_with_rule_change(1, colour="red"), ("rules", 1, "colour")),
        ({**policy_to_dict(DEFAULT_POLICY), "version": 0}, ("version",)),
        ({**policy_to_dict(DEFAULT_POLICY), "rules": "all"}, ("rules",)),
        ({k: v for k, v in policy_to_dict(DEFAULT_POLICY).items() if k != "name"}, ("name",)),
        ({**policy_to_dict(DEFAULT_POLICY), "window_minutes": 0}, ("window_minutes",)),
        (
            {**policy_to_dict(DEFAULT_POLICY), "urgent_overtime_minutes": -5},
            ("urgent_overtime_minutes",),
        ),
        (
            {**policy_to_dict(DEFAULT_POLICY), "urgent_overtime_minutes": 12.5},
            ("urgent_overtime_minutes",),
        ),
        (
            {**policy_to_dict(DEFAULT_POLICY), "urgent_overtime_minutes": 24 * 60},
            ("urgent_overtime_minutes",),
        ),
    ],
)
def test_policy_from_dict_names_the_bad_field(
    data: dict[str, Any], loc: tuple[object, ...]
) -> None:
    """Malformed stored or submitted policies raise InvalidInput at the offending field."""
    with pytest.raises(InvalidInput) as raised:
        policy_from_dict(data)
    assert raised.value.loc == loc


def test_rule_for_refuses_sites_beyond_range_and_bad_travel() -> None:
    """Beyond the service range the site is refused; negative travel is invalid input."""
    with pytest.raises(InvalidInput) as raised:
        DEFAULT_POLICY.rule_for(Tier.GENERAL, OT, 8 * 3600 + 1)
    assert raised.value.loc == ("site",)
    with pytest.raises(InvalidInput) as raised:
        DEFAULT_POLICY.rule_for(Tier.GENERAL, OT, -1)
    assert raised.value.loc == ("travel_s",)
