"""Dispatch runs, the plan, manual changes, the engineer's app and the service desk over HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Visit
from dispatch.requests.intake import take_request
from tests.api.conftest import evaluate_alerts
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.plan_checker import check_published_routes

# Monday 23 November 2026, 08:00 in Shanghai.
NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
DAY = NOW.date()


@pytest.fixture
def world(app, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    app.state.clock.current = NOW
    area = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
    a = create_engineer(
        session, area=area, name="Wang Wei", home=(31.20, 121.44), skills={"hvac": 4, "plc": 2}
    )
    b = create_engineer(
        session, area=area, name="Li Na", home=(31.26, 121.50), skills={"hvac": 2, "electrical": 3}
    )
    c = create_engineer(
        session, area=area, name="Zhang Tao", home=(31.24, 121.40), skills={"plc": 5}
    )
    customer = create_customer(session, name="Acme Foods")
    spots = [
        (31.21, 121.45),
        (31.25, 121.49),
        (31.27, 121.42),
        (31.19, 121.52),
        (31.23, 121.38),
        (31.30, 121.47),
    ]
    sites = [
        create_site(session, customer=customer, at=p, name=f"Plant {i}")
        for i, p in enumerate(spots)
    ]
    needs = [("hvac", 3), ("hvac", 1), ("plc", 4), ("electrical", 2), ("plc", 1), ("hvac", 2)]
    tiers = ["urgent", "important", "general", "general", "important", "general"]
    requests = []
    for i, (site, (skill, level), tier) in enumerate(zip(sites, needs, tiers, strict=True)):
        request = take_request(
            session,
            now=NOW,
            actor="test",
            site_id=site.id,
            channel="phone",
            tier=tier,
            external_ref=f"CASE-{i}",
            skills=[{"skill": skill, "min_level": level}],
            service_minutes=60,
        ).request
        requests.append(request)
    session.commit()
    return {"area": area, "engineers": (a, b, c), "requests": requests, "sites": sites}


def run_plan(client: TestClient, auth, area_id: int) -> dict[str, Any]:
    r = client.post(
        "/v1/dispatch/runs",
        json={
            "scope": {"service_area_ids": [area_id]},
            "horizon_start": DAY.isoformat(),
            "days": 1,
            "time_limit_s": 2,
        },
        headers=auth("dispatcher"),
    )
    assert r.status_code == 202, r.text
    return client.get(f"/v1/dispatch/runs/{r.json()['id']}", headers=auth("dispatcher")).json()


def test_run_plans_every_request_and_respects_skills_shifts_breaks(
    client: TestClient, auth, world, session: Session
) -> None:
    """A run assigns all six requests; the independent checker accepts every route."""
    run = run_plan(client, auth, world["area"].id)
    assert run["status"] == "succeeded", run["failure_reason"]
    assert run["kpis_before"]["assigned"] == 0 and run["kpis_before"]["unassigned"] == 6
    assert run["kpis_after"]["assigned"] == 6 and run["kpis_after"]["unassigned"] == 0
    assert run["unassigned"] == []
    assert sum(len(r["visits"]) for r in run["plan"]) == 6
    session.expire_all()
    assert check_published_routes(session) == 6
    request = client.get(f"/v1/requests/{world['requests'][0].id}", headers=auth("dispatcher"))
    assert request.json()["status"] == "assigned"


def test_plan_view_shows_routes_and_promise_states(client: TestClient, auth, world) -> None:
    """The dispatcher's day lists each engineer with ordered visits, ETAs and promise states."""
    run_plan(client, auth, world["area"].id)
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}",
        headers=auth("dispatcher"),
    ).json()
    assert [r["engineer"]["name"] for r in plan["routes"]] == ["Li Na", "Wang Wei", "Zhang Tao"]
    visits = [v for r in plan["routes"] for v in r["visits"]]
    assert len(visits) == 6
    assert all(v["promise_state"] in ("on_time", "at_risk", "late") for v in visits)
    assert all(v["eta"] is not None for v in visits)
    assert plan["unassigned"] == []
    assert plan["plan_version"] == 1


def test_plan_view_shows_where_each_engineer_last_reported_being(
    app, client: TestClient, auth, world
) -> None:
    """An engineer's location reports reach the dispatcher's day: the last one of that day up
    to now, with its time; an engineer who reported nothing has no position."""
    wang = world["engineers"][0]
    key = auth("engineer", engineer_id=wang.id)
    for minutes, lat in ((0, 31.20), (10, 31.21)):
        app.state.clock.current = NOW + timedelta(minutes=minutes)
        r = client.post("/v1/me/location", json={"lat": lat, "lon": 121.45}, headers=key)
        assert r.status_code in (200, 201, 202, 204), r.text
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}",
        headers=auth("dispatcher"),
    ).json()
    seen = {r["engineer"]["name"]: r["engineer"]["position"] for r in plan["routes"]}
    assert seen["Wang Wei"] == {"lat": 31.21, "lon": 121.45, "at": "2026-11-23T00:10:00Z"}
    assert seen["Li Na"] is None and seen["Zhang Tao"] is None
    tomorrow = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY + timedelta(days=1)}",
        headers=auth("dispatcher"),
    ).json()
    assert all(r["engineer"]["position"] is None for r in tomorrow["routes"])


def test_manual_assignment_warns_before_committing(
    client: TestClient, auth, world, session: Session
) -> None:
    """Assigning a PLC level-4 job to an engineer without PLC warns; it commits only when the
    dispatcher accepts the warnings; the visit is then locked to that engineer and the plan
    view marks the accepted override on it."""
    plc_job = world["requests"][2]
    li = world["engineers"][1]
    body = {
        "request_id": plc_job.id,
        "engineer_id": li.id,
        "date": DAY.isoformat(),
        "dry_run": True,
    }
    check_r = client.post("/v1/dispatch/assignments", json=body, headers=auth("dispatcher"))
    assert check_r.status_code == 200, check_r.text
    check = check_r.json()
    assert [w["code"] for w in check["warnings"]] == ["skill"]
    assert check["committed"] is False
    refused = client.post(
        "/v1/dispatch/assignments", json=body | {"dry_run": False}, headers=auth("dispatcher")
    )
    assert refused.status_code == 409
    done = client.post(
        "/v1/dispatch/assignments",
        json=body | {"dry_run": False, "accept_warnings": True},
        headers=auth("dispatcher"),
    ).json()
    assert done["committed"] is True
    visit = session.scalar(select(Visit).where(Visit.request_id == plc_job.id))
    assert visit is not None and visit.engineer_id == li.id and visit.lock == "engineer"
    # The board marks the override the dispatcher accepted on the visit.
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}",
        headers=auth("dispatcher"),
    ).json()
    shown = {v["request_id"]: v["overrides"] for r in plan["routes"] for v in r["visits"]}
    assert shown == {plc_job.id: ["skill"]}


def test_locked_visit_keeps_its_engineer_through_a_run(
    client: TestClient, auth, world, session: Session
) -> None:
    """After a lock by engineer, a new run leaves the visit with that engineer."""
    run_plan(client, auth, world["area"].id)
    session.expire_all()
    target = world["requests"][1]
    visit = session.scalar(select(Visit).where(Visit.request_id == target.id))
    assert visit is not None
    other = next(
        e
        for e in world["engineers"]
        if e.id != visit.engineer_id and e.skills[0].skill.code == "hvac"
    )
    moved = client.post(
        "/v1/dispatch/assignments",
        json={
            "request_id": target.id,
            "engineer_id": other.id,
            "date": DAY.isoformat(),
            "accept_warnings": True,
        },
        headers=auth("dispatcher"),
    )
    assert moved.status_code == 200 and moved.json()["committed"], moved.text
    lock = client.post(
        f"/v1/visits/{visit.id}/lock", json={"kind": "engineer"}, headers=auth("dispatcher")
    )
    assert lock.status_code == 200 and lock.json()["lock"] == "engineer"
    rerun = run_plan(client, auth, world["area"].id)
    assert rerun["status"] == "succeeded", rerun["failure_reason"]
    session.expire_all()
    check_published_routes(session, locks={target.id: ("engineer", other.id, None)})
    assert (
        client.delete(f"/v1/visits/{visit.id}/lock", headers=auth("dispatcher")).json()["lock"]
        == "none"
    )


def _move(client: TestClient, auth, **body: Any) -> Any:
    return client.post(
        "/v1/dispatch/assignments",
        json={"date": DAY.isoformat()} | body,
        headers=auth("dispatcher"),
    )


def test_a_visit_dropped_at_a_time_is_kept_there_through_retiming_and_runs(
    client: TestClient, auth, world, session: Session
) -> None:
    """A drop on the board (an arrival) places the visit where that time falls, times it to
    start then, locks it to the engineer and the time, and later changes and runs keep it."""
    run_plan(client, auth, world["area"].id)
    session.expire_all()
    target = world["requests"][1]
    visit = session.scalar(select(Visit).where(Visit.request_id == target.id))
    assert visit is not None and visit.lock == "none"
    # Twenty minutes after the best time the check finds, on a five-minute mark.
    best = _move(
        client, auth, request_id=target.id, engineer_id=visit.engineer_id, dry_run=True
    ).json()
    eta = datetime.fromisoformat(best["eta"]) + timedelta(minutes=20)
    keep = eta + timedelta(minutes=(-eta.minute) % 5, seconds=-eta.second)
    kept_there = {
        "request_id": target.id,
        "engineer_id": visit.engineer_id,
        "arrival": keep.isoformat(),
    }
    check = _move(client, auth, **kept_there, dry_run=True).json()
    assert datetime.fromisoformat(check["eta"]) == keep and check["committed"] is False
    assert "time" not in [w["code"] for w in check["warnings"]]
    assert [r["request_id"] for r in check["route"]][check["position"]] == target.id
    done = _move(client, auth, **kept_there, accept_warnings=True).json()
    assert done["committed"] is True
    session.expire_all()
    visit = session.get(Visit, visit.id)
    assert visit is not None
    assert (visit.lock, visit.locked_arrival, visit.planned_start) == ("both", keep, keep)
    # Another change to the same route re-times it: the kept visit stays at its time.
    other = next(r for r in world["requests"] if r.id != target.id)
    _move(client, auth, request_id=other.id, engineer_id=visit.engineer_id, accept_warnings=True)
    session.expire_all()
    assert session.get(Visit, visit.id).planned_start == keep  # type: ignore[union-attr]
    rerun = run_plan(client, auth, world["area"].id)
    assert rerun["status"] == "succeeded", rerun["failure_reason"]
    session.expire_all()

    check_published_routes(session, locks={target.id: ("both", visit.engineer_id, keep)})


def test_a_drop_the_engineer_cannot_reach_in_time_warns_and_bad_arrivals_are_refused(
    client: TestClient, auth, world, session: Session
) -> None:
    """An arrival sooner than the drive allows answers a 'time' warning with the earliest
    time; an arrival in the past or on another day is a 422 naming the field."""
    run_plan(client, auth, world["area"].id)
    session.expire_all()
    target = world["requests"][5]
    visit = session.scalar(select(Visit).where(Visit.request_id == target.id))
    assert visit is not None
    soon = NOW + timedelta(minutes=1)
    check = _move(
        client,
        auth,
        request_id=target.id,
        engineer_id=visit.engineer_id,
        arrival=soon.isoformat(),
        position=0,
        dry_run=True,
    ).json()
    assert "time" in [w["code"] for w in check["warnings"]]
    assert datetime.fromisoformat(check["eta"]) > soon
    for arrival, why in (
        (NOW - timedelta(hours=1), "past"),
        (NOW + timedelta(days=1, hours=2), "not on"),
    ):
        r = _move(
            client,
            auth,
            request_id=target.id,
            engineer_id=visit.engineer_id,
            arrival=arrival.isoformat(),
            dry_run=True,
        )
        assert r.status_code == 422, r.text
        assert "arrival" in r.text and why in r.text
    bad = _move(
        client,
        auth,
        request_id=target.id,
        engineer_id=visit.engineer_id,
        lock="sometimes",
        dry_run=True,
    )
    assert bad.status_code == 422 and "lock" in bad.text


def test_undoing_a_move_puts_the_visit_back_as_it_was(
    client: TestClient, auth, world, session: Session
) -> None:
    """Moving a visit to a colleague and back with its old place and lock ('none') leaves the
    visit with its engineer, place, times and lock as before the move."""
    run_plan(client, auth, world["area"].id)
    session.expire_all()
    target = world["requests"][1]
    visit = session.scalar(select(Visit).where(Visit.request_id == target.id))
    assert visit is not None
    before = (visit.engineer_id, visit.sequence, visit.planned_start, visit.lock)
    mine = session.scalars(
        select(Visit)
        .where(Visit.engineer_id == visit.engineer_id, Visit.date == DAY)
        .order_by(Visit.sequence)
    ).all()
    place = [v.id for v in mine].index(visit.id)
    other = next(e for e in world["engineers"] if e.id != visit.engineer_id)
    moved = _move(
        client, auth, request_id=target.id, engineer_id=other.id, accept_warnings=True
    ).json()
    assert moved["committed"] and moved["engineer_id"] == other.id
    back = _move(
        client,
        auth,
        request_id=target.id,
        engineer_id=before[0],
        position=place,
        lock="none",
        accept_warnings=True,
    ).json()
    assert back["committed"] is True
    session.expire_all()
    visit = session.get(Visit, visit.id)
    assert visit is not None
    assert (visit.engineer_id, visit.sequence, visit.planned_start, visit.lock) == before
    assert visit.locked_arrival is None


def test_unassign_returns_the_request_to_the_queue(
    client: TestClient, auth, world, session: Session
) -> None:
    """Unassigning deletes the visit; the plan lists the request as unassigned."""
    run_plan(client, auth, world["area"].id)
    session.expire_all()
    visit = session.scalar(select(Visit).where(Visit.request_id == world["requests"][3].id))
    assert visit is not None
    r = client.post(f"/v1/visits/{visit.id}/unassign", headers=auth("dispatcher"))
    assert r.json()["status"] == "promised"
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}",
        headers=auth("dispatcher"),
    ).json()
    assert [u["external_ref"] for u in plan["unassigned"]] == ["CASE-3"]


def _before(arrival: datetime, *, minutes: int) -> datetime:
    """``minutes`` before an arrival, but not before the requests were made (an urgent one's
    first visit can be minutes after the call)."""
    return max(arrival - timedelta(minutes=minutes), NOW)


def _my_first_visit(client: TestClient, auth, engineer_id: int) -> tuple[dict, dict[str, str]]:
    headers = auth("engineer", engineer_id=engineer_id)
    route = client.get(f"/v1/me/route?date={DAY}&geometry=true", headers=headers).json()
    return route, headers


def test_engineer_reports_progress_and_etas_move(client: TestClient, auth, world, app) -> None:
    """accepted -> en_route -> arrived -> completed; a late arrival pushes the next ETAs."""
    run_plan(client, auth, world["area"].id)
    engineer = next(
        e for e in world["engineers"] if len(_my_first_visit(client, auth, e.id)[0]["visits"]) >= 2
    )
    route, headers = _my_first_visit(client, auth, engineer.id)
    assert route["geometry"]["type"] == "LineString"
    shift = route["shift"]
    # The app shows when the plan has the break, not only its window.
    assert shift["planned_break_start"] is not None
    assert shift["break_start"] <= shift["planned_break_start"] < shift["planned_break_end"]
    assert len(route["geometry"]["coordinates"]) == len(route["visits"]) + 2
    first, second = route["visits"][0], route["visits"][1]
    assert first["navigation"]["geo_uri"].startswith("geo:")
    assert first["customer"]["name"] == "Acme Foods"
    url = f"/v1/me/visits/{first['visit_id']}/events"
    # Arriving before being en route is impossible.
    assert client.post(url, json={"type": "arrived"}, headers=headers).status_code == 409
    accepted = client.post(url, json={"type": "accepted", "at": NOW.isoformat()}, headers=headers)
    assert accepted.status_code == 201
    again = client.post(url, json={"type": "accepted", "at": NOW.isoformat()}, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    # A retry without the time, a few minutes later (the phone lost the answer), is harmless.
    app.state.clock.advance(minutes=3)
    retried = client.post(url, json={"type": "accepted"}, headers=headers)
    assert retried.status_code == 200 and retried.json()["duplicate"] is True
    # Setting off just before the next visit was due leaves no slack: its ETA must move.
    app.state.clock.current = datetime.fromisoformat(second["eta"]) - timedelta(minutes=10)
    en_route = client.post(url, json={"type": "en_route"}, headers=headers)
    assert en_route.status_code == 201, en_route.text
    assert (
        client.post(
            url,
            json={"type": "arrived", "lat": first["site"]["lat"], "lon": first["site"]["lon"]},
            headers=headers,
        ).status_code
        == 201
    )
    moved = client.get(f"/v1/me/route?date={DAY}", headers=headers).json()["visits"][1]
    assert datetime.fromisoformat(moved["eta"]) > datetime.fromisoformat(second["eta"])
    app.state.clock.advance(minutes=60)
    done = client.post(url, json={"type": "completed"}, headers=headers)
    assert done.json()["status"] == "completed"
    promise = client.get(
        f"/v1/requests/{first['request']['id']}/promise", headers=auth("service_desk")
    ).json()
    assert promise["status"] == "completed"
    progress = {"engineer_accepted", "en_route", "on_site", "completed"}
    assert [e["type"] for e in promise["timeline"] if e["type"] in progress] == [
        "engineer_accepted",
        "en_route",
        "on_site",
        "completed",
    ]


def _set_hours(
    client: TestClient, auth, engineer_id: int, kind: str, start: str, end: str
) -> dict[str, Any]:
    """Record other hours for the engineer today; the answer (what moved, the re-plan)."""
    r = client.put(
        f"/v1/engineers/{engineer_id}/shift-exceptions",
        json={"date": DAY.isoformat(), "kind": kind, "hours": {"start": start, "end": end}},
        headers=auth("dispatcher"),
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_an_engineer_who_sets_off_before_the_shift_is_timed_from_now(
    client: TestClient, auth, world, app
) -> None:
    """Setting off at 08:10 for a shift that starts at 09:00 is accepted (it was a 500) and
    the ETA runs from where and when the engineer is, not from the shift's start."""
    engineer = world["engineers"][0]
    _set_hours(client, auth, engineer.id, "changed", "09:00", "18:00")
    run_plan(client, auth, world["area"].id)
    route, headers = _my_first_visit(client, auth, engineer.id)
    visit = route["visits"][0]
    app.state.clock.current = NOW + timedelta(minutes=20)
    _report(
        client,
        app,
        visit["visit_id"],
        headers,
        ("accepted", NOW + timedelta(minutes=5)),
        ("en_route", NOW + timedelta(minutes=10)),
    )
    app.state.clock.current = NOW + timedelta(minutes=20)
    route, _ = _my_first_visit(client, auth, engineer.id)
    mine = next(v for v in route["visits"] if v["visit_id"] == visit["visit_id"])
    assert mine["status"] == "en_route"
    assert datetime.fromisoformat(mine["eta"]) < NOW + timedelta(hours=1)  # before 09:00


def _assign(client: TestClient, auth, request_id: int, engineer_id: int, day: date) -> None:
    """A dispatcher's assignment, committed with its warnings accepted."""
    done = client.post(
        "/v1/dispatch/assignments",
        json={
            "request_id": request_id,
            "engineer_id": engineer_id,
            "date": day.isoformat(),
            "dry_run": False,
            "accept_warnings": True,
        },
        headers=auth("dispatcher"),
    )
    assert done.status_code == 200 and done.json()["committed"] is True, done.text


def test_setting_off_today_for_tomorrows_visit_is_accepted(
    client: TestClient, auth, world, app
) -> None:
    """A dispatcher puts a visit on tomorrow's route; the engineer, free early, accepts it and
    sets off today: the report is taken (it was a 500) and the visit is under way."""
    engineer = world["engineers"][0]
    tomorrow = DAY + timedelta(days=1)
    _assign(client, auth, world["requests"][5].id, engineer.id, tomorrow)
    headers = auth("engineer", engineer_id=engineer.id)
    route = client.get(f"/v1/me/route?date={tomorrow}", headers=headers).json()
    (visit,) = route["visits"]
    _report(
        client,
        app,
        visit["visit_id"],
        headers,
        ("accepted", NOW + timedelta(minutes=5)),
        ("en_route", NOW + timedelta(minutes=10)),
    )
    route = client.get(f"/v1/me/route?date={tomorrow}", headers=headers).json()
    assert route["visits"][0]["status"] == "en_route"


def test_cannot_complete_needs_a_reason(client: TestClient, auth, world) -> None:
    """cannot_complete without a reason is 422; with one it closes the visit."""
    run_plan(client, auth, world["area"].id)
    engineer = world["engineers"][0]
    route, headers = _my_first_visit(client, auth, engineer.id)
    url = f"/v1/me/visits/{route['visits'][0]['visit_id']}/events"
    client.post(url, json={"type": "accepted"}, headers=headers)
    r = client.post(url, json={"type": "cannot_complete"}, headers=headers)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reason"]
    r = client.post(
        url, json={"type": "cannot_complete", "reason": "part missing"}, headers=headers
    )
    assert r.json()["status"] == "cannot_complete"


def test_engineer_cannot_touch_another_engineers_visits(client: TestClient, auth, world) -> None:
    """Another engineer's visit is 404; the dispatcher-only endpoints are 403 for engineers."""
    run_plan(client, auth, world["area"].id)
    a, b, _ = world["engineers"]
    route, _ = _my_first_visit(client, auth, a.id)
    visit_id = route["visits"][0]["visit_id"]
    other = auth("engineer", engineer_id=b.id)
    r = client.post(f"/v1/me/visits/{visit_id}/events", json={"type": "accepted"}, headers=other)
    assert r.status_code == 404
    assert (
        client.get(
            f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}", headers=other
        ).status_code
        == 403
    )
    assert client.get("/v1/me/route", headers=auth("dispatcher")).status_code == 403


def test_service_desk_cannot_run_or_move(client: TestClient, auth, world) -> None:
    """The service desk reads promises but may not start runs or move visits; no key is 401."""
    body = {"horizon_start": DAY.isoformat()}
    assert (
        client.post("/v1/dispatch/runs", json=body, headers=auth("service_desk")).status_code == 403
    )
    move = {
        "request_id": world["requests"][0].id,
        "engineer_id": world["engineers"][0].id,
        "date": DAY.isoformat(),
    }
    assert (
        client.post("/v1/dispatch/assignments", json=move, headers=auth("service_desk")).status_code
        == 403
    )
    assert client.post("/v1/dispatch/runs", json=body).status_code == 401
    assert client.get("/v1/alerts").status_code == 401


def test_promise_view_has_clocks_and_engineer(client: TestClient, auth, world, app) -> None:
    """The desk sees the window, ETA, engineer's first name and SLA clock states."""
    run_plan(client, auth, world["area"].id)
    urgent = world["requests"][0]
    app.state.clock.current = NOW + timedelta(minutes=10)
    view = client.get(f"/v1/requests/{urgent.id}/promise", headers=auth("service_desk")).json()
    assert view["engineer"]["first_name"] in ("Wei", "Na", "Tao")
    assert view["eta"] is not None
    # Urgent: 15 min first response, 10 min used -> 66.7 % -> warning.
    assert view["clocks"]["response"]["state"] == "warning"
    assert view["clocks"]["response"]["time_left_s"] == 300
    assert view["clocks"]["arrival"]["state"] == "ok"
    found = client.get("/v1/promises?external_ref=CASE-0", headers=auth("service_desk")).json()[
        "items"
    ]
    assert [p["request_id"] for p in found] == [urgent.id]


def _report(
    client: TestClient,
    app,
    visit_id: int,
    headers: dict[str, str],
    *steps: tuple[str, datetime],
) -> None:
    """Report each (event, time) on the visit, the clock moved to each time first."""
    for kind, at in steps:
        app.state.clock.current = at
        r = client.post(
            f"/v1/me/visits/{visit_id}/events",
            json={"type": kind, "at": at.isoformat()},
            headers=headers,
        )
        assert r.status_code == 201, r.text


def test_an_arrival_stops_a_response_clock_nobody_stopped(
    client: TestClient, auth, world, app
) -> None:
    """A request nobody acknowledged has its response clock stopped by the engineer's arrival
    (breached, with met_at the arrival, when that was past the due time), its arrival and
    resolution clocks met, and no first-response alert left once it is done."""
    run_plan(client, auth, world["area"].id)
    engineer = world["engineers"][0]
    route, headers = _my_first_visit(client, auth, engineer.id)
    visit = route["visits"][0]
    request_id = visit["request"]["id"]
    arrival = datetime.fromisoformat(visit["eta"])
    _report(
        client,
        app,
        visit["visit_id"],
        headers,
        ("accepted", _before(arrival, minutes=30)),
        ("en_route", _before(arrival, minutes=20)),
        ("arrived", arrival),
        ("completed", arrival + timedelta(minutes=40)),
    )
    app.state.clock.current = arrival + timedelta(hours=1)
    view = client.get(f"/v1/requests/{request_id}/promise", headers=auth("service_desk")).json()
    response = view["clocks"]["response"]
    assert datetime.fromisoformat(response["met_at"]) == arrival
    due = datetime.fromisoformat(response["due"])
    assert response["state"] == ("met" if arrival <= due else "breached")
    assert view["clocks"]["arrival"]["met_at"] is not None
    assert view["clocks"]["resolution"]["state"] == "met"
    assert "acknowledged" in [e["type"] for e in view["timeline"]]
    evaluate_alerts(app)
    alerts = client.get("/v1/alerts", headers=auth("dispatcher")).json()["items"]
    assert not [
        a for a in alerts if a["kind"] == "first_response_due" and a["request_id"] == request_id
    ]


def _to_the_door(
    client: TestClient, app, visit: dict[str, Any], headers: dict[str, str]
) -> datetime:
    """Accept, set off and arrive at the visit's ETA; the clock is then at the arrival."""
    arrival = datetime.fromisoformat(visit["eta"])
    _report(
        client,
        app,
        visit["visit_id"],
        headers,
        ("accepted", _before(arrival, minutes=30)),
        ("en_route", _before(arrival, minutes=20)),
        ("arrived", arrival),
    )
    return arrival


def test_the_engineer_at_the_door_ends_a_pause(client: TestClient, auth, world, app) -> None:
    """A request paused while waiting for the customer runs again when the engineer arrives:
    the timeline says so and the resolution clock is no longer paused."""
    run_plan(client, auth, world["area"].id)
    route, headers = _my_first_visit(client, auth, world["engineers"][0].id)
    visit = route["visits"][0]
    request_id = visit["request"]["id"]
    r = client.post(
        f"/v1/requests/{request_id}/pause",
        json={"reason": "customer's gate is locked"},
        headers=auth("service_desk"),
    )
    assert r.status_code == 200 and r.json()["paused_since"] is not None, r.text
    arrival = _to_the_door(client, app, visit, headers)
    after = client.get(f"/v1/requests/{request_id}", headers=auth("service_desk")).json()
    assert after["paused_since"] is None
    events = client.get(f"/v1/requests/{request_id}/events", headers=auth("service_desk"))
    resumed = [e for e in events.json() if e["type"] == "clock_resumed"]
    assert resumed and datetime.fromisoformat(resumed[0]["at"]) == arrival


def test_a_visit_that_needs_parts_keeps_the_request_open_for_a_return_visit(
    client: TestClient, auth, world, app, session: Session
) -> None:
    """cannot_complete with needs_parts ends the visit, not the request: the return visit is
    promised from when the parts are in (its window after that), booked into a route, the
    customer told of the new window; the resolution clock keeps its due time, and completing
    the return visit closes the request."""
    run_plan(client, auth, world["area"].id)
    engineer = world["engineers"][0]
    route, headers = _my_first_visit(client, auth, engineer.id)
    visit = route["visits"][0]
    request_id = visit["request"]["id"]
    desk = auth("service_desk")
    before = client.get(f"/v1/requests/{request_id}/promise", headers=desk).json()
    arrival = _to_the_door(client, app, visit, headers)
    app.state.clock.current = arrival + timedelta(minutes=30)
    ready = NOW + timedelta(days=1, hours=2)  # Tuesday 10:00 in Shanghai
    r = client.post(
        f"/v1/me/visits/{visit['visit_id']}/events",
        json={
            "type": "cannot_complete",
            "reason": "needs_parts: compressor on order",
            "ready_at": ready.isoformat(),
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["status"] == "cannot_complete"
    assert datetime.fromisoformat(answer["return_window_start"]) >= ready
    view = client.get(f"/v1/requests/{request_id}/promise", headers=desk).json()
    assert view["status"] in ("assigned", "acknowledged")
    assert view["clocks"]["resolution"]["due"] == before["clocks"]["resolution"]["due"]
    assert view["clocks"]["resolution"]["state"] != "met"
    types = [e["type"] for e in view["timeline"]]
    assert types.index("return_visit_needed") < types.index("re_promised", types.index("on_site"))
    session.expire_all()
    visits = session.scalars(
        select(Visit).where(Visit.request_id == request_id).order_by(Visit.id)
    ).all()
    assert visits[0].status == "cannot_complete"
    assert len(visits) == 2 and visits[1].status == "planned"
    assert visits[1].planned_start >= ready  # it may drive there early and wait at the door
    from dispatch.models import OutboxEvent

    told = session.scalars(
        select(OutboxEvent.type).where(OutboxEvent.request_id == request_id)
    ).all()
    assert "promise.changed" in told and "visit.cannot_complete" not in told
    # The return visit, made and completed, closes the request on its first resolution clock.
    second = visits[1]
    their = auth("engineer", engineer_id=second.engineer_id)
    mine = client.get(f"/v1/me/route?date={second.date}", headers=their).json()
    back = next(v for v in mine["visits"] if v["visit_id"] == second.id)
    done_at = _to_the_door(client, app, back, their) + timedelta(minutes=40)
    app.state.clock.current = done_at
    r = client.post(f"/v1/me/visits/{second.id}/events", json={"type": "completed"}, headers=their)
    assert r.status_code == 201, r.text
    closed = client.get(f"/v1/requests/{request_id}/promise", headers=desk).json()
    assert closed["status"] == "completed"
    resolution = closed["clocks"]["resolution"]
    assert resolution["due"] == before["clocks"]["resolution"]["due"]
    assert datetime.fromisoformat(resolution["met_at"]) == done_at


@pytest.mark.parametrize(
    ("reason", "ready_in", "field"),
    [
        ("customer refused the repair", timedelta(hours=1), "ready_at"),
        ("needs_parts", timedelta(days=-1), "ready_at"),
        ("needs_parts", timedelta(days=90), "ready_at"),
    ],
)
def test_a_return_visit_time_is_checked(
    client: TestClient, auth, world, app, reason: str, ready_in: timedelta, field: str
) -> None:
    """A ready_at on a final reason, before the report or more than 60 days ahead is a 422
    naming ready_at, and the visit stays on site."""
    run_plan(client, auth, world["area"].id)
    route, headers = _my_first_visit(client, auth, world["engineers"][0].id)
    visit = route["visits"][0]
    arrival = _to_the_door(client, app, visit, headers)
    r = client.post(
        f"/v1/me/visits/{visit['visit_id']}/events",
        json={
            "type": "cannot_complete",
            "reason": reason,
            "ready_at": (arrival + ready_in).isoformat(),
        },
        headers=headers,
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", field]
    again = client.get(f"/v1/me/route?date={DAY}", headers=headers).json()
    assert again["visits"][0]["status"] == "arrived"


def test_leave_moves_the_engineers_day_to_colleagues(
    client: TestClient, auth, world, session: Session
) -> None:
    """Leave recorded for a planned day takes every visit of that day off the engineer's route
    (each request's timeline says why) and re-plans the area at once: none stays with them,
    the checker accepts every route, and what no colleague can take waits with a reason."""
    run_plan(client, auth, world["area"].id)
    engineer = world["engineers"][0]
    route, _ = _my_first_visit(client, auth, engineer.id)
    mine = sorted(v["request"]["id"] for v in route["visits"])
    assert mine
    r = client.put(
        f"/v1/engineers/{engineer.id}/shift-exceptions",
        json={"date": DAY.isoformat(), "kind": "leave", "note": "sick"},
        headers=auth("dispatcher"),
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert sorted(answer["moved_request_ids"]) == mine and answer["replan_run_id"] is not None
    run = client.get(
        f"/v1/dispatch/runs/{answer['replan_run_id']}", headers=auth("dispatcher")
    ).json()
    assert run["status"] == "succeeded", run
    session.expire_all()
    assert not session.scalars(
        select(Visit).where(
            Visit.engineer_id == engineer.id, Visit.date == DAY, Visit.status == "planned"
        )
    ).all()
    check_published_routes(session)
    for request_id in mine:
        events = client.get(f"/v1/requests/{request_id}/events", headers=auth("dispatcher"))
        moved = [e for e in events.json() if e["type"] == "moved_for_absence"]
        assert moved and moved[0]["payload"]["reason"] == "leave: sick"
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}",
        headers=auth("dispatcher"),
    ).json()
    waiting = {u["request_id"]: u for u in plan["unassigned"]}
    planned = {v["request_id"] for r in plan["routes"] for v in r["visits"]}
    assert all(rid in planned or waiting[rid]["reason"] for rid in mine)


def test_a_promise_no_colleague_can_keep_after_an_absence_raises_an_alert(
    client: TestClient, auth, world, app
) -> None:
    """Only Zhang Tao holds plc 4: his leave leaves CASE-2 with nobody, and the alert rules
    say so (naming him and the reason) until someone is assigned; his other visits, which
    colleagues took, raise none."""
    run_plan(client, auth, world["area"].id)
    tao = world["engineers"][2]
    r = client.put(
        f"/v1/engineers/{tao.id}/shift-exceptions",
        json={"date": DAY.isoformat(), "kind": "leave", "note": "sick"},
        headers=auth("dispatcher"),
    )
    assert r.status_code == 200, r.text
    moved = r.json()["moved_request_ids"]
    case_2 = world["requests"][2].id
    assert case_2 in moved
    evaluate_alerts(app)
    alerts = client.get("/v1/alerts?kind=moved_by_absence", headers=auth("dispatcher")).json()
    flagged = {a["request_id"]: a for a in alerts["items"]}
    assert case_2 in flagged
    assert "Zhang Tao is absent (leave: sick)" in flagged[case_2]["message"]
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}",
        headers=auth("dispatcher"),
    ).json()
    planned = {v["request_id"] for route in plan["routes"] for v in route["visits"]}
    assert not set(flagged) & planned


def _deactivate(client: TestClient, auth, engineer_id: int) -> None:
    current = client.get(f"/v1/engineers/{engineer_id}", headers=auth("dispatcher")).json()
    r = client.patch(
        f"/v1/engineers/{engineer_id}",
        json={"active": False, "version": current["version"]},
        headers=auth("dispatcher"),
    )
    assert r.status_code == 200, r.text


def test_a_deactivated_engineer_keeps_no_visit_and_hours_that_still_hold_move_nothing(
    client: TestClient, auth, world, session: Session
) -> None:
    """Other hours that still cover every planned visit move nothing; deactivating the
    engineer moves all their coming visits to the plan."""
    run_plan(client, auth, world["area"].id)
    engineer = world["engineers"][1]
    route, _ = _my_first_visit(client, auth, engineer.id)
    assert route["visits"]
    wide = _set_hours(client, auth, engineer.id, "overtime", "07:00", "21:00")
    assert wide["moved_request_ids"] == [] and wide["replan_run_id"] is None
    _deactivate(client, auth, engineer.id)
    session.expire_all()
    assert not session.scalars(
        select(Visit).where(Visit.engineer_id == engineer.id, Visit.status == "planned")
    ).all()
    check_published_routes(session)


def test_deactivating_an_areas_last_engineer_leaves_the_work_waiting(
    client: TestClient, auth, world, session: Session
) -> None:
    """Deactivating every engineer of the area, the last one too (no one is left to re-plan
    with), is accepted: nobody keeps a visit and every request waits unassigned."""
    run_plan(client, auth, world["area"].id)
    for engineer in world["engineers"]:
        _deactivate(client, auth, engineer.id)
    session.expire_all()
    assert not session.scalars(select(Visit).where(Visit.status == "planned")).all()
    for request in world["requests"]:
        got = client.get(f"/v1/requests/{request.id}", headers=auth("dispatcher")).json()
        assert got["status"] == "promised"


def _visit_of(session: Session, request_id: int) -> Visit | None:
    session.expire_all()
    return session.scalar(
        select(Visit).where(Visit.request_id == request_id, Visit.status == "planned")
    )


def test_a_declined_visit_goes_to_a_colleague_and_never_back(
    client: TestClient, auth, world, session: Session
) -> None:
    """An engineer declines a planned visit with a reason: it leaves their route, the re-plan
    gives it to a qualified colleague (never back to them), the timeline says who and why, and
    a repeat of the decline changes nothing."""
    run_plan(client, auth, world["area"].id)
    case_1 = world["requests"][1]  # hvac 1: Wang Wei and Li Na are both qualified
    visit = _visit_of(session, case_1.id)
    assert visit is not None
    decliner, visit_id = visit.engineer_id, visit.id
    headers = auth("engineer", engineer_id=decliner)
    r = client.post(
        f"/v1/me/visits/{visit_id}/decline", json={"reason": "van broke down"}, headers=headers
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["request_id"] == case_1.id and answer["duplicate"] is False
    run = client.get(
        f"/v1/dispatch/runs/{answer['replan_run_id']}", headers=auth("dispatcher")
    ).json()
    assert run["status"] == "succeeded", run
    moved = _visit_of(session, case_1.id)
    assert moved is not None and moved.engineer_id != decliner
    check_published_routes(session)
    events = client.get(f"/v1/requests/{case_1.id}/events", headers=auth("dispatcher")).json()
    declined = [e for e in events if e["type"] == "declined"]
    assert declined and declined[0]["payload"] == {
        "visit_id": visit_id,
        "engineer_id": decliner,
        "reason": "van broke down",
    }
    again = client.post(
        f"/v1/me/visits/{visit_id}/decline", json={"reason": "van broke down"}, headers=headers
    )
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True and again.json()["replan_run_id"] is None
    # A later plan of the day still leaves the decliner out.
    run_plan(client, auth, world["area"].id)
    later = _visit_of(session, case_1.id)
    assert later is not None and later.engineer_id != decliner


def test_only_a_visit_of_mine_not_yet_under_way_can_be_declined(
    client: TestClient, auth, world, app
) -> None:
    """Declining needs a reason (422 naming it), another engineer's visit is not found (404),
    and a visit already en route is a 409 that points to cannot_complete."""
    run_plan(client, auth, world["area"].id)
    route, headers = next(
        (route, headers)
        for route, headers in (_my_first_visit(client, auth, e.id) for e in world["engineers"])
        if route["visits"]
    )
    visit = route["visits"][0]
    url = f"/v1/me/visits/{visit['visit_id']}/decline"
    blank = client.post(url, json={"reason": "   "}, headers=headers)
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"][-1] == "reason"
    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"][-1] == "reason"
    other = next(e for e in world["engineers"] if e.id != route["engineer"]["id"])
    foreign = client.post(
        url, json={"reason": "not mine"}, headers=auth("engineer", engineer_id=other.id)
    )
    assert foreign.status_code == 404
    arrival = datetime.fromisoformat(visit["eta"])
    _report(
        client,
        app,
        visit["visit_id"],
        headers,
        ("accepted", _before(arrival, minutes=30)),
        ("en_route", arrival),
    )
    late = client.post(url, json={"reason": "changed my mind"}, headers=headers)
    assert late.status_code == 409 and "cannot_complete" in late.text


def test_a_visit_only_the_decliner_can_do_waits_with_an_alert_until_a_dispatcher_decides(
    client: TestClient, auth, world, app, session: Session
) -> None:
    """Only Zhang Tao holds plc 4: when he declines CASE-2 the re-plan leaves it unassigned
    with reason declined and the desk is alerted (naming him and the reason); a dispatcher who
    assigns it back to him has the last word, and the alert goes."""
    run_plan(client, auth, world["area"].id)
    tao = world["engineers"][2]
    case_2 = world["requests"][2]
    visit = _visit_of(session, case_2.id)
    assert visit is not None and visit.engineer_id == tao.id
    r = client.post(
        f"/v1/me/visits/{visit.id}/decline",
        json={"reason": "no ladder for that roof"},
        headers=auth("engineer", engineer_id=tao.id),
    )
    assert r.status_code == 200, r.text
    plan = client.get(
        f"/v1/dispatch/plan?service_area_id={world['area'].id}&date={DAY}",
        headers=auth("dispatcher"),
    ).json()
    waiting = {u["request_id"]: u for u in plan["unassigned"]}
    assert waiting[case_2.id]["reason"] == "declined", waiting
    evaluate_alerts(app)
    alerts = client.get("/v1/alerts?kind=declined_unassigned", headers=auth("dispatcher")).json()
    flagged = {a["request_id"]: a for a in alerts["items"]}
    assert "Zhang Tao declined the visit (no ladder for that roof)" in flagged[case_2.id]["message"]
    _assign(client, auth, case_2.id, tao.id, DAY)
    run_plan(client, auth, world["area"].id)
    kept = _visit_of(session, case_2.id)
    assert kept is not None and kept.engineer_id == tao.id
    evaluate_alerts(app)
    open_alerts = client.get(
        "/v1/alerts?kind=declined_unassigned&state=open", headers=auth("dispatcher")
    ).json()
    assert case_2.id not in {a["request_id"] for a in open_alerts["items"]}


def test_alerts_name_the_request_and_an_action(client: TestClient, auth, world, app) -> None:
    """An unacknowledged urgent request 20 min old raises a first-response alert."""
    app.state.clock.current = NOW + timedelta(minutes=20)
    evaluate_alerts(app)
    alerts = client.get("/v1/alerts", headers=auth("dispatcher")).json()["items"]
    first = [a for a in alerts if a["kind"] == "first_response_due"]
    assert [a["external_ref"] for a in first][:1] == ["CASE-0"]
    assert first[0]["severity"] == "danger"
    assert "call the customer" in first[0]["suggested_action"]


def test_candidates_rank_the_qualified_engineers_by_their_check(
    client: TestClient, auth, world
) -> None:
    """The picker's ranking for a PLC level-4 job: only Zhang Tao (PLC 5) is qualified and
    comes first with an ETA and the drive; the others follow, marked unqualified with their
    levels; nothing is assigned by asking; an unknown request is a 404 naming it."""
    plc_job = world["requests"][2]
    r = client.post(
        "/v1/dispatch/candidates",
        json={"request_id": plc_job.id, "date": DAY.isoformat()},
        headers=auth("dispatcher"),
    )
    assert r.status_code == 200, r.text
    ranked = r.json()
    assert ranked[0]["name"] == "Zhang Tao"
    first = ranked[0]
    assert first["qualified"] and first["available"] and first["eta"] is not None
    assert first["travel_to_site_s"] > 0
    assert first["skills"] == [{"skill": "plc", "level": 5, "min_level": 4}]
    others = {c["name"]: c for c in ranked[1:]}
    assert others["Wang Wei"]["qualified"] is False
    assert others["Wang Wei"]["skills"] == [{"skill": "plc", "level": 2, "min_level": 4}]
    assert others["Li Na"]["skills"] == [{"skill": "plc", "level": 0, "min_level": 4}]
    request = client.get(f"/v1/requests/{plc_job.id}", headers=auth("dispatcher")).json()
    assert request["status"] == "promised"
    missing = client.post(
        "/v1/dispatch/candidates",
        json={"request_id": 999999, "date": DAY.isoformat()},
        headers=auth("dispatcher"),
    )
    assert missing.status_code == 404 and "request_id" in missing.text
