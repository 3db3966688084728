"""Capacity-aware promises: predicted arrivals, honest answers when the SLA cannot be met,
slot offers and bookings, and the immediate insertion of urgent requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.models import DispatchRun, Engineer, Visit
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

# Monday 23 November 2026, 09:00 in Shanghai.
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@pytest.fixture
def world(app, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    app.state.clock.current = NOW
    area = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
    a = create_engineer(
        session, area=area, name="Wang Wei", home=(31.20, 121.44), skills={"hvac": 4}
    )
    b = create_engineer(
        session, area=area, name="Li Na", home=(31.26, 121.50), skills={"hvac": 2, "plc": 3}
    )
    customer = create_customer(session, name="Acme Foods")
    inside = create_site(session, customer=customer, at=(31.24, 121.47))
    other = create_site(session, customer=customer, at=(31.21, 121.50), name="Depot")
    session.commit()
    return {"area": area, "engineers": (a, b), "site": inside, "other": other}


def test_quote_places_the_window_around_the_predicted_arrival(
    client: TestClient, auth, world
) -> None:
    """An important request: the ETA comes from inserting it into the plan and the window
    holds the ETA; the SLA deadline is unchanged."""
    body = {
        "site_id": world["site"].id,
        "tier": "important",
        "skills": [{"skill": "hvac", "min_level": 3}],
    }
    q = client.post("/v1/promises/quote", json=body, headers=auth("service_desk")).json()
    cap = q["capacity"]
    # Only Wang Wei holds hvac 3; he can take it today and on each of the three days after.
    assert cap["within_sla"] is True and cap["engineer"] == "Wei" and cap["options"] == 4
    eta = datetime.fromisoformat(cap["eta"])
    assert (
        datetime.fromisoformat(q["window_start"]) <= eta <= datetime.fromisoformat(q["window_end"])
    )
    # 4 business hours from 09:00 (the area opens 09:00-18:00): 13:00 local.
    assert q["arrival_due"] == "2026-11-23T05:00:00Z"
    assert q["at_risk"] is False


def test_no_qualified_engineer_is_said_not_promised(client: TestClient, auth, world) -> None:
    """Nobody holds PLC level 5: the answer says why instead of promising the impossible."""
    body = {
        "site_id": world["site"].id,
        "tier": "urgent",
        "skills": [{"skill": "plc", "min_level": 5}],
    }
    q = client.post("/v1/promises/quote", json=body, headers=auth("service_desk")).json()
    assert q["capacity"]["eta"] is None
    assert q["capacity"]["reason"] == "skill"
    assert q["at_risk"] is True
    assert "no engineer can take it" in q["risk_reason"]


def test_late_in_the_day_the_answer_gives_the_earliest_feasible_arrival(
    client: TestClient, auth, world, app
) -> None:
    """At 16:59 an urgent job (due 18:59) cannot be reached before shifts end at 17:00: the
    answer gives tomorrow morning's arrival and says the SLA cannot be met."""
    app.state.clock.current = datetime(2026, 11, 23, 8, 59, tzinfo=UTC)
    body = {"site_id": world["site"].id, "tier": "urgent"}
    q = client.post("/v1/promises/quote", json=body, headers=auth("service_desk")).json()
    cap = q["capacity"]
    assert cap["within_sla"] is False
    assert cap["eta"].startswith("2026-11-24T00:")  # Tuesday from 08:00 local
    assert "no engineer can be on site before" in cap["message"]
    assert q["at_risk"] is True
    assert q["arrival_due"] == "2026-11-23T10:59:00Z"


def test_slots_are_offered_and_booking_one_makes_it_the_promise(
    client: TestClient, auth, world
) -> None:
    """Two-hour slots current capacity can keep, best first; booking one promises that slot."""
    body = {"site_id": world["site"].id, "tier": "general", "limit": 4}
    offers = client.post("/v1/promises/slots", json=body, headers=auth("service_desk")).json()
    assert 1 <= len(offers) <= 4
    assert all(o["within_sla"] for o in offers[:1])
    for o in offers:
        start, end = datetime.fromisoformat(o["start"]), datetime.fromisoformat(o["end"])
        assert end - start == timedelta(hours=2)
        assert start <= datetime.fromisoformat(o["eta"]) <= end
    chosen = offers[-1]
    booked = client.post(
        "/v1/requests",
        json={
            "site_id": world["site"].id,
            "channel": "app",
            "tier": "general",
            "slot": {"start": chosen["start"], "end": chosen["end"]},
        },
        headers=auth("service_desk"),
    ).json()
    assert (booked["promise"]["window_start"], booked["promise"]["window_end"]) == (
        chosen["start"].replace("+00:00", "Z"),
        chosen["end"].replace("+00:00", "Z"),
    )


def test_urgent_request_is_inserted_at_once_and_its_area_replanned(
    client: TestClient, auth, world, session: Session
) -> None:
    """An urgent request gets a visit straight away, and a scoped re-plan runs after it."""
    r = client.post(
        "/v1/requests",
        json={
            "site_id": world["site"].id,
            "channel": "phone",
            "tier": "urgent",
            "skills": [{"skill": "hvac", "min_level": 1}],
        },
        headers=auth("service_desk"),
    ).json()
    assert r["inserted"] is True
    assert r["status"] == "assigned"
    assert r["capacity"]["within_sla"] is True
    session.expire_all()
    visit = session.scalar(select(Visit).where(Visit.request_id == r["id"]))
    assert visit is not None and visit.lock == "none"
    run = session.get(DispatchRun, r["replan_run_id"])
    assert run is not None and run.status == "succeeded", run.failure_reason if run else None
    assert run.scope["service_area_ids"] == [world["area"].id]
    check_published_routes(session)


def test_three_days_ahead_is_inside_the_capacity_horizon(client: TestClient, auth, world) -> None:
    """A booking on the third day after today is checked against real shifts (quote and
    intake look exactly as far as the capacity index covers), not flagged "no engineer"."""
    thursday = {"start": "2026-11-26T01:00:00Z", "end": "2026-11-26T04:00:00Z"}
    body = {"site_id": world["site"].id, "tier": "general", "availability": [thursday]}
    q = client.post("/v1/promises/quote", json=body, headers=auth("service_desk")).json()
    assert q["capacity"]["eta"] is not None and q["capacity"]["date"] == "2026-11-26"
    assert q["at_risk"] is False
    taken = client.post(
        "/v1/requests", json=body | {"channel": "email"}, headers=auth("service_desk")
    ).json()
    assert taken["promise"]["at_risk"] is False and taken["capacity"]["reason"] is None


def test_a_booking_after_the_horizon_is_promised_and_not_at_risk(
    client: TestClient, auth, world
) -> None:
    """Capacity is not known ten days ahead: the promise follows the SLA and the customer's
    window, is not flagged at risk, and the answer says why capacity was not checked."""
    later = {"start": "2026-12-03T01:00:00Z", "end": "2026-12-03T04:00:00Z"}
    body = {"site_id": world["site"].id, "tier": "general", "availability": [later]}
    q = client.post("/v1/promises/quote", json=body, headers=auth("service_desk")).json()
    assert q["at_risk"] is False
    assert q["capacity"]["reason"] == "beyond_horizon"


def test_the_risk_flag_follows_the_published_plan(
    client: TestClient, auth, world, session: Session
) -> None:
    """A request promised while nobody could take it is at risk; once a run plans it inside
    its window the flag and the reason clear, and the stored explanation never carried it."""
    session.execute(update(Engineer).values(active=False))
    session.commit()
    desk = auth("service_desk")
    taken = client.post(
        "/v1/requests",
        json={"site_id": world["site"].id, "channel": "phone", "tier": "general"},
        headers=desk,
    ).json()
    assert taken["promise"]["at_risk"] is True
    assert "at risk" not in taken["promise"]["explanation"]
    session.execute(update(Engineer).values(active=True))
    session.commit()
    run = client.post(
        "/v1/dispatch/runs",
        json={"horizon_start": "2026-11-23", "time_limit_s": 2},
        headers=auth("dispatcher"),
    )
    assert run.status_code == 202
    after = client.get(f"/v1/requests/{taken['id']}", headers=desk).json()
    assert after["status"] == "assigned"
    assert after["promise"]["at_risk"] is False and after["promise"]["risk_reason"] is None
    view = client.get("/v1/promises", params={"external_ref": taken["external_ref"]}, headers=desk)
    (promise,) = view.json()["items"]
    assert promise["promise_state"] == "on_time" and "at risk" not in promise["explanation"]


def test_a_promise_books_its_slot_so_the_next_caller_sees_it(
    client: TestClient, auth, world, session: Session
) -> None:
    """Each promised request is put into the route capacity found for it at once: two callers
    between runs cannot both be promised the same engineer's last free time."""
    session.execute(update(Engineer).values(max_visits=1))
    session.commit()
    desk = auth("service_desk")
    body = {
        "site_id": world["site"].id,
        "channel": "phone",
        "tier": "general",
        "skills": [{"skill": "hvac", "min_level": 3}],  # only Wang Wei
    }
    first = client.post("/v1/requests", json=body, headers=desk).json()
    second = client.post("/v1/requests", json=body, headers=desk).json()
    assert first["inserted"] is True and first["status"] == "assigned"
    assert first["capacity"]["date"] == "2026-11-23"
    # Wang Wei's one visit today is taken: the second caller is offered his next day.
    assert second["capacity"]["date"] == "2026-11-24"
    visits = session.scalars(select(Visit).where(Visit.request_id.in_([first["id"], second["id"]])))
    assert sorted(v.date.isoformat() for v in visits) == ["2026-11-23", "2026-11-24"]


def test_parts_fill_the_van_so_the_next_job_goes_to_another_day(
    client: TestClient, auth, world, session: Session, app
) -> None:
    """Wang Wei's van holds 10: a job needing 8 is booked today, the next needing 5 cannot join
    it and is promised his next day, one needing 2 still fits today; a run keeps every van
    within its capacity, and more than any van holds is answered honestly, not promised."""
    session.execute(
        update(Engineer).where(Engineer.id == world["engineers"][0].id).values(capacity=10)
    )
    session.execute(
        update(Engineer).where(Engineer.id == world["engineers"][1].id).values(capacity=0)
    )
    session.commit()
    desk = auth("service_desk")

    def take(volume: int, ref: str) -> dict[str, Any]:
        body = {
            "site_id": world["site"].id,
            "channel": "phone",
            "tier": "general",
            "external_ref": ref,
            "parts_volume": volume,
        }
        r = client.post("/v1/requests", json=body, headers=desk)
        assert r.status_code == 201, r.text
        return r.json()

    big, medium, small = take(8, "VAN-1"), take(5, "VAN-2"), take(2, "VAN-3")
    assert big["parts_volume"] == 8
    assert big["capacity"]["date"] == "2026-11-23" and big["capacity"]["engineer"] == "Wei"
    assert medium["capacity"]["date"] == "2026-11-24"
    assert small["capacity"]["date"] == "2026-11-23"
    # A dispatcher putting the 5 on today's van too is warned before anything is committed.
    check = client.post(
        "/v1/dispatch/assignments",
        json={
            "request_id": medium["id"],
            "engineer_id": world["engineers"][0].id,
            "date": "2026-11-23",
            "dry_run": True,
        },
        headers=auth("dispatcher"),
    )
    assert check.status_code == 200, check.text
    assert "capacity" in [w["code"] for w in check.json()["warnings"]]
    r = client.post(
        "/v1/dispatch/runs",
        json={
            "scope": {"service_area_ids": [world["area"].id]},
            "horizon_start": "2026-11-23",
            "days": 2,
            "time_limit_s": 2,
        },
        headers=auth("dispatcher"),
    )
    assert r.status_code == 202, r.text
    run = client.get(f"/v1/dispatch/runs/{r.json()['id']}", headers=auth("dispatcher")).json()
    assert run["status"] == "succeeded", run
    session.expire_all()
    assert check_published_routes(session) == 3  # vans within capacity, checked independently
    too_big = client.post(
        "/v1/promises/quote",
        json={"site_id": world["site"].id, "tier": "general", "parts_volume": 11},
        headers=desk,
    ).json()
    assert too_big["capacity"]["eta"] is None and too_big["capacity"]["reason"]
