"""Routes: distances, the solver port, and the nearest-neighbour baseline a plan must beat.

Road networks are not available, so a leg is the great-circle distance × the rules' detour factor.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Protocol

import msgspec
import numpy as np

from grid.geo import EARTH_RADIUS_M


class RouteProblem(msgspec.Struct, frozen=True, kw_only=True):
    """Node 0 is the township seat (every route starts and ends there); stop i is node i + 1."""

    distances: list[list[int]]  # metres, node × node
    allowed: list[list[int]]  # per stop: the teams that may visit it
    penalties: list[int]  # per stop: the cost of leaving it out (its priority)
    teams: int
    capacity: int  # stops per team


class RouteSolver(Protocol):
    def __call__(self, problem: RouteProblem) -> list[list[int]]:
        """Per team, the stops it visits (0-based stop indices) in route order."""


def distance_matrix(lon: np.ndarray, lat: np.ndarray, detour: float) -> list[list[int]]:
    """Whole metres between every pair of points (haversine × detour)."""
    lam, phi = np.radians(lon), np.radians(lat)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))) * detour
    out: list[list[int]] = np.rint(metres).astype(np.int64).tolist()
    return out


def route_length(distances: Sequence[Sequence[int]], route: Sequence[int]) -> int:
    """Seat → stops in order → seat, in metres (stops as 0-based indices)."""
    nodes = [0, *(i + 1 for i in route), 0]
    return sum(distances[a][b] for a, b in pairwise(nodes))


def nearest_neighbour(problem: RouteProblem) -> list[list[int]]:
    """The baseline: the teams in turn each take the nearest stop they may visit, until every stop is
    taken or every team is full."""
    routes: list[list[int]] = [[] for _ in range(problem.teams)]
    at = [0] * problem.teams
    left = set(range(len(problem.allowed)))
    allowed = [set(a) for a in problem.allowed]
    moved = True
    while left and moved:
        moved = False
        for team in range(problem.teams):
            if len(routes[team]) >= problem.capacity:
                continue
            options = [s for s in left if team in allowed[s]]
            if not options:
                continue
            nearest = min(options, key=lambda s: (problem.distances[at[team]][s + 1], s))
            routes[team].append(nearest)
            at[team] = nearest + 1
            left.discard(nearest)
            moved = True
    return routes
