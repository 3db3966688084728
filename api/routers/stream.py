"""The live stream: server-sent events of every change the reader may see, as it happens."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from api.deps import AnyUser
from api.schemas.common import Id
from dispatch.auth.principal import Principal
from dispatch.models.enums import Role
from dispatch.notify.events import envelope
from dispatch.notify.stream import events_after, latest_id

router = APIRouter(prefix="/v1", tags=["live"])

POLL_S = 0.5
PING_S = 15
MAX_S = 300.0
"""A stream ends after this long (``app.state.stream_max_s``); the reader reconnects with
``Last-Event-ID`` and misses nothing, and a server never holds a dead reader for long."""


def _read(
    request: Request, after: int | None, user: Principal, areas: list[int] | None
) -> tuple[int, list[dict[str, Any]]]:
    with request.app.state.session_factory() as session:
        if after is None:
            return latest_id(session), []
        engineer = user.engineer_id if user.role is Role.ENGINEER else None
        if user.role is Role.ENGINEER and engineer is None:
            return after, []
        rows = events_after(session, after, engineer_id=engineer, area_ids=areas)
        return (rows[-1].id if rows else after), [
            {"id": str(r.id), "event": r.type, "data": json.dumps(envelope(r), ensure_ascii=False)}
            for r in rows
        ]


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "an event stream"}},
)
async def stream(
    request: Request,
    user: AnyUser,
    service_area_id: Annotated[list[Id] | None, Query(max_length=200)] = None,
    last_event_id: Annotated[str | None, Header(max_length=9, pattern=r"^\d{1,9}$")] = None,
) -> EventSourceResponse:
    """Server-sent events: each change as it is committed (the event types of the webhooks,
    same JSON in ``data``, the outbox row's id as the event id). Staff see every area, or those
    asked for; an engineer only the requests they are or were assigned. A reader that
    reconnects with ``Last-Event-ID`` gets what it missed; a new one starts from now. A comment
    line every 15 s keeps proxies from closing the connection; the stream ends after 5 min, to
    be reconnected."""
    areas = list(service_area_id) if service_area_id else None
    start = int(last_event_id) if last_event_id is not None else None

    ends = anyio.current_time() + getattr(request.app.state, "stream_max_s", MAX_S)

    async def events() -> AsyncIterator[dict[str, Any]]:
        after = start
        while anyio.current_time() < ends:
            after, batch = await anyio.to_thread.run_sync(_read, request, after, user, areas)
            for item in batch:
                yield item
            if not batch:
                await anyio.sleep(POLL_S)

    return EventSourceResponse(events(), ping=PING_S)
