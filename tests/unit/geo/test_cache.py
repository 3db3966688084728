"""Tests for the bounded travel-matrix cache (geo.cache)."""

from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest

from geo.cache import CachedProvider
from geo.errors import GeoError
from geo.matrix import MatrixProvider, TravelMatrix
from geo.model import ModelProvider
from geo.osrm import OsrmProvider

# Smallest budget: 9 * 64^2 + 24 * 64 bytes holds exactly 64 points.
SMALL = 9 * 64**2 + 24 * 64


class Recording:
    """Wraps the model and records the shape, departure and area of every request."""

    name = "model"

    def __init__(self):
        self.inner = ModelProvider()
        self.calls: list[tuple[int, int]] = []
        self.departures: list[datetime | None] = []
        self.areas: list[str | None] = []

    def matrix(self, origins, destinations=None, *, departure=None, area=None) -> TravelMatrix:
        result = self.inner.matrix(origins, destinations, departure=departure, area=area)
        self.calls.append(result.shape)
        self.departures.append(departure)
        self.areas.append(area)
        return result


def points(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(np.column_stack([rng.uniform(51.3, 51.7, n), rng.uniform(-0.5, 0.3, n)]), 5)


def direct(origins, destinations=None, **kwargs) -> TravelMatrix:
    return ModelProvider().matrix(origins, destinations, **kwargs)


def assert_same(result: TravelMatrix, expected: TravelMatrix) -> None:
    np.testing.assert_array_equal(result.durations, expected.durations)
    np.testing.assert_array_equal(result.distances, expected.distances)


def test_first_request_is_one_call_and_repeat_is_free():
    """A new 10-point matrix costs one 10 x 10 call; asking again costs nothing."""
    inner = Recording()
    cache = CachedProvider(inner)
    pts = points(10)
    assert_same(cache.matrix(pts), direct(pts))
    assert inner.calls == [(10, 10)]
    assert_same(cache.matrix(pts), direct(pts))
    assert inner.calls == [(10, 10)]
    stats = cache.stats()
    assert (stats.requests, stats.cells_served, stats.cells_computed) == (2, 200, 100)


def test_adding_points_computes_only_new_rows_and_columns():
    """Adding 3 points to 10 known asks 3 x 13 new rows and 10 x 3 new columns, nothing else."""
    inner = Recording()
    cache = CachedProvider(inner)
    pts = points(13)
    cache.matrix(pts[:10])
    result = cache.matrix(pts)
    assert inner.calls == [(10, 10), (3, 13), (10, 3)]
    assert cache.stats().cells_computed == 100 + 39 + 30
    assert_same(result, direct(pts))


def test_subsets_permutations_and_duplicates_come_from_the_cache():
    """Reordered, repeated or partial point lists are answered without new calls."""
    inner = Recording()
    cache = CachedProvider(inner)
    pts = points(8)
    cache.matrix(pts)
    shuffled = pts[[5, 1, 1, 7, 0]]
    assert_same(cache.matrix(shuffled), direct(shuffled))
    assert_same(cache.matrix(pts[[2]], pts[[6, 2]]), direct(pts[[2]], pts[[6, 2]]))
    assert inner.calls == [(8, 8)]


def test_rectangular_then_square_requests():
    """Bases x sites asks 2 x 5; then sites x sites asks only the 5 x 5 never seen."""
    inner = Recording()
    cache = CachedProvider(inner)
    bases, sites = points(2, seed=1), points(5, seed=2)
    assert_same(cache.matrix(bases, sites), direct(bases, sites))
    assert_same(cache.matrix(sites), direct(sites))
    assert inner.calls == [(2, 5), (5, 5)]
    assert_same(cache.matrix(sites, bases), direct(sites, bases))
    assert inner.calls == [(2, 5), (5, 5), (5, 2)]


def test_points_within_rounding_share_a_slot():
    """Points 1e-7 degrees apart (1 cm) are the same cache entry; the provider sees rounded ones."""
    inner = Recording()
    cache = CachedProvider(inner)
    cache.matrix([(51.5, -0.12), (51.51, -0.13)])
    result = cache.matrix([(51.5000001, -0.1200001), (51.5099999, -0.13)])
    assert inner.calls == [(2, 2)]
    assert_same(result, direct([(51.5, -0.12), (51.51, -0.13)]))


def test_area_and_departure_bucket_are_part_of_the_key():
    """Another area or another 15-minute bucket is a new context; the same bucket is not."""
    inner = Recording()
    cache = CachedProvider(inner)
    pts = points(4)
    monday_0803 = datetime(2025, 3, 3, 8, 3, 20, tzinfo=UTC)
    cache.matrix(pts, departure=monday_0803, area="london")
    cache.matrix(pts, departure=monday_0803 + timedelta(minutes=10), area="london")
    cache.matrix(pts, departure=monday_0803 + timedelta(minutes=12), area="london")
    cache.matrix(pts, departure=monday_0803, area="leeds")
    cache.matrix(pts, area="london")
    assert len(inner.calls) == 4
    assert inner.departures == [
        datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
        datetime(2025, 3, 3, 8, 15, tzinfo=UTC),
        datetime(2025, 3, 3, 8, 0, tzinfo=UTC),
        None,
    ]
    assert inner.areas == ["london", "london", "leeds", "london"]
    assert cache.stats().tables == 4


def test_naive_departure_is_refused():
    """The cache cannot bucket a naive departure and says so."""
    with pytest.raises(GeoError) as info:
        CachedProvider(Recording()).matrix(points(2), departure=datetime(2025, 3, 3, 8, 0))
    assert info.value.field == "departure"


def test_memory_bound_compacts_least_recently_used_points():
    """With room for 64 points, 40 + 40 new points drops the 16 oldest and stays within budget."""
    inner = Recording()
    cache = CachedProvider(inner, max_bytes=SMALL)
    assert cache.max_points == 64
    first, second = points(40, seed=3), points(40, seed=4)
    cache.matrix(first)
    cache.matrix(first[:24])  # the first 24 become more recently used than the last 16
    assert_same(cache.matrix(second), direct(second))
    assert cache.stats().bytes <= SMALL
    calls = len(inner.calls)
    cache.matrix(first[:24], second)
    assert len(inner.calls) == calls + 1  # only the first-24 x second cross block
    assert inner.calls[-1] == (24, 40)
    cache.matrix(first[24:])
    assert inner.calls[-1] == (16, 16)  # the evicted points are computed again


def test_new_context_evicts_least_recently_used_table():
    """A second 40-point context does not fit beside the first within 64 points' budget."""
    inner = Recording()
    cache = CachedProvider(inner, max_bytes=SMALL)
    cache.matrix(points(40), area="a")
    cache.matrix(points(40), area="b")
    assert cache.stats().tables == 1
    assert cache.stats().bytes <= SMALL
    cache.matrix(points(40), area="a")
    assert len(inner.calls) == 3


def test_request_larger_than_the_bound_bypasses_the_cache():
    """100 distinct points with room for 64 go straight to the provider and are not stored."""
    inner = Recording()
    cache = CachedProvider(inner, max_bytes=SMALL)
    pts = points(100)
    assert_same(cache.matrix(pts), direct(pts))
    assert_same(cache.matrix(pts), direct(pts))
    assert inner.calls == [(100, 100), (100, 100)]
    assert cache.stats().tables == 0


def test_random_requests_under_pressure_match_direct_computation():
    """Many random overlapping requests with constant eviction always return exact values."""
    rng = np.random.default_rng(11)
    pool = points(120, seed=5)
    cache = CachedProvider(Recording(), max_bytes=SMALL)
    for _ in range(60):
        o = pool[rng.choice(120, size=rng.integers(1, 30))]
        d = pool[rng.choice(120, size=rng.integers(1, 30))] if rng.random() < 0.5 else None
        assert_same(cache.matrix(o, d), direct(o, d))
        assert cache.stats().bytes <= SMALL


def test_fallback_estimates_are_not_cached():
    """While OSRM is down its model estimate is not cached; after recovery OSRM's values are."""
    state = {"down": True}

    def handler(request):
        if state["down"]:
            return httpx.Response(503)
        return httpx.Response(
            200,
            json={"code": "Ok", "durations": [[0, 61], [62, 0]], "distances": [[0, 700], [710, 0]]},
        )

    client = httpx.Client(transport=httpx.MockTransport(handler))
    osrm = OsrmProvider(
        "http://osrm.test",
        client=client,
        max_retries=0,
        fallback=ModelProvider(),
        sleep=lambda s: None,
    )
    cache = CachedProvider(osrm)
    pts = [(0.0, 0.0), (0.0, 0.1)]
    down = cache.matrix(pts)
    assert (down.provider, down.estimated) == ("model", True)
    assert down.durations.tolist() == [[0, 1612], [1612, 0]]
    state["down"] = False
    up = cache.matrix(pts)
    assert (up.provider, up.estimated) == ("osrm", False)
    assert up.durations.tolist() == [[0, 61], [62, 0]]
    again = cache.matrix(pts)
    assert again.distances.tolist() == [[0, 700], [710, 0]]
    assert cache.stats().provider_calls == 2


def test_cached_provider_satisfies_the_protocol():
    """CachedProvider is a MatrixProvider named after the provider it wraps."""
    cache = CachedProvider(ModelProvider())
    assert isinstance(cache, MatrixProvider)
    assert cache.name == "model"
    with pytest.raises(ValueError, match="cannot hold"):
        CachedProvider(ModelProvider(), max_bytes=1000)


def test_known_cells_mix_with_fallback_estimates_for_new_points():
    """With OSRM down, known OSRM cells are kept and only the new cells are model estimates."""
    state = {"down": False}

    def handler(request):
        if state["down"]:
            return httpx.Response(503)
        return httpx.Response(
            200,
            json={"code": "Ok", "durations": [[0, 61], [62, 0]], "distances": [[0, 700], [710, 0]]},
        )

    client = httpx.Client(transport=httpx.MockTransport(handler))
    osrm = OsrmProvider(
        "http://osrm.test",
        client=client,
        max_retries=0,
        fallback=ModelProvider(),
        sleep=lambda s: None,
    )
    cache = CachedProvider(osrm)
    known = [(0.0, 0.0), (0.0, 0.1)]
    cache.matrix(known)
    state["down"] = True
    # 0.1 degree from the second point: 1612 s, 14,455 m; 0.2 degree from the first: 28,911 m
    # road, 360 + 960 + 18,911 m at 55 km/h (1237.8 s) = 2558 s.
    mixed = cache.matrix([*known, (0.0, 0.2)])
    assert (mixed.provider, mixed.estimated) == ("model", True)
    assert mixed.durations.tolist() == [[0, 61, 2558], [62, 0, 1612], [2558, 1612, 0]]
    assert mixed.distances.tolist() == [[0, 700, 28911], [710, 0, 14455], [28911, 14455, 0]]
