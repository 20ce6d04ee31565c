"""Staffing rules: enforcement staff a township needs, and the two-certified-officers rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from grid.organisation import Officer

MIN_CERTIFIED_OFFICERS = 2  # 行政处罚法: enforcement by at least two officers holding certificates
BASE_STAFF = 2
POPULATION_THRESHOLD = 20_000
RESIDENTS_PER_EXTRA_OFFICER = 10_000


def enforcement_staff_needed(population: int) -> int:
    """2, plus one per full 10,000 residents above 20,000."""
    if population < 0:
        raise ValueError(f"population cannot be negative: {population}")
    above = max(0, population - POPULATION_THRESHOLD)
    return BASE_STAFF + above // RESIDENTS_PER_EXTRA_OFFICER


class StaffingGap(msgspec.Struct, frozen=True, kw_only=True):
    needed: int
    certified: int

    @property
    def gap(self) -> int:
        return max(0, self.needed - self.certified)


def staffing_gap(population: int, officers: Iterable[Officer], on: dt.date) -> StaffingGap:
    certified = sum(1 for o in officers if o.certified_on(on))
    return StaffingGap(needed=enforcement_staff_needed(population), certified=certified)


class TeamCheck(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    certified: tuple[str, ...]
    uncertified: tuple[str, ...]
    reason_en: str | None = None
    reason_zh: str | None = None


def check_two_certified(officers: Iterable[Officer], on: dt.date) -> TeamCheck:
    """Any enforcement action or sweep team needs at least two officers certified on `on`."""
    team = list(officers)
    certified = tuple(o.id for o in team if o.certified_on(on))
    uncertified = tuple(o.id for o in team if not o.certified_on(on))
    if len(certified) >= MIN_CERTIFIED_OFFICERS:
        return TeamCheck(ok=True, certified=certified, uncertified=uncertified)
    return TeamCheck(
        ok=False,
        certified=certified,
        uncertified=uncertified,
        reason_en=f"{len(certified)} officer(s) with a certificate valid on {on}; at least {MIN_CERTIFIED_OFFICERS} are required",
        reason_zh=f"{on} 持有效执法证的人员仅 {len(certified)} 名，至少需要 {MIN_CERTIFIED_OFFICERS} 名",
    )
