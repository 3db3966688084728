"""Onsite's routing optimiser: an immutable problem and parameters in, a plan out.

Pure library: only the standard library and OR-Tools (the latter only in
:mod:`optimizer.model`).
"""

from optimizer.eligibility import Reason
from optimizer.insertion import InsertionOption, best_insertions
from optimizer.params import FirstSolution, Metaheuristic, SearchCore, SolveParams, Weights
from optimizer.planmode import plan_route
from optimizer.problem import (
    Assignment,
    Break,
    CurrentPosition,
    Engineer,
    InProgress,
    Job,
    Lock,
    Priority,
    Problem,
    Shift,
    TimeWindow,
    TripRules,
    VisitStatus,
    extended_matrix,
)
from optimizer.solution import Kpis, Plan, PlanStatus, Route, Trip, Unassigned, Visit
from optimizer.solve import solve
from optimizer.trips import on_the_road, trip_insertions, with_trips

__all__ = [
    "Assignment",
    "Break",
    "CurrentPosition",
    "Engineer",
    "FirstSolution",
    "InProgress",
    "InsertionOption",
    "Job",
    "Kpis",
    "Lock",
    "Metaheuristic",
    "Plan",
    "PlanStatus",
    "Priority",
    "Problem",
    "Reason",
    "Route",
    "SearchCore",
    "Shift",
    "SolveParams",
    "TimeWindow",
    "Trip",
    "TripRules",
    "Unassigned",
    "Visit",
    "VisitStatus",
    "Weights",
    "best_insertions",
    "extended_matrix",
    "on_the_road",
    "plan_route",
    "solve",
    "trip_insertions",
    "with_trips",
]
