"""Repair requests, promises and SLA policies over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from api.i18n import LOCALE, explain_in
from api.schemas.common import (
    ErrorItem,
    Id,
    InputModel,
    Instant,
    Latitude,
    Longitude,
    OutputModel,
    UpdateModel,
    Version,
)
from dispatch.requests.service import PromiseView

Tier = Literal["urgent", "important", "general"]
PartsVolume = Annotated[
    int,
    Field(
        ge=0,
        le=1_000_000,
        description="what the engineer must carry, in the unit of the engineers' van capacity "
        "(0: nothing that counts)",
    ),
]
Channel = Literal["phone", "online", "email", "app", "on_site"]
SkillCode = Annotated[str, Field(min_length=1, max_length=64)]


class RequiredSkill(InputModel):
    skill: SkillCode
    min_level: Annotated[int, Field(ge=1, le=5)] = 1


class AvailabilityWindow(InputModel):
    start: Instant
    end: Instant

    @model_validator(mode="after")
    def _ordered(self) -> AvailabilityWindow:
        if self.end <= self.start:
            raise ValueError("a window must end after it starts")
        return self


Skills = Annotated[list[RequiredSkill], Field(max_length=20)]
Windows = Annotated[list[AvailabilityWindow], Field(max_length=50)]
Minutes = Annotated[int, Field(gt=0, le=366 * 24 * 60)]
Seconds = Annotated[int, Field(gt=0, le=7 * 24 * 3600)]


class Location(InputModel):
    lat: Latitude
    lon: Longitude


class QuoteCreate(InputModel):
    site_id: Id | None = Field(default=None, description="a known site, or give location")
    location: Location | None = None
    customer_id: Id | None = Field(default=None, description="for the VIP tier, with location")
    tier: Tier | None = Field(default=None, description="omit to derive from problem type and VIP")
    problem_type: Annotated[str, Field(max_length=64)] | None = None
    skills: Skills = []
    service_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    parts_volume: PartsVolume = 0
    availability: Windows = []

    @model_validator(mode="after")
    def _where(self) -> QuoteCreate:
        if self.site_id is None and self.location is None:
            raise ValueError("give site_id or location")
        return self


class RequestCreate(InputModel):
    external_ref: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="your case number; repeating it returns the original request"
    )
    site_id: Id
    channel: Channel
    description: Annotated[str, Field(max_length=5000)] = ""
    problem_type: Annotated[str, Field(max_length=64)] | None = None
    tier: Tier | None = None
    skills: Skills = []
    service_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    parts_volume: PartsVolume = 0
    availability: Windows = []
    received_at: Instant | None = Field(
        default=None, description="when the customer asked, if earlier than now (e.g. an email)"
    )
    slot: AvailabilityWindow | None = Field(
        default=None, description="book an offered slot (POST /v1/promises/slots) as the window"
    )

    def intake_fields(self) -> dict[str, Any]:
        """What ``dispatch.requests.intake.take_request`` takes, from this body."""
        data = self.model_dump(exclude={"skills", "availability", "slot", "idempotency_key"})
        return {
            **data,
            "skills": [s.model_dump() for s in self.skills],
            "availability": [w.model_dump() for w in self.availability],
            "slot": self.slot.model_dump() if self.slot else None,
        }


class SlotQuery(InputModel):
    site_id: Id
    tier: Tier | None = None
    problem_type: Annotated[str, Field(max_length=64)] | None = None
    skills: Skills = []
    service_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    parts_volume: PartsVolume = 0
    slot_minutes: Annotated[int, Field(ge=30, le=480)] = 120
    limit: Annotated[int, Field(ge=1, le=50)] = 5


class SlotRead(OutputModel):
    start: dt.datetime
    end: dt.datetime
    eta: dt.datetime
    within_sla: bool
    minutes_after_sla: int
    cost: int
    engineers_able: int


class CapacityRead(OutputModel):
    """What the published plan allows: the predicted arrival and who would come."""

    eta: dt.datetime | None
    engineer: str | None = Field(description="first name of the engineer who would come")
    date: dt.date | None
    within_sla: bool
    reason: str | None
    message: str | None
    options: int = Field(description="how many engineer-days could take it")
    overnight: bool = Field(
        default=False,
        description="the arrival is on an out-of-town trip: the engineer stays a night near "
        "the site (no day from home and back can meet the SLA)",
    )


class RequestUpdate(UpdateModel):
    nullable = frozenset({"version", "problem_type", "tier"})

    site_id: Id | None = None
    channel: Channel | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    problem_type: Annotated[str, Field(max_length=64)] | None = None
    tier: Tier | None = None
    skills: Skills | None = None
    service_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    parts_volume: PartsVolume | None = None
    availability: Windows | None = None
    version: Version | None = None


class Acknowledge(InputModel):
    at: Instant | None = Field(default=None, description="when contact was made; now if omitted")
    note: Annotated[str, Field(max_length=500)] | None = None


class PauseClock(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=300, pattern=r"\S")] = Field(
        description="what the request waits for (the customer away, their decision, their part)"
    )


class Cancel(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
    by: Literal["customer", "us"] = Field(
        default="customer", description="who cancelled: ours count as broken promises"
    )


class RequestSkillRead(OutputModel):
    skill: str
    min_level: int


class PromiseRead(OutputModel):
    """A promise: the SLA deadlines and the arrival window the customer is told."""

    tier: str | None
    tier_reason: str | None
    locality: str | None
    policy_version: int | None
    rule: str | None
    promised_at: dt.datetime | None
    first_response_due: dt.datetime | None
    arrival_due: dt.datetime | None
    resolution_due: dt.datetime | None
    window_start: dt.datetime | None
    window_end: dt.datetime | None
    customer_chosen: bool
    arrival_target: dt.datetime | None
    at_risk: bool
    risk_reason: str | None
    predicted_arrival: dt.datetime | None
    explanation: str | None

    @classmethod
    def of(cls, view: PromiseView) -> Any:
        """The schema of a promise view (a quote's context included when it is a quote), its
        explanation in the caller's language."""
        read = cls.model_validate(view.fields())
        said = explain_in(view.said, LOCALE.get())
        if said:
            read.explanation = said
        return read


class RequestRead(OutputModel):
    id: int
    external_ref: str
    site_id: int
    customer_id: int
    channel: str
    problem_type: str | None
    description: str
    service_minutes: int
    parts_volume: int
    tier: str | None
    tier_reason: str | None
    skills: list[RequestSkillRead]
    availability: list[dict[str, str]]
    status: str
    received_at: dt.datetime
    service_area_id: int | None
    base_area_id: int | None
    acknowledged_at: dt.datetime | None
    closed_at: dt.datetime | None
    close_reason: str | None
    cancelled_by: str | None = None
    promise: PromiseRead
    paused_since: dt.datetime | None = Field(
        default=None, description="waiting for the customer since then: the resolution clock stands"
    )
    paused_reason: str | None = None
    sla_policy_id: int | None = Field(
        default=None,
        description="the SLA policy version the promise was made under (the customer's "
        "contract, or the active policy): GET /v1/sla-policies/{id}",
    )
    version: int
    capacity: CapacityRead | None = None
    inserted: bool = Field(
        default=False, description="already booked into the route capacity found for it"
    )
    replan_run_id: int | None = None

    @classmethod
    def of(cls, r: Any) -> RequestRead:
        return cls(
            id=r.id,
            external_ref=r.external_ref,
            site_id=r.site_id,
            customer_id=r.site.customer_id,
            channel=r.channel,
            problem_type=r.problem_type,
            description=r.description,
            service_minutes=r.service_minutes,
            parts_volume=r.parts_volume or 0,
            tier=r.tier,
            tier_reason=r.tier_reason,
            skills=[RequestSkillRead(skill=s.skill.code, min_level=s.min_level) for s in r.skills],
            availability=r.availability,
            status=r.status,
            received_at=r.received_at,
            service_area_id=r.service_area_id,
            base_area_id=r.base_area_id,
            acknowledged_at=r.acknowledged_at,
            closed_at=r.closed_at,
            close_reason=r.close_reason,
            cancelled_by=r.cancelled_by,
            promise=PromiseRead.of(PromiseView.of_request(r)),
            paused_since=r.paused_at,
            paused_reason=r.paused_reason,
            sla_policy_id=r.sla_policy_id,
            version=r.version,
        )


class QuoteRead(PromiseRead):
    """The promise a request would get now: with where it is served from, the rule's clock,
    and what capacity allows."""

    area: str
    base: str
    travel_from_base_s: int
    policy: str
    clock: str
    capacity: CapacityRead | None = None


class EventRead(OutputModel):
    id: int
    type: str
    at: dt.datetime
    actor: str
    payload: dict[str, Any]


class SlaRuleIn(InputModel):
    tier: Tier
    locality: Literal["same_city", "out_of_town"]
    max_travel_s: Seconds | None = Field(
        default=None, description="out-of-town band: up to this travel time from the base"
    )
    first_response_min: Minutes
    arrival_min: Minutes
    resolution_min: Minutes
    clock: Literal["24x7", "business_hours"]


class WindowRule(InputModel):
    """How the customer's arrival window is made."""

    mode: Literal["fixed", "calibrated"] = Field(
        default="fixed",
        description="fixed: window_minutes around the predicted arrival; calibrated: the "
        "narrowest window that holds the arrival with probability `target`",
    )
    target: Annotated[float, Field(ge=0.5, le=0.999)] = 0.95
    slot_minutes: Annotated[int, Field(gt=0, le=240)] = 30
    max_minutes: Annotated[int, Field(gt=0, le=24 * 60)] = 240


class TripRule(InputModel):
    """When engineers may be sent on out-of-town trips with nights away."""

    max_days: Annotated[int, Field(ge=1, le=7)] = Field(
        default=3,
        description="the longest trip in working days, the journey home included (1: no trips)",
    )
    overnight_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = Field(
        default=240,
        description="what a night away costs the plan, in minutes of driving it must save",
    )


class SlaPolicyCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)] = "default"
    rules: Annotated[list[SlaRuleIn], Field(min_length=1, max_length=100)]
    max_service_travel_s: Seconds | None = None
    window_minutes: Annotated[int, Field(gt=0, le=24 * 60)] = 120
    window: WindowRule = WindowRule()
    min_lead_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 30
    urgent_overtime_minutes: Annotated[int, Field(ge=0, le=12 * 60)] = Field(
        default=120,
        description="how far past the end of their shift an engineer sent to an urgent visit "
        "may work",
    )
    trips: TripRule = TripRule()
    priority_rules: dict[str, Any] | None = Field(
        default=None, description="omit to keep the active policy's priority rules"
    )
    note: Annotated[str, Field(max_length=500)] | None = None
    contract: bool = Field(
        default=False,
        description="a contract's policy (platinum, say): it applies to the customers whose "
        "sla_contract is its name, and the active policy stays as it is",
    )


class SlaPolicyRead(OutputModel):
    id: int
    name: str
    version: int
    active: bool
    contract: bool
    rules: dict[str, Any]
    priority_rules: dict[str, Any]
    note: str | None
    created_by: str | None
    created_at: dt.datetime


class BatchItemCreate(RequestCreate):
    """One request of a batch: what ``POST /v1/requests`` takes, with its own idempotency key."""

    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="as the Idempotency-Key header of a single request"
    )


class BatchCreate(InputModel):
    requests: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=1000)] = Field(
        description="up to 1,000 requests, each as `POST /v1/requests` takes it (plus "
        "`idempotency_key`); each is checked and taken on its own"
    )
    dry_run: bool = Field(
        default=False, description="check and promise every request, store none of them"
    )


class BatchResultRead(OutputModel):
    index: int = Field(description="position of the request in the batch, from 0")
    status: Literal["created", "existing", "would_create", "refused"]
    request: RequestRead | None = Field(
        description="the request and its promise (for `would_create`: as it would be)"
    )
    errors: list[ErrorItem] = Field(
        description="why it was refused; `loc` starts with requests and the index"
    )
    error_status: int | None = Field(description="the HTTP status it would have had alone")


class BatchRead(OutputModel):
    dry_run: bool
    created: int
    existing: int
    would_create: int
    refused: int
    results: list[BatchResultRead]
