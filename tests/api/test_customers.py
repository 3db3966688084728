"""Customers and sites over HTTP: classification into areas, bad input, roles."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_area, create_customer, create_engineer


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    """Shanghai (engineers based) around (31.23, 121.47); a depot-less area near Suzhou."""
    shanghai = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.1)
    suzhou = create_area(
        session, name="Suzhou", center=(31.30, 120.60), half=0.1, engineers_based=False
    )
    create_engineer(session, area=shanghai, name="Base", home=(31.23, 121.47))
    customer = create_customer(session, name="Acme Foods", vip_tier="gold")
    session.commit()
    return {"shanghai": shanghai, "suzhou": suzhou, "customer": customer}


def site(customer_id: int, lat: float, lon: float, **overrides: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "name": "Plant",
        "address": "1 Road",
        "lat": lat,
        "lon": lon,
    } | overrides


def test_site_inside_a_based_area_is_same_city(client: TestClient, auth, world) -> None:
    """A site inside Shanghai is same city, served from Shanghai."""
    r = client.post(
        "/v1/sites", json=site(world["customer"].id, 31.25, 121.50), headers=auth("service_desk")
    )
    assert r.status_code == 201, r.text
    s = r.json()
    assert (s["service_area_id"], s["locality"], s["base_area_id"]) == (
        world["shanghai"].id,
        "same_city",
        world["shanghai"].id,
    )
    assert s["travel_from_base_s"] > 0


def test_site_in_area_without_engineers_is_out_of_town(client: TestClient, auth, world) -> None:
    """Suzhou has no engineers based, so a site there is out of town, served from Shanghai."""
    s = client.post(
        "/v1/sites", json=site(world["customer"].id, 31.30, 120.60), headers=auth("service_desk")
    ).json()
    assert (s["service_area_id"], s["locality"], s["base_area_id"]) == (
        world["suzhou"].id,
        "out_of_town",
        world["shanghai"].id,
    )
    # About 83 km straight line: the default model needs more than an hour.
    assert 3600 < s["travel_from_base_s"] < 3 * 3600


def test_moving_a_site_reclassifies_it(client: TestClient, auth, world) -> None:
    """Changing coordinates places the site again."""
    s = client.post(
        "/v1/sites", json=site(world["customer"].id, 31.25, 121.50), headers=auth("service_desk")
    ).json()
    moved = client.patch(
        f"/v1/sites/{s['id']}", json={"lat": 30.0, "lon": 120.0}, headers=auth("service_desk")
    ).json()
    assert (moved["service_area_id"], moved["locality"]) == (None, "out_of_town")


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"lat": 121.5, "lon": 31.25}, ["body", "lat"]),
        ({"lat": 31.25, "lon": 181}, ["body", "lon"]),
        ({"lat": -91}, ["body", "lat"]),
        ({"lat": None, "lon": None}, ["body", "address"]),
        ({"lon": None}, ["body", "lon"]),
        ({"customer_id": 999}, ["body", "customer_id"]),
        ({"name": ""}, ["body", "name"]),
        ({"floor": 3}, ["body", "floor"]),
    ],
)
def test_bad_site_input_is_422_naming_the_field(
    client: TestClient, auth, world, overrides: dict[str, Any], loc: list[Any]
) -> None:
    """Out-of-range or swapped coordinates, missing coordinates without geocoding, dangling
    customers and unknown fields are refused with a 422 naming the field."""
    body = site(world["customer"].id, 31.25, 121.50) | overrides
    r = client.post("/v1/sites", json=body, headers=auth("service_desk"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc, r.json()


def test_customer_crud_and_filters(client: TestClient, auth, world) -> None:
    """Customers are created, filtered by VIP tier, updated and deleted when they have no site."""
    created = client.post(
        "/v1/customers",
        json={"name": "Beta Plastics", "vip_tier": "platinum"},
        headers=auth("service_desk"),
    )
    assert created.status_code == 201
    cid = created.json()["id"]
    gold = client.get("/v1/customers?vip_tier=gold", headers=auth("dispatcher")).json()
    assert [c["name"] for c in gold["items"]] == ["Acme Foods"]
    upd = client.patch(
        f"/v1/customers/{cid}", json={"vip_tier": "silver"}, headers=auth("service_desk")
    )
    assert upd.json()["vip_tier"] == "silver"
    assert client.delete(f"/v1/customers/{cid}", headers=auth("dispatcher")).status_code == 204


def test_customer_with_sites_cannot_be_deleted(client: TestClient, auth, world) -> None:
    """Deleting a customer that still has sites is a conflict."""
    client.post(
        "/v1/sites", json=site(world["customer"].id, 31.25, 121.50), headers=auth("service_desk")
    )
    r = client.delete(f"/v1/customers/{world['customer'].id}", headers=auth("dispatcher"))
    assert r.status_code == 409


def test_bad_customer_input(client: TestClient, auth, world) -> None:
    """An unknown VIP tier is 422 on vip_tier; a duplicate name is 409 on name."""
    r = client.post(
        "/v1/customers", json={"name": "X", "vip_tier": "diamond"}, headers=auth("service_desk")
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "vip_tier"]
    r = client.post("/v1/customers", json={"name": "Acme Foods"}, headers=auth("service_desk"))
    assert r.status_code == 409 and r.json()["detail"][0]["loc"] == ["body", "name"]


def test_engineer_key_cannot_read_customers(client: TestClient, auth, world, session) -> None:
    """Customer data is for staff; an engineer key gets 403."""
    from dispatch.models import Engineer

    engineer = session.query(Engineer).first()
    r = client.get("/v1/customers", headers=auth("engineer", engineer_id=engineer.id))
    assert r.status_code == 403


class FakeNominatim:
    """Answers like geopy's Nominatim for one known address; counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def geocode(self, query: str, **_: object) -> object:
        self.calls += 1
        if query != "88 Harbour Road, Jiaxing":
            return None

        class Location:
            latitude, longitude, address = 30.75, 120.76, "88 Harbour Road, Jiaxing, China"

        return Location()


def test_site_without_coordinates_is_geocoded_when_enabled(
    client: TestClient, auth, world, app
) -> None:
    """With geocoding on, an address is looked up once and cached; unknown addresses are 422."""
    from geo.geocoding import Geocoder, GeocoderConfig

    backend = FakeNominatim()
    app.state.geo.geocoder = Geocoder(
        GeocoderConfig(
            enabled=True, domain="nominatim.internal", user_agent="onsite-tests", min_delay_s=0
        ),
        backend=backend,
    )
    body = {
        "customer_id": world["customer"].id,
        "name": "Warehouse",
        "address": "88 Harbour Road, Jiaxing",
    }
    r = client.post("/v1/sites", json=body, headers=auth("service_desk"))
    assert r.status_code == 201, r.text
    assert (r.json()["lat"], r.json()["lon"], r.json()["locality"]) == (
        30.75,
        120.76,
        "out_of_town",
    )
    again = client.post(
        "/v1/sites", json=body | {"name": "Warehouse 2"}, headers=auth("service_desk")
    )
    assert again.status_code == 201 and backend.calls == 1
    unknown = client.post(
        "/v1/sites", json=body | {"name": "X", "address": "Nowhere 1"}, headers=auth("service_desk")
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "address"]
