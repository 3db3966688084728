"""Priority: given tiers win; otherwise the problem-type table and the VIP tier decide."""

from __future__ import annotations

import json

import pytest

from dispatch.errors import InvalidInput
from dispatch.promise import (
    DEFAULT_PRIORITY_RULES,
    PriorityRules,
    Tier,
    VipRule,
    derive_priority,
    priority_rules_from_dict,
    priority_rules_to_dict,
)


@pytest.mark.parametrize(
    ("problem_type", "vip_tier", "tier", "reason"),
    [
        ("safety_risk", None, Tier.URGENT, "problem type safety_risk is urgent"),
        ("System_Down", None, Tier.URGENT, "problem type system_down is urgent"),
        ("production_loss", None, Tier.URGENT, "problem type production_loss is urgent"),
        (
            "core_function_broken",
            None,
            Tier.IMPORTANT,
            "problem type core_function_broken is important",
        ),
        ("customer_chasing", None, Tier.IMPORTANT, "problem type customer_chasing is important"),
        ("question", None, Tier.GENERAL, "problem type question is general"),
        ("advice", None, Tier.GENERAL, "problem type advice is general"),
        ("minor_fault", None, Tier.GENERAL, "problem type minor_fault is general"),
        (
            "squeaky_door",
            None,
            Tier.GENERAL,
            "unknown problem type squeaky_door: general by default",
        ),
        (None, None, Tier.GENERAL, "no problem type: general by default"),
        (
            "minor_fault",
            "gold",
            Tier.IMPORTANT,
            "problem type minor_fault is general; raised to important for VIP tier gold",
        ),
        (
            "core_function_broken",
            "gold",
            Tier.IMPORTANT,
            "problem type core_function_broken is important",
        ),
        (
            "question",
            "platinum",
            Tier.IMPORTANT,
            "problem type question is general; raised to important for VIP tier platinum",
        ),
        (
            "customer_chasing",
            "PLATINUM",
            Tier.URGENT,
            "problem type customer_chasing is important; raised to urgent for VIP tier platinum",
        ),
        ("safety_risk", "platinum", Tier.URGENT, "problem type safety_risk is urgent"),
        ("question", "bronze", Tier.GENERAL, "problem type question is general"),
    ],
)
def test_derived_priority_and_reason(
    problem_type: str | None, vip_tier: str | None, tier: Tier, reason: str
) -> None:
    """The default table maps problem types to tiers and VIP tiers raise them, never past urgent."""
    assert derive_priority(
        tier=None, problem_type=problem_type, vip_tier=vip_tier, rules=DEFAULT_PRIORITY_RULES
    ) == (tier, reason)


def test_a_given_tier_wins() -> None:
    """The service desk's tier beats the table and the VIP raise."""
    assert derive_priority(
        tier="general",
        problem_type="safety_risk",
        vip_tier="platinum",
        rules=DEFAULT_PRIORITY_RULES,
    ) == (Tier.GENERAL, "given by the service desk")


def test_an_unknown_given_tier_is_invalid() -> None:
    """A tier that is not urgent, important or general raises InvalidInput on tier."""
    with pytest.raises(InvalidInput) as raised:
        derive_priority(tier="p1", problem_type=None, vip_tier=None, rules=DEFAULT_PRIORITY_RULES)
    assert raised.value.loc == ("tier",)
    assert "expected one of urgent, important, general" in raised.value.message


def test_vip_rules_combine_floor_and_raise() -> None:
    """A floor and a raise both apply; the more pressing result wins."""
    rule = VipRule(raise_by=1, at_least=Tier.IMPORTANT)
    assert rule.apply(Tier.GENERAL) is Tier.IMPORTANT
    assert rule.apply(Tier.IMPORTANT) is Tier.URGENT
    assert VipRule(raise_by=2).apply(Tier.GENERAL) is Tier.URGENT


def test_priority_rules_round_trip_through_json() -> None:
    """The table's JSON form reads back into an equal table."""
    data = json.loads(json.dumps(priority_rules_to_dict(DEFAULT_PRIORITY_RULES)))
    assert priority_rules_from_dict(data) == DEFAULT_PRIORITY_RULES
    assert data["vip_tiers"]["gold"] == {"raise_by": 0, "at_least": "important"}


def test_an_edited_table_changes_the_derivation() -> None:
    """Admins can map a new problem type and change the default tier."""
    rules = PriorityRules(problem_types=(("gas_smell", Tier.URGENT),), default_tier=Tier.IMPORTANT)
    assert derive_priority(tier=None, problem_type="gas_smell", vip_tier=None, rules=rules)[0] is (
        Tier.URGENT
    )
    assert derive_priority(tier=None, problem_type="question", vip_tier=None, rules=rules) == (
        Tier.IMPORTANT,
        "unknown problem type question: important by default",
    )


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"problem_types": {"leak": "asap"}}, ("problem_types", "leak")),
        ({"problem_types": {"leak": "urgent", "LEAK": "general"}}, ("problem_types", "leak")),
        ({"vip_tiers": {"gold": {"raise_by": 5}}}, ("vip_tiers", "gold", "raise_by")),
        ({"vip_tiers": {"gold": {"at_least": "top"}}}, ("vip_tiers", "gold", "at_least")),
        ({"default_tier": "meh"}, ("default_tier",)),
    ],
)
def test_bad_priority_tables_name_the_field(
    data: dict[str, object], loc: tuple[object, ...]
) -> None:
    """Invalid edits of the table raise InvalidInput at the offending entry."""
    with pytest.raises(InvalidInput) as raised:
        priority_rules_from_dict(data)
    assert raised.value.loc == loc
