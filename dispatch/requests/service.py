"""Repair requests: intake with an immediate promise, corrections, acknowledgement, cancellation.

Every change appends to the request's timeline; an earlier promise is kept there when a
correction re-promises.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.calendars import calendar_for
from dispatch.clock import ensure_utc, iso
from dispatch.common.paging import Page, paginate
from dispatch.engineers.service import resolve_skills
from dispatch.errors import Conflict, InvalidInput, NotFound, check_version
from dispatch.geo_support import GeoContext, Placement
from dispatch.models import (
    Customer,
    RepairRequest,
    RequestEvent,
    RequestSkill,
    ServiceArea,
    Site,
    Visit,
)
from dispatch.models.enums import Channel, Locality, RequestStatus, VisitStatus
from dispatch.promise import (
    BusinessCalendar,
    Clock,
    Promise,
    PromiseRequest,
    compute_promise,
    explain,
    explain_said,
    parse_tier,
)
from dispatch.requests import repository
from dispatch.sla.service import ActivePolicy, policy_by_id, policy_for

FINAL = {RequestStatus.COMPLETED, RequestStatus.CANNOT_COMPLETE, RequestStatus.CANCELLED}
REPROMISE_ON = {"tier", "problem_type", "site_id", "skills", "service_minutes", "availability"}
OUTSIDE = "outside the service areas"


@dataclass(frozen=True)
class Window:
    """A customer availability window (aware datetimes)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Location:
    """Where a quoted site is, with its placement and the customer's VIP tier and SLA
    contract."""

    placement: Placement
    vip_tier: str | None
    contract: str | None = None


@dataclass(frozen=True)
class PromiseView:
    """A promise as it leaves Onsite: made now (a quote, a new request) or stored on a request.

    The one conversion of a promise for the timeline and the API. ``context`` holds what only a
    promise made now knows (area and base names, travel from the base, policy name, clock).
    """

    tier: str | None
    tier_reason: str | None
    locality: str | None
    policy_version: int | None
    rule: str | None
    promised_at: datetime | None
    first_response_due: datetime | None
    arrival_due: datetime | None
    resolution_due: datetime | None
    window_start: datetime | None
    window_end: datetime | None
    customer_chosen: bool
    arrival_target: datetime | None
    at_risk: bool
    risk_reason: str | None
    predicted_arrival: datetime | None
    explanation: str | None
    context: dict[str, Any] | None = None
    said: dict[str, Any] | None = None
    """The explanation as data (:func:`~dispatch.promise.engine.explain_said`), for other
    languages; not part of the fields."""

    @classmethod
    def of_promise(cls, promise: Promise, *, promised_at: datetime | None = None) -> PromiseView:
        return cls(
            tier=promise.tier.value,
            tier_reason=promise.tier_reason,
            locality=promise.locality.value,
            policy_version=promise.policy_version,
            rule=promise.rule_key,
            promised_at=promised_at,
            first_response_due=promise.first_response_due,
            arrival_due=promise.arrival_due,
            resolution_due=promise.resolution_due,
            window_start=promise.window_start,
            window_end=promise.window_end,
            customer_chosen=promise.customer_chosen,
            arrival_target=promise.arrival_target,
            at_risk=promise.at_risk,
            risk_reason=promise.risk_reason,
            predicted_arrival=promise.predicted_arrival,
            explanation=promise.explanation,
            said=explain_said(promise),
            context={
                "area": promise.area_name,
                "base": promise.base_name,
                "travel_from_base_s": promise.travel_s,
                "policy": promise.policy_name,
                "clock": promise.clock.value,
            },
        )

    @classmethod
    def of_request(cls, request: RepairRequest) -> PromiseView:
        return cls(
            tier=request.tier,
            tier_reason=request.tier_reason,
            locality=request.locality,
            policy_version=request.policy_version,
            rule=request.rule_key,
            promised_at=request.promised_at,
            first_response_due=request.first_response_due,
            arrival_due=request.arrival_due,
            resolution_due=request.resolution_due,
            window_start=request.window_start,
            window_end=request.window_end,
            customer_chosen=request.customer_chosen,
            arrival_target=request.arrival_target,
            at_risk=request.at_risk,
            risk_reason=request.risk_reason,
            predicted_arrival=request.predicted_arrival,
            explanation=request.promise_explanation,
            said=request.promise_said,
        )

    def fields(self) -> dict[str, Any]:
        """The promise's fields (with the context's, when known), as values."""
        values = {
            k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("context", "said")
        }
        return values | (self.context or {})

    def payload(self) -> dict[str, Any]:
        """The promise as JSON-able data, for the timeline."""
        return {k: iso(v) if isinstance(v, datetime) else v for k, v in self.fields().items()}


def _event(
    session: Session,
    request: RepairRequest,
    type_: str,
    *,
    actor: str,
    at: datetime,
    payload: Mapping[str, Any] | None = None,
) -> RequestEvent:
    event = RequestEvent(
        request_id=request.id, type=type_, at=at, actor=actor, payload=dict(payload or {})
    )
    session.add(event)
    return event


def _windows(
    availability: Sequence[Mapping[str, Any] | Window],
) -> tuple[tuple[datetime, datetime], ...]:
    out = []
    for i, w in enumerate(availability):
        start = w.start if isinstance(w, Window) else w["start"]
        end = w.end if isinstance(w, Window) else w["end"]
        if isinstance(start, str):
            start, end = datetime.fromisoformat(start), datetime.fromisoformat(end)
        out.append(
            (
                ensure_utc(start, field=f"availability.{i}.start"),
                ensure_utc(end, field=f"availability.{i}.end"),
            )
        )
    return tuple(out)


MAX_BACKDATE = timedelta(days=7)
BOOKING_AHEAD = timedelta(days=366)


def check_windows(
    windows: Sequence[tuple[datetime, datetime]], now: datetime, field: str = "availability"
) -> None:
    """Availability a customer gives now: ordered, not over yet, at most a year ahead."""
    for i, (start, end) in enumerate(windows):
        if end <= start:
            raise InvalidInput((field, i, "end"), "a window must end after it starts")
        if end <= now:
            raise InvalidInput((field, i, "end"), "this window has already ended")
        if start > now + BOOKING_AHEAD:
            raise InvalidInput((field, i, "start"), "book at most a year ahead")


def check_received_at(received_at: datetime, now: datetime) -> None:
    """When the customer asked: not in the future, and recent enough to be intake."""
    if received_at > now:
        raise InvalidInput("received_at", "a request cannot be received in the future")
    if received_at < now - MAX_BACKDATE:
        raise InvalidInput(
            "received_at", f"at most {MAX_BACKDATE.days} days ago; older requests are history"
        )


def _area_names(session: Session, placement: Placement) -> tuple[ServiceArea, str]:
    if placement.base_area_id is None or placement.travel_from_base_s is None:
        raise InvalidInput("site", "no engineer base can reach this site")
    base = session.get(ServiceArea, placement.base_area_id)
    if base is None:  # pragma: no cover - foreign key keeps it
        raise InvalidInput("site", "the site's serving base no longer exists")
    if placement.area_id is None:
        return base, OUTSIDE
    area = session.get(ServiceArea, placement.area_id)
    return base, area.name if area is not None else OUTSIDE


def sla_promise(
    session: Session,
    *,
    location: Location,
    policy: ActivePolicy,
    tier: str | None,
    problem_type: str | None,
    service_minutes: int,
    availability: tuple[tuple[datetime, datetime], ...],
    received_at: datetime,
    now: datetime,
) -> Promise:
    """The SLA promise (deadlines and window) for a request's facts, from the pure engine."""
    base, area_name = _area_names(session, location.placement)
    assert location.placement.travel_from_base_s is not None
    return compute_promise(
        PromiseRequest(
            received_at=received_at,
            now=now,
            tier=parse_tier(tier) if tier is not None else None,
            problem_type=problem_type,
            vip_tier=location.vip_tier,
            locality=location.placement.locality,
            area_name=area_name,
            base_name=base.name,
            travel_s=location.placement.travel_from_base_s,
            calendar=calendar_for(base),
            service_minutes=service_minutes,
            availability=availability,
            policy=policy.policy,
            priority_rules=policy.priority,
        )
    )


def _site_location(session: Session, site: Site) -> Location:
    customer = session.get(Customer, site.customer_id)
    return Location(
        placement=Placement(
            area_id=site.service_area_id,
            locality=Locality(site.locality),
            base_area_id=site.base_area_id,
            travel_from_base_s=site.travel_from_base_s,
        ),
        vip_tier=customer.vip_tier if customer is not None else None,
        contract=customer.sla_contract if customer is not None else None,
    )


def _site_or_422(session: Session, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise InvalidInput("site_id", f"site {site_id} does not exist")
    return site


def _check_parts_volume(volume: int) -> None:
    if isinstance(volume, bool) or not isinstance(volume, int) or not 0 <= volume <= 1_000_000:
        raise InvalidInput("parts_volume", "the parts volume is a whole number from 0 to 1000000")


def _check_service_minutes(minutes: int) -> None:
    if not 1 <= minutes <= 24 * 60:
        raise InvalidInput("service_minutes", "estimated service time must be 1 to 1440 minutes")


def locate(
    session: Session,
    geo: GeoContext,
    *,
    site_id: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    customer_id: int | None = None,
) -> tuple[Location, tuple[float, float]]:
    """Where a quoted request is: a known site, or a location placed on the fly."""
    if site_id is not None:
        site = _site_or_422(session, site_id)
        return _site_location(session, site), (site.lat, site.lon)
    if lat is None or lon is None:
        raise InvalidInput("site_id", "give a site_id, or a location (lat, lon)")
    geo.check_point(session, lat, lon, field="location")
    vip = contract = None
    if customer_id is not None:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise InvalidInput("customer_id", f"customer {customer_id} does not exist")
        vip, contract = customer.vip_tier, customer.sla_contract
    placement = geo.classify(session, lat, lon)
    return Location(placement=placement, vip_tier=vip, contract=contract), (lat, lon)


def quote(
    session: Session,
    location: Location,
    *,
    now: datetime,
    tier: str | None = None,
    problem_type: str | None = None,
    skills: Sequence[Mapping[str, Any]] = (),
    service_minutes: int = 60,
    availability: Sequence[Mapping[str, Any] | Window] = (),
) -> Promise:
    """The SLA promise a request at ``location`` would get now, without saving anything."""
    _check_service_minutes(service_minutes)
    resolve_skills(session, skills, level_key="min_level")
    windows = _windows(availability)
    check_windows(windows, now)
    return sla_promise(
        session,
        location=location,
        policy=policy_for(session, location.contract),
        tier=tier,
        problem_type=problem_type,
        service_minutes=service_minutes,
        availability=windows,
        received_at=now,
        now=now,
    )


def _apply_promise(request: RepairRequest, promise: Promise, policy_id: int, now: datetime) -> None:
    request.tier = promise.tier.value
    request.tier_reason = promise.tier_reason
    request.sla_policy_id = policy_id
    request.policy_version = promise.policy_version
    request.locality = promise.locality.value
    request.rule_key = promise.rule_key
    request.promised_at = now
    request.first_response_due = promise.first_response_due
    request.arrival_due = promise.arrival_due
    request.resolution_due = promise.resolution_due
    request.window_start = promise.window_start
    request.window_end = promise.window_end
    request.customer_chosen = promise.customer_chosen
    request.arrival_target = promise.arrival_target
    request.at_risk = promise.at_risk
    request.risk_reason = promise.risk_reason
    # The stored account is the promise itself; the risk is its own field and follows the plan.
    request.promise_explanation = explain(dataclasses.replace(promise, risk_reason=None))[:500]
    request.promise_said = explain_said(promise)
    request.predicted_arrival = promise.predicted_arrival
    request.plan_by = promise.plan_by


def intake_fingerprint(fields: Mapping[str, Any]) -> str:
    """What a request asked for, as a short hash: a retry under the same Idempotency-Key must
    ask for the same (the key's first use is remembered with it)."""
    return hashlib.sha256(
        json.dumps(_jsonable(dict(fields), utc=True), sort_keys=True, default=str).encode()
    ).hexdigest()


def find_retry(
    session: Session,
    *,
    external_ref: str | None,
    idempotency_key: str | None,
    fingerprint: str | None,
) -> RepairRequest | None:
    """The request a retry repeats (same external reference or Idempotency-Key), or None.

    A key used before for a different request is refused, as payment APIs do: the retry would
    otherwise silently answer a request the caller did not make.
    """
    existing = repository.find_existing(
        session, external_ref=external_ref, idempotency_key=idempotency_key
    )
    if existing is None:
        return None
    if (
        idempotency_key is not None
        and existing.idempotency_key == idempotency_key
        and existing.idempotency_fingerprint not in (None, fingerprint)
    ):
        raise InvalidInput(
            "Idempotency-Key",
            f"this key was used for another request ({existing.external_ref}); "
            "use a new key for a new request",
        )
    return existing


@dataclass(frozen=True)
class Draft:
    """A request as the desk gave it, checked, before it is promised."""

    site: Site
    location: Location
    channel: str
    service_minutes: int
    external_ref: str | None
    idempotency_key: str | None
    fingerprint: str | None
    description: str
    problem_type: str | None
    tier: str | None
    skills: list[tuple[Any, int]]
    windows: tuple[tuple[datetime, datetime], ...]
    received_at: datetime
    slot: tuple[datetime, datetime] | None
    parts_volume: int = 0


def draft_request(
    session: Session,
    *,
    now: datetime,
    site_id: int,
    channel: str,
    service_minutes: int = 60,
    external_ref: str | None = None,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    description: str = "",
    problem_type: str | None = None,
    tier: str | None = None,
    skills: Sequence[Mapping[str, Any]] = (),
    availability: Sequence[Mapping[str, Any] | Window] = (),
    received_at: datetime | None = None,
    slot: Mapping[str, datetime] | None = None,
    parts_volume: int = 0,
) -> Draft:
    """Check a new request's facts; a booked slot becomes the customer's availability."""
    try:
        channel = Channel(channel).value
    except ValueError:
        allowed = ", ".join(c.value for c in Channel)
        raise InvalidInput(
            "channel", f"unknown channel {channel!r}; use one of {allowed}"
        ) from None
    _check_service_minutes(service_minutes)
    _check_parts_volume(parts_volume)
    received_at = ensure_utc(received_at, field="received_at") if received_at else now
    check_received_at(received_at, now)
    if tier is not None:
        parse_tier(tier)
    site = _site_or_422(session, site_id)
    resolved = resolve_skills(session, skills, level_key="min_level")
    booked = None
    if slot is not None:
        (booked,) = _windows([slot])
        check_windows([booked], now, field="slot")
        windows: tuple[tuple[datetime, datetime], ...] = (booked,)
    else:
        windows = _windows(availability)
        check_windows(windows, now)
    return Draft(
        site=site,
        location=_site_location(session, site),
        channel=channel,
        service_minutes=service_minutes,
        external_ref=external_ref,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        description=description,
        problem_type=problem_type,
        tier=tier,
        skills=resolved,
        windows=windows,
        received_at=received_at,
        slot=booked,
        parts_volume=parts_volume,
    )


def promise_draft(session: Session, draft: Draft, *, now: datetime) -> tuple[Promise, ActivePolicy]:
    """The SLA promise for a draft under the customer's policy (and that policy)."""
    policy = policy_for(session, draft.location.contract)
    promise = sla_promise(
        session,
        location=draft.location,
        policy=policy,
        tier=draft.tier,
        problem_type=draft.problem_type,
        service_minutes=draft.service_minutes,
        availability=draft.windows,
        received_at=draft.received_at,
        now=now,
    )
    return promise, policy


def persist(
    session: Session,
    draft: Draft,
    promise: Promise,
    policy: ActivePolicy,
    *,
    actor: str,
    now: datetime,
) -> tuple[RepairRequest, bool]:
    """Store the request with its promise and its first timeline events.

    Returns the request and whether it was created: when a concurrent retry stored the same
    reference first, its request is returned instead.
    """
    site = draft.site
    request = RepairRequest(
        external_ref=draft.external_ref or f"REQ-{uuid4().hex[:12].upper()}",
        idempotency_key=draft.idempotency_key,
        idempotency_fingerprint=draft.fingerprint if draft.idempotency_key else None,
        site_id=site.id,
        site=site,  # held: the outbox and the answer read it without loading it again
        channel=draft.channel,
        problem_type=draft.problem_type,
        description=draft.description,
        service_minutes=draft.service_minutes,
        parts_volume=draft.parts_volume,
        availability=[{"start": s.isoformat(), "end": e.isoformat()} for s, e in draft.windows],
        status=RequestStatus.PROMISED.value,
        received_at=draft.received_at,
        service_area_id=site.service_area_id,
        base_area_id=site.base_area_id,
    )
    request.skills = [RequestSkill(skill=s, min_level=level) for s, level in draft.skills]
    _apply_promise(request, promise, policy.id, now)
    try:
        # A savepoint: when a concurrent retry inserted the same reference first, only this
        # insert is undone and the original is answered.
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:
        existing = find_retry(
            session,
            external_ref=draft.external_ref,
            idempotency_key=draft.idempotency_key,
            fingerprint=draft.fingerprint,
        )
        if existing is None:
            raise
        return existing, False
    _event(
        session,
        request,
        "created",
        actor=actor,
        at=draft.received_at,
        payload={"channel": draft.channel, "external_ref": request.external_ref},
    )
    _event(
        session,
        request,
        "promised",
        actor=actor,
        at=now,
        payload=PromiseView.of_promise(promise).payload(),
    )
    session.flush()
    return request, True


def get_request_or_raise(session: Session, request_id: int) -> RepairRequest:
    """The request, or NotFound."""
    request = session.get(RepairRequest, request_id)
    if request is None:
        raise NotFound("repair request", request_id)
    return request


def get_by_external_ref(session: Session, external_ref: str) -> RepairRequest:
    """The request with this external reference, or NotFound."""
    request = repository.by_external_ref(session, external_ref)
    if request is None:
        raise NotFound("repair request", external_ref, field="external_ref")
    return request


def list_requests(
    session: Session, *, limit: int, offset: int, **filters: Any
) -> Page[RepairRequest]:
    """Requests by received time, filtered by status, area, tier, locality, customer, dates."""
    return paginate(session, repository.requests_query(**filters), limit=limit, offset=offset)


def timeline(session: Session, request_id: int) -> list[RequestEvent]:
    """The request's events, oldest first."""
    get_request_or_raise(session, request_id)
    return repository.timeline(session, request_id)


def _open(request: RepairRequest) -> None:
    if RequestStatus(request.status) in FINAL:
        raise Conflict(f"request {request.id} is {request.status} and can no longer change")


def acknowledge(
    session: Session,
    request_id: int,
    *,
    actor: str,
    now: datetime,
    at: datetime | None = None,
    note: str | None = None,
) -> RepairRequest:
    """Record the first response (first effective contact with the customer), once."""
    request = get_request_or_raise(session, request_id)
    _open(request)
    if request.acknowledged_at is not None:
        first = request.acknowledged_at.isoformat()
        raise Conflict(f"request {request_id} was already acknowledged at {first}")
    at = ensure_utc(at, field="at") if at is not None else now
    if at > now:
        raise InvalidInput("at", "the first response cannot be in the future")
    if at < request.received_at:
        raise InvalidInput("at", "the first response cannot be before the request was received")
    request.acknowledged_at = at
    if request.status in (RequestStatus.NEW.value, RequestStatus.PROMISED.value):
        request.status = RequestStatus.ACKNOWLEDGED.value
    _event(
        session, request, "acknowledged", actor=actor, at=at, payload={"note": note} if note else {}
    )
    session.flush()
    return request


def correct_request(
    session: Session,
    request_id: int,
    *,
    changes: Mapping[str, Any],
    expected_version: int | None,
    actor: str,
    now: datetime,
) -> RepairRequest:
    """Correct a request; a new tier, site, skills, duration or availability re-promises it."""
    request = get_request_or_raise(session, request_id)
    _open(request)
    check_version(request, expected_version, "request")
    changes = dict(changes)
    before = {k: _snapshot(request, k) for k in changes}
    if "site_id" in changes:
        site = _site_or_422(session, changes["site_id"])
        request.site_id = site.id
        request.service_area_id = site.service_area_id
        request.base_area_id = site.base_area_id
    if "skills" in changes:
        resolved = resolve_skills(session, changes["skills"] or [], level_key="min_level")
        request.skills = [RequestSkill(skill=s, min_level=level) for s, level in resolved]
    if "service_minutes" in changes:
        _check_service_minutes(changes["service_minutes"])
        request.service_minutes = changes["service_minutes"]
    if "parts_volume" in changes:
        _check_parts_volume(changes["parts_volume"])
        request.parts_volume = changes["parts_volume"]
    if "availability" in changes:
        windows = _windows(changes["availability"] or [])
        check_windows(windows, now)
        request.availability = [{"start": s.isoformat(), "end": e.isoformat()} for s, e in windows]
    if "channel" in changes:
        try:
            request.channel = Channel(changes["channel"]).value
        except ValueError:
            raise InvalidInput("channel", f"unknown channel {changes['channel']!r}") from None
    for key in ("description", "problem_type"):
        if key in changes:
            setattr(request, key, changes[key])
    tier_given = changes.get("tier")
    if "tier" in changes and tier_given is not None:
        parse_tier(tier_given)
    session.flush()
    _event(
        session,
        request,
        "corrected",
        actor=actor,
        at=now,
        payload={"changes": {k: _jsonable(v) for k, v in changes.items()}, "before": before},
    )
    if REPROMISE_ON & set(changes):
        previous = PromiseView.of_request(request).payload()
        site = session.get(Site, request.site_id)
        assert site is not None
        location = _site_location(session, site)
        policy = policy_for(session, location.contract)
        promise = sla_promise(
            session,
            location=location,
            policy=policy,
            tier=tier_given if "tier" in changes else _given_tier(request),
            problem_type=request.problem_type,
            service_minutes=request.service_minutes,
            availability=_future_windows(request, now),
            received_at=request.received_at,
            now=now,
        )
        _apply_promise(request, promise, policy.id, now)
        _event(
            session,
            request,
            "re_promised",
            actor=actor,
            at=now,
            payload={"promise": PromiseView.of_promise(promise).payload(), "previous": previous},
        )
    request.updated_at = now
    session.flush()
    return request


RETURN_HORIZON = timedelta(days=30)


def return_promise(
    session: Session, request: RepairRequest, *, ready_at: datetime, now: datetime
) -> tuple[Promise, ActivePolicy, tuple[tuple[datetime, datetime], ...]]:
    """The promise of a return visit that can be made from ``ready_at``: the request's own
    SLA rule counted from then, inside the customer's availability after it; and the windows
    the visit may take."""
    site = session.get(Site, request.site_id)
    assert site is not None
    after = [(max(s, ready_at), e) for s, e in _future_windows(request, now) if e > ready_at]
    windows = tuple(after) or ((ready_at, ready_at + RETURN_HORIZON),)
    location = _site_location(session, site)
    # The same rule as the first visit: the policy version the request was promised under.
    policy = (
        policy_by_id(session, request.sla_policy_id)
        if request.sla_policy_id is not None
        else policy_for(session, location.contract)
    )
    promise = sla_promise(
        session,
        location=location,
        policy=policy,
        tier=request.tier,
        problem_type=request.problem_type,
        service_minutes=request.service_minutes,
        availability=windows,
        received_at=ready_at,
        now=now,
    )
    return promise, policy, windows


def apply_return_promise(
    session: Session,
    request: RepairRequest,
    promise: Promise,
    policy: ActivePolicy,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """Give the request its return visit's window and arrival target; the first response and
    the resolution clock stay as they were (the resolution clock runs across both visits)."""
    previous = PromiseView.of_request(request).payload()
    kept = (request.first_response_due, request.resolution_due, request.tier_reason)
    _apply_promise(request, promise, policy.id, now)
    request.first_response_due, request.resolution_due, request.tier_reason = kept
    _event(
        session,
        request,
        "re_promised",
        actor=actor,
        at=now,
        payload={
            "promise": PromiseView.of_promise(promise).payload(),
            "previous": previous,
            "reason": f"return visit: {reason}",
        },
    )
    session.flush()


def _given_tier(request: RepairRequest) -> str | None:
    # Keep a tier the desk set; a derived one is derived again from the corrected facts.
    from dispatch.promise import TIER_GIVEN_REASON

    return request.tier if request.tier_reason == TIER_GIVEN_REASON else None


def _future_windows(request: RepairRequest, now: datetime) -> tuple[tuple[datetime, datetime], ...]:
    windows = _windows(request.availability)
    return tuple(w for w in windows if w[1] > now)


def _snapshot(request: RepairRequest, key: str) -> Any:
    if key == "skills":
        return [{"skill": s.skill.code, "min_level": s.min_level} for s in request.skills]
    return _jsonable(getattr(request, key, None))


def _jsonable(value: Any, *, utc: bool = False) -> Any:
    """``value`` as JSON-able data; instants as ISO text (in UTC with ``utc``)."""
    if isinstance(value, Window):
        value = {"start": value.start, "end": value.end}
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if utc and value.tzinfo else value).isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v, utc=utc) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v, utc=utc) for k, v in value.items()}
    return value


def close_cancelled(
    session: Session,
    request_id: int,
    *,
    reason: str,
    by: str = "customer",
    actor: str,
    now: datetime,
) -> RepairRequest:
    """Close a request as cancelled, with a reason and who cancelled (the customer, or us: a
    broken promise), and cancel its visit. Callers go through ``intake.cancel``, which also
    closes the gap the visit leaves in the engineer's day."""
    request = get_request_or_raise(session, request_id)
    _open(request)
    if not reason.strip():
        raise InvalidInput("reason", "say why the request is cancelled")
    if by not in ("customer", "us"):
        raise InvalidInput("by", "a request is cancelled by the customer or by us")
    end_pause(session, request, actor=actor, now=now)
    request.status = RequestStatus.CANCELLED.value
    request.closed_at = now
    request.close_reason = reason.strip()
    request.cancelled_by = by
    request.predicted_arrival = None
    for visit in session.scalars(
        select(Visit).where(
            Visit.request_id == request_id,
            Visit.status.not_in(
                (
                    VisitStatus.COMPLETED.value,
                    VisitStatus.CANNOT_COMPLETE.value,
                    VisitStatus.CANCELLED.value,
                )
            ),
        )
    ):
        visit.status = VisitStatus.CANCELLED.value
    _event(
        session,
        request,
        "cancelled",
        actor=actor,
        at=now,
        payload={"reason": reason.strip(), "by": by},
    )
    session.flush()
    return request


def policy_of(session: Session, request: RepairRequest) -> ActivePolicy | None:
    """The policy version the request was promised under."""
    return policy_by_id(session, request.sla_policy_id) if request.sla_policy_id else None


def clock_calendar(session: Session, request: RepairRequest) -> BusinessCalendar | None:
    """The calendar the request's SLA clocks run on: its base area's business hours, or None
    when its rule runs round the clock."""
    policy = policy_of(session, request)
    if policy is None or request.base_area_id is None:
        return None
    rule = next((r for r in policy.policy.rules if r.key == request.rule_key), None)
    if rule is None or rule.clock is Clock.H24:
        return None
    area = session.get(ServiceArea, request.base_area_id)
    return calendar_for(area) if area is not None else None


def pause_clock(
    session: Session, request_id: int, *, reason: str, actor: str, now: datetime
) -> RepairRequest:
    """Waiting for the customer (away, parts of theirs, a decision): the resolution clock
    stands still until :func:`resume_clock`."""
    request = get_request_or_raise(session, request_id)
    _open(request)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason", "say what the request is waiting for")
    if request.paused_at is not None:
        since = request.paused_at.isoformat()
        raise Conflict(f"request {request_id}'s clock is already paused (since {since})")
    if request.resolution_due is None:
        raise Conflict(f"request {request_id} has no resolution clock to pause")
    request.paused_at = now
    request.paused_reason = reason
    _event(session, request, "clock_paused", actor=actor, at=now, payload={"reason": reason})
    session.flush()
    return request


def resume_clock(session: Session, request_id: int, *, actor: str, now: datetime) -> RepairRequest:
    """The customer is back: the resolution clock runs again, its due time moved on by the
    time it stood (business time on a business-hours clock)."""
    request = get_request_or_raise(session, request_id)
    if request.paused_at is None:
        raise Conflict(f"request {request_id}'s clock is not paused")
    end_pause(session, request, actor=actor, now=now)
    session.flush()
    return request


def end_pause(session: Session, request: RepairRequest, *, actor: str, now: datetime) -> None:
    """Run a paused resolution clock again from ``now`` (resuming, or the engineer at the door,
    or the request closing); nothing when it is not paused."""
    paused_at = request.paused_at
    if paused_at is None or request.resolution_due is None:
        return
    now = max(now, paused_at)
    before = request.resolution_due
    calendar = clock_calendar(session, request)
    if paused_at >= before:
        after = before  # paused after its due: the breach stands, nothing moves
    elif calendar is not None:
        stood = calendar.business_time_between(paused_at, now)
        after = calendar.add_business_minutes(before, math.ceil(stood.total_seconds() / 60))
    else:
        after = before + (now - paused_at)
    request.resolution_due = after
    request.paused_s = (request.paused_s or 0) + int((now - paused_at).total_seconds())
    request.paused_at = None
    request.paused_reason = None
    _event(
        session,
        request,
        "clock_resumed",
        actor=actor,
        at=now,
        payload={"paused_s": int((now - paused_at).total_seconds()), "resolution_due": iso(after)},
    )
