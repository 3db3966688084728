"""Out-of-town trips over HTTP: a run sends an engineer away overnight, and everyone sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

# Monday 23 November 2026, 08:00 in Shanghai.
NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
MONDAY = NOW.date()
TUESDAY = MONDAY + timedelta(days=1)
HOTEL = {"name": "Hefei Jinjiang Inn", "lat": 31.25, "lon": 117.55}


@pytest.fixture
def far_world(app, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Shanghai with one engineer; a customer's plant in Hefei, about six hours' drive away
    (13 hours there and back with the repair: more than the 9-hour day)."""
    app.state.clock.current = NOW
    shanghai = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
    create_area(
        session,
        name="Hefei",
        center=(31.23, 117.5),
        half=0.1,
        engineers_based=False,
        lodging=HOTEL,
    )
    # 08:00-17:00 with half an hour of lunch between 12:00 and 13:00: on the six-hour drive
    # lunch is taken on the road.
    engineer = create_engineer(
        session, area=shanghai, name="Wang Wei", home=(31.20, 121.44), skills={"hvac": 3}
    )
    customer = create_customer(session, name="Anhui Cold Chain")
    site = create_site(session, customer=customer, at=(31.23, 117.5), name="Hefei plant")
    session.commit()
    return {"area": shanghai, "engineer": engineer, "site": site}


def take(client: TestClient, auth, site_id: int, ref: str, tier: str = "general") -> dict[str, Any]:
    """A request for the far plant through intake, as the service desk takes it."""
    r = client.post(
        "/v1/requests",
        json={
            "site_id": site_id,
            "channel": "phone",
            "tier": tier,
            "external_ref": ref,
            "skills": [{"skill": "hvac", "min_level": 1}],
            "service_minutes": 60,
        },
        headers=auth("service_desk"),
    )
    assert r.status_code == 201, r.text
    return r.json()


def run(client: TestClient, auth, area_id: int, start, days: int) -> dict[str, Any]:
    r = client.post(
        "/v1/dispatch/runs",
        json={
            "scope": {"service_area_ids": [area_id]},
            "horizon_start": start.isoformat(),
            "days": days,
            "time_limit_s": 3,
        },
        headers=auth("dispatcher"),
    )
    assert r.status_code == 202, r.text
    return client.get(f"/v1/dispatch/runs/{r.json()['id']}", headers=auth("dispatcher")).json()


def day_plan(client: TestClient, auth, area_id: int, day) -> dict[str, Any]:
    r = client.get(
        f"/v1/dispatch/plan?service_area_id={area_id}&date={day}", headers=auth("dispatcher")
    )
    assert r.status_code == 200, r.text
    (route,) = r.json()["routes"]
    return route


def test_a_two_day_run_sends_the_engineer_to_the_far_site_with_a_night_at_the_hotel(
    client: TestClient, auth, far_world, session: Session
) -> None:
    """A site six hours away is unplannable in one day; a two-day run serves it on Monday
    afternoon inside the window intake promised (lunch taken on the road), the engineer
    sleeps at Hefei's hotel and drives home on Tuesday. The board and the engineer's app show
    the night away, and the published routes pass the checker."""
    area_id = far_world["area"].id
    taken = take(client, auth, far_world["site"].id, "FAR-1")
    promise = taken["promise"]
    one_day = run(client, auth, area_id, MONDAY, 1)
    assert [u["reason"] for u in one_day["unassigned"]] == ["unreachable"]

    two_days = run(client, auth, area_id, MONDAY, 2)
    assert two_days["status"] == "succeeded", two_days["failure_reason"]
    assert two_days["unassigned"] == []
    monday = day_plan(client, auth, area_id, MONDAY)
    assert [v["external_ref"] for v in monday["visits"]] == ["FAR-1"]
    assert monday["overnight"] == HOTEL and monday["starts_from"] is None
    (visit,) = monday["visits"]
    assert promise["window_start"] <= visit["eta"] <= promise["window_end"]
    assert visit["promise_state"] == "on_time"
    tuesday = day_plan(client, auth, area_id, TUESDAY)
    assert tuesday["visits"] == [] and tuesday["starts_from"] == HOTEL
    assert tuesday["overnight"] is None
    session.expire_all()
    assert check_published_routes(session) == 1

    key = auth("engineer", engineer_id=far_world["engineer"].id)
    mine = client.get(f"/v1/me/route?date={MONDAY}&geometry=true", headers=key).json()
    assert mine["overnight"] == HOTEL
    assert mine["geometry"]["coordinates"][-1] == [HOTEL["lon"], HOTEL["lat"]]
    home_day = client.get(f"/v1/me/route?date={TUESDAY}", headers=key).json()
    assert home_day["starts_from"] == HOTEL and home_day["overnight"] is None


def test_a_re_plan_of_the_second_day_keeps_the_engineer_starting_at_the_hotel(
    client: TestClient, auth, far_world
) -> None:
    """A one-day run of Tuesday does not decide Monday's night: the engineer still starts
    Tuesday at the hotel and drives home, and Monday's visit stays as published."""
    area_id = far_world["area"].id
    take(client, auth, far_world["site"].id, "FAR-1")
    run(client, auth, area_id, MONDAY, 2)
    again = run(client, auth, area_id, TUESDAY, 1)
    assert again["status"] == "succeeded", again["failure_reason"]
    tuesday = day_plan(client, auth, area_id, TUESDAY)
    assert tuesday["starts_from"] == HOTEL and tuesday["overnight"] is None
    assert again["unassigned"] == []
    monday = day_plan(client, auth, area_id, MONDAY)
    assert [v["external_ref"] for v in monday["visits"]] == ["FAR-1"]
    assert monday["overnight"] == HOTEL


def test_trips_follow_the_policy_and_lodgings_are_validated(
    client: TestClient, auth, far_world
) -> None:
    """A policy with one-day trips keeps everyone home (the far site stays unassigned); a
    lodging with a bad coordinate is a 422 naming the field."""
    area_id = far_world["area"].id
    take(client, auth, far_world["site"].id, "FAR-1")
    current = client.get("/v1/sla-policies", headers=auth("admin")).json()[0]
    published = client.post(
        "/v1/sla-policies",
        json={"rules": current["rules"]["rules"], "trips": {"max_days": 1}},
        headers=auth("admin"),
    )
    assert published.status_code == 201, published.text
    assert published.json()["rules"]["trip_max_days"] == 1
    two_days = run(client, auth, area_id, MONDAY, 2)
    assert [u["reason"] for u in two_days["unassigned"]] == ["unreachable"]

    bad = client.patch(
        f"/v1/service-areas/{area_id}",
        json={"lodging": {"name": "Inn", "lat": 131.2, "lon": 121.4}},
        headers=auth("admin"),
    )
    assert bad.status_code == 422
    assert "lodging" in bad.text and "lat" in bad.text


def test_a_far_site_is_promised_from_a_trip_that_can_be_routed(
    client: TestClient, auth, far_world
) -> None:
    """Intake asks the planner's own question for a site six hours away: no day from home and
    back reaches it, a night away does, so the promise is the trip's arrival on Monday
    afternoon, within the SLA and not at risk. With trips switched off the same request gets
    the SLA's deadline, at risk, with the reason."""
    site_id = far_world["site"].id
    taken = take(client, auth, site_id, "FAR-2", "important")
    capacity, promise = taken["capacity"], taken["promise"]
    assert capacity["overnight"] is True and capacity["within_sla"] is True, taken
    eta = datetime.fromisoformat(capacity["eta"])
    assert eta.date() == MONDAY and 13 <= eta.astimezone(UTC).hour + 8 <= 16
    window = (
        datetime.fromisoformat(promise["window_start"]),
        datetime.fromisoformat(promise["window_end"]),
    )
    assert window[0] <= eta <= window[1] and promise["at_risk"] is False

    current = client.get("/v1/sla-policies", headers=auth("admin")).json()[0]
    off = client.post(
        "/v1/sla-policies",
        json={"rules": current["rules"]["rules"], "trips": {"max_days": 1}},
        headers=auth("admin"),
    )
    assert off.status_code == 201, off.text
    alone = take(client, auth, site_id, "FAR-3", "important")
    assert alone["capacity"]["eta"] is None and alone["capacity"]["reason"] == "unreachable"
    assert alone["promise"]["at_risk"] is True
