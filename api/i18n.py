"""The language of the API's human-readable messages.

The caller's ``Accept-Language`` picks English or Simplified Chinese (any ``zh`` reads Chinese);
English is the default and the fallback. The words come from the board's message catalogues
(``api/static/i18n/<locale>.json``, keys under ``api.``), so the board and the API say the same
thing the same way; instants are written with Babel in the locale's style, on the clock of the
area they belong to. A message the catalogue does not hold stays in English.
"""

from __future__ import annotations

import json
import re
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from fastapi import Depends, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.common.text import INSTANT_SUFFIXES

CATALOGUES = Path(__file__).resolve().parent / "static" / "i18n"
SUPPORTED = ("en", "zh-CN")
DEFAULT = "en"
BABEL = {"en": "en_GB", "zh-CN": "zh_Hans_CN"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def catalogue(locale: str) -> dict[str, str]:
    """The messages of ``locale`` (one of ``SUPPORTED``)."""
    with open(CATALOGUES / f"{locale}.json", encoding="utf-8") as handle:
        found: dict[str, str] = json.load(handle)
    return found


def negotiate(header: str | None) -> str:
    """The supported locale an ``Accept-Language`` header asks for (by its q-values)."""
    wanted = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            wanted.append((-q, index, tag.strip().lower()))
    for _, _, tag in sorted(wanted):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en") or tag == "*":
            return "en"
    return DEFAULT


def request_locale(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


LOCALE: ContextVar[str] = ContextVar("onsite_locale", default=DEFAULT)
"""The locale of the request being answered, for conversions deep in the schemas."""


class LocaleMiddleware:
    """Reads ``Accept-Language`` once per API call (into :data:`LOCALE`) and says in the answer
    which language it is in (``Content-Language``, ``Vary: Accept-Language``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/v1"):
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"accept-language", b"").decode("latin-1")
        locale = negotiate(header)

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Language"] = locale
                headers.add_vary_header("Accept-Language")
            await send(message)

        token = LOCALE.set(locale)
        try:
            await self.app(scope, receive, answer)
        finally:
            LOCALE.reset(token)


LocaleDep = Annotated[str, Depends(request_locale)]


def instant(moment: datetime, timezone: str, locale: str, *, weekday: bool = True) -> str:
    """``Mon 14:30`` / ``周一 14:30`` (or only ``14:30``) on the area's clock."""
    pattern = "EEE HH:mm" if weekday else "HH:mm"
    return str(format_datetime(moment, pattern, tzinfo=ZoneInfo(timezone), locale=BABEL[locale]))


def say(said: dict[str, Any] | None, locale: str, timezone: str) -> str | None:
    """The message ``{"key", "params"}`` in ``locale``, or None when there is nothing to say it
    with (no message as data, or a key the catalogue lacks)."""
    if not said or "key" not in said:
        return None
    template = catalogue(locale).get(f"api.{said['key']}")
    if template is None:
        return None
    params = dict(said.get("params") or {})
    for name, value in params.items():
        if name.endswith("_key") and isinstance(value, str):
            params[name] = catalogue(locale).get(f"api.{value}", value)
        elif name.endswith(INSTANT_SUFFIXES) and isinstance(value, str):
            moment = datetime.fromisoformat(value)
            params[name] = instant(moment, timezone, locale, weekday=name.endswith("_at"))
        elif value is None:
            params[name] = "–"
    return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), m.group(0))), template)


def localize_alert(view: dict[str, Any], locale: str) -> dict[str, Any]:
    """An alert view with its message and suggested action in ``locale``."""
    if locale == DEFAULT:
        return view
    said = view.get("said") or {}
    timezone = view.get("timezone") or "UTC"
    message = say(said.get("text"), locale, timezone)
    action = say(said.get("action_text"), locale, timezone)
    return {
        **view,
        "message": message or view["message"],
        "suggested_action": action or view["suggested_action"],
    }


def localize_warnings(warnings: list[dict[str, Any]], locale: str, timezone: str) -> list[Any]:
    """An assignment check's warnings with their messages in ``locale``."""
    if locale == DEFAULT:
        return warnings
    return [
        {**w, "message": say(w.get("said"), locale, timezone) or w["message"]} for w in warnings
    ]


def localize_reasons(items: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """Unassigned requests with the reason's message in ``locale``. In English the optimiser's
    own message stays (it names what blocked the request); another language says what the
    reason means."""
    if locale == DEFAULT:
        return items
    words = catalogue(locale)
    return [
        {**u, "message": words.get(f"api.reason.{u.get('reason')}", u["message"])} for u in items
    ]


def explain_in(said: dict[str, Any] | None, locale: str) -> str | None:
    """A promise's explanation (:func:`dispatch.promise.engine.explain_said`) in ``locale``;
    None in English (the stored text is English) or when a part cannot be said."""
    if locale == DEFAULT or not said or not said.get("parts"):
        return None
    timezone = said.get("timezone") or "UTC"
    parts = [say(part, locale, timezone) for part in said["parts"]]
    if any(p is None for p in parts):
        return None
    return catalogue(locale).get("api.promise.join", "; ").join(str(p) for p in parts)


def localize_promise(view: dict[str, Any], locale: str) -> dict[str, Any]:
    """A promise view (a dict with ``explanation`` and ``said``) in ``locale``."""
    said = explain_in(view.get("said"), locale)
    return {**view, "explanation": said} if said else view
