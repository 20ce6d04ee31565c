"""Plan a sweep day: candidates (or the double-random draw) → teams → routes, with every conflict stated."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence

import msgspec
import numpy as np

from grid.organisation import Officer, Unit
from grid.places import Township, township_of
from grid.routing import Router
from grid.subjects import Subject
from grid.sweep.candidates import (
    HotCell,
    OpenIncident,
    days_since_visit,
    drawn_reason,
    in_quiet_period,
    priority_candidates,
    subject_stop,
)
from grid.sweep.draw import draw_subjects, inputs_digest, shuffled
from grid.sweep.plan import Conflict, ConflictKind, Mode, Stop, SweepPlan, SweepRefused, SweepRules, Team
from grid.sweep.routes import RouteProblem, RouteSolver, distance_matrix, route_length
from grid.sweep.rules import check_plan
from grid.sweep.teams import OfficerPool, TeamBuilder, uncovered

# Leaving a stop out costs more than any detour, so the routes fill the teams' capacity, and more for
# a more urgent stop, so the most urgent are the ones kept.
DROP_COST = 1_000_000
DROP_COST_PER_PRIORITY = 1_000
# The solver is offered the most urgent stops up to this multiple of the teams' capacity.
OFFERED_PER_PLACE = 3


class SweepInputs(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a plan is drawn from; its digest is stored with the plan."""

    date: dt.date
    scope: str
    townships: dict[str, Township]  # the townships in scope
    units: dict[str, Unit]
    subjects: tuple[Subject, ...]
    officers: tuple[Officer, ...]
    incidents: tuple[OpenIncident, ...] = ()
    hot_cells: tuple[HotCell, ...] = ()
    absent: tuple[str, ...] = ()  # officers away that day

    def canonical(self) -> SweepInputs:
        """The same inputs in one order, whatever order the store returned them in."""
        return msgspec.structs.replace(
            self,
            subjects=tuple(sorted(self.subjects, key=lambda s: s.id)),
            officers=tuple(sorted(self.officers, key=lambda o: o.id)),
            incidents=tuple(sorted(self.incidents, key=lambda i: i.id)),
            hot_cells=tuple(sorted(self.hot_cells, key=lambda c: c.cell)),
            absent=tuple(sorted(set(self.absent))),
        )


def _drawn_stops(inputs: SweepInputs, router: Router, rules: SweepRules, rng: random.Random) -> list[Stop]:
    eligible = (
        s
        for s in inputs.subjects
        if township_of(s.cell) in inputs.townships and not in_quiet_period(s, inputs.date, rules)
    )
    return [
        subject_stop(
            s,
            inputs.townships[township_of(s.cell)],
            router,
            inputs.date,
            s.risk * days_since_visit(s, inputs.date, rules),
            drawn_reason(s),
        )
        for s in draw_subjects(eligible, rules.sample_share, rng)
    ]


def _over_capacity(stop: Stop, rules: SweepRules) -> Conflict:
    cap = rules.stops_per_team
    return Conflict(
        kind=ConflictKind.OVER_CAPACITY,
        township=stop.township,
        stop=stop.id,
        text_zh=f"检查组已满（每组最多 {cap} 个点），{stop.name} 未排入本次检查",
        text_en=f"the teams are full ({cap} {'stop' if cap == 1 else 'stops'} each); "
        f"{stop.name} is not planned this time",
    )


def solve_routes(
    seat: tuple[float, float],
    teams: Sequence[Team],
    stops: Sequence[Stop],
    solver: RouteSolver,
    rules: SweepRules,
    capacity: int,
) -> tuple[list[Team], list[Stop]]:
    """The teams with their routes, and the stops left out."""
    if not teams or not stops:
        return list(teams), list(stops)
    lon = np.array([seat[0], *(s.lon for s in stops)])
    lat = np.array([seat[1], *(s.lat for s in stops)])
    distances = distance_matrix(lon, lat, rules.detour_factor)
    problem = RouteProblem(
        distances=distances,
        allowed=[[t for t, team in enumerate(teams) if s.covered_by(team.units)] for s in stops],
        penalties=[DROP_COST + int(s.priority * DROP_COST_PER_PRIORITY) for s in stops],
        teams=len(teams),
        capacity=capacity,
    )
    routes = solver(problem)
    routed = [
        msgspec.structs.replace(
            team, stops=tuple(stops[i].id for i in route), length_m=float(route_length(distances, route))
        )
        for team, route in zip(teams, routes, strict=True)
    ]
    visited = {i for route in routes for i in route}
    return routed, [s for i, s in enumerate(stops) if i not in visited]


def plan_sweep(
    inputs: SweepInputs,
    router: Router,
    solver: RouteSolver,
    rules: SweepRules | None = None,
    mode: Mode = Mode.PRIORITY,
    seed: int | None = None,
) -> SweepPlan:
    rules = rules or SweepRules()
    inputs = inputs.canonical()
    officers: Sequence[Officer] = inputs.officers
    if mode is Mode.DOUBLE_RANDOM:
        if seed is None:
            raise SweepRefused("a double-random draw needs a seed", "双随机抽取需要随机种子")
        rng = random.Random(seed)
        stops = _drawn_stops(inputs, router, rules, rng)
        officers = shuffled(officers, rng)
    else:
        stops = priority_candidates(
            inputs.date,
            inputs.townships,
            inputs.subjects,
            inputs.incidents,
            inputs.hot_cells,
            router,
            rules,
        )
    builder = TeamBuilder(OfficerPool(officers, inputs.date, inputs.absent), inputs.units, rules)
    staffed, conflicts = builder.unstaffed(stops)
    conflicts += [c for t in inputs.townships.values() if (c := builder.township_short(t)) is not None]
    by_township: dict[str, list[Stop]] = defaultdict(list)
    for stop in staffed:
        by_township[stop.township].append(stop)
    teams: list[Team] = []
    # The township with the most urgent list draws the shared county officers first.
    order = sorted(by_township, key=lambda c: (-sum(s.priority for s in by_township[c]), c))
    formed_by = builder.form([inputs.townships[c] for c in order], by_township)
    for code in order:
        township, waiting, formed = inputs.townships[code], by_township[code], formed_by[code]
        coverable = [s for s in waiting if any(s.covered_by(t.units) for t in formed)]
        conflicts += [uncovered(s, formed, inputs.units) for s in waiting if s not in coverable]
        offered = coverable[: OFFERED_PER_PLACE * rules.stops_per_team * len(formed)]
        routed, left_out = solve_routes(
            (township.seat_lon, township.seat_lat), formed, offered, solver, rules, rules.stops_per_team
        )
        teams += routed
        conflicts += [_over_capacity(s, rules) for s in (*left_out, *coverable[len(offered) :])]
    plan = SweepPlan(
        date=inputs.date,
        scope=inputs.scope,
        mode=mode,
        seats={c: (t.seat_lon, t.seat_lat) for c, t in inputs.townships.items()},
        stops=tuple(stops),
        teams=tuple(teams),
        conflicts=tuple(conflicts),
        rules=rules,
        seed=seed,
        digest=inputs_digest(inputs),
    )
    broken = check_plan(plan, {o.id: o for o in inputs.officers}, inputs.absent)
    if broken:  # the solver is trusted with the order, not with the rules
        raise RuntimeError("the planner broke its own rules: " + "; ".join(v.text_en for v in broken))
    return plan


def reorder(plan: SweepPlan, team_ids: Iterable[str], solver: RouteSolver) -> SweepPlan:
    """Re-route the named teams over the stops they now have (after an edit)."""
    changed = set(team_ids)
    teams = []
    for team in plan.teams:
        if team.id in changed:
            stops = [plan.stop(s) for s in team.stops]
            routed, _ = solve_routes(
                plan.seats[team.township], [team], stops, solver, plan.rules, max(1, len(stops))
            )
            team = routed[0] if stops else msgspec.structs.replace(team, length_m=0.0)
        teams.append(team)
    return msgspec.structs.replace(plan, teams=tuple(teams))
