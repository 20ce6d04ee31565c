"""The KPI API's response bodies."""

from __future__ import annotations

import datetime as dt

import msgspec

from grid.evaluation.figures import Figures


class KpiRow(msgspec.Struct, kw_only=True):
    key: str
    name: str
    rank: int | None
    figures: Figures


class KpiTable(msgspec.Struct, kw_only=True):
    """A scope's figures over a period, and its rows at one level ranked (排名)."""

    scope: str
    first: dt.date
    last: dt.date
    figures: Figures
    by: str | None = None
    rows: list[KpiRow] = msgspec.field(default_factory=list)


class KpiOut(msgspec.Struct, kw_only=True):
    table: KpiTable
    # The period just before (环比) and the same period a year before (同比), when asked for, and
    # each figure's change against them (rates in percentage points, the rest in per cent).
    previous: Figures | None = None
    year_before: Figures | None = None
    previous_change: dict[str, float | None] | None = None
    year_change: dict[str, float | None] | None = None
