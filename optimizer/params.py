"""Validated solver parameters and objective weights.

All costs are integers in one abstract *cost unit*; by default one cost unit is one second of
travel, so every other weight reads as "worth this many seconds of driving".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from optimizer.problem import Priority


class FirstSolution(StrEnum):
    """How the first plan is built.

    ``AUTO`` and ``INSERTION`` use Onsite's own construction: cheapest feasible insertion of
    each job in turn, most constrained first (in-progress, urgent, fewest engineers, earliest
    deadline). It serves far more jobs than OR-Tools' strategies on tight windows, and the
    search starts from it. The other values are OR-Tools first-solution strategies of the
    same name, used with an OR-Tools-only search (a non-``AUTO`` metaheuristic).
    """

    AUTO = "auto"
    INSERTION = "insertion"
    PARALLEL_CHEAPEST_INSERTION = "parallel_cheapest_insertion"
    LOCAL_CHEAPEST_INSERTION = "local_cheapest_insertion"
    PATH_CHEAPEST_ARC = "path_cheapest_arc"
    SAVINGS = "savings"


class SearchCore(StrEnum):
    """Which implementation runs the ruin-and-recreate phase.

    ``COMPILED`` (default) is the C++ core built when the package is installed;
    ``PYTHON`` is the reference implementation, slower, kept to cross-check the compiled one.
    """

    COMPILED = "compiled"
    PYTHON = "python"


class Metaheuristic(StrEnum):
    """How the search improves the first plan.

    ``AUTO`` runs Onsite's ruin-and-recreate search (string removals, greedy re-insertion,
    simulated-annealing acceptance) for :attr:`SolveParams.ruin_share` of the time, then OR-Tools'
    guided local search on the best plan found. ``RUIN_AND_RECREATE`` is the same.
    The others are OR-Tools metaheuristics run alone from the first plan.
    (OR-Tools 9.15's own iterated local search did not run from Python on the pinned version:
    the search stopped at the first local optimum, so it is not offered.)
    """

    AUTO = "auto"
    RUIN_AND_RECREATE = "ruin_and_recreate"
    GUIDED_LOCAL_SEARCH = "guided_local_search"
    SIMULATED_ANNEALING = "simulated_annealing"
    TABU_SEARCH = "tabu_search"
    GREEDY_DESCENT = "greedy_descent"


def _priority_map(name: str, values: Mapping[Priority, int]) -> Mapping[Priority, int]:
    missing = set(Priority) - set(values)
    if missing:
        raise ValueError(f"Weights.{name}: missing {sorted(p.value for p in missing)}")
    for p, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"Weights.{name}[{p}]: must be an integer >= 0")
    return MappingProxyType({Priority(p): v for p, v in values.items()})


@dataclass(frozen=True)
class Weights:
    """Objective weights, integers in cost units (default: 1 unit = 1 s of travel).

    Parameters
    ----------
    travel_per_s
        Cost per second of travel. Default 1.
    distance_per_unit
        Cost per distance unit travelled (metres in production). Default 0: field service
        minimises time; benchmarks that minimise distance set it to 1 and ``travel_per_s`` to 0.
    lateness_per_s
        Cost per second a service starts after the job's promise, by priority. Defaults:
        urgent 1,000, important 300, general 100: a promise is what the customer was told, so
        a general minute late is worth 100 minutes of driving; the plan drives further rather
        than break a promise.
    drop_per_priority
        Penalty for leaving a job unassigned, by priority. Defaults: urgent 1,000,000,000
        (never dropped while it can be served), important 50,000,000 (about 46 hours late),
        general 10,000,000 (about 28 hours late): jobs are served late rather than dropped
        unless they would be that late.
    over_qualification_per_level
        Cost per skill level the engineer has above the job's requirement, per required skill.
        Default 60, so a one-minute detour is worth keeping a scarce expert free.
    stability
        Penalty when a promised job leaves the engineer of its previous plan. Default 3,600.
    max_lateness_s
        Hard cap on lateness against the promise; ``None`` (default) means no cap. A job that
        could only be served later than this is dropped with reason ``late``.
    """

    travel_per_s: int = 1
    distance_per_unit: int = 0
    lateness_per_s: Mapping[Priority, int] = field(
        default_factory=lambda: {
            Priority.URGENT: 1_000,
            Priority.IMPORTANT: 300,
            Priority.GENERAL: 100,
        }
    )
    drop_per_priority: Mapping[Priority, int] = field(
        default_factory=lambda: {
            Priority.URGENT: 1_000_000_000,
            Priority.IMPORTANT: 50_000_000,
            Priority.GENERAL: 10_000_000,
        }
    )
    over_qualification_per_level: int = 60
    stability: int = 3_600
    max_lateness_s: int | None = None

    def __post_init__(self) -> None:
        for name in ("travel_per_s", "distance_per_unit", "over_qualification_per_level"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Weights.{name}: must be an integer >= 0")
        if self.stability < 0:
            raise ValueError("Weights.stability: must be >= 0")
        if self.max_lateness_s is not None and self.max_lateness_s < 0:
            raise ValueError("Weights.max_lateness_s: must be >= 0")
        object.__setattr__(
            self, "lateness_per_s", _priority_map("lateness_per_s", self.lateness_per_s)
        )
        object.__setattr__(
            self, "drop_per_priority", _priority_map("drop_per_priority", self.drop_per_priority)
        )


@dataclass(frozen=True)
class SolveParams:
    """How long and how to search.

    Parameters
    ----------
    time_limit_s
        Wall-clock limit in seconds; ``None`` for no time limit (then give a solution limit).
    solution_limit
        Stop after this many improving solutions of the local search; ``None`` for no limit.
    first_solution
        Construction of the first plan.
    metaheuristic
        Search after the first plan.
    weights
        Objective weights.
    ruin_share
        Share of the time limit given to the ruin-and-recreate phase (``AUTO`` metaheuristic);
        ``None`` (default) picks, up to 300 jobs, 0.7 when the first plan's routes are short
        (15 visits or fewer on average), where OR-Tools' guided local search polishes well,
        and 0.85 when they are long, where its moves are slow; above 300 jobs it picks 1.0, as
        OR-Tools does not get past restoring the plan in useful time.
    ruin_iterations
        Number of ruin-and-recreate iterations instead of a share of the time; with only a
        solution limit, the phase runs only if this is set.
    seed
        Seed of the ruin-and-recreate phase's random choices.
    core
        Implementation of the ruin-and-recreate phase (:class:`SearchCore`).
    threads
        Number of ruin-and-recreate searches run side by side with different seeds, sharing
        their best plan between epochs (compiled core only); 1 (default) for one core.
    log
        Let OR-Tools log its search to stderr.

    Notes
    -----
    Determinism: with one thread the search uses fixed random seeds, so the same problem
    and parameters give the same plan when the search stops on ``solution_limit`` (and
    ``ruin_iterations``, if the ruin-and-recreate phase is used). Under a
    time limit the plan is always feasible and never worse than the first plan, but how far the
    search gets depends on the machine's speed and load, so two runs may differ.
    """

    time_limit_s: float | None = 10.0
    solution_limit: int | None = None
    first_solution: FirstSolution = FirstSolution.AUTO
    metaheuristic: Metaheuristic = Metaheuristic.AUTO
    weights: Weights = field(default_factory=Weights)
    ruin_share: float | None = None
    ruin_iterations: int | None = None
    seed: int = 0
    core: SearchCore = SearchCore.COMPILED
    threads: int = 1
    log: bool = False

    def __post_init__(self) -> None:
        if self.time_limit_s is None and self.solution_limit is None:
            raise ValueError("SolveParams.time_limit_s: give a time limit or a solution limit")
        if self.time_limit_s is not None and self.time_limit_s <= 0:
            raise ValueError("SolveParams.time_limit_s: must be > 0")
        if self.solution_limit is not None and self.solution_limit < 1:
            raise ValueError("SolveParams.solution_limit: must be >= 1")
        if self.ruin_share is not None and not 0.0 <= self.ruin_share <= 1.0:
            raise ValueError("SolveParams.ruin_share: must be in [0, 1]")
        if self.ruin_iterations is not None and self.ruin_iterations < 0:
            raise ValueError("SolveParams.ruin_iterations: must be >= 0")
        object.__setattr__(self, "core", SearchCore(self.core))
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
            raise ValueError("SolveParams.threads: must be an integer >= 1")
        if self.threads > 1 and self.core is SearchCore.PYTHON:
            raise ValueError("SolveParams.threads: the Python search runs on one thread only")
        object.__setattr__(self, "first_solution", FirstSolution(self.first_solution))
        object.__setattr__(self, "metaheuristic", Metaheuristic(self.metaheuristic))
