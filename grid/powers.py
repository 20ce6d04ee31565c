"""Power lists (权力清单), entrustment agreements (委托书) and territorial duties (属地责任清单)."""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable

import msgspec

from grid.errors import CatalogError


class HoldingMode(enum.StrEnum):
    """How a township holds a matter."""

    STATUTORY = "statutory"  # 法定
    GRANTED = "granted"  # 赋权
    ENTRUSTED = "entrusted"  # 委托
    STATIONED = "stationed"  # 派驻


class Agreement(msgspec.Struct, frozen=True, kw_only=True):
    """An entrustment agreement: the township acts in the department's name while it is valid."""

    number: str
    department: str
    valid_from: dt.date
    valid_to: dt.date

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_to


class PowerListEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    township: str
    matter: str
    mode: HoldingMode
    # The township office the list names, or for `stationed` the stationed unit.
    unit: str
    agreement: Agreement | None = None

    def __post_init__(self) -> None:
        if (self.mode is HoldingMode.ENTRUSTED) != (self.agreement is not None):
            raise ValueError(f"power list entry {self.id}: an agreement goes with, and only with, entrusted")


class DutyRole(enum.StrEnum):
    LEAD = "lead"  # 主体责任
    SUPPORT = "support"  # 配合责任


class TerritorialDuty(msgspec.Struct, frozen=True, kw_only=True):
    township: str
    matter: str
    unit: str
    role: DutyRole
    order: int = 0


class PowerLists:
    """A township's power list and territorial duty list, looked up by (township, matter)."""

    def __init__(self, entries: Iterable[PowerListEntry], duties: Iterable[TerritorialDuty]) -> None:
        self.entries: dict[tuple[str, str], PowerListEntry] = {}
        clashes = []
        for entry in entries:
            key = (entry.township, entry.matter)
            if key in self.entries:
                clashes.append(f"{entry.township}/{entry.matter}")
            self.entries[key] = entry
        if clashes:
            raise CatalogError(
                "a matter is listed twice for one township: " + ", ".join(clashes),
                "同一乡镇的权力清单重复列出事项：" + "，".join(clashes),
                clashes=clashes,
            )
        grouped: dict[tuple[str, str], list[TerritorialDuty]] = defaultdict(list)
        for duty in duties:
            grouped[(duty.township, duty.matter)].append(duty)
        # Lead roles first, then the list's own order: the support units' order is the list's.
        self.duties = {
            key: tuple(sorted(rows, key=lambda d: (d.role is not DutyRole.LEAD, d.order, d.unit)))
            for key, rows in grouped.items()
        }

    def entry(self, township: str, matter: str) -> PowerListEntry | None:
        return self.entries.get((township, matter))

    def territorial(self, township: str, matter: str) -> tuple[TerritorialDuty, ...]:
        return self.duties.get((township, matter), ())
