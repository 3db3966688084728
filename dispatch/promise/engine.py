"""The promise engine: a request's facts in, the SLA deadlines and the arrival window out.

Pure: no clock is read here (``now`` is part of the request), nothing is stored, and the same
request always gives the same promise.

Window rule. The customer-facing arrival window is at most the policy's width, starts no earlier
than ``now`` plus the minimum lead and ends no later than the arrival due. Without customer
availability it is placed as late as the SLA allows (the capacity check of a later issue moves it
earlier through :func:`place_window`); on a business-hours rule it starts and ends in open time
where the due leaves room (so it may be narrower than the width just after an opening). The
customer's availability windows are hard: the window goes into the earliest one that meets
``[now + lead, arrival due]``; when none does, the promise follows the customer's earliest
availability, records that the customer chose it and is judged against that window.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.common.text import text
from dispatch.errors import InvalidInput
from dispatch.promise.calendar import BusinessCalendar
from dispatch.promise.calibration import ArrivalSpread, calibrated_window, noise_level
from dispatch.promise.policy import (
    DEFAULT_POLICY,
    Clock,
    Locality,
    SlaPolicy,
    SlaRule,
    Tier,
    format_duration,
    parse_locality,
)
from dispatch.promise.priority import DEFAULT_PRIORITY_RULES, PriorityRules, derive_priority

Loc = str | tuple[str | int, ...]
Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class PromiseRequest:
    """Everything the engine needs to promise a repair request; times are aware datetimes.

    ``tier`` is the service desk's tier or None to derive it from ``problem_type`` and
    ``vip_tier``. ``locality``, ``area_name``, ``base_name`` and ``travel_s`` (from the serving
    base) come from geo classification; ``calendar`` is the serving area's. ``availability`` lists
    the customer's ``(start, end)`` windows, possibly none.
    """

    received_at: datetime
    now: datetime
    tier: Tier | str | None
    problem_type: str | None
    vip_tier: str | None
    locality: Locality | str
    area_name: str
    base_name: str
    travel_s: int
    calendar: BusinessCalendar
    service_minutes: int
    availability: tuple[Window, ...] = ()
    policy: SlaPolicy = DEFAULT_POLICY
    priority_rules: PriorityRules = DEFAULT_PRIORITY_RULES


@dataclass(frozen=True)
class Promise:
    """What the customer is told, with the SLA deadlines it was built from; datetimes in UTC.

    ``arrival_due`` is the latest on-site arrival the SLA allows; ``arrival_target`` is what
    arrival compliance is judged against: ``arrival_due``, or the end of the window the customer
    chose (``customer_chosen``). ``window_bounds`` is where the window may move later without
    breaking the SLA or the customer's availability (see :func:`place_window`).
    """

    tier: Tier
    tier_reason: str
    locality: Locality
    area_name: str
    base_name: str
    travel_s: int
    timezone: str
    policy_name: str
    policy_version: int
    rule: SlaRule
    received_at: datetime
    service_minutes: int
    first_response_due: datetime
    arrival_due: datetime
    resolution_due: datetime
    resolution_after_arrival: bool
    window_start: datetime
    window_end: datetime
    window_bounds: Window
    customer_chosen: bool
    arrival_target: datetime
    at_risk: bool
    risk_reason: str | None
    predicted_arrival: datetime | None
    explanation: str
    plan_by: datetime | None = None
    """The latest planned arrival that still keeps the window with the policy's target
    probability (calibrated windows); plans aim for it, not for the window's end."""

    @property
    def rule_key(self) -> str:
        """The key of the SLA rule applied, e.g. ``urgent/same_city/any``."""
        return self.rule.key

    @property
    def clock(self) -> Clock:
        """The clock the deadlines count on."""
        return self.rule.clock

    @property
    def judged_against_window(self) -> bool:
        """Whether arrival compliance is judged against the customer's chosen window."""
        return self.customer_chosen

    def arrival_met(self, arrived_at: datetime) -> bool:
        """Whether an arrival at ``arrived_at`` keeps the SLA arrival target."""
        return _aware(arrived_at, "arrived_at") <= self.arrival_target


def _aware(value: object, loc: Loc) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(loc, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(loc, "must be timezone-aware")
    return value.astimezone(UTC)


def _non_negative_int(value: object, loc: Loc) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(loc, "must be a non-negative whole number")
    return value


def _availability(windows: tuple[Window, ...], now: datetime) -> list[Window]:
    """Validated windows in UTC, sorted by start; errors name the window by its given index."""
    result: list[Window] = []
    for i, window in enumerate(windows):
        if not isinstance(window, tuple | list) or len(window) != 2:
            raise InvalidInput(("availability", i), "a window is a (start, end) pair")
        start = _aware(window[0], ("availability", i, "start"))
        end = _aware(window[1], ("availability", i, "end"))
        if end <= start:
            raise InvalidInput(("availability", i, "end"), "the window ends before it starts")
        if end <= now:
            raise InvalidInput(("availability", i), "the window lies entirely in the past")
        result.append((start, end))
    result.sort()
    return result


def _place_late(
    lo: datetime, hi: datetime, width: timedelta, calendar: BusinessCalendar | None
) -> Window:
    """The latest window of at most ``width`` inside ``[lo, hi]``, in open time where possible."""
    end = hi
    last_open = None if calendar is None else calendar.last_open_interval(lo, hi)
    if last_open is not None:
        end = last_open[1]
    start = max(lo, end - width)
    if calendar is not None and last_open is not None:
        # Ends in open time; a window that would start while closed starts at the next opening.
        start = calendar.next_opening(start)
    return start, end


def _place_early(
    lo: datetime, hi: datetime | None, width: timedelta, calendar: BusinessCalendar | None
) -> Window:
    """The earliest window of at most ``width`` from ``lo`` (up to ``hi``), open time preferred."""
    start = lo
    if calendar is not None:
        opening = calendar.next_opening(lo)
        if hi is None or opening < hi:
            start = opening
    end = start + width if hi is None else min(hi, start + width)
    if calendar is not None and calendar.is_open(start):
        stretch = calendar.last_open_interval(start, end)
        if stretch is not None:
            end = stretch[1]
    return start, end


def compute_promise(request: PromiseRequest) -> Promise:
    """The promise for a repair request: SLA deadlines, arrival window and an explanation."""
    received = _aware(request.received_at, "received_at")
    now = _aware(request.now, "now")
    policy = request.policy
    calendar = request.calendar
    if not isinstance(calendar, BusinessCalendar):
        raise InvalidInput("calendar", "the serving area's business calendar is required")
    tier, tier_reason = derive_priority(
        tier=request.tier,
        problem_type=request.problem_type,
        vip_tier=request.vip_tier,
        rules=request.priority_rules,
    )
    locality = parse_locality(request.locality)
    service = timedelta(minutes=_non_negative_int(request.service_minutes, "service_minutes"))
    rule = policy.rule_for(tier, locality, request.travel_s)
    availability = _availability(tuple(request.availability), now)

    def due(minutes: int) -> datetime:
        if rule.clock is Clock.H24:
            return received + timedelta(minutes=minutes)
        return calendar.add_business_minutes(received, minutes)

    first_response_due = due(rule.first_response_min)
    arrival_due = due(rule.arrival_min)
    # A resolution target shorter than the arrival target (out-of-town rows) cannot be met as
    # written: the work can only end once the engineer has arrived and done it.
    resolution_on_clock = due(rule.resolution_min)
    resolution_due = max(resolution_on_clock, arrival_due + service)
    resolution_after_arrival = resolution_due > resolution_on_clock

    width = timedelta(minutes=policy.window_minutes)
    earliest = now + policy.lead(tier)
    window_calendar = calendar if rule.clock is Clock.BUSINESS_HOURS else None
    customer_chosen = False
    risk_reason: str | None = None
    arrival_target = arrival_due

    if earliest >= arrival_due:
        # Too late for the SLA whatever we do: say so and offer the earliest honest window.
        risk_reason = "the earliest possible arrival (now plus the minimum lead) is after the due"
        if availability:
            first = _first_available(availability, earliest)
            if first is None:
                raise _no_usable_availability(policy)
            bounds = first
            window = _place_early(first[0], first[1], width, window_calendar)
        else:
            window = _place_early(earliest, None, width, window_calendar)
            bounds = window
    elif not availability:
        bounds = (earliest, arrival_due)
        window = _place_late(earliest, arrival_due, width, window_calendar)
    else:
        meeting = next(
            (
                (max(start, earliest), min(end, arrival_due))
                for start, end in availability
                if max(start, earliest) < min(end, arrival_due)
            ),
            None,
        )
        if meeting is not None:
            bounds = meeting
            window = _place_late(meeting[0], meeting[1], width, window_calendar)
        else:
            chosen = _first_available(availability, earliest)
            if chosen is None:
                raise _no_usable_availability(policy)
            bounds = chosen
            # Past the SLA anyway: the customer's own availability sets the time, earliest first.
            window = _place_early(chosen[0], chosen[1], width, window_calendar)
            customer_chosen = True
            arrival_target = window[1]

    promise = Promise(
        tier=tier,
        tier_reason=tier_reason,
        locality=locality,
        area_name=request.area_name,
        base_name=request.base_name,
        travel_s=request.travel_s,
        timezone=calendar.timezone,
        policy_name=policy.name,
        policy_version=policy.version,
        rule=rule,
        received_at=received,
        service_minutes=request.service_minutes,
        first_response_due=first_response_due,
        arrival_due=arrival_due,
        resolution_due=resolution_due,
        resolution_after_arrival=resolution_after_arrival,
        window_start=window[0],
        window_end=window[1],
        window_bounds=bounds,
        customer_chosen=customer_chosen,
        arrival_target=arrival_target,
        at_risk=risk_reason is not None,
        risk_reason=risk_reason,
        predicted_arrival=None,
        explanation="",
    )
    return replace(promise, explanation=explain(promise))


def _first_available(availability: list[Window], earliest: datetime) -> Window | None:
    """The customer's earliest availability still open after ``earliest``, clipped to it."""
    for start, end in availability:
        if end > earliest:
            return max(start, earliest), end
    return None


def _no_usable_availability(policy: SlaPolicy) -> InvalidInput:
    return InvalidInput(
        "availability",
        f"every availability window ends within the minimum lead time of "
        f"{policy.min_lead_minutes} min",
    )


def place_window(
    promise: Promise,
    predicted_arrival: datetime,
    *,
    width: timedelta,
    now: datetime,
    lead: timedelta,
) -> Promise:
    """The promise with its window moved around a predicted arrival; deadlines never change.

    The window (at most ``width``) is centred on the ETA and kept inside the promise's
    ``window_bounds``, ending no later than its arrival target and starting no earlier than
    ``now + lead`` (the lead is waived when only that keeps the window before the target). When
    the ETA is after the target the promise says it is at risk and the window shows the honest
    ETA; the arrival due and the arrival target stay as they were.
    """
    eta = _aware(predicted_arrival, "predicted_arrival")
    now = _aware(now, "now")
    if not isinstance(width, timedelta) or width <= timedelta(0):
        raise InvalidInput("width", "the window width must be a positive duration")
    if not isinstance(lead, timedelta) or lead < timedelta(0):
        raise InvalidInput("lead", "the lead time must be a non-negative duration")
    bounds_lo, bounds_hi = promise.window_bounds
    limit = min(bounds_hi, promise.arrival_target)
    lo = max(bounds_lo, now + lead)
    if lo >= limit:
        lo = max(bounds_lo, now)
    risk_reason: str | None = None
    if eta > limit:
        risk_reason = f"predicted arrival {_when(promise, eta)} is after {_when(promise, limit)}"
    elif lo >= limit:
        risk_reason = "no time is left before the arrival target"
    if risk_reason is None:
        start = eta - width / 2
        end = start + width
        if end > limit:
            end, start = limit, limit - width
        if start < lo:
            start, end = lo, min(lo + width, limit)
    else:
        start = max(eta - width / 2, now + lead)
        end = start + width
    return _placed(promise, start, end, eta, risk_reason)


def place_calibrated_window(
    promise: Promise,
    predicted_arrival: datetime,
    spread: ArrivalSpread,
    *,
    policy: SlaPolicy,
    now: datetime,
    lead: timedelta,
) -> Promise:
    """The promise with a calibrated window around a predicted arrival; deadlines never change.

    The window is the narrowest run of whole slots that holds the arrival with the policy's
    target probability given ``spread`` (see :mod:`dispatch.promise.calibration`; the spread is
    the road-and-service noise, held at :func:`noise_level` of the target so that the plan's
    own changes fit in what is left), at most the
    policy's maximum width, inside the promise's ``window_bounds`` (the customer's availability)
    and ending by its arrival target where that leaves room. When the prediction itself is past
    the target, the promise says it is at risk and the window shows the honest arrival.
    """
    eta = _aware(predicted_arrival, "predicted_arrival")
    now = _aware(now, "now")
    bounds_lo, bounds_hi = promise.window_bounds
    limit = min(bounds_hi, promise.arrival_target)
    lo = max(bounds_lo, now + lead)
    if lo >= limit:
        lo = max(bounds_lo, now)
    zone = ZoneInfo(promise.timezone)
    late = eta > limit
    slot = timedelta(minutes=policy.window_slot_minutes)
    level = noise_level(policy.window_target)
    start, end = calibrated_window(
        eta,
        spread,
        target=level,
        slot=slot,
        max_width=timedelta(minutes=policy.window_max_minutes),
        tz=zone,
        earliest=now + lead if late else lo,
        latest=None if late else limit,
    )
    if not late:
        # The customer's availability is hard: the window never leaves it. (A late prediction
        # shows the honest arrival instead, as fixed windows do.)
        start, end = max(start, bounds_lo), min(end, bounds_hi)
        if end <= start and limit > lo:
            start, end = max(lo, limit - slot), limit
    if end <= start:
        end = start + slot
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    # Plans aim for the latest arrival from which the road still gets there by the window's
    # end at the same noise level (never before the window, nor before the prediction).
    room = timedelta(seconds=max(0.0, spread.quantile(level)))
    plan_by = min(end, max(start, end - room, min(eta, end)))
    risk_reason = None
    if late:
        risk_reason = f"predicted arrival {_when(promise, eta)} is after {_when(promise, limit)}"
    return _placed(promise, start, end, eta, risk_reason, plan_by)


def _placed(
    promise: Promise,
    start: datetime,
    end: datetime,
    eta: datetime,
    risk_reason: str | None,
    plan_by: datetime | None = None,
) -> Promise:
    """The promise with its window placed around ``eta``, its risk and account updated."""
    moved = replace(
        promise,
        window_start=start,
        window_end=end,
        predicted_arrival=eta,
        at_risk=risk_reason is not None,
        risk_reason=risk_reason,
        plan_by=plan_by,
    )
    return replace(moved, explanation=explain(moved))


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _when(promise: Promise, instant: datetime, *, same_day_as: datetime | None = None) -> str:
    """Local time in the area's zone, with the date when it is not the reference day."""
    zone = ZoneInfo(promise.timezone)
    local = instant.astimezone(zone)
    reference = (same_day_as or promise.received_at).astimezone(zone)
    if local.date() == reference.date():
        return f"{local:%H:%M}"
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local:%H:%M}"


def explain(promise: Promise) -> str:
    """The short human-readable account of a promise, in the service area's local time."""
    if promise.locality is Locality.SAME_CITY:
        where = f"same city ({promise.area_name})"
    else:
        where = (
            f"out of town (from {promise.base_name}, {promise.area_name}, "
            f"{format_duration(promise.travel_s)} travel)"
        )
    clock = "24x7" if promise.clock is Clock.H24 else "business hours"
    window = (
        f"{_when(promise, promise.window_start)}-"
        f"{_when(promise, promise.window_end, same_day_as=promise.window_start)}"
    )
    text = (
        f"{promise.tier.value}, {where}, {clock}: on site by {_when(promise, promise.arrival_due)}"
    )
    if promise.customer_chosen:
        text += f"; the customer chose {window}, arrival judged against it"
    else:
        text += f", window {window}"
    if promise.predicted_arrival is not None:
        text += f"; ETA {_when(promise, promise.predicted_arrival)}"
    if promise.resolution_after_arrival:
        text += (
            f"; resolution due {_when(promise, promise.resolution_due)} "
            f"(arrival due + {promise.service_minutes} min on site)"
        )
    if promise.risk_reason is not None:
        text += f"; at risk: {promise.risk_reason}"
    return text


def explain_said(promise: Promise) -> dict[str, Any]:
    """:func:`explain` as data (catalogue keys and parameters), for other languages: the parts
    in order, and the clock their times are on."""
    tier = f"tier.{promise.tier.value}"
    clock = "clock.24x7" if promise.clock is Clock.H24 else "clock.business"
    common = {"tier_key": tier, "clock_key": clock, "area": promise.area_name}
    if promise.locality is Locality.SAME_CITY:
        head = text("promise.same_city", **common, arrival_at=promise.arrival_due)
    else:
        head = text(
            "promise.out_of_town",
            **common,
            base=promise.base_name,
            travel_min=round(promise.travel_s / 60),
            arrival_at=promise.arrival_due,
        )
    parts = [
        head,
        text(
            "promise.chosen" if promise.customer_chosen else "promise.window",
            start_at=promise.window_start,
            end_at=promise.window_end,
        ),
    ]
    if promise.predicted_arrival is not None:
        parts.append(text("promise.eta", eta_at=promise.predicted_arrival))
    if promise.resolution_after_arrival:
        parts.append(
            text(
                "promise.resolution",
                due_at=promise.resolution_due,
                minutes=promise.service_minutes,
            )
        )
    return {"timezone": promise.timezone, "parts": parts}


__all__ = [
    "Promise",
    "PromiseRequest",
    "compute_promise",
    "explain",
    "explain_said",
    "place_calibrated_window",
    "place_window",
]
