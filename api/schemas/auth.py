"""API keys over HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from api.schemas.common import Id, InputModel, OutputModel


class ApiKeyCreate(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    role: Annotated[str, Field(pattern="^(admin|dispatcher|service_desk|engineer)$")]
    engineer_id: Id | None = None


class ApiKeyRead(OutputModel):
    id: int
    name: str
    prefix: str
    role: str
    engineer_id: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class ApiKeyIssued(OutputModel):
    id: int
    name: str
    role: str
    engineer_id: int | None
    key: str = Field(description="shown once; only a hash is stored")


class WhoAmI(OutputModel):
    name: str
    role: str
    engineer_id: int | None
    now: dt.datetime
