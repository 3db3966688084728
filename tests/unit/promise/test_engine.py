"""The promise engine: SLA deadlines, arrival windows, availability and explanations."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from dispatch.errors import InvalidInput
from dispatch.promise import (
    DEFAULT_POLICY,
    Clock,
    Locality,
    Promise,
    PromiseRequest,
    SlaPolicy,
    SlaRule,
    Tier,
    business_calendar,
    compute_promise,
)
from tests.unit.promise.calendars import BERLIN_OFFICE, berlin, utc

URG, IMP, GEN = Tier.URGENT, Tier.IMPORTANT, Tier.GENERAL
SC, OT = Locality.SAME_CITY, Locality.OUT_OF_TOWN


def request(
    received_at: datetime,
    tier: Tier | str | None,
    locality: Locality = SC,
    **changes: object,
) -> PromiseRequest:
    """A Berlin request promised at once, 60 min on site, 1 h from the base."""
    base = PromiseRequest(
        received_at=received_at,
        now=received_at,
        tier=tier,
        problem_type=None,
        vip_tier=None,
        locality=locality,
        area_name="Berlin",
        base_name="Depot Mitte",
        travel_s=3600,
        calendar=BERLIN_OFFICE,
        service_minutes=60,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# Every tier x locality x situation, on the Berlin office calendar (Mon-Fri 09:00-17:00, DE-BE
# holidays) and the default policy (window 120 min, lead 30 min), 60 min of service on site.
# Times are UTC; October 2025 is CEST (UTC+2) until Sun 26 Oct 03:00, CET (UTC+1) after.
# Columns: received, first response due, arrival due, resolution due, window start, window end.
IN_HOURS = utc(2025, 10, 14, 8)  # Tue 10:00 CEST
OFF_HOURS = utc(2025, 10, 14, 17, 30)  # Tue 19:30 CEST
WEEKEND = utc(2025, 10, 11, 9)  # Sat 11:00 CEST
HOLIDAY = utc(2025, 6, 9, 8)  # Whit Monday 10:00 CEST
DST_NIGHT = utc(2025, 10, 25, 23, 30)  # Sun 26 Oct 01:30 CEST, 90 min before the clocks go back
DST_FRIDAY = utc(2025, 10, 24, 13)  # Fri 15:00 CEST; the business clock resumes Mon in CET

CASES = [
    # -- in hours: Tue 10:00 CEST --
    # 24x7: +15 min, +2 h; resolution = arrival due + 60 min service (> received + 2 h).
    ("in hours", URG, SC, IN_HOURS,
     utc(2025, 10, 14, 8, 15), utc(2025, 10, 14, 10), utc(2025, 10, 14, 11),
     utc(2025, 10, 14, 8), utc(2025, 10, 14, 10)),
    ("in hours", URG, OT, IN_HOURS,
     utc(2025, 10, 14, 8, 15), utc(2025, 10, 14, 20), utc(2025, 10, 14, 21),
     utc(2025, 10, 14, 18), utc(2025, 10, 14, 20)),
    # 4 business h: 14:00 CEST; resolution floored to 15:00 CEST.
    ("in hours", IMP, SC, IN_HOURS,
     utc(2025, 10, 14, 8, 30), utc(2025, 10, 14, 12), utc(2025, 10, 14, 13),
     utc(2025, 10, 14, 10), utc(2025, 10, 14, 12)),
    # 24 business h: Tue 7 + Wed 8 + Thu 8 + Fri 1 -> Fri 10:00 CEST; window from the opening.
    ("in hours", IMP, OT, IN_HOURS,
     utc(2025, 10, 14, 8, 30), utc(2025, 10, 17, 8), utc(2025, 10, 17, 9),
     utc(2025, 10, 17, 7), utc(2025, 10, 17, 8)),
    # 8 business h: Tue 7 + Wed 1 -> Wed 10:00 CEST; 24 business h -> Fri 10:00 CEST.
    ("in hours", GEN, SC, IN_HOURS,
     utc(2025, 10, 14, 10), utc(2025, 10, 15, 8), utc(2025, 10, 17, 8),
     utc(2025, 10, 15, 7), utc(2025, 10, 15, 8)),
    # 48 business h: Tue 7, Wed-Fri 24, Mon-Tue 16, Wed 1 -> Wed 22 Oct 10:00 CEST.
    ("in hours", GEN, OT, IN_HOURS,
     utc(2025, 10, 14, 10), utc(2025, 10, 22, 8), utc(2025, 10, 22, 9),
     utc(2025, 10, 22, 7), utc(2025, 10, 22, 8)),
    # -- off hours: Tue 19:30 CEST; business clocks start Wed 09:00 CEST (07:00Z) --
    ("off hours", URG, SC, OFF_HOURS,
     utc(2025, 10, 14, 17, 45), utc(2025, 10, 14, 19, 30), utc(2025, 10, 14, 20, 30),
     utc(2025, 10, 14, 17, 30), utc(2025, 10, 14, 19, 30)),
    ("off hours", URG, OT, OFF_HOURS,
     utc(2025, 10, 14, 17, 45), utc(2025, 10, 15, 5, 30), utc(2025, 10, 15, 6, 30),
     utc(2025, 10, 15, 3, 30), utc(2025, 10, 15, 5, 30)),
    ("off hours", IMP, SC, OFF_HOURS,
     utc(2025, 10, 15, 7, 30), utc(2025, 10, 15, 11), utc(2025, 10, 15, 12),
     utc(2025, 10, 15, 9), utc(2025, 10, 15, 11)),
    # Wed + Thu + Fri -> Fri 17:00 CEST, the closing instant.
    ("off hours", IMP, OT, OFF_HOURS,
     utc(2025, 10, 15, 7, 30), utc(2025, 10, 17, 15), utc(2025, 10, 17, 16),
     utc(2025, 10, 17, 13), utc(2025, 10, 17, 15)),
    ("off hours", GEN, SC, OFF_HOURS,
     utc(2025, 10, 15, 9), utc(2025, 10, 15, 15), utc(2025, 10, 17, 15),
     utc(2025, 10, 15, 13), utc(2025, 10, 15, 15)),
    # Six full business days: Wed 15 - Wed 22 Oct 17:00 CEST.
    ("off hours", GEN, OT, OFF_HOURS,
     utc(2025, 10, 15, 9), utc(2025, 10, 22, 15), utc(2025, 10, 22, 16),
     utc(2025, 10, 22, 13), utc(2025, 10, 22, 15)),
    # -- weekend: Sat 11:00 CEST; business clocks start Mon 13 Oct 09:00 CEST --
    ("weekend", URG, SC, WEEKEND,
     utc(2025, 10, 11, 9, 15), utc(2025, 10, 11, 11), utc(2025, 10, 11, 12),
     utc(2025, 10, 11, 9), utc(2025, 10, 11, 11)),
    ("weekend", URG, OT, WEEKEND,
     utc(2025, 10, 11, 9, 15), utc(2025, 10, 11, 21), utc(2025, 10, 11, 22),
     utc(2025, 10, 11, 19), utc(2025, 10, 11, 21)),
    ("weekend", IMP, SC, WEEKEND,
     utc(2025, 10, 13, 7, 30), utc(2025, 10, 13, 11), utc(2025, 10, 13, 12),
     utc(2025, 10, 13, 9), utc(2025, 10, 13, 11)),
    ("weekend", IMP, OT, WEEKEND,
     utc(2025, 10, 13, 7, 30), utc(2025, 10, 15, 15), utc(2025, 10, 15, 16),
     utc(2025, 10, 15, 13), utc(2025, 10, 15, 15)),
    ("weekend", GEN, SC, WEEKEND,
     utc(2025, 10, 13, 9), utc(2025, 10, 13, 15), utc(2025, 10, 15, 15),
     utc(2025, 10, 13, 13), utc(2025, 10, 13, 15)),
    ("weekend", GEN, OT, WEEKEND,
     utc(2025, 10, 13, 9), utc(2025, 10, 20, 15), utc(2025, 10, 20, 16),
     utc(2025, 10, 20, 13), utc(2025, 10, 20, 15)),
    # -- public holiday: Whit Monday 9 Jun 2025 10:00 CEST; clocks start Tue 09:00 CEST --
    ("holiday", URG, SC, HOLIDAY,
     utc(2025, 6, 9, 8, 15), utc(2025, 6, 9, 10), utc(2025, 6, 9, 11),
     utc(2025, 6, 9, 8), utc(2025, 6, 9, 10)),
    ("holiday", URG, OT, HOLIDAY,
     utc(2025, 6, 9, 8, 15), utc(2025, 6, 9, 20), utc(2025, 6, 9, 21),
     utc(2025, 6, 9, 18), utc(2025, 6, 9, 20)),
    ("holiday", IMP, SC, HOLIDAY,
     utc(2025, 6, 10, 7, 30), utc(2025, 6, 10, 11), utc(2025, 6, 10, 12),
     utc(2025, 6, 10, 9), utc(2025, 6, 10, 11)),
    ("holiday", IMP, OT, HOLIDAY,
     utc(2025, 6, 10, 7, 30), utc(2025, 6, 12, 15), utc(2025, 6, 12, 16),
     utc(2025, 6, 12, 13), utc(2025, 6, 12, 15)),
    ("holiday", GEN, SC, HOLIDAY,
     utc(2025, 6, 10, 9), utc(2025, 6, 10, 15), utc(2025, 6, 12, 15),
     utc(2025, 6, 10, 13), utc(2025, 6, 10, 15)),
    # Tue 10 - Fri 13, Mon 16, Tue 17 Jun -> Tue 17 Jun 17:00 CEST.
    ("holiday", GEN, OT, HOLIDAY,
     utc(2025, 6, 10, 9), utc(2025, 6, 17, 15), utc(2025, 6, 17, 16),
     utc(2025, 6, 17, 13), utc(2025, 6, 17, 15)),
    # -- DST change --
    # 24x7 across the night the clocks go back: 2 h after 01:30 CEST is 02:30 CET.
    ("dst", URG, SC, DST_NIGHT,
     utc(2025, 10, 25, 23, 45), utc(2025, 10, 26, 1, 30), utc(2025, 10, 26, 2, 30),
     utc(2025, 10, 25, 23, 30), utc(2025, 10, 26, 1, 30)),
    # 12 h after 01:30 CEST is 12:30 CET (11 h on the wall clock).
    ("dst", URG, OT, DST_NIGHT,
     utc(2025, 10, 25, 23, 45), utc(2025, 10, 26, 11, 30), utc(2025, 10, 26, 12, 30),
     utc(2025, 10, 26, 9, 30), utc(2025, 10, 26, 11, 30)),
    # Business clocks: Fri 15:00-17:00 CEST, then Mon from 09:00 CET (08:00Z).
    ("dst", IMP, SC, DST_FRIDAY,
     utc(2025, 10, 24, 13, 30), utc(2025, 10, 27, 10), utc(2025, 10, 27, 11),
     utc(2025, 10, 27, 8), utc(2025, 10, 27, 10)),
    # Fri 2 + Mon 8 + Tue 8 + Wed 6 -> Wed 29 Oct 15:00 CET.
    ("dst", IMP, OT, DST_FRIDAY,
     utc(2025, 10, 24, 13, 30), utc(2025, 10, 29, 14), utc(2025, 10, 29, 15),
     utc(2025, 10, 29, 12), utc(2025, 10, 29, 14)),
    # First response 2 business h: Fri 17:00 CEST, the closing instant.
    ("dst", GEN, SC, DST_FRIDAY,
     utc(2025, 10, 24, 15), utc(2025, 10, 27, 14), utc(2025, 10, 29, 14),
     utc(2025, 10, 27, 12), utc(2025, 10, 27, 14)),
    # Fri 2 + Mon-Fri 40 + Mon 3 Nov 6 -> Mon 3 Nov 15:00 CET.
    ("dst", GEN, OT, DST_FRIDAY,
     utc(2025, 10, 24, 15), utc(2025, 11, 3, 14), utc(2025, 11, 3, 15),
     utc(2025, 11, 3, 12), utc(2025, 11, 3, 14)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("situation", "tier", "locality", "received", "first", "arrival", "resolution", "ws", "we"),
    CASES,
    ids=[f"{c[0]}-{c[1].value}-{c[2].value}" for c in CASES],
)
def test_default_policy_deadlines_and_window(
    situation: str,
    tier: Tier,
    locality: Locality,
    received: datetime,
    first: datetime,
    arrival: datetime,
    resolution: datetime,
    ws: datetime,
    we: datetime,
) -> None:
    """Each tier x locality x situation gets the hand-computed deadlines and window."""
    promise = compute_promise(request(received, tier, locality))
    assert promise.first_response_due == first
    assert promise.arrival_due == arrival
    assert promise.resolution_due == resolution
    assert (promise.window_start, promise.window_end) == (ws, we)
    assert promise.arrival_target == arrival
    assert not promise.customer_chosen
    assert not promise.at_risk


def test_the_table_covers_every_tier_locality_and_situation() -> None:
    """The table above holds 30 distinct tier x locality x situation cases."""
    assert len({(c[0], c[1], c[2]) for c in CASES}) == 30


def test_all_datetimes_of_a_promise_are_utc() -> None:
    """Promises carry aware UTC datetimes, whatever zone the request used."""
    promise = compute_promise(request(berlin(2025, 10, 14, 10), GEN))
    for value in (
        promise.received_at,
        promise.first_response_due,
        promise.arrival_due,
        promise.resolution_due,
        promise.window_start,
        promise.window_end,
    ):
        assert value.utcoffset() == timedelta(0)


# -- what the promise records ---------------------------------------------------------------


def test_the_issue_example_explanation() -> None:
    """An urgent same-city request in Shanghai at 14:40 is 'on site by 16:40'."""
    shanghai = business_calendar(
        "Asia/Shanghai",
        {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        holiday_country="CN",
    )
    promise = compute_promise(
        request(
            utc(2025, 10, 14, 6, 40),
            None,
            problem_type="system_down",
            area_name="Shanghai",
            calendar=shanghai,
            service_minutes=0,
        )
    )
    assert promise.tier is Tier.URGENT
    assert promise.tier_reason == "problem type system_down is urgent"
    assert promise.arrival_due == utc(2025, 10, 14, 8, 40)
    assert promise.explanation == (
        "urgent, same city (Shanghai), 24x7: on site by 16:40, window 14:40-16:40"
    )


def test_the_promise_records_policy_area_base_and_rule() -> None:
    """A promise keeps the policy name and version, locality, area, base and rule."""
    policy = replace(DEFAULT_POLICY, name="acme", version=7)
    promise = compute_promise(request(IN_HOURS, GEN, OT, policy=policy))
    assert (promise.policy_name, promise.policy_version) == ("acme", 7)
    assert (promise.locality, promise.area_name, promise.base_name) == (OT, "Berlin", "Depot Mitte")
    assert promise.rule_key == "general/out_of_town/any"
    assert promise.clock is Clock.BUSINESS_HOURS
    assert promise.tier_reason == "given by the service desk"
    assert promise.timezone == "Europe/Berlin"


def test_explanation_names_the_day_and_the_resolution_floor() -> None:
    """Out-of-town explanations give the base, travel, other days' dates and the floor reason."""
    promise = compute_promise(request(IN_HOURS, IMP, OT, travel_s=3 * 3600 + 20 * 60))
    assert promise.resolution_after_arrival
    assert promise.explanation == (
        "important, out of town (from Depot Mitte, Berlin, 3 h 20 min travel), business hours: "
        "on site by Fri 17 Oct 10:00, window Fri 17 Oct 09:00-10:00; "
        "resolution due Fri 17 Oct 11:00 (arrival due + 60 min on site)"
    )


def test_resolution_on_the_clock_when_it_is_later_than_arrival_plus_service() -> None:
    """General same city resolves on its own 24 business hours; no floor is mentioned."""
    promise = compute_promise(request(IN_HOURS, GEN))
    assert promise.resolution_due == utc(2025, 10, 17, 8)
    assert not promise.resolution_after_arrival
    assert "resolution" not in promise.explanation


def test_derived_priority_with_vip_raise() -> None:
    """A gold customer's minor fault is promised as important, and the promise says why."""
    promise = compute_promise(request(IN_HOURS, None, problem_type="minor_fault", vip_tier="Gold"))
    assert promise.tier is Tier.IMPORTANT
    assert (
        promise.tier_reason
        == "problem type minor_fault is general; raised to important for VIP tier gold"
    )
    assert promise.arrival_due == utc(2025, 10, 14, 12)


def test_out_of_town_bands_pick_the_narrowest() -> None:
    """Up to 3 h of travel uses the near band, beyond it the far band, beyond range is refused."""
    near = SlaRule(URG, OT, 15, 8 * 60, 120, Clock.H24, max_travel_s=3 * 3600)
    rules = tuple(r for r in DEFAULT_POLICY.rules if r.key != "urgent/out_of_town/any")
    far = SlaRule(URG, OT, 15, 16 * 60, 120, Clock.H24, max_travel_s=None)
    policy = replace(DEFAULT_POLICY, rules=(*rules, near, far))
    at_three = compute_promise(request(IN_HOURS, URG, OT, travel_s=3 * 3600, policy=policy))
    beyond = compute_promise(request(IN_HOURS, URG, OT, travel_s=3 * 3600 + 1, policy=policy))
    assert at_three.arrival_due == utc(2025, 10, 14, 16)
    assert at_three.rule_key == "urgent/out_of_town/<=10800s"
    assert beyond.arrival_due == utc(2025, 10, 15, 0)
    assert beyond.rule_key == "urgent/out_of_town/any"


# -- customer availability --------------------------------------------------------------------


def test_window_goes_into_the_earliest_availability_meeting_the_sla() -> None:
    """The window sits at the end of the earliest availability that meets [now + lead, due]."""
    promise = compute_promise(
        request(
            IN_HOURS,
            IMP,
            availability=(
                (utc(2025, 10, 14, 9, 30), utc(2025, 10, 14, 14)),
                (utc(2025, 10, 14, 8), utc(2025, 10, 14, 9)),
            ),
        )
    )
    # The second window given starts first: [08:30 lead, 09:00].
    assert (promise.window_start, promise.window_end) == (
        utc(2025, 10, 14, 8, 30),
        utc(2025, 10, 14, 9),
    )
    assert promise.window_bounds == (utc(2025, 10, 14, 8, 30), utc(2025, 10, 14, 9))
    assert not promise.customer_chosen
    assert promise.arrival_target == utc(2025, 10, 14, 12)


def test_business_hours_window_inside_availability_stays_in_open_time() -> None:
    """Availability Tue 15:00-20:00 CEST for a general request: the window ends at 17:00 closing."""
    promise = compute_promise(
        request(IN_HOURS, GEN, availability=((berlin(2025, 10, 14, 15), berlin(2025, 10, 14, 20)),))
    )
    assert (promise.window_start, promise.window_end) == (
        utc(2025, 10, 14, 13),
        utc(2025, 10, 14, 15),
    )
    assert promise.arrival_due == utc(2025, 10, 15, 8)


def test_customer_chosen_window_when_no_availability_meets_the_sla() -> None:
    """Availability only after the due: the promise follows it and is judged against it."""
    promise = compute_promise(
        request(IN_HOURS, GEN, availability=((berlin(2025, 10, 16, 7), berlin(2025, 10, 16, 12)),))
    )
    # The customer's window starts before the 09:00 opening: the promise starts at the opening.
    assert (promise.window_start, promise.window_end) == (
        utc(2025, 10, 16, 7),
        utc(2025, 10, 16, 9),
    )
    assert promise.customer_chosen
    assert promise.judged_against_window
    assert promise.arrival_due == utc(2025, 10, 15, 8)
    assert promise.arrival_target == utc(2025, 10, 16, 9)
    assert promise.arrival_met(utc(2025, 10, 16, 9))
    assert not promise.arrival_met(utc(2025, 10, 16, 9, 1))
    assert promise.explanation == (
        "general, same city (Berlin), business hours: on site by Wed 15 Oct 10:00; "
        "the customer chose Thu 16 Oct 09:00-11:00, arrival judged against it"
    )


def test_availability_ending_inside_the_lead_time_is_skipped() -> None:
    """A window ending before now + lead cannot hold the visit; the next one is used, the
    window at its end by the due (an important call: 4 business hours)."""
    promise = compute_promise(
        request(
            IN_HOURS,
            IMP,
            availability=(
                (utc(2025, 10, 14, 7), utc(2025, 10, 14, 8, 20)),
                (utc(2025, 10, 14, 9), utc(2025, 10, 14, 12)),
            ),
        )
    )
    assert (promise.window_start, promise.window_end) == (
        utc(2025, 10, 14, 10),
        utc(2025, 10, 14, 12),
    )


def test_a_late_quote_is_at_risk_not_moved() -> None:
    """Quoting within the lead of the arrival due keeps the due and says the SLA is at risk."""
    promise = compute_promise(request(IN_HOURS, IMP, now=utc(2025, 10, 14, 11, 45)))
    assert promise.arrival_due == utc(2025, 10, 14, 12)
    assert promise.at_risk
    assert (promise.window_start, promise.window_end) == (
        utc(2025, 10, 14, 12, 15),
        utc(2025, 10, 14, 14, 15),
    )
    assert promise.explanation.endswith(
        "; at risk: the earliest possible arrival (now plus the minimum lead) is after the due"
    )


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"tier": "critical"}, ("tier",)),
        ({"locality": "abroad"}, ("locality",)),
        ({"travel_s": 9 * 3600}, ("site",)),
        ({"travel_s": -1}, ("travel_s",)),
        ({"service_minutes": -5}, ("service_minutes",)),
        ({"received_at": datetime(2025, 10, 14, 10)}, ("received_at",)),
        ({"now": datetime(2025, 10, 14, 10)}, ("now",)),
        (
            {"availability": ((utc(2025, 10, 14, 12), utc(2025, 10, 14, 11)),)},
            ("availability", 0, "end"),
        ),
        (
            {"availability": ((utc(2025, 10, 14, 12), utc(2025, 10, 14, 12)),)},
            ("availability", 0, "end"),
        ),
        (
            {
                "availability": (
                    (utc(2025, 10, 14, 12), utc(2025, 10, 14, 13)),
                    (utc(2025, 10, 13, 12), utc(2025, 10, 13, 13)),
                )
            },
            ("availability", 1),
        ),
        (
            {"availability": ((datetime(2025, 10, 14, 12), utc(2025, 10, 14, 13)),)},
            ("availability", 0, "start"),
        ),
        (
            # Every availability ends within the lead (an urgent call has none).
            {
                "tier": "important",
                "availability": ((utc(2025, 10, 14, 7), utc(2025, 10, 14, 8, 10)),),
            },
            ("availability",),
        ),
    ],
)
def test_invalid_requests_name_the_field(
    changes: dict[str, object], loc: tuple[object, ...]
) -> None:
    """Bad tiers, windows, past availability, naive times and far sites raise InvalidInput."""
    with pytest.raises(InvalidInput) as raised:
        compute_promise(replace(request(IN_HOURS, URG), **changes))  # type: ignore[arg-type]
    assert raised.value.loc == loc


def test_a_site_beyond_range_is_refused_with_the_distance() -> None:
    """The refusal names the site and says how far it is and what the range is."""
    with pytest.raises(InvalidInput) as raised:
        compute_promise(request(IN_HOURS, GEN, OT, travel_s=9 * 3600 + 15 * 60))
    assert raised.value.loc == ("site",)
    assert raised.value.message == (
        "the site is 9 h 15 min from the nearest base, beyond the 8 h service range of policy "
        "'default'"
    )


def test_promises_are_frozen() -> None:
    """A promise cannot be altered in place."""
    promise = compute_promise(request(IN_HOURS, GEN))
    with pytest.raises(AttributeError):
        promise.arrival_due = IN_HOURS  # type: ignore[misc]
    assert isinstance(promise, Promise)


def test_a_custom_window_width_and_lead() -> None:
    """The policy's window width and lead time shape the window; the lead never holds an
    urgent call back (an engineer is sent now), so its window ends at the due, opening at once
    if need be."""
    policy = SlaPolicy(
        name="tight",
        version=1,
        rules=DEFAULT_POLICY.rules,
        max_service_travel_s=None,
        window_minutes=60,
        min_lead_minutes=90,
    )
    promise = compute_promise(request(IN_HOURS, URG, policy=policy))
    assert (promise.window_start, promise.window_end) == (
        utc(2025, 10, 14, 9),
        utc(2025, 10, 14, 10),
    )
    soon = compute_promise(request(IN_HOURS, URG, policy=policy, now=utc(2025, 10, 14, 9, 45)))
    assert not soon.at_risk
    assert (soon.window_start, soon.window_end) == (utc(2025, 10, 14, 9, 45), utc(2025, 10, 14, 10))
    out = compute_promise(request(IN_HOURS, IMP, policy=policy))
    assert (out.window_start, out.window_end) == (utc(2025, 10, 14, 11), utc(2025, 10, 14, 12))
