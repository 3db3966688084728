"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.errors import install_error_handlers
from api.routers import (
    analytics,
    areas,
    auth,
    board,
    customers,
    desk,
    dispatch,
    engineers,
    field,
    geo,
    health,
    requests,
    sla,
)
from dispatch.clock import SystemClock
from dispatch.db import make_engine, make_session_factory
from dispatch.geo_support import GeoContext
from dispatch.planning.capacity import CapacityIndex
from dispatch.planning.runner import InProcessRunner
from dispatch.planning.runs import RunSettings
from dispatch.planning.solver import InlineSolver, ProcessSolver
from dispatch.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"

DESCRIPTION = """
Onsite answers three users: the **service desk** (promises and live ETAs), **dispatchers**
(plans, overrides) and **engineers' mobile apps** (my route, progress).

Every `/v1` call needs `Authorization: Bearer <api key>`; create keys with
`onsite create-api-key --role dispatcher`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, echo=settings.database_echo)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runner = app.state.runner
        if isinstance(runner, InProcessRunner):
            runner.start()
        yield
        runner.close()
        engine.dispose()

    app = FastAPI(
        title="Onsite",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.geo = GeoContext.from_settings(settings)
    app.state.clock = SystemClock()
    app.state.capacity = CapacityIndex(days=settings.capacity_days)
    app.state.runner = InProcessRunner(
        app.state.session_factory,
        app.state.geo,
        ProcessSolver() if settings.solver == "process" else InlineSolver(),
        app.state.clock,
        RunSettings(freeze=timedelta(minutes=settings.freeze_minutes)),
    )
    install_error_handlers(app)
    app.include_router(board.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(areas.router)
    app.include_router(engineers.router)
    app.include_router(customers.router)
    app.include_router(geo.router)
    app.include_router(requests.router)
    app.include_router(sla.router)
    app.include_router(dispatch.router)
    app.include_router(field.router)
    app.include_router(desk.router)
    app.include_router(analytics.router)
    return app
