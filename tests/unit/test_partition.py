"""Geographic parts of a large area: balanced groups of engineers living near each other, and
every request owned by exactly one part."""

from __future__ import annotations

import random

import pytest

from dispatch.planning.partition import Part, group_engineers


def _two_towns(per_town: int, seed: int = 4) -> dict[int, tuple[float, float]]:
    rng = random.Random(seed)
    homes = {}
    for i in range(per_town):
        homes[i] = (31.0 + rng.uniform(-0.02, 0.02), 121.0 + rng.uniform(-0.02, 0.02))
        homes[100 + i] = (31.3 + rng.uniform(-0.02, 0.02), 121.4 + rng.uniform(-0.02, 0.02))
    return homes


def test_engineers_that_fit_in_one_part_stay_one_group() -> None:
    """An area no bigger than a part is not split."""
    homes = _two_towns(5)
    assert group_engineers(homes, 10) == [sorted(homes)]


def test_two_towns_are_split_along_the_towns() -> None:
    """Engineers of two towns far apart, with room for one town per part, are grouped by town."""
    homes = _two_towns(6)
    groups = group_engineers(homes, 6)
    assert sorted(groups) == [list(range(6)), list(range(100, 106))]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(("count", "most"), [(40, 15), (61, 20), (7, 2)])
def test_groups_cover_every_engineer_once_within_the_size(seed: int, count: int, most: int) -> None:
    """Random homes in groups of at most ``most``: every engineer in exactly one group, as few
    groups as the size allows, sizes within one of each other, the same answer every time."""
    rng = random.Random(seed)
    homes = {i: (30 + rng.random(), 120 + rng.random()) for i in range(count)}
    groups = group_engineers(homes, most)
    assert sorted(e for g in groups for e in g) == sorted(homes)
    assert len(groups) == -(-count // most)
    sizes = [len(g) for g in groups]
    assert max(sizes) <= most and max(sizes) - min(sizes) <= 1
    assert group_engineers(dict(reversed(list(homes.items()))), most) == groups


def test_a_request_belongs_to_its_engineer_else_the_nearest_qualified_group() -> None:
    """A held request goes with its engineer; a free one to the nearest group with a qualified
    engineer, or the nearest group when nobody is qualified; an engineer of no part owns none."""
    homes = _two_towns(3)
    part = Part(((0, 1, 2), (100, 101, 102)), 0)
    near_first = (31.01, 121.01)
    assert part.owner(site=near_first, held_by=101, homes=homes, qualified=[]) == 1
    assert part.owner(site=near_first, held_by=None, homes=homes, qualified=[0, 101]) == 0
    assert part.owner(site=near_first, held_by=None, homes=homes, qualified=[101]) == 1
    assert part.owner(site=near_first, held_by=None, homes=homes, qualified=[]) == 0
    assert part.owner(site=near_first, held_by=999, homes=homes, qualified=[]) is None
    assert Part.from_scope(part.as_scope()) == part
