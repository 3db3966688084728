"""Alerts on a schedule: the rules at their exact boundaries, one stored alert per condition,
acknowledged by a person, resolved by itself when the condition clears, and told as sla.*
events once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import OutboxEvent, RepairRequest
from dispatch.requests.intake import take_request
from tests.api.conftest import evaluate_alerts
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def one_request(app: Any, session: Session) -> RepairRequest:
    """An urgent request taken at NOW, not yet answered nor assigned."""
    app.state.clock.current = NOW
    area = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
    create_engineer(session, area=area, home=(31.20, 121.44))
    site = create_site(session, customer=create_customer(session), at=(31.21, 121.45))
    request = take_request(
        session, now=NOW, actor="test", site_id=site.id, channel="phone", tier="urgent",
        external_ref="ALERT-1",
    ).request  # fmt: skip
    session.commit()
    assert request.first_response_due is not None
    return request


def _alerts(client: TestClient, auth: Any, query: str = "") -> list[dict[str, Any]]:
    answer = client.get(f"/v1/alerts?limit=200{query}", headers=auth("dispatcher"))
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


@pytest.mark.parametrize(("minutes_left", "alerted"), [(31, False), (30, True), (29, True)])
def test_the_first_response_rule_at_its_boundary(
    app: Any, client: TestClient, auth: Any, one_request: RepairRequest,
    minutes_left: int, alerted: bool,
) -> None:  # fmt: skip
    """A first response due in 31 min raises nothing; due in 30 or 29 min it raises a warning."""
    assert one_request.first_response_due is not None
    app.state.clock.current = one_request.first_response_due - timedelta(minutes=minutes_left)
    evaluate_alerts(app)
    found = [a for a in _alerts(client, auth) if a["kind"] == "first_response_due"]
    assert bool(found) is alerted
    if alerted:
        assert (found[0]["severity"], found[0]["state"]) == ("warning", "open")
        assert found[0]["external_ref"] == "ALERT-1"


def test_one_alert_per_condition_acknowledged_then_resolved_by_itself(
    app: Any, client: TestClient, auth: Any, one_request: RepairRequest, session: Session
) -> None:
    """Evaluated twice, the condition keeps one alert; acknowledged, it says by whom; once the
    first response is recorded the next evaluation resolves it, and it leaves the default list."""
    assert one_request.first_response_due is not None
    app.state.clock.current = one_request.first_response_due - timedelta(minutes=10)
    evaluate_alerts(app)
    evaluate_alerts(app)
    first = [a for a in _alerts(client, auth) if a["kind"] == "first_response_due"]
    assert len(first) == 1
    alert_id = first[0]["id"]
    acked = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=auth("service_desk"))
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged" and acked.json()["acknowledged_by"]
    evaluate_alerts(app)
    assert [a["state"] for a in _alerts(client, auth) if a["id"] == alert_id] == ["acknowledged"]
    answered = client.post(
        f"/v1/requests/{one_request.id}/acknowledge", json={}, headers=auth("service_desk")
    )
    assert answered.status_code == 200, answered.text
    evaluate_alerts(app)
    assert alert_id not in {a["id"] for a in _alerts(client, auth)}
    resolved = _alerts(client, auth, "&state=resolved")
    assert [(a["id"], a["state"]) for a in resolved] == [(alert_id, "resolved")]
    again = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=auth("service_desk"))
    assert again.status_code == 409


def test_sla_events_are_told_once_each(
    app: Any, client: TestClient, auth: Any, one_request: RepairRequest, session: Session
) -> None:
    """Nearing its due time the first response writes one sla.warning; past it, one
    sla.breached; evaluating again writes neither again."""
    assert one_request.first_response_due is not None
    app.state.clock.current = one_request.first_response_due - timedelta(minutes=5)
    evaluate_alerts(app)
    evaluate_alerts(app)
    app.state.clock.current = one_request.first_response_due + timedelta(minutes=1)
    evaluate_alerts(app)
    evaluate_alerts(app)
    session.expire_all()
    told = [
        (e.type, e.data["kind"])
        for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))
        if e.type.startswith("sla.")
    ]
    assert told.count(("sla.warning", "first_response_due")) == 1
    assert told.count(("sla.breached", "first_response_due")) == 1


def test_an_arrival_near_with_nobody_assigned_is_an_alert(
    app: Any, client: TestClient, auth: Any, one_request: RepairRequest
) -> None:
    """An urgent request with no engineer an hour before its arrival target raises the
    arrival alert; filters by kind and area find it, an unknown kind is a 422."""
    target = one_request.arrival_target or one_request.arrival_due
    assert target is not None
    app.state.clock.current = target - timedelta(minutes=60)
    evaluate_alerts(app)
    found = _alerts(client, auth, "&kind=arrival_due_unassigned")
    assert [a["request_id"] for a in found] == [one_request.id]
    area = one_request.base_area_id
    assert _alerts(client, auth, f"&kind=arrival_due_unassigned&service_area_id={area}") == found
    bad = client.get("/v1/alerts?kind=lost", headers=auth("dispatcher"))
    assert bad.status_code == 422
