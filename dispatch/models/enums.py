"""The trade's fixed vocabularies, stored as strings."""

from __future__ import annotations

from enum import StrEnum


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


class Tier(StrEnum):
    URGENT = "urgent"
    IMPORTANT = "important"
    GENERAL = "general"


class Locality(StrEnum):
    SAME_CITY = "same_city"
    OUT_OF_TOWN = "out_of_town"


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
