"""Service areas: which area a site lies in, and the nearest base for sites outside them all.

A `ServiceArea` holds a shapely polygon or multipolygon in GeoJSON axis order (x = longitude,
y = latitude), so ``shapely.geometry.mapping`` of it is valid GeoJSON; everything else in the public
API takes ``(lat, lon)``. `AreaIndex` prepares the geometries once and classifies many points at a
time: an STRtree finds the candidate areas by bounding box, then GEOS tests the exact polygons with
prepared geometries, all vectorised. A point on a boundary counts as inside. Where areas overlap
the smallest containing area wins (area measured in square degrees, which ranks overlapping areas
correctly because they lie at the same latitude), ties going to the smaller key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo.errors import GeoError, InvalidGeometry
from geo.matrix import UNREACHABLE, MatrixProvider
from geo.types import LatLon, PointsLike, as_point, as_points

__all__ = [
    "AreaIndex",
    "NearestBase",
    "ServiceArea",
    "check_geometry",
    "nearest_base",
    "polygon_from_latlon",
]

_LOCATED_REASON = re.compile(r"^(?P<what>.*)\[(?P<x>\S+) (?P<y>\S+)\]$")


def check_geometry(geometry: object, field: str) -> None:
    """Check that a boundary is a valid, non-empty polygon or multipolygon with an area.

    Parameters
    ----------
    geometry : object
        Candidate boundary, x = longitude, y = latitude.
    field : str
        Name used in errors.

    Raises
    ------
    geo.errors.InvalidGeometry
        With GEOS's reason and its location in lat/lon, e.g. ``"invalid polygon:
        self-intersection at lat 0.5, lon 0.5"``.
    """
    if not isinstance(geometry, Polygon | MultiPolygon):
        kind = getattr(geometry, "geom_type", type(geometry).__name__)
        raise InvalidGeometry(field, f"must be a Polygon or MultiPolygon, not {kind}")
    if geometry.is_empty:
        raise InvalidGeometry(field, "the polygon is empty")
    if geometry.convex_hull.area <= 0:
        raise InvalidGeometry(field, "the polygon has no area: its positions lie on one line")
    reason = shapely.is_valid_reason(geometry)
    if reason != "Valid Geometry":
        located = _LOCATED_REASON.match(reason)
        if located:
            what = located["what"].lower()
            lon, lat = float(located["x"]), float(located["y"])
            raise InvalidGeometry(field, f"invalid polygon: {what} at lat {lat:.6g}, lon {lon:.6g}")
        raise InvalidGeometry(field, f"invalid polygon: {reason}")


def polygon_from_latlon(
    shell: Sequence[Sequence[float]], holes: Sequence[Sequence[Sequence[float]]] = ()
) -> Polygon:
    """Build a shapely polygon (x = lon, y = lat) from rings of ``(lat, lon)`` points.

    Parameters
    ----------
    shell : sequence of (lat, lon)
        Outer ring; it is closed automatically.
    holes : sequence of rings, optional
        Inner rings of ``(lat, lon)`` points.

    Returns
    -------
    shapely.geometry.Polygon
        The polygon in GeoJSON axis order; not validated (`ServiceArea` validates).
    """
    outer = as_points(shell, "shell")[:, ::-1]
    inner = [as_points(h, f"holes[{i}]")[:, ::-1] for i, h in enumerate(holes)]
    return Polygon(outer, inner)


@dataclass(frozen=True)
class ServiceArea:
    """A named polygon where the organisation serves customers.

    Parameters
    ----------
    key : str
        Stable identifier (e.g. ``"london"``), also the key of travel-model overrides.
    name : str
        Display name.
    geometry : shapely.geometry.Polygon or shapely.geometry.MultiPolygon
        Boundary in GeoJSON axis order (x = longitude, y = latitude); see `polygon_from_latlon`
        and `geo.geojson.parse_geometry`.
    engineers_based : bool, optional
        Whether engineers are based in the area (a site inside it is "same city"). Default True.

    Raises
    ------
    geo.errors.GeoError
        If the key is empty (``field="key"``).
    geo.errors.InvalidGeometry
        If the geometry is not a valid, non-empty polygon or multipolygon (``field="geometry"``).
    """

    key: str
    name: str
    geometry: Polygon | MultiPolygon
    engineers_based: bool = True

    def __post_init__(self) -> None:
        if not self.key or not self.key.strip():
            raise GeoError("key", "a service area needs a non-empty key")
        check_geometry(self.geometry, "geometry")

    def covers(self, point: Sequence[float]) -> bool:
        """Whether a ``(lat, lon)`` point lies inside the area or on its boundary."""
        lat, lon = as_point(point)
        return bool(shapely.intersects_xy(self.geometry, lon, lat))


@dataclass(frozen=True)
class NearestBase:
    """The base an outside site is served from.

    Attributes
    ----------
    index : int
        Position of the base in the list given to `nearest_base`.
    duration_s : int
        Travel time from the base to the site, seconds.
    distance_m : int
        Travel distance from the base to the site, metres.
    """

    index: int
    duration_s: int
    distance_m: int


class AreaIndex:
    """Spatial index of service areas for fast point classification.

    Parameters
    ----------
    areas : iterable of ServiceArea
        The areas; keys must be unique. Positions in `areas` are what `classify` returns.

    Raises
    ------
    geo.errors.GeoError
        If two areas share a key (``field="areas[i].key"``).
    """

    def __init__(self, areas: Iterable[ServiceArea]) -> None:
        self.areas: tuple[ServiceArea, ...] = tuple(areas)
        self._positions: dict[str, int] = {}
        for i, area in enumerate(self.areas):
            if area.key in self._positions:
                raise GeoError(f"areas[{i}].key", f"duplicate service-area key {area.key!r}")
            self._positions[area.key] = i
        # Own copies so that preparing them does not touch the callers' geometries.
        self._geometries = np.array(
            [shapely.from_wkb(shapely.to_wkb(a.geometry)) for a in self.areas], dtype=object
        )
        shapely.prepare(self._geometries)
        self._tree = shapely.STRtree(self._geometries)
        # Rank 0 is the preferred area: smallest first, then by key.
        order = sorted(
            range(len(self.areas)),
            key=lambda i: (self.areas[i].geometry.area, self.areas[i].key),
        )
        self._rank = np.empty(len(self.areas), dtype=np.intp)
        self._rank[order] = np.arange(len(self.areas))

    def __len__(self) -> int:
        return len(self.areas)

    def position(self, key: str) -> int | None:
        """Position of the area with ``key``, or None."""
        return self._positions.get(key)

    def classify(self, points: PointsLike) -> npt.NDArray[np.intp]:
        """Area position of each point; -1 for points outside every area.

        Parameters
        ----------
        points : array_like
            ``(N, 2)`` ``(lat, lon)`` degrees.

        Returns
        -------
        numpy.ndarray
            ``(N,)`` positions into `areas`. Boundary points count as inside; in overlaps the
            smallest containing area wins, ties going to the smaller key.

        Raises
        ------
        geo.errors.InvalidCoordinates
            If a point is malformed or out of range.
        """
        pts = as_points(points)
        result = np.full(pts.shape[0], -1, dtype=np.intp)
        if pts.shape[0] == 0 or not self.areas:
            return result
        lat, lon = pts[:, 0], pts[:, 1]
        candidates = self._tree.query(shapely.points(lon, lat))
        point_i, area_i = candidates[0], candidates[1]
        inside = shapely.intersects_xy(self._geometries[area_i], lon[point_i], lat[point_i])
        point_i, area_i = point_i[inside], area_i[inside]
        if point_i.shape[0] == 0:
            return result
        order = np.lexsort((self._rank[area_i], point_i))
        point_i, area_i = point_i[order], area_i[order]
        first = np.ones(point_i.shape[0], dtype=np.bool_)
        first[1:] = point_i[1:] != point_i[:-1]
        result[point_i[first]] = area_i[first]
        return result

    def area_of(self, point: Sequence[float]) -> ServiceArea | None:
        """The area containing one ``(lat, lon)`` point, or None when it is outside all of them."""
        position = int(self.classify([as_point(point)])[0])
        return None if position < 0 else self.areas[position]


def nearest_base(
    site: Sequence[float],
    bases: PointsLike,
    provider: MatrixProvider,
    *,
    departure: datetime | None = None,
    area: str | None = None,
) -> NearestBase | None:
    """The base with the least travel time to a site.

    Parameters
    ----------
    site : sequence of float
        ``(lat, lon)`` of the site.
    bases : array_like
        ``(K, 2)`` ``(lat, lon)`` of the bases (homes or depots).
    provider : MatrixProvider
        Travel-time provider; asked once for a ``K x 1`` matrix from the bases to the site.
    departure : datetime.datetime, optional
        Timezone-aware departure from the base.
    area : str, optional
        Service-area key passed to the provider.

    Returns
    -------
    NearestBase or None
        The quickest base (the lowest index among equals), or None when no base can reach the
        site.

    Raises
    ------
    geo.errors.GeoError
        If ``bases`` is empty (``field="bases"``).
    """
    target: LatLon = as_point(site, "site")
    sources = as_points(bases, "bases")
    if sources.shape[0] == 0:
        raise GeoError("bases", "at least one base is required")
    matrix = provider.matrix(sources, [target], departure=departure, area=area)
    durations = matrix.durations[:, 0].astype(np.int64)
    durations[durations == UNREACHABLE] = np.iinfo(np.int64).max
    best = int(np.argmin(durations))
    if matrix.durations[best, 0] == UNREACHABLE:
        return None
    return NearestBase(
        index=best,
        duration_s=int(matrix.durations[best, 0]),
        distance_m=int(matrix.distances[best, 0]),
    )
