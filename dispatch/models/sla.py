"""SLA policies: versioned tables of rules, stored as data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint
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
    # Rules keyed by tier and locality with targets and clock; see dispatch.promise.policy.
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))
