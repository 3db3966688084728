"""Service areas over HTTP: GeoJSON in and out, calendar validation, roles."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.factories import square

SHANGHAI = square(31.23, 121.47, 0.2)


def area_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Shanghai",
        "boundary": SHANGHAI,
        "timezone": "Asia/Shanghai",
        "business_hours": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]},
        "holiday_country": "CN",
        "closed_dates": ["2026-12-31"],
    }
    return body | overrides


def test_admin_creates_area_and_reads_it_back_as_geojson(client: TestClient, auth) -> None:
    """An area round-trips: the boundary comes back as the same GeoJSON polygon."""
    r = client.post("/v1/service-areas", json=area_body(), headers=auth("admin"))
    assert r.status_code == 201, r.text
    area = r.json()
    assert area["boundary"]["type"] == "Polygon"
    assert area["boundary"]["coordinates"][0][0] == [121.27, 31.03]
    assert area["business_hours"] == {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}
    assert area["closed_dates"] == ["2026-12-31"]
    got = client.get(f"/v1/service-areas/{area['id']}", headers=auth("dispatcher")).json()
    assert got == area
    fc = client.get("/v1/service-areas.geojson", headers=auth("dispatcher")).json()
    assert fc["type"] == "FeatureCollection"
    assert fc["features"][0]["properties"]["name"] == "Shanghai"


def test_area_list_is_paginated_and_filtered(client: TestClient, auth) -> None:
    """Lists page with limit/offset, report the total and filter by name."""
    for i, lon in enumerate((100.0, 101.0, 102.0)):
        body = area_body(name=f"Area {i}", boundary=square(30.0, lon, 0.2))
        assert client.post("/v1/service-areas", json=body, headers=auth("admin")).status_code == 201
    page = client.get("/v1/service-areas?limit=2&offset=1", headers=auth("dispatcher")).json()
    assert [a["name"] for a in page["items"]] == ["Area 1", "Area 2"]
    assert page["total"] == 3
    named = client.get("/v1/service-areas?name=a 2", headers=auth("dispatcher")).json()
    assert [a["name"] for a in named["items"]] == ["Area 2"]


BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
SWAPPED = {
    "type": "Polygon",
    "coordinates": [[[31.0, 121.0], [31.5, 121.0], [31.5, 121.5], [31.0, 121.5], [31.0, 121.0]]],
}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"boundary": BOWTIE}, "boundary"),
        ({"boundary": {"type": "Polygon", "coordinates": []}}, "boundary"),
        ({"boundary": SWAPPED}, "boundary"),
        ({"boundary": {"type": "Point", "coordinates": [121, 31]}}, "boundary"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"holiday_country": "XX"}, "holiday_country"),
        ({"holiday_subdivision": "ZZ"}, "holiday_subdivision"),
        ({"business_hours": {"mon": [["18:00", "09:00"]]}}, "business_hours"),
        ({"business_hours": {"funday": [["09:00", "18:00"]]}}, "business_hours"),
        ({"colour": "blue"}, "colour"),
        ({"closed_dates": ["not-a-date"]}, "closed_dates"),
        ({"working_dates": ["2026-12-31"]}, "working_dates"),
        ({"working_dates": [None]}, "working_dates"),
    ],
)
def test_bad_area_input_is_422_naming_the_field(
    client: TestClient, auth, overrides: dict[str, Any], field: str
) -> None:
    """Invalid, self-intersecting, empty or swapped polygons and bad calendars get a 422."""
    r = client.post("/v1/service-areas", json=area_body(**overrides), headers=auth("admin"))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"][:2] == ["body", field], detail
    assert detail[0]["msg"]


def test_duplicate_area_name_is_409(client: TestClient, auth) -> None:
    """A second area with the same name is a conflict naming the field."""
    assert (
        client.post("/v1/service-areas", json=area_body(), headers=auth("admin")).status_code == 201
    )
    other = area_body(boundary=square(30.0, 120.0))
    r = client.post("/v1/service-areas", json=other, headers=auth("admin"))
    assert r.status_code == 409
    assert r.json()["detail"][0]["loc"] == ["body", "name"]


def test_only_admin_writes_areas(client: TestClient, auth) -> None:
    """Dispatchers and the service desk may read areas but not create them."""
    for role in ("dispatcher", "service_desk"):
        r = client.post("/v1/service-areas", json=area_body(), headers=auth(role))
        assert r.status_code == 403, role
    assert client.get("/v1/service-areas", headers=auth("service_desk")).status_code == 200


def test_stale_version_on_update_is_409(client: TestClient, auth) -> None:
    """An update carrying an old version is refused; the current one goes through."""
    area = client.post("/v1/service-areas", json=area_body(), headers=auth("admin")).json()
    url = f"/v1/service-areas/{area['id']}"
    ok = client.patch(url, json={"name": "Shanghai core", "version": 1}, headers=auth("admin"))
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(url, json={"name": "Again", "version": 1}, headers=auth("admin"))
    assert stale.status_code == 409


def test_unknown_area_is_404(client: TestClient, auth) -> None:
    """Reading a missing area answers 404 with a message."""
    r = client.get("/v1/service-areas/999", headers=auth("admin"))
    assert r.status_code == 404
    assert "999" in r.json()["detail"][0]["msg"]


def test_a_make_up_working_day_opens_the_clock_on_a_saturday(
    client: TestClient, auth, app, session
) -> None:
    """A Saturday made a working day opens the area's business clock that day: a general
    request taken Friday 17:00 is answered by Saturday 10:00 (one hour Friday, one Saturday);
    once the day is taken off again, the next request's answer is due Monday 10:00."""
    from datetime import UTC, datetime

    from dispatch.models import ServiceArea
    from tests.fixtures.factories import create_customer, create_engineer, create_site

    weekdays = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    body = area_body(business_hours=weekdays, closed_dates=[], working_dates=["2026-12-26"])
    r = client.post("/v1/service-areas", json=body, headers=auth("admin"))
    assert r.status_code == 201, r.text
    area = r.json()
    assert area["working_dates"] == ["2026-12-26"]
    create_engineer(session, area=session.get(ServiceArea, area["id"]), home=(31.23, 121.47))
    site = create_site(session, customer=create_customer(session), at=(31.23, 121.47))
    session.commit()
    app.state.clock.current = datetime(2026, 12, 25, 9, 0, tzinfo=UTC)  # Friday 17:00 local

    def first_response_due(ref: str) -> str:
        r = client.post(
            "/v1/requests",
            json={"site_id": site.id, "channel": "phone", "tier": "general", "external_ref": ref},
            headers=auth("service_desk"),
        )
        assert r.status_code == 201, r.text
        return r.json()["promise"]["first_response_due"]

    assert first_response_due("MAKE-UP-1") == "2026-12-26T02:00:00Z"  # Saturday 10:00 local
    patched = client.patch(
        f"/v1/service-areas/{area['id']}",
        json={"working_dates": [], "version": area["version"]},
        headers=auth("admin"),
    )
    assert patched.status_code == 200, patched.text
    assert first_response_due("MAKE-UP-2") == "2026-12-28T02:00:00Z"  # Monday 10:00 local
