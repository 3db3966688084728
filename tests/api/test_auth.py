"""Authentication and API keys."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_area, create_engineer


def test_v1_without_key_is_401(client: TestClient) -> None:
    """Every /v1 endpoint needs a bearer key."""
    for path in ("/v1/engineers", "/v1/service-areas", "/v1/customers", "/v1/sites", "/v1/me"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"


def test_unknown_key_is_401(client: TestClient) -> None:
    """A made-up key is refused."""
    r = client.get("/v1/me", headers={"Authorization": "Bearer osk_nope"})
    assert r.status_code == 401


def test_admin_issues_and_revokes_keys(client: TestClient, auth) -> None:
    """An issued key works at once, is listed without its secret, and stops when revoked."""
    issued = client.post(
        "/v1/api-keys", json={"name": "board", "role": "dispatcher"}, headers=auth("admin")
    )
    assert issued.status_code == 201
    key = issued.json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    me = client.get("/v1/me", headers=headers).json()
    assert {k: me[k] for k in ("name", "role", "engineer_id")} == {
        "name": "board",
        "role": "dispatcher",
        "engineer_id": None,
    }
    assert me["now"].endswith("Z")
    listed = client.get("/v1/api-keys", headers=auth("admin")).json()
    assert all("key" not in k and "key_hash" not in k for k in listed)
    client.delete(f"/v1/api-keys/{issued.json()['id']}", headers=auth("admin"))
    assert client.get("/v1/me", headers=headers).status_code == 401


def test_engineer_key_needs_an_engineer(client: TestClient, auth, session: Session) -> None:
    """An engineer key without an engineer is 422; with a missing one 404; others may not bind."""
    r = client.post("/v1/api-keys", json={"name": "app", "role": "engineer"}, headers=auth("admin"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "engineer_id"]
    r = client.post(
        "/v1/api-keys",
        json={"name": "app", "role": "engineer", "engineer_id": 999},
        headers=auth("admin"),
    )
    assert r.status_code == 404
    engineer = create_engineer(session, area=create_area(session))
    session.commit()
    r = client.post(
        "/v1/api-keys",
        json={"name": "x", "role": "dispatcher", "engineer_id": engineer.id},
        headers=auth("admin"),
    )
    assert r.status_code == 422


def test_only_admin_manages_keys(client: TestClient, auth) -> None:
    """Dispatchers cannot issue keys."""
    r = client.post("/v1/api-keys", json={"name": "x", "role": "admin"}, headers=auth("dispatcher"))
    assert r.status_code == 403


def test_health_reports_database_and_revision(client: TestClient) -> None:
    """/healthz answers without a key and names the migration revision."""
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["revision"] == body["database"]["head"]
