"""Errors to HTTP, always in FastAPI's own ``{"detail": [{"loc", "msg", "type"}]}`` shape.

``loc`` starts with where the value came from (``path``, ``query``, ``header`` or ``body``),
then the field. Validation errors never echo the input back: it may be huge, or hold values
(NaN, lone surrogates) that JSON cannot carry.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dispatch.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
)

log = logging.getLogger("onsite.api")

STATUS_OF: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (InvalidInput, 422),
    (PermissionDenied, 403),
    (Unavailable, 503),
)
HTTP_TYPES = {
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    429: "too_many_requests",
}


def error_body(loc: Sequence[str | int], msg: str, type_: str) -> dict[str, Any]:
    """The one error shape."""
    return {"detail": [{"loc": list(loc), "msg": msg, "type": type_}]}


def source_of(request: Request, field: str | int) -> str:
    """Where a field the domain named came from: the path, the query string, a header or the
    body."""
    name = str(field)
    if name in request.path_params:
        return "path"
    if name in request.query_params:
        return "query"
    if "-" in name and name[:1].isupper():
        return "header"
    return "body"


def _domain_loc(request: Request, exc: DomainError) -> list[str | int]:
    loc: tuple[str | int, ...] = getattr(exc, "loc", ())
    if loc:
        return [source_of(request, loc[0]), *loc]
    if isinstance(exc, NotFound):
        # An object named by the URL: point at the path parameter that named it.
        for name, value in request.path_params.items():
            if str(value) == str(exc.key):
                return ["path", name]
    return []


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), 400)
    return JSONResponse(
        status_code=status, content=error_body(_domain_loc(request, exc), exc.message, exc.type)
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": [p for p in e.get("loc", ()) if isinstance(p, str | int)],
            "msg": e["msg"],
            "type": e.get("type", "invalid"),
        }
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot even decode (not UTF-8): invalid input, said as
        # every other invalid input is.
        return JSONResponse(
            status_code=422,
            content=error_body(["body"], "the body is not valid JSON (UTF-8)", "json_invalid"),
        )
    loc: list[str | int] = ["header", "Authorization"] if exc.status_code == 401 else []
    return JSONResponse(
        status_code=exc.status_code,
        content=error_body(loc, str(exc.detail), HTTP_TYPES.get(exc.status_code, "http_error")),
        headers=exc.headers,
    )


async def _value_error(request: Request, exc: Exception) -> JSONResponse:
    # geo/ raises ValueError subclasses that name the input field: the caller's input, so 422.
    # Any other ValueError is our bug and must not pass for the caller's mistake.
    field = getattr(exc, "field", None)
    if field is None:
        return await _internal_error(request, exc)
    loc: tuple[str | int, ...] = ()
    if isinstance(field, str):
        loc = tuple(p for p in field.split(".") if p)
    elif isinstance(field, tuple | list):
        loc = tuple(field)
    msg = getattr(exc, "message", None) or str(exc)
    where = [source_of(request, loc[0]), *loc] if loc else []
    return JSONResponse(status_code=422, content=error_body(where, msg, "invalid_input"))


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content=error_body([], "internal error", "internal"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on ``app``."""
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(ResponseValidationError, _internal_error)
    app.add_exception_handler(Exception, _internal_error)
