"""place_window: a predicted arrival narrows or moves the window; SLA deadlines never move."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from statistics import NormalDist
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.errors import InvalidInput
from dispatch.promise import (
    DEFAULT_POLICY,
    Locality,
    Promise,
    PromiseRequest,
    Tier,
    compute_promise,
    place_calibrated_window,
    place_window,
)
from dispatch.promise.calibration import ArrivalSpread, calibrated_window, noise_level
from tests.unit.promise.calendars import BERLIN_OFFICE, berlin, utc

RECEIVED = utc(2025, 10, 14, 8)  # Tue 10:00 CEST
HOUR = timedelta(hours=1)
LEAD = timedelta(minutes=30)


def promise(tier: Tier = Tier.URGENT, **changes: object) -> Promise:
    """A Berlin same-city promise made at once for a request received Tue 10:00 CEST."""
    base = PromiseRequest(
        received_at=RECEIVED,
        now=RECEIVED,
        tier=tier,
        problem_type=None,
        vip_tier=None,
        locality=Locality.SAME_CITY,
        area_name="Berlin",
        base_name="Depot Mitte",
        travel_s=1200,
        calendar=BERLIN_OFFICE,
        service_minutes=60,
    )
    return compute_promise(replace(base, **changes))  # type: ignore[arg-type]


URGENT = promise()  # arrival due 10:00Z, window bounds [08:30Z, 10:00Z]


def same_deadlines(a: Promise, b: Promise) -> bool:
    """Whether two promises hold the same SLA deadlines and arrival target."""
    return (a.first_response_due, a.arrival_due, a.resolution_due, a.arrival_target) == (
        b.first_response_due,
        b.arrival_due,
        b.resolution_due,
        b.arrival_target,
    )


@pytest.mark.parametrize(
    ("now", "eta", "start", "end"),
    [
        # Centred on the ETA.
        (RECEIVED, utc(2025, 10, 14, 9), utc(2025, 10, 14, 8, 30), utc(2025, 10, 14, 9, 30)),
        # Near the due: shifted back so that it ends at the due.
        (RECEIVED, utc(2025, 10, 14, 9, 50), utc(2025, 10, 14, 9), utc(2025, 10, 14, 10)),
        # An ETA before now + lead: the window starts at now + lead.
        (RECEIVED, utc(2025, 10, 14, 8, 5), utc(2025, 10, 14, 8, 30), utc(2025, 10, 14, 9, 30)),
        # Later on: squeezed between now + lead (09:50) and the due.
        (
            utc(2025, 10, 14, 9, 20),
            utc(2025, 10, 14, 9, 55),
            utc(2025, 10, 14, 9, 50),
            utc(2025, 10, 14, 10),
        ),
        # now + lead is past the due but the engineer is nearly there: the lead is waived.
        (
            utc(2025, 10, 14, 9, 45),
            utc(2025, 10, 14, 9, 55),
            utc(2025, 10, 14, 9, 45),
            utc(2025, 10, 14, 10),
        ),
    ],
)
def test_window_follows_the_eta_inside_the_sla(
    now: datetime, eta: datetime, start: datetime, end: datetime
) -> None:
    """An ETA the SLA allows gives a window around it, ending no later than the arrival due."""
    moved = place_window(URGENT, eta, width=HOUR, now=now, lead=LEAD)
    assert (moved.window_start, moved.window_end) == (start, end)
    assert moved.predicted_arrival == eta
    assert not moved.at_risk
    assert same_deadlines(moved, URGENT)


def test_explanation_mentions_the_eta() -> None:
    """The explanation shows the new window and the ETA in local time."""
    moved = place_window(URGENT, utc(2025, 10, 14, 9), width=HOUR, now=RECEIVED, lead=LEAD)
    assert moved.explanation == (
        "urgent, same city (Berlin), 24x7: on site by 12:00, window 10:30-11:30; ETA 11:00; "
        "resolution due 13:00 (arrival due + 60 min on site)"
    )


def test_an_eta_after_the_due_is_at_risk_and_the_due_stays() -> None:
    """An ETA after the arrival due flags the promise at risk; the deadlines do not move."""
    moved = place_window(URGENT, utc(2025, 10, 14, 10, 30), width=HOUR, now=RECEIVED, lead=LEAD)
    assert moved.at_risk
    assert moved.risk_reason == "predicted arrival 12:30 is after 12:00"
    assert (moved.window_start, moved.window_end) == (utc(2025, 10, 14, 10), utc(2025, 10, 14, 11))
    assert moved.arrival_due == utc(2025, 10, 14, 10)
    assert same_deadlines(moved, URGENT)
    assert moved.explanation.endswith("; at risk: predicted arrival 12:30 is after 12:00")


def test_a_later_eta_that_fits_clears_the_risk() -> None:
    """Re-placing an at-risk promise with an ETA that fits clears the risk flag."""
    late = place_window(URGENT, utc(2025, 10, 14, 10, 30), width=HOUR, now=RECEIVED, lead=LEAD)
    back = place_window(late, utc(2025, 10, 14, 9), width=HOUR, now=RECEIVED, lead=LEAD)
    assert not back.at_risk and back.risk_reason is None
    assert (back.window_start, back.window_end) == (
        utc(2025, 10, 14, 8, 30),
        utc(2025, 10, 14, 9, 30),
    )


def test_a_customer_chosen_window_keeps_its_target() -> None:
    """Inside the customer's chosen availability the window moves, the target does not."""
    chosen = promise(
        Tier.GENERAL, availability=((berlin(2025, 10, 16, 7), berlin(2025, 10, 16, 12)),)
    )
    assert chosen.customer_chosen and chosen.arrival_target == utc(2025, 10, 16, 9)
    moved = place_window(chosen, utc(2025, 10, 16, 6), width=HOUR, now=RECEIVED, lead=LEAD)
    assert (moved.window_start, moved.window_end) == (
        utc(2025, 10, 16, 5, 30),
        utc(2025, 10, 16, 6, 30),
    )
    late = place_window(chosen, utc(2025, 10, 16, 9, 30), width=HOUR, now=RECEIVED, lead=LEAD)
    assert late.at_risk
    assert late.arrival_target == utc(2025, 10, 16, 9)
    assert same_deadlines(late, chosen)


@pytest.mark.parametrize(
    ("kwargs", "loc"),
    [
        ({"predicted_arrival": datetime(2025, 10, 14, 9)}, ("predicted_arrival",)),
        ({"now": datetime(2025, 10, 14, 9)}, ("now",)),
        ({"width": timedelta(0)}, ("width",)),
        ({"lead": timedelta(minutes=-1)}, ("lead",)),
    ],
)
def test_place_window_validates_its_arguments(kwargs: dict[str, object], loc: tuple[str]) -> None:
    """Naive times, an empty width or a negative lead raise InvalidInput naming the argument."""
    arguments: dict[str, object] = {
        "predicted_arrival": utc(2025, 10, 14, 9),
        "width": HOUR,
        "now": RECEIVED,
        "lead": LEAD,
    }
    arguments.update(kwargs)
    with pytest.raises(InvalidInput) as raised:
        place_window(URGENT, **arguments)  # type: ignore[arg-type]
    assert raised.value.loc == loc


PROMISES = (
    URGENT,
    promise(Tier.GENERAL),
    promise(Tier.IMPORTANT, availability=((berlin(2025, 10, 14, 13), berlin(2025, 10, 14, 15)),)),
    promise(Tier.GENERAL, availability=((berlin(2025, 10, 16, 7), berlin(2025, 10, 16, 12)),)),
)


@settings(max_examples=150, deadline=None)
@given(
    base=st.sampled_from(PROMISES),
    eta_offset=st.integers(-6 * 60, 4 * 24 * 60),
    now_offset=st.integers(0, 2 * 24 * 60),
    width_min=st.integers(1, 240),
    lead_min=st.integers(0, 90),
)
def test_place_window_never_moves_deadlines_and_keeps_inside_the_target(
    base: Promise, eta_offset: int, now_offset: int, width_min: int, lead_min: int
) -> None:
    """Deadlines never change; without risk the window holds the ETA and ends by the target."""
    now = RECEIVED + timedelta(minutes=now_offset)
    eta = base.window_bounds[0] + timedelta(minutes=eta_offset)
    width, lead = timedelta(minutes=width_min), timedelta(minutes=lead_min)
    moved = place_window(base, eta, width=width, now=now, lead=lead)
    assert same_deadlines(moved, base)
    assert moved.window_end - moved.window_start <= width
    limit = min(base.window_bounds[1], base.arrival_target)
    if eta > limit:
        assert moved.at_risk
    if not moved.at_risk:
        assert max(base.window_bounds[0], now) <= moved.window_start < moved.window_end <= limit
        if eta >= moved.window_start:
            assert moved.window_start <= eta <= moved.window_end
    elif eta >= now + lead:
        assert moved.window_start <= eta <= moved.window_end


CALIBRATED = replace(DEFAULT_POLICY, window_mode="calibrated")


@settings(max_examples=200, deadline=None)
@given(
    eta_min=st.integers(-600, 3000),
    now_min=st.integers(0, 240),
    sd_min=st.floats(0, 120),
    tier=st.sampled_from(list(Tier)),
)
def test_a_calibrated_window_is_ordered_whatever_the_prediction(
    eta_min: int, now_min: int, sd_min: float, tier: Tier
) -> None:
    """Early, late or far predictions all give a window that starts before it ends, inside the
    bounds when the prediction meets the target, with the deadlines unchanged."""
    base = promise(tier)
    now = RECEIVED + timedelta(minutes=now_min)
    eta = RECEIVED + timedelta(minutes=eta_min)
    spread = ArrivalSpread(0.0, (sd_min * 60) ** 2, 0.0)
    placed = place_calibrated_window(base, eta, spread, policy=CALIBRATED, now=now, lead=LEAD)
    assert placed.window_start < placed.window_end
    assert same_deadlines(placed, base)
    limit = min(base.window_bounds[1], base.arrival_target)
    if not placed.at_risk and now + LEAD < limit:
        assert base.window_bounds[0] <= placed.window_start
        assert placed.window_end <= base.window_bounds[1]


def test_a_calibrated_window_leaves_room_for_the_plans_own_changes() -> None:
    """The window holds the road-and-service noise more often than the target (the plan's
    changes take the rest of the misses allowed): wider than the target alone would make it."""
    eta = RECEIVED + 3 * HOUR + timedelta(minutes=15)  # 13:15 in Berlin
    spread = ArrivalSpread(0.0, (35 * 60) ** 2, 0.0)
    placed = place_calibrated_window(
        promise(Tier.GENERAL), eta, spread, policy=CALIBRATED, now=RECEIVED, lead=LEAD
    )
    assert noise_level(CALIBRATED.window_target) > CALIBRATED.window_target
    at_target = calibrated_window(
        eta,
        spread,
        target=CALIBRATED.window_target,
        slot=timedelta(minutes=CALIBRATED.window_slot_minutes),
        max_width=timedelta(minutes=CALIBRATED.window_max_minutes),
        tz=ZoneInfo("Europe/Berlin"),
    )
    assert placed.window_end - placed.window_start > at_target[1] - at_target[0]
    z = NormalDist().inv_cdf(1 - (1 - noise_level(CALIBRATED.window_target)) / 2)
    assert placed.window_start <= eta - timedelta(seconds=z * 35 * 60)
    assert placed.window_end >= eta + timedelta(seconds=z * 35 * 60)
