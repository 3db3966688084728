"""Bad input at the edge: every request a reviewer found answering 500 (or accepted when it
should not be) is a 4xx naming the field, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import DispatchRun, Shift
from dispatch.settings import Settings
from tests.api.conftest import row_counts


@pytest.fixture
def world(small_world: dict[str, Any]) -> dict[str, Any]:
    return small_world["ids"]


# (name, role, method, path, body (a dict, or raw JSON text), status, loc)
CASES: list[tuple[str, str, str, str, Any, int, list[Any]]] = [
    ("id beyond 32 bits", "dispatcher", "GET", "/v1/customers/2147483648", None, 422, ["path", "customer_id"]),
    ("id beyond 64 bits in a body", "service_desk", "POST", "/v1/requests", {"site_id": 2**63, "channel": "phone"}, 422, ["body", "site_id"]),
    ("NUL in text", "service_desk", "POST", "/v1/customers", {"name": "a\u0000b"}, 422, ["body", "name"]),
    ("lone surrogate in text", "service_desk", "POST", "/v1/customers", '{"name": "\\ud800"}', 422, ["body", "name"]),
    ("NUL in a query", "service_desk", "GET", "/v1/customers?name=a%00b", None, 422, ["query", "name"]),
    ("NaN latitude on a site", "service_desk", "POST", "/v1/sites", '{"customer_id": {customer}, "name": "x", "address": "y", "lat": NaN, "lon": 121.5}', 422, ["body", "lat"]),
    ("Infinity longitude on a site", "service_desk", "POST", "/v1/sites", '{"customer_id": {customer}, "name": "x", "address": "y", "lat": 31.2, "lon": Infinity}', 422, ["body", "lon"]),
    ("-Infinity on a site", "service_desk", "POST", "/v1/sites", '{"customer_id": {customer}, "name": "x", "address": "y", "lat": -Infinity, "lon": 121.5}', 422, ["body", "lat"]),
    ("1e400 on a site", "service_desk", "POST", "/v1/sites", '{"customer_id": {customer}, "name": "x", "address": "y", "lat": 1e400, "lon": 121.5}', 422, ["body", "lat"]),
    ("NaN home", "dispatcher", "POST", "/v1/engineers", '{"name": "Li", "service_area_id": {area}, "home": {"lat": NaN, "lon": 121.4}}', 422, ["body", "home", "lat"]),
    ("NaN position", "engineer", "POST", "/v1/me/location", '{"lat": NaN, "lon": 121.4}', 422, ["body", "lat"]),
    ("NaN accuracy", "engineer", "POST", "/v1/me/location", '{"lat": 31.2, "lon": 121.4, "accuracy_m": NaN}', 422, ["body", "accuracy_m"]),
    ("Infinite accuracy", "engineer", "POST", "/v1/me/location", '{"lat": 31.2, "lon": 121.4, "accuracy_m": Infinity}', 422, ["body", "accuracy_m"]),
    ("Infinity in a quote", "service_desk", "POST", "/v1/promises/quote", '{"location": {"lat": Infinity, "lon": 121.4}}', 422, ["body", "location", "lat"]),
    ("NaN in travel times", "dispatcher", "POST", "/v1/travel-times", '{"points": [{"lat": NaN, "lon": 121.4}]}', 422, ["body", "points", 0, "lat"]),
    ("availability in 9999", "service_desk", "POST", "/v1/requests", {"site_id": "{site}", "channel": "phone", "availability": [{"start": "9999-01-01T00:00:00Z", "end": "9999-01-01T02:00:00Z"}]}, 422, ["body", "availability", 0, "start"]),
    ("availability two years ahead", "service_desk", "POST", "/v1/requests", {"site_id": "{site}", "channel": "phone", "availability": [{"start": "2028-12-01T00:00:00Z", "end": "2028-12-01T02:00:00Z"}]}, 422, ["body", "availability", 0, "start"]),
    ("availability already over", "service_desk", "POST", "/v1/requests", {"site_id": "{site}", "channel": "phone", "availability": [{"start": "2026-11-20T00:00:00Z", "end": "2026-11-20T02:00:00Z"}]}, 422, ["body", "availability", 0, "end"]),
    ("slot in 9999", "service_desk", "POST", "/v1/requests", {"site_id": "{site}", "channel": "phone", "slot": {"start": "9999-01-01T00:00:00Z", "end": "9999-01-01T02:00:00Z"}}, 422, ["body", "slot", "start"]),
    ("quote availability in 9999", "service_desk", "POST", "/v1/promises/quote", {"site_id": "{site}", "availability": [{"start": "9999-01-01T00:00:00Z", "end": "9999-01-01T02:00:00Z"}]}, 422, ["body", "availability", 0, "start"]),
    ("received in year 1", "service_desk", "POST", "/v1/requests", {"site_id": "{site}", "channel": "phone", "received_at": "0001-01-01T00:00:00Z"}, 422, ["body", "received_at"]),
    ("received a month ago", "service_desk", "POST", "/v1/requests", {"site_id": "{site}", "channel": "phone", "received_at": "2026-10-20T00:00:00Z"}, 422, ["body", "received_at"]),
    ("shifts from 9999", "dispatcher", "GET", "/v1/engineers/{engineer}/shifts?from=9999-12-31", None, 422, ["query", "from"]),
    ("plan of 9999", "dispatcher", "GET", "/v1/dispatch/plan?service_area_id={area}&date=9999-12-31", None, 422, ["query", "date"]),
    ("assignment in 9999", "dispatcher", "POST", "/v1/dispatch/assignments", {"request_id": "{request}", "engineer_id": "{engineer}", "date": "9999-12-31", "dry_run": True}, 422, ["body", "date"]),
    ("dry run on a past day", "dispatcher", "POST", "/v1/dispatch/assignments", {"request_id": "{request}", "engineer_id": "{engineer}", "date": "2026-11-20", "dry_run": True}, 422, ["body", "date"]),
    ("null service minutes", "service_desk", "PATCH", "/v1/requests/{request}", {"service_minutes": None}, 422, ["body", "service_minutes"]),
    ("null timezone", "admin", "PATCH", "/v1/service-areas/{area}", {"timezone": None}, 422, ["body", "timezone"]),
    ("null business hours", "admin", "PATCH", "/v1/service-areas/{area}", {"business_hours": None}, 422, ["body", "business_hours"]),
    ("null latitude", "service_desk", "PATCH", "/v1/sites/{site}", {"lat": None}, 422, ["body", "lat"]),
    ("null name", "service_desk", "PATCH", "/v1/sites/{site}", {"name": None}, 422, ["body", "name"]),
    ("null weekly template", "dispatcher", "PATCH", "/v1/engineers/{engineer}", {"weekly_template": None}, 422, ["body", "weekly_template"]),
    ("null skills", "dispatcher", "PATCH", "/v1/engineers/{engineer}", {"skills": None}, 422, ["body", "skills"]),
    ("run in year 1", "dispatcher", "POST", "/v1/dispatch/runs", {"horizon_start": "0001-01-01"}, 422, ["body", "horizon_start"]),
    ("run in 9999", "dispatcher", "POST", "/v1/dispatch/runs", {"horizon_start": "9999-12-31"}, 422, ["body", "horizon_start"]),
    ("run in the past", "dispatcher", "POST", "/v1/dispatch/runs", {"horizon_start": "2026-11-20"}, 422, ["body", "horizon_start"]),
    ("run on a weekend nobody works", "dispatcher", "POST", "/v1/dispatch/runs", {"horizon_start": "2026-11-28"}, 422, ["body", "horizon_start"]),
    ("visit event in year 1", "engineer", "POST", "/v1/me/visits/{visit}/events", {"type": "accepted", "at": "0001-01-01T00:00:00Z"}, 422, ["body", "at"]),
    ("visit event before the request", "engineer", "POST", "/v1/me/visits/{visit}/events", {"type": "accepted", "at": "2026-11-01T00:00:00Z"}, 422, ["body", "at"]),
    ("position two days old", "engineer", "POST", "/v1/me/location", {"lat": 31.2, "lon": 121.4, "at": "2026-11-21T00:00:00Z"}, 422, ["body", "at"]),
]  # fmt: skip


def _fill(template: Any, world: dict[str, Any]) -> Any:
    """The case's body or path with the world's ids put in."""
    if isinstance(template, str):
        text = template
        for key, value in world.items():
            text = text.replace("{" + key + "}", str(value))
        return text
    if isinstance(template, dict):
        return {k: _fill(v, world) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, world) for v in template]
    return template


def _ids_as_ints(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: int(v)
            if isinstance(v, str) and v.isdigit() and k.endswith("_id")
            else _ids_as_ints(v)
            for k, v in body.items()
        }
    return body


@pytest.mark.parametrize(
    ("name", "role", "method", "path", "payload", "status", "loc"), CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(
    client: TestClient,
    auth,
    world: dict[str, Any],
    session: Session,
    name: str,
    role: str,
    method: str,
    path: str,
    payload: Any,
    status: int,
    loc: list[Any],
) -> None:
    """Each listed request answers its 4xx with ``loc`` naming the field; no row changes."""
    headers = auth(role, world["engineer"] if role == "engineer" else None)
    before = row_counts(session)
    kwargs: dict[str, Any] = {}
    if isinstance(payload, str):
        kwargs["content"] = _fill(payload, world)
        headers = headers | {"Content-Type": "application/json"}
    elif payload is not None:
        kwargs["json"] = _ids_as_ints(_fill(payload, world))
    r = client.request(method, _fill(path, world), headers=headers, **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["detail"][0]["loc"] == loc, r.text
    assert row_counts(session) == before


def test_a_huge_body_is_refused_before_it_is_read(client: TestClient, auth, world) -> None:
    """A 5 MB body is a 413, said in the one error shape."""
    big = json.dumps({"name": "x" * (5 * 1024 * 1024)})
    r = client.post(
        "/v1/customers",
        content=big,
        headers=auth("service_desk") | {"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["detail"][0]["type"] == "body_too_large"


def test_a_reused_idempotency_key_with_another_body_is_refused(
    client: TestClient, auth, world, session: Session
) -> None:
    """The same key with a different request is a 422 naming the header; the same request
    again is the original (200)."""
    headers = auth("service_desk") | {"Idempotency-Key": "call-1"}
    body = {"site_id": world["site"], "channel": "phone", "description": "chiller"}
    first = client.post("/v1/requests", json=body, headers=headers)
    assert first.status_code == 201
    again = client.post("/v1/requests", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    before = row_counts(session)
    other = client.post("/v1/requests", json=body | {"description": "boiler"}, headers=headers)
    assert other.status_code == 422, other.text
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert first.json()["external_ref"] in other.json()["detail"][0]["msg"]
    assert row_counts(session) == before


def test_no_run_and_no_shift_rows_for_a_refused_horizon(
    client: TestClient, auth, world, session: Session
) -> None:
    """A run refused for its horizon leaves neither a run nor materialised shifts behind."""
    count = {t: session.scalar(select(func.count()).select_from(t)) for t in (DispatchRun, Shift)}
    r = client.post(
        "/v1/dispatch/runs", json={"horizon_start": "2026-11-20"}, headers=auth("dispatcher")
    )
    assert r.status_code == 422
    session.expire_all()
    assert {t: session.scalar(select(func.count()).select_from(t)) for t in count} == count


def test_the_board_has_no_base_map_unless_a_tile_server_is_named(client, app, auth) -> None:
    """The board's map is tile-free by default (it works offline); ONSITE_TILE_URL names an
    organisation's tile server, told only to a signed-in board (the URL may carry a key), and
    a template without {z}/{x}/{y} is refused at start."""
    key = auth("dispatcher")
    assert client.get("/v1/board/config", headers=key).json() == {
        "tile_url": None,
        "tile_attribution": "",
    }
    assert client.get("/v1/board/config").status_code == 401
    app.state.settings = app.state.settings.model_copy(
        update={"tile_url": "https://tiles.example.com/{z}/{x}/{y}.png"}
    )
    assert client.get("/v1/board/config", headers=key).json()["tile_url"] == (
        "https://tiles.example.com/{z}/{x}/{y}.png"
    )
    with pytest.raises(ValueError, match="ONSITE_TILE_URL"):
        Settings(tile_url="https://tiles.example.com/tile.png")
