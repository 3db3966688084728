"""Shared schema pieces, and the bounds every input must stay inside.

Every value that reaches the domain is bounded here, at the edge: ids fit the database's
32-bit columns, numbers are finite, dates lie in the years Onsite plans for, text holds no NUL
character or unpaired surrogate, and an explicit ``null`` is only accepted where the value may
really be empty. What falls outside is a 422 naming the field, so the domain never sees it.
"""

from __future__ import annotations

import datetime as dt
import math
import typing
from collections.abc import Callable, Iterator
from typing import Annotated, Any, ClassVar, Generic, TypeVar

import annotated_types as at
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

T = TypeVar("T")

MAX_ID = 2**31 - 1
"""The largest id a 32-bit integer column holds (ids start at 1)."""
MAX_OFFSET = 2**31 - 1

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)
"""The calendar Onsite plans in. Finer limits (no run in the past, bookings at most a year
ahead) are the domain's; these only keep dates clear of overflow and nonsense."""

Id = Annotated[int, at.Interval(ge=1, le=MAX_ID)]
Offset = Annotated[int, at.Interval(ge=0, le=MAX_OFFSET)]
Version = Annotated[int, at.Interval(ge=0, le=MAX_ID)]
"""The version of an object you read (optimistic concurrency: 409 when it moved on)."""

Latitude = Annotated[float, Field(ge=-90, le=90, description="degrees north (WGS84)")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="degrees east (WGS84)")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


def bad_text(value: str) -> bool:
    # NUL cannot be stored by PostgreSQL; a lone surrogate cannot be encoded as UTF-8.
    return "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value)


def _text_error() -> PydanticCustomError:
    return PydanticCustomError(
        "invalid_text", "text must not contain NUL characters or unpaired surrogates"
    )


def _date_error(value: object) -> PydanticCustomError:
    return PydanticCustomError(
        "date_out_of_range",
        "dates must lie between {first} and {last} (got {value})",
        {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat(), "value": str(value)},
    )


def _check_day(value: dt.date) -> dt.date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise _date_error(value)
    return value


def _check_instant(value: dt.datetime) -> dt.datetime:
    if not FIRST_DAY <= value.astimezone(dt.UTC).date() <= LAST_DAY:
        raise _date_error(value.isoformat())
    return value


def _check_text(value: str) -> str:
    if bad_text(value):
        raise _text_error()
    return value


Day = Annotated[dt.date, AfterValidator(_check_day)]
"""A calendar date inside the years Onsite plans for."""
Instant = Annotated[AwareDatetime, AfterValidator(_check_instant)]
"""An instant with its UTC offset, inside the years Onsite plans for."""
QueryText = Annotated[str, at.MaxLen(200), AfterValidator(_check_text)]
"""Free text in a query string or path: bounded and free of NUL and lone surrogates."""


def _values(value: Any) -> Iterator[Any]:
    """Every scalar inside a JSON-like value (dict keys included)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(item)
    else:
        yield value


def _holds_model(annotation: Any) -> bool:
    """Whether a field's type contains a schema of its own (which checks itself)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in typing.get_args(annotation))


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are refused, not silently dropped; numbers must be
    finite; text may not hold NUL or unpaired surrogates; dates stay in Onsite's calendar."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            if bad_text(value):
                raise _text_error()
            return value
        if not isinstance(value, dict | list) or info.field_name is None:
            return value
        field = cls.model_fields.get(info.field_name)
        if field is not None and _holds_model(field.annotation):
            return value  # nested schemas check their own fields, naming them precisely
        for item in _values(value):
            if isinstance(item, str) and bad_text(item):
                raise _text_error()
            if isinstance(item, float) and not math.isfinite(item):
                raise PydanticCustomError("finite_number", "numbers must be finite")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _in_calendar(cls, value: Any) -> Any:
        for item in _values(value):
            if isinstance(item, dt.datetime):
                if item.tzinfo is not None:  # a naive one is refused by the domain, by name
                    _check_instant(item)
            elif isinstance(item, dt.date):
                _check_day(item)
        return value


class UpdateModel(InputModel):
    """Base of PATCH bodies: a field left out keeps its value; an explicit ``null`` is accepted
    only for the fields in ``nullable`` (the ones that may really be empty)."""

    nullable: ClassVar[frozenset[str]] = frozenset({"version"})

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError(
                "null_not_allowed",
                "{field} cannot be null; leave it out to keep the current value",
                {"field": info.field_name},
            )
        return value


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(OutputModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, page: Any, convert: Callable[[Any], T]) -> dict[str, Any]:
        """A service's page with each item converted to its schema."""
        return {
            "items": [convert(item) for item in page.items],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }


class Point(InputModel):
    lat: Latitude
    lon: Longitude


class OvernightStop(OutputModel):
    """Where an engineer on an out-of-town trip sleeps (a hotel, or near the last site)."""

    name: str
    lat: float
    lon: float


class PointRead(OutputModel):
    lat: float
    lon: float


class ErrorItem(OutputModel):
    loc: list[str | int] = Field(description="where: path, query, header or body, then the field")
    msg: str
    type: str


class ErrorResponse(OutputModel):
    """Every error Onsite answers, in FastAPI's own shape."""

    detail: list[ErrorItem]
