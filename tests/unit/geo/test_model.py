"""Tests for the embedded travel-time model (geo.model)."""

import itertools
import math
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from geo.distance import haversine_matrix
from geo.errors import GeoError
from geo.matrix import MatrixProvider
from geo.model import ModelProvider, TravelModel, TravelProfile

ORIGIN = (0.0, 0.0)
# 0.1 degree east on the equator: 11,119.508 m great circle, 14,455.36 m road at circuity 1.3.
TENTH_EAST = (0.0, 0.1)
MONDAY_0830_UTC = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)


def test_duration_follows_marginal_speed_bands():
    """1 km takes 180 s at 20 km/h; 5 km is 2 km at 20 + 3 km at 30 = 720 s; 60 km is 4338.2 s."""
    profile = TravelProfile()
    assert profile.duration_s(1_000) == pytest.approx(180.0)
    assert profile.duration_s(5_000) == pytest.approx(720.0)
    # 360 + 960 + 40 km at 55 (2618.18) + 10 km at 90 (400).
    assert profile.duration_s(60_000) == pytest.approx(4338.18, abs=0.01)
    assert profile.duration_s(0) == 0.0


def test_duration_is_continuous_and_increasing_across_band_edges():
    """Crossing a band edge never makes a trip shorter in time."""
    profile = TravelProfile()
    distances = np.linspace(0, 120_000, 2401)
    times = [profile.duration_s(d) for d in distances]
    assert all(b > a for a, b in itertools.pairwise(times))
    assert profile.duration_s(10_000.001) - profile.duration_s(9_999.999) < 0.001


def test_matrix_hand_computed_cell():
    """0.1 degree on the equator: 14,455 m road and 360 + 960 + 291.6 = 1612 s."""
    matrix = ModelProvider().matrix([ORIGIN], [TENTH_EAST])
    assert matrix.distances.tolist() == [[14_455]]
    assert matrix.durations.tolist() == [[1_612]]
    assert matrix.provider == "model"
    assert matrix.estimated is True
    assert matrix.durations.dtype == np.int32
    assert matrix.distances.dtype == np.int32


def test_rush_hour_multiplier_applies_by_local_departure_hour():
    """Monday 08:30 multiplies by 1.4 (1611.6 -> 2256 s); Saturday and 11:00 do not."""
    provider = ModelProvider()
    rush = provider.matrix([ORIGIN], [TENTH_EAST], departure=MONDAY_0830_UTC)
    assert rush.durations.tolist() == [[2_256]]
    assert rush.distances.tolist() == [[14_455]]
    saturday = provider.matrix(
        [ORIGIN], [TENTH_EAST], departure=datetime(2025, 3, 8, 8, 30, tzinfo=UTC)
    )
    assert saturday.durations.tolist() == [[1_612]]
    late_morning = provider.matrix(
        [ORIGIN], [TENTH_EAST], departure=datetime(2025, 3, 3, 11, 0, tzinfo=UTC)
    )
    assert late_morning.durations.tolist() == [[1_612]]


def test_profile_timezone_selects_the_local_hour():
    """07:30 UTC in July is 08:30 in London (x1.4), whereas read as UTC it is 07:30 (x1.25)."""
    departure = datetime(2025, 7, 7, 7, 30, tzinfo=UTC)
    assert TravelProfile(timezone="Europe/London").multiplier(departure) == 1.4
    assert TravelProfile().multiplier(departure) == 1.25
    paris_time = datetime(2025, 3, 3, 17, 5, tzinfo=timezone(timedelta(hours=1)))
    assert TravelProfile().multiplier(paris_time) == 1.4


def test_naive_departure_is_refused():
    """A departure without timezone is ambiguous and is refused naming 'departure'."""
    with pytest.raises(GeoError) as info:
        ModelProvider().matrix([ORIGIN], departure=datetime(2025, 3, 3, 8, 30))
    assert info.value.field == "departure"


def test_area_override_replaces_the_default_profile():
    """An area with circuity 1.0 and no rush hours gets 11,120 m and 1393 s for 0.1 degree."""
    model = TravelModel(areas={"flatland": TravelProfile(circuity=1.0, rush_hours=())})
    provider = ModelProvider(model)
    flat = provider.matrix([ORIGIN], [TENTH_EAST], area="flatland", departure=MONDAY_0830_UTC)
    assert flat.distances.tolist() == [[11_120]]
    # 360 + 960 + 1119.5 m at 55 km/h (73.3 s).
    assert flat.durations.tolist() == [[1_393]]
    other = provider.matrix([ORIGIN], [TENTH_EAST], area="elsewhere")
    assert other.durations.tolist() == [[1_612]]


def test_rectangular_matrix_shape_and_zero_diagonal():
    """Origins x destinations gives N x M; a square matrix has zeros on its diagonal."""
    points = [(51.5, -0.12), (51.52, -0.1), (51.45, -0.2)]
    rect = ModelProvider().matrix(points[:2], points)
    assert rect.shape == (2, 3)
    square = ModelProvider().matrix(points)
    assert np.diag(square.durations).tolist() == [0, 0, 0]
    assert np.array_equal(square.durations, square.durations.T)


def test_float32_kernel_matches_float64_haversine():
    """Model distances with circuity 1 stay within 1 m + 5e-6 of float64 haversine."""
    rng = np.random.default_rng(7)
    near = np.column_stack([rng.uniform(48.80, 48.90, 60), rng.uniform(2.25, 2.45, 60)])
    far = np.column_stack([rng.uniform(-60, 70, 60), rng.uniform(-180, 180, 60)])
    points = np.concatenate([near, far])
    model = TravelModel(default=TravelProfile(circuity=1.0))
    matrix = ModelProvider(model).matrix(points)
    reference = haversine_matrix(points)
    error = np.abs(matrix.distances - reference)
    assert (error <= 1.0 + 5e-6 * reference).all()
    assert error[:60, :60].max() <= 1.0


def test_large_matrix_uses_several_blocks_consistently():
    """Rows computed in different blocks agree with a one-row computation."""
    rng = np.random.default_rng(3)
    points = np.column_stack([rng.uniform(40, 60, 600), rng.uniform(-5, 20, 600)])
    full = ModelProvider().matrix(points)
    last_row = ModelProvider().matrix(points[-1:], points)
    np.testing.assert_array_equal(full.durations[-1:], last_row.durations)
    np.testing.assert_array_equal(full.distances[-1:], last_row.distances)


def test_results_are_read_only():
    """A returned matrix cannot be modified in place (cached matrices are shared)."""
    matrix = ModelProvider().matrix([ORIGIN, TENTH_EAST])
    with pytest.raises(ValueError, match="read-only"):
        matrix.durations[0, 1] = 5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"circuity": 0.9}, "circuity"),
        ({"speed_bands": ((1000.0, 20.0), (500.0, 30.0), (math.inf, 50.0))}, "speed_bands[1]"),
        ({"speed_bands": ((1000.0, 20.0),)}, "speed_bands"),
        ({"speed_bands": ((math.inf, 0.0),)}, "speed_bands[0]"),
        ({"rush_hours": ((24, 1.2),)}, "rush_hours"),
        ({"rush_hours": ((8, 0.0),)}, "rush_hours"),
        ({"rush_hours": ((8, 1.2), (8, 1.3))}, "rush_hours"),
        ({"rush_days": frozenset({7})}, "rush_days"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_profile_validation_names_the_parameter(kwargs, field):
    """Out-of-range model parameters are refused naming the parameter."""
    with pytest.raises(GeoError) as info:
        TravelProfile(**kwargs)
    assert info.value.field == field


def test_model_provider_satisfies_the_protocol():
    """ModelProvider is a MatrixProvider."""
    assert isinstance(ModelProvider(), MatrixProvider)
