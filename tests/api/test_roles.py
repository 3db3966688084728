"""The role matrix, generated from the app's own routes: every /v1 route declares who may call
it, and every credential gets exactly the answer that declaration implies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from sse_starlette.sse import EventSourceResponse

from api.security import AuthFailureLimit
from dispatch.auth.service import create_api_key, revoke_api_key
from dispatch.models import DispatchRun, SlaPolicy, Visit
from dispatch.models.enums import Role
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.routes import api_routes, roles_of

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PUBLIC = {"/healthz", "/", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"}


def _v1_routes(app: Any) -> list[tuple[str, str, APIRoute]]:
    routes = [(m, p, r) for m, p, r in api_routes(app) if p.startswith("/v1")]
    assert len(routes) > 50, "the app's routes were not found"
    return routes


# Who may call what: A admin, D dispatcher, S service desk, E engineer ("own": an engineer key
# only for its own engineer). A new route must be added here, with its roles.
POLICY = {
    ("DELETE", "/v1/api-keys/{key_id}"): "A",
    ("DELETE", "/v1/customers/{customer_id}"): "ADS",
    ("DELETE", "/v1/engineers/{engineer_id}"): "AD",
    ("DELETE", "/v1/engineers/{engineer_id}/shift-exceptions/{day}"): "AD",
    ("DELETE", "/v1/service-areas/{area_id}"): "A",
    ("DELETE", "/v1/sites/{site_id}"): "ADS",
    ("DELETE", "/v1/visits/{visit_id}/lock"): "AD",
    ("GET", "/v1/alerts"): "ADS",
    ("POST", "/v1/alerts/{alert_id}/acknowledge"): "ADS",
    ("GET", "/v1/analytics/heatmap"): "AD",
    ("GET", "/v1/analytics/sla"): "AD",
    ("GET", "/v1/api-keys"): "A",
    ("GET", "/v1/customers"): "ADS",
    ("GET", "/v1/customers/{customer_id}"): "ADS",
    ("GET", "/v1/dispatch/plan"): "AD",
    ("GET", "/v1/dispatch/runs"): "AD",
    ("GET", "/v1/dispatch/runs/{run_id}"): "AD",
    ("GET", "/v1/engineers"): "ADSE",
    ("GET", "/v1/engineers/{engineer_id}"): "ADSE own",
    ("GET", "/v1/engineers/{engineer_id}/shift-exceptions"): "ADSE own",
    ("GET", "/v1/engineers/{engineer_id}/shifts"): "ADSE own",
    ("GET", "/v1/me"): "ADSE",
    ("GET", "/v1/me/route"): "E",
    ("GET", "/v1/promises"): "ADS",
    ("GET", "/v1/requests"): "ADS",
    ("GET", "/v1/requests/by-ref/{external_ref}"): "ADS",
    ("GET", "/v1/requests/{request_id}"): "ADS",
    ("GET", "/v1/requests/{request_id}/events"): "ADS",
    ("GET", "/v1/requests/{request_id}/promise"): "ADS",
    ("GET", "/v1/service-areas"): "ADSE",
    ("GET", "/v1/stream"): "ADSE",
    ("GET", "/v1/service-areas.geojson"): "ADSE",
    ("GET", "/v1/service-areas/{area_id}"): "ADSE",
    ("GET", "/v1/sites"): "ADS",
    ("GET", "/v1/sites/{site_id}"): "ADS",
    ("GET", "/v1/skills"): "ADSE",
    ("GET", "/v1/sla-policies"): "ADS",
    ("GET", "/v1/sla-policies/{policy_id}"): "ADS",
    ("PATCH", "/v1/customers/{customer_id}"): "ADS",
    ("PATCH", "/v1/engineers/{engineer_id}"): "AD",
    ("PATCH", "/v1/requests/{request_id}"): "ADS",
    ("PATCH", "/v1/service-areas/{area_id}"): "A",
    ("PATCH", "/v1/sites/{site_id}"): "ADS",
    ("POST", "/v1/api-keys"): "A",
    ("POST", "/v1/customers"): "ADS",
    ("POST", "/v1/dispatch/assignments"): "AD",
    ("POST", "/v1/dispatch/candidates"): "AD",
    ("GET", "/v1/board/config"): "AD",
    ("POST", "/v1/dispatch/runs"): "AD",
    ("POST", "/v1/engineers"): "AD",
    ("POST", "/v1/me/location"): "E",
    ("POST", "/v1/me/visits/{visit_id}/events"): "E",
    ("POST", "/v1/me/visits/{visit_id}/decline"): "E",
    ("POST", "/v1/promises/quote"): "ADS",
    ("POST", "/v1/promises/slots"): "ADS",
    ("POST", "/v1/requests"): "ADS",
    ("POST", "/v1/requests/batch"): "ADS",
    ("POST", "/v1/requests/{request_id}/acknowledge"): "ADS",
    ("POST", "/v1/requests/{request_id}/cancel"): "ADS",
    ("POST", "/v1/requests/{request_id}/pause"): "ADS",
    ("POST", "/v1/requests/{request_id}/resume"): "ADS",
    ("POST", "/v1/service-areas"): "A",
    ("POST", "/v1/sites"): "ADS",
    ("POST", "/v1/skills"): "AD",
    ("POST", "/v1/sla-policies"): "A",
    ("POST", "/v1/travel-times"): "AD",
    ("POST", "/v1/visits/{visit_id}/lock"): "AD",
    ("POST", "/v1/visits/{visit_id}/unassign"): "AD",
    ("PUT", "/v1/engineers/{engineer_id}/shift-exceptions"): "AD",
    ("DELETE", "/v1/webhooks/subscriptions/{subscription_id}"): "A",
    ("GET", "/v1/webhooks/deliveries"): "A",
    ("GET", "/v1/webhooks/example-event"): "A",
    ("GET", "/v1/webhooks/example-message"): "A",
    ("GET", "/v1/webhooks/subscriptions"): "A",
    ("GET", "/v1/webhooks/subscriptions/{subscription_id}"): "A",
    ("PATCH", "/v1/webhooks/subscriptions/{subscription_id}"): "A",
    ("POST", "/v1/webhooks/deliveries/{delivery_id}/replay"): "A",
    ("POST", "/v1/webhooks/subscriptions"): "A",
    ("POST", "/v1/webhooks/subscriptions/{subscription_id}/test"): "A",
}  # fmt: skip
LETTER = {Role.ADMIN: "A", Role.DISPATCHER: "D", Role.SERVICE_DESK: "S", Role.ENGINEER: "E"}


def test_the_declared_roles_are_the_policy(app: Any) -> None:
    """Each route's declared roles are the policy's, and every route is in the policy."""
    declared = {}
    for method, path, route in _v1_routes(app):
        roles = roles_of(route)
        assert roles is not None, f"{method} {path} declares no roles"
        letters = "".join(LETTER[r] for r in LETTER if roles.allows(r))
        declared[method, path] = letters + (" own" if roles.own_engineer else "")
    assert declared == POLICY


def test_every_route_declares_its_roles(app: Any) -> None:
    """No /v1 route is left without a role declaration; nothing else is unauthenticated."""
    undeclared = [f"{m} {p}" for m, p, route in _v1_routes(app) if roles_of(route) is None]
    assert undeclared == []
    others = {p for _, p, _ in api_routes(app) if not p.startswith("/v1")}
    assert others <= PUBLIC


@pytest.fixture
def world(app: Any, client: TestClient, auth, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One of everything a path can name, and a key per credential."""
    app.state.clock.current = NOW
    app.state.auth_limit = AuthFailureLimit("10000/minute")
    area = create_area(session, half=0.15)
    mine = create_engineer(session, area=area, name="Mine Wei", home=(31.23, 121.47))
    other = create_engineer(session, area=area, name="Other Na", home=(31.24, 121.48))
    customer = create_customer(session)
    site = create_site(session, customer=customer, at=(31.25, 121.50))
    spare = create_api_key(session, role="dispatcher", name="spare")
    revoked = create_api_key(session, role="dispatcher", name="revoked")
    revoke_api_key(session, revoked.id)
    session.commit()
    request = client.post(
        "/v1/requests",
        json={"site_id": site.id, "channel": "phone", "external_ref": "ROLE-1"},
        headers=auth("service_desk"),
    ).json()
    client.post(
        "/v1/dispatch/assignments",
        json={
            "request_id": request["id"],
            "engineer_id": mine.id,
            "date": "2026-11-23",
            "accept_warnings": True,
        },
        headers=auth("dispatcher"),
    )
    run = client.post(
        "/v1/dispatch/runs",
        json={"horizon_start": "2026-11-23", "time_limit_s": 1},
        headers=auth("dispatcher"),
    )
    assert run.status_code == 202, run.text
    ids = {
        "area_id": area.id,
        "customer_id": customer.id,
        "site_id": site.id,
        "engineer_id": mine.id,
        "request_id": request["id"],
        "visit_id": session.scalar(select(Visit.id)),
        "run_id": session.scalar(select(DispatchRun.id)),
        "policy_id": session.scalar(select(SlaPolicy.id)),
        "key_id": spare.id,
        "external_ref": "ROLE-1",
        "day": "2026-11-24",
        "subscription_id": 1,
        "alert_id": 1,
        "delivery_id": 1,
    }
    credentials: dict[str, dict[str, str]] = {
        "no key": {},
        "wrong key": {"Authorization": "Bearer osk_not_a_key"},
        "revoked key": {"Authorization": f"Bearer {revoked.key}"},
        "admin": auth("admin"),
        "dispatcher": auth("dispatcher"),
        "service_desk": auth("service_desk"),
        "engineer": auth("engineer", mine.id),
    }
    return {"ids": ids, "credentials": credentials, "other_engineer": other.id}


def _path(template: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template)


def test_the_role_matrix(app: Any, client: TestClient, world: dict[str, Any]) -> None:
    """For every route and credential: no, wrong or revoked keys get 401; a role the route
    does not declare gets 403; a declared role gets past authorisation (never 401, 403 or a
    server error)."""
    wrong = []
    for method, template, route in _v1_routes(app):
        roles = roles_of(route)
        assert roles is not None
        path = _path(template, world["ids"])
        for name, headers in world["credentials"].items():
            body = {} if method in ("POST", "PUT", "PATCH") else None
            r = client.request(method, path, headers=headers, json=body)
            if name in ("no key", "wrong key", "revoked key"):
                expected_ok = r.status_code == 401
            elif roles.allows(Role(name)):
                expected_ok = r.status_code not in (401, 403) and r.status_code < 500
            else:
                expected_ok = r.status_code == 403
            if not expected_ok:
                wrong.append(f"{method} {template} as {name}: {r.status_code} {r.text[:120]}")
    assert wrong == []


def test_an_engineer_reaches_only_their_own_engineer(
    app: Any, client: TestClient, world: dict[str, Any]
) -> None:
    """Routes naming an engineer answer another engineer's id as not found for an engineer
    key (keys cannot probe which ids exist)."""
    key = world["credentials"]["engineer"]
    ids = world["ids"] | {"engineer_id": world["other_engineer"]}
    for method, template, route in _v1_routes(app):
        roles = roles_of(route)
        if roles is None or roles.own_engineer is None:
            continue
        r = client.request(method, _path(template, ids), headers=key)
        assert r.status_code == 404, f"{method} {template}: {r.status_code}"


def test_every_route_declares_its_answer(app: Any) -> None:
    """Every /v1 route has a response model (or answers 204 No Content, or is the event
    stream, whose events are the webhooks' ``EventEnvelope``), so the OpenAPI is the whole
    contract."""
    untyped = [
        f"{method} {path}"
        for method, path, route in _v1_routes(app)
        if route.response_model is None
        and route.status_code != 204
        and route.response_class is not EventSourceResponse
    ]
    assert untyped == []
