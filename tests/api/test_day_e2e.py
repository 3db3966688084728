"""A whole day over HTTP on the demo data: requests are promised, a run plans, engineers report
progress, ETAs move, alerts fire, the service desk sees it all, and an independent checker
confirms every published route respects skills, shifts, breaks and locks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Visit
from tests.api.conftest import evaluate_alerts
from tests.fixtures.demo_day import DEMO_KEYS, load_demo_day
from tests.fixtures.plan_checker import check_published_routes

# Monday 23 November 2026, 07:30 in Shanghai: before the first shifts start.
MORNING = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
DAY = "2026-11-23"


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_KEYS[role]}"}


def test_a_day_in_the_life(client: TestClient, app, session: Session) -> None:
    """Promise, plan, report, re-time, alert, lock, re-plan and check, end to end."""
    clock = app.state.clock
    clock.current = MORNING
    load_demo_day(session, MORNING)
    session.commit()
    desk, dispatcher = bearer("service_desk"), bearer("dispatcher")

    # 1. A customer calls: the desk quotes, then takes the request; both answer with a promise.
    site = client.get("/v1/sites?locality=same_city&limit=1", headers=desk).json()["items"][0]
    quote = client.post(
        "/v1/promises/quote", json={"site_id": site["id"], "tier": "important"}, headers=desk
    )
    assert quote.status_code == 200 and quote.json()["capacity"] is not None
    taken = client.post(
        "/v1/requests",
        json={
            "site_id": site["id"],
            "channel": "phone",
            "tier": "important",
            "external_ref": "E2E-1",
        },
        headers=desk,
    )
    assert taken.status_code == 201
    assert taken.json()["promise"]["window_end"] <= taken.json()["promise"]["arrival_due"]

    # 2. The dispatcher plans the day for every area.
    run = client.post(
        "/v1/dispatch/runs",
        json={"horizon_start": DAY, "days": 1, "time_limit_s": 3},
        headers=dispatcher,
    )
    assert run.status_code == 202
    result = client.get(f"/v1/dispatch/runs/{run.json()['id']}", headers=dispatcher).json()
    assert result["status"] == "succeeded", result["failure_reason"]
    assert result["kpis_after"]["assigned"] > 50
    assert all(u["reason"] and u["message"] for u in result["unassigned"])
    session.expire_all()
    assert check_published_routes(session) == result["kpis_after"]["assigned"]

    # 3. An engineer with a full day starts late: the next ETAs move and the desk sees it.
    area_ids = [
        a["id"] for a in client.get("/v1/service-areas", headers=dispatcher).json()["items"]
    ]
    plans = [
        client.get(f"/v1/dispatch/plan?service_area_id={a}&date={DAY}", headers=dispatcher).json()
        for a in area_ids
    ]
    busy = next(r for p in plans for r in p["routes"] if len(r["visits"]) >= 3)
    key = client.post(
        "/v1/api-keys",
        json={"name": "phone", "role": "engineer", "engineer_id": busy["engineer"]["id"]},
        headers=bearer("admin"),
    ).json()
    me = {"Authorization": f"Bearer {key['key']}"}
    route = client.get(f"/v1/me/route?date={DAY}", headers=me).json()
    assert [v["visit_id"] for v in route["visits"]] == [v["visit_id"] for v in busy["visits"]]
    first, second = route["visits"][0], route["visits"][1]
    url = f"/v1/me/visits/{first['visit_id']}/events"
    clock.current = datetime.fromisoformat(first["eta"]) + timedelta(minutes=75)
    for kind in ("accepted", "en_route"):
        assert client.post(url, json={"type": kind}, headers=me).status_code == 201
    now_route = client.get(f"/v1/me/route?date={DAY}", headers=me).json()
    assert now_route["visits"][0]["eta"] > first["eta"]
    moved_second = now_route["visits"][1]["eta"]
    assert moved_second >= second["eta"]

    # 4. Alerts fire: this engineer runs behind plan; unanswered requests need a call back.
    evaluate_alerts(app)
    alerts = client.get("/v1/alerts?limit=1000", headers=dispatcher).json()["items"]
    kinds = {a["kind"] for a in alerts}
    assert "engineer_behind_plan" in kinds or "eta_after_window" in kinds
    assert all(a["request_id"] and a["suggested_action"] for a in alerts)
    behind = [
        a
        for a in alerts
        if a["kind"] in ("engineer_behind_plan", "eta_after_window")
        and a.get("engineer_id") == route["engineer"]["id"]
    ]
    assert behind, "the late engineer's requests are flagged"

    # 5. The service desk sees the live ETA, the engineer's first name and the clocks.
    view = client.get(f"/v1/requests/{first['request']['id']}/promise", headers=desk).json()
    assert view["eta"] == now_route["visits"][0]["eta"]
    assert view["engineer"]["first_name"] == route["engineer"]["name"].split()[-1]
    assert view["visit_status"] == "en_route"
    assert set(view["clocks"]) == {"response", "arrival", "resolution"}
    assert [e["type"] for e in view["timeline"]][:2] == ["created", "promised"]

    # 6. The engineer arrives and completes; the dispatcher locks a visit and re-plans.
    arrived = client.post(url, json={"type": "arrived"}, headers=me)
    assert arrived.status_code == 201, arrived.text
    clock.advance(minutes=first["service_minutes"])
    assert client.post(url, json={"type": "completed"}, headers=me).status_code == 201
    area = busy_area = next(p["service_area_id"] for p in plans if busy in p["routes"])
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={area}&date={DAY}", headers=dispatcher
    ).json()
    lockable = next(
        v
        for r in plan["routes"]
        for v in r["visits"]
        if v["status"] == "planned"
        and r["engineer"]["id"] != route["engineer"]["id"]
        # a visit in the engineer's own city: one a dispatcher locks and a re-plan can keep
        and v["travel_seconds"] < 3600
    )
    engineer_of = {v["visit_id"]: r["engineer"]["id"] for r in plan["routes"] for v in r["visits"]}
    lock = client.post(
        f"/v1/visits/{lockable['visit_id']}/lock", json={"kind": "engineer"}, headers=dispatcher
    )
    assert lock.status_code == 200
    rerun = client.post(
        "/v1/dispatch/runs",
        json={
            "horizon_start": DAY,
            "days": 1,
            "time_limit_s": 3,
            "scope": {"service_area_ids": [busy_area]},
        },
        headers=dispatcher,
    )
    again = client.get(f"/v1/dispatch/runs/{rerun.json()['id']}", headers=dispatcher).json()
    assert again["status"] == "succeeded", again["failure_reason"]
    session.expire_all()
    check_published_routes(
        session,
        locks={lockable["request_id"]: ("engineer", engineer_of[lockable["visit_id"]], None)},
    )
    done = session.scalar(select(Visit).where(Visit.id == first["visit_id"]))
    assert done is not None and done.status == "completed"
