"""Business calendars of service areas, built once per area version and reused."""

from __future__ import annotations

import json
import threading
from datetime import date

from dispatch.models import ServiceArea
from dispatch.promise import BusinessCalendar, business_calendar

_cache: dict[tuple[object, ...], BusinessCalendar] = {}
_lock = threading.Lock()


def calendar_for(area: ServiceArea) -> BusinessCalendar:
    """The area's calendar: timezone, weekly hours, public holidays, extra closures and
    make-up working days."""
    # Keyed by what the calendar is made of, not only the row's id and version: an id can be
    # used again after a deletion (SQLite), and a calendar must never be another area's.
    key = (
        area.id,
        area.version,
        area.timezone,
        json.dumps(area.business_hours, sort_keys=True),
        area.holiday_country,
        area.holiday_subdivision,
        tuple(area.closed_dates),
        tuple(area.working_dates or ()),
    )
    cached = _cache.get(key)
    if cached is not None:
        return cached
    calendar = business_calendar(
        area.timezone,
        area.business_hours,
        holiday_country=area.holiday_country,
        holiday_subdivision=area.holiday_subdivision,
        extra_closed_dates=[date.fromisoformat(d) for d in area.closed_dates],
        working_dates=[date.fromisoformat(d) for d in area.working_dates or []],
    )
    with _lock:
        _cache[key] = calendar
    return calendar
