"""Intake over HTTP: promises at once, idempotent retries, corrections, bad input."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import (
    create_area,
    create_customer,
    create_engineer,
    create_site,
    ensure_skill,
)

# Monday 23 November 2026, 10:00 in Shanghai (UTC+8).
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    app.state.clock.current = NOW
    # These tests pin the SLA promise; capacity and urgent insertion are tested in test_capacity.
    app.state.settings = app.state.settings.model_copy(
        update={"replan_on_urgent": False, "assign_on_intake": False}
    )
    shanghai = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
    create_engineer(session, area=shanghai, name="Base", home=(31.23, 121.47))
    ensure_skill(session, "plc")
    customer = create_customer(session, name="Acme Foods")
    vip = create_customer(session, name="Gold Plastics", vip_tier="gold")
    inside = create_site(session, customer=customer, at=(31.25, 121.50))
    vip_site = create_site(session, customer=vip, at=(31.20, 121.45))
    jiaxing = create_site(session, customer=customer, at=(30.75, 120.76), name="Jiaxing")
    beijing = create_site(session, customer=customer, at=(39.90, 116.40), name="Beijing")
    session.commit()
    return {"inside": inside, "vip": vip_site, "jiaxing": jiaxing, "beijing": beijing}


def body(site_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "channel": "phone",
        "description": "chiller tripped",
        "service_minutes": 90,
    } | overrides


def test_urgent_same_city_request_is_promised_at_once(client: TestClient, auth, world) -> None:
    """Urgent in Shanghai at 10:00: respond by 10:15, on site by 12:00, window 10:00-12:00 (an
    urgent call has no lead time: an engineer is sent now)."""
    r = client.post(
        "/v1/requests",
        json=body(world["inside"].id, tier="urgent", external_ref="CASE-1"),
        headers=auth("service_desk"),
    )
    assert r.status_code == 201, r.text
    req = r.json()
    p = req["promise"]
    assert req["status"] == "promised" and req["tier"] == "urgent"
    assert p["locality"] == "same_city" and p["policy_version"] == 1
    assert p["first_response_due"] == "2026-11-23T02:15:00Z"
    assert p["arrival_due"] == "2026-11-23T04:00:00Z"
    assert (p["window_start"], p["window_end"]) == ("2026-11-23T02:00:00Z", "2026-11-23T04:00:00Z")
    assert p["explanation"].startswith("urgent, same city (Shanghai), 24x7: on site by")
    events = client.get(f"/v1/requests/{req['id']}/events", headers=auth("service_desk")).json()
    assert [e["type"] for e in events] == ["created", "promised"]


def test_a_new_request_waits_for_its_turn_in_the_process(
    app, client: TestClient, auth, world
) -> None:
    """With every intake turn of the process taken, a new request is not worked on until one
    is given back, and is then taken as usual."""
    gate = app.state.intake_gate
    turns = app.state.settings.intake_concurrency
    for _ in range(turns):
        gate.acquire()
    answers: list[int] = []
    headers = auth("service_desk")
    caller = threading.Thread(
        target=lambda: answers.append(
            client.post(
                "/v1/requests",
                json=body(world["inside"].id, external_ref="TURN-1"),
                headers=headers,
            ).status_code
        )
    )
    caller.start()
    caller.join(timeout=0.5)
    assert caller.is_alive() and answers == []
    for _ in range(turns):
        gate.release()
    caller.join(timeout=30)
    assert answers == [201]


def test_vip_raises_general_to_important_and_says_why(client: TestClient, auth, world) -> None:
    """A gold customer's minor fault is promised as important, with the reason recorded."""
    r = client.post(
        "/v1/requests",
        json=body(world["vip"].id, problem_type="minor_fault"),
        headers=auth("service_desk"),
    )
    req = r.json()
    assert req["tier"] == "important"
    assert "gold" in req["tier_reason"]
    # 4 business hours from Monday 10:00 (open 09:00-18:00): 14:00 local.
    assert req["promise"]["arrival_due"] == "2026-11-23T06:00:00Z"


def test_out_of_town_site_gets_out_of_town_rule(client: TestClient, auth, world) -> None:
    """Jiaxing lies outside Shanghai: out of town, served from Shanghai, 12 h for urgent."""
    req = client.post(
        "/v1/requests", json=body(world["jiaxing"].id, tier="urgent"), headers=auth("service_desk")
    ).json()
    assert req["promise"]["locality"] == "out_of_town"
    assert req["promise"]["arrival_due"] == "2026-11-23T14:00:00Z"
    assert "out of town (from Shanghai" in req["promise"]["explanation"]


def test_retry_with_idempotency_key_returns_the_original(client: TestClient, auth, world) -> None:
    """The same Idempotency-Key answers 200 with the original request, never a duplicate."""
    headers = auth("service_desk") | {"Idempotency-Key": "k-1"}
    first = client.post("/v1/requests", json=body(world["inside"].id), headers=headers)
    again = client.post("/v1/requests", json=body(world["inside"].id), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    # The retry answers the stored request and promise; the capacity block belongs to the call
    # that created it.
    transient = {"capacity", "inserted", "replan_run_id"}
    assert {k: v for k, v in again.json().items() if k not in transient} == {
        k: v for k, v in first.json().items() if k not in transient
    }
    listed = client.get("/v1/requests", headers=auth("service_desk")).json()
    assert listed["total"] == 1


def test_repeated_external_ref_returns_the_original(client: TestClient, auth, world) -> None:
    """A repeated external reference answers 200 with the first request and its promise."""
    first = client.post(
        "/v1/requests",
        json=body(world["inside"].id, external_ref="CRM-9"),
        headers=auth("service_desk"),
    )
    again = client.post(
        "/v1/requests",
        json=body(world["vip"].id, external_ref="CRM-9", tier="urgent"),
        headers=auth("service_desk"),
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["site_id"] == world["inside"].id
    by_ref = client.get("/v1/requests/by-ref/CRM-9", headers=auth("dispatcher")).json()
    assert by_ref["id"] == first.json()["id"]


def test_idempotency_key_reused_for_another_reference_is_422(
    client: TestClient, auth, world
) -> None:
    """One key cannot stand for two different external references: the second is refused,
    naming the header."""
    headers = auth("service_desk") | {"Idempotency-Key": "k-2"}
    client.post("/v1/requests", json=body(world["inside"].id, external_ref="A"), headers=headers)
    r = client.post(
        "/v1/requests", json=body(world["inside"].id, external_ref="B"), headers=headers
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_correction_re_promises_and_keeps_the_earlier_promise(
    client: TestClient, auth, world, app
) -> None:
    """Raising the tier re-promises; the timeline keeps the earlier promise."""
    req = client.post(
        "/v1/requests", json=body(world["inside"].id, tier="general"), headers=auth("service_desk")
    ).json()
    # 8 business hours from Monday 10:00 on a 09:00-18:00 calendar: Monday 18:00 local.
    assert req["promise"]["arrival_due"] == "2026-11-23T10:00:00Z"
    app.state.clock.advance(minutes=20)
    r = client.patch(
        f"/v1/requests/{req['id']}",
        json={"tier": "urgent", "version": req["version"]},
        headers=auth("service_desk"),
    )
    assert r.status_code == 200, r.text
    fixed = r.json()
    # The SLA clock still runs from receipt (10:00), so urgent is due by 12:00.
    assert fixed["promise"]["arrival_due"] == "2026-11-23T04:00:00Z"
    assert fixed["promise"]["window_start"] == "2026-11-23T02:20:00Z"  # now 10:20: no lead
    events = client.get(f"/v1/requests/{req['id']}/events", headers=auth("service_desk")).json()
    assert [e["type"] for e in events] == ["created", "promised", "corrected", "re_promised"]
    assert events[-1]["payload"]["previous"]["arrival_due"] == "2026-11-23T10:00:00+00:00"


def test_acknowledge_once_then_409(client: TestClient, auth, world) -> None:
    """The first response is recorded once; a second acknowledgement is a conflict."""
    req = client.post(
        "/v1/requests", json=body(world["inside"].id), headers=auth("service_desk")
    ).json()
    url = f"/v1/requests/{req['id']}/acknowledge"
    ok = client.post(url, json={"note": "called back"}, headers=auth("service_desk"))
    assert ok.status_code == 200
    assert ok.json()["status"] == "acknowledged"
    assert ok.json()["acknowledged_at"] == "2026-11-23T02:00:00Z"
    assert client.post(url, json={}, headers=auth("service_desk")).status_code == 409


def test_cancel_with_reason_closes_the_request(client: TestClient, auth, world) -> None:
    """Cancelling records the reason; a cancelled request can no longer be corrected."""
    req = client.post(
        "/v1/requests", json=body(world["inside"].id), headers=auth("service_desk")
    ).json()
    r = client.post(
        f"/v1/requests/{req['id']}/cancel",
        json={"reason": "fixed by phone"},
        headers=auth("service_desk"),
    )
    assert r.json()["status"] == "cancelled" and r.json()["close_reason"] == "fixed by phone"
    r = client.patch(
        f"/v1/requests/{req['id']}", json={"tier": "urgent"}, headers=auth("service_desk")
    )
    assert r.status_code == 409


def test_customer_availability_is_hard(client: TestClient, auth, world) -> None:
    """Availability only tomorrow afternoon, beyond urgent's 2 h: the customer's choice is kept."""
    windows = [{"start": "2026-11-24T14:00:00+08:00", "end": "2026-11-24T17:00:00+08:00"}]
    req = client.post(
        "/v1/requests",
        json=body(world["inside"].id, tier="urgent", availability=windows),
        headers=auth("service_desk"),
    ).json()
    p = req["promise"]
    assert p["customer_chosen"] is True
    assert p["window_start"] == "2026-11-24T06:00:00Z"
    assert p["arrival_target"] <= "2026-11-24T09:00:00Z"


def test_quote_saves_nothing(client: TestClient, auth, world) -> None:
    """A quote answers the promise but creates no request."""
    r = client.post(
        "/v1/promises/quote",
        json={"site_id": world["inside"].id, "tier": "urgent"},
        headers=auth("service_desk"),
    )
    assert r.status_code == 200
    assert r.json()["arrival_due"] == "2026-11-23T04:00:00Z"
    quote_at = client.post(
        "/v1/promises/quote",
        json={"location": {"lat": 31.21, "lon": 121.48}, "tier": "important"},
        headers=auth("service_desk"),
    )
    assert quote_at.json()["locality"] == "same_city"
    assert client.get("/v1/requests", headers=auth("service_desk")).json()["total"] == 0


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"tier": "critical"}, ["body", "tier"]),
        (
            {
                "availability": [
                    {"start": "2026-11-23T16:00:00+08:00", "end": "2026-11-23T14:00:00+08:00"}
                ]
            },
            ["body", "availability", 0],
        ),
        (
            {
                "availability": [
                    {"start": "2026-11-20T09:00:00+08:00", "end": "2026-11-20T12:00:00+08:00"}
                ]
            },
            ["body", "availability", 0],
        ),
        (
            {"availability": [{"start": "2026-11-24T09:00:00", "end": "2026-11-24T12:00:00"}]},
            ["body", "availability", 0, "start"],
        ),
        ({"skills": [{"skill": "welding", "min_level": 2}]}, ["body", "skills", 0, "skill"]),
        ({"skills": [{"skill": "plc", "min_level": 7}]}, ["body", "skills", 0, "min_level"]),
        ({"channel": "fax"}, ["body", "channel"]),
        ({"site_id": 4242}, ["body", "site_id"]),
        ({"service_minutes": 0}, ["body", "service_minutes"]),
        ({"priority": "high"}, ["body", "priority"]),
    ],
)
def test_bad_request_input_is_422_naming_the_field(
    client: TestClient, auth, world, overrides: dict[str, Any], loc: list[Any]
) -> None:
    """Unknown tiers, backwards or past windows, naive times, unknown skills, bad channels,
    dangling sites and unknown fields each get a 422 naming the field."""
    r = client.post(
        "/v1/requests", json=body(world["inside"].id) | overrides, headers=auth("service_desk")
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][: len(loc)] == loc, r.json()


def test_site_beyond_service_range_is_422_naming_the_site(client: TestClient, auth, world) -> None:
    """Beijing is about 1,070 km away, beyond the policy's 8 h service range."""
    r = client.post("/v1/requests", json=body(world["beijing"].id), headers=auth("service_desk"))
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "site"]
    assert "service range" in detail["msg"]


def test_quote_coordinates_out_of_range_is_422(client: TestClient, auth, world) -> None:
    """A quote at latitude 100 names location.lat."""
    r = client.post(
        "/v1/promises/quote",
        json={"location": {"lat": 100, "lon": 121}},
        headers=auth("service_desk"),
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "location", "lat"]


def test_engineers_cannot_take_requests(client: TestClient, auth, world, session) -> None:
    """Intake is for the service desk and dispatchers."""
    from dispatch.models import Engineer

    engineer = session.query(Engineer).first()
    r = client.post(
        "/v1/requests",
        json=body(world["inside"].id),
        headers=auth("engineer", engineer_id=engineer.id),
    )
    assert r.status_code == 403


def test_admin_publishes_a_new_policy_version(client: TestClient, auth, world) -> None:
    """A new policy version applies to new requests; old requests keep theirs."""
    old = client.post(
        "/v1/requests", json=body(world["inside"].id, tier="urgent"), headers=auth("service_desk")
    ).json()
    current = client.get("/v1/sla-policies", headers=auth("dispatcher")).json()[0]
    rules = current["rules"]["rules"]
    for rule in rules:
        if rule["tier"] == "urgent" and rule["locality"] == "same_city":
            rule["arrival_min"] = 90
    r = client.post(
        "/v1/sla-policies",
        json={"rules": rules, "max_service_travel_s": 28800},
        headers=auth("admin"),
    )
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["active"]) == (2, True)
    new = client.post(
        "/v1/requests", json=body(world["inside"].id, tier="urgent"), headers=auth("service_desk")
    ).json()
    assert new["promise"]["policy_version"] == 2
    assert new["promise"]["arrival_due"] == "2026-11-23T03:30:00Z"
    again = client.get(f"/v1/requests/{old['id']}", headers=auth("service_desk")).json()
    assert again["promise"]["policy_version"] == 1


def test_policy_missing_a_rule_is_422(client: TestClient, auth, world) -> None:
    """A policy must cover every tier and locality."""
    rule = {
        "tier": "urgent",
        "locality": "same_city",
        "first_response_min": 15,
        "arrival_min": 120,
        "resolution_min": 120,
        "clock": "24x7",
    }
    r = client.post("/v1/sla-policies", json={"rules": [rule]}, headers=auth("admin"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:2] == ["body", "rules"]


def test_the_urgent_overtime_is_part_of_the_policy(client: TestClient, auth, world) -> None:
    """The urgent overtime is published with a policy version and read back; a negative or
    fractional one is a 422 naming the field."""
    current = client.get("/v1/sla-policies", headers=auth("dispatcher")).json()[0]
    rules = current["rules"]["rules"]
    payload = {"rules": rules, "max_service_travel_s": 28800, "urgent_overtime_minutes": 45}
    r = client.post("/v1/sla-policies", json=payload, headers=auth("admin"))
    assert r.status_code == 201, r.text
    stored = client.get(f"/v1/sla-policies/{r.json()['id']}", headers=auth("dispatcher"))
    assert stored.json()["rules"]["urgent_overtime_minutes"] == 45
    for bad in (-1, 12.5, None):
        r = client.post(
            "/v1/sla-policies",
            json={**payload, "urgent_overtime_minutes": bad},
            headers=auth("admin"),
        )
        assert r.status_code == 422, bad
        assert r.json()["detail"][0]["loc"] == ["body", "urgent_overtime_minutes"]


def _publish_platinum(client: TestClient, auth, **extra: Any) -> Any:
    """A contract with every same-city arrival within 1 h, round the clock."""
    current = client.get("/v1/sla-policies", headers=auth("dispatcher")).json()[0]
    rules = current["rules"]["rules"]
    for rule in rules:
        if rule["locality"] == "same_city":
            rule |= {"arrival_min": 60, "clock": "24x7"}
            rule["resolution_min"] = max(rule["resolution_min"], 60)
    return client.post(
        "/v1/sla-policies",
        json={"name": "platinum", "rules": rules, "max_service_travel_s": 28800, "contract": True}
        | extra,
        headers=auth("admin"),
    )


def test_a_contract_customer_is_promised_under_their_contract(
    client: TestClient, auth, world
) -> None:
    """A platinum contract (1 h same-city arrival, 24x7) applies to the customer who carries
    it, in quotes and in requests, which record the policy version; everyone else keeps the
    active policy, which publishing the contract left active."""
    published = _publish_platinum(client, auth)
    assert published.status_code == 201, published.text
    contract = published.json()
    assert (contract["active"], contract["contract"], contract["version"]) == (False, True, 1)
    policies = client.get("/v1/sla-policies", headers=auth("dispatcher")).json()
    assert [p["name"] for p in policies if p["active"]] == ["default"]
    site = client.get(f"/v1/sites/{world['inside'].id}", headers=auth("service_desk")).json()
    customer = client.get(
        f"/v1/customers/{site['customer_id']}", headers=auth("service_desk")
    ).json()
    r = client.patch(
        f"/v1/customers/{customer['id']}",
        json={"sla_contract": "platinum", "version": customer["version"]},
        headers=auth("service_desk"),
    )
    assert r.status_code == 200 and r.json()["sla_contract"] == "platinum", r.text
    quote = client.post(
        "/v1/promises/quote",
        json={"site_id": world["inside"].id, "tier": "general"},
        headers=auth("service_desk"),
    ).json()
    assert quote["arrival_due"] == "2026-11-23T03:00:00Z" and quote["policy"] == "platinum"
    made = client.post(
        "/v1/requests", json=body(world["inside"].id, tier="general"), headers=auth("service_desk")
    ).json()
    assert made["promise"]["arrival_due"] == "2026-11-23T03:00:00Z"
    assert made["sla_policy_id"] == contract["id"] and made["promise"]["policy_version"] == 1
    other = client.post(
        "/v1/requests", json=body(world["vip"].id, tier="general"), headers=auth("service_desk")
    ).json()
    assert other["sla_policy_id"] == next(p["id"] for p in policies if p["active"])
    assert other["promise"]["arrival_due"] != "2026-11-23T03:00:00Z"


def test_a_contract_must_exist_and_names_do_not_cross(client: TestClient, auth, world) -> None:
    """A customer cannot carry a contract nobody published (422 naming sla_contract), and a
    contract cannot take the active policy's name, nor the active policy a contract's."""
    made = client.post(
        "/v1/customers", json={"name": "Zeta", "sla_contract": "gold"}, headers=auth("admin")
    )
    assert made.status_code == 422 and made.json()["detail"][0]["loc"][-1] == "sla_contract"
    clash = _publish_platinum(client, auth, name="default")
    assert clash.status_code == 422 and clash.json()["detail"][0]["loc"][-1] == "name"
    assert _publish_platinum(client, auth).status_code == 201
    current = client.get("/v1/sla-policies", headers=auth("dispatcher")).json()
    rules = next(p for p in current if p["active"])["rules"]["rules"]
    back = client.post(
        "/v1/sla-policies",
        json={"name": "platinum", "rules": rules, "max_service_travel_s": 28800},
        headers=auth("admin"),
    )
    assert back.status_code == 422 and back.json()["detail"][0]["loc"][-1] == "name"
    zeta = client.post(
        "/v1/customers", json={"name": "Zeta", "sla_contract": "platinum"}, headers=auth("admin")
    )
    assert zeta.status_code == 201 and zeta.json()["sla_contract"] == "platinum", zeta.text
    cleared = client.patch(
        f"/v1/customers/{zeta.json()['id']}",
        json={"sla_contract": None, "version": zeta.json()["version"]},
        headers=auth("admin"),
    )
    assert cleared.status_code == 200 and cleared.json()["sla_contract"] is None


def _at(app, when: str) -> None:
    app.state.clock.current = datetime.fromisoformat(when)


def test_a_paused_resolution_clock_stands_still_and_moves_its_due_on(
    client: TestClient, auth, world, app
) -> None:
    """Waiting for the customer pauses the resolution clock (shown apart: state paused, its
    time left frozen, no resolution alert); resuming moves the due on by the time it stood,
    on the wall clock for a 24x7 rule; pausing twice or resuming a running clock is 409."""
    from tests.api.conftest import evaluate_alerts

    made = client.post(
        "/v1/requests", json=body(world["inside"].id, tier="urgent"), headers=auth("service_desk")
    ).json()
    rid = made["id"]
    due = datetime.fromisoformat(made["promise"]["resolution_due"])
    desk = auth("service_desk")
    blank = client.post(f"/v1/requests/{rid}/pause", json={"reason": " "}, headers=desk)
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"][-1] == "reason"
    assert client.post(f"/v1/requests/{rid}/resume", headers=desk).status_code == 409
    _at(app, "2026-11-23T02:30:00+00:00")
    paused = client.post(
        f"/v1/requests/{rid}/pause", json={"reason": "customer away for an hour"}, headers=desk
    )
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused_since"] == "2026-11-23T02:30:00Z"
    again = client.post(f"/v1/requests/{rid}/pause", json={"reason": "again"}, headers=desk)
    assert again.status_code == 409
    app.state.clock.current = due - timedelta(minutes=45)  # a resolution alert, unpaused
    clock = client.get(f"/v1/requests/{rid}/promise", headers=desk).json()["clocks"]["resolution"]
    assert clock["state"] == "paused" and clock["paused_since"] == "2026-11-23T02:30:00Z"
    assert clock["time_left_s"] == (due - NOW).total_seconds() - 30 * 60
    evaluate_alerts(app)
    alerts = client.get("/v1/alerts?kind=resolution_due", headers=desk).json()["items"]
    assert rid not in {a["request_id"] for a in alerts}
    app.state.clock.current = resumed_at = due - timedelta(minutes=40)
    resumed = client.post(f"/v1/requests/{rid}/resume", headers=desk)
    assert resumed.status_code == 200, resumed.text
    stood = resumed_at - datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert datetime.fromisoformat(resumed.json()["promise"]["resolution_due"]) == due + stood
    assert resumed.json()["paused_since"] is None
    clock = client.get(f"/v1/requests/{rid}/promise", headers=desk).json()["clocks"]["resolution"]
    assert clock["state"] != "paused" and clock["paused_s"] == stood.total_seconds()
    events = client.get(f"/v1/requests/{rid}/events", headers=desk).json()
    assert [e["type"] for e in events][-2:] == ["clock_paused", "clock_resumed"]


def test_a_paused_business_hours_clock_counts_only_the_open_time_it_stood(
    client: TestClient, auth, world, app
) -> None:
    """An important request (4 business hours to resolve, Mon-Fri 09:00-18:00) paused Monday
    11:00 and resumed Tuesday 10:00 stood 8 business hours: due Monday 15:30 (the 90 min of
    service included) becomes Tuesday 14:30."""
    made = client.post(
        "/v1/requests",
        json=body(world["inside"].id, tier="important"),
        headers=auth("service_desk"),
    ).json()
    rid = made["id"]
    assert made["promise"]["resolution_due"] == "2026-11-23T07:30:00Z"  # Monday 15:30
    desk = auth("service_desk")
    _at(app, "2026-11-23T03:00:00+00:00")  # Monday 11:00
    r = client.post(f"/v1/requests/{rid}/pause", json={"reason": "their decision"}, headers=desk)
    assert r.status_code == 200, r.text
    _at(app, "2026-11-24T02:00:00+00:00")  # Tuesday 10:00
    resumed = client.post(f"/v1/requests/{rid}/resume", headers=desk).json()
    assert resumed["promise"]["resolution_due"] == "2026-11-24T06:30:00Z"  # Tuesday 14:30


def test_a_pause_never_hides_or_undoes_a_breach(client: TestClient, auth, world, app) -> None:
    """A resolution clock paused after its due time shows breached, not paused, and resuming
    it moves nothing: the breach stands."""
    made = client.post(
        "/v1/requests", json=body(world["inside"].id, tier="urgent"), headers=auth("service_desk")
    ).json()
    rid, due = made["id"], made["promise"]["resolution_due"]
    desk = auth("service_desk")
    app.state.clock.current = datetime.fromisoformat(due) + timedelta(minutes=10)
    r = client.post(f"/v1/requests/{rid}/pause", json={"reason": "late anyway"}, headers=desk)
    assert r.status_code == 200, r.text
    clock = client.get(f"/v1/requests/{rid}/promise", headers=desk).json()["clocks"]["resolution"]
    assert clock["state"] == "breached"
    app.state.clock.current += timedelta(hours=2)
    resumed = client.post(f"/v1/requests/{rid}/resume", headers=desk).json()
    assert resumed["promise"]["resolution_due"] == due
