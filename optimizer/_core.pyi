"""Type stubs of Onsite's compiled search core (``optimizer/_core.cpp``)."""

from collections.abc import Mapping, Sequence

NONE: int

class Core:
    """A problem packed for the compiled search (see :func:`optimizer.compiled.pack`)."""

    def __init__(self, data: Mapping[str, object]) -> None: ...
    def route(
        self, slot: int, sequence: Sequence[int]
    ) -> tuple[bool, int, list[int], list[int], list[int]]:
        """(feasible, cost, earliest starts, latest starts, late jobs) of one route."""
    def best_insertion(
        self, slot: int, sequence: Sequence[int], job: int
    ) -> tuple[int, int] | None:
        """(cost, stop index) of the cheapest feasible insertion, or None."""
    def search(
        self,
        sequences: Sequence[Sequence[int]],
        seconds: float,
        iterations: int,
        seed: int,
        schedule_from: float = 0.0,
        schedule_to: float = 1.0,
    ) -> tuple[list[list[int]], int, int]:
        """Ruin-and-recreate: (best sequences, their cost, iterations run)."""
    def local_search(
        self, sequences: Sequence[Sequence[int]], seed: int = 0
    ) -> tuple[list[list[int]], int]:
        """Relocate, swap, 2-opt* and 2-opt until none improves: (sequences, their cost)."""
