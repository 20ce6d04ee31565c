"""Who acts: units (township offices, stationed units, county departments), officers, workers."""

from __future__ import annotations

import datetime as dt
import enum

import msgspec


class UnitKind(enum.StrEnum):
    OFFICE = "office"  # 乡镇内设机构
    STATIONED = "stationed"  # 派驻机构
    DEPARTMENT = "department"  # 县直部门 (and its enforcement teams)


class Unit(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name_zh: str
    name_en: str
    kind: UnitKind
    # Offices and stationed units sit in one township; departments in none.
    township: str | None = None
    # A stationed unit's or an enforcement team's parent department.
    parent: str | None = None
    # True for the township enforcement office and for a department's enforcement team.
    enforcement: bool = False

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


class Certificate(msgspec.Struct, frozen=True, kw_only=True):
    """An enforcement certificate (执法证)."""

    number: str
    issuer: str
    valid_from: dt.date
    expires: dt.date

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.expires


class Officer(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    unit: str
    certificates: tuple[Certificate, ...] = ()

    def certified_on(self, day: dt.date) -> bool:
        return any(c.valid_on(day) for c in self.certificates)


class Worker(msgspec.Struct, frozen=True, kw_only=True):
    """A grid worker (网格员); `cells` makes them the default verifier there."""

    id: str
    name: str
    township: str
    cells: tuple[str, ...]
    phone: str | None = None
    is_cell_head: bool = False
