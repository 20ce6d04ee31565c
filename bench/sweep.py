"""Planning a county-wide Tuesday sweep, against a nearest-neighbour plan of the same day, in one run.

    uv run python -m bench.sweep                       # 2,000 subjects, 80 officers, 12 townships
    uv run python -m bench.sweep --subjects 500 --officers 40

The synthetic county (12 townships) gets --subjects due subjects spread over its cells, and --officers
of its certified officers are on duty (all the departments' first, then a draw of the
townships' own). The planner runs with OR-Tools (candidates, teams, routes,
conflicts); its planning time is the figure (target < 10 s). The baseline keeps the plan's teams and
the stops it visits, and lets each team in turn take its nearest allowed stop until the stops or
the places run out: the classic nearest-neighbour plan. The plan's total route length must be
shorter; the ratio plan / baseline is printed with both lengths and both times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import msgspec
import numpy as np
import shapely

from geodata.synth import synthesize
from grid.powers import PowerLists
from grid.routing import Router
from grid.subjects import Subject, SubjectKind
from grid.sweep.plan import SweepPlan, SweepRules
from grid.sweep.planner import SweepInputs, plan_sweep, solve_routes
from grid.sweep.routes import nearest_neighbour
from server.sweeps.solver import OrToolsRoutes

DAY = dt.date(2026, 11, 24)
TRADES = [
    "catering",
    "food_retail",
    "construction_site",
    "livestock_farm",
    "sand_yard",
    "hazardous_chemicals",
    "factory",
    "public_venue",
    "clinic",
]


def county_inputs(subjects: int, officers: int, seed: int = 7) -> tuple[SweepInputs, Router]:
    county = synthesize(seed)
    rng = np.random.default_rng(seed)
    cells = county.cells.records
    picks = rng.integers(0, len(cells), size=subjects)
    points = shapely.point_on_surface(np.array(county.cells.shapes, dtype=object)[picks])
    jitter = rng.uniform(-0.002, 0.002, size=(subjects, 2))
    made = [
        Subject(
            id=f"b{n:05d}",
            name=f"对象{n}",
            kind=SubjectKind.ENTERPRISE,
            trade=TRADES[int(rng.integers(len(TRADES)))],
            risk=int(rng.integers(1, 5)),
            lon=float(p.x + dx),
            lat=float(p.y + dy),
            cell=cells[int(i)].code,
            address=f"示范路{n}号",
            last_inspected=None
            if rng.random() < 0.3
            else DAY - dt.timedelta(days=int(rng.integers(181, 720))),
        )
        for n, (i, p, (dx, dy)) in enumerate(zip(picks, points, jitter, strict=True))
    ]
    # Tuesday is the departments' day out: their certified officers come first, then a random
    # draw of the townships' own makes up the number.
    certified = sorted((o for o in county.officers if o.certified_on(DAY)), key=lambda o: o.id)
    departments = [o for o in certified if ".dept." in o.unit][:officers]
    local = [o for o in certified if ".dept." not in o.unit]
    drawn = rng.choice(len(local), size=min(len(local), officers - len(departments)), replace=False)
    on_duty = departments + [local[i] for i in sorted(drawn)]
    units = {u.id: u for u in county.units}
    townships = {t.code: t for t in county.townships.records}
    router = Router(county.catalog, PowerLists(county.power_list, county.duties), units, townships)
    inputs = SweepInputs(
        date=DAY,
        scope=county.counties.records[0].code,
        townships=townships,
        units=units,
        subjects=tuple(made),
        officers=tuple(on_duty),
    )
    return inputs, router


def nearest_neighbour_plan(plan: SweepPlan) -> tuple[float, int]:
    """The same teams and visited stops, routed by nearest neighbour: (total metres, stops placed)."""
    length, placed = 0.0, 0
    for township in sorted({t.township for t in plan.teams}):
        teams = [msgspec.structs.replace(t, stops=()) for t in plan.teams if t.township == township]
        stops = [plan.stop(s) for t in plan.teams if t.township == township for s in t.stops]
        routed, _ = solve_routes(
            plan.seats[township], teams, stops, nearest_neighbour, plan.rules, plan.rules.stops_per_team
        )
        length += sum(t.length_m for t in routed)
        placed += sum(len(t.stops) for t in routed)
    return length, placed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--officers", type=int, default=80)
    args = parser.parse_args()
    inputs, router = county_inputs(args.subjects, args.officers)
    print(
        f"{len(inputs.subjects)} subjects, {len(inputs.officers)} officers on duty, {len(inputs.townships)} townships"
    )
    started = time.perf_counter()
    plan = plan_sweep(inputs, router, OrToolsRoutes(), SweepRules())
    planning = time.perf_counter() - started
    started = time.perf_counter()
    baseline, placed = nearest_neighbour_plan(plan)
    baseline_time = time.perf_counter() - started
    visited = sum(len(t.stops) for t in plan.teams)
    print(
        f"candidates {len(plan.stops)}, teams {len(plan.teams)}, stops planned {visited}, conflicts {len(plan.conflicts)}"
    )
    print(
        f"plan (OR-Tools)          {planning:6.2f} s   routes {plan.length_m / 1000:8.1f} km for {visited} stops"
    )
    print(
        f"nearest neighbour        {baseline_time:6.2f} s   routes {baseline / 1000:8.1f} km for {placed} stops"
    )
    print(f"route length plan / nearest neighbour: {plan.length_m / baseline:.3f} (must be < 1)")
    print(f"planning time {planning:.2f} s (target < 10 s)")


if __name__ == "__main__":
    main()
