"""SLA policies as versioned data: a new version is a new row; requests keep the one they got."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.errors import InvalidInput, NotFound
from dispatch.models import SlaPolicy
from dispatch.promise import (
    PriorityRules,
    policy_from_dict,
    policy_to_dict,
    priority_rules_from_dict,
    priority_rules_to_dict,
)
from dispatch.promise import (
    SlaPolicy as PolicyData,
)


@dataclass(frozen=True)
class ActivePolicy:
    """The stored row's id with the engine's view of the policy and priority rules."""

    id: int
    policy: PolicyData
    priority: PriorityRules


_cache: dict[int, tuple[Any, Any, ActivePolicy]] = {}
_lock = threading.Lock()


def _load(row: SlaPolicy) -> ActivePolicy:
    # Rows never change once written (a change is a new version), but one process may talk to
    # several databases (tests, the simulator), so a hit must also match the stored content.
    cached = _cache.get(row.id)
    if cached is not None and cached[0] == row.rules and cached[1] == row.priority_rules:
        return cached[2]
    loaded = ActivePolicy(
        id=row.id,
        policy=policy_from_dict(row.rules),
        priority=priority_rules_from_dict(row.priority_rules),
    )
    with _lock:
        _cache[row.id] = (row.rules, row.priority_rules, loaded)
    return loaded


def active_policy(session: Session) -> ActivePolicy:
    """The policy new promises are made under (for customers without a contract)."""
    row = session.scalar(
        select(SlaPolicy).where(SlaPolicy.active.is_(True)).order_by(SlaPolicy.id.desc()).limit(1)
    )
    if row is None:
        raise NotFound("active SLA policy", "-", field="sla_policy")
    return _load(row)


def _latest_contract(session: Session, name: str) -> SlaPolicy | None:
    return session.scalar(
        select(SlaPolicy)
        .where(SlaPolicy.name == name, SlaPolicy.contract.is_(True))
        .order_by(SlaPolicy.version.desc())
        .limit(1)
    )


def check_contract(session: Session, name: str, *, field: str = "sla_contract") -> None:
    """Refuse a contract name no contract policy carries (a 422 naming ``field``)."""
    if _latest_contract(session, name) is None:
        known = sorted(
            set(session.scalars(select(SlaPolicy.name).where(SlaPolicy.contract.is_(True))))
        )
        raise InvalidInput(
            field,
            f"no SLA contract is named {name!r}; publish it first "
            f"(known: {', '.join(known) if known else 'none'})",
        )


def policy_for(session: Session, contract: str | None) -> ActivePolicy:
    """The policy a customer's requests are promised under: the latest version of their
    contract, or the active policy when they have none."""
    if contract is None:
        return active_policy(session)
    row = _latest_contract(session, contract)
    if row is None:  # the name is checked when a customer takes it; contracts are never deleted
        raise NotFound("SLA contract", contract, field="sla_contract")
    return _load(row)


def policy_by_id(session: Session, policy_id: int) -> ActivePolicy:
    """A stored policy version, active or not."""
    row = session.get(SlaPolicy, policy_id)
    if row is None:
        raise NotFound("SLA policy", policy_id)
    return _load(row)


def get_policy_row(session: Session, policy_id: int) -> SlaPolicy:
    """The stored row, or NotFound."""
    row = session.get(SlaPolicy, policy_id)
    if row is None:
        raise NotFound("SLA policy", policy_id)
    return row


def list_policies(session: Session) -> Sequence[SlaPolicy]:
    """Every stored policy version, newest first."""
    return session.scalars(select(SlaPolicy).order_by(SlaPolicy.id.desc())).all()


def publish_policy(
    session: Session,
    *,
    name: str,
    rules: Sequence[Mapping[str, Any]],
    max_service_travel_s: int | None,
    window_minutes: int,
    min_lead_minutes: int,
    priority_rules: Mapping[str, Any] | None,
    note: str | None,
    actor: str,
    window: Mapping[str, Any] | None = None,
    urgent_overtime_minutes: int | None = None,
    contract: bool = False,
    trips: Mapping[str, Any] | None = None,
) -> SlaPolicy:
    """Validate and store a new version of ``name`` and make it the active policy; a
    contract's version applies only to the customers that carry its name, and the active
    policy stays as it is."""
    other_kind = session.scalar(
        select(SlaPolicy.id).where(SlaPolicy.name == name, SlaPolicy.contract.is_(not contract))
    )
    if other_kind is not None:
        raise InvalidInput(
            "name",
            f"{name!r} names {'the organisation' if contract else 'a contract'}'s policy; "
            "choose another name",
        )
    version = (
        session.scalar(select(func.max(SlaPolicy.version)).where(SlaPolicy.name == name)) or 0
    ) + 1
    raw = {
        "name": name,
        "version": version,
        "max_service_travel_s": max_service_travel_s,
        "window_minutes": window_minutes,
        "min_lead_minutes": min_lead_minutes,
        "rules": [dict(r) for r in rules],
        **{f"window_{k}": v for k, v in (window or {}).items() if v is not None},
    }
    if urgent_overtime_minutes is not None:
        raw["urgent_overtime_minutes"] = urgent_overtime_minutes
    for key, value in (trips or {}).items():
        if value is not None:
            raw[f"trip_{key}"] = value
    policy = policy_from_dict(raw)  # raises InvalidInput naming the rule and field
    if priority_rules is None:
        current = session.scalar(
            select(SlaPolicy).where(SlaPolicy.active.is_(True)).order_by(SlaPolicy.id.desc())
        )
        priority = priority_rules_from_dict(current.priority_rules) if current is not None else None
        if priority is None:
            raise InvalidInput("priority_rules", "give the priority rules for the first policy")
    else:
        priority = priority_rules_from_dict(dict(priority_rules))
    if not contract:
        session.execute(update(SlaPolicy).where(SlaPolicy.active.is_(True)).values(active=False))
    row = SlaPolicy(
        name=name,
        version=version,
        active=not contract,
        contract=contract,
        rules=policy_to_dict(policy),
        priority_rules=priority_rules_to_dict(priority),
        note=note,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return row
