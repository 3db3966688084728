"""The OR-Tools routing model: the only module of Onsite that imports OR-Tools.

One OR-Tools vehicle per route slot (engineer-shift). Nodes are the jobs that passed the
pre-solve checks, followed by one node per distinct start or end location.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from optimizer.costs import drop_penalty
from optimizer.eligibility import RouteSlot, over_qualification, start_bounds
from optimizer.params import FirstSolution, Metaheuristic, SolveParams, Weights
from optimizer.problem import Problem, VisitStatus

_FIRST_SOLUTION = {
    FirstSolution.AUTO: routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    FirstSolution.INSERTION: routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION,
    FirstSolution.PARALLEL_CHEAPEST_INSERTION: (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    ),
    FirstSolution.LOCAL_CHEAPEST_INSERTION: (
        routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    ),
    FirstSolution.PATH_CHEAPEST_ARC: routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC,
    FirstSolution.SAVINGS: routing_enums_pb2.FirstSolutionStrategy.SAVINGS,
}

_METAHEURISTIC = {
    Metaheuristic.AUTO: routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH,
    Metaheuristic.RUIN_AND_RECREATE: (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    ),
    Metaheuristic.GUIDED_LOCAL_SEARCH: (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    ),
    Metaheuristic.SIMULATED_ANNEALING: (
        routing_enums_pb2.LocalSearchMetaheuristic.SIMULATED_ANNEALING
    ),
    Metaheuristic.TABU_SEARCH: routing_enums_pb2.LocalSearchMetaheuristic.TABU_SEARCH,
    Metaheuristic.GREEDY_DESCENT: routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT,
}

_ON = optional_boolean_pb2.BOOL_TRUE


@dataclass(frozen=True, slots=True)
class RawRoute:
    """A route as the solver left it.

    Parameters
    ----------
    slot
        Index of the route slot.
    jobs
        Job indices (into :attr:`Problem.jobs`) in visiting order.
    starts
        Service start of each job.
    departure
        When the route leaves its start location.
    end
        When the route reaches its end location.
    break_start
        Start of the break, if the slot has one.
    """

    slot: int
    jobs: tuple[int, ...]
    starts: tuple[int, ...]
    departure: int
    end: int
    break_start: int | None


@dataclass(frozen=True, slots=True)
class RawSolution:
    """Every route of a solver answer and its objective value."""

    routes: tuple[RawRoute, ...]
    objective: int


class RoutingModel:
    """Builds and solves the OR-Tools model of a problem restricted to some jobs.

    Parameters
    ----------
    problem
        The problem.
    slots
        Route slots, one OR-Tools vehicle each.
    candidates
        For each job index to plan, the indices of the slots allowed to serve it.
    weights
        Objective weights.
    """

    def __init__(
        self,
        problem: Problem,
        slots: Sequence[RouteSlot],
        candidates: dict[int, tuple[int, ...]],
        weights: Weights,
    ) -> None:
        self.problem = problem
        self._closed = False
        self.slots = list(slots)
        self.weights = weights
        self.job_of_node = sorted(candidates)
        self.node_of_job = {j: n for n, j in enumerate(self.job_of_node)}
        jobs = problem.jobs
        locations = [jobs[j].location for j in self.job_of_node]
        service = [jobs[j].service_s for j in self.job_of_node]
        depot_node: dict[int, int] = {}
        for slot in self.slots:
            for loc in (slot.start_location, slot.end_location):
                if loc not in depot_node:
                    depot_node[loc] = len(locations)
                    locations.append(loc)
                    service.append(0)
        starts = [depot_node[s.start_location] for s in self.slots]
        ends = [depot_node[s.end_location] for s in self.slots]
        self.manager = pywrapcp.RoutingIndexManager(len(locations), len(self.slots), starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        routing, manager = self.routing, self.manager
        n_jobs = len(self.job_of_node)

        dur, dist = problem.durations, problem.distances
        time_rows = []
        cost_rows = []
        w_t, w_d = weights.travel_per_s, weights.distance_per_unit
        for a, loc_a in enumerate(locations):
            d_row, s = dur[loc_a], service[a]
            time_rows.append([s + d_row[b] for b in locations])
            if w_d == 0:
                cost_rows.append([w_t * d_row[b] for b in locations])
            else:
                m_row = dist[loc_a]
                cost_rows.append([w_t * d_row[b] + w_d * m_row[b] for b in locations])
        routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost_rows))

        horizon = max((s.end_time for s in self.slots), default=0)
        time_cb = routing.RegisterTransitMatrix(time_rows)
        routing.AddDimension(time_cb, horizon, horizon, False, "time")
        self.time = time = routing.GetDimensionOrDie("time")

        for v, slot in enumerate(self.slots):
            lo = slot.start_time
            for j in self.job_of_node:
                ip = jobs[j].in_progress
                if ip is not None and ip.status is VisitStatus.ON_SITE and candidates[j] == (v,):
                    assert ip.started_at is not None
                    lo = min(lo, ip.started_at)
            time.CumulVar(routing.Start(v)).SetRange(lo, slot.end_time)
            time.CumulVar(routing.End(v)).SetRange(lo, slot.end_time)
            if slot.max_work_s is not None:
                time.SetSpanUpperBoundForVehicle(slot.max_work_s, v)
            routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.Start(v)))
            routing.AddVariableMinimizedByFinalizer(time.CumulVar(routing.End(v)))

        solver = routing.solver()
        for node, j in enumerate(self.job_of_node):
            job = jobs[j]
            index = manager.NodeToIndex(node)
            cumul = time.CumulVar(index)
            lo_b, hi_b = start_bounds(job, weights)
            cumul.SetRange(0 if lo_b is None else lo_b, horizon if hi_b is None else hi_b)
            if job.in_progress is None:
                for w_a, w_b in itertools.pairwise(job.windows):
                    cumul.RemoveInterval(w_a.end + 1, w_b.start - 1)
            if job.promise_due is not None and weights.lateness_per_s[job.priority] > 0:
                time.SetCumulVarSoftUpperBound(
                    index, job.promise_due, weights.lateness_per_s[job.priority]
                )
            allowed = candidates[j]
            if job.in_progress is not None:
                (v,) = allowed
                solver.Add(routing.NextVar(routing.Start(v)) == index)
            else:
                routing.AddDisjunction([index], drop_penalty(problem.jobs[j], weights))
            if len(allowed) < len(self.slots):
                # SetAllowedVehiclesForIndex does not accept a Python list in the pinned
                # OR-Tools 9.15 wrapper; restricting the vehicle variable is equivalent
                # (-1 keeps the job droppable).
                values = list(allowed) if job.in_progress is not None else [-1, *allowed]
                routing.VehicleVar(index).SetValues(values)
            routing.AddVariableMinimizedByFinalizer(cumul)
            prev = job.previous
            if job.promised and prev is not None and weights.stability > 0:
                v0 = self._slot_of(prev.engineer_id, prev.day)
                if v0 is not None and v0 in allowed:
                    routing.AddSoftSameVehicleConstraint(
                        [routing.Start(v0), index], weights.stability
                    )

        self._add_over_qualification(n_jobs, len(locations))
        self._add_counts(n_jobs, len(locations))
        self._add_breaks(service)

    def _slot_of(self, engineer_id: str, day: int) -> int | None:
        for v, slot in enumerate(self.slots):
            eng = self.problem.engineers[slot.engineer]
            if eng.id == engineer_id and eng.shifts[slot.shift].day == day:
                return v
        return None

    def _add_over_qualification(self, n_jobs: int, n_nodes: int) -> None:
        weight = self.weights.over_qualification_per_level
        jobs = self.problem.jobs
        if weight == 0 or not any(jobs[j].skills for j in self.job_of_node):
            return
        routing = self.routing
        by_profile: dict[tuple[tuple[str, int], ...], int] = {}
        evaluators = []
        for slot in self.slots:
            eng = self.problem.engineers[slot.engineer]
            profile = tuple(eng.skills.items())
            if profile not in by_profile:
                vector = [
                    weight * max(0, over_qualification(eng, jobs[j])) for j in self.job_of_node
                ]
                vector += [0] * (n_nodes - n_jobs)
                by_profile[profile] = routing.RegisterUnaryTransitVector(vector)
            evaluators.append(by_profile[profile])
        total = (
            weight * 5 * max(1, n_jobs) * max(1, max(len(jobs[j].skills) for j in self.job_of_node))
        )
        routing.AddDimensionWithVehicleTransits(evaluators, 0, total, True, "over_qualification")
        routing.GetDimensionOrDie("over_qualification").SetSpanCostCoefficientForAllVehicles(1)

    def _add_counts(self, n_jobs: int, n_nodes: int) -> None:
        routing = self.routing
        jobs = self.problem.jobs
        pad = [0] * (n_nodes - n_jobs)
        if any(s.capacity is not None for s in self.slots) and any(
            jobs[j].demand for j in self.job_of_node
        ):
            demands = [jobs[j].demand for j in self.job_of_node] + pad
            total = sum(demands)
            caps = [total if s.capacity is None else s.capacity for s in self.slots]
            cb = routing.RegisterUnaryTransitVector(demands)
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "load")
        if any(s.max_visits is not None for s in self.slots):
            cb = routing.RegisterUnaryTransitVector([1] * n_jobs + pad)
            caps = [n_jobs if s.max_visits is None else s.max_visits for s in self.slots]
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "visits")

    def _add_breaks(self, service: list[int]) -> None:
        self.breaks: dict[int, pywrapcp.IntervalVar] = {}
        if not any(s.break_ is not None for s in self.slots):
            return
        routing, manager = self.routing, self.manager
        visit_transits = [service[manager.IndexToNode(i)] for i in range(routing.Size())]
        solver = routing.solver()
        for v, slot in enumerate(self.slots):
            b = slot.break_
            if b is None:
                continue
            interval = solver.FixedDurationIntervalVar(
                b.earliest_start, b.latest_start, b.duration_s, False, f"break-{v}"
            )
            self.breaks[v] = interval
            self.time.SetBreakIntervalsOfVehicle([interval], v, visit_transits)

    def search_parameters(self, params: SolveParams) -> pywrapcp.RoutingSearchParameters:
        """Return the OR-Tools search parameters for ``params``."""
        sp = pywrapcp.DefaultRoutingSearchParameters()
        sp.first_solution_strategy = _FIRST_SOLUTION[params.first_solution]
        sp.local_search_metaheuristic = _METAHEURISTIC[params.metaheuristic]
        # A heavier guided-local-search penalty than the default 0.1 escapes the deep local
        # optima of tight windows better (measured on Solomon R1/RC1: 5.1 % -> 4.3 % mean gap).
        sp.guided_local_search_lambda_coefficient = 0.6
        # Ruin-and-recreate inside the local search (remove a visit and its nearest neighbours,
        # re-insert them cheapest first) and operators chosen by a multi-armed bandit: on the
        # 56 Solomon instances at 10 s, with the lean fleet of solve._FleetModel, the mean gap
        # went from 2.20 % to 1.85 %.
        operators = sp.local_search_operators
        operators.use_global_cheapest_insertion_close_nodes_lns = _ON
        operators.use_local_cheapest_insertion_close_nodes_lns = _ON
        sp.heuristic_close_nodes_lns_num_nodes = 10
        sp.use_multi_armed_bandit_concatenate_operators = True
        if params.time_limit_s is not None:
            sp.time_limit.FromMilliseconds(max(1, int(params.time_limit_s * 1000)))
        else:
            sp.time_limit.FromSeconds(10**6)
        if params.solution_limit is not None:
            sp.solution_limit = params.solution_limit
        sp.log_search = params.log
        return sp

    def solve(
        self,
        params: SolveParams,
        initial_routes: Sequence[Sequence[int]] | None = None,
    ) -> RawSolution | None:
        """Search and return the best solution found, or ``None`` when none was found.

        Parameters
        ----------
        params
            Limits and strategies.
        initial_routes
            Optional job indices per slot to start from; ignored if they break a constraint.
        """
        sp = self.search_parameters(params)
        routing = self.routing
        if not self._closed:
            # Closing fixes the model; later calls only change limits and the start.
            routing.CloseModelWithParameters(sp)
            self._closed = True
        solution = None
        if initial_routes is not None:
            routes = [
                [
                    self.manager.NodeToIndex(self.node_of_job[j])
                    for j in route
                    if j in self.node_of_job
                ]
                for route in initial_routes
            ]
            start = routing.ReadAssignmentFromRoutes(routes, True)
            if start is not None:
                solution = routing.SolveFromAssignmentWithParameters(start, sp)
        if solution is None:
            solution = routing.SolveWithParameters(sp)
        if solution is None:
            return None
        return self._extract(solution)

    def _extract(self, solution: pywrapcp.Assignment) -> RawSolution:
        routing, manager, time = self.routing, self.manager, self.time
        break_starts: dict[str, int] = {}
        if self.breaks:
            intervals = solution.IntervalVarContainer()
            for i in range(intervals.Size()):
                element = intervals.Element(i)
                break_starts[element.Var().Name()] = element.StartValue()
        routes = []
        for v in range(len(self.slots)):
            index = solution.Value(routing.NextVar(routing.Start(v)))
            jobs, starts = [], []
            while not routing.IsEnd(index):
                jobs.append(self.job_of_node[manager.IndexToNode(index)])
                starts.append(solution.Value(time.CumulVar(index)))
                index = solution.Value(routing.NextVar(index))
            interval = self.breaks.get(v)
            routes.append(
                RawRoute(
                    slot=v,
                    jobs=tuple(jobs),
                    starts=tuple(starts),
                    departure=solution.Value(time.CumulVar(routing.Start(v))),
                    end=solution.Value(time.CumulVar(routing.End(v))),
                    break_start=None if interval is None else break_starts.get(interval.Name()),
                )
            )
        return RawSolution(routes=tuple(routes), objective=solution.ObjectiveValue())
