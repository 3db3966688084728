"""API keys: create, authenticate, revoke. Only a SHA-256 hash of each key is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.auth.principal import Principal
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import ApiKey, Engineer
from dispatch.models.base import utcnow
from dispatch.models.enums import Role

KEY_PREFIX = "osk_"


def hash_key(key: str) -> str:
    # Keys are 256-bit random tokens, so a plain fast hash is enough: there is nothing to guess.
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: ``key`` is shown once and never stored."""

    id: int
    name: str
    role: Role
    engineer_id: int | None
    key: str


def create_api_key(
    session: Session,
    *,
    role: Role | str,
    name: str,
    engineer_id: int | None = None,
    key: str | None = None,
) -> IssuedKey:
    """Issue a key for ``role``; an engineer key must be bound to an existing engineer."""
    try:
        role = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InvalidInput("role", f"unknown role {role!r}; use one of {allowed}") from None
    if role is Role.ENGINEER:
        if engineer_id is None:
            raise InvalidInput("engineer_id", "an engineer key must name its engineer")
        if session.get(Engineer, engineer_id) is None:
            raise NotFound("engineer", engineer_id, field="engineer_id")
    elif engineer_id is not None:
        raise InvalidInput(
            "engineer_id", f"only engineer keys are bound to an engineer, not {role}"
        )
    if not name.strip():
        raise InvalidInput("name", "name the key (who or what uses it)")
    key = key or KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name.strip(),
        prefix=key[:12],
        key_hash=hash_key(key),
        role=role.value,
        engineer_id=engineer_id,
    )
    session.add(row)
    session.flush()
    return IssuedKey(id=row.id, name=row.name, role=role, engineer_id=engineer_id, key=key)


def authenticate(session: Session, key: str, *, now: datetime | None = None) -> Principal | None:
    """The principal for ``key``, or None when it is unknown, revoked, or the key of an engineer
    who is no longer active (a deactivated engineer's phone must stop working at once)."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    if row.engineer_id is not None:
        engineer = session.get(Engineer, row.engineer_id)
        if engineer is None or not engineer.active:
            return None
    return Principal(key_id=row.id, name=row.name, role=Role(row.role), engineer_id=row.engineer_id)


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key (hashes stay inside), newest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id.desc())))


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key; it stops working at once. Revoking twice is harmless."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound("api key", key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return row
