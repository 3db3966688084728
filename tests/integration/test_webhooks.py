"""Webhooks end to end on a real local receiver: events written with their change, signed
deliveries, retries after errors and silences, dead letters and replay, a receiver that comes
back, and no duplicate made by the outbox itself."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from dispatch.clock import FixedClock
from dispatch.db import unit_of_work
from dispatch.geo_support import GeoContext
from dispatch.models import OutboxEvent, WebhookDelivery
from dispatch.notify.webhooks import (
    DeliveryProcess,
    WebhookSettings,
    create_subscription,
    deliver_due,
    replay,
    update_subscription,
)
from dispatch.requests.intake import cancel, take_request
from tests.conftest import migrated_factory
from tests.fixtures.factories import create_area, create_customer, create_engineer, create_site
from tests.fixtures.receiver import Receiver

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai
SETTINGS = WebhookSettings(allow_private=True, timeout_s=1.0, retry_for=timedelta(minutes=10))


@pytest.fixture
def world(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with migrated_factory(backend, tmp_path) as factory:
        with unit_of_work(factory) as session:
            customer = create_customer(session)
            areas = []
            for name, centre in (("Shanghai", (31.23, 121.47)), ("Suzhou", (31.30, 120.62))):
                area = create_area(session, name=name, center=centre, half=0.15)
                create_engineer(session, area=area, name=f"{name} 0", home=centre)
                areas.append(area.id)
            sites = [
                create_site(
                    session, customer=customer, at=(31.22 + 0.01 * i, 121.46), name=f"p{i}"
                ).id
                for i in range(6)
            ] + [create_site(session, customer=customer, at=(31.31, 120.61), name="suzhou").id]
        yield {"factory": factory, "areas": areas, "sites": sites}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def _take(factory: sessionmaker[Session], site: int, now: datetime = NOW) -> int:
    with unit_of_work(factory) as session:
        return take_request(
            session,
            now=now,
            actor="desk",
            site_id=site,
            channel="phone",
            tier="general",
            service_minutes=30,
            external_ref=f"CRM-{site}",
        ).request.id


def _subscribe(factory: sessionmaker[Session], url: str, **fields: Any) -> tuple[int, str]:
    with unit_of_work(factory) as session:
        sub = create_subscription(
            session, SETTINGS, url=url, actor="admin", **({"event_types": ["*"]} | fields)
        )
        return sub.id, sub.secret


def _round(
    factory: sessionmaker[Session], clock: FixedClock, settings: WebhookSettings = SETTINGS
) -> int:
    with httpx.Client() as client:
        return deliver_due(factory, settings, clock, client)


def _deliveries(factory: sessionmaker[Session]) -> list[WebhookDelivery]:
    with factory() as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_an_event_is_written_with_its_change_and_not_without_it(world: dict[str, Any]) -> None:
    """A request taken writes its promise.made event in the same transaction; a transaction
    rolled back after taking one leaves neither the request nor the event."""
    factory = world["factory"]
    request_id = _take(factory, world["sites"][0])
    with pytest.raises(RuntimeError), unit_of_work(factory) as session:
        take_request(
            session, now=NOW, actor="desk", site_id=world["sites"][1], channel="phone",
            tier="general", service_minutes=30,
        )  # fmt: skip
        raise RuntimeError("the caller fails after the change")
    with factory() as session:
        events = session.scalars(select(OutboxEvent)).all()
        assert [(e.type, e.request_id, e.external_ref) for e in events] == [
            ("promise.made", request_id, f"CRM-{world['sites'][0]}")
        ]
        made = events[0]
        assert made.event_id.startswith("evt_") and len(made.event_id) == 36
        assert made.data["window_start"] and made.data["window_end"] and made.schema_version == 1


def test_a_delivery_is_signed_so_the_receiver_can_verify_it(
    world: dict[str, Any], receiver: Receiver
) -> None:
    """The receiver gets the event's JSON with Standard Webhooks headers; the signature verifies
    with the subscription's secret, and fails with another."""
    factory = world["factory"]
    _, secret = _subscribe(factory, receiver.url)
    _take(factory, world["sites"][0])
    assert _round(factory, FixedClock(NOW)) == 1
    (got,) = receiver.received
    payload = Webhook(secret).verify(got.body, got.headers)
    assert payload["type"] == "promise.made" and payload["id"] == got.headers["webhook-id"]
    assert payload["external_ref"] == f"CRM-{world['sites'][0]}"
    other = "whsec_" + "A" * 43 + "="
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(got.body, got.headers)
    (delivery,) = _deliveries(factory)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)


def test_errors_and_silences_are_retried_with_backoff_until_answered(
    world: dict[str, Any], receiver: Receiver
) -> None:
    """A 500, then no answer within the timeout, then 200: three attempts of the same event id,
    each only once its backoff has passed, and the delivery ends delivered."""
    factory = world["factory"]
    clock = FixedClock(NOW)
    _subscribe(factory, receiver.url)
    _take(factory, world["sites"][0])
    receiver.answers.extend([500, ("sleep", 2.0)])
    assert _round(factory, clock) == 1
    (d,) = _deliveries(factory)
    assert (d.status, d.attempts, d.last_status_code) == ("pending", 1, 500)
    assert NOW + timedelta(seconds=1) <= d.next_attempt_at <= NOW + timedelta(seconds=2)
    assert _round(factory, clock) == 0  # not due yet
    clock.advance(seconds=3)
    assert _round(factory, clock) == 1
    (d,) = _deliveries(factory)
    assert d.status == "pending" and d.attempts == 2 and "no answer" in (d.last_error or "")
    clock.advance(seconds=10)
    assert _round(factory, clock) == 1
    (d,) = _deliveries(factory)
    assert (d.status, d.attempts) == ("delivered", 3)
    assert len(set(receiver.ids())) == 1 and len(receiver.ids()) == 3


def test_a_delivery_dead_after_its_retry_time_can_be_replayed(
    world: dict[str, Any], receiver: Receiver
) -> None:
    """A receiver answering 500 for longer than the retry time leaves a dead letter; replayed
    once the receiver is healthy, it is delivered with the same event id."""
    factory = world["factory"]
    clock = FixedClock(NOW)
    receiver.default = 500
    _subscribe(factory, receiver.url)
    _take(factory, world["sites"][0])
    for _ in range(30):
        _round(factory, clock)
        clock.advance(minutes=2)
    (d,) = _deliveries(factory)
    assert d.status == "dead" and d.attempts >= 3
    receiver.default = 200
    with unit_of_work(factory) as session:
        replay(session, d.id, now=clock.now())
    assert _round(factory, clock) == 1
    (d,) = _deliveries(factory)
    assert d.status == "delivered"
    assert len(set(receiver.ids())) == 1


def test_events_made_while_the_receiver_is_down_all_arrive_when_it_is_back(
    world: dict[str, Any],
) -> None:
    """With the receiver's port closed, six requests are taken and cancelled; once a receiver
    answers on the port again, every event arrives, each event id once."""
    factory = world["factory"]
    clock = FixedClock(NOW)
    first = Receiver().start()
    port, url = first.port, first.url
    first.stop()
    _subscribe(factory, url)
    geo = GeoContext()
    for site in world["sites"][:6]:
        request_id = _take(factory, site)
        with unit_of_work(factory) as session:
            cancel(
                session, geo, request_id, reason="fixed itself", by="customer", actor="desk",
                now=NOW,
            )  # fmt: skip
    for _ in range(3):
        _round(factory, clock)
        clock.advance(minutes=1)
    assert all(d.status == "pending" for d in _deliveries(factory))
    back = Receiver(port=port).start()
    try:
        for _ in range(5):
            _round(factory, clock)
            clock.advance(minutes=5)
    finally:
        back.stop()
    with factory() as session:
        made = set(session.scalars(select(OutboxEvent.event_id)))
    assert len(made) == 12
    assert sorted(back.ids()) == sorted(made)
    assert all(d.status == "delivered" for d in _deliveries(factory))


def test_a_delivery_process_killed_beside_the_api_does_not_hang_its_shutdown(
    world: dict[str, Any],
) -> None:
    """Stopping the delivery process returns at once when it died first (Ctrl-C or a kill
    reaching the whole process group), instead of waiting for it forever."""
    url = world["factory"].kw["bind"].url.render_as_string(hide_password=False)
    process = DeliveryProcess(url, SETTINGS, poll_s=0.2)
    process.start()
    time.sleep(1.5)  # started and waiting to be told to stop
    pid = process._process.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    process._process.join(10)
    stopper = threading.Thread(target=process.stop, daemon=True)
    stopper.start()
    stopper.join(15)
    assert not stopper.is_alive()
    assert not process.is_alive()


def test_two_delivery_loops_at_once_create_and_send_each_delivery_once(
    world: dict[str, Any], receiver: Receiver
) -> None:
    """Two processes' rounds racing over the same new events: one delivery per event and
    subscription, and each event id reaches the receiver once."""
    factory = world["factory"]
    clock = FixedClock(NOW)
    _subscribe(factory, receiver.url)
    for site in world["sites"][:5]:
        _take(factory, site)
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def loop() -> None:
        barrier.wait()
        try:
            for _ in range(3):
                _round(factory, clock)
        except Exception as exc:  # pragma: no cover - the assertion shows it
            errors.append(repr(exc))

    threads = [threading.Thread(target=loop) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as session:
        events = session.scalar(select(func.count()).select_from(OutboxEvent))
    deliveries = _deliveries(factory)
    assert len(deliveries) == events == 5
    assert sorted(receiver.ids()) == sorted(set(receiver.ids())) and len(receiver.ids()) == 5


def test_types_areas_and_pauses_decide_who_gets_an_event(
    world: dict[str, Any], receiver: Receiver
) -> None:
    """A subscription to cancellations in Suzhou gets only those; a paused one gets nothing
    until resumed, and then only what happens after."""
    factory = world["factory"]
    clock = FixedClock(NOW)
    suzhou = world["areas"][1]
    picky, _ = _subscribe(
        factory, receiver.url + "/picky", event_types=["request.cancelled"],
        service_area_ids=[suzhou],
    )  # fmt: skip
    paused, _ = _subscribe(factory, receiver.url + "/paused")
    with unit_of_work(factory) as session:
        update_subscription(session, SETTINGS, paused, active=False)
    geo = GeoContext()
    for site in (world["sites"][0], world["sites"][-1]):
        request_id = _take(factory, site)
        with unit_of_work(factory) as session:
            cancel(session, geo, request_id, reason="no longer", by="customer", actor="d", now=NOW)
    _round(factory, clock)
    by_sub = {d.subscription_id for d in _deliveries(factory)}
    assert by_sub == {picky} and len(_deliveries(factory)) == 1
    (got,) = receiver.received
    body = json.loads(got.body)
    assert (body["type"], body["service_area_id"]) == ("request.cancelled", suzhou)
    with unit_of_work(factory) as session:
        update_subscription(session, SETTINGS, paused, active=True)
    _take(factory, world["sites"][2])
    _round(factory, clock)
    assert [d.subscription_id for d in _deliveries(factory)][1:] == [paused]


def test_a_private_address_is_refused_unless_allowed_and_again_at_delivery(
    world: dict[str, Any], receiver: Receiver
) -> None:
    """By default a subscription to a loopback or private address is refused naming the URL;
    one made while they were allowed is refused at delivery once they are not."""
    from dispatch.errors import InvalidInput

    factory = world["factory"]
    strict = replace(SETTINGS, allow_private=False)
    refused_urls = [
        "http://127.0.0.1:9/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/x",
        "http://[::1]/x",
        "ftp://example.com/x",
        "http://user:pw@example.com/x",
    ]
    for url in refused_urls:
        with pytest.raises(InvalidInput) as refused, unit_of_work(factory) as session:
            create_subscription(session, strict, url=url, event_types=["*"], actor="admin")
        assert refused.value.loc[-1] == "url", url
    _subscribe(factory, receiver.url)
    _take(factory, world["sites"][0])
    assert _round(factory, FixedClock(NOW), strict) == 1
    (d,) = _deliveries(factory)
    assert d.status == "pending" and (d.last_error or "").startswith("refused")
    assert receiver.received == []


def _customer_site(factory: sessionmaker[Session], name: str, **contact: Any) -> int:
    with unit_of_work(factory) as session:
        customer = create_customer(session, name=name, **contact)
        return create_site(session, customer=customer, at=(31.24, 121.48), name="plant").id


def test_customers_get_their_message_in_their_language(
    world: dict[str, Any], receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A customer_message subscription receives the promise as text in the customer's language,
    with the window on the area's clock and the contact to send it to; a customer with neither
    phone nor e-mail gets nothing sent; the log sender writes the same text."""
    factory = world["factory"]
    zh = _customer_site(factory, "Huadong Foods", phone="+86 21 5555 0101", language="zh-CN")
    en = _customer_site(factory, "Bund Hotels", email="desk@bund.example", language="en")
    mute = _customer_site(factory, "Quiet Co")
    _subscribe(factory, receiver.url, event_types=["promise.made"], format="customer_message")
    refs = {site: _take(factory, site) for site in (zh, en, mute)}
    logged = replace(SETTINGS, log_messages=True)
    with caplog.at_level("INFO", logger="onsite.messages"):
        _round(factory, FixedClock(NOW), logged)
    bodies = {json.loads(r.body)["language"]: json.loads(r.body) for r in receiver.received}
    assert sorted(bodies) == ["en", "zh-CN"]
    with factory() as session:
        from dispatch.models import RepairRequest

        request = session.get(RepairRequest, refs[zh])
        assert request is not None and request.window_start is not None
        local = request.window_start.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    chinese = bodies["zh-CN"]
    assert chinese["text"].startswith("Onsite：已收到您的报修 CRM-") and local in chinese["text"]
    assert chinese["to"]["phone"] == "+86 21 5555 0101"
    english = bodies["en"]
    assert "An engineer will be with you on" in english["text"]
    assert english["to"]["email"] == "desk@bund.example"
    delivered = _deliveries(factory)
    assert len(delivered) == 3 and all(d.status == "delivered" for d in delivered)
    assert [d.last_error for d in delivered if d.last_error] == [
        "nothing to send: the customer has no phone or e-mail"
    ]
    assert sum("message to" in r.getMessage() for r in caplog.records) == 2
    assert any(chinese["text"] in r.getMessage() for r in caplog.records)


def test_a_delivery_process_beside_the_api_sends_what_the_api_commits(
    world: dict[str, Any], receiver: Receiver
) -> None:
    """The embedded default's delivery process (its own engine, polling for new rows) sends
    each event committed by another process once, and stops when told."""
    factory = world["factory"]
    _subscribe(factory, receiver.url)
    url = factory.kw["bind"].url.render_as_string(hide_password=False)
    process = DeliveryProcess(url, SETTINGS, poll_s=0.2)
    process.start()
    try:
        made = [_take(factory, site) for site in world["sites"][:3]]
        deadline = time.monotonic() + 60
        while len(set(receiver.ids())) < len(made) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.stop()
    assert not process.is_alive()
    assert len(receiver.ids()) == len(set(receiver.ids())) == len(made)
    assert all(d.status == "delivered" for d in _deliveries(factory))
