"""Categories and matters: the catalog is data; this module only gives it shape and checks it."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import msgspec

from grid.errors import CatalogError, UnknownCategory


class TimeUnit(enum.StrEnum):
    URGENT_HOUR = "urgent_hour"  # 紧急工作时: the clock always runs
    WORK_HOUR = "work_hour"  # 工作时: working periods of working days only
    WORK_DAY = "work_day"  # 工作日: ends at close of the Nth working day after the start
    NATURAL_DAY = "natural_day"  # 自然日: N × 24 h


class TimeLimit(msgspec.Struct, frozen=True, array_like=True):
    value: float
    unit: TimeUnit

    def __post_init__(self) -> None:
        if not self.value > 0:
            raise ValueError(f"time limit must be positive, got {self.value}")
        whole_days = self.unit in (TimeUnit.WORK_DAY, TimeUnit.NATURAL_DAY)
        if whole_days and self.value != int(self.value):
            raise ValueError(f"{self.unit} limits are whole days, got {self.value}")


class Stage(enum.StrEnum):
    """A timed stage of the closed loop; each has its own limit per category."""

    ACCEPT = "accept"
    DISPATCH = "dispatch"
    SIGN = "sign"
    HANDLE = "handle"
    VERIFY = "verify"


class StageLimits(msgspec.Struct, frozen=True, kw_only=True):
    accept: TimeLimit
    dispatch: TimeLimit
    sign: TimeLimit
    handle: TimeLimit
    verify: TimeLimit

    def for_stage(self, stage: Stage) -> TimeLimit:
        limit: TimeLimit = getattr(self, stage.value)
        return limit


class MatterKind(enum.StrEnum):
    PENALTY = "penalty"  # 行政处罚
    INSPECTION = "inspection"  # 行政检查
    COERCION = "coercion"  # 行政强制
    LICENSE = "license"  # 行政许可
    OTHER = "other"  # 其他行政权力


class Matter(msgspec.Struct, frozen=True, kw_only=True):
    """A legal power (权力事项) held by a county department unless a township holds it."""

    code: str
    name_zh: str
    name_en: str
    kind: MatterKind
    department: str
    legal_basis: str
    # 1 (minor) .. 5 (grave): picks the lead matter when an incident touches several.
    severity: int

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


class MajorCategory(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str


class Category(msgspec.Struct, frozen=True, kw_only=True):
    """A minor event category (小类), code = major 2 digits + minor 2 digits."""

    code: str
    name_zh: str
    name_en: str
    matters: tuple[str, ...]
    accept_conditions: tuple[str, ...]  # 立案条件
    close_conditions: tuple[str, ...]  # 结案条件
    limits: StageLimits
    urgent: bool = False
    # Alerts below this confidence go to the review queue, not to enforcement.
    alert_confidence: float = 0.8
    # True where the next step is usually an on-site enforcement visit (sweep candidates).
    on_site: bool = False

    @property
    def major(self) -> str:
        return self.code[:2]

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


class Catalog:
    """The county's categories and matters, checked for consistency and indexed by code."""

    def __init__(
        self,
        *,
        majors: Iterable[MajorCategory],
        categories: Iterable[Category],
        matters: Iterable[Matter],
        urgent_limits: StageLimits,
        trades: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.majors = tuple(majors)
        self.categories = tuple(categories)
        self.matters = tuple(matters)
        # Limits for incidents flagged urgent whose category is not urgent by itself.
        self.urgent_limits = urgent_limits
        # A subject's trade → the matters an inspection of it covers (the sweep's departments).
        self.trades = {trade: tuple(codes) for trade, codes in (trades or {}).items()}
        check_catalog(self)
        self._categories = {c.code: c for c in self.categories}
        self._matters = {m.code: m for m in self.matters}

    def category(self, code: str) -> Category:
        found = self._categories.get(code)
        if found is None:
            raise UnknownCategory(f"unknown category {code!r}", f"未知的事件类别 {code!r}", category=code)
        return found

    def matter(self, code: str) -> Matter:
        return self._matters[code]

    def trade_matters(self, trade: str) -> tuple[str, ...]:
        return self.trades.get(trade, ())

    def limits_for(self, category: Category, urgent: bool) -> StageLimits:
        if urgent and not category.urgent:
            return self.urgent_limits
        return category.limits


def _duplicates(codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for code in codes:
        (repeated if code in seen else seen).add(code)
    return sorted(repeated)


def check_catalog(catalog: Catalog) -> None:
    """Refuse a catalog whose codes clash or whose categories point at nothing."""
    problems: list[str] = []
    for what, codes in (
        ("major category", [m.code for m in catalog.majors]),
        ("category", [c.code for c in catalog.categories]),
        ("matter", [m.code for m in catalog.matters]),
    ):
        problems += [f"duplicate {what} code {c}" for c in _duplicates(codes)]
    majors = {m.code for m in catalog.majors}
    matters = {m.code for m in catalog.matters}
    for c in catalog.categories:
        if len(c.code) != 4 or not c.code.isdigit():
            problems.append(f"category code {c.code!r} is not 4 digits")
        elif c.major not in majors:
            problems.append(f"category {c.code} has no major category {c.major}")
        if not c.matters:
            problems.append(f"category {c.code} maps to no matter")
        problems += [f"category {c.code} names unknown matter {m}" for m in c.matters if m not in matters]
        if not 0.0 <= c.alert_confidence <= 1.0:
            problems.append(f"category {c.code} alert_confidence {c.alert_confidence} not in [0, 1]")
    problems += [
        f"trade {trade} names unknown matter {m}"
        for trade, codes in catalog.trades.items()
        for m in codes
        if m not in matters
    ]
    problems += [
        f"matter {m.code} severity {m.severity} not in 1..5"
        for m in catalog.matters
        if not 1 <= m.severity <= 5
    ]
    if problems:
        raise CatalogError(
            "invalid catalog: " + "; ".join(problems),
            "事件目录无效：" + "；".join(problems),
            problems=problems,
        )
