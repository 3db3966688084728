"""Request-scoped dependencies: settings, the session (one unit of work), the caller."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.schemas.common import MAX_OFFSET, bad_text
from api.security import AuthFailureLimit, client_of
from dispatch.auth.principal import Principal
from dispatch.auth.service import authenticate
from dispatch.clock import Clock
from dispatch.db import Session, translate_db_error
from dispatch.errors import NotFound, PermissionDenied
from dispatch.geo_support import GeoContext
from dispatch.models.enums import Role
from dispatch.planning.capacity import CapacityIndex
from dispatch.planning.runner import JobRunner
from dispatch.requests.intake import IntakeSettings
from dispatch.settings import Settings

_bearer = HTTPBearer(
    auto_error=False, description="An Onsite API key: `Authorization: Bearer osk_...`"
)


# The dependencies that only read the app's state are coroutines: FastAPI runs a plain
# function in its thread pool, and a dozen hops to a thread and back cost a new request about
# 4 ms of CPU (of 38). Those that wait (the session, the API key's lookup, the intake turn)
# stay plain functions, off the event loop.


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the handler succeeds, rolled back otherwise.

    It runs with ``scope="function"`` (see ``SessionDep``): the commit happens before the response
    is sent, so a 2xx is only ever sent for a write that is durable, and a failed commit becomes
    an error response instead of an acknowledged write that was lost.
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except Exception as exc:
        session.rollback()
        translated = translate_db_error(exc)
        if translated is exc:
            raise
        raise translated from exc
    finally:
        session.close()


def get_intake_turn(request: Request) -> Iterator[None]:
    """A new request's turn in this process (``intake_concurrency`` at once), held until its
    transaction has committed: declared before the session, it is left after the session's
    commit (both ``scope="function"``)."""
    gate: threading.Semaphore = request.app.state.intake_gate
    gate.acquire()
    try:
        yield
    finally:
        gate.release()


async def get_geo(request: Request) -> GeoContext:
    return request.app.state.geo


async def get_clock(request: Request) -> Clock:
    return request.app.state.clock


async def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


async def get_capacity(request: Request) -> CapacityIndex:
    return request.app.state.capacity


async def get_intake_settings(request: Request) -> IntakeSettings:
    settings: Settings = request.app.state.settings
    return IntakeSettings(
        replan_on_urgent=settings.replan_on_urgent,
        assign_on_intake=settings.assign_on_intake,
        replan_time_limit_s=settings.replan_time_limit_s,
    )


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
CapacityDep = Annotated[CapacityIndex, Depends(get_capacity)]
IntakeDep = Annotated[IntakeSettings, Depends(get_intake_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
GeoDep = Annotated[GeoContext, Depends(get_geo)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
IntakeTurn = Annotated[None, Depends(get_intake_turn, scope="function")]


async def get_auth_limit(request: Request) -> AuthFailureLimit:
    return request.app.state.auth_limit


def get_current_user(
    request: Request,
    session: SessionDep,
    limit: Annotated[AuthFailureLimit, Depends(get_auth_limit)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer key; 401 without a valid one, 429 after too many failures
    from the same client (so keys cannot be guessed at speed)."""
    client = client_of(request.scope)
    wait = limit.retry_after(client)
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=f"too many failed authentications from this client; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    if credentials is None or credentials.scheme.lower() != "bearer":
        limit.failed(client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="an API key is required: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        limit.failed(client)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


class Roles:
    """A route's declared roles, as the dependency that lets only them in.

    Admins may do everything unless ``admin`` is False (the engineer's app is for engineer keys
    only). ``own_engineer`` names a path parameter holding an engineer id: an engineer key may
    then reach its own engineer's data, and another engineer's is answered as not found (keys
    cannot probe which ids exist).
    """

    def __init__(self, *roles: Role, admin: bool = True, own_engineer: str | None = None) -> None:
        self.roles = frozenset(roles)
        self.admin = admin
        self.own_engineer = own_engineer

    def allows(self, role: Role) -> bool:
        """Whether ``role`` passes (for an engineer key: on its own data)."""
        if role is Role.ADMIN:
            return self.admin
        return role in self.roles or (role is Role.ENGINEER and self.own_engineer is not None)

    async def __call__(self, request: Request, user: CurrentUser) -> Principal:
        if user.role is Role.ENGINEER and self.own_engineer is not None:
            value = request.path_params.get(self.own_engineer)
            if value is not None and str(user.engineer_id) != str(value):
                raise NotFound("engineer", value)
            return user
        if self.allows(user.role):
            return user
        allowed = sorted(r.value for r in Role if self.allows(r))
        raise PermissionDenied(
            f"role {user.role.value} may not do this (allowed: {', '.join(allowed)})"
        )

    def __repr__(self) -> str:
        return f"Roles({', '.join(sorted(r.value for r in Role if self.allows(r)))})"


AdminUser = Annotated[Principal, Depends(Roles())]
DispatcherUser = Annotated[Principal, Depends(Roles(Role.DISPATCHER))]
StaffUser = Annotated[Principal, Depends(Roles(Role.DISPATCHER, Role.SERVICE_DESK))]
StaffOrEngineer = Annotated[
    Principal, Depends(Roles(Role.DISPATCHER, Role.SERVICE_DESK, Role.ENGINEER))
]
StaffOrOwnEngineer = Annotated[
    Principal, Depends(Roles(Role.DISPATCHER, Role.SERVICE_DESK, own_engineer="engineer_id"))
]
EngineerUser = Annotated[Principal, Depends(Roles(Role.ENGINEER, admin=False))]
AnyUser = Annotated[Principal, Depends(Roles(*Role))]


async def plain_parameters(request: Request) -> None:
    """Refuse NUL characters and unpaired surrogates in the path and the query string: they
    cannot be stored, and would otherwise reach the database as a server error."""
    errors = [
        {
            "loc": (where, name),
            "msg": "text must not contain NUL characters or unpaired surrogates",
            "type": "invalid_text",
            "input": None,
        }
        for where, items in (
            ("path", request.path_params.items()),
            ("query", request.query_params.multi_items()),
        )
        for name, value in items
        if isinstance(value, str) and bad_text(value)
    ]
    if errors:
        raise RequestValidationError(errors)


class Paging:
    """``limit`` and ``offset`` query parameters with the configured bounds."""

    def __init__(
        self,
        request: Request,
        limit: Annotated[int | None, Query(ge=1, le=MAX_OFFSET, description="page size")] = None,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> None:
        settings: Settings = request.app.state.settings
        self.limit = min(limit or settings.page_size_default, settings.page_size_max)
        self.offset = offset


PagingDep = Annotated[Paging, Depends()]
