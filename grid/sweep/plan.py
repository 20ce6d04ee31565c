"""What a sweep plan is made of: stops with their reasons, teams with their routes, stated conflicts."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable

import msgspec

from grid.errors import DomainError


class SweepRefused(DomainError):
    code = "sweep_refused"


# The days a plan may be made for: anything else is a typing slip (and year 1 breaks date arithmetic).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2099, 12, 31)


def check_day(day: dt.date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise SweepRefused(
            f"a sweep day lies between {FIRST_DAY} and {LAST_DAY}, not {day}",
            f"检查日期应在 {FIRST_DAY} 至 {LAST_DAY} 之间，而不是 {day}",
            date=str(day),
        )


class Mode(enum.StrEnum):
    PRIORITY = "priority"  # 问题导向: due subjects, open incidents, hot cells, most urgent first
    DOUBLE_RANDOM = "double_random"  # 双随机: a stratified random sample and randomly drawn officers


class StopKind(enum.StrEnum):
    SUBJECT = "subject"
    INCIDENT = "incident"
    HOT_CELL = "hot_cell"


class ReasonKind(enum.StrEnum):
    DUE = "due"  # risk × days since the last visit, past the quiet period
    INCIDENT = "incident"  # an open incident whose next step is on-site enforcement
    HOT_CELL = "hot_cell"  # many recent incidents in one cell
    DRAWN = "drawn"  # picked by the double-random draw


class Reason(msgspec.Struct, frozen=True, kw_only=True):
    kind: ReasonKind
    text_zh: str
    text_en: str
    incident: str | None = None


class Stop(msgspec.Struct, frozen=True, kw_only=True):
    """One place a team visits once; `units` are the units whose matters apply there."""

    id: str  # subject:ID, incident:ID or cell:CODE
    kind: StopKind
    township: str
    cell: str | None
    lon: float
    lat: float
    name: str
    address: str
    units: tuple[str, ...]
    priority: float
    reasons: tuple[Reason, ...]
    subject: str | None = None
    incidents: tuple[str, ...] = ()

    def covered_by(self, units: Iterable[str]) -> bool:
        """True when officers of these units can settle everything at the stop."""
        return set(self.units).issubset(units)


class Team(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    township: str
    officers: tuple[str, ...]
    units: tuple[str, ...]  # the units its officers belong to: the departments it covers
    stops: tuple[str, ...] = ()  # in route order, from the township seat and back
    length_m: float = 0.0


class ConflictKind(enum.StrEnum):
    NOBODY_CERTIFIED = "nobody_certified"  # a needed unit has no certified officer available that day
    TOWNSHIP_SHORT = "township_short"  # fewer than two certified officers of the township's own units
    NO_TEAM = "no_team"  # officers exist, but no team could be formed that covers the stop
    OVER_CAPACITY = "over_capacity"  # more stops than the teams can visit
    LEFT_OUT = "left_out"  # taken off the plan by the reviewer


class Conflict(msgspec.Struct, frozen=True, kw_only=True):
    kind: ConflictKind
    township: str
    text_zh: str
    text_en: str
    stop: str | None = None
    unit: str | None = None


class SweepRules(msgspec.Struct, frozen=True, kw_only=True):
    """The planner's knobs; the defaults are the county's usual Tuesday."""

    stops_per_team: int = 8
    max_team_size: int = 4
    # A subject never visited counts as this many days since its last visit.
    never_visited_days: int = 365
    # Incidents rank above any due subject: a high-risk subject a year overdue (4 × 365) plus the days open.
    incident_priority: float = 4 * 365
    hot_cell_incidents: int = 5  # incidents in the window that make a cell hot
    hot_cell_days: int = 30
    hot_cell_priority: float = 100.0  # per incident in the window
    # Straight-line distance × this factor stands in for road distance (no road network here):
    # rural road circuity in published studies runs 1.2–1.4.
    detour_factor: float = 1.3
    # 双随机: the share of each risk level's subjects drawn (higher risk, more often).
    sample_share: dict[int, float] = msgspec.field(
        default_factory=lambda: {1: 0.05, 2: 0.10, 3: 0.20, 4: 0.40}
    )

    def __post_init__(self) -> None:
        if self.stops_per_team < 1 or self.max_team_size < 2 or self.detour_factor < 1:
            raise ValueError("stops_per_team ≥ 1, max_team_size ≥ 2 and detour_factor ≥ 1")
        if any(not 0 <= share <= 1 for share in self.sample_share.values()):
            raise ValueError("sample shares lie in [0, 1]")


class SweepPlan(msgspec.Struct, frozen=True, kw_only=True):
    date: dt.date
    scope: str  # a township code, or the county code for a county-wide plan
    mode: Mode
    seats: dict[str, tuple[float, float]]  # township → (lon, lat) of its seat: where routes start
    stops: tuple[Stop, ...]
    teams: tuple[Team, ...]
    conflicts: tuple[Conflict, ...]
    rules: SweepRules
    # The draw's seed and the digest of its inputs: the same seed on the same inputs repeats the draw.
    seed: int | None = None
    digest: str = ""

    def stop(self, stop_id: str) -> Stop:
        for stop in self.stops:
            if stop.id == stop_id:
                return stop
        raise SweepRefused(f"the plan has no stop {stop_id}", f"计划中没有检查点 {stop_id}", stop=stop_id)

    def team(self, team_id: str) -> Team:
        for team in self.teams:
            if team.id == team_id:
                return team
        raise SweepRefused(f"the plan has no team {team_id}", f"计划中没有检查组 {team_id}", team=team_id)

    def team_of(self, stop_id: str) -> Team | None:
        return next((t for t in self.teams if stop_id in t.stops), None)

    @property
    def length_m(self) -> float:
        return sum(t.length_m for t in self.teams)
