"""Property-based tests of business-time arithmetic on DST zones, holidays and split days.

Convention under test: ``add_business_minutes(t, n)`` is the earliest instant ``u >= t`` that is
not strictly inside closed time and by which ``n`` business minutes have elapsed since ``t``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.promise import BusinessCalendar
from tests.unit.promise.calendars import ALL_CALENDARS, utc

FIRST = utc(2024, 1, 1)
SPAN_MINUTES = 3 * 366 * 24 * 60
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None)

calendars = st.sampled_from(ALL_CALENDARS)
minutes = st.integers(min_value=0, max_value=4000)


@st.composite
def instants(draw: st.DrawFn, calendar: BusinessCalendar) -> datetime:
    """Any minute of 2024-2026, or an opening / closing instant, or a minute next to one."""
    instant = FIRST + timedelta(minutes=draw(st.integers(0, SPAN_MINUTES)))
    if draw(st.booleans()):
        return instant
    day = instant.astimezone(calendar.zone).date()
    boundaries = [edge for interval in calendar.open_intervals_on(day) for edge in interval]
    if not boundaries:
        return instant
    nudge = timedelta(minutes=draw(st.sampled_from([-1, 0, 0, 1])))
    return draw(st.sampled_from(boundaries)) + nudge


def is_closing_instant(calendar: BusinessCalendar, t: datetime) -> bool:
    """Whether ``t`` is the end of one of the calendar's open intervals."""
    day = t.astimezone(calendar.zone).date()
    return any(
        end == t
        for offset in (-1, 0, 1)
        for _, end in calendar.open_intervals_on(day + timedelta(days=offset))
    )


@PROPERTY_SETTINGS
@given(data=st.data(), calendar=calendars, n=minutes)
def test_result_is_open_or_a_closing_instant(
    data: st.DataObject, calendar: BusinessCalendar, n: int
) -> None:
    """The result never lies in closed time, except exactly at a closing instant."""
    t = data.draw(instants(calendar))
    result = calendar.add_business_minutes(t, n)
    assert result >= t
    assert calendar.is_open(result) or is_closing_instant(calendar, result)
    if n > 0:
        # With time to count, the result is reached from inside an open interval.
        assert calendar.is_open(result - timedelta(microseconds=1))


@PROPERTY_SETTINGS
@given(data=st.data(), calendar=calendars, n=minutes)
def test_exactly_n_business_minutes_elapse(
    data: st.DataObject, calendar: BusinessCalendar, n: int
) -> None:
    """The open time between the start and the result is exactly N minutes."""
    t = data.draw(instants(calendar))
    result = calendar.add_business_minutes(t, n)
    assert calendar.business_time_between(t, result) == timedelta(minutes=n)


@PROPERTY_SETTINGS
@given(data=st.data(), calendar=calendars, a=minutes, b=minutes)
def test_monotonic_in_minutes(
    data: st.DataObject, calendar: BusinessCalendar, a: int, b: int
) -> None:
    """More business minutes never give an earlier result."""
    t = data.draw(instants(calendar))
    low, high = sorted((a, b))
    assert calendar.add_business_minutes(t, low) <= calendar.add_business_minutes(t, high)


@PROPERTY_SETTINGS
@given(data=st.data(), calendar=calendars, n=minutes)
def test_monotonic_in_start(data: st.DataObject, calendar: BusinessCalendar, n: int) -> None:
    """A later start never gives an earlier result."""
    first, second = sorted((data.draw(instants(calendar)), data.draw(instants(calendar))))
    assert calendar.add_business_minutes(first, n) <= calendar.add_business_minutes(second, n)


@PROPERTY_SETTINGS
@given(data=st.data(), calendar=calendars, a=minutes, b=minutes)
def test_adding_a_then_b_equals_adding_a_plus_b(
    data: st.DataObject, calendar: BusinessCalendar, a: int, b: int
) -> None:
    """Adding a then b business minutes equals adding a + b, zero included."""
    t = data.draw(instants(calendar))
    step = calendar.add_business_minutes(calendar.add_business_minutes(t, a), b)
    assert step == calendar.add_business_minutes(t, a + b)


@PROPERTY_SETTINGS
@given(data=st.data(), calendar=calendars)
def test_next_opening_is_the_first_open_instant(
    data: st.DataObject, calendar: BusinessCalendar
) -> None:
    """next_opening is open, not before t, with no open time in between."""
    t = data.draw(instants(calendar))
    opening = calendar.next_opening(t)
    assert opening >= t
    assert calendar.is_open(opening)
    assert calendar.business_time_between(t, opening) == timedelta(0)
    assert (opening == t) == calendar.is_open(t)


@PROPERTY_SETTINGS
@given(data=st.data(), calendar=calendars, days=st.integers(0, 20))
def test_open_intervals_are_ordered_disjoint_and_open(
    data: st.DataObject, calendar: BusinessCalendar, days: int
) -> None:
    """Listed open intervals are sorted, separated by closed time, and open at their start."""
    start = data.draw(instants(calendar))
    end = start + timedelta(days=days, minutes=data.draw(st.integers(0, 24 * 60)))
    intervals = list(calendar.open_intervals(start, end))
    for (_, e1), (s2, _) in pairwise(intervals):
        assert e1 < s2
        assert not calendar.is_open(e1)
    for s, e in intervals:
        assert start <= s < e <= end
        assert calendar.is_open(s)
        assert calendar.is_open(e - timedelta(microseconds=1))
    total = sum((e - s for s, e in intervals), timedelta(0))
    assert total == calendar.business_time_between(start, end)


def _reference_add(calendar: BusinessCalendar, t: datetime, n: int) -> datetime:
    """Minute-by-minute reference, valid for minute-aligned starts and minute-aligned hours."""
    remaining = n
    probe = t
    if remaining == 0:
        if calendar.is_open(probe) or is_closing_instant(calendar, probe):
            return probe
        while not calendar.is_open(probe):
            probe += timedelta(minutes=1)
        return probe
    while remaining:
        if calendar.is_open(probe):
            remaining -= 1
        probe += timedelta(minutes=1)
    return probe


@settings(max_examples=40, deadline=None)
@given(
    calendar=calendars,
    offset=st.integers(0, SPAN_MINUTES),
    n=st.integers(min_value=0, max_value=600),
)
def test_agrees_with_minute_by_minute_counting(
    calendar: BusinessCalendar, offset: int, n: int
) -> None:
    """The interval arithmetic agrees with naive counting of open minutes."""
    t = FIRST + timedelta(minutes=offset)
    assert calendar.add_business_minutes(t, n) == _reference_add(calendar, t, n)
