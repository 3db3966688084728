"""An engineer on the way: the ETA told to the outside world is told again only when it moves
by more than the threshold (eta.changed), not at every small move."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import OutboxEvent
from dispatch.models.enums import Role


def _told(session: Session, request_id: int) -> list[str]:
    session.expire_all()
    return [
        e.type
        for e in session.scalars(
            select(OutboxEvent).where(OutboxEvent.request_id == request_id).order_by(OutboxEvent.id)
        )
        if e.type in ("engineer.en_route", "eta.changed")
    ]


def test_only_a_big_move_of_the_eta_is_told(
    app: Any, client: TestClient, small_world: dict[str, Any], session: Session
) -> None:
    """After en route, a position ping a few hundred metres off tells nothing new; one from
    far away, which moves the ETA by more than 15 minutes, tells one eta.changed."""
    me = small_world["keys"][Role.ENGINEER]
    visit, request = small_world["ids"]["visit"], small_world["ids"]["request"]
    for kind in ("accepted", "en_route"):
        answer = client.post(f"/v1/me/visits/{visit}/events", json={"type": kind}, headers=me)
        assert answer.status_code == 201, answer.text
    assert _told(session, request) == ["engineer.en_route"]
    near = client.post("/v1/me/location", json={"lat": 31.231, "lon": 121.471}, headers=me)
    assert near.status_code in (200, 201, 202), near.text
    assert _told(session, request) == ["engineer.en_route"]
    far = client.post("/v1/me/location", json={"lat": 31.55, "lon": 121.0}, headers=me)
    assert far.status_code in (200, 201, 202), far.text
    assert _told(session, request) == ["engineer.en_route", "eta.changed"]
