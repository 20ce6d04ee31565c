"""The sweep's route solver: OR-Tools' vehicle routing, behind the core's RouteSolver port.

Teams are vehicles that start and end at the township seat; a stop may only be visited by the teams
that cover its departments (allowed vehicles), each team visits at most `capacity` stops (a count
dimension, whose global span cost evens the load), and a stop may be left out at its penalty.
"""

from __future__ import annotations

import datetime as dt

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from grid.sweep.routes import RouteProblem

# One stop more on the busiest team weighs like this many metres of driving.
BALANCE_METRES_PER_STOP = 20_000


class OrToolsRoutes:
    """Cheapest insertion, then greedy descent to a local optimum: deterministic for the same
    problem, which a re-run of an audited draw needs; `time_limit` only bounds a huge problem."""

    def __init__(self, time_limit: dt.timedelta = dt.timedelta(seconds=30)) -> None:
        self.time_limit = time_limit

    def __call__(self, problem: RouteProblem) -> list[list[int]]:
        stops = len(problem.allowed)
        if not stops or not problem.teams:
            return [[] for _ in range(problem.teams)]
        manager = pywrapcp.RoutingIndexManager(stops + 1, problem.teams, 0)
        routing = pywrapcp.RoutingModel(manager)
        routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(problem.distances))
        count = routing.RegisterUnaryTransitVector([0] + [1] * stops)
        routing.AddDimension(count, 0, problem.capacity, True, "stops")
        routing.GetDimensionOrDie("stops").SetGlobalSpanCostCoefficient(BALANCE_METRES_PER_STOP)
        for stop, (teams, penalty) in enumerate(zip(problem.allowed, problem.penalties, strict=True)):
            index = manager.NodeToIndex(stop + 1)
            # The allowed teams as the vehicle variable's domain (-1: left out). The wheel's
            # SetAllowedVehiclesForIndex binding refuses Python lists, and its empty list means "any".
            routing.VehicleVar(index).SetValues([-1, *teams])
            routing.AddDisjunction([index], penalty)
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
        params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
        params.time_limit.FromTimedelta(self.time_limit)
        solution = routing.SolveWithParameters(params)
        if solution is None:
            raise RuntimeError("OR-Tools found no route plan (every stop is optional, so this is a bug)")
        routes = []
        for team in range(problem.teams):
            route, index = [], routing.Start(team)
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                if node:
                    route.append(node - 1)
                index = solution.Value(routing.NextVar(index))
            routes.append(route)
        return routes
