"""Messages to customers: an event rendered to text in the customer's language.

A template per event type and language (zh-CN and en) is filled with the request's reference,
the engineer's name and times on the clock of the request's service area. A message goes out
through a sender: a webhook subscription whose ``format`` is ``customer_message`` is one (an SMS
or e-mail gateway receives the text and the customer's contact, signed and retried like any
delivery); the log sender (``ONSITE_CUSTOMER_MESSAGES_LOG``) writes each message to the log, for
development.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dispatch.models import Customer, OutboxEvent, RepairRequest, ServiceArea, Site

log = logging.getLogger("onsite.messages")

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

TEMPLATES: dict[str, dict[str, str]] = {
    "promise.made": {
        "en": "Onsite: we have your request {ref}. An engineer will be with you on {day} "
        "between {window}.",
        "zh-CN": "Onsite：已收到您的报修 {ref}。工程师将于 {day} {window} 上门。",
    },
    "promise.changed": {
        "en": "Onsite: the visit for {ref} has moved. The engineer will now come on {day} "
        "between {window}.",
        "zh-CN": "Onsite：报修 {ref} 的上门时间已调整为 {day} {window}。",
    },
    "engineer.en_route": {
        "en": "Onsite: {engineer} is on the way for {ref}, arriving about {eta}.",
        "zh-CN": "Onsite：工程师{engineer}已出发处理 {ref}，预计 {eta} 到达。",
    },
    "eta.changed": {
        "en": "Onsite: {engineer} is running late for {ref}; new arrival about {eta}. "
        "We are sorry for the wait.",
        "zh-CN": "Onsite：工程师{engineer}处理 {ref} 将晚到，预计 {eta} 到达，抱歉让您久等。",
    },
    "engineer.arrived": {
        "en": "Onsite: {engineer} has arrived for {ref}.",
        "zh-CN": "Onsite：工程师{engineer}已到达现场处理 {ref}。",
    },
    "visit.completed": {
        "en": "Onsite: the work for {ref} is done. Thank you.",
        "zh-CN": "Onsite：报修 {ref} 已处理完成，感谢您的配合。",
    },
    "request.cancelled": {
        "en": "Onsite: your request {ref} has been cancelled.",
        "zh-CN": "Onsite：您的报修 {ref} 已取消。",
    },
}
"""The events a customer is told of. ``eta.changed`` only when the ETA leaves the window
(not when it comes back in)."""


@dataclass(frozen=True)
class CustomerMessage:
    """A rendered message and whom it is for."""

    event_id: str
    type: str
    language: str
    text: str
    customer: str
    contact_name: str | None
    phone: str | None
    email: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "type": self.type,
            "language": self.language,
            "text": self.text,
            "to": {
                "customer": self.customer,
                "name": self.contact_name,
                "phone": self.phone,
                "email": self.email,
            },
        }


class MessageSender(Protocol):
    """Where rendered messages go."""

    def send(self, message: CustomerMessage) -> None: ...


class LogSender:
    """Writes each message to the log (development: no gateway needed)."""

    def send(self, message: CustomerMessage) -> None:
        log.info(
            "message to %s (%s, %s): %s",
            message.phone or message.email,
            message.customer,
            message.language,
            message.text,
        )


def wanted(row: OutboxEvent) -> bool:
    """Whether customers are told of this event."""
    if row.type not in TEMPLATES or row.request_id is None:
        return False
    return not (row.type == "eta.changed" and row.data.get("inside_window"))


def _clock(moment: str | None, zone: ZoneInfo, language: str) -> tuple[str, str]:
    if not moment:
        return "", ""
    local = datetime.fromisoformat(moment).astimezone(zone)
    day = f"{local.month}月{local.day}日" if language == "zh-CN" else local.strftime("%-d %b")
    return day, local.strftime("%H:%M")


def render(session: Session, row: OutboxEvent) -> CustomerMessage | None:
    """The message for an event, in the customer's language; None when customers are not told
    of it or the customer can be reached neither by phone nor by e-mail."""
    if not wanted(row):
        return None
    request = session.get(RepairRequest, row.request_id)
    site = session.get(Site, request.site_id) if request is not None else None
    customer = session.get(Customer, site.customer_id) if site is not None else None
    if request is None or customer is None or not (customer.phone or customer.email):
        return None
    area = session.get(ServiceArea, request.base_area_id or request.service_area_id or 0)
    zone = ZoneInfo(area.timezone if area is not None else "UTC")
    language = customer.language if customer.language in LANGUAGES else DEFAULT_LANGUAGE
    data = row.data
    day, start = _clock(data.get("window_start"), zone, language)
    _, end = _clock(data.get("window_end"), zone, language)
    _, eta = _clock(data.get("eta"), zone, language)
    engineer = data.get("engineer") or ""
    text = TEMPLATES[row.type][language].format(
        ref=row.external_ref or f"#{row.request_id}",
        day=day,
        window=f"{start}-{end}",
        eta=eta,
        engineer=engineer,
    )
    return CustomerMessage(
        event_id=row.event_id,
        type=row.type,
        language=language,
        text=" ".join(text.split()),
        customer=customer.name,
        contact_name=customer.contact_name,
        phone=customer.phone,
        email=customer.email,
    )


__all__ = [
    "LANGUAGES",
    "TEMPLATES",
    "CustomerMessage",
    "LogSender",
    "MessageSender",
    "render",
    "wanted",
]
