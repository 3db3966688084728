"""Bulk intake over HTTP: each request of a batch taken as a single call would take it, in its
own transaction, with its own result and its own idempotency."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import RepairRequest
from tests.api.conftest import row_counts
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site

# Monday 23 November 2026, 10:00 in Shanghai (UTC+8).
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(app, session: Session) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    app.state.clock.current = NOW
    shanghai = create_area(session, name="Shanghai", center=(31.23, 121.47), half=0.15)
    create_engineer(session, area=shanghai, name="Base Wei", home=(31.23, 121.47))
    customer = create_customer(session, name="Acme Foods")
    sites = [
        create_site(
            session, customer=customer, at=(31.20 + 0.02 * i, 121.45 + 0.01 * i), name=f"Plant {i}"
        )
        for i in range(3)
    ]
    beijing = create_site(session, customer=customer, at=(39.90, 116.40), name="Beijing")
    session.commit()
    return {"sites": [s.id for s in sites], "beijing": beijing.id}


def job(site_id: int, ref: str, **overrides: Any) -> dict[str, Any]:
    return {
        "site_id": site_id,
        "channel": "phone",
        "tier": "general",
        "service_minutes": 60,
        "external_ref": ref,
    } | overrides


def batch(world: dict[str, Any]) -> list[dict[str, Any]]:
    """Three good requests around three bad ones (a bad channel, out of range, no such site)."""
    a, b, c = world["sites"]
    return [
        job(a, "B-1"),
        job(b, "B-2", channel="fax"),
        job(world["beijing"], "B-3"),
        job(b, "B-4", idempotency_key="key-4"),
        job(999_999, "B-5"),
        job(c, "B-6", tier="urgent"),
    ]


def _stored(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(RepairRequest)) or 0)


def test_a_batch_takes_the_good_requests_and_says_why_each_bad_one_was_refused(
    client: TestClient, auth, world, session: Session
) -> None:
    """The answer lists every request in order: the good ones created with their promise (as a
    single call would give it), each bad one refused with the error it would get alone, its
    location inside the batch, and the status it would have had; only the good ones are stored."""
    r = client.post(
        "/v1/requests/batch", json={"requests": batch(world)}, headers=auth("service_desk")
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert [x["status"] for x in answer["results"]] == [
        "created",
        "refused",
        "refused",
        "created",
        "refused",
        "created",
    ]
    assert (answer["created"], answer["refused"], answer["existing"]) == (3, 3, 0)
    by_index = answer["results"]
    assert by_index[1]["errors"][0]["loc"] == ["body", "requests", 1, "channel"]
    assert by_index[1]["error_status"] == 422
    assert by_index[2]["errors"][0]["loc"][:3] == ["body", "requests", 2]
    assert "service range" in by_index[2]["errors"][0]["msg"]
    assert by_index[4]["error_status"] == 422 and by_index[4]["request"] is None
    assert by_index[4]["errors"][0]["loc"] == ["body", "requests", 4, "site_id"]
    urgent = by_index[5]["request"]
    assert urgent["external_ref"] == "B-6" and urgent["promise"]["window_end"] is not None
    assert _stored(session) == 3
    # The same request alone gets the same promise rule and explanation.
    single = client.post(
        "/v1/requests",
        json=job(world["sites"][0], "S-1"),
        headers=auth("service_desk"),
    ).json()
    assert (
        single["promise"]["explanation"].split(":")[0]
        == (by_index[0]["request"]["promise"]["explanation"].split(":")[0])
    )


def test_a_retried_batch_answers_with_the_originals_and_stores_nothing_new(
    client: TestClient, auth, world, session: Session
) -> None:
    """Sending the batch again answers each request taken with the original (by reference or
    by its idempotency key); an idempotency key reused for another request is refused."""
    headers = auth("service_desk")
    first = client.post("/v1/requests/batch", json={"requests": batch(world)}, headers=headers)
    again = client.post("/v1/requests/batch", json={"requests": batch(world)}, headers=headers)
    assert again.status_code == 200
    statuses = [x["status"] for x in again.json()["results"]]
    assert statuses == ["existing", "refused", "refused", "existing", "refused", "existing"]
    ids = lambda answer: [(x["request"] or {}).get("id") for x in answer.json()["results"]]  # noqa: E731
    assert ids(again) == ids(first)
    assert _stored(session) == 3
    reused = client.post(
        "/v1/requests/batch",
        json={"requests": [job(world["sites"][2], "B-7", idempotency_key="key-4")]},
        headers=headers,
    ).json()["results"][0]
    assert reused["status"] == "refused" and reused["error_status"] == 422
    assert _stored(session) == 3


def test_a_dry_run_promises_every_request_and_stores_nothing(
    client: TestClient, auth, world, session: Session
) -> None:
    """A dry run answers each good request with the promise it would get and each bad one with
    its refusal, and leaves every table as it was."""
    headers = auth("service_desk")
    before = row_counts(session)
    r = client.post(
        "/v1/requests/batch", json={"requests": batch(world), "dry_run": True}, headers=headers
    )
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["dry_run"] is True and answer["would_create"] == 3 and answer["created"] == 0
    assert all(x["request"]["promise"]["window_start"] for x in answer["results"] if x["request"])
    assert row_counts(session) == before


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"requests": []}, ["body", "requests"]),
        ({"requests": [{"site_id": 1, "channel": "phone"}] * 1001}, ["body", "requests"]),
        ({"requests": None}, ["body", "requests"]),
        ({"requests": [1]}, ["body", "requests", 0]),
    ],
)
def test_a_batch_that_is_not_a_list_of_up_to_1000_requests_is_refused_whole(
    client: TestClient, auth, world, session: Session, payload: dict[str, Any], loc: list[Any]
) -> None:
    """No requests, more than 1,000, null, or an item that is not an object: 422 naming the
    place, nothing stored."""
    r = client.post("/v1/requests/batch", json=payload, headers=auth("service_desk"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][: len(loc)] == loc
    assert _stored(session) == 0
