"""Business calendars of service areas and business-time arithmetic on real instants.

A calendar is a timezone, weekly opening hours in local wall time, closed dates (public holidays
from the ``holidays`` package plus extra closures) and make-up working days (open on a weekend or
a holiday with the hours of a regular working day: the first weekday, Monday on, that has
hours). Every operation takes and returns aware
datetimes; results are in UTC. Opening hours are half-open intervals ``[open, close)`` of real
instants, computed per local date through ``zoneinfo``, so a DST change shifts the wall clock and
never the elapsed business time.

Convention for :meth:`BusinessCalendar.add_business_minutes`: the result is the *earliest instant
``u >= t`` that is not strictly inside closed time and by which ``minutes`` business minutes have
elapsed since ``t``*. Consequences:

* with ``minutes > 0`` the result lies inside an open interval or exactly at its closing instant
  (8 business hours from 09:00 on a 09:00-17:00 day is 17:00 that day, not 09:00 next morning);
* with ``minutes == 0`` the result is ``t`` when ``t`` is open or a closing instant, otherwise the
  next opening (a request received off-hours starts its clock there);
* ``add(add(t, a), b) == add(t, a + b)`` exactly, for all ``a, b >= 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from dispatch.errors import InvalidInput

#: How far ahead (in calendar days) a search for open time may run before it gives up.
SEARCH_HORIZON_DAYS = 400

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Opening hours of one local day: sorted, non-overlapping ``(open, close)`` wall-clock times.
#: A close of ``00:00`` means midnight at the end of the day (24:00).
DayHours = tuple[tuple[time, time], ...]
#: Opening hours per weekday, Monday first (seven entries).
WeeklyHours = tuple[DayHours, ...]

Interval = tuple[datetime, datetime]

_MIDNIGHT = time(0, 0)
_ONE_DAY = timedelta(days=1)


def _require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(name, f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _close_key(close: time) -> tuple[int, time]:
    # 00:00 as a closing time means 24:00, so it sorts after every other time of the day.
    return (1, close) if close == _MIDNIGHT else (0, close)


def _validate_weekly_hours(weekly_hours: Sequence[Sequence[tuple[time, time]]]) -> WeeklyHours:
    if len(weekly_hours) != 7:
        raise InvalidInput("business_hours", "weekly hours need seven days, Monday first")
    days: list[DayHours] = []
    for day_index, day in enumerate(weekly_hours):
        previous_close: tuple[int, time] | None = None
        intervals: list[tuple[time, time]] = []
        for i, pair in enumerate(day):
            loc = ("business_hours", WEEKDAYS[day_index], i)
            if len(pair) != 2:
                raise InvalidInput(loc, "an opening interval is an (open, close) pair")
            opens, closes = pair
            if not isinstance(opens, time) or not isinstance(closes, time):
                raise InvalidInput(loc, "opening hours are local wall-clock times")
            if opens.tzinfo is not None or closes.tzinfo is not None:
                raise InvalidInput(loc, "opening hours are local wall-clock times without a zone")
            if _close_key(closes) <= (0, opens):
                raise InvalidInput(
                    loc, f"closes at {closes:%H:%M}, not after opening {opens:%H:%M}"
                )
            if previous_close is not None and (0, opens) < previous_close:
                raise InvalidInput(loc, "opening intervals of a day must be sorted and not overlap")
            previous_close = _close_key(closes)
            intervals.append((opens, closes))
        days.append(tuple(intervals))
    if not any(days):
        raise InvalidInput("business_hours", "a business calendar needs at least one opening")
    return tuple(days)


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours of a service area: timezone, weekly hours, holidays and extra closures.

    Public holidays come from the ``holidays`` package for ``holiday_country`` /
    ``holiday_subdivision`` and are resolved per year on first use (and cached), so a calendar
    built once keeps working across year boundaries. ``closed_dates`` holds extra closures.
    Instances are immutable and safe to share; build one per service area and reuse it.
    """

    timezone: str
    weekly_hours: WeeklyHours
    closed_dates: frozenset[date] = frozenset()
    working_dates: frozenset[date] = frozenset()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    _cache: dict[Any, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise InvalidInput("timezone", f"unknown timezone {self.timezone!r}") from exc
        object.__setattr__(self, "weekly_hours", _validate_weekly_hours(self.weekly_hours))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))
        object.__setattr__(self, "working_dates", frozenset(self.working_dates))
        both = sorted(self.closed_dates & self.working_dates)
        if both:
            raise InvalidInput(
                "working_dates", f"{both[0]} is both a closed date and a working day"
            )
        if self.holiday_subdivision is not None and self.holiday_country is None:
            raise InvalidInput("holiday_subdivision", "a subdivision needs a holiday country")
        self._cache["zone"] = zone
        self._cache["holidays"] = {}
        self._cache["days"] = {}
        if self.holiday_country is not None:
            _check_holiday_codes(self.holiday_country, self.holiday_subdivision)

    # -- closed dates -----------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's timezone."""
        zone: ZoneInfo = self._cache["zone"]
        return zone

    def _holidays_of(self, year: int) -> frozenset[date]:
        by_year: dict[int, frozenset[date]] = self._cache["holidays"]
        found = by_year.get(year)
        if found is None:
            found = _public_holidays(self.holiday_country, self.holiday_subdivision, year)
            by_year[year] = found
        return found

    def warm(self, years: Iterable[int]) -> None:
        """Resolve the public holidays of ``years`` now, so that quotes never pay for it."""
        for year in years:
            self._holidays_of(year)

    def is_closed_date(self, day: date) -> bool:
        """Whether the local date is closed all day (public holiday or extra closure; never a
        make-up working day)."""
        if day in self.working_dates:
            return False
        if day in self.closed_dates:
            return True
        return self.holiday_country is not None and day in self._holidays_of(day.year)

    # -- open intervals per local date ------------------------------------------------------

    def _hours_of(self, day: date) -> DayHours:
        """A date's opening hours: its weekday's, or on a make-up working day whose weekday has
        none (a Saturday), those of the first weekday that has hours."""
        hours = self.weekly_hours[day.weekday()]
        if hours or day not in self.working_dates:
            return hours
        return next(h for h in self.weekly_hours if h)

    def _to_utc(self, day: date, wall: time) -> datetime:
        # fold=0: an ambiguous wall time (DST fall-back) is its first occurrence; a wall time in
        # a spring-forward gap is read on the old offset, i.e. as that much time after the jump.
        local = datetime.combine(day, wall).replace(tzinfo=self.zone, fold=0)
        return local.astimezone(UTC)

    def open_intervals_on(self, day: date) -> tuple[Interval, ...]:
        """Open intervals of one local date as UTC instants (empty when the date is closed)."""
        days: dict[date, tuple[Interval, ...]] = self._cache["days"]
        cached = days.get(day)
        if cached is not None:
            return cached
        raw: list[Interval] = []
        if not self.is_closed_date(day):
            for opens, closes in self._hours_of(day):
                start = self._to_utc(day, opens)
                end = (
                    self._to_utc(day + _ONE_DAY, _MIDNIGHT)
                    if closes == _MIDNIGHT
                    else self._to_utc(day, closes)
                )
                if start < end:
                    raw.append((start, end))
        # Wall times inside a DST gap can collapse, reorder or overlap as real instants: sort
        # and merge so that every instant of open time is counted once.
        intervals: list[Interval] = []
        for start, end in sorted(raw):
            if intervals and start <= intervals[-1][1]:
                intervals[-1] = (intervals[-1][0], max(end, intervals[-1][1]))
            else:
                intervals.append((start, end))
        result = tuple(intervals)
        days[day] = result
        return result

    def _local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def _forward(self, t: datetime) -> Iterator[Interval]:
        """Open intervals with ``end >= t`` in time order, local date by local date."""
        first = self._local_date(t) - _ONE_DAY
        for offset in range(SEARCH_HORIZON_DAYS + 2):
            for interval in self.open_intervals_on(first + timedelta(days=offset)):
                if interval[1] >= t:
                    yield interval

    def _backward(self, t: datetime) -> Iterator[Interval]:
        """Open intervals with ``start < t`` in reverse time order."""
        last = self._local_date(t) + _ONE_DAY
        for offset in range(SEARCH_HORIZON_DAYS + 2):
            for interval in reversed(self.open_intervals_on(last - timedelta(days=offset))):
                if interval[0] < t:
                    yield interval

    def _beyond_horizon(self, t: datetime, what: str) -> InvalidInput:
        first = self._local_date(t)
        days = (first + timedelta(days=k) for k in range(SEARCH_HORIZON_DAYS))
        if not any(self.open_intervals_on(day) for day in days):
            return InvalidInput(
                "business_hours",
                f"the calendar of {self.timezone} has no opening within "
                f"{SEARCH_HORIZON_DAYS} days after {t.isoformat()}",
            )
        return InvalidInput("minutes", f"{what} lies beyond the {SEARCH_HORIZON_DAYS}-day horizon")

    # -- public operations ------------------------------------------------------------------

    def is_open(self, t: datetime) -> bool:
        """Whether the instant lies in open time (opening instant included, closing excluded)."""
        t = _require_aware(t, "t")
        day = self._local_date(t)
        for candidate in (day - _ONE_DAY, day, day + _ONE_DAY):
            for start, end in self.open_intervals_on(candidate):
                if start <= t < end:
                    return True
        return False

    def next_opening(self, t: datetime) -> datetime:
        """``t`` itself when open, else the next instant at which the calendar opens (UTC)."""
        t = _require_aware(t, "t")
        for start, end in self._forward(t):
            if t < end:
                return max(start, t)
        raise self._beyond_horizon(t, "the next opening")

    def add_business_minutes(self, t: datetime, minutes: int) -> datetime:
        """The instant by which ``minutes`` business minutes have elapsed since ``t`` (UTC).

        See the module docstring for the exact convention at closing instants.
        """
        t = _require_aware(t, "t")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise InvalidInput("minutes", "business minutes must be a non-negative integer")
        remaining = timedelta(minutes=minutes)
        for start, end in self._forward(t):
            start = max(start, t)
            available = end - start
            if remaining <= available:
                return start + remaining
            remaining -= available
        raise self._beyond_horizon(t, f"{minutes} business minutes after {t.isoformat()}")

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time inside ``[a, b)``, exactly; zero when ``b <= a``."""
        a = _require_aware(a, "a")
        b = _require_aware(b, "b")
        total = timedelta(0)
        for start, end in self.open_intervals(a, b):
            total += end - start
        return total

    def business_minutes_between(self, a: datetime, b: datetime) -> float:
        """Open time inside ``[a, b)`` in minutes; zero when ``b <= a``."""
        return self.business_time_between(a, b).total_seconds() / 60

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[Interval]:
        """Open time inside ``[start, end)`` as UTC intervals, in order, touching ones merged."""
        start = _require_aware(start, "start")
        end = _require_aware(end, "end")
        if end <= start:
            return
        if end - start > timedelta(days=SEARCH_HORIZON_DAYS):
            raise InvalidInput("end", f"spans more than {SEARCH_HORIZON_DAYS} days")
        pending: Interval | None = None
        for s, e in self._forward(start):
            if s >= end:
                break
            piece = (max(s, start), min(e, end))
            if piece[1] <= piece[0]:
                continue
            if pending is not None and piece[0] <= pending[1]:
                pending = (pending[0], max(pending[1], piece[1]))
                continue
            if pending is not None:
                yield pending
            pending = piece
        if pending is not None:
            yield pending

    def last_open_interval(self, start: datetime, end: datetime) -> Interval | None:
        """The latest stretch of open time inside ``[start, end)``, or None when there is none."""
        start = _require_aware(start, "start")
        end = _require_aware(end, "end")
        if end <= start:
            return None
        result: Interval | None = None
        for s, e in self._backward(end):
            if e <= start:
                break
            piece = (max(s, start), min(e, end))
            if piece[1] <= piece[0]:
                continue
            if result is not None and piece[1] < result[0]:
                break
            result = piece if result is None else (piece[0], max(result[1], piece[1]))
        return result


def _check_holiday_codes(country: str, subdivision: str | None) -> None:
    # Without years the holidays object computes nothing: this only checks the codes.
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        if subdivision is not None and "subdivision" in str(exc).lower():
            raise InvalidInput(
                "holiday_subdivision", f"unknown subdivision {subdivision!r} of {country!r}"
            ) from exc
        raise InvalidInput("holiday_country", f"unknown holiday country {country!r}") from exc


def _public_holidays(country: str | None, subdivision: str | None, year: int) -> frozenset[date]:
    if country is None:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def business_calendar(
    timezone: str,
    weekly_hours: Sequence[Sequence[tuple[time, time]]] | Mapping[str, Sequence[Sequence[str]]],
    *,
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
    extra_closed_dates: Iterable[date] = (),
    working_dates: Iterable[date] = (),
    years: Iterable[int] = (),
) -> BusinessCalendar:
    """Build a service area's calendar; ``years`` are resolved now so that quotes stay fast.

    ``weekly_hours`` is either seven tuples of ``(open, close)`` times, Monday first, or a mapping
    such as ``{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}`` (see
    :func:`parse_weekly_hours`).
    """
    hours = (
        parse_weekly_hours(weekly_hours)
        if isinstance(weekly_hours, Mapping)
        else tuple(tuple(day) for day in weekly_hours)
    )
    calendar = BusinessCalendar(
        timezone=timezone,
        weekly_hours=hours,
        closed_dates=frozenset(extra_closed_dates),
        working_dates=frozenset(working_dates),
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )
    calendar.warm(years)
    return calendar


def _parse_time(text: object, loc: tuple[str | int, ...]) -> time:
    if not isinstance(text, str):
        raise InvalidInput(loc, "a time is written HH:MM")
    if text == "24:00":
        return _MIDNIGHT
    try:
        parsed = time.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(loc, f"{text!r} is not a time (HH:MM)") from exc
    if parsed.tzinfo is not None:
        raise InvalidInput(loc, "opening hours are local wall-clock times without a zone")
    return parsed


def parse_weekly_hours(mapping: Mapping[str, Sequence[Sequence[str]]]) -> WeeklyHours:
    """Weekly hours from JSON-friendly data: ``{"mon": [["09:00", "17:00"]], ...}``.

    Missing weekdays are closed; ``"24:00"`` closes at midnight at the end of the day.
    """
    unknown = sorted(set(mapping) - set(WEEKDAYS))
    if unknown:
        raise InvalidInput(("business_hours", unknown[0]), "weekdays are mon, tue, ... sun")
    days: list[DayHours] = []
    for name in WEEKDAYS:
        intervals: list[tuple[time, time]] = []
        for i, pair in enumerate(mapping.get(name, ())):
            loc: tuple[str | int, ...] = ("business_hours", name, i)
            if isinstance(pair, str) or len(pair) != 2:
                raise InvalidInput(loc, "an opening interval is a pair [open, close]")
            intervals.append((_parse_time(pair[0], loc), _parse_time(pair[1], loc)))
        days.append(tuple(intervals))
    return _validate_weekly_hours(days)


def format_weekly_hours(weekly_hours: WeeklyHours) -> dict[str, list[list[str]]]:
    """The inverse of :func:`parse_weekly_hours` (closed weekdays are left out)."""
    result: dict[str, list[list[str]]] = {}
    for name, day in zip(WEEKDAYS, weekly_hours, strict=True):
        if day:
            result[name] = [
                [f"{opens:%H:%M}", "24:00" if closes == _MIDNIGHT else f"{closes:%H:%M}"]
                for opens, closes in day
            ]
    return result


__all__ = [
    "SEARCH_HORIZON_DAYS",
    "WEEKDAYS",
    "BusinessCalendar",
    "DayHours",
    "WeeklyHours",
    "business_calendar",
    "format_weekly_hours",
    "parse_weekly_hours",
]
