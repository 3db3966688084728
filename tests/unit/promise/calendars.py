"""Calendars shared by the promise tests, built once as the service builds one per area."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dispatch.promise import BusinessCalendar, business_calendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware Berlin wall-clock datetime (first occurrence when ambiguous)."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


#: Berlin, Mon-Fri 09:00-17:00, public holidays of Germany / Berlin.
BERLIN_OFFICE = business_calendar(
    "Europe/Berlin",
    WEEKDAYS_9_TO_5,
    holiday_country="DE",
    holiday_subdivision="BE",
    years=range(2024, 2028),
)

#: New York, split weekdays with a lunch closure and a short Saturday, US / New York holidays.
NEW_YORK_SPLIT = business_calendar(
    "America/New_York",
    {
        **{day: [["08:00", "12:00"], ["13:00", "17:30"]] for day in ("mon", "tue", "wed", "thu")},
        "fri": [["08:00", "12:00"], ["13:00", "16:00"]],
        "sat": [["10:00", "14:00"]],
    },
    holiday_country="US",
    holiday_subdivision="NY",
    years=range(2024, 2028),
)

#: Berlin night service whose hours straddle the 02:00-03:00 DST change every night, plus
#: hours that touch midnight (22:00-24:00 then 00:00-...), so open time runs across dates.
BERLIN_NIGHTS = business_calendar(
    "Europe/Berlin",
    {day: [["00:00", "03:30"], ["22:00", "24:00"]] for day in ("mon", "wed", "fri", "sat", "sun")},
    holiday_country="DE",
    holiday_subdivision="BE",
    extra_closed_dates=[datetime(2025, 3, 31).date()],
    years=range(2024, 2028),
)

#: New York, open around the clock on Sundays only: the DST days are 23 h and 25 h long.
NEW_YORK_SUNDAYS = business_calendar("America/New_York", {"sun": [["00:00", "24:00"]]})

ALL_CALENDARS: tuple[BusinessCalendar, ...] = (
    BERLIN_OFFICE,
    NEW_YORK_SPLIT,
    BERLIN_NIGHTS,
    NEW_YORK_SUNDAYS,
)
