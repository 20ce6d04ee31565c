"""Places: county, township, village and cell, and the 14-digit cell code.

Codes follow GB/T 2260 (county, 6 digits), GB/T 10114 (township, +3) and the village
statistics code (+3); a cell adds a 2-digit sequence within its village (CJ/T 213 style).
"""

from __future__ import annotations

import enum

import msgspec

from grid.errors import InvalidCode

COUNTY_DIGITS = 6
TOWNSHIP_DIGITS = 9
VILLAGE_DIGITS = 12
CELL_DIGITS = 14


def county_of(code: str) -> str:
    """The county code a township, village or cell code starts with."""
    return code[:COUNTY_DIGITS]


def township_of(code: str) -> str:
    return code[:TOWNSHIP_DIGITS]


def village_of(code: str) -> str:
    return code[:VILLAGE_DIGITS]


class TownshipKind(enum.StrEnum):
    """The policy class of a township; it decides which powers it was granted."""

    SEAT = "seat"  # 驻地镇
    CENTRAL = "central"  # 中心镇
    KEY = "key"  # 重点镇
    FEATURED = "featured"  # 特色镇
    DEVELOPED = "developed"  # 经济发达镇
    ORDINARY = "ordinary"  # 一般乡镇
    SUBDISTRICT = "subdistrict"  # 街道


class County(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    seat_township: str | None = None


class Township(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    kind: TownshipKind
    population: int
    # The township's comprehensive enforcement office: its default territorial (属地) role.
    enforcement_office: str
    seat_lon: float
    seat_lat: float

    @property
    def county(self) -> str:
        return county_of(self.code)


class Village(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str

    @property
    def township(self) -> str:
        return township_of(self.code)


class Cell(msgspec.Struct, frozen=True, kw_only=True):
    """A geo-fenced grid cell; its polygon lives with the geofence index, not on the value."""

    code: str
    name: str
    # Visits per week a worker should make (patrol coverage KPI).
    patrol_target: int = 2

    @property
    def village(self) -> str:
        return village_of(self.code)

    @property
    def township(self) -> str:
        return township_of(self.code)

    @property
    def county(self) -> str:
        return county_of(self.code)


def check_code(code: object, digits: int, what: str = "code") -> str:
    """Return `code` if it is a string of exactly `digits` ASCII digits, else raise InvalidCode."""
    if not isinstance(code, str) or len(code) != digits or not code.isascii() or not code.isdigit():
        raise InvalidCode(
            f"{what} must be {digits} digits, got {code!r}",
            f"{what} 应为 {digits} 位数字，实际为 {code!r}",
            value=code,
        )
    return code


def check_cell_code(code: object) -> str:
    """A cell code: county 6 + township 3 + village 3 + cell 2, with a non-zero cell sequence."""
    checked = check_code(code, CELL_DIGITS, "cell code")
    if checked.endswith("00"):
        raise InvalidCode(
            f"cell code {checked} has sequence 00, which is reserved for the village itself",
            f"网格编码 {checked} 的顺序码为 00，该值保留给村(社区)本身",
            value=checked,
        )
    return checked


def cell_code(village_code: str, sequence: int) -> str:
    """Compose a cell code from its village code and 1-based sequence (01–99)."""
    check_code(village_code, VILLAGE_DIGITS, "village code")
    if not 1 <= sequence <= 99:
        raise InvalidCode(
            f"cell sequence must be 1..99, got {sequence}",
            f"网格顺序码应在 1..99 之间，实际为 {sequence}",
            value=sequence,
        )
    return f"{village_code}{sequence:02d}"
