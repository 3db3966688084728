"""The report judges each promise by the first window the customer was told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulation.report import RequestRecord, build_report
from simulation.scenario import load_scenario

T = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
H = timedelta(hours=1)


def _record(n: int, arrived: datetime | None, eta_at_set_off: datetime | None) -> RequestRecord:
    return RequestRecord(
        request_id=n,
        tier="general",
        locality="same_city",
        area="Shanghai",
        received_at=T - 2 * H,
        window_start=T,
        window_end=T + 2 * H,
        arrival_due=T + 3 * H,
        first_response_due=T - H,
        arrived_at=arrived,
        eta_at_departure=eta_at_set_off,
        window_start_at_arrival=T,
        window_end_at_arrival=T + 2 * H,
    )


def test_late_arrivals_are_split_by_whether_the_plan_had_already_broken_them() -> None:
    """A late arrival whose ETA at set-off was already past the window counts as broken by the
    plan; one that set off in time was made late on the road; a kept one is neither."""
    records = [
        _record(1, T + H, T + H),  # kept
        _record(2, T + 3 * H, T + 2.5 * H),  # the plan had it late before setting off
        _record(3, T + 3 * H, T + 1.5 * H),  # made late on the road
    ]
    report = build_report(
        load_scenario("standard"), 1, "fixed", records, [], runs=0, end=T + 24 * H
    )
    assert (report.kept, report.broken, report.late_at_set_off) == (1, 2, 1)
