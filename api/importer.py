"""Requests from a CSV file, for ``onsite import requests``: each row read into what
``POST /v1/requests`` takes, with every problem named by line and column.

The header names the columns (any order; only ``site_id`` and ``channel`` are required):

=================  ==========================================================================
``site_id``        the site (``GET /v1/sites``)
``channel``        phone, online, email or app
``external_ref``   your case number (a row already imported is answered with the original)
``tier``           urgent, important or general (else the SLA policy decides)
``problem_type``   e.g. system_down, minor_fault
``description``    free text
``service_minutes`` expected time on site (default 60)
``skills``         ``skill:level`` pairs separated by ``;`` (``plc:3;electrical:2``)
``availability``   when the customer is there: ``start/end`` pairs of ISO instants with a
                   zone, separated by ``;``
``received_at``    when the customer asked, if earlier than now (an ISO instant)
``idempotency_key`` as the Idempotency-Key header of a single request
=================  ==========================================================================

Empty cells are left out (the default applies).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from api.schemas.requests import BatchItemCreate

COLUMNS = (
    "site_id",
    "channel",
    "external_ref",
    "tier",
    "problem_type",
    "description",
    "service_minutes",
    "skills",
    "availability",
    "received_at",
    "idempotency_key",
)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Row:
    line: int
    item: BatchItemCreate


def _skills(text: str, line: int) -> list[dict[str, Any]] | RowError:
    skills = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        code, sep, level = part.partition(":")
        if not sep or not code.strip() or not level.strip().isdigit():
            return RowError(line, "skills", f"{part!r} is not skill:level (e.g. plc:3)")
        skills.append({"skill": code.strip(), "min_level": int(level)})
    return skills


def _windows(text: str, line: int) -> list[dict[str, str]] | RowError:
    windows = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        start, sep, end = part.partition("/")
        if not sep:
            return RowError(line, "availability", f"{part!r} is not start/end")
        windows.append({"start": start.strip(), "end": end.strip()})
    return windows


def read_rows(lines: Iterable[str]) -> tuple[list[Row], list[RowError]]:
    """The valid rows and, for every other, what is wrong with it (line numbers as an editor
    shows them: the header is line 1)."""
    reader = csv.DictReader(lines)
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        return [], [RowError(1, "", "the file is empty; the first line names the columns")]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in ("site_id", "channel") if c not in header]
    if unknown or missing:
        problems = [
            RowError(1, h, f"unknown column (known: {', '.join(COLUMNS)})") for h in unknown
        ]
        problems += [RowError(1, c, "required column is missing") for c in missing]
        return [], problems
    rows: list[Row] = []
    errors: list[RowError] = []
    for record in reader:
        line = reader.line_num
        if None in record:
            errors.append(RowError(line, "", "more cells than the header has columns"))
            continue
        data: dict[str, Any] = {}
        bad = None
        for name, raw in record.items():
            text = (raw or "").strip()
            if not text:
                continue
            key = name.strip()
            parsed: Any = text
            if key == "skills":
                parsed = _skills(text, line)
            elif key == "availability":
                parsed = _windows(text, line)
            if isinstance(parsed, RowError):
                bad = parsed
                break
            data[key] = parsed
        if bad is not None:
            errors.append(bad)
            continue
        try:
            rows.append(Row(line, BatchItemCreate.model_validate(data)))
        except ValidationError as exc:
            for e in exc.errors():
                loc = [str(p) for p in e["loc"]]
                errors.append(RowError(line, ".".join(loc), e["msg"]))
    return rows, errors


__all__ = ["COLUMNS", "Row", "RowError", "read_rows"]
