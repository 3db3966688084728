"""Domain errors to HTTP, in FastAPI's own ``{"detail": [{"loc", "msg", "type"}]}`` shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from dispatch.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
)

log = logging.getLogger("onsite.api")


def _body(loc: tuple[str | int, ...], msg: str, type_: str, where: str = "body") -> dict:
    return {"detail": [{"loc": [where, *loc], "msg": msg, "type": type_}]}


def _location(exc: DomainError) -> tuple[str | int, ...]:
    return getattr(exc, "loc", ())


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = 400
    if isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, Conflict):
        status = 409
    elif isinstance(exc, InvalidInput):
        status = 422
    elif isinstance(exc, PermissionDenied):
        status = 403
    elif isinstance(exc, Unavailable):
        status = 503
    return JSONResponse(status_code=status, content=_body(_location(exc), exc.message, exc.type))


async def _value_error(request: Request, exc: Exception) -> JSONResponse:
    # geo/ raises ValueError subclasses that name the input field: the caller's input, so 422.
    # Any other ValueError is our bug and must not pass for the caller's mistake.
    field = getattr(exc, "field", None)
    if field is None:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            status_code=500,
            content={"detail": [{"loc": [], "msg": "internal error", "type": "internal"}]},
        )
    loc: tuple[str | int, ...] = ()
    if isinstance(field, str):
        loc = tuple(p for p in field.split(".") if p)
    elif isinstance(field, tuple | list):
        loc = tuple(field)
    msg = getattr(exc, "message", None) or str(exc)
    return JSONResponse(status_code=422, content=_body(loc, msg, "invalid_input"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on ``app``."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ValueError, _value_error)
