"""Priority of a repair request: given by the service desk, or derived from a rule table.

The table maps problem types to tiers and says how each VIP tier of the customer raises the
result. It is data (with a JSON form) so that admins can edit it; :data:`DEFAULT_PRIORITY_RULES`
is the seeded table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dispatch.errors import InvalidInput
from dispatch.promise.policy import Tier, parse_tier

TIER_GIVEN_REASON = "given by the service desk"


def _key(text: str) -> str:
    return text.strip().lower()


@dataclass(frozen=True)
class VipRule:
    """How a customer's VIP tier raises a derived priority.

    ``at_least`` is a floor (``important`` lifts general to important); ``raise_by`` moves the
    tier that many levels up. Both apply, and the result never goes above urgent.
    """

    raise_by: int = 0
    at_least: Tier | None = None

    def __post_init__(self) -> None:
        if isinstance(self.raise_by, bool) or not isinstance(self.raise_by, int):
            raise InvalidInput("raise_by", "must be a whole number")
        if not 0 <= self.raise_by <= 2:
            raise InvalidInput("raise_by", "raises by 0, 1 or 2 tiers")
        if self.at_least is not None:
            object.__setattr__(self, "at_least", parse_tier(self.at_least, "at_least"))

    def apply(self, tier: Tier) -> Tier:
        """The tier after this VIP rule."""
        raised = tier.raised(self.raise_by)
        if self.at_least is not None and self.at_least.rank < raised.rank:
            return self.at_least
        return raised


@dataclass(frozen=True)
class PriorityRules:
    """Problem type -> tier, plus VIP tier -> raise; keys are matched case-insensitively."""

    problem_types: tuple[tuple[str, Tier], ...]
    vip_tiers: tuple[tuple[str, VipRule], ...] = ()
    default_tier: Tier = Tier.GENERAL
    _problems: dict[str, Tier] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _vips: dict[str, VipRule] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_tier", parse_tier(self.default_tier, "default_tier"))
        problem_types = tuple(
            (_key(name), parse_tier(tier, ("problem_types", name)))
            for name, tier in self.problem_types
        )
        vip_tiers = tuple((_key(name), rule) for name, rule in self.vip_tiers)
        object.__setattr__(self, "problem_types", problem_types)
        object.__setattr__(self, "vip_tiers", vip_tiers)
        for name, tier in problem_types:
            if not name:
                raise InvalidInput("problem_types", "a problem type needs a name")
            if name in self._problems:
                raise InvalidInput(("problem_types", name), "listed twice")
            self._problems[name] = tier
        for name, rule in vip_tiers:
            if not name:
                raise InvalidInput("vip_tiers", "a VIP tier needs a name")
            if not isinstance(rule, VipRule):
                raise InvalidInput(("vip_tiers", name), "not a VIP rule")
            if name in self._vips:
                raise InvalidInput(("vip_tiers", name), "listed twice")
            self._vips[name] = rule

    def tier_of_problem(self, problem_type: str | None) -> Tier | None:
        """The tier the table gives a problem type, or None when the type is not listed."""
        if problem_type is None:
            return None
        return self._problems.get(_key(problem_type))

    def vip_rule(self, vip_tier: str | None) -> VipRule | None:
        """The rule for a VIP tier, or None when the customer has none or it is not listed."""
        if vip_tier is None:
            return None
        return self._vips.get(_key(vip_tier))


def derive_priority(
    *,
    tier: Tier | str | None,
    problem_type: str | None,
    vip_tier: str | None,
    rules: PriorityRules,
) -> tuple[Tier, str]:
    """The request's tier and why: a given tier wins, otherwise the rule table decides."""
    if tier is not None:
        return parse_tier(tier, "tier"), TIER_GIVEN_REASON
    from_table = rules.tier_of_problem(problem_type)
    if from_table is not None:
        derived = from_table
        reason = f"problem type {_key(problem_type or '')} is {derived.value}"
    else:
        derived = rules.default_tier
        described = (
            "no problem type" if not problem_type else f"unknown problem type {problem_type}"
        )
        reason = f"{described}: {derived.value} by default"
    vip = rules.vip_rule(vip_tier)
    if vip is not None:
        raised = vip.apply(derived)
        if raised is not derived:
            reason += f"; raised to {raised.value} for VIP tier {_key(vip_tier or '')}"
            derived = raised
    return derived, reason


def priority_rules_to_dict(rules: PriorityRules) -> dict[str, Any]:
    """JSON-friendly form; :func:`priority_rules_from_dict` reads it back equal."""
    vips: dict[str, dict[str, Any]] = {}
    for name, rule in rules.vip_tiers:
        vips[name] = {
            "raise_by": rule.raise_by,
            "at_least": None if rule.at_least is None else rule.at_least.value,
        }
    return {
        "default_tier": rules.default_tier.value,
        "problem_types": {name: tier.value for name, tier in rules.problem_types},
        "vip_tiers": vips,
    }


def priority_rules_from_dict(data: Mapping[str, Any]) -> PriorityRules:
    """A validated rule table from its JSON form; errors name the offending field."""
    problem_types = data.get("problem_types", {})
    vip_tiers = data.get("vip_tiers", {})
    if not isinstance(problem_types, Mapping):
        raise InvalidInput("problem_types", "an object of problem type -> tier")
    if not isinstance(vip_tiers, Mapping):
        raise InvalidInput("vip_tiers", "an object of VIP tier -> rule")
    vip_rules: list[tuple[str, VipRule]] = []
    for name, raw in vip_tiers.items():
        if not isinstance(raw, Mapping):
            raise InvalidInput(("vip_tiers", name), "an object with raise_by and at_least")
        try:
            vip_rules.append((name, VipRule(raw.get("raise_by", 0), raw.get("at_least"))))
        except InvalidInput as exc:
            raise InvalidInput(("vip_tiers", name, *exc.loc), exc.message) from exc
    return PriorityRules(
        problem_types=tuple(problem_types.items()),
        vip_tiers=tuple(vip_rules),
        default_tier=data.get("default_tier", Tier.GENERAL),
    )


#: The seeded table, from the issue's tier meanings.
DEFAULT_PRIORITY_RULES = PriorityRules(
    problem_types=(
        ("safety_risk", Tier.URGENT),
        ("system_down", Tier.URGENT),
        ("production_loss", Tier.URGENT),
        ("core_function_broken", Tier.IMPORTANT),
        ("customer_chasing", Tier.IMPORTANT),
        ("question", Tier.GENERAL),
        ("advice", Tier.GENERAL),
        ("minor_fault", Tier.GENERAL),
    ),
    vip_tiers=(
        ("gold", VipRule(at_least=Tier.IMPORTANT)),
        ("platinum", VipRule(raise_by=1)),
    ),
    default_tier=Tier.GENERAL,
)

__all__ = [
    "DEFAULT_PRIORITY_RULES",
    "TIER_GIVEN_REASON",
    "PriorityRules",
    "VipRule",
    "derive_priority",
    "priority_rules_from_dict",
    "priority_rules_to_dict",
]
