"""Webhook subscriptions and the delivery of outbox events to them.

Deliveries follow the Standard Webhooks scheme (the ``standardwebhooks`` package): a POST of the
event's JSON with ``webhook-id`` (the event's stable id: receivers de-duplicate by it),
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of
``id.timestamp.body`` under the subscription's secret).

Delivery is at least once. Each round (:func:`deliver_due`) first fans new outbox rows out into
one delivery per matching subscription (unique per subscription and event, so fanning out twice
creates nothing twice), then claims the deliveries that are due for a short lease, posts them
outside any transaction (several at once: one slow receiver holds up only its own deliveries),
and records each answer. A failed delivery is retried with exponential backoff and jitter for
``webhook_retry_hours``, then kept as dead, visible and replayable.

A subscription's URL may not point at loopback, link-local or private addresses unless the
``webhook_allow_private`` setting says so; the host is resolved and checked again before every
delivery, so a name that later resolves inside the network is refused then.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import logging
import multiprocessing
import os
import random
import secrets
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook

from dispatch.clock import Clock, SystemClock
from dispatch.common.paging import Page, paginate
from dispatch.db import make_engine, make_session_factory, unit_of_work
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import OutboxEvent, ServiceArea, WebhookDelivery, WebhookSubscription
from dispatch.models.enums import DeliveryStatus
from dispatch.notify import messages
from dispatch.notify.events import EVENT_TYPES, WAKERS, envelope, outbox_row

log = logging.getLogger("onsite.webhooks")

FAN_OUT_BATCH = 500
CLAIM_BATCH = 50
IN_FLIGHT = 8
BACKOFF_FIRST_S = 2.0
BACKOFF_MAX_S = 3600.0
LEASE_MARGIN = timedelta(seconds=30)
FORMATS = ("event", "customer_message")


@dataclass(frozen=True)
class WebhookSettings:
    """How deliveries behave (from the service settings)."""

    allow_private: bool = False
    timeout_s: float = 5.0
    retry_for: timedelta = timedelta(hours=24)
    log_messages: bool = False
    """Also write every customer message to the log (the development sender)."""


# -- subscriptions -------------------------------------------------------------------------


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why ``url`` may not be delivered to (None: it may): scheme, host, and every address the
    host resolves to now."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if host:
            host.encode("idna")
    except (ValueError, UnicodeError):
        return "the URL is not valid (its host or port cannot be read)"
    if parts.scheme not in ("http", "https"):
        return "the URL must start with http:// or https://"
    if not host:
        return "the URL has no host"
    if parts.username or parts.password:
        return "the URL may not carry credentials; the signature authenticates us"
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        return f"the host {host} cannot be resolved ({exc})"
    for info in infos:
        address = str(info[4][0])
        if _blocked(address):
            return (
                f"the host {host} resolves to {address}, a loopback, link-local or private "
                "address: webhooks go to public receivers only"
            )
    return None


def _check_types(event_types: Sequence[str]) -> list[str]:
    if not event_types:
        raise InvalidInput("event_types", 'name at least one event type (or "*" for all)')
    wanted = list(dict.fromkeys(event_types))
    unknown = [t for t in wanted if t != "*" and t not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(
            "event_types", f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}"
        )
    return wanted


def _check_areas(session: Session, area_ids: Sequence[int] | None) -> list[int] | None:
    if area_ids is None:
        return None
    wanted = sorted(set(area_ids))
    found = set(session.scalars(select(ServiceArea.id).where(ServiceArea.id.in_(wanted))))
    missing = [a for a in wanted if a not in found]
    if missing:
        raise InvalidInput("service_area_ids", f"no service area {missing}")
    return wanted


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_secret(secret: str) -> str:
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        Webhook(secret)
    except Exception:
        raise InvalidInput(
            "secret", "give a secret as whsec_ and base64 (or leave it out to get one)"
        ) from None
    if len(key) < 24:
        raise InvalidInput("secret", "the secret needs at least 24 random bytes")
    return secret


def create_subscription(
    session: Session,
    settings: WebhookSettings,
    *,
    url: str,
    event_types: Sequence[str],
    service_area_ids: Sequence[int] | None = None,
    secret: str | None = None,
    description: str | None = None,
    format: str = "event",
    actor: str,
) -> WebhookSubscription:
    """A new, active subscription (its secret made when not given). ``format`` is ``event``
    (the event's JSON) or ``customer_message`` (the message to the customer and their contact,
    for an SMS or e-mail gateway)."""
    if format not in FORMATS:
        raise InvalidInput("format", f"format is one of {', '.join(FORMATS)}")
    refusal = resolve_refusal(url, allow_private=settings.allow_private)
    if refusal is not None:
        raise InvalidInput("url", refusal)
    subscription = WebhookSubscription(
        url=url,
        description=description,
        event_types=_check_types(event_types),
        service_area_ids=_check_areas(session, service_area_ids),
        secret=_check_secret(secret) if secret is not None else new_secret(),
        active=True,
        format=format,
        created_by=actor,
    )
    session.add(subscription)
    session.flush()
    return subscription


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    found = session.get(WebhookSubscription, subscription_id)
    if found is None:
        raise NotFound("webhook subscription", subscription_id)
    return found


def list_subscriptions(session: Session, *, limit: int, offset: int) -> Page[WebhookSubscription]:
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id)
    return paginate(session, stmt, limit=limit, offset=offset)


def update_subscription(
    session: Session,
    settings: WebhookSettings,
    subscription_id: int,
    *,
    active: bool | None = None,
    event_types: Sequence[str] | None = None,
    url: str | None = None,
) -> WebhookSubscription:
    """Pause or resume a subscription, or change what it wants or where it goes."""
    subscription = get_subscription(session, subscription_id)
    if url is not None:
        refusal = resolve_refusal(url, allow_private=settings.allow_private)
        if refusal is not None:
            raise InvalidInput("url", refusal)
        subscription.url = url
    if event_types is not None:
        subscription.event_types = _check_types(event_types)
    if active is not None:
        subscription.active = active
    session.flush()
    return subscription


def delete_subscription(session: Session, subscription_id: int) -> None:
    """Remove a subscription with its deliveries (pending ones are not sent)."""
    session.delete(get_subscription(session, subscription_id))
    session.flush()


def test_fire(session: Session, subscription_id: int, *, now: datetime) -> OutboxEvent:
    """A ``webhook.test`` event for this one subscription (paused or not)."""
    subscription = get_subscription(session, subscription_id)
    row = outbox_row(
        "webhook.test",
        at=now,
        data={"message": "a test event from Onsite", "subscription_id": subscription.id},
        subscription_id=subscription.id,
    )
    session.add(row)
    session.flush()
    return row


def list_deliveries(
    session: Session,
    *,
    subscription_id: int | None,
    status: str | None,
    limit: int,
    offset: int,
) -> Page[WebhookDelivery]:
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        if status not in {s.value for s in DeliveryStatus}:
            raise InvalidInput("status", "status is pending, delivered or dead")
        stmt = stmt.where(WebhookDelivery.status == status)
    return paginate(session, stmt, limit=limit, offset=offset)


def replay(session: Session, delivery_id: int, *, now: datetime) -> WebhookDelivery:
    """Send a delivery again (a dead letter, or one delivered that the receiver lost): the same
    event id, so a receiver that had it de-duplicates it."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound("webhook delivery", delivery_id)
    if delivery.status == DeliveryStatus.PENDING.value:
        raise Conflict(f"delivery {delivery_id} is still being tried")
    delivery.status = DeliveryStatus.PENDING.value
    delivery.next_attempt_at = now
    delivery.created_at = now  # its retry time counts from the replay
    session.flush()
    for waker in list(WAKERS):
        waker.set()
    return delivery


# -- delivery ------------------------------------------------------------------------------


def _wants(subscription: WebhookSubscription, row: OutboxEvent) -> bool:
    if row.subscription_id is not None:
        return row.subscription_id == subscription.id
    if not subscription.active:
        return False
    if subscription.format == "customer_message" and not messages.wanted(row):
        return False
    if "*" not in subscription.event_types and row.type not in subscription.event_types:
        return False
    areas = subscription.service_area_ids
    return areas is None or row.service_area_id in areas


def fan_out(session: Session, *, now: datetime, log_messages: bool = False) -> int:
    """One pending delivery per new outbox row and subscription wanting it; returns how many
    rows were fanned out. Rows another process is fanning out are skipped (PostgreSQL)."""
    rows = session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.fanned_out.is_(False))
        .order_by(OutboxEvent.id)
        .limit(FAN_OUT_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return 0
    subscriptions = session.scalars(select(WebhookSubscription)).all()
    values = [
        {
            "subscription_id": s.id,
            "event_id": row.id,
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
        for s in subscriptions
        if _wants(s, row)
    ]
    if values:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(WebhookDelivery)
            .values(values)
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
        )
    session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_([r.id for r in rows])).values(fanned_out=True)
    )
    if log_messages:
        sender = messages.LogSender()
        for row in rows:
            message = messages.render(session, row)
            if message is not None:
                sender.send(message)
    return len(rows)


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    url: str
    secret: str
    event_id: str
    body: str


def _claim(session: Session, settings: WebhookSettings, *, now: datetime) -> list[_Claimed]:
    """Due deliveries, each leased to this round for the time one attempt may take."""
    due = session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(CLAIM_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    lease = now + timedelta(seconds=settings.timeout_s) + LEASE_MARGIN
    for delivery in due:
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        row = session.get(OutboxEvent, delivery.event_id)
        if subscription is None or row is None:
            continue
        delivery.next_attempt_at = lease
        content: dict[str, Any] | None = envelope(row)
        if subscription.format == "customer_message" and row.subscription_id is None:
            message = messages.render(session, row)
            content = message.as_dict() if message is not None else None
        if content is None:  # nobody to tell (no phone or e-mail): nothing to send
            delivery.status = DeliveryStatus.DELIVERED.value
            delivery.last_error = "nothing to send: the customer has no phone or e-mail"
            continue
        body = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        claimed.append(
            _Claimed(delivery.id, subscription.url, subscription.secret, row.event_id, body)
        )
    return claimed


@dataclass(frozen=True)
class Attempt:
    """What one POST came to."""

    ok: bool
    status_code: int | None
    error: str | None


def post(client: httpx.Client, settings: WebhookSettings, claimed: _Claimed) -> Attempt:
    """Sign and POST one delivery; never raises."""
    refusal = resolve_refusal(claimed.url, allow_private=settings.allow_private)
    if refusal is not None:
        return Attempt(False, None, f"refused: {refusal}")
    # The wall clock, whatever the domain's: receivers check the timestamp against theirs.
    sent_at = datetime.now(UTC)
    signature = Webhook(claimed.secret).sign(claimed.event_id, sent_at, claimed.body)
    headers = {
        "content-type": "application/json",
        "webhook-id": claimed.event_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
        "user-agent": "Onsite-Webhooks/1",
    }
    try:
        answer = client.post(
            claimed.url,
            content=claimed.body.encode(),
            headers=headers,
            timeout=settings.timeout_s,
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return Attempt(False, None, f"no answer within {settings.timeout_s:g} s")
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= answer.status_code < 300:
        return Attempt(True, answer.status_code, None)
    return Attempt(False, answer.status_code, f"answered {answer.status_code}")


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones: doubling from 2 s up to
    an hour, with full jitter between half and the whole of it."""
    base = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * (0.5 + 0.5 * (rng or random).random()))


def _record(
    session: Session, settings: WebhookSettings, delivery_id: int, attempt: Attempt, now: datetime
) -> None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # the subscription was deleted meanwhile
        return
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = attempt.status_code
    delivery.last_error = attempt.error
    if attempt.ok:
        delivery.status = DeliveryStatus.DELIVERED.value
        delivery.delivered_at = now
        return
    retry_at = now + backoff(delivery.attempts)
    if retry_at - delivery.created_at > settings.retry_for:
        delivery.status = DeliveryStatus.DEAD.value
        log.warning("webhook delivery %s is dead: %s", delivery_id, attempt.error)
    else:
        delivery.next_attempt_at = retry_at


def deliver_due(
    factory: sessionmaker[Session],
    settings: WebhookSettings,
    clock: Clock,
    client: httpx.Client,
    pool: ThreadPoolExecutor | None = None,
) -> int:
    """One round: fan out, claim what is due, post it, record the answers. Returns the number
    of deliveries attempted."""
    with unit_of_work(factory) as session:  # one short transaction for both
        fan_out(session, now=clock.now(), log_messages=settings.log_messages)
        session.flush()
        claimed = _claim(session, settings, now=clock.now())
    if not claimed:
        return 0

    def one(c: _Claimed) -> tuple[_Claimed, Attempt]:
        return c, post(client, settings, c)

    results = list(pool.map(one, claimed)) if pool is not None else [one(c) for c in claimed]
    with unit_of_work(factory) as session:
        for c, attempt in results:
            _record(session, settings, c.delivery_id, attempt, clock.now())
    return len(claimed)


class DeliveryLoop:
    """Deliveries in a background thread (the embedded default's API process, or a cluster
    worker): a round whenever a commit wrote outbox rows, and at least every ``poll_s``."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: WebhookSettings,
        clock: Clock,
        *,
        poll_s: float = 1.0,
        client_factory: Callable[[], httpx.Client] = httpx.Client,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.clock = clock
        self.poll_s = poll_s
        self._client_factory = client_factory
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="onsite-webhooks", daemon=True)

    def start(self) -> None:
        WAKERS.append(self._wake)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._wake in WAKERS:
            WAKERS.remove(self._wake)

    def _loop(self) -> None:
        with self._client_factory() as client, ThreadPoolExecutor(IN_FLIGHT) as pool:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    while deliver_due(self.factory, self.settings, self.clock, client, pool):
                        if self._stop.is_set():
                            return
                except Exception:  # the database away, say: try again next round
                    log.exception("webhook delivery round failed")
                self._wake.wait(self.poll_s)


def _deliver_in_process(
    database_url: str, settings: WebhookSettings, parent: int, stop: Any, poll_s: float
) -> None:
    """The body of :class:`DeliveryProcess`: a :class:`DeliveryLoop` on its own engine, until
    told to stop (a message on ``stop``, or its end closed) or its parent is gone.

    Ctrl-C in a terminal reaches the whole process group: this process leaves stopping to
    its parent, which tells it once the server has shut down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = make_engine(database_url)
    loop = DeliveryLoop(make_session_factory(engine), settings, SystemClock(), poll_s=poll_s)
    loop.start()
    try:
        while not stop.poll(1.0):
            if os.getppid() != parent:  # the API process died without telling us
                break
    finally:
        loop.stop()
        engine.dispose()


class DeliveryProcess:
    """Deliveries in a process of their own beside the embedded default's API process.

    A busy API process (intake saturating it) holds Python's interpreter lock most of the
    time, and a delivery thread in it then waits its turn; a process of its own runs on
    another core. It learns of new outbox rows by polling every ``poll_s`` (a cheap indexed
    query), as commits in another process cannot wake it.
    """

    def __init__(self, database_url: str, settings: WebhookSettings, *, poll_s: float = 0.2):
        context = multiprocessing.get_context("spawn")
        # A pipe, not a multiprocessing Event: setting an Event waits for its waiters to wake,
        # so a child that died while waiting (killed with its process group) would hang the
        # API process's shutdown for good.
        listen, self._stop = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_deliver_in_process,
            args=(database_url, settings, os.getpid(), listen, poll_s),
            name="onsite-webhooks",
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()

    def is_alive(self) -> bool:
        return self._process.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        with contextlib.suppress(OSError):  # the process is gone already
            self._stop.send(None)
        self._stop.close()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)


__all__ = [
    "Attempt",
    "DeliveryLoop",
    "DeliveryProcess",
    "WebhookSettings",
    "backoff",
    "create_subscription",
    "delete_subscription",
    "deliver_due",
    "fan_out",
    "list_deliveries",
    "list_subscriptions",
    "new_secret",
    "replay",
    "resolve_refusal",
    "test_fire",
    "update_subscription",
]
