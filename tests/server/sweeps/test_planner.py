"""The sweep planner's rules (docs/domain.md#the-tuesday-sweep), on a hand-built township with OR-Tools as the solver."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import msgspec
import numpy as np
import pytest

from grid.sweep.outcomes import Outcome, risk_after, visited
from grid.sweep.plan import ConflictKind, Mode, ReasonKind, SweepPlan, SweepRefused, SweepRules
from grid.sweep.planner import SweepInputs, plan_sweep
from grid.sweep.routes import RouteProblem, distance_matrix, nearest_neighbour, route_length
from grid.sweep.rules import check_plan, move_stop, swap_officer
from server.sweeps.solver import OrToolsRoutes
from tests.support.routing import OFFICE, SCJG_TEAM, SL, STATION
from tests.support.sweep import DAY, OFFICERS, incident, inputs, router, subject

SOLVER = OrToolsRoutes()
BY_ID = {o.id: o for o in OFFICERS}
MIX = ["shop", "land", "water", "market", "mixed"]


def plan(given: SweepInputs, rules: SweepRules | None = None, **kw: object) -> SweepPlan:
    return plan_sweep(given, router(), SOLVER, rules, **kw)  # type: ignore[arg-type]


def accounted(result: SweepPlan) -> None:
    """Nothing silently dropped: every candidate is on exactly one route or named in a conflict."""
    on_routes = Counter(s for t in result.teams for s in t.stops)
    stated = {c.stop for c in result.conflicts if c.stop}
    for stop in result.stops:
        assert on_routes[stop.id] + (stop.id in stated) == 1, stop.id


def test_every_team_has_two_officers_certified_on_the_day() -> None:
    result = plan(inputs([subject(i, MIX[i % 5]) for i in range(15)]))
    assert result.teams
    for team in result.teams:
        members = [BY_ID[o] for o in team.officers]
        assert sum(o.certified_on(DAY) for o in members) >= 2
        # s2's certificate lapsed the day before; n1 has none: neither is drawn.
        assert {"s2", "n1"}.isdisjoint(team.officers)
    assert check_plan(result, BY_ID) == []
    accounted(result)


def test_a_swap_that_leaves_one_certified_officer_is_refused() -> None:
    result = plan(inputs([subject(i, "shop") for i in range(3)]))
    team = result.teams[0]
    with pytest.raises(SweepRefused) as refused:
        swap_officer(result, team.id, team.officers[0], "n1", BY_ID)
    assert "at least 2" in refused.value.message_en
    # An officer away that day does not count either.
    with pytest.raises(SweepRefused, match="away that day"):
        swap_officer(result, team.id, team.officers[0], "o4", BY_ID, absent=["o4"])
    swapped = swap_officer(result, team.id, team.officers[0], "o4", BY_ID)
    assert "o4" in swapped.team(team.id).officers


def test_each_stop_is_visited_once_by_a_team_covering_its_departments() -> None:
    result = plan(inputs([subject(i, MIX[i % 5]) for i in range(15)]))
    seen = Counter(s for t in result.teams for s in t.stops)
    assert seen and max(seen.values()) == 1
    for team in result.teams:
        for stop_id in team.stops:
            assert set(result.stop(stop_id).units) <= set(team.units)
    water = next(s for s in result.stops if s.units == (SL,))
    market = next(s for s in result.stops if s.units == (SCJG_TEAM,))
    assert result.stop(f"subject:{subject(4, 'mixed').id}").units == (OFFICE, SL)
    assert result.stop(f"subject:{subject(1, 'land').id}").units == (STATION,)
    lacking = next(t for t in result.teams if SL not in t.units or SCJG_TEAM not in t.units)
    needs = water if SL not in lacking.units else market
    with pytest.raises(SweepRefused, match="has nobody from"):
        move_stop(result, needs.id, lacking.id, BY_ID)


def test_one_visit_per_subject_even_when_an_incident_names_it() -> None:
    shop = subject(1, "shop", last=DAY - dt.timedelta(days=10), quiet=60)  # inside its quiet period
    result = plan(inputs([shop, subject(2, "water")], incidents=(incident(1, shop.id, (OFFICE,)),)))
    stops = [s for s in result.stops if s.subject == shop.id]
    assert len(stops) == 1
    [stop] = stops
    assert stop.incidents == ("i1",)
    assert [r.kind for r in stop.reasons] == [ReasonKind.DUE, ReasonKind.INCIDENT]
    assert result.stops[0].id == stop.id  # an incident outranks any due subject
    assert not any(s.id == "incident:i1" for s in result.stops)


def test_the_quiet_period_keeps_recently_visited_subjects_off_the_list() -> None:
    recent = subject(1, last=DAY - dt.timedelta(days=30), quiet=60)
    edge = subject(2, last=DAY - dt.timedelta(days=60), quiet=60)  # within: still left alone
    due = subject(3, last=DAY - dt.timedelta(days=61), quiet=60)
    never = subject(4, last=None)
    result = plan(inputs([recent, edge, due, never]))
    assert {s.subject for s in result.stops} == {due.id, never.id}
    by_subject = {s.subject: s for s in result.stops}
    assert by_subject[due.id].priority == 3 * 61
    assert by_subject[never.id].priority == 3 * SweepRules().never_visited_days
    assert "61 天" in by_subject[due.id].reasons[0].text_zh


def test_capacity_caps_each_team_and_the_rest_are_stated() -> None:
    rules = SweepRules(stops_per_team=2)
    result = plan(inputs([subject(i, "shop") for i in range(12)]), rules)
    assert all(len(t.stops) <= 2 for t in result.teams)
    # Four office officers make two teams of two: four stops, the eight least urgent are over.
    assert sum(len(t.stops) for t in result.teams) == 4
    over = [c for c in result.conflicts if c.kind is ConflictKind.OVER_CAPACITY]
    assert len(over) == 8
    planned = {s for t in result.teams for s in t.stops}
    lowest_planned = min(result.stop(s).priority for s in planned)
    assert all(result.stop(c.stop or "").priority <= lowest_planned for c in over)
    accounted(result)
    with pytest.raises(SweepRefused, match="more than 2 per team"):
        move_stop(result, over[0].stop or "", result.teams[0].id, BY_ID)


def test_conflicts_name_the_missing_department_and_the_short_township() -> None:
    lapsed = tuple(
        msgspec.structs.replace(o, certificates=())
        if o.unit in (SCJG_TEAM, STATION) or o.id in ("o2", "o3", "o4")
        else o
        for o in OFFICERS
    )
    result = plan(inputs([subject(1, "market"), subject(2, "shop"), subject(3, "water")], officers=lapsed))
    kinds = Counter(c.kind for c in result.conflicts)
    nobody = [c for c in result.conflicts if c.kind is ConflictKind.NOBODY_CERTIFIED]
    assert [(c.stop, c.unit) for c in nobody] == [("subject:s001", SCJG_TEAM)]
    assert "市场监管执法队" in nobody[0].text_zh
    # One certified officer of the township's own (o1): short, stated; the water bureau fills in.
    assert kinds[ConflictKind.TOWNSHIP_SHORT] == 1
    [team] = result.teams
    assert set(team.officers) == {"o1", "w1"} and set(team.stops) == {"subject:s002", "subject:s003"}
    accounted(result)


def test_absent_officers_are_not_drawn() -> None:
    result = plan(inputs([subject(i, "water") for i in range(3)], absent=("w1", "w2")))
    assert not result.teams
    assert {c.kind for c in result.conflicts} == {ConflictKind.NOBODY_CERTIFIED}
    accounted(result)


def test_the_double_random_draw_repeats_from_its_seed_and_differs_with_another() -> None:
    subjects = [subject(i, MIX[i % 5], risk=1 + i % 4) for i in range(80)]
    given = inputs(subjects)
    first = plan(given, mode=Mode.DOUBLE_RANDOM, seed=20261124)
    again = plan(
        msgspec.structs.replace(given, subjects=tuple(reversed(subjects))),
        mode=Mode.DOUBLE_RANDOM,
        seed=20261124,
    )
    other = plan(given, mode=Mode.DOUBLE_RANDOM, seed=7)
    assert first.mode is Mode.DOUBLE_RANDOM and first.seed == 20261124
    assert [s.id for s in again.stops] == [s.id for s in first.stops]
    assert [t.officers for t in again.teams] == [t.officers for t in first.teams]
    assert first.digest == again.digest == other.digest
    assert {s.id for s in other.stops} != {s.id for s in first.stops}
    # Stratified: ⌈share × n⌉ of each risk level's 20 subjects.
    drawn = Counter(int(s.reasons[0].text_en.split()[-1].rstrip(")")) for s in first.stops)
    assert drawn == {r: math.ceil(share * 20) for r, share in SweepRules().sample_share.items()}
    assert all(r.kind is ReasonKind.DRAWN for s in first.stops for r in s.reasons)
    with pytest.raises(SweepRefused):
        plan(given, mode=Mode.DOUBLE_RANDOM, seed=None)


def test_a_changed_input_changes_the_digest() -> None:
    subjects = [subject(i) for i in range(5)]
    before = plan(inputs(subjects), mode=Mode.DOUBLE_RANDOM, seed=1)
    subjects[0] = msgspec.structs.replace(subjects[0], risk=4)
    after = plan(inputs(subjects), mode=Mode.DOUBLE_RANDOM, seed=1)
    assert before.digest != after.digest


def test_the_load_is_balanced_between_equal_teams() -> None:
    # Twelve stops need two teams of eight places: six each, not eight and four.
    result = plan(inputs([subject(i, "shop") for i in range(12)]))
    assert sorted(len(t.stops) for t in result.teams) == [6, 6]


def test_routes_are_no_longer_than_the_nearest_neighbour_baseline() -> None:
    spread = [subject(i, "shop", dx=0.05 * math.cos(i), dy=0.05 * math.sin(i * 1.7)) for i in range(1, 16)]
    result = plan(inputs(spread))
    assert len(result.teams) == 2
    for team in result.teams:
        stops = [result.stop(s) for s in team.stops]
        seat = result.seats[team.township]
        lon = np.array([seat[0], *(s.lon for s in stops)])
        lat = np.array([seat[1], *(s.lat for s in stops)])
        distances = distance_matrix(lon, lat, result.rules.detour_factor)
        alone = RouteProblem(
            distances=distances,
            allowed=[[0]] * len(stops),
            penalties=[1] * len(stops),
            teams=1,
            capacity=len(stops),
        )
        assert team.length_m == route_length(distances, list(range(len(stops))))
        assert team.length_m <= route_length(distances, nearest_neighbour(alone)[0])


def test_moving_a_stop_off_the_plan_states_it() -> None:
    result = plan(inputs([subject(i, "shop") for i in range(4)]))
    team = result.teams[0]
    moved = move_stop(result, team.stops[0], None, BY_ID)
    assert team.stops[0] not in {s for t in moved.teams for s in t.stops}
    assert [c.kind for c in moved.conflicts if c.stop == team.stops[0]] == [ConflictKind.LEFT_OUT]
    back = move_stop(moved, team.stops[0], team.id, BY_ID)
    assert not [c for c in back.conflicts if c.stop == team.stops[0]]
    accounted(back)


@pytest.mark.parametrize(
    ("risk", "outcome", "after"),
    [
        (3, Outcome.NOTHING_FOUND, 2),
        (1, Outcome.NOTHING_FOUND, 1),
        (3, Outcome.RECTIFICATION, 3),
        (3, Outcome.CASE_OPENED, 4),
        (4, Outcome.CASE_OPENED, 4),
    ],
)
def test_outcomes_move_the_risk_level(risk: int, outcome: Outcome, after: int) -> None:
    assert risk_after(risk, outcome) == after
    seen = visited(subject(1, risk=risk), DAY, outcome)
    assert (seen.risk, seen.last_inspected) == (after, DAY)
