"""Who may call, how often a caller may fail, and what every response tells the browser."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.security import AuthFailureLimit
from tests.fixtures.factories import create_area, create_engineer


def test_a_deactivated_engineers_key_stops_working(
    client: TestClient, auth, session: Session
) -> None:
    """The engineer's phone works while they are active and gets 401 once deactivated."""
    engineer = create_engineer(session, area=create_area(session))
    session.commit()
    phone = auth("engineer", engineer.id)
    assert client.get("/v1/me/route", headers=phone).status_code == 200
    r = client.patch(
        f"/v1/engineers/{engineer.id}", json={"active": False}, headers=auth("dispatcher")
    )
    assert r.status_code == 200
    denied = client.get("/v1/me/route", headers=phone)
    assert denied.status_code == 401
    assert denied.json()["detail"][0]["loc"] == ["header", "Authorization"]


def test_failed_authentications_are_limited_per_client(app: Any, client: TestClient, auth) -> None:
    """After the limit of failed keys a client gets 429 with Retry-After, even with a good key
    (guessing is stopped); other clients are not affected."""
    app.state.auth_limit = AuthFailureLimit("3/minute")
    good = auth("dispatcher")
    for _ in range(3):
        assert (
            client.get("/v1/me", headers={"Authorization": "Bearer osk_guess"}).status_code == 401
        )
    limited = client.get("/v1/me", headers={"Authorization": "Bearer osk_guess"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["detail"][0]["type"] == "too_many_requests"
    assert client.get("/v1/me", headers=good).status_code == 429
    elsewhere = TestClient(app, client=("10.0.0.9", 50000))
    assert elsewhere.get("/v1/me", headers=good).status_code == 200


def test_successful_calls_do_not_count_against_the_limit(
    app: Any, client: TestClient, auth
) -> None:
    """Only failures count: many good calls never reach the limit."""
    app.state.auth_limit = AuthFailureLimit("3/minute")
    good = auth("dispatcher")
    assert all(client.get("/v1/me", headers=good).status_code == 200 for _ in range(10))


@pytest.mark.parametrize("path", ["/", "/static/js/main.js", "/v1/me", "/healthz", "/v1/nope"])
def test_every_response_carries_the_security_headers(client: TestClient, auth, path: str) -> None:
    """CSP (scripts only from the app itself), nosniff, no framing, no referrer, on pages,
    assets, API answers and errors alike; API answers are never cached."""
    r = client.get(path, headers=auth("dispatcher"))
    csp = r.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    if path.startswith("/v1/"):
        assert r.headers["cache-control"] == "no-store"


def test_the_docs_pages_load_only_what_the_app_serves(client: TestClient) -> None:
    """/docs and /redoc reference only the app's own copies of Swagger UI and ReDoc (they work
    with no internet), under a policy that allows inline scripts there and nowhere else."""
    import re

    for path in ("/docs", "/redoc"):
        r = client.get(path)
        assert r.status_code == 200
        urls = re.findall(r'(?:src|href)="([^"]+)"|(?:url): *\'([^\']+)\'', r.text)
        found = [a or b for a, b in urls]
        assert found and all(u.startswith("/") for u in found), found
        for url in found:
            asset = client.get(url)
            assert asset.status_code == 200, url
        assert "https:" not in r.headers["content-security-policy"]
        assert "'unsafe-inline'" in r.headers["content-security-policy"]
    board_scripts = client.get("/").headers["content-security-policy"].split("script-src", 1)[1]
    assert "'unsafe-inline'" not in board_scripts.split(";")[0]


def test_static_files_go_compressed_with_a_caching_rule(client: TestClient) -> None:
    """The board's scripts and the docs' bundles are gzipped for clients that accept it; vendor
    bundles are cached a day, the board's own files revalidated on every load (304 by ETag)."""
    own = client.get("/static/js/main.js", headers={"Accept-Encoding": "gzip"})
    assert own.status_code == 200 and own.headers["content-encoding"] == "gzip"
    assert own.headers["cache-control"] == "no-cache"
    again = client.get("/static/js/main.js", headers={"If-None-Match": own.headers["etag"]})
    assert again.status_code == 304
    vendor = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert vendor.headers["cache-control"] == "public, max-age=86400"
    assert vendor.headers["content-encoding"] == "gzip"
