"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from dispatch.db import database_status

router = APIRouter(tags=["health"])


class DatabaseHealth(BaseModel):
    reachable: bool
    revision: str | None
    head: str | None
    up_to_date: bool
    error: str | None = None


class BrokerHealth(BaseModel):
    configured: bool
    reachable: bool
    error: str | None = None


class Health(BaseModel):
    status: str = Field(
        description="ok; degraded (serving, but runs wait: the broker is away); unavailable"
    )
    database: DatabaseHealth
    broker: BrokerHealth | None = Field(
        default=None, description="the cluster's broker; absent in the embedded default"
    )


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "not ready: see the database part"}},
)
def healthz(request: Request) -> JSONResponse:
    """Database reachability and migration revision, and the broker's in a cluster; 503 when
    not ready to serve. A broker that is away leaves the API serving (runs are stored and
    handed over when it is back): the status is then "degraded"."""
    db = database_status(request.app.state.engine)
    ok = db["reachable"] and db["up_to_date"]
    content: dict[str, object] = {"status": "ok" if ok else "unavailable", "database": db}
    broker_status = getattr(request.app.state.runner, "broker_status", None)
    if broker_status is not None:
        broker = broker_status()
        content["broker"] = broker
        if ok and not broker["reachable"]:
            content["status"] = "degraded"
    return JSONResponse(status_code=200 if ok else 503, content=content)
