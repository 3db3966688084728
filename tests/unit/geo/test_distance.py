"""Tests for geo.distance and geo.types."""

import math

import numpy as np
import pytest

from geo.distance import EARTH_RADIUS_M, geodesic_m, haversine_m, haversine_matrix
from geo.errors import InvalidCoordinates
from geo.types import as_point, as_points

CITIES = {
    "london": (51.5074, -0.1278),
    "paris": (48.8566, 2.3522),
    "sydney": (-33.8688, 151.2093),
    "santiago": (-33.4489, -70.6693),
    "new_york": (40.7128, -74.0060),
    "los_angeles": (34.0522, -118.2437),
    "tokyo": (35.6762, 139.6503),
    "singapore": (1.3521, 103.8198),
    "johannesburg": (-26.2041, 28.0473),
    "cape_town": (-33.9249, 18.4241),
    "quito": (-0.1807, -78.4678),
    "bogota": (4.7110, -74.0721),
    "manchester": (53.4808, -2.2426),
    "liverpool": (53.4084, -2.9916),
    "auckland": (-36.8485, 174.7633),
    "wellington": (-41.2865, 174.7762),
    "reykjavik": (64.1466, -21.9426),
    "oslo": (59.9139, 10.7522),
    "buenos_aires": (-34.6037, -58.3816),
    "montevideo": (-34.9011, -56.1645),
}

# Near and far, north and south, east and west, across the equator and the date line.
PAIRS = [
    ("london", "paris"),
    ("sydney", "santiago"),
    ("new_york", "los_angeles"),
    ("tokyo", "singapore"),
    ("johannesburg", "cape_town"),
    ("quito", "bogota"),
    ("manchester", "liverpool"),
    ("auckland", "wellington"),
    ("reykjavik", "oslo"),
    ("buenos_aires", "montevideo"),
    ("london", "sydney"),
]


def test_london_paris_known_distances():
    """London-Paris is 343.6 km on the sphere and 343.9 km on the WGS 84 ellipsoid."""
    assert haversine_m(CITIES["london"], CITIES["paris"]) == pytest.approx(343_556.5, abs=1.0)
    assert geodesic_m(CITIES["london"], CITIES["paris"]) == pytest.approx(343_923.1, abs=1.0)


def test_sydney_santiago_known_distances():
    """Sydney-Santiago (across the Pacific, southern hemisphere) is 11,347 km / 11,369 km."""
    assert haversine_m(CITIES["sydney"], CITIES["santiago"]) == pytest.approx(11_346_731, abs=2)
    assert geodesic_m(CITIES["sydney"], CITIES["santiago"]) == pytest.approx(11_368_984, abs=2)


def test_equator_tenth_degree_and_half_circumference():
    """0.1 degree of longitude on the equator is 11,119.5 m; antipodes are pi R apart."""
    assert haversine_m((0.0, 0.0), (0.0, 0.1)) == pytest.approx(11_119.508, abs=0.01)
    assert haversine_m((0.0, 0.0), (0.0, 180.0)) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert haversine_m((10.0, 20.0), (10.0, 20.0)) == 0.0


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_haversine_within_half_percent_of_geodesic(a, b):
    """The spherical distance stays within 0.5 % of the ellipsoidal geodesic for real city pairs."""
    h = haversine_m(CITIES[a], CITIES[b])
    g = geodesic_m(CITIES[a], CITIES[b])
    assert abs(h - g) / g < 0.005


def test_matrix_matches_pairwise_and_is_n_by_m():
    """The N x M matrix holds the pairwise distances in origin-row, destination-column order."""
    origins = [CITIES["london"], CITIES["sydney"]]
    destinations = [CITIES["paris"], CITIES["santiago"], CITIES["london"]]
    matrix = haversine_matrix(origins, destinations)
    assert matrix.shape == (2, 3)
    assert matrix.dtype == np.float64
    assert matrix[0, 0] == pytest.approx(343_556.5, abs=1.0)
    assert matrix[1, 1] == pytest.approx(11_346_731, abs=2)
    assert matrix[0, 2] == 0.0
    assert matrix[1, 2] == pytest.approx(16_993_957, abs=2)


def test_square_matrix_is_symmetric_with_zero_diagonal():
    """Without destinations the matrix is square, symmetric and zero on the diagonal."""
    points = list(CITIES.values())
    matrix = haversine_matrix(points)
    assert matrix.shape == (len(points), len(points))
    np.testing.assert_allclose(matrix, matrix.T)
    np.testing.assert_array_equal(np.diag(matrix), 0.0)


def test_empty_point_sets_give_empty_matrices():
    """Zero origins or destinations give a 0-row or 0-column matrix, not an error."""
    assert haversine_matrix([], [CITIES["paris"]]).shape == (0, 1)
    assert haversine_matrix([CITIES["paris"]], []).shape == (1, 0)


def test_latitude_out_of_range_names_the_point_and_suggests_swap():
    """A latitude beyond 90 is refused naming its index and hinting at [lon, lat] order."""
    with pytest.raises(InvalidCoordinates) as info:
        as_points([(51.5, -0.12), (151.2, -33.9)], "sites")
    assert info.value.field == "sites[1]"
    assert "[lon, lat]" in info.value.message
    with pytest.raises(InvalidCoordinates) as info:
        as_points([(-95.0, 120.0)], "sites")
    assert info.value.field == "sites[0]"
    assert "[lon, lat]" not in info.value.message


def test_longitude_out_of_range_and_non_finite_are_refused():
    """Longitudes beyond 180 and NaN coordinates are refused with the point's index."""
    with pytest.raises(InvalidCoordinates) as info:
        as_points([(0.0, 0.0), (0.0, 0.0), (10.0, 190.0)])
    assert info.value.field == "points[2]"
    with pytest.raises(InvalidCoordinates) as info:
        as_points([(math.nan, 0.0)], "origins")
    assert info.value.field == "origins[0]"


def test_malformed_point_sets_are_refused():
    """Triples, strings and single pairs are not point sets."""
    for bad in ([(1.0, 2.0, 3.0)], "london", [[1.0, "x"]]):
        with pytest.raises(InvalidCoordinates):
            as_points(bad)
    with pytest.raises(InvalidCoordinates) as info:
        as_point((1.0, 2.0, 3.0), "site")
    assert info.value.field == "site"
    assert as_point([51.5, -0.12]) == (51.5, -0.12)
