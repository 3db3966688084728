"""The live stream: changes as server-sent events, resumed from Last-Event-ID, and filtered by
who reads (staff by area, an engineer only their own visits)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient


def _read(client: TestClient, headers: dict[str, str], path: str = "/v1/stream") -> list[dict]:
    """Every event the stream sends from the first one (Last-Event-ID 0) until it ends."""
    events, current = [], {}
    with client.stream("GET", path, headers={**headers, "Last-Event-ID": "0"}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        for line in answer.iter_lines():
            if line.startswith("event:"):
                current["event"] = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line.split(":", 1)[1])
            elif line.startswith("id:"):
                current["id"] = int(line.split(":", 1)[1])
            elif not line and current:
                events.append(current)
                current = {}
    return events


def test_staff_see_every_change_and_can_filter_by_area(
    app: Any, client: TestClient, small_world: dict[str, Any]
) -> None:
    """A dispatcher's stream holds the small world's promise and assignment in order, with the
    outbox ids as event ids; filtered to another area it holds nothing."""
    keys = small_world["keys"]
    from dispatch.models.enums import Role

    events = _read(client, keys[Role.DISPATCHER])
    assert [e["event"] for e in events][:2] == ["promise.made", "visit.assigned"]
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert events[0]["data"]["request_id"] == small_world["ids"]["request"]
    area = small_world["ids"]["area"]
    assert _read(client, keys[Role.DISPATCHER], f"/v1/stream?service_area_id={area + 1}") == []


def test_an_engineer_sees_only_their_own_visits(
    app: Any, client: TestClient, small_world: dict[str, Any], auth: Any, session: Any
) -> None:
    """The assigned engineer's stream has the assignment and their progress reports (accepting
    included, in that order); another engineer's stream has none of it."""
    from dispatch.models.enums import Role
    from tests.fixtures.factories import create_engineer

    keys = small_world["keys"]
    visit = small_world["ids"]["visit"]
    posted = client.post(
        f"/v1/me/visits/{visit}/events", json={"type": "accepted"}, headers=keys[Role.ENGINEER]
    )
    assert posted.status_code == 201, posted.text
    client.post(
        f"/v1/me/visits/{visit}/events", json={"type": "en_route"}, headers=keys[Role.ENGINEER]
    )
    mine = _read(client, keys[Role.ENGINEER])
    told = [e["event"] for e in mine]
    assert told.index("visit.assigned") < told.index("visit.accepted")
    assert told.index("visit.accepted") < told.index("engineer.en_route")
    from dispatch.models import ServiceArea

    other = create_engineer(
        session, area=session.get(ServiceArea, small_world["ids"]["area"]), name="Other Na"
    )
    session.commit()
    assert _read(client, auth("engineer", other.id)) == []
