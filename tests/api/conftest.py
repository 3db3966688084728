"""An HTTP client on the app, sharing the test's rolled-back connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from dispatch.clock import FixedClock
from dispatch.planning.runner import SynchronousRunner
from dispatch.planning.solver import InlineSolver
from dispatch.settings import Settings
from tests.fixtures.factories import api_key


@pytest.fixture
def app(database_url: str, session_factory: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    """The app on the test's connection, with a fixed clock and runs solved synchronously."""
    app = create_app(Settings(database_url=database_url, solver="inline", replan_time_limit_s=1))
    app.state.session_factory = session_factory
    app.state.clock = FixedClock()
    app.state.runner = SynchronousRunner(
        session_factory, app.state.geo, InlineSolver(), app.state.clock
    )
    return app


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        yield client


class Keys:
    """Bearer headers per role, created on first use."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[str, int | None], dict[str, str]] = {}

    def __call__(self, role: str, engineer_id: int | None = None) -> dict[str, str]:
        key = (role, engineer_id)
        if key not in self._cache:
            token = api_key(self.session, role, engineer_id=engineer_id)
            self.session.commit()
            self._cache[key] = {"Authorization": f"Bearer {token}"}
        return self._cache[key]


@pytest.fixture
def auth(session: Session) -> Keys:
    return Keys(session)
