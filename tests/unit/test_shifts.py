"""Shifts from weekly templates and exceptions (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from dispatch.engineers.shifts import DayHours, shift_on, validate_template
from dispatch.errors import InvalidInput

TEMPLATE = {
    "mon": {
        "start": "08:30",
        "end": "17:30",
        "break_start": "11:30",
        "break_end": "13:30",
        "break_minutes": 30,
    },
}


def test_template_day_becomes_utc_instants_in_area_timezone() -> None:
    """A Monday 08:30-17:30 in Shanghai (UTC+8) is 00:30-09:30 UTC, break window 03:30-05:30."""
    spec = shift_on(date(2026, 11, 23), template=TEMPLATE, exception=None, timezone="Asia/Shanghai")
    assert spec is not None
    assert spec.start_at == datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    assert spec.end_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert spec.break_start_at == datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
    assert spec.break_end_at == datetime(2026, 11, 23, 5, 30, tzinfo=UTC)
    assert spec.break_minutes == 30
    assert spec.source == "template"


def test_day_without_template_entry_has_no_shift() -> None:
    """Tuesday is not in the template, so there is no shift."""
    assert shift_on(date(2026, 11, 24), template=TEMPLATE, exception=None, timezone="UTC") is None


def test_leave_removes_the_template_shift() -> None:
    """Leave (exception False) wins over the template."""
    assert shift_on(date(2026, 11, 23), template=TEMPLATE, exception=False, timezone="UTC") is None


def test_overtime_exception_adds_a_shift_on_a_free_day() -> None:
    """Overtime on a Saturday gives a shift from the exception's hours."""
    spec = shift_on(
        date(2026, 11, 28),
        template=TEMPLATE,
        exception=DayHours(time(9), time(13)),
        timezone="Europe/Berlin",
    )
    assert spec is not None
    assert (spec.start_at, spec.end_at) == (
        datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    )
    assert spec.source == "exception"


def test_shift_on_dst_change_day_keeps_wall_clock_hours() -> None:
    """On 2026-03-29 Berlin moves to UTC+2: 08:00-16:00 local is 06:00-14:00 UTC (8 h)."""
    template = {"sun": {"start": "08:00", "end": "16:00"}}
    spec = shift_on(date(2026, 3, 29), template=template, exception=None, timezone="Europe/Berlin")
    assert spec is not None
    assert spec.start_at == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert spec.end_at == datetime(2026, 3, 29, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("template", "loc"),
    [
        ({"mon": {"start": "17:00", "end": "08:00"}}, ("weekly_template", "mon", "end")),
        ({"funday": {"start": "08:00", "end": "17:00"}}, ("weekly_template", "funday")),
        ({"mon": {"start": "8am", "end": "17:00"}}, ("weekly_template", "mon", "start")),
        (
            {
                "mon": {
                    "start": "08:00",
                    "end": "17:00",
                    "break_start": "12:00",
                    "break_end": "12:20",
                    "break_minutes": 30,
                }
            },
            ("weekly_template", "mon", "break_minutes"),
        ),
        (
            {
                "mon": {
                    "start": "08:00",
                    "end": "17:00",
                    "break_start": "07:00",
                    "break_end": "09:00",
                    "break_minutes": 30,
                }
            },
            ("weekly_template", "mon", "break_start"),
        ),
    ],
)
def test_invalid_templates_name_the_field(template: dict, loc: tuple) -> None:
    """Each malformed template is refused with an error pointing at the offending field."""
    with pytest.raises(InvalidInput) as info:
        validate_template(template)
    assert info.value.loc == loc
