"""Quotes and bookings add their sites to an area's travel matrices in place (rows with room
at the end) instead of copying the matrices: every problem still reads the travel times it
would read from matrices built afresh for its own locations."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

import numpy as np

from dispatch.geo_support import GeoContext
from dispatch.planning.capacity import ROOM_MIN, _placed, _with_sites, with_room
from geo.matrix import UNREACHABLE
from optimizer import Problem

FACTOR = 1.2


def _scaled(d: np.ndarray) -> list[list[int]]:
    return np.where(d == UNREACHABLE, d, np.rint(d * FACTOR)).astype(np.int64).tolist()


def _context(geo: GeoContext, points: tuple, problem: Problem) -> Any:
    return SimpleNamespace(
        built=SimpleNamespace(problem=problem, points=points, traffic_factor=FACTOR)
    )


def _point(rng: random.Random) -> tuple[float, float]:
    return (round(31.1 + rng.random() * 0.3, 6), round(121.3 + rng.random() * 0.3, 6))


def _reads_afresh(geo: GeoContext, problem: Problem, located: dict[int, tuple]) -> None:
    locations = sorted(located)
    coords = [located[i] for i in locations]
    fresh = geo.point_provider.matrix(coords)
    durations, distances = _scaled(fresh.durations), fresh.distances.tolist()
    for a, i in enumerate(locations):
        for b, j in enumerate(locations):
            assert problem.durations[i][j] == durations[a][b], (i, j)
            assert problem.distances[i][j] == distances[a][b], (i, j)


def test_sites_added_in_place_read_as_matrices_built_afresh() -> None:
    """Two quotes on one view take different locations and neither overwrites what the other
    reads; a booked quote's view grows further; when the room runs out, the matrices are
    copied once into roomier ones, and every earlier problem still reads what it read."""
    rng = random.Random(5)
    geo = GeoContext()
    points = tuple(_point(rng) for _ in range(30))
    whole = geo.point_provider.matrix(list(points))
    plain = Problem(
        durations=_scaled(whole.durations),
        distances=whole.distances.tolist(),
        jobs=(),
        engineers=(),
    )
    base = with_room(plain, len(points))
    view = _context(geo, points, base)
    first_site, second_site = _point(rng), _point(rng)
    first, at_first = _with_sites(view, geo, [first_site])
    second, at_second = _with_sites(view, geo, [second_site])
    assert at_first == len(points) and at_second == at_first + 1
    located = dict(enumerate(points))
    _reads_afresh(geo, first, {**located, at_first: first_site})
    _reads_afresh(geo, second, {**located, at_second: second_site})
    # The first quote booked: its view holds its site, and the second quote's place is
    # skipped (never read by this view).
    booked_points = _placed(points, at_first, [first_site])
    booked = _context(geo, booked_points, first)
    kept: list[tuple[Problem, dict[int, tuple]]] = [(first, {**located, at_first: first_site})]
    for _ in range(ROOM_MIN + 10):  # past the room: one copy into roomier matrices
        site = _point(rng)
        grown, at = _with_sites(booked, geo, [site])
        assert at >= len(booked_points)
        kept.append((grown, {**located, at_first: first_site, at: site}))
    for problem, where in kept[:3] + kept[-3:]:
        _reads_afresh(geo, problem, where)
    _reads_afresh(geo, second, {**located, at_second: second_site})
    assert kept[-1][0].durations is not first.durations  # the room ran out once
    # A view on matrices without room (made elsewhere) gets roomy copies of its own.
    alone, at_alone = _with_sites(_context(geo, points, plain), geo, [second_site])
    assert at_alone == len(points)
    _reads_afresh(geo, alone, {**located, at_alone: second_site})
    _reads_afresh(geo, plain, located)
