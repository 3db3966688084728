"""The trade's fixed vocabularies, stored as strings."""

from __future__ import annotations

from enum import StrEnum

# Tiers and localities belong to the promise engine; one definition serves both layers.
from dispatch.promise.policy import Locality, Tier

__all__ = [
    "Channel",
    "Locality",
    "LockKind",
    "RequestStatus",
    "Role",
    "RunStatus",
    "ShiftExceptionKind",
    "ShiftSource",
    "Tier",
    "VipTier",
    "VisitStatus",
]


class Role(StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    SERVICE_DESK = "service_desk"
    ENGINEER = "engineer"


class VipTier(StrEnum):
    NONE = "none"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class Channel(StrEnum):
    PHONE = "phone"
    ONLINE = "online"
    EMAIL = "email"
    APP = "app"
    ON_SITE = "on_site"


class RequestStatus(StrEnum):
    NEW = "new"
    PROMISED = "promised"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CANNOT_COMPLETE = "cannot_complete"
    CANCELLED = "cancelled"


class VisitStatus(StrEnum):
    PLANNED = "planned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CANNOT_COMPLETE = "cannot_complete"
    CANCELLED = "cancelled"


class LockKind(StrEnum):
    NONE = "none"
    ENGINEER = "engineer"
    TIME = "time"
    BOTH = "both"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ShiftExceptionKind(StrEnum):
    LEAVE = "leave"
    OVERTIME = "overtime"
    CHANGED = "changed"


class ShiftSource(StrEnum):
    TEMPLATE = "template"
    EXCEPTION = "exception"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
