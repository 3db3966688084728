"""Splitting a large area's run into geographic parts that different workers solve at once.

An area with more engineers than a part may hold is cut into groups of engineers who live near
each other (a balanced k-means on their homes: every group about the same size, so the parts
take about as long). Every open request of the area belongs to exactly one part, decided the
same way by every part at the moment it reads its snapshot, so none is planned twice and none
is left out:

- a request in an engineer's route belongs to that engineer's part (work under way, locks and
  promises stay with who holds them);
- any other request belongs to the nearest group (by the group's centre) with an engineer
  qualified for it, or the nearest group when nobody in the area is qualified (the part then
  reports it unassigned with the reason, as a whole-area run would).

Engineers who joined the area after the split belong to no part: this run leaves their routes
as they are, and the next run plans them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Point = tuple[float, float]

LLOYD_ROUNDS = 12


def _distance(a: Point, b: Point) -> float:
    """Distance on a local plane, in degrees of latitude (enough to compare nearness)."""
    dx = (a[1] - b[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(a[0] - b[0], dx)


def _centre(points: Sequence[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _balanced(homes: Mapping[int, Point], centres: list[Point]) -> list[list[int]]:
    """Each engineer to a centre, the groups' sizes within one of each other: those who lose
    most by not getting their nearest centre choose first."""
    small, larger = divmod(len(homes), len(centres))  # ``larger`` groups hold one more

    def regret(engineer_id: int) -> tuple[float, int]:
        ds = sorted(_distance(homes[engineer_id], c) for c in centres)
        return (-(ds[1] - ds[0]) if len(ds) > 1 else 0.0, engineer_id)

    groups: list[list[int]] = [[] for _ in centres]
    for engineer_id in sorted(homes, key=regret):
        ranked = sorted(
            range(len(centres)), key=lambda g: (_distance(homes[engineer_id], centres[g]), g)
        )
        chosen = next(
            g for g in ranked if len(groups[g]) < small or (len(groups[g]) == small and larger)
        )
        if len(groups[chosen]) == small:
            larger -= 1
        groups[chosen].append(engineer_id)
    return [sorted(g) for g in groups]


def group_engineers(homes: Mapping[int, Point], max_size: int) -> list[list[int]]:
    """Engineers (id -> home) in groups of at most ``max_size`` living near each other; one
    group when they all fit. Deterministic: the same engineers give the same groups."""
    if max_size < 1:
        raise ValueError("a part holds at least one engineer")
    ids = sorted(homes)
    count = math.ceil(len(ids) / max_size) if ids else 1
    if count <= 1:
        return [ids]
    # Seeds far apart: the home farthest from the middle, then each farthest from those chosen.
    middle = _centre([homes[i] for i in ids])
    seeds = [max(ids, key=lambda i: (_distance(homes[i], middle), -i))]
    while len(seeds) < count:
        seeds.append(
            max(
                (i for i in ids if i not in seeds),
                key=lambda i: (min(_distance(homes[i], homes[s]) for s in seeds), -i),
            )
        )
    centres = [homes[s] for s in seeds]
    groups = _balanced(homes, centres)
    for _ in range(LLOYD_ROUNDS):
        moved = [_centre([homes[i] for i in g]) for g in groups]
        regrouped = _balanced(homes, moved)
        if regrouped == groups:
            break
        groups = regrouped
    return groups


@dataclass(frozen=True)
class Part:
    """One geographic part of an area's run: the engineers of every part (so each part can tell
    which requests are its own) and which of them this one is."""

    groups: tuple[tuple[int, ...], ...]
    index: int

    @property
    def engineer_ids(self) -> tuple[int, ...]:
        return self.groups[self.index]

    def as_scope(self) -> dict[str, object]:
        return {"groups": [list(g) for g in self.groups], "index": self.index}

    @classmethod
    def from_scope(cls, scope: Mapping[str, object] | None) -> Part | None:
        if not scope:
            return None
        groups = scope["groups"]
        assert isinstance(groups, list)
        index = scope["index"]
        assert isinstance(index, int)
        return cls(tuple(tuple(int(e) for e in g) for g in groups), index)

    def owner(
        self,
        *,
        site: Point,
        held_by: int | None,
        homes: Mapping[int, Point],
        qualified: Sequence[int],
    ) -> int | None:
        """The part a request belongs to: its engineer's, else the nearest group with someone
        ``qualified``; None when held by an engineer of no part."""
        if held_by is not None:
            return next((g for g, group in enumerate(self.groups) if held_by in group), None)
        able = set(qualified)
        centres = [
            _centre([homes[e] for e in group if e in homes])
            if any(e in homes for e in group)
            else None
            for group in self.groups
        ]
        candidates = [
            g
            for g, group in enumerate(self.groups)
            if centres[g] is not None and able.intersection(group)
        ] or [g for g in range(len(self.groups)) if centres[g] is not None]
        if not candidates:
            return 0
        return min(candidates, key=lambda g: (_distance(site, centres[g]), g))  # type: ignore[arg-type]


__all__ = ["Part", "group_engineers"]
