"""Time sources. Services take a clock so tests can fix the current time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current aware UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved; for tests and demo data."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 8, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current = self.current + timedelta(**delta)
        return self.current


def ensure_utc(value: datetime, *, field: str = "datetime") -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused because their zone is a guess."""
    from dispatch.errors import InvalidInput

    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            field, "datetime must include a timezone offset, e.g. 2026-11-23T09:00:00Z"
        )
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 text for JSON payloads (None stays None)."""
    return value.isoformat() if value is not None else None
