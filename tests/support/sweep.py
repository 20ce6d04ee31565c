"""A hand-built township for sweep tests: the routing fixture's lists, trades and a few officers."""

from __future__ import annotations

import datetime as dt

import msgspec

from grid.catalog import Catalog
from grid.organisation import Certificate, Officer
from grid.powers import PowerLists
from grid.routing import Router
from grid.subjects import Subject, SubjectKind
from grid.sweep.candidates import OpenIncident
from grid.sweep.planner import SweepInputs
from tests.support.routing import CATALOG, DUTIES, ENTRIES, OFFICE, SCJG_TEAM, SL, STATION, TOWNSHIP, UNITS, T

DAY = dt.date(2026, 6, 23)  # a Tuesday
# Each trade's matters and who leads them in township T (see tests/support/routing.py).
TRADES = {
    "shop": ["STAT"],  # statutory: the enforcement office
    "land": ["STTD"],  # stationed: the land station
    "water": ["NLNO"],  # not listed: the water bureau
    "market": ["NLTM"],  # not listed: the market regulation team
    "mixed": ["STAT", "NLNO"],  # the office and the water bureau
}
SWEEP_CATALOG = Catalog(
    majors=CATALOG.majors,
    categories=CATALOG.categories,
    matters=CATALOG.matters,
    urgent_limits=CATALOG.urgent_limits,
    trades=TRADES,
)


def certified(
    until: dt.date = dt.date(2030, 1, 1), since: dt.date = dt.date(2020, 1, 1)
) -> tuple[Certificate, ...]:
    return (Certificate(number="X", issuer="省政府", valid_from=since, expires=until),)


OFFICERS = (
    Officer(id="o1", name="办一", unit=OFFICE, certificates=certified()),
    Officer(id="o2", name="办二", unit=OFFICE, certificates=certified()),
    Officer(id="o3", name="办三", unit=OFFICE, certificates=certified()),
    Officer(id="o4", name="办四", unit=OFFICE, certificates=certified()),
    Officer(id="s1", name="所一", unit=STATION, certificates=certified()),
    Officer(id="s2", name="所二", unit=STATION, certificates=certified(until=DAY - dt.timedelta(days=1))),
    Officer(id="w1", name="水一", unit=SL, certificates=certified()),
    Officer(id="w2", name="水二", unit=SL, certificates=certified()),
    Officer(id="m1", name="市一", unit=SCJG_TEAM, certificates=certified()),
    Officer(id="n1", name="新人", unit=OFFICE),  # not yet certified
)


def subject(
    n: int,
    trade: str = "shop",
    risk: int = 3,
    last: dt.date | None = None,
    quiet: int = 60,
    dx: float = 0.0,
    dy: float = 0.0,
) -> Subject:
    return Subject(
        id=f"s{n:03d}",
        name=f"对象{n}",
        kind=SubjectKind.SHOP,
        trade=trade,
        risk=risk,
        lon=120.0 + dx if dx else 120.0 + 0.004 * (n % 7),
        lat=30.0 + dy if dy else 30.0 + 0.003 * (n // 7),
        cell=f"{T}20101",
        address=f"甲镇{n}号",
        last_inspected=last,
        quiet_days=quiet,
    )


def incident(n: int, subject_id: str | None = None, units: tuple[str, ...] = (OFFICE,)) -> OpenIncident:
    return OpenIncident(
        id=f"i{n}",
        category="0101",
        township=T,
        cell=f"{T}20101",
        lon=120.01,
        lat=30.01,
        units=units,
        reported_on=DAY - dt.timedelta(days=5),
        subject=subject_id,
    )


def router() -> Router:
    return Router(SWEEP_CATALOG, PowerLists(ENTRIES, DUTIES), UNITS, {T: TOWNSHIP})


def inputs(subjects: list[Subject], **changes: object) -> SweepInputs:
    base = SweepInputs(
        date=DAY,
        scope=T,
        townships={T: TOWNSHIP},
        units=UNITS,
        subjects=tuple(subjects),
        officers=OFFICERS,
    )
    return msgspec.structs.replace(base, **changes)
