"""Business calendars: opening hours, holidays, DST, and business-time arithmetic."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from dispatch.errors import InvalidInput
from dispatch.promise import (
    BusinessCalendar,
    business_calendar,
    format_weekly_hours,
    parse_weekly_hours,
)
from tests.unit.promise.calendars import (
    BERLIN_NIGHTS,
    BERLIN_OFFICE,
    NEW_YORK,
    NEW_YORK_SPLIT,
    NEW_YORK_SUNDAYS,
    WEEKDAYS_9_TO_5,
    berlin,
    utc,
)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware New York wall-clock datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


# -- adding business minutes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # The DOMAIN example: 3 business hours from Friday 16:00 is Monday 11:00.
        (berlin(2025, 10, 17, 16), 180, utc(2025, 10, 20, 9)),
        # 8 business hours from an opening end at that day's closing instant, not next morning.
        (berlin(2025, 10, 14, 9), 480, utc(2025, 10, 14, 15)),
        # Received off-hours: the clock starts at the next opening (Wed 09:00 CEST).
        (berlin(2025, 10, 14, 19, 30), 60, utc(2025, 10, 15, 8)),
        # Saturday: the clock starts Monday 09:00 CEST.
        (berlin(2025, 10, 11, 12), 90, utc(2025, 10, 13, 8, 30)),
        # German Unity Day (Fri 3 Oct 2025) is skipped mid-count: Thu 1 h, then Mon 09:00-12:00.
        (berlin(2025, 10, 2, 16), 240, utc(2025, 10, 6, 10)),
        # Across the autumn DST change: Fri 2 h in CEST, Mon 2 h in CET (09:00 CET is 08:00Z).
        (berlin(2025, 10, 24, 15), 240, utc(2025, 10, 27, 10)),
        # Across the spring DST change: Fri 1 h in CET, Mon 09:00-10:00 CEST (07:00Z-08:00Z).
        (berlin(2025, 3, 28, 16), 120, utc(2025, 3, 31, 8)),
    ],
)
def test_add_business_minutes_on_the_berlin_office(
    start: datetime, minutes: int, expected: datetime
) -> None:
    """Business minutes count only open Berlin office time, across weekends, holidays and DST."""
    assert BERLIN_OFFICE.add_business_minutes(start, minutes) == expected


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # Lunch is closed: 11:00-12:00 then 13:00-14:00 EDT.
        (ny(2025, 10, 14, 11), 120, utc(2025, 10, 14, 18)),
        # Friday closes at 16:00; the count goes on into Saturday's short hours.
        (ny(2025, 10, 17, 15), 120, utc(2025, 10, 18, 15)),
        # Independence Day 2026 falls on a Saturday: observed Friday 3 July, so the clock
        # starts Monday 6 July 08:00 EDT.
        (ny(2026, 7, 2, 17, 30), 30, utc(2026, 7, 6, 12, 30)),
    ],
)
def test_add_business_minutes_on_a_split_day(
    start: datetime, minutes: int, expected: datetime
) -> None:
    """Split days skip the lunch closure; observed US holidays close the calendar."""
    assert NEW_YORK_SPLIT.add_business_minutes(start, minutes) == expected


def test_zero_minutes_from_closed_time_is_the_next_opening() -> None:
    """Zero business minutes from closed time is the next opening; from open time, the instant."""
    assert BERLIN_OFFICE.add_business_minutes(berlin(2025, 10, 11, 12), 0) == utc(2025, 10, 13, 7)
    assert NEW_YORK_SPLIT.add_business_minutes(ny(2025, 10, 14, 12, 30), 0) == utc(2025, 10, 14, 17)
    assert BERLIN_OFFICE.add_business_minutes(berlin(2025, 10, 14, 9), 0) == utc(2025, 10, 14, 7)


def test_zero_minutes_at_a_closing_instant_stays_there() -> None:
    """At a closing instant zero minutes is that instant, so adding in steps composes exactly."""
    closing = BERLIN_OFFICE.add_business_minutes(berlin(2025, 10, 14, 9), 480)
    assert closing == utc(2025, 10, 14, 15)
    assert BERLIN_OFFICE.add_business_minutes(closing, 0) == closing
    assert BERLIN_OFFICE.add_business_minutes(closing, 1) == utc(2025, 10, 15, 7, 1)


def test_is_open_is_half_open_at_the_boundaries() -> None:
    """Open from the opening instant included to the closing instant excluded."""
    assert BERLIN_OFFICE.is_open(berlin(2025, 10, 14, 9))
    assert BERLIN_OFFICE.is_open(berlin(2025, 10, 14, 16, 59))
    assert not BERLIN_OFFICE.is_open(berlin(2025, 10, 14, 17))
    assert not BERLIN_OFFICE.is_open(berlin(2025, 10, 14, 8, 59))


def test_holidays_follow_the_subdivision() -> None:
    """Women's Day (8 March) closes Berlin but not Bavaria."""
    bavaria = business_calendar(
        "Europe/Berlin", WEEKDAYS_9_TO_5, holiday_country="DE", holiday_subdivision="BY"
    )
    assert not BERLIN_OFFICE.is_open(berlin(2024, 3, 8, 10))
    assert bavaria.is_open(berlin(2024, 3, 8, 10))
    assert BERLIN_OFFICE.next_opening(berlin(2024, 3, 8, 10)) == utc(2024, 3, 11, 8)


def test_holidays_resolve_for_years_not_prefetched() -> None:
    """A calendar built for some years still knows the holidays of later years."""
    calendar = business_calendar("Europe/Berlin", WEEKDAYS_9_TO_5, holiday_country="DE")
    assert not calendar.is_open(berlin(2031, 12, 25, 10))
    assert calendar.is_open(berlin(2031, 12, 23, 10))


def test_extra_closures_close_the_whole_local_day() -> None:
    """An extra closed date closes that day as a holiday does."""
    calendar = business_calendar(
        "Europe/Berlin", WEEKDAYS_9_TO_5, extra_closed_dates=[date(2025, 10, 15)]
    )
    assert calendar.add_business_minutes(berlin(2025, 10, 14, 16), 120) == utc(2025, 10, 16, 8)


def test_a_make_up_working_day_opens_a_weekend_or_a_holiday_with_weekday_hours() -> None:
    """China's adjusted Saturday (Sat 11 Oct 2025 here) opens 09:00-17:00 as a weekday does,
    so 3 business hours from Friday 16:00 end Saturday 11:00; a working day that is a public
    holiday opens too; a date both closed and working is refused, naming the field."""
    saturday = date(2025, 10, 11)
    calendar = business_calendar("Europe/Berlin", WEEKDAYS_9_TO_5, working_dates=[saturday])
    assert calendar.add_business_minutes(berlin(2025, 10, 10, 16), 180) == utc(2025, 10, 11, 9)
    assert calendar.is_open(berlin(2025, 10, 11, 9)) and not calendar.is_open(
        berlin(2025, 10, 11, 17)
    )
    assert not calendar.is_open(berlin(2025, 10, 12, 10))  # the Sunday after stays closed
    unity_day = date(2025, 10, 3)
    open_anyway = business_calendar(
        "Europe/Berlin", WEEKDAYS_9_TO_5, holiday_country="DE", working_dates=[unity_day]
    )
    assert open_anyway.is_open(berlin(2025, 10, 3, 10))
    with pytest.raises(InvalidInput) as caught:
        business_calendar(
            "Europe/Berlin",
            WEEKDAYS_9_TO_5,
            extra_closed_dates=[saturday],
            working_dates=[saturday],
        )
    assert caught.value.loc == ("working_dates",)


def test_24_00_closes_at_midnight_and_a_day_open_around_the_clock_loses_no_minute() -> None:
    """Written 00:00-24:00 a day is open 24 h (1,440 business minutes Monday to Tuesday)."""
    calendar = business_calendar("Asia/Shanghai", {"mon": [["00:00", "24:00"]]})
    monday = datetime(2026, 11, 23, tzinfo=calendar.zone)
    assert calendar.business_minutes_between(monday, monday + timedelta(days=1)) == 1440
    assert format_weekly_hours(calendar.weekly_hours) == {"mon": [["00:00", "24:00"]]}


# -- DST: real instants, not wall-clock hours ------------------------------------------------


def test_a_day_open_around_the_clock_lasts_23_or_25_hours_on_dst_days() -> None:
    """Sundays 00:00-24:00 in New York hold 23 business hours in March and 25 in November."""
    assert NEW_YORK_SUNDAYS.business_time_between(ny(2025, 3, 9), ny(2025, 3, 10)) == timedelta(
        hours=23
    )
    assert NEW_YORK_SUNDAYS.business_time_between(ny(2025, 11, 2), ny(2025, 11, 3)) == timedelta(
        hours=25
    )
    # 23 business hours from the March Sunday's midnight end at Monday 00:00 EDT (04:00Z).
    assert NEW_YORK_SUNDAYS.add_business_minutes(ny(2025, 3, 9), 23 * 60) == utc(2025, 3, 10, 4)


def test_night_hours_across_the_spring_gap_are_real_time() -> None:
    """Sat 22:00 CET to Sun 03:30 CEST is one merged stretch of 4.5 h (the gap hour never was)."""
    intervals = list(BERLIN_NIGHTS.open_intervals(utc(2025, 3, 29, 12), utc(2025, 3, 31, 12)))
    # Monday 31 March is an extra closure, so Sunday night's 22:00-24:00 CEST is the last.
    assert intervals == [
        (utc(2025, 3, 29, 21), utc(2025, 3, 30, 1, 30)),
        (utc(2025, 3, 30, 20), utc(2025, 3, 30, 22)),
    ]
    assert BERLIN_NIGHTS.business_minutes_between(utc(2025, 3, 29, 12), utc(2025, 3, 31, 12)) == (
        6.5 * 60
    )


def test_night_hours_across_the_autumn_overlap_are_real_time() -> None:
    """Sun 00:00 CEST to 03:30 CET holds 4.5 h; 4 h from midnight end at the second 02:00."""
    assert BERLIN_NIGHTS.business_time_between(
        berlin(2025, 10, 26, 0), utc(2025, 10, 26, 12)
    ) == timedelta(hours=4, minutes=30)
    assert BERLIN_NIGHTS.add_business_minutes(berlin(2025, 10, 26, 0), 240) == utc(2025, 10, 26, 2)


def test_opening_hours_inside_the_spring_gap_are_counted_once() -> None:
    """Hours written inside the skipped hour overlap real hours after it and count once."""
    calendar = business_calendar("Europe/Berlin", {"sun": [["02:30", "02:45"], ["03:00", "04:00"]]})
    # 02:30 and 02:45 never happen on 30 March 2025: read on the old offset they are
    # 01:30Z-01:45Z, inside 03:00-04:00 CEST (01:00Z-02:00Z).
    assert calendar.open_intervals_on(date(2025, 3, 30)) == (
        (utc(2025, 3, 30, 1), utc(2025, 3, 30, 2)),
    )
    assert calendar.open_intervals_on(date(2025, 4, 6)) == (
        (utc(2025, 4, 6, 0, 30), utc(2025, 4, 6, 0, 45)),
        (utc(2025, 4, 6, 1), utc(2025, 4, 6, 2)),
    )


# -- other operations ----------------------------------------------------------------------


def test_next_opening_and_business_minutes_between() -> None:
    """next_opening skips closed time; the minutes between Friday 16:00 and Monday 11:00 are 180."""
    assert BERLIN_OFFICE.next_opening(berlin(2025, 10, 14, 10)) == utc(2025, 10, 14, 8)
    assert BERLIN_OFFICE.next_opening(berlin(2025, 10, 14, 17)) == utc(2025, 10, 15, 7)
    assert (
        BERLIN_OFFICE.business_minutes_between(berlin(2025, 10, 17, 16), berlin(2025, 10, 20, 11))
        == 180
    )
    assert BERLIN_OFFICE.business_minutes_between(berlin(2025, 10, 20), berlin(2025, 10, 17)) == 0


def test_open_intervals_are_clipped_and_in_utc() -> None:
    """Open intervals inside a range are clipped to it and skip the weekend."""
    assert list(
        BERLIN_OFFICE.open_intervals(berlin(2025, 10, 17, 12), berlin(2025, 10, 20, 10))
    ) == [
        (utc(2025, 10, 17, 10), utc(2025, 10, 17, 15)),
        (utc(2025, 10, 20, 7), utc(2025, 10, 20, 8)),
    ]


def test_last_open_interval_finds_the_latest_stretch() -> None:
    """The latest open stretch before Monday 08:00 is Friday's, whole."""
    assert BERLIN_OFFICE.last_open_interval(berlin(2025, 10, 16), berlin(2025, 10, 20, 8)) == (
        utc(2025, 10, 17, 7),
        utc(2025, 10, 17, 15),
    )
    assert BERLIN_OFFICE.last_open_interval(berlin(2025, 10, 18), berlin(2025, 10, 19)) is None


def test_calendars_with_equal_data_are_equal_and_hashable() -> None:
    """Calendars are values: equal data, equal calendars, whatever the caches hold."""
    again = business_calendar(
        "Europe/Berlin", WEEKDAYS_9_TO_5, holiday_country="DE", holiday_subdivision="BE"
    )
    assert again == BERLIN_OFFICE
    assert hash(again) == hash(BERLIN_OFFICE)


def test_weekly_hours_round_trip_through_json_form() -> None:
    """parse_weekly_hours and format_weekly_hours are inverse, 24:00 included."""
    data = {"mon": [["08:00", "12:00"], ["13:00", "24:00"]], "sat": [["10:00", "14:00"]]}
    hours = parse_weekly_hours(data)
    assert hours[0] == ((time(8), time(12)), (time(13), time(0)))
    assert hours[1] == ()
    assert format_weekly_hours(hours) == data


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "loc"),
    [
        ({"timezone": "Europe/Atlantis"}, ("timezone",)),
        ({"holiday_country": "XX"}, ("holiday_country",)),
        ({"holiday_country": "DE", "holiday_subdivision": "ZZ"}, ("holiday_subdivision",)),
        ({"holiday_subdivision": "BE"}, ("holiday_subdivision",)),
        ({"weekly_hours": {}}, ("business_hours",)),
        ({"weekly_hours": {"mon": [["17:00", "09:00"]]}}, ("business_hours", "mon", 0)),
        (
            {"weekly_hours": {"tue": [["09:00", "13:00"], ["12:00", "17:00"]]}},
            ("business_hours", "tue", 1),
        ),
        ({"weekly_hours": {"wed": [["9h", "17:00"]]}}, ("business_hours", "wed", 0)),
        ({"weekly_hours": {"someday": [["09:00", "17:00"]]}}, ("business_hours", "someday")),
    ],
)
def test_invalid_calendars_name_the_field(kwargs: dict[str, object], loc: tuple[str, ...]) -> None:
    """Unknown timezone, country, subdivision or bad hours raise InvalidInput naming the field."""
    arguments: dict[str, object] = {"timezone": "Europe/Berlin", "weekly_hours": WEEKDAYS_9_TO_5}
    arguments.update(kwargs)
    with pytest.raises(InvalidInput) as raised:
        business_calendar(**arguments)  # type: ignore[arg-type]
    assert raised.value.loc == loc


def test_a_calendar_closed_beyond_the_horizon_fails_clearly() -> None:
    """A calendar with no opening within the search horizon raises instead of looping."""
    mondays = {date(2025, 1, 6) + timedelta(weeks=k) for k in range(120)}
    calendar = business_calendar(
        "Europe/Berlin", {"mon": [["09:00", "17:00"]]}, extra_closed_dates=mondays
    )
    with pytest.raises(InvalidInput) as raised:
        calendar.next_opening(utc(2025, 1, 1))
    assert raised.value.loc == ("business_hours",)
    with pytest.raises(InvalidInput) as raised:
        calendar.add_business_minutes(utc(2025, 1, 1), 60)
    assert raised.value.loc == ("business_hours",)


def test_too_many_minutes_for_the_horizon_fail_clearly() -> None:
    """Adding more business time than the horizon holds raises InvalidInput on minutes."""
    with pytest.raises(InvalidInput) as raised:
        BERLIN_OFFICE.add_business_minutes(utc(2025, 1, 1), 3000 * 60)
    assert raised.value.loc == ("minutes",)


def test_naive_datetimes_and_negative_minutes_are_refused() -> None:
    """Naive instants and negative minutes raise InvalidInput naming the argument."""
    with pytest.raises(InvalidInput) as raised:
        BERLIN_OFFICE.add_business_minutes(datetime(2025, 10, 14, 10), 10)
    assert raised.value.loc == ("t",)
    with pytest.raises(InvalidInput) as raised:
        BERLIN_OFFICE.add_business_minutes(utc(2025, 10, 14, 10), -1)
    assert raised.value.loc == ("minutes",)


def test_direct_construction_validates_too() -> None:
    """Building BusinessCalendar directly applies the same checks as the factory."""
    with pytest.raises(InvalidInput) as raised:
        BusinessCalendar(timezone="UTC", weekly_hours=((),) * 7)
    assert raised.value.loc == ("business_hours",)
