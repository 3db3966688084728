"""Human-readable messages as data: a catalogue key and its parameters, kept beside the English
text so the API can say the same in the caller's language (``Accept-Language``).

Parameters are JSON values; an instant is passed as a ``datetime`` under a name ending in
``_at`` (shown with its weekday, "Mon 14:30") or ``_time`` (the time of day, "14:30") and kept
as ISO 8601, to be shown on the clock of the area it belongs to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

INSTANT_SUFFIXES = ("_at", "_time")

Text = dict[str, Any]
"""``{"key": "alert.resolution_due.warning", "params": {"due_at": "2026-...Z", ...}}``"""


def text(key: str, **params: Any) -> Text:
    """A message by its catalogue key (without the ``api.`` prefix) and parameters."""
    kept: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, datetime):
            if not name.endswith(INSTANT_SUFFIXES):
                raise ValueError(f"text {key!r}: instant {name!r} must end in _at or _time")
            kept[name] = value.isoformat()
        elif value is None or isinstance(value, str | int | float | bool):
            kept[name] = value
        else:
            kept[name] = str(value)
    return {"key": key, "params": kept}
