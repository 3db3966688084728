"""Tests for service areas, classification and nearest bases (geo.areas)."""

import numpy as np
import pytest
import shapely

from geo.areas import AreaIndex, NearestBase, ServiceArea, nearest_base, polygon_from_latlon
from geo.distance import haversine_m
from geo.errors import GeoError, InvalidCoordinates, InvalidGeometry
from geo.matrix import UNREACHABLE, TravelMatrix
from geo.model import ModelProvider, TravelProfile


def box(key: str, south: float, west: float, north: float, east: float, based: bool = True):
    shell = [(south, west), (south, east), (north, east), (north, west)]
    return ServiceArea(key, key.title(), polygon_from_latlon(shell), engineers_based=based)


COUNTY = box("county", 51.0, -1.0, 52.0, 1.0, based=False)
CITY = box("city", 51.4, -0.2, 51.6, 0.0)
LEEDS = box("leeds", 53.7, -1.7, 53.9, -1.4)
# Two equal squares overlapping in lat 40.5-41, lon 0.5-1.
B_ZONE = box("b_zone", 40.0, 0.0, 41.0, 1.0)
A_ZONE = box("a_zone", 40.5, 0.5, 41.5, 1.5)
INDEX = AreaIndex([COUNTY, CITY, LEEDS, B_ZONE, A_ZONE])


def test_classify_known_points():
    """Inside, overlapping (smallest wins), boundary, vertex, outside and tie cases, literally."""
    points = [
        (51.5, -0.1),  # city inside county: city is smaller
        (51.2, 0.5),  # county only
        (51.6, -0.1),  # on the city's northern edge
        (51.4, -0.2),  # the city's south-west corner
        (52.0, 1.0),  # the county's north-east corner
        (50.0, 0.0),  # nowhere
        (53.8, -1.5),  # leeds
        (40.75, 0.75),  # in both equal zones: smaller key a_zone
        (40.25, 0.25),  # b_zone only
    ]
    assert INDEX.classify(points).tolist() == [1, 0, 1, 1, 0, -1, 2, 4, 3]


def test_boundary_point_of_the_larger_area_only():
    """A point on the county's edge but outside the city belongs to the county."""
    assert INDEX.area_of((52.0, 0.0)) is COUNTY
    assert INDEX.area_of((51.0, -1.0)) is COUNTY
    assert INDEX.area_of((51.0, -1.0000001)) is None


def test_area_of_returns_the_area_or_none():
    """The single-point helper returns the ServiceArea itself, or None outside."""
    assert INDEX.area_of((51.5, -0.1)) is CITY
    assert INDEX.area_of((53.8, -1.5)) is LEEDS
    assert INDEX.area_of((0.0, 0.0)) is None
    assert INDEX.position("leeds") == 2
    assert INDEX.position("york") is None


def test_order_of_areas_does_not_change_the_winner():
    """Listing areas in another order gives the same winning keys."""
    reversed_index = AreaIndex(list(reversed(INDEX.areas)))
    points = [(51.5, -0.1), (40.75, 0.75), (51.2, 0.5)]
    keys = [reversed_index.areas[i].key for i in reversed_index.classify(points)]
    assert keys == ["city", "a_zone", "county"]


def test_classify_matches_brute_force_covers():
    """On random points and irregular polygons, classify equals a per-area covers() scan."""
    rng = np.random.default_rng(2)
    areas = []
    for k in range(30):
        lat, lon = rng.uniform(50, 52), rng.uniform(-2, 2)
        angles = np.linspace(0, 2 * np.pi, 60, endpoint=False)
        radius = rng.uniform(0.1, 0.5) * (1 + 0.3 * np.sin(5 * angles))
        shell = np.column_stack([lat + radius * np.sin(angles), lon + radius * np.cos(angles)])
        areas.append(ServiceArea(f"k{k:02d}", "", polygon_from_latlon(shell)))
    index = AreaIndex(areas)
    points = np.column_stack([rng.uniform(49.5, 52.5, 3000), rng.uniform(-2.5, 2.5, 3000)])
    by_size = sorted(range(len(areas)), key=lambda i: (areas[i].geometry.area, areas[i].key))
    expected = []
    for lat, lon in points:
        hit = [i for i in by_size if shapely.covers(areas[i].geometry, shapely.Point(lon, lat))]
        expected.append(hit[0] if hit else -1)
    assert index.classify(points).tolist() == expected
    assert (index.classify(points) >= 0).sum() > 500


def test_classify_empty_inputs():
    """No points or no areas classify to an empty or all -1 result."""
    assert INDEX.classify([]).tolist() == []
    assert AreaIndex([]).classify([(51.5, -0.1)]).tolist() == [-1]


def test_classify_validates_points():
    """A bad point is refused with its index."""
    with pytest.raises(InvalidCoordinates) as info:
        INDEX.classify([(51.5, -0.1), (95.0, 0.0)])
    assert info.value.field == "points[1]"


def test_multipolygon_area_and_hole():
    """A point in either part of a multipolygon is inside; a point in a hole is outside."""
    ring = [(10.0, 10.0), (10.0, 11.0), (11.0, 11.0), (11.0, 10.0)]
    hole = [(10.4, 10.4), (10.4, 10.6), (10.6, 10.6), (10.6, 10.4)]
    far = [(20.0, 20.0), (20.0, 21.0), (21.0, 21.0), (21.0, 20.0)]
    geometry = shapely.MultiPolygon([polygon_from_latlon(ring, [hole]), polygon_from_latlon(far)])
    index = AreaIndex([ServiceArea("islands", "Islands", geometry)])
    assert index.classify([(10.2, 10.2), (20.5, 20.5), (10.5, 10.5), (10.4, 10.5)]).tolist() == [
        0,
        0,
        -1,
        0,
    ]


def test_service_area_validation():
    """Empty keys, bowties and empty polygons are refused naming the field."""
    with pytest.raises(GeoError) as info:
        ServiceArea(" ", "x", CITY.geometry)
    assert info.value.field == "key"
    bowtie = polygon_from_latlon([(0, 0), (1, 1), (0, 1), (1, 0)])
    with pytest.raises(InvalidGeometry) as info:
        ServiceArea("bow", "Bow", bowtie)
    assert info.value.field == "geometry"
    assert info.value.message == "invalid polygon: self-intersection at lat 0.5, lon 0.5"
    with pytest.raises(InvalidGeometry):
        ServiceArea("none", "None", shapely.Polygon())
    with pytest.raises(GeoError) as info:
        AreaIndex([CITY, CITY])
    assert info.value.field == "areas[1].key"


def test_covers_counts_the_boundary():
    """ServiceArea.covers is true on the edge and false just outside."""
    assert CITY.covers((51.6, -0.1))
    assert not CITY.covers((51.60001, -0.1))


class FixedProvider:
    """Answers a fixed K x 1 matrix from bases to one site."""

    name = "fixed"

    def __init__(self, durations, distances):
        self.durations = durations
        self.distances = distances
        self.calls = []

    def matrix(self, origins, destinations=None, *, departure=None, area=None):
        self.calls.append((len(origins), len(destinations)))
        return TravelMatrix(
            np.array(self.durations, dtype=np.int32)[:, None],
            np.array(self.distances, dtype=np.int32)[:, None],
            provider=self.name,
            estimated=False,
        )


def test_nearest_base_by_travel_time_not_distance():
    """The base with least time wins even if farther; ties go to the lower index."""
    provider = FixedProvider([900, 300, 300], [5_000, 20_000, 9_000])
    result = nearest_base((53.38, -1.47), [(53.8, -1.55), (51.5, -0.12), (53.48, -2.24)], provider)
    assert result == NearestBase(index=1, duration_s=300, distance_m=20_000)
    assert provider.calls == [(3, 1)]


def test_nearest_base_skips_unreachable_and_none_when_all_are():
    """Unreachable bases are ignored; when all are unreachable the answer is None."""
    bases = [(53.8, -1.55), (51.5, -0.12)]
    provider = FixedProvider([UNREACHABLE, 4_000], [UNREACHABLE, 70_000])
    assert nearest_base((53.38, -1.47), bases, provider) == NearestBase(1, 4_000, 70_000)
    provider = FixedProvider([UNREACHABLE, UNREACHABLE], [UNREACHABLE, UNREACHABLE])
    assert nearest_base((53.38, -1.47), bases, provider) is None


def test_nearest_base_with_the_model():
    """From Sheffield, Leeds (47 km) beats Manchester (52 km) and London (227 km)."""
    sheffield = (53.3811, -1.4701)
    bases = [(51.5074, -0.1278), (53.4808, -2.2426), (53.8008, -1.5491)]
    result = nearest_base(sheffield, bases, ModelProvider())
    assert result is not None
    assert result.index == 2
    road = haversine_m(bases[2], sheffield) * 1.3
    assert haversine_m(bases[2], sheffield) == pytest.approx(47_000, abs=500)
    assert result.distance_m == pytest.approx(road, abs=1)
    assert result.duration_s == pytest.approx(TravelProfile().duration_s(road), abs=1)


def test_nearest_base_needs_bases():
    """An empty base list is refused naming 'bases'."""
    with pytest.raises(GeoError) as info:
        nearest_base((53.38, -1.47), [], ModelProvider())
    assert info.value.field == "bases"
