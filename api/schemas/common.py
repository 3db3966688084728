"""Shared schema pieces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

Latitude = Annotated[float, Field(ge=-90, le=90, description="degrees north (WGS84)")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="degrees east (WGS84)")]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class InputModel(BaseModel):
    """Base of request bodies: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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


class PointRead(OutputModel):
    lat: float
    lon: float
