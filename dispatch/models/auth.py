"""API keys: only a hash is kept; the key itself is shown once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, TimestampMixin, enum_check
from dispatch.models.enums import Role


class ApiKey(TimestampMixin, Base):
    """A bearer key with a role; an engineer key is bound to one engineer."""

    __tablename__ = "api_keys"
    __table_args__ = (
        CheckConstraint(enum_check("role", Role), name="role_valid"),
        CheckConstraint("(role = 'engineer') = (engineer_id IS NOT NULL)", name="engineer_binding"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    engineer_id: Mapped[int | None] = mapped_column(
        ForeignKey("engineers.id", ondelete="CASCADE"), index=True
    )
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
