"""Who is calling, and what their role lets them do."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.errors import NotFound, PermissionDenied
from dispatch.models.enums import Role


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the key's role and, for engineers, their engineer id."""

    key_id: int | None
    name: str
    role: Role
    engineer_id: int | None = None

    @property
    def actor(self) -> str:
        """How the caller appears in timelines."""
        return f"{self.role.value}:{self.name}"

    @property
    def own_engineer_id(self) -> int:
        """The engineer an engineer key is bound to (every engineer key is, by constraint)."""
        if self.role is not Role.ENGINEER or self.engineer_id is None:
            raise PermissionDenied("this is the engineer's app: use an engineer key")
        return self.engineer_id

    def require(self, *roles: Role) -> None:
        """Refuse unless the caller has one of ``roles`` (admin may do everything)."""
        if self.role is Role.ADMIN or self.role in roles:
            return
        allowed = ", ".join(sorted(r.value for r in (Role.ADMIN, *roles)))
        raise PermissionDenied(f"role {self.role.value} may not do this (allowed: {allowed})")

    def require_engineer_or(self, engineer_id: int, *roles: Role) -> None:
        """Allow ``roles``, or the engineer whose own data this is.

        Another engineer's data is answered as not found, so keys cannot probe which ids exist.
        """
        if self.role is Role.ENGINEER:
            if self.engineer_id != engineer_id:
                raise NotFound("engineer", engineer_id)
            return
        self.require(*roles)


STAFF = (Role.DISPATCHER, Role.SERVICE_DESK)
