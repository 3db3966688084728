"""What one reported drive tells the noise estimate."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from dispatch.planning.history import drive_seen

OFF = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_a_drive_is_its_ratio_to_the_plan() -> None:
    """A 30-minute drive planned at 20 minutes is log(1.5), an observation."""
    seen = drive_seen(OFF, OFF + timedelta(minutes=30), 1200, OFF + timedelta(hours=2))
    assert seen is not None and seen[0] == math.log(1.5) and seen[1] is False


def test_an_arrival_as_the_window_opens_is_only_a_bound() -> None:
    """Reported as the window opened, the drive took at most that: a bound, not a value."""
    opens = OFF + timedelta(minutes=25)
    assert drive_seen(OFF, opens, 1200, opens) == (math.log(1500 / 1200), True)
    late = drive_seen(OFF, opens + timedelta(minutes=5), 1200, opens)
    assert late is not None and late[1] is False


def test_taps_no_road_explains_say_nothing() -> None:
    """En route and arrived tapped together at the door, or arrived tapped hours late, and
    legs too short to be about roads, are left out."""
    assert drive_seen(OFF, OFF + timedelta(seconds=1), 1200, None) is None
    assert drive_seen(OFF, OFF, 1200, None) is None
    assert drive_seen(OFF, OFF + timedelta(hours=3), 1200, None) is None
    assert drive_seen(OFF, OFF + timedelta(minutes=2), 60, None) is None
