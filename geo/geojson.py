"""GeoJSON (RFC 7946) in and out for service-area boundaries, with validation.

Accepted: a Polygon or MultiPolygon geometry, a Feature holding one, or a FeatureCollection
(`parse_geometry` merges its polygons into one boundary; `parse_areas` makes one `ServiceArea` per
feature). Positions are ``[lon, lat]`` as the RFC says, unlike the rest of the public API.

Every refusal is an `geo.errors.InvalidGeometry` whose ``field`` points at the offending part,
e.g. ``"boundary.coordinates[0][3]"``, and whose message says what is wrong: malformed or open
rings, empty polygons, out-of-range coordinates, self-intersections (with where, in lat/lon), and
polygons that look like they were written ``[lat, lon]``: positions valid only when swapped, or,
given a ``reference`` point known to lie in or near the area, a polygon that reaches the reference
only when swapped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

from geo.areas import ServiceArea, check_geometry
from geo.errors import InvalidGeometry
from geo.types import as_point

__all__ = [
    "area_to_feature",
    "areas_to_feature_collection",
    "geometry_to_geojson",
    "parse_areas",
    "parse_geometry",
]

# A reference farther than this (degrees) from the polygon but within a tenth of it once the
# polygon is swapped is taken as proof of swapped axes; nearer than this the polygon may simply
# not include the reference (a depot just outside town).
_SWAP_MIN_DEGREES = 1.0


def parse_geometry(
    data: Mapping[str, Any] | str,
    *,
    field: str = "boundary",
    reference: Sequence[float] | None = None,
) -> Polygon | MultiPolygon:
    """Parse and validate a GeoJSON boundary.

    Parameters
    ----------
    data : mapping or str
        A GeoJSON object (or its JSON text): Polygon, MultiPolygon, a Feature with one of those,
        or a FeatureCollection of such features (merged into one boundary).
    field : str, optional
        Path of ``data`` in the caller's input, used as the prefix of error fields.
    reference : sequence of float, optional
        ``(lat, lon)`` of a point known to lie in or near the area (a depot, the geocoded city),
        which lets apparently swapped coordinates be detected.

    Returns
    -------
    shapely.geometry.Polygon or shapely.geometry.MultiPolygon
        Valid, non-empty, x = longitude, y = latitude.

    Raises
    ------
    geo.errors.InvalidGeometry
        Naming the offending part; see the module docstring.
    """
    obj = _load(data, field)
    geometry = _parse_any(obj, field)
    if reference is not None:
        _check_not_swapped(geometry, as_point(reference, "reference"), field)
    return geometry


def parse_areas(data: Mapping[str, Any] | str, *, field: str = "areas") -> list[ServiceArea]:
    """Parse a FeatureCollection of service areas.

    Each feature needs ``properties.key`` (string) and may have ``properties.name`` (defaults
    to the key) and ``properties.engineers_based`` (boolean, default true).

    Parameters
    ----------
    data : mapping or str
        GeoJSON FeatureCollection (or its JSON text).
    field : str, optional
        Path of ``data`` in the caller's input, used as the prefix of error fields.

    Returns
    -------
    list of ServiceArea
        In feature order.

    Raises
    ------
    geo.errors.InvalidGeometry
        If the collection, a feature, its properties or its geometry is invalid.
    """
    obj = _load(data, field)
    if obj.get("type") != "FeatureCollection":
        raise InvalidGeometry(f"{field}.type", "expected a FeatureCollection")
    features = obj.get("features")
    if not isinstance(features, list):
        raise InvalidGeometry(f"{field}.features", "expected a list of features")
    areas = []
    seen: set[str] = set()
    for i, feature in enumerate(features):
        path = f"{field}.features[{i}]"
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise InvalidGeometry(path, "expected a Feature")
        properties = feature.get("properties") or {}
        if not isinstance(properties, Mapping):
            raise InvalidGeometry(f"{path}.properties", "expected an object")
        key = properties.get("key")
        if not isinstance(key, str) or not key.strip():
            raise InvalidGeometry(f"{path}.properties.key", "each area needs a non-empty key")
        if key in seen:
            raise InvalidGeometry(f"{path}.properties.key", f"duplicate area key {key!r}")
        seen.add(key)
        name = properties.get("name", key)
        if not isinstance(name, str):
            raise InvalidGeometry(f"{path}.properties.name", "must be a string")
        based = properties.get("engineers_based", True)
        if not isinstance(based, bool):
            raise InvalidGeometry(f"{path}.properties.engineers_based", "must be true or false")
        geometry = _parse_geometry_object(feature.get("geometry"), f"{path}.geometry")
        areas.append(ServiceArea(key=key, name=name, geometry=geometry, engineers_based=based))
    return areas


def geometry_to_geojson(geometry: Polygon | MultiPolygon) -> dict[str, Any]:
    """GeoJSON geometry object of a boundary, exterior rings counter-clockwise (RFC 7946 3.1.6).

    Parameters
    ----------
    geometry : shapely.geometry.Polygon or shapely.geometry.MultiPolygon
        x = longitude, y = latitude.

    Returns
    -------
    dict
        ``{"type": ..., "coordinates": [...]}`` with ``[lon, lat]`` lists.
    """
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    return _lists(mapping(oriented))


def area_to_feature(area: ServiceArea) -> dict[str, Any]:
    """GeoJSON Feature of a service area, readable back by `parse_areas`.

    Parameters
    ----------
    area : ServiceArea

    Returns
    -------
    dict
        Feature with ``properties`` ``key``, ``name`` and ``engineers_based``.
    """
    return {
        "type": "Feature",
        "geometry": geometry_to_geojson(area.geometry),
        "properties": {
            "key": area.key,
            "name": area.name,
            "engineers_based": area.engineers_based,
        },
    }


def areas_to_feature_collection(areas: Sequence[ServiceArea]) -> dict[str, Any]:
    """GeoJSON FeatureCollection of service areas, readable back by `parse_areas`."""
    return {"type": "FeatureCollection", "features": [area_to_feature(a) for a in areas]}


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_lists(v) for v in obj]
    return obj


def _load(data: Mapping[str, Any] | str, field: str) -> Mapping[str, Any]:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise InvalidGeometry(field, f"not valid JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise InvalidGeometry(field, "expected a GeoJSON object")
    return data


def _parse_any(obj: Mapping[str, Any], field: str) -> Polygon | MultiPolygon:
    kind = obj.get("type")
    if kind == "Feature":
        return _parse_geometry_object(obj.get("geometry"), f"{field}.geometry")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list) or not features:
            raise InvalidGeometry(f"{field}.features", "expected a non-empty list of features")
        parts = []
        for i, feature in enumerate(features):
            path = f"{field}.features[{i}]"
            if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
                raise InvalidGeometry(path, "expected a Feature")
            parts.append(_parse_geometry_object(feature.get("geometry"), f"{path}.geometry"))
        merged = shapely.union_all(parts)
        if not isinstance(merged, Polygon | MultiPolygon):
            raise InvalidGeometry(field, "the features do not merge into a polygonal area")
        return merged
    return _parse_geometry_object(obj, field)


def _parse_geometry_object(obj: Any, field: str) -> Polygon | MultiPolygon:
    if not isinstance(obj, Mapping):
        raise InvalidGeometry(field, "expected a GeoJSON geometry object")
    kind = obj.get("type")
    coordinates = obj.get("coordinates")
    path = f"{field}.coordinates"
    if kind == "Polygon":
        geometry: Polygon | MultiPolygon = _polygon(coordinates, path)
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list):
            raise InvalidGeometry(path, "expected a list of polygons")
        if not coordinates:
            raise InvalidGeometry(path, "the multipolygon is empty")
        geometry = MultiPolygon([_polygon(p, f"{path}[{i}]") for i, p in enumerate(coordinates)])
        check_geometry(geometry, path)
    else:
        raise InvalidGeometry(f"{field}.type", f"expected Polygon or MultiPolygon, got {kind!r}")
    return geometry


def _polygon(coordinates: Any, path: str) -> Polygon:
    if not isinstance(coordinates, list):
        raise InvalidGeometry(path, "expected a list of linear rings")
    if not coordinates:
        raise InvalidGeometry(path, "the polygon is empty")
    rings = [_ring(ring, f"{path}[{r}]") for r, ring in enumerate(coordinates)]
    polygon = Polygon(rings[0], rings[1:])
    check_geometry(polygon, path)
    return polygon


def _ring(ring: Any, path: str) -> list[tuple[float, float]]:
    if not isinstance(ring, list):
        raise InvalidGeometry(path, "expected a list of [lon, lat] positions")
    if len(ring) < 4:
        raise InvalidGeometry(
            path, f"a linear ring needs at least 4 positions (first = last), got {len(ring)}"
        )
    positions = [_position(p, f"{path}[{i}]") for i, p in enumerate(ring)]
    if positions[0] != positions[-1]:
        raise InvalidGeometry(
            path, "the ring is not closed: its first and last positions must be equal"
        )
    return positions


def _position(position: Any, path: str) -> tuple[float, float]:
    if (
        not isinstance(position, list | tuple)
        or len(position) not in (2, 3)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
    ):
        raise InvalidGeometry(path, "expected a [lon, lat] position of numbers")
    lon, lat = float(position[0]), float(position[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidGeometry(path, "coordinates must be finite numbers")
    if abs(lat) > 90:
        if abs(lon) <= 90 and abs(lat) <= 180:
            raise InvalidGeometry(
                path,
                f"latitude {lat:g} is outside [-90, 90]; the position looks like [lat, lon], "
                "but GeoJSON positions are [lon, lat]",
            )
        raise InvalidGeometry(path, f"latitude {lat:g} is outside [-90, 90]")
    if abs(lon) > 180:
        raise InvalidGeometry(path, f"longitude {lon:g} is outside [-180, 180]")
    return lon, lat


def _check_not_swapped(
    geometry: Polygon | MultiPolygon, reference: tuple[float, float], field: str
) -> None:
    lat, lon = reference
    point = shapely.Point(lon, lat)
    direct = geometry.distance(point)
    if direct < _SWAP_MIN_DEGREES:
        return
    swapped = shapely.transform(geometry, lambda xy: xy[:, ::-1])
    if swapped.distance(point) <= direct / 10:
        raise InvalidGeometry(
            field,
            f"the polygon lies {direct:.0f} degrees from the reference point (lat {lat:g}, "
            f"lon {lon:g}) but reaches it with latitude and longitude swapped: positions "
            "look like [lat, lon], but GeoJSON positions are [lon, lat]",
        )
