"""The FastAPI application factory."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import Scope

from api.deps import plain_parameters
from api.errors import install_error_handlers
from api.i18n import LocaleMiddleware
from api.routers import (
    analytics,
    areas,
    auth,
    board,
    customers,
    desk,
    dispatch,
    docs,
    engineers,
    field,
    geo,
    health,
    requests,
    sla,
    stream,
    webhooks,
)
from api.schemas.common import ErrorResponse
from api.security import AuthFailureLimit, BodyLimit, SecurityHeaders
from api.worker import run_settings, webhook_settings
from dispatch.clock import SystemClock
from dispatch.db import make_engine, make_session_factory
from dispatch.desk.alerts import AlertLoop
from dispatch.geo_support import GeoContext
from dispatch.notify.webhooks import DeliveryLoop, DeliveryProcess
from dispatch.planning.capacity import CapacityIndex
from dispatch.planning.runner import InProcessRunner
from dispatch.planning.solver import InlineSolver, ProcessSolver
from dispatch.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"


class CachedStatic(StaticFiles):
    """Static files with a caching rule: third-party bundles (``vendor/``, whose version only
    changes with an upgrade of Onsite) are kept a day; the board's own files are revalidated on
    every load (a cheap 304 by ETag), so an upgrade never leaves a browser on old scripts."""

    def file_response(
        self, full_path: Any, stat_result: Any, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendor = "/vendor/" in str(full_path).replace("\\", "/")
        response.headers["cache-control"] = "public, max-age=86400" if vendor else "no-cache"
        return response


DESCRIPTION = """
Onsite answers three users: the **service desk** (promises and live ETAs), **dispatchers**
(plans, overrides) and **engineers' mobile apps** (my route, progress).

Every `/v1` call needs `Authorization: Bearer <api key>`; create keys with
`onsite create-api-key --role dispatcher`.
"""


def _deliveries(app: FastAPI, settings: Settings) -> DeliveryLoop | DeliveryProcess:
    url = settings.database_url
    in_memory = url.startswith("sqlite") and (
        url in ("sqlite://", "sqlite:///") or ":memory:" in url
    )
    if (
        settings.webhook_delivery == "process"
        and isinstance(app.state.clock, SystemClock)
        and not in_memory
    ):
        return DeliveryProcess(url, app.state.webhook_settings)
    return DeliveryLoop(app.state.session_factory, app.state.webhook_settings, app.state.clock)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.database_echo)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = app.state.runner
        deliveries = None
        if isinstance(runner, InProcessRunner):
            runner.start()
            # The embedded default delivers webhooks itself (a cluster's workers do it there):
            # in a process of its own, unless told otherwise or on a clock or database only
            # this process has (tests).
            deliveries = _deliveries(app, settings)
            deliveries.start()
            # And evaluates the alert rules itself, every minute (a cluster's beat does it there).
            alert_rules = AlertLoop(app.state.session_factory, app.state.clock)
            alert_rules.start()
        yield
        if deliveries is not None:
            deliveries.stop()
            alert_rules.stop()
        runner.close()
        engine.dispose()

    app = FastAPI(
        title="Onsite",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(plain_parameters)],
        # Served by api.routers.docs from the app's own copies of the assets (no CDN).
        docs_url=None,
        redoc_url=None,
    )
    # Text answers over 1 kB go compressed to clients that accept it (the board's scripts and
    # the docs' bundles shrink to a quarter); the live stream is never buffered for it.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(LocaleMiddleware)
    app.state.settings = settings
    app.state.auth_limit = AuthFailureLimit(
        settings.auth_failure_limit, settings.rate_limit_storage_url
    )
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.geo = GeoContext.from_settings(settings)
    app.state.clock = SystemClock()
    app.state.capacity = CapacityIndex(days=settings.capacity_days)
    app.state.intake_gate = threading.BoundedSemaphore(settings.intake_concurrency)
    app.state.webhook_settings = webhook_settings(settings)
    if settings.broker_url:
        # A cluster: this process only stores runs and hands them to `onsite worker`s.
        from api.worker import celery_app
        from dispatch.planning.cluster import CeleryRunner

        app.state.runner = CeleryRunner(
            celery_app(settings, worker=False), app.state.session_factory, app.state.clock
        )
    else:
        app.state.runner = InProcessRunner(
            app.state.session_factory,
            app.state.geo,
            ProcessSolver(settings.solver_nice) if settings.solver == "process" else InlineSolver(),
            app.state.clock,
            run_settings(settings),
        )
    install_error_handlers(app)
    app.include_router(board.router)
    app.include_router(docs.router)
    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    for router in (
        auth.router,
        areas.router,
        engineers.router,
        customers.router,
        geo.router,
        requests.router,
        sla.router,
        dispatch.router,
        field.router,
        desk.router,
        analytics.router,
        webhooks.router,
        stream.router,
    ):
        app.include_router(router, responses=ERROR_RESPONSES)
    return app


# What any /v1 route may answer besides its success, all in the one error shape.
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (401, "no API key, or an unknown, revoked or deactivated one"),
        (403, "the key's role may not do this"),
        (404, "a referenced object does not exist (or is not visible to the key)"),
        (409, "the change clashes with the current state (duplicate, stale version)"),
        (413, "the request body is too large"),
        (422, "invalid input; `loc` names the field"),
        (429, "too many failed authentications from this client; see Retry-After"),
        (503, "the database or a service Onsite depends on is unavailable; retry later"),
    )
}
