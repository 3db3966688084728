"""Point types and validation shared by the geography package.

The public API speaks ``(lat, lon)`` in decimal degrees everywhere (WGS 84). A point set is a numpy
array of shape ``(N, 2)`` or any sequence of ``(lat, lon)`` pairs; `as_points` turns either into a
validated float64 array. GeoJSON's ``[lon, lat]`` order only appears in `geo.geojson`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from geo.errors import InvalidCoordinates

__all__ = ["LatLon", "PointsLike", "as_point", "as_points"]

LatLon: TypeAlias = tuple[float, float]
"""One point as ``(latitude, longitude)`` in decimal degrees."""

PointsLike: TypeAlias = npt.ArrayLike | Sequence[Sequence[float]]
"""Anything `as_points` accepts: an ``(N, 2)`` array or a sequence of ``(lat, lon)`` pairs."""


def as_points(points: PointsLike, field: str = "points") -> npt.NDArray[np.float64]:
    """Validate a point set and return it as a C-contiguous float64 array of shape ``(N, 2)``.

    Parameters
    ----------
    points : array_like
        ``(lat, lon)`` pairs in degrees. An empty sequence gives an array of shape ``(0, 2)``.
    field : str, optional
        Name used in error messages, e.g. ``"origins"``.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(N, 2)``; column 0 is latitude, column 1 longitude.

    Raises
    ------
    InvalidCoordinates
        If the input is not ``N`` pairs of finite numbers, or a latitude lies outside
        [-90, 90] or a longitude outside [-180, 180]; the field names the first bad point.
    """
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidCoordinates(field, "expected a list of [lat, lon] number pairs") from exc
    if array.size == 0:
        return np.empty((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise InvalidCoordinates(
            field, f"expected a list of [lat, lon] pairs, got an array of shape {array.shape}"
        )
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidCoordinates(f"{field}[{i}]", "coordinates must be finite numbers")
    lat_bad = np.abs(array[:, 0]) > 90.0
    if lat_bad.any():
        i = int(np.flatnonzero(lat_bad)[0])
        hint = (
            " (it looks like [lon, lat]; this API takes [lat, lon])"
            if abs(array[i, 1]) <= 90.0
            else ""
        )
        raise InvalidCoordinates(
            f"{field}[{i}]", f"latitude {array[i, 0]:g} is outside [-90, 90]{hint}"
        )
    lon_bad = np.abs(array[:, 1]) > 180.0
    if lon_bad.any():
        i = int(np.flatnonzero(lon_bad)[0])
        raise InvalidCoordinates(
            f"{field}[{i}]", f"longitude {array[i, 1]:g} is outside [-180, 180]"
        )
    return np.ascontiguousarray(array)


def as_point(point: Sequence[float] | npt.ArrayLike, field: str = "point") -> LatLon:
    """Validate one ``(lat, lon)`` pair.

    Parameters
    ----------
    point : sequence of float
        ``(lat, lon)`` in degrees.
    field : str, optional
        Name used in error messages.

    Returns
    -------
    tuple of float
        ``(lat, lon)``.

    Raises
    ------
    InvalidCoordinates
        As `as_points`, naming ``field`` itself.
    """
    try:
        array = np.asarray(point, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidCoordinates(field, "expected a [lat, lon] pair of numbers") from exc
    if array.shape != (2,):
        raise InvalidCoordinates(field, "expected a [lat, lon] pair of numbers")
    try:
        checked = as_points(array[None, :], field)
    except InvalidCoordinates as exc:
        raise InvalidCoordinates(field, exc.message) from None
    return float(checked[0, 0]), float(checked[0, 1])
