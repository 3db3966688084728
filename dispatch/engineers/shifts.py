"""Shifts from a weekly template with dated exceptions (pure; no database)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DayHours:
    """Working hours on one day in local time, with an optional break window."""

    start: time
    end: time
    break_start: time | None = None
    break_end: time | None = None
    break_minutes: int | None = None


@dataclass(frozen=True)
class ShiftSpec:
    """One dated shift as UTC instants."""

    date: date
    start_at: datetime
    end_at: datetime
    break_start_at: datetime | None
    break_end_at: datetime | None
    break_minutes: int | None
    source: str


def parse_hhmm(value: Any, field: str) -> time:
    """``"08:30"`` -> ``time(8, 30)``, with an error naming ``field`` otherwise."""
    if isinstance(value, time):
        return value
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise InvalidInput(field, f"expected a time as HH:MM, got {value!r}") from None


def validate_day(raw: Mapping[str, Any], field: str) -> DayHours:
    """Check one day's hours: start before end, break inside the shift and long enough."""
    unknown = set(raw) - {"start", "end", "break_start", "break_end", "break_minutes"}
    if unknown:
        raise InvalidInput(f"{field}.{sorted(unknown)[0]}", "unknown field")
    for key in ("start", "end"):
        if key not in raw:
            raise InvalidInput(f"{field}.{key}", "required")
    start, end = parse_hhmm(raw["start"], f"{field}.start"), parse_hhmm(raw["end"], f"{field}.end")
    if end <= start:
        raise InvalidInput(f"{field}.end", "the shift must end after it starts (same day)")
    parts = [raw.get(k) for k in ("break_start", "break_end", "break_minutes")]
    if all(p is None for p in parts):
        return DayHours(start, end)
    if any(p is None for p in parts):
        raise InvalidInput(
            f"{field}.break_minutes", "give break_start, break_end and break_minutes together"
        )
    b_start = parse_hhmm(raw["break_start"], f"{field}.break_start")
    b_end = parse_hhmm(raw["break_end"], f"{field}.break_end")
    minutes = raw["break_minutes"]
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise InvalidInput(f"{field}.break_minutes", "a positive whole number of minutes")
    if not (start <= b_start < b_end <= end):
        raise InvalidInput(f"{field}.break_start", "the break window must lie inside the shift")
    window = (datetime.combine(date.min, b_end) - datetime.combine(date.min, b_start)).seconds // 60
    if minutes > window:
        raise InvalidInput(
            f"{field}.break_minutes", f"{minutes} min do not fit the {window} min window"
        )
    return DayHours(start, end, b_start, b_end, minutes)


def validate_template(
    template: Mapping[str, Any], field: str = "weekly_template"
) -> dict[str, Any]:
    """Validate a weekly template and return it normalised (HH:MM strings)."""
    out: dict[str, Any] = {}
    for day, raw in template.items():
        if day not in WEEKDAYS:
            raise InvalidInput(f"{field}.{day}", f"unknown weekday; use {', '.join(WEEKDAYS)}")
        if raw is None:
            continue
        if not isinstance(raw, Mapping):
            raise InvalidInput(f"{field}.{day}", "expected an object with start and end")
        hours = validate_day(raw, f"{field}.{day}")
        out[day] = _day_to_json(hours)
    return out


def _day_to_json(hours: DayHours) -> dict[str, Any]:
    result: dict[str, Any] = {
        "start": hours.start.strftime("%H:%M"),
        "end": hours.end.strftime("%H:%M"),
    }
    if hours.break_minutes is not None:
        assert hours.break_start is not None and hours.break_end is not None
        result |= {
            "break_start": hours.break_start.strftime("%H:%M"),
            "break_end": hours.break_end.strftime("%H:%M"),
            "break_minutes": hours.break_minutes,
        }
    return result


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: in an ambiguous hour (DST ends) the first occurrence; a non-existent local time
    # (DST starts) maps forward, which is what a wall clock shows.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def shift_on(
    day: date,
    *,
    template: Mapping[str, Any],
    exception: DayHours | bool | None,
    timezone: str,
) -> ShiftSpec | None:
    """The shift on ``day``: an exception (``False`` = leave) wins over the template."""
    tz = ZoneInfo(timezone)
    if exception is False:
        return None
    source = "template"
    if isinstance(exception, DayHours):
        hours, source = exception, "exception"
    else:
        raw = template.get(WEEKDAYS[day.weekday()])
        if not raw:
            return None
        hours = validate_day(raw, f"weekly_template.{WEEKDAYS[day.weekday()]}")
    return ShiftSpec(
        date=day,
        start_at=_instant(day, hours.start, tz),
        end_at=_instant(day, hours.end, tz),
        break_start_at=_instant(day, hours.break_start, tz) if hours.break_start else None,
        break_end_at=_instant(day, hours.break_end, tz) if hours.break_end else None,
        break_minutes=hours.break_minutes,
        source=source,
    )


def days(start: date, end: date) -> list[date]:
    """Dates from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
