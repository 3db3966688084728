"""All ORM tables. Import from here so Alembic and the app see the same metadata."""

from dispatch.models.areas import ServiceArea
from dispatch.models.auth import ApiKey
from dispatch.models.base import Base
from dispatch.models.customers import Customer, Site
from dispatch.models.engineers import Engineer, EngineerSkill, Shift, ShiftException, Skill
from dispatch.models.notify import Alert, OutboxEvent, WebhookDelivery, WebhookSubscription
from dispatch.models.planning import DispatchRun, LocationPing, PlanScope, Visit, VisitEvent
from dispatch.models.requests import RepairRequest, RequestEvent, RequestSkill
from dispatch.models.sla import SlaPolicy

__all__ = [
    "Alert",
    "ApiKey",
    "Base",
    "Customer",
    "DispatchRun",
    "Engineer",
    "EngineerSkill",
    "LocationPing",
    "OutboxEvent",
    "PlanScope",
    "RepairRequest",
    "RequestEvent",
    "RequestSkill",
    "ServiceArea",
    "Shift",
    "ShiftException",
    "Site",
    "Skill",
    "SlaPolicy",
    "Visit",
    "VisitEvent",
    "WebhookDelivery",
    "WebhookSubscription",
]
