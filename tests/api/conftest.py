"""An HTTP client on the app, sharing the test's rolled-back connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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
    app = create_app(
        Settings(
            database_url=database_url,
            solver="inline",
            replan_time_limit_s=1,
            webhook_delivery="thread",
        )
    )
    app.state.session_factory = session_factory
    app.state.clock = FixedClock()
    app.state.stream_max_s = 0.3  # live streams end at once: a test reads what they hold
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


class RecordingRunner:
    """A runner that only remembers what it was given (for tests where runs are not the
    subject: a generated time limit must not make the test solve for minutes)."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, run_id: int) -> None:
        self.submitted.append(run_id)

    def close(self) -> None:
        return None


SMALL_WORLD_NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


@pytest.fixture
def small_world(app, client: TestClient, auth, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """An area with an engineer, a customer's site and a promised request assigned to that
    engineer today, at Monday 10:00 in Shanghai; runs are only recorded and the limit on failed
    authentications is out of the way. Returns the ids and a key per role."""
    from sqlalchemy import select

    from api.security import AuthFailureLimit
    from dispatch.auth.service import create_api_key
    from dispatch.models import Visit
    from dispatch.models.enums import Role
    from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site

    app.state.clock.current = SMALL_WORLD_NOW
    app.state.runner = RecordingRunner()
    app.state.auth_limit = AuthFailureLimit("100000/minute")
    area = create_area(session, half=0.15)
    engineer = create_engineer(session, area=area, home=(31.23, 121.47))
    site = create_site(session, customer=create_customer(session), at=(31.25, 121.50))
    spare = create_api_key(session, role="dispatcher", name="spare")
    session.commit()
    request = client.post(
        "/v1/requests", json={"site_id": site.id, "channel": "phone"}, headers=auth("service_desk")
    ).json()
    assigned = client.post(
        "/v1/dispatch/assignments",
        json={
            "request_id": request["id"],
            "engineer_id": engineer.id,
            "date": "2026-11-23",
            "accept_warnings": True,
        },
        headers=auth("dispatcher"),
    )
    assert assigned.status_code == 200, assigned.text
    visit_id = session.scalar(select(Visit.id).where(Visit.request_id == request["id"]))
    # A webhook subscription with one delivery, and the alerts the rules find now.
    from dispatch.desk.alerts import evaluate
    from dispatch.models import Alert, WebhookDelivery
    from dispatch.notify.webhooks import WebhookSettings, create_subscription, fan_out, test_fire

    subscription = create_subscription(
        session, WebhookSettings(allow_private=True), url="http://127.0.0.1:9/hooks",
        event_types=["*"], actor="test",
    )  # fmt: skip
    test_fire(session, subscription.id, now=SMALL_WORLD_NOW)
    fan_out(session, now=SMALL_WORLD_NOW)
    evaluate(session, now=SMALL_WORLD_NOW + timedelta(hours=1))
    session.commit()
    delivery_id = session.scalar(select(WebhookDelivery.id))
    alert_id = session.scalar(select(Alert.id)) or 1
    return {
        "ids": {
            "area": area.id,
            "area_id": area.id,
            "service_area_id": area.id,
            "engineer": engineer.id,
            "engineer_id": engineer.id,
            "site": site.id,
            "site_id": site.id,
            "customer": site.customer_id,
            "customer_id": site.customer_id,
            "request": request["id"],
            "request_id": request["id"],
            "visit": visit_id,
            "visit_id": visit_id,
            "key_id": spare.id,
            "day": "2026-11-24",
            "subscription_id": subscription.id,
            "delivery_id": delivery_id,
            "alert_id": alert_id,
        },
        "keys": {
            Role.ADMIN: auth("admin"),
            Role.DISPATCHER: auth("dispatcher"),
            Role.SERVICE_DESK: auth("service_desk"),
            Role.ENGINEER: auth("engineer", engineer.id),
        },
    }


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table, read afresh: what a refused request must leave as it was."""
    from sqlalchemy import func, select

    from dispatch.models import Base

    session.expire_all()
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0
        for t in Base.metadata.sorted_tables
    }


def evaluate_alerts(app: Any) -> None:
    """Run the alert rules now, as the schedule would (the test app has no schedule)."""
    from dispatch.db import unit_of_work
    from dispatch.desk.alerts import evaluate

    with unit_of_work(app.state.session_factory) as session:
        evaluate(session, now=app.state.clock.now())
