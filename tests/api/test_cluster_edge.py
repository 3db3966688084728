"""The API of a cluster whose broker is away: it keeps serving, stores runs as queued, and its
health check says the broker is unreachable."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from dispatch.clock import FixedClock
from dispatch.models import DispatchRun
from dispatch.planning.cluster import CeleryRunner
from dispatch.settings import Settings
from tests.fixtures.factories import create_area, create_engineer

UNREACHABLE = "amqp://guest:guest@127.0.0.1:1//"


def test_a_broker_that_is_away_degrades_health_and_leaves_runs_queued(
    database_url: str, session_factory: sessionmaker[Session], session: Session, auth
) -> None:
    """/healthz is 200 "degraded" naming the broker; a new run is 202 and stays queued with
    no hand-off recorded, for the sweep to hand over."""
    app = create_app(Settings(database_url=database_url, broker_url=UNREACHABLE))
    app.state.session_factory = session_factory
    clock = FixedClock()
    app.state.clock = clock
    assert isinstance(app.state.runner, CeleryRunner)
    app.state.runner.close()
    app.state.runner = CeleryRunner(app.state.runner.app, session_factory, clock)
    area = create_area(session)
    create_engineer(session, area=area)
    session.commit()
    with TestClient(app) as client:
        health = client.get("/healthz")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "degraded"
        assert body["broker"]["reachable"] is False and body["broker"]["error"]
        day = (clock.now() + timedelta(days=1)).date().isoformat()
        created = client.post(
            "/v1/dispatch/runs",
            json={"horizon_start": day, "time_limit_s": 5},
            headers=auth("dispatcher"),
        )
        assert created.status_code == 202, created.text
        app.state.runner.wait_sent()
        run = session.get(DispatchRun, created.json()["id"])
        assert run is not None
        session.refresh(run)
        assert (run.status, run.handed_at) == ("queued", None)


def test_without_a_broker_health_has_no_broker_part(client: TestClient) -> None:
    """The embedded default has no broker: health is "ok" and says nothing about one."""
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body.get("broker") is None
