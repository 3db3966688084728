"""Analytics: the API's figures equal an independent computation from the raw timeline events,
on both databases, and empty periods answer cleanly."""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import RequestEvent
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site

# Monday 23 November 2026, 08:00 in Shanghai.
MORNING = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
DAY = "2026-11-23"


@pytest.fixture
def day(client: TestClient, app, auth, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A small day: 10 requests over channels and tiers, acknowledged at different delays,
    planned, visited (some inside the window, some late), completed or cancelled."""
    clock = app.state.clock
    clock.current = MORNING
    app.state.settings = app.state.settings.model_copy(update={"replan_on_urgent": False})
    area = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
    engineers = [
        create_engineer(session, area=area, name=n, home=h, skills={"hvac": 3})
        for n, h in (("Wang Wei", (31.20, 121.44)), ("Li Na", (31.26, 121.50)))
    ]
    customer = create_customer(session, name="Acme Foods")
    spots = [
        (31.21, 121.45),
        (31.25, 121.49),
        (31.27, 121.42),
        (31.19, 121.52),
        (31.23, 121.38),
        (31.30, 121.47),
        (31.22, 121.51),
        (31.28, 121.46),
        (31.18, 121.43),
        (31.24, 121.41),
    ]
    sites = [
        create_site(session, customer=customer, at=p, name=f"Plant {i}")
        for i, p in enumerate(spots)
    ]
    session.commit()
    desk = auth("service_desk")
    channels = ["phone", "online", "email", "app", "on_site"]
    tiers = ["important", "general", "urgent", "general", "important"]
    ids = []
    for i, site in enumerate(sites):
        received = MORNING - timedelta(minutes=5 + 13 * i)
        r = client.post(
            "/v1/requests",
            json={
                "site_id": site.id,
                "channel": channels[i % 5],
                "tier": tiers[i % 5],
                "external_ref": f"A-{i}",
                "service_minutes": 30,
                "received_at": received.isoformat(),
            },
            headers=desk,
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    for i, request_id in enumerate(ids[:7]):
        at = MORNING - timedelta(minutes=4 + 13 * i) + timedelta(minutes=3 * i)
        ok = client.post(
            f"/v1/requests/{request_id}/acknowledge", json={"at": at.isoformat()}, headers=desk
        )
        assert ok.status_code == 200, ok.text
    run = client.post(
        "/v1/dispatch/runs",
        json={"horizon_start": DAY, "days": 1, "time_limit_s": 2},
        headers=auth("dispatcher"),
    )
    assert (
        client.get(f"/v1/dispatch/runs/{run.json()['id']}", headers=auth("dispatcher")).json()[
            "status"
        ]
        == "succeeded"
    )
    # Engineers work their first visits: one on time, one 3 hours behind.
    for n, engineer in enumerate(engineers):
        me = auth("engineer", engineer_id=engineer.id)
        route = client.get(f"/v1/me/route?date={DAY}", headers=me).json()
        for k, visit in enumerate(route["visits"][:2]):
            url = f"/v1/me/visits/{visit['visit_id']}/events"
            late = timedelta(hours=3) if (n, k) == (1, 1) else timedelta(0)
            start = datetime.fromisoformat(visit["eta"]) - timedelta(minutes=20) + late
            clock.current = max(clock.current, start)
            for kind, after in (
                ("accepted", 0),
                ("en_route", 1),
                ("arrived", 21 + 2 * k),
                ("completed", 50 + 7 * k),
            ):
                clock.current = max(clock.current, start + timedelta(minutes=after))
                resp = client.post(url, json={"type": kind}, headers=me)
                assert resp.status_code == 201, resp.text
    clock.current = MORNING + timedelta(hours=12)
    open_ids = [
        i
        for i in ids
        if client.get(f"/v1/requests/{i}", headers=desk).json()["status"]
        not in ("completed", "cancelled")
    ]
    client.post(
        f"/v1/requests/{open_ids[0]}/cancel", json={"reason": "no parts", "by": "us"}, headers=desk
    )
    client.post(f"/v1/requests/{open_ids[1]}/cancel", json={"reason": "fixed itself"}, headers=desk)
    return {"ids": ids, "engineers": engineers, "area": area}


# --- the independent computation, from RequestEvent rows only ---------------------------------


def _minutes(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds() / 60


def _rank(values: list[float], p: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * p / 100) - 1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _facts(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    events = session.scalars(
        select(RequestEvent).where(RequestEvent.request_id.in_(ids)).order_by(RequestEvent.id)
    ).all()
    by_request: dict[int, list[RequestEvent]] = defaultdict(list)
    for e in events:
        by_request[e.request_id].append(e)
    facts = []
    for request_id, timeline in by_request.items():
        f: dict[str, Any] = {"id": request_id, "engineer": None, "cancelled_by": None}
        for e in timeline:
            p = e.payload
            if e.type == "created":
                f["received"], f["channel"] = e.at, p["channel"]
            elif e.type in ("promised", "re_promised"):
                promise = p.get("promise", p)
                f["tier"], f["locality"] = promise["tier"], promise["locality"]
                for key in ("first_response_due", "resolution_due", "window_start", "window_end"):
                    f[key] = datetime.fromisoformat(promise[key])
            elif e.type == "acknowledged":
                f.setdefault("ack", e.at)
            elif e.type in ("assigned", "reassigned"):
                f["engineer"] = p["engineer_id"]
            elif e.type == "en_route":
                f["en_route"] = e.at
            elif e.type == "on_site":
                f["arrived"] = e.at
            elif e.type == "completed":
                f["completed"] = e.at
            elif e.type == "cancelled":
                # A cancelled request's visit is cancelled: it has no engineer any more.
                f["cancelled"], f["cancelled_by"], f["engineer"] = e.at, p.get("by"), None
        facts.append(f)
    return facts


def _expected(facts: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    first = [_minutes(f["ack"], f["received"]) for f in facts if "ack" in f]
    arrivals = [f for f in facts if "arrived" in f]
    inside = [f for f in arrivals if f["window_start"] <= f["arrived"] <= f["window_end"]]
    by_us = [f for f in facts if f["cancelled_by"] == "us"]
    response_overdue = [
        f
        for f in facts
        if ("ack" in f and f["ack"] > f["first_response_due"])
        or (
            "ack" not in f
            and f["first_response_due"] < now
            and not ("cancelled" in f and f["cancelled"] <= f["first_response_due"])
        )
    ]
    not_cancelled = [f for f in facts if "cancelled" not in f]
    resolution_overdue = [
        f
        for f in not_cancelled
        if not ("completed" in f and f["completed"] <= f["resolution_due"])
        and f["resolution_due"] < now
    ]

    def frac(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    return {
        "requests": len(facts),
        "first_response_min": {
            "mean": _mean(first),
            "median": _rank(first, 50),
            "p90": _rank(first, 90),
        },
        "arrival_min": {
            "mean": _mean([_minutes(f["arrived"], f["received"]) for f in arrivals]),
            "p90": _rank([_minutes(f["arrived"], f["received"]) for f in arrivals], 90),
        },
        "on_time_rate": frac(len(inside), len(arrivals)),
        "broken_promise_rate": frac(
            len(arrivals) - len(inside) + len(by_us), len(arrivals) + len(by_us)
        ),
        "response_overdue_ratio": frac(len(response_overdue), len(facts)),
        "resolution_overdue_ratio": frac(len(resolution_overdue), len(not_cancelled)),
    }


def _close(actual: Any, expected: Any, where: str) -> None:
    if isinstance(expected, dict):
        for key, value in expected.items():
            _close(actual[key], value, f"{where}.{key}")
    elif expected is None or actual is None:
        assert actual == expected, where
    else:
        assert actual == pytest.approx(expected, abs=0.011), where


@pytest.mark.parametrize("group_by", ["channel", "tier", "locality", "engineer", "day"])
def test_sla_figures_equal_an_independent_computation_from_events(
    client: TestClient, auth, day, session: Session, app, group_by: str
) -> None:
    """Every group's counts, times, rates and ratios match a recomputation from the timeline."""
    facts = _facts(session, day["ids"])
    assert sum("arrived" in f for f in facts) == 4
    report = client.get(
        f"/v1/analytics/sla?from=2026-11-22&to=2026-11-24&tz=Asia/Shanghai&group_by={group_by}",
        headers=auth("dispatcher"),
    ).json()
    now = app.state.clock.now()
    _close(report["total"], _expected(facts, now), "total")
    key_of = {
        "channel": lambda f: f["channel"],
        "tier": lambda f: f["tier"],
        "locality": lambda f: f["locality"],
        "engineer": lambda f: f["engineer"],
        "day": lambda f: (f["received"] + timedelta(hours=8)).date().isoformat(),
    }[group_by]
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for f in facts:
        groups[key_of(f)].append(f)
    assert sorted(map(str, (g["key"] for g in report["groups"]))) == sorted(map(str, groups))
    for g in report["groups"]:
        _close(g, _expected(groups[g["key"]], now), f"{group_by}={g['key']}")


def test_heatmap_medians_equal_an_independent_computation(
    client: TestClient, auth, day, session: Session
) -> None:
    """Median minutes per stage and channel match the timeline."""
    facts = _facts(session, day["ids"])
    report = client.get(
        "/v1/analytics/heatmap?from=2026-11-22&to=2026-11-24&tz=Asia/Shanghai",
        headers=auth("dispatcher"),
    ).json()
    stages = {
        "response": lambda f: _minutes(f["ack"], f["received"]) if "ack" in f else None,
        "travel": lambda f: _minutes(f["arrived"], f["en_route"]) if "arrived" in f else None,
        "on_site": lambda f: _minutes(f["completed"], f["arrived"]) if "completed" in f else None,
        "resolution": lambda f: (
            _minutes(f["completed"], f["received"]) if "completed" in f else None
        ),
    }
    assert len(report["cells"]) == 4 * 5
    for cell in report["cells"]:
        values = [
            v
            for f in facts
            if f["channel"] == cell["channel"]
            if (v := stages[cell["stage"]](f)) is not None
        ]
        assert cell["count"] == len(values), cell
        _close(cell["median_min"], _rank(values, 50), f"{cell['stage']}/{cell['channel']}")


def test_engineer_utilisation_and_travel_share(client: TestClient, auth, day, session) -> None:
    """Per engineer: (service + travel) over shift minus break, and travel over work."""
    from dispatch.models import Shift, Visit

    report = client.get(
        f"/v1/analytics/sla?from={DAY}&to=2026-11-24&group_by=engineer&tz=Asia/Shanghai",
        headers=auth("dispatcher"),
    ).json()
    for engineer in day["engineers"]:
        visits = session.scalars(
            select(Visit).where(
                Visit.engineer_id == engineer.id,
                Visit.date == date(2026, 11, 23),
                Visit.status != "cancelled",
            )
        ).all()
        service = sum(
            _minutes(v.completed_at, v.arrived_at)
            if v.status == "completed"
            else _minutes(v.planned_end, v.planned_start)
            for v in visits
        )
        travel = sum(v.travel_seconds for v in visits) / 60
        shift = session.scalar(
            select(Shift).where(Shift.engineer_id == engineer.id, Shift.date == date(2026, 11, 23))
        )
        available = _minutes(shift.end_at, shift.start_at) - (shift.break_minutes or 0)
        row = next(g for g in report["groups"] if g["key"] == engineer.id)
        assert row["utilisation"] == pytest.approx((service + travel) / available, abs=1e-3)
        assert row["travel_share"] == pytest.approx(travel / (service + travel), abs=1e-3)


def test_empty_period_answers_zero_and_nulls(client: TestClient, auth) -> None:
    """A period without requests has no groups and a total of zero with null figures."""
    report = client.get(
        "/v1/analytics/sla?from=2020-01-01&to=2020-01-08&group_by=tier", headers=auth("dispatcher")
    ).json()
    assert report["groups"] == []
    assert report["total"]["requests"] == 0
    assert report["total"]["first_response_min"] == {"mean": None, "median": None, "p90": None}
    assert report["total"]["on_time_rate"] is None
    heat = client.get(
        "/v1/analytics/heatmap?from=2020-01-01&to=2020-01-08", headers=auth("dispatcher")
    ).json()
    assert all(c["count"] == 0 and c["median_min"] is None for c in heat["cells"])


def test_csv_exports(client: TestClient, auth, day) -> None:
    """Both reports export as CSV with a header, one row per group and a total."""
    r = client.get(
        "/v1/analytics/sla?from=2026-11-22&to=2026-11-24&group_by=channel&format=csv",
        headers=auth("dispatcher"),
    )
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:3] == ["channel", "label", "requests"]
    assert rows[-1][0] == "all" and int(rows[-1][2]) == 10
    heat = client.get(
        "/v1/analytics/heatmap?from=2026-11-22&to=2026-11-24&format=csv", headers=auth("dispatcher")
    )
    assert len(list(csv.reader(io.StringIO(heat.text)))) == 1 + 20


def test_bad_analytics_input(client: TestClient, auth) -> None:
    """A backwards period, an unknown grouping or timezone are 422; the desk may not read it."""
    h = auth("dispatcher")
    assert (
        client.get("/v1/analytics/sla?from=2026-11-24&to=2026-11-23", headers=h).status_code == 422
    )
    assert (
        client.get(
            "/v1/analytics/sla?from=2026-11-22&to=2026-11-23&group_by=colour", headers=h
        ).status_code
        == 422
    )
    r = client.get("/v1/analytics/sla?from=2026-11-22&to=2026-11-23&tz=Mars/Base", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "tz"]
    assert (
        client.get(
            "/v1/analytics/sla?from=2026-11-22&to=2026-11-23", headers=auth("service_desk")
        ).status_code
        == 403
    )
