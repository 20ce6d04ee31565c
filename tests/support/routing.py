"""A hand-built county for routing tests: one township holding matters in every mode."""

from __future__ import annotations

import datetime as dt

from grid.catalog import (
    Catalog,
    Category,
    MajorCategory,
    Matter,
    MatterKind,
    StageLimits,
    TimeLimit,
    TimeUnit,
)
from grid.organisation import Unit, UnitKind
from grid.places import Township, TownshipKind
from grid.powers import Agreement, DutyRole, HoldingMode, PowerListEntry, PowerLists, TerritorialDuty
from grid.routing import Router

T = "330100101"  # the township
COUNTY = "330100"
OFFICE = f"{T}.office.enforcement"
COMMAND = f"{T}.office.command"
STATION = f"{T}.stationed.zrzy"
ZRZY = f"{COUNTY}.dept.zrzy"
SL = f"{COUNTY}.dept.sl"
SCJG = f"{COUNTY}.dept.scjg"
SCJG_TEAM = f"{COUNTY}.dept.scjg.team"

H1 = TimeLimit(1, TimeUnit.WORK_HOUR)
LIMITS = StageLimits(accept=H1, dispatch=H1, sign=H1, handle=TimeLimit(2, TimeUnit.WORK_DAY), verify=H1)


def _matter(code: str, department: str, severity: int) -> Matter:
    return Matter(
        code=code,
        name_zh=f"事项{code}",
        name_en=f"matter {code}",
        kind=MatterKind.PENALTY,
        department=department,
        legal_basis="test",
        severity=severity,
    )


MATTERS = [
    _matter("STAT", "dept.zrzy", 3),  # statutory
    _matter("GRNT", "dept.zrzy", 2),  # granted
    _matter("ENTV", "dept.sl", 3),  # entrusted, valid agreement
    _matter("ENTX", "dept.sl", 3),  # entrusted, expired agreement
    _matter("ENTF", "dept.sl", 3),  # entrusted, not yet valid
    _matter("STTD", "dept.zrzy", 3),  # stationed, territorial support listed
    _matter("STNO", "dept.zrzy", 3),  # stationed, no territorial list
    _matter("NLTD", "dept.sl", 4),  # not listed, township has a territorial role
    _matter("NLNO", "dept.sl", 4),  # not listed, no territorial role
    _matter("NLTM", "dept.scjg", 4),  # not listed, department has an enforcement team
    _matter("HIGH", "dept.sl", 5),
    _matter("TIEA", "dept.zrzy", 2),
    _matter("TIEB", "dept.sl", 2),
]


def _category(code: str, *matters: str) -> Category:
    return Category(
        code=code,
        name_zh=f"类别{code}",
        name_en=f"category {code}",
        matters=matters,
        accept_conditions=("x",),
        close_conditions=("y",),
        limits=LIMITS,
    )


SINGLE = {m.code: f"01{i + 1:02d}" for i, m in enumerate(MATTERS)}
MULTI_SEVERITY = "0201"  # GRNT (2) + HIGH (5) + STAT (3): HIGH leads
MULTI_TIE = "0202"  # TIEB + TIEA, same severity: TIEA (lower code) leads
CATALOG = Catalog(
    majors=[
        MajorCategory(code="01", name_zh="甲", name_en="A"),
        MajorCategory(code="02", name_zh="乙", name_en="B"),
    ],
    categories=[_category(code, m) for m, code in SINGLE.items()]
    + [_category(MULTI_SEVERITY, "GRNT", "HIGH", "STAT"), _category(MULTI_TIE, "TIEB", "TIEA")],
    matters=MATTERS,
    urgent_limits=LIMITS,
)

UNITS = {
    u.id: u
    for u in [
        Unit(
            id=OFFICE,
            name_zh="甲镇执法办",
            name_en="Jia Enforcement Office",
            kind=UnitKind.OFFICE,
            township=T,
            enforcement=True,
        ),
        Unit(id=COMMAND, name_zh="甲镇指挥室", name_en="Jia Command Room", kind=UnitKind.OFFICE, township=T),
        Unit(
            id=STATION,
            name_zh="甲镇自然资源所",
            name_en="Jia Land Station",
            kind=UnitKind.STATIONED,
            township=T,
            parent=ZRZY,
        ),
        Unit(id=ZRZY, name_zh="县自然资源局", name_en="Land Bureau", kind=UnitKind.DEPARTMENT),
        Unit(id=SL, name_zh="县水利局", name_en="Water Bureau", kind=UnitKind.DEPARTMENT),
        Unit(id=SCJG, name_zh="县市场监管局", name_en="Market Bureau", kind=UnitKind.DEPARTMENT),
        Unit(
            id=SCJG_TEAM,
            name_zh="市场监管执法队",
            name_en="Market Team",
            kind=UnitKind.DEPARTMENT,
            parent=SCJG,
            enforcement=True,
        ),
    ]
}


def _entrusted(entry: str, matter: str, number: str, start: str, end: str) -> PowerListEntry:
    agreement = Agreement(
        number=number,
        department=SL,
        valid_from=dt.date.fromisoformat(start),
        valid_to=dt.date.fromisoformat(end),
    )
    return PowerListEntry(
        id=entry, township=T, matter=matter, mode=HoldingMode.ENTRUSTED, unit=OFFICE, agreement=agreement
    )


ENTRIES = [
    PowerListEntry(id="P1", township=T, matter="STAT", mode=HoldingMode.STATUTORY, unit=OFFICE),
    PowerListEntry(id="P2", township=T, matter="GRNT", mode=HoldingMode.GRANTED, unit=OFFICE),
    _entrusted("P3", "ENTV", "W-1", "2026-01-01", "2026-12-31"),
    _entrusted("P4", "ENTX", "W-2", "2024-01-01", "2025-12-31"),
    _entrusted("P5", "ENTF", "W-3", "2027-01-01", "2027-12-31"),
    PowerListEntry(id="P6", township=T, matter="STTD", mode=HoldingMode.STATIONED, unit=STATION),
    PowerListEntry(id="P7", township=T, matter="STNO", mode=HoldingMode.STATIONED, unit=STATION),
    PowerListEntry(id="P8", township=T, matter="HIGH", mode=HoldingMode.GRANTED, unit=OFFICE),
]
DUTIES = [
    TerritorialDuty(township=T, matter="STAT", unit=STATION, role=DutyRole.SUPPORT, order=2),
    TerritorialDuty(township=T, matter="STAT", unit=COMMAND, role=DutyRole.SUPPORT, order=1),
    TerritorialDuty(township=T, matter="ENTX", unit=COMMAND, role=DutyRole.SUPPORT),
    TerritorialDuty(township=T, matter="STTD", unit=COMMAND, role=DutyRole.SUPPORT),
    TerritorialDuty(township=T, matter="NLTD", unit=COMMAND, role=DutyRole.SUPPORT),
    TerritorialDuty(township=T, matter="NLTD", unit=OFFICE, role=DutyRole.LEAD, order=9),
]
TOWNSHIP = Township(
    code=T,
    name="甲镇",
    kind=TownshipKind.CENTRAL,
    population=45_000,
    enforcement_office=OFFICE,
    seat_lon=120.0,
    seat_lat=30.0,
)


def make_router() -> Router:
    return Router(CATALOG, PowerLists(ENTRIES, DUTIES), UNITS, {T: TOWNSHIP})
