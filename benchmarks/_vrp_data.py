"""Reading the public VRPTW instances and BKS, and checking routes in double precision.

Kept apart from the optimiser on purpose: the benchmark must judge the optimiser's routes with
its own arithmetic (Euclidean distances in double precision, no scaling).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "ONSITE_VRPTW_DATA"


def data_dir(override: str | None = None) -> Path:
    """Return the VRPTW data folder: the option, the env var, or ``<repo>/../shared/...``."""
    if override:
        return Path(override)
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "vrptw"


@dataclass(frozen=True)
class Instance:
    """A Solomon-format instance: row 0 is the depot."""

    name: str
    vehicles: int
    capacity: int
    x: tuple[int, ...]
    y: tuple[int, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.x)

    def dist(self, i: int, j: int) -> float:
        return math.hypot(self.x[i] - self.x[j], self.y[i] - self.y[j])


def read_instance(path: Path) -> Instance:
    """Parse a Solomon text file (blank and header lines ignored, CRLF tolerated)."""
    rows: list[list[int]] = []
    vehicles = capacity = None
    lines = [ln.split() for ln in path.read_text().splitlines()]
    for k, parts in enumerate(lines):
        if parts[:2] == ["NUMBER", "CAPACITY"]:
            nxt = next(p for p in lines[k + 1 :] if p)
            vehicles, capacity = int(nxt[0]), int(nxt[1])
        elif len(parts) == 7 and all(p.lstrip("-").isdigit() for p in parts):
            rows.append([int(p) for p in parts])
    if vehicles is None or capacity is None or not rows:
        raise ValueError(f"{path}: not a Solomon-format instance")
    cols = list(zip(*rows, strict=True))
    return Instance(
        name=path.stem,
        vehicles=vehicles,
        capacity=capacity,
        x=cols[1],
        y=cols[2],
        demand=cols[3],
        ready=cols[4],
        due=cols[5],
        service=cols[6],
    )


def read_bks(path: Path, convention: str) -> dict[str, tuple[int, float]]:
    """Return ``instance -> (vehicles, distance)`` for one convention of BKS.csv."""
    out: dict[str, tuple[int, float]] = {}
    with path.open() as f:
        for row in csv.DictReader(f):
            if row["convention"] == convention:
                out[row["instance"]] = (int(row["vehicles"]), float(row["distance"]))
    return out


@dataclass(frozen=True)
class Evaluation:
    """Double-precision check of a set of routes."""

    feasible: bool
    problems: tuple[str, ...]
    distance: float
    distance_trunc1: float
    vehicles: int


def evaluate(inst: Instance, routes: list[list[int]], eps: float = 1e-9) -> Evaluation:
    """Recompute distances and times in double precision and check every VRPTW rule."""
    problems: list[str] = []
    seen: list[int] = []
    total = total_trunc = 0.0
    used = 0
    for route in routes:
        if not route:
            continue
        used += 1
        t, load, prev = float(inst.ready[0]), 0, 0
        for c in route:
            d = inst.dist(prev, c)
            total += d
            total_trunc += math.floor(10 * d) / 10
            t = max(t + (inst.service[prev] if prev else 0) + d, float(inst.ready[c]))
            if t > inst.due[c] + eps:
                problems.append(f"customer {c} starts at {t:.4f} after due {inst.due[c]}")
            load += inst.demand[c]
            seen.append(c)
            prev = c
        d = inst.dist(prev, 0)
        total += d
        total_trunc += math.floor(10 * d) / 10
        back = t + inst.service[prev] + d
        if back > inst.due[0] + eps:
            problems.append(f"route back at {back:.4f} after depot due {inst.due[0]}")
        if load > inst.capacity:
            problems.append(f"route load {load} > capacity {inst.capacity}")
    if used > inst.vehicles:
        problems.append(f"{used} routes > fleet {inst.vehicles}")
    expected = set(range(1, inst.size))
    if len(seen) != len(set(seen)):
        problems.append("a customer is served twice")
    missing = expected - set(seen)
    if missing:
        problems.append(f"{len(missing)} customers not served")
    return Evaluation(not problems, tuple(problems), total, total_trunc, used)
