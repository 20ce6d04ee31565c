"""Joint teams: at least two officers certified on the day, drawn from the units the stops need."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from grid.organisation import Officer, Unit
from grid.places import Township
from grid.staffing import MIN_CERTIFIED_OFFICERS
from grid.sweep.plan import Conflict, ConflictKind, Stop, SweepRules, Team


class OfficerPool:
    """Officers certified on the day and not absent, per unit, in the order they are to be drawn."""

    def __init__(self, officers: Iterable[Officer], on: dt.date, absent: Iterable[str] = ()) -> None:
        away = set(absent)
        self.by_unit: dict[str, list[str]] = defaultdict(list)
        self.unit_of: dict[str, str] = {}
        for officer in officers:
            if officer.id not in away and officer.certified_on(on):
                self.by_unit[officer.unit].append(officer.id)
                self.unit_of[officer.id] = officer.unit
        self.initial = {unit: len(ids) for unit, ids in self.by_unit.items()}

    def left(self, unit: str) -> int:
        return len(self.by_unit.get(unit, ()))

    def take(self, unit: str) -> str:
        return self.by_unit[unit].pop(0)

    def give_back(self, officers: Iterable[str]) -> None:
        for officer in officers:
            self.by_unit[self.unit_of[officer]].insert(0, officer)


def unit_names(ids: Iterable[str], units: Mapping[str, Unit], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(units[u].name(lang) if u in units else u for u in ids)


def _gain(team_units: set[str], unit: str, waiting: Sequence[Stop], cap: int) -> int:
    """How many more waiting stops (up to a day's capacity) the team could visit with `unit` in it."""
    grown = team_units | {unit}
    return min(cap, sum(s.covered_by(grown) for s in waiting)) - min(
        cap, sum(s.covered_by(team_units) for s in waiting)
    )


class TeamBuilder:
    """Forms each township's teams, most urgent stops first; county departments' officers are shared
    by the townships, which draw them in order of need."""

    def __init__(self, pool: OfficerPool, units: Mapping[str, Unit], rules: SweepRules) -> None:
        self.pool = pool
        self.units = units
        self.rules = rules

    def unstaffed(self, stops: Iterable[Stop]) -> tuple[list[Stop], list[Conflict]]:
        """Stops needing a unit with nobody certified and present that day are stated, not planned."""
        kept, conflicts = [], []
        for stop in stops:
            missing = [u for u in stop.units if not self.pool.initial.get(u)]
            if not missing:
                kept.append(stop)
                continue
            for unit in missing:
                conflicts.append(
                    Conflict(
                        kind=ConflictKind.NOBODY_CERTIFIED,
                        township=stop.township,
                        stop=stop.id,
                        unit=unit,
                        text_zh=f"{unit_names([unit], self.units, 'zh')}当天无持有效执法证的在岗人员，无法检查 {stop.name}",
                        text_en=f"{unit_names([unit], self.units, 'en')} has no officer certified and present that day; {stop.name} cannot be visited",
                    )
                )
        return kept, conflicts

    def township_short(self, township: Township) -> Conflict | None:
        own = [u.id for u in self.units.values() if u.township == township.code]
        certified = sum(self.pool.initial.get(u, 0) for u in own)
        if certified >= MIN_CERTIFIED_OFFICERS:
            return None
        return Conflict(
            kind=ConflictKind.TOWNSHIP_SHORT,
            township=township.code,
            text_zh=f"{township.name}本乡镇持有效执法证的在岗人员仅 {certified} 名，不足 {MIN_CERTIFIED_OFFICERS} 名，需县级部门人员组队",
            text_en=f"{township.name} has {certified} certified officer(s) present of its own, fewer than {MIN_CERTIFIED_OFFICERS}; its teams need county officers",
        )

    def form(
        self, townships: Sequence[Township], stops: Mapping[str, Sequence[Stop]]
    ) -> dict[str, list[Team]]:
        """Teams per township, formed in rounds: each township in turn (most urgent first) forms one
        team, so that the county departments' few officers are spread over the townships rather
        than spent on the first."""
        cap = self.rules.stops_per_team
        waiting = {t.code: list(stops.get(t.code, ())) for t in townships}
        wanted = {code: math.ceil(len(w) / cap) for code, w in waiting.items()}
        teams: dict[str, list[Team]] = {t.code: [] for t in townships}
        active = [t for t in townships if wanted[t.code]]
        while active:
            still = []
            for township in active:
                mine, left = teams[township.code], waiting[township.code]
                team = self._team_around(township, left, len(mine) + 1)
                if team is None:
                    continue
                mine.append(team)
                covered = [s for s in left if s.covered_by(team.units)][:cap]
                waiting[township.code] = [s for s in left if s not in covered]
                if waiting[township.code] and len(mine) < wanted[township.code]:
                    still.append(township)
            active = still
        return teams

    def _team_around(self, township: Township, waiting: list[Stop], number: int) -> Team | None:
        seed = next((s for s in waiting if all(self.pool.left(u) for u in s.units)), None)
        if seed is None:
            return None
        members = [self.pool.take(u) for u in seed.units]
        # The second officer comes from the township itself where it can (属地 leads the joint team),
        # else from a unit the waiting stops need.
        fallbacks = [township.enforcement_office]
        fallbacks += [u.id for u in self.units.values() if u.township == township.code]
        fallbacks += [u for s in waiting for u in s.units]
        while len(members) < MIN_CERTIFIED_OFFICERS:
            spare = next((u for u in fallbacks if self.pool.left(u)), None)
            if spare is None:
                self.pool.give_back(members)
                return None
            members.append(self.pool.take(spare))
        team_units = {self.pool.unit_of[m] for m in members}
        candidates = sorted({u for s in waiting for u in s.units} - team_units)
        while len(members) < self.rules.max_team_size:
            best, best_gain = "", 0
            for unit in candidates:
                gain = (
                    _gain(team_units, unit, waiting, self.rules.stops_per_team) if self.pool.left(unit) else 0
                )
                if gain > best_gain:
                    best, best_gain = unit, gain
            if not best_gain:
                break
            members.append(self.pool.take(best))
            team_units.add(best)
            candidates.remove(best)
        return Team(
            id=f"{township.code}-{number}",
            township=township.code,
            officers=tuple(members),
            units=tuple(sorted(team_units)),
        )


def uncovered(stop: Stop, teams: Sequence[Team], units: Mapping[str, Unit]) -> Conflict:
    """A stop no formed team covers: name the units missing from the team that comes closest."""
    missing = min(
        ([u for u in stop.units if u not in t.units] for t in teams),
        key=len,
        default=list(stop.units),
    )
    return Conflict(
        kind=ConflictKind.NO_TEAM,
        township=stop.township,
        stop=stop.id,
        unit=missing[0] if missing else None,
        text_zh=f"没有检查组包含{unit_names(missing, units, 'zh')}的人员，{stop.name} 无组可查",
        text_en=f"no team includes an officer of {unit_names(missing, units, 'en')}; nobody can visit {stop.name}",
    )
