"""SLA policies: versioned tables of rules, stored as data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, TimestampMixin


class SlaPolicy(TimestampMixin, Base):
    """One version of a named policy. A new version is a new row; requests keep theirs."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    # A contract's policy applies only to the customers that carry its name (a platinum
    # contract, say); it is never the active policy everyone else is promised under.
    contract: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The policy as dispatch.promise.policy_to_dict writes it: rules by tier and locality with
    # targets and clock, service range, window width and lead time.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    # How a tier is derived when the desk gives none (problem type, VIP tier); see
    # dispatch.promise.priority_rules_to_dict.
    priority_rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(500))
