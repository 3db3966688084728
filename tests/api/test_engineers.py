"""Engineers over HTTP: skills with levels, weekly templates, shifts, roles and bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.fixtures.factories import create_area, create_engineer, ensure_skill

DAY = {
    "start": "08:30",
    "end": "17:30",
    "break_start": "11:30",
    "break_end": "13:30",
    "break_minutes": 30,
}


@pytest.fixture
def area(session: Session):  # type: ignore[no-untyped-def]
    area = create_area(session)
    for code in ("hvac", "plc"):
        ensure_skill(session, code)
    session.commit()
    return area


def body(area_id: int, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Li Na",
        "home": {"lat": 31.25, "lon": 121.45},
        "service_area_id": area_id,
        "skills": [{"skill": "hvac", "level": 4}, {"skill": "plc", "level": 2}],
        "weekly_template": {"mon": DAY, "tue": DAY},
        "max_visits": 6,
    } | overrides


def test_create_engineer_with_skills_and_template(client: TestClient, auth, area) -> None:
    """An engineer is stored with skill levels and a normalised weekly template."""
    r = client.post("/v1/engineers", json=body(area.id), headers=auth("dispatcher"))
    assert r.status_code == 201, r.text
    e = r.json()
    assert e["skills"] == [{"skill": "hvac", "level": 4}, {"skill": "plc", "level": 2}]
    assert e["weekly_template"]["mon"] == DAY
    assert e["home"] == {"lat": 31.25, "lon": 121.45}
    assert (e["max_visits"], e["max_work_minutes"], e["active"]) == (6, 540, True)


def test_shifts_follow_template_and_exceptions(client: TestClient, auth, area) -> None:
    """Monday and Tuesday from the template; leave removes Tuesday; overtime adds Saturday."""
    e = client.post("/v1/engineers", json=body(area.id), headers=auth("dispatcher")).json()
    url = f"/v1/engineers/{e['id']}"
    leave = {"date": "2026-11-24", "kind": "leave", "note": "dentist"}
    assert (
        client.put(f"{url}/shift-exceptions", json=leave, headers=auth("dispatcher")).status_code
        == 200
    )
    overtime = {
        "date": "2026-11-28",
        "kind": "overtime",
        "hours": {"start": "09:00", "end": "13:00"},
    }
    assert (
        client.put(f"{url}/shift-exceptions", json=overtime, headers=auth("dispatcher")).status_code
        == 200
    )
    shifts = client.get(f"{url}/shifts?from=2026-11-23&days=7", headers=auth("dispatcher")).json()
    assert [(s["date"], s["start_at"], s["end_at"], s["source"]) for s in shifts] == [
        ("2026-11-23", "2026-11-23T00:30:00Z", "2026-11-23T09:30:00Z", "template"),
        ("2026-11-28", "2026-11-28T01:00:00Z", "2026-11-28T05:00:00Z", "exception"),
    ]
    assert shifts[0]["break_start_at"] == "2026-11-23T03:30:00Z"
    assert shifts[0]["break_minutes"] == 30


def test_update_replaces_skills_and_bumps_version(client: TestClient, auth, area) -> None:
    """PATCH with skills replaces the set; the version increases."""
    e = client.post("/v1/engineers", json=body(area.id), headers=auth("dispatcher")).json()
    r = client.patch(
        f"/v1/engineers/{e['id']}",
        json={"skills": [{"skill": "plc", "level": 5}], "version": e["version"]},
        headers=auth("dispatcher"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["skills"] == [{"skill": "plc", "level": 5}]
    assert r.json()["version"] == e["version"] + 1


def test_filters_by_skill_level_and_area(client: TestClient, auth, area, session) -> None:
    """The list filters by skill at a minimum level."""
    create_engineer(session, area=area, name="Expert", skills={"hvac": 5})
    create_engineer(session, area=area, name="Junior", skills={"hvac": 1})
    session.commit()
    r = client.get("/v1/engineers?skill=hvac&min_level=3", headers=auth("dispatcher")).json()
    assert [e["name"] for e in r["items"]] == ["Expert"]
    r = client.get(f"/v1/engineers?service_area_id={area.id}", headers=auth("dispatcher")).json()
    assert r["total"] == 2


@pytest.mark.parametrize(
    ("overrides", "loc"),
    [
        ({"skills": [{"skill": "hvac", "level": 6}]}, ["body", "skills", 0, "level"]),
        ({"skills": [{"skill": "hvac", "level": 0}]}, ["body", "skills", 0, "level"]),
        ({"skills": [{"skill": "welding", "level": 3}]}, ["body", "skills", 0, "skill"]),
        ({"home": {"lat": 95, "lon": 121}}, ["body", "home", "lat"]),
        ({"home": {"lat": 121.45, "lon": 31.25}}, ["body", "home", "lat"]),
        ({"home": {"lat": 31.25, "lon": 200}}, ["body", "home", "lon"]),
        ({"service_area_id": 9999}, ["body", "service_area_id"]),
        (
            {"weekly_template": {"mon": {"start": "18:00", "end": "08:00"}}},
            ["body", "weekly_template", "mon", "end"],
        ),
        ({"nickname": "Ace"}, ["body", "nickname"]),
        ({"name": "   "}, ["body", "name"]),
    ],
)
def test_bad_engineer_input_is_422_naming_the_field(
    client: TestClient, auth, area, overrides: dict[str, Any], loc: list[Any]
) -> None:
    """Levels outside 1-5, unknown skills, bad or swapped coordinates, dangling area ids,
    bad templates and unknown fields are each refused with a 422 naming the field."""
    r = client.post("/v1/engineers", json=body(area.id, **overrides), headers=auth("dispatcher"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][: len(loc)] == loc, r.json()


def test_duplicate_engineer_name_is_409(client: TestClient, auth, area) -> None:
    """Engineer names are unique."""
    assert (
        client.post("/v1/engineers", json=body(area.id), headers=auth("dispatcher")).status_code
        == 201
    )
    r = client.post("/v1/engineers", json=body(area.id), headers=auth("dispatcher"))
    assert r.status_code == 409


def test_engineer_key_sees_only_its_own_engineer(client: TestClient, auth, area, session) -> None:
    """An engineer key lists only itself and gets 404 for colleagues and 403 for writes."""
    me = create_engineer(session, area=area, name="Me")
    other = create_engineer(session, area=area, name="Other")
    session.commit()
    headers = auth("engineer", engineer_id=me.id)
    listed = client.get("/v1/engineers", headers=headers).json()
    assert [e["name"] for e in listed["items"]] == ["Me"]
    assert client.get(f"/v1/engineers/{me.id}", headers=headers).status_code == 200
    assert client.get(f"/v1/engineers/{other.id}", headers=headers).status_code == 404
    assert (
        client.get(f"/v1/engineers/{other.id}/shifts?from=2026-11-23", headers=headers).status_code
        == 404
    )
    assert (
        client.patch(f"/v1/engineers/{me.id}", json={"max_visits": 3}, headers=headers).status_code
        == 403
    )


def test_service_desk_reads_but_cannot_change_engineers(client: TestClient, auth, area) -> None:
    """The service desk may look engineers up but not create them."""
    assert client.get("/v1/engineers", headers=auth("service_desk")).status_code == 200
    r = client.post("/v1/engineers", json=body(area.id), headers=auth("service_desk"))
    assert r.status_code == 403


def test_delete_engineer(client: TestClient, auth, area) -> None:
    """An engineer without visits can be deleted; afterwards it is 404."""
    e = client.post("/v1/engineers", json=body(area.id), headers=auth("dispatcher")).json()
    assert client.delete(f"/v1/engineers/{e['id']}", headers=auth("dispatcher")).status_code == 204
    assert client.get(f"/v1/engineers/{e['id']}", headers=auth("dispatcher")).status_code == 404
