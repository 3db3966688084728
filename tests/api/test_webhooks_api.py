"""The webhook admin API: subscriptions made, shown without their secret, paused, test-fired,
deleted; bad input answered 422 naming the field; deliveries listed and replayed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import OutboxEvent, WebhookDelivery
from dispatch.notify.webhooks import WebhookSettings

HOOK = "http://127.0.0.1:9/hooks"


def _allow_private(app: Any) -> None:
    app.state.webhook_settings = WebhookSettings(allow_private=True)


def test_a_subscription_shows_its_secret_once(app: Any, client: TestClient, auth) -> None:
    """Creating answers 201 with a whsec_ secret; reading and listing never show it."""
    _allow_private(app)
    created = client.post(
        "/v1/webhooks/subscriptions",
        json={"url": HOOK, "event_types": ["promise.made", "eta.changed"]},
        headers=auth("admin"),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["active"] is True
    one = client.get(f"/v1/webhooks/subscriptions/{body['id']}", headers=auth("admin")).json()
    assert "secret" not in one and one["event_types"] == ["promise.made", "eta.changed"]
    listed = client.get("/v1/webhooks/subscriptions", headers=auth("admin")).json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]


def test_bad_subscriptions_are_422_naming_the_field(app: Any, client: TestClient, auth) -> None:
    """A private address (not allowed by default), an unknown event type, an unknown area, a
    weak secret, a null and an unknown field are each refused, naming where."""
    cases = [
        ({"url": HOOK, "event_types": ["*"]}, "url"),
        ({"url": "http://example.com/h", "event_types": ["promise.kept"]}, "event_types"),
        ({"url": "http://example.com/h", "event_types": []}, "event_types"),
        ({"url": "gopher://example.com/h", "event_types": ["*"]}, "url"),
        ({"url": HOOK, "event_types": ["*"], "url2": 1}, "url2"),
        ({"url": None, "event_types": ["*"]}, "url"),
    ]
    for body, field in cases:
        r = client.post("/v1/webhooks/subscriptions", json=body, headers=auth("admin"))
        assert r.status_code == 422, (body, r.text)
        assert field in {str(p) for e in r.json()["detail"] for p in e["loc"]}, (body, r.text)
    _allow_private(app)
    for body, field in [
        ({"url": HOOK, "event_types": ["*"], "service_area_ids": [999]}, "service_area_ids"),
        ({"url": HOOK, "event_types": ["*"], "secret": "whsec_" + "A" * 28}, "secret"),
        (
            {"url": HOOK, "event_types": ["*"], "secret": "not-a-secret-at-all-no-no-no-no"},
            "secret",
        ),
    ]:
        r = client.post("/v1/webhooks/subscriptions", json=body, headers=auth("admin"))
        assert r.status_code == 422, (body, r.text)
        assert field in {str(p) for e in r.json()["detail"] for p in e["loc"]}, (body, r.text)


def test_pause_test_fire_and_delete(app: Any, client: TestClient, auth, session: Session) -> None:
    """A paused subscription can still be test-fired (an event for it alone); deleting it
    answers 204 and then 404."""
    _allow_private(app)
    sub = client.post(
        "/v1/webhooks/subscriptions", json={"url": HOOK, "event_types": ["*"]},
        headers=auth("admin"),
    ).json()  # fmt: skip
    paused = client.patch(
        f"/v1/webhooks/subscriptions/{sub['id']}", json={"active": False}, headers=auth("admin")
    )
    assert paused.status_code == 200 and paused.json()["active"] is False
    fired = client.post(f"/v1/webhooks/subscriptions/{sub['id']}/test", headers=auth("admin"))
    assert fired.status_code == 202
    row = session.scalars(select(OutboxEvent)).one()
    assert (row.type, row.event_id, row.subscription_id) == (
        "webhook.test",
        fired.json()["event_id"],
        sub["id"],
    )
    gone = client.delete(f"/v1/webhooks/subscriptions/{sub['id']}", headers=auth("admin"))
    assert gone.status_code == 204
    again = client.get(f"/v1/webhooks/subscriptions/{sub['id']}", headers=auth("admin"))
    assert again.status_code == 404


def test_deliveries_list_by_status_and_a_pending_one_cannot_be_replayed(
    app: Any, client: TestClient, auth, session: Session
) -> None:
    """Deliveries are listed with a status filter; replaying one still being tried is a 409,
    an unknown one a 404, and a bad status a 422."""
    from dispatch.notify.webhooks import fan_out

    _allow_private(app)
    client.post(
        "/v1/webhooks/subscriptions", json={"url": HOOK, "event_types": ["*"]},
        headers=auth("admin"),
    )  # fmt: skip
    sub_id = client.get("/v1/webhooks/subscriptions", headers=auth("admin")).json()["items"][0]
    client.post(f"/v1/webhooks/subscriptions/{sub_id['id']}/test", headers=auth("admin"))
    fan_out(session, now=app.state.clock.now())
    session.commit()
    pending = client.get("/v1/webhooks/deliveries?status=pending", headers=auth("admin")).json()
    assert pending["total"] == 1
    delivery = session.scalars(select(WebhookDelivery)).one()
    r = client.post(f"/v1/webhooks/deliveries/{delivery.id}/replay", headers=auth("admin"))
    assert r.status_code == 409
    assert (
        client.post("/v1/webhooks/deliveries/99999/replay", headers=auth("admin")).status_code
        == 404
    )
    bad = client.get("/v1/webhooks/deliveries?status=lost", headers=auth("admin"))
    assert bad.status_code == 422
