"""The travel-time debugging endpoint."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_matrix_for_points(client: TestClient, auth) -> None:
    """A 2-point matrix: zero on the diagonal, symmetric, from the default model."""
    body = {"points": [{"lat": 31.23, "lon": 121.47}, {"lat": 30.27, "lon": 120.16}]}
    r = client.post("/v1/travel-times", json=body, headers=auth("dispatcher"))
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["provider"] == "model" and m["estimated"] is True
    assert m["durations_s"][0][0] == 0 and m["durations_s"][1][1] == 0
    assert m["durations_s"][0][1] == m["durations_s"][1][0]
    # ~165 km straight line, x1.3 circuity: around 214 km of road.
    assert 200_000 < m["distances_m"][0][1] < 230_000


def test_bad_points_and_roles(client: TestClient, auth) -> None:
    """Out-of-range points are 422 naming the point; the service desk may not use it."""
    r = client.post(
        "/v1/travel-times", json={"points": [{"lat": 99, "lon": 0}]}, headers=auth("dispatcher")
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "points", 0, "lat"]
    r = client.post(
        "/v1/travel-times", json={"points": [{"lat": 1, "lon": 0}]}, headers=auth("service_desk")
    )
    assert r.status_code == 403
