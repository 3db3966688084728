"""Customers and sites over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from api.schemas.common import (
    Id,
    InputModel,
    Latitude,
    Longitude,
    Name,
    OutputModel,
    UpdateModel,
    Version,
)

Contract = Annotated[str, Field(min_length=1, max_length=120, pattern=r"\S")]
VipTier = Annotated[str, Field(pattern="^(none|silver|gold|platinum)$")]
Language = Annotated[
    str,
    Field(pattern="^(zh-CN|en)$", description="the language messages to the customer are in"),
]


class CustomerCreate(InputModel):
    name: Name
    vip_tier: VipTier = "none"
    contact_name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    language: Language | None = None
    sla_contract: Contract | None = Field(
        default=None,
        description="the SLA contract their requests are promised under (a contract policy's "
        "name); omit for the active policy",
    )


class CustomerUpdate(UpdateModel):
    nullable = frozenset({"version", "contact_name", "phone", "email", "language", "sla_contract"})

    name: Name | None = None
    vip_tier: VipTier | None = None
    contact_name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    language: Language | None = None
    sla_contract: Contract | None = Field(default=None, description="null: the active policy")
    version: Version | None = None


class CustomerRead(OutputModel):
    id: int
    name: str
    vip_tier: str
    contact_name: str | None
    phone: str | None
    email: str | None
    language: str | None
    sla_contract: str | None
    version: int
    created_at: dt.datetime


class SiteCreate(InputModel):
    customer_id: Id
    name: Name
    address: Annotated[str, Field(min_length=1, max_length=400)]
    lat: Latitude | None = Field(default=None, description="omit both to geocode the address")
    lon: Longitude | None = None
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=40)


class SiteUpdate(UpdateModel):
    nullable = frozenset({"version", "contact_name", "contact_phone"})

    name: Name | None = None
    address: Annotated[str, Field(min_length=1, max_length=400)] | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None
    contact_name: str | None = Field(default=None, max_length=120)
    contact_phone: str | None = Field(default=None, max_length=40)
    version: Version | None = None


class SiteRead(OutputModel):
    id: int
    customer_id: int
    name: str
    address: str
    lat: float
    lon: float
    contact_name: str | None
    contact_phone: str | None
    service_area_id: int | None
    locality: str
    base_area_id: int | None
    travel_from_base_s: int | None
    version: int
    created_at: dt.datetime
