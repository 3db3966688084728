"""Service areas: boundary, calendar (timezone, hours, holidays), whether engineers live there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dispatch.common.paging import Page, paginate
from dispatch.engineers.shifts import WEEKDAYS, parse_hhmm
from dispatch.errors import Conflict, InvalidInput, NotFound, check_version
from dispatch.models import Engineer, ServiceArea, Site
from dispatch.traffic import validate_travel_profile
from geo.errors import GeoError
from geo.geojson import geometry_to_geojson, parse_geometry


def validate_timezone(name: str, field: str = "timezone") -> str:
    """An IANA timezone name such as ``Asia/Shanghai``."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(field, f"unknown IANA timezone {name!r} (e.g. Asia/Shanghai)") from None
    return name


def validate_business_hours(
    hours: Mapping[str, Sequence[Sequence[str]]], field: str = "business_hours"
) -> dict[str, list[list[str]]]:
    """Per weekday, ordered non-overlapping [open, close] pairs as HH:MM."""
    out: dict[str, list[list[str]]] = {}
    for day, intervals in hours.items():
        if day not in WEEKDAYS:
            raise InvalidInput((field, day), f"unknown weekday; use {', '.join(WEEKDAYS)}")
        previous_close = None
        cleaned = []
        for i, interval in enumerate(intervals or []):
            if len(interval) != 2:
                raise InvalidInput((field, day, i), "each interval is [open, close]")
            opens = parse_hhmm(interval[0], f"{field}.{day}.{i}")
            closes = parse_hhmm(interval[1], f"{field}.{day}.{i}")
            if closes <= opens:
                raise InvalidInput((field, day, i), "closes before it opens")
            if previous_close is not None and opens < previous_close:
                raise InvalidInput((field, day, i), "intervals must be in order and not overlap")
            previous_close = closes
            cleaned.append([opens.strftime("%H:%M"), closes.strftime("%H:%M")])
        if cleaned:
            out[day] = cleaned
    return out


def validate_holidays(country: str | None, subdivision: str | None) -> None:
    """The country (and subdivision) must be known to the ``holidays`` package."""
    import holidays

    if country is None:
        if subdivision is not None:
            raise InvalidInput("holiday_subdivision", "a subdivision needs holiday_country")
        return
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise InvalidInput("holiday_country", f"unknown holiday country {country!r} (ISO 3166-1)")
    if subdivision is not None and subdivision not in supported[country]:
        raise InvalidInput(
            "holiday_subdivision", f"{country} has no holiday subdivision {subdivision!r}"
        )


def _boundary(boundary: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return geometry_to_geojson(parse_geometry(boundary, field="boundary"))
    except GeoError as exc:
        raise InvalidInput(exc.field, exc.message) from exc


def _dates(values: Sequence[date | str], field: str = "closed_dates") -> list[str]:
    out = []
    for i, value in enumerate(values):
        try:
            out.append(
                value.isoformat()
                if isinstance(value, date)
                else date.fromisoformat(value).isoformat()
            )
        except ValueError:
            raise InvalidInput((field, i), f"not a date: {value!r}") from None
    return sorted(set(out))


def _check_dates(closed: Sequence[str], working: Sequence[str]) -> None:
    both = sorted(set(closed) & set(working))
    if both:
        raise InvalidInput(
            ("working_dates", list(working).index(both[0])),
            f"{both[0]} is also a closed date; a day is either closed or a working day",
        )


def get_area_or_raise(session: Session, area_id: int) -> ServiceArea:
    """The area, or NotFound."""
    area = session.get(ServiceArea, area_id)
    if area is None:
        raise NotFound("service area", area_id)
    return area


def list_areas(
    session: Session,
    *,
    limit: int,
    offset: int,
    name: str | None = None,
    engineers_based: bool | None = None,
) -> Page[ServiceArea]:
    """Service areas, filtered by name (contains) and whether engineers are based there."""
    stmt = select(ServiceArea).order_by(ServiceArea.id)
    if name:
        stmt = stmt.where(ServiceArea.name.ilike(f"%{name}%"))
    if engineers_based is not None:
        stmt = stmt.where(ServiceArea.engineers_based == engineers_based)
    return paginate(session, stmt, limit=limit, offset=offset)


def _unique_name(session: Session, name: str, exclude_id: int | None = None) -> None:
    stmt = select(ServiceArea.id).where(ServiceArea.name == name)
    if exclude_id is not None:
        stmt = stmt.where(ServiceArea.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a service area named {name!r} already exists", field="name")


def create_area(
    session: Session,
    *,
    name: str,
    boundary: Mapping[str, Any],
    timezone: str,
    business_hours: Mapping[str, Sequence[Sequence[str]]],
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
    closed_dates: Sequence[date | str] = (),
    working_dates: Sequence[date | str] = (),
    engineers_based: bool = True,
    travel_profile: Mapping[str, Any] | None = None,
    lodging: Mapping[str, Any] | None = None,
) -> ServiceArea:
    """Add a service area with a validated boundary and calendar."""
    _unique_name(session, name)
    validate_holidays(holiday_country, holiday_subdivision)
    closed, working = _dates(closed_dates), _dates(working_dates, "working_dates")
    _check_dates(closed, working)
    area = ServiceArea(
        name=name,
        boundary=_boundary(boundary),
        timezone=validate_timezone(timezone),
        business_hours=validate_business_hours(business_hours),
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
        closed_dates=closed,
        working_dates=working,
        engineers_based=engineers_based,
        travel_profile=validate_travel_profile(travel_profile) if travel_profile else None,
        lodging=_lodging(lodging),
    )
    session.add(area)
    session.flush()
    return area


def update_area(
    session: Session, area_id: int, *, changes: Mapping[str, Any], expected_version: int | None
) -> ServiceArea:
    """Change an area; a new boundary re-places the sites (done by the caller's next read)."""
    area = get_area_or_raise(session, area_id)
    check_version(area, expected_version, "service area")
    changes = dict(changes)
    if "name" in changes:
        _unique_name(session, changes["name"], exclude_id=area_id)
    if "boundary" in changes:
        changes["boundary"] = _boundary(changes["boundary"])
    if "timezone" in changes:
        validate_timezone(changes["timezone"])
    if "business_hours" in changes:
        changes["business_hours"] = validate_business_hours(changes["business_hours"])
    if "travel_profile" in changes:
        changes["travel_profile"] = validate_travel_profile(changes["travel_profile"])
    if "lodging" in changes:
        changes["lodging"] = _lodging(changes["lodging"])
    if "closed_dates" in changes:
        changes["closed_dates"] = _dates(changes["closed_dates"] or [])
    if "working_dates" in changes:
        changes["working_dates"] = _dates(changes["working_dates"] or [], "working_dates")
    if "closed_dates" in changes or "working_dates" in changes:
        _check_dates(
            changes.get("closed_dates", area.closed_dates),
            changes.get("working_dates", area.working_dates or []),
        )
    if "holiday_country" in changes or "holiday_subdivision" in changes:
        validate_holidays(
            changes.get("holiday_country", area.holiday_country),
            changes.get("holiday_subdivision", area.holiday_subdivision),
        )
    for key, value in changes.items():
        setattr(area, key, value)
    session.flush()
    return area


def _lodging(lodging: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A lodging as stored: a name and a point inside the coordinate ranges."""
    if lodging is None:
        return None
    name = lodging.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(("lodging", "name"), "a lodging needs a name")
    lat, lon = lodging.get("lat"), lodging.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        raise InvalidInput(("lodging", "lat"), "a lodging needs lat and lon")
    if not -90 <= lat <= 90:
        raise InvalidInput(("lodging", "lat"), f"latitude {lat} is outside -90..90")
    if not -180 <= lon <= 180:
        raise InvalidInput(("lodging", "lon"), f"longitude {lon} is outside -180..180")
    return {"name": name.strip(), "lat": float(lat), "lon": float(lon)}


def delete_area(session: Session, area_id: int) -> None:
    """Remove an area no engineer belongs to; its sites become unplaced (out of town)."""
    area = get_area_or_raise(session, area_id)
    if session.scalar(select(exists().where(Engineer.service_area_id == area_id))):
        raise Conflict(f"service area {area_id} still has engineers; move them first")
    session.delete(area)
    session.flush()


def sites_in_area(session: Session, area_id: int) -> int:
    """How many sites are placed in the area."""
    from sqlalchemy import func

    return session.scalar(select(func.count()).where(Site.service_area_id == area_id)) or 0


def areas_feature_collection(session: Session) -> dict[str, Any]:
    """All areas as a GeoJSON FeatureCollection with id, name and flags as properties."""
    rows = session.scalars(select(ServiceArea).order_by(ServiceArea.id)).all()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": area.id,
                "geometry": area.boundary,
                "properties": {
                    "id": area.id,
                    "name": area.name,
                    "timezone": area.timezone,
                    "engineers_based": area.engineers_based,
                },
            }
            for area in rows
        ],
    }
