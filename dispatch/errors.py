"""Domain errors. They know nothing of HTTP; ``api/errors.py`` maps them to 404/409/422."""

from __future__ import annotations

from collections.abc import Sequence

Loc = tuple[str | int, ...]


def _as_loc(field: str | Sequence[str | int]) -> Loc:
    if isinstance(field, str):
        return tuple(part for part in field.split(".") if part)
    return tuple(field)


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    type = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """A referenced object does not exist (or is not visible to the caller)."""

    type = "not_found"

    def __init__(self, what: str, key: object, *, field: str | Sequence[str | int] = ()) -> None:
        super().__init__(f"{what} {key!s} not found")
        self.what = what
        self.key = key
        self.loc = _as_loc(field)


class Conflict(DomainError):
    """The request clashes with the current state (duplicate, stale version, bad transition)."""

    type = "conflict"

    def __init__(self, message: str, *, field: str | Sequence[str | int] = ()) -> None:
        super().__init__(message)
        self.loc = _as_loc(field)


class InvalidInput(DomainError):
    """Input that is well-formed but wrong for the domain; ``field`` names where."""

    type = "invalid_input"

    def __init__(self, field: str | Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = _as_loc(field)


class Unavailable(DomainError):
    """A service we depend on (routing engine, geocoder) did not answer usefully; not the caller's
    fault, so it may be retried later."""

    type = "unavailable"


def check_version(obj: object, expected: int | None, what: str) -> None:
    """Optimistic concurrency: refuse a change made from a stale read (``expected`` given)."""
    current = obj.version
    if expected is not None and expected != current:
        key = getattr(obj, "id", "?")
        raise Conflict(f"{what} {key} is at version {current}, not {expected}", field="version")


class PermissionDenied(DomainError):
    """The caller's role may not do this."""

    type = "permission_denied"


__all__ = [
    "Conflict",
    "DomainError",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "Unavailable",
    "check_version",
]
