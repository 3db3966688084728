"""Request-scoped dependencies: settings, the session (one unit of work), the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dispatch.auth.principal import Principal
from dispatch.auth.service import authenticate
from dispatch.clock import Clock
from dispatch.db import Session, translate_db_error
from dispatch.geo_support import GeoContext
from dispatch.intake import IntakeSettings
from dispatch.planning.capacity import CapacityIndex
from dispatch.planning.runner import JobRunner
from dispatch.settings import Settings

_bearer = HTTPBearer(
    auto_error=False, description="An Onsite API key: `Authorization: Bearer osk_...`"
)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the handler succeeds, rolled back otherwise."""
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


def get_geo(request: Request) -> GeoContext:
    return request.app.state.geo


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


def get_capacity(request: Request) -> CapacityIndex:
    return request.app.state.capacity


def get_intake_settings(request: Request) -> IntakeSettings:
    settings: Settings = request.app.state.settings
    return IntakeSettings(
        capacity_days=settings.capacity_days,
        replan_on_urgent=settings.replan_on_urgent,
        replan_time_limit_s=settings.replan_time_limit_s,
    )


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
CapacityDep = Annotated[CapacityIndex, Depends(get_capacity)]
IntakeDep = Annotated[IntakeSettings, Depends(get_intake_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
GeoDep = Annotated[GeoContext, Depends(get_geo)]
SessionDep = Annotated[Session, Depends(get_session)]


def get_current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer key; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="an API key is required: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = authenticate(session, credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


CurrentUser = Annotated[Principal, Depends(get_current_user)]


class Paging:
    """``limit`` and ``offset`` query parameters with the configured bounds."""

    def __init__(
        self,
        request: Request,
        limit: Annotated[int | None, Query(ge=1, description="page size")] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> None:
        settings: Settings = request.app.state.settings
        self.limit = min(limit or settings.page_size_default, settings.page_size_max)
        self.offset = offset


PagingDep = Annotated[Paging, Depends()]
