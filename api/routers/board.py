"""The dispatcher board: a single-page app served by the API itself (no separate server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import DispatcherUser, SettingsDep

router = APIRouter(include_in_schema=False)

INDEX = Path(__file__).resolve().parent.parent / "static" / "index.html"


@router.get("/")
def board() -> FileResponse:
    """The board (it signs in with an API key and talks to /v1)."""
    return FileResponse(INDEX, media_type="text/html")


@router.get("/v1/board/config")
def board_config(settings: SettingsDep, user: DispatcherUser) -> dict[str, Any]:
    """The board's settings once signed in: an optional base map (none by default). Behind
    the key, as a tile server's URL may carry the organisation's own key."""
    return {"tile_url": settings.tile_url, "tile_attribution": settings.tile_attribution}
