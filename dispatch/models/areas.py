"""Service areas: where engineers work, with their calendar."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.models.base import Base, TimestampMixin


class ServiceArea(TimestampMixin, Base):
    """A polygon (usually a city) with a timezone, business hours and holidays."""

    __tablename__ = "service_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # GeoJSON geometry (Polygon or MultiPolygon), lon/lat order as the GeoJSON spec says.
    boundary: Mapped[dict[str, Any]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"mon": [["09:00", "18:00"]], ...}; a missing or empty day is closed.
    business_hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON)
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    closed_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Make-up working days (China's adjusted Saturdays, say): open although a weekend or a
    # public holiday, with the hours of a regular working day.
    working_dates: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    engineers_based: Mapped[bool] = mapped_column(Boolean, default=True)
    # Optional per-area travel model overrides (speed bands, rush hours) understood by geo/.
    travel_profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Where engineers on an out-of-town trip stay in this area: {"name", "lat", "lon"}.
    lodging: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}
