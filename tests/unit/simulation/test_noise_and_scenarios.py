"""The simulator's noise model and scenario files."""

from __future__ import annotations

import math
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulation.noise import NoiseModel
from simulation.scenario import Noise, ProblemType, ScenarioError, load_scenario

MONDAY_NOON = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, off-peak
MONDAY_RUSH = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
PROBLEM = ProblemType(code="x", share=1, skill="hvac", service_minutes=60, spread=0.3)


def test_a_draw_depends_only_on_the_seed_and_what_it_is_about() -> None:
    """The same seed and key give the same factor, whatever was drawn before; another seed
    gives another one."""
    a, b = NoiseModel(7, Noise()), NoiseModel(7, Noise())
    b.travel_factor(99, 0.25, MONDAY_NOON, "Asia/Shanghai")  # an unrelated draw first
    assert a.travel_factor(1, 0.25, MONDAY_NOON, "Asia/Shanghai") == b.travel_factor(
        1, 0.25, MONDAY_NOON, "Asia/Shanghai"
    )
    assert NoiseModel(8, Noise()).travel_factor(1, 0.25, MONDAY_NOON, "Asia/Shanghai") != (
        a.travel_factor(1, 0.25, MONDAY_NOON, "Asia/Shanghai")
    )


def test_travel_noise_is_lognormal_with_median_one_and_the_given_spread() -> None:
    """Over many legs the log of the factor has mean 0 and standard deviation sigma."""
    noise = NoiseModel(1, Noise())
    logs = [
        math.log(noise.travel_factor(k, 0.25, MONDAY_NOON, "Asia/Shanghai")) for k in range(20_000)
    ]
    assert abs(statistics.fmean(logs)) < 0.01
    assert statistics.pstdev(logs) == pytest.approx(0.25, abs=0.01)


def test_rush_hour_bias_scales_rush_hour_legs_only() -> None:
    """With a rush bias of 1.5, a 17:30 leg is 1.5 times the same leg's noon factor."""
    noise = NoiseModel(3, Noise(rush_bias=1.5))
    noon = noise.travel_factor(5, 0.25, MONDAY_NOON, "Asia/Shanghai")
    rush = noise.travel_factor(5, 0.25, MONDAY_RUSH, "Asia/Shanghai")
    assert rush == pytest.approx(1.5 * noon)


def test_time_on_site_stays_within_the_spread_and_averages_the_estimate() -> None:
    """Uniform within +-30 % of the estimate, mean the estimate."""
    noise = NoiseModel(2, Noise())
    values = [noise.service_minutes(k, 60, PROBLEM) for k in range(10_000)]
    assert min(values) >= 42 and max(values) <= 78
    assert statistics.fmean(values) == pytest.approx(60, abs=0.5)


def test_late_starts_and_no_shows_happen_at_their_shares() -> None:
    """10 % of engineer-days start late, by 5-30 minutes; 1 % are not worked."""
    noise = NoiseModel(4, Noise(late_start=0.1, late_start_minutes=(5, 30), no_show=0.01))
    late = [noise.late_start_minutes(e, "2026-11-23") for e in range(20_000)]
    assert sum(1 for m in late if m > 0) / len(late) == pytest.approx(0.1, abs=0.01)
    assert all(m == 0 or 5 <= m <= 30 for m in late)
    shows = [noise.no_show(e, "2026-11-23") for e in range(20_000)]
    assert sum(shows) / len(shows) == pytest.approx(0.01, abs=0.003)


def test_the_shipped_scenarios_load() -> None:
    """standard has 30 engineers and about 300 requests; stress is the same with 40 % more."""
    standard, stress = load_scenario("standard"), load_scenario("stress")
    assert sum(g.count for g in standard.engineers) == 30
    assert standard.demand.requests == 300 and stress.demand.requests == 420
    assert stress.engineers == standard.engineers and stress.name == "stress"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('name = "x"\n', "areas"),
        ('extends = "standard"\n[demand]\nrequests = -1\n', "demand.requests"),
        ('extends = "standard"\n[noise]\nno_show = 2\n', "noise.no_show"),
        ('extends = "nowhere"\n', "extends"),
    ],
)
def test_a_bad_scenario_names_the_field(tmp_path: Path, text: str, field: str) -> None:
    """Validation errors say which field is wrong."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=rf"^{field}"):
        load_scenario(path)
