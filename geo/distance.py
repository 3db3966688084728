"""Great-circle distances: vectorised haversine for point sets, geodesic for single pairs.

The haversine distance treats the Earth as a sphere of radius `EARTH_RADIUS_M` (the IUGG mean
radius); against the WGS 84 ellipsoid it is off by at most about 0.5 %, which is far below the
uncertainty of any travel-time estimate built on it. `geodesic_m` (Karney's algorithm via geopy)
is exact on the ellipsoid and serves single pairs and tests.

The matrix kernel uses the chord form of the haversine formula: with unit vectors ``p`` and ``q``,
``|p - q| = 2 sin(theta / 2)``, so ``d = 2 R asin(|p - q| / 2)``. It is the same quantity as the
textbook ``a = sin^2(dlat/2) + cos(lat1) cos(lat2) sin^2(dlon/2)`` but costs three subtractions
per cell instead of two trigonometric calls, and it is well conditioned for short distances
because it subtracts nearby coordinates rather than nearly equal cosines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from geopy.distance import geodesic

from geo.types import PointsLike, as_point, as_points

__all__ = ["EARTH_RADIUS_M", "geodesic_m", "haversine_m", "haversine_matrix"]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius R1 = (2a + b) / 3 of WGS 84, in metres (IUGG)."""

# Rows per block so that one float temporary stays around 1-2 MB and lives in cache.
_BLOCK_CELLS = 1 << 18


def unit_vectors(points: npt.NDArray[np.float64], dtype: type[np.floating]) -> npt.NDArray:
    """Return the ``(3, N)`` unit vectors of validated ``(lat, lon)`` degrees, in ``dtype``.

    Parameters
    ----------
    points : numpy.ndarray
        Validated float64 ``(N, 2)`` array, as returned by `geo.types.as_points`.
    dtype : numpy floating type
        Output precision; the trigonometry is always done in float64.

    Returns
    -------
    numpy.ndarray
        C-contiguous array of shape ``(3, N)``: x, y, z on the unit sphere.
    """
    lat = np.radians(points[:, 0])
    lon = np.radians(points[:, 1])
    cos_lat = np.cos(lat)
    xyz = np.empty((3, points.shape[0]), dtype=dtype)
    xyz[0] = cos_lat * np.cos(lon)
    xyz[1] = cos_lat * np.sin(lon)
    xyz[2] = np.sin(lat)
    return xyz


def half_angle_block(
    u: npt.NDArray, v: npt.NDArray, out: npt.NDArray, scratch: npt.NDArray
) -> npt.NDArray:
    """Fill ``out`` with half the central angle (radians) between each ``u`` and each ``v``.

    Parameters
    ----------
    u : numpy.ndarray
        ``(3, r)`` unit vectors of the block's origins.
    v : numpy.ndarray
        ``(3, m)`` unit vectors of the destinations.
    out, scratch : numpy.ndarray
        Preallocated ``(r, m)`` arrays of the same dtype as ``u`` and ``v``; ``out`` receives the
        result and ``scratch`` is overwritten.

    Returns
    -------
    numpy.ndarray
        ``out``, holding ``asin(|u_i - v_j| / 2)``.
    """
    np.subtract(u[0][:, None], v[0][None, :], out=out)
    np.multiply(out, out, out=out)
    for axis in (1, 2):
        np.subtract(u[axis][:, None], v[axis][None, :], out=scratch)
        np.multiply(scratch, scratch, out=scratch)
        np.add(out, scratch, out=out)
    np.sqrt(out, out=out)
    np.multiply(out, 0.5, out=out)
    # Rounding can push the half chord of antipodal points a hair above 1, where asin is NaN.
    np.minimum(out, 1.0, out=out)
    np.arcsin(out, out=out)
    return out


def block_rows(columns: int) -> int:
    """Rows per block for a matrix with ``columns`` columns (at least 1)."""
    return max(1, _BLOCK_CELLS // max(1, columns))


def haversine_matrix(
    origins: PointsLike, destinations: PointsLike | None = None
) -> npt.NDArray[np.float64]:
    """Great-circle distances in metres between every origin and every destination.

    Parameters
    ----------
    origins : array_like
        ``(N, 2)`` ``(lat, lon)`` degrees.
    destinations : array_like, optional
        ``(M, 2)`` ``(lat, lon)`` degrees; the origins when omitted.

    Returns
    -------
    numpy.ndarray
        Float64 ``(N, M)`` distances in metres on a sphere of radius `EARTH_RADIUS_M`.

    Raises
    ------
    geo.errors.InvalidCoordinates
        If a point is malformed or out of range.

    Examples
    --------
    >>> london, paris = (51.5074, -0.1278), (48.8566, 2.3522)
    >>> round(float(haversine_matrix([london], [paris])[0, 0]))
    343557
    """
    a = as_points(origins, "origins")
    b = a if destinations is None else as_points(destinations, "destinations")
    u = unit_vectors(a, np.float64)
    v = u if destinations is None else unit_vectors(b, np.float64)
    n, m = a.shape[0], b.shape[0]
    result = np.empty((n, m), dtype=np.float64)
    step = block_rows(m)
    scratch = np.empty((min(step, n), m), dtype=np.float64)
    for start in range(0, n, step):
        stop = min(start + step, n)
        half_angle_block(u[:, start:stop], v, result[start:stop], scratch[: stop - start])
    result *= 2.0 * EARTH_RADIUS_M
    return result


def haversine_m(a: Sequence[float], b: Sequence[float]) -> float:
    """Great-circle distance in metres between two ``(lat, lon)`` points.

    Parameters
    ----------
    a, b : sequence of float
        ``(lat, lon)`` in degrees.

    Returns
    -------
    float
        Distance in metres on a sphere of radius `EARTH_RADIUS_M`.
    """
    return float(haversine_matrix([as_point(a, "a")], [as_point(b, "b")])[0, 0])


def geodesic_m(a: Sequence[float], b: Sequence[float]) -> float:
    """Geodesic distance in metres between two ``(lat, lon)`` points on the WGS 84 ellipsoid.

    Parameters
    ----------
    a, b : sequence of float
        ``(lat, lon)`` in degrees.

    Returns
    -------
    float
        Shortest distance on the ellipsoid (Karney 2013, via geopy), in metres.
    """
    return float(geodesic(as_point(a, "a"), as_point(b, "b")).meters)
