"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dispatch.db import database_status

router = APIRouter(tags=["health"])


class DatabaseHealth(BaseModel):
    reachable: bool
    revision: str | None
    head: str | None
    up_to_date: bool
    error: str | None = None


class Health(BaseModel):
    status: str
    database: DatabaseHealth


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "not ready: see the database part"}},
)
def healthz(request: Request) -> JSONResponse:
    """Database reachability and migration revision; 503 when not ready to serve."""
    db = database_status(request.app.state.engine)
    ok = db["reachable"] and db["up_to_date"]
    return JSONResponse(
        status_code=200 if ok else 503,
        content={"status": "ok" if ok else "unavailable", "database": db},
    )
