"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dispatch.db import database_status

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """Database reachability and migration revision; 503 when not ready to serve."""
    db = database_status(request.app.state.engine)
    ok = db["reachable"] and db["up_to_date"]
    return JSONResponse(
        status_code=200 if ok else 503,
        content={"status": "ok" if ok else "unavailable", "database": db},
    )
