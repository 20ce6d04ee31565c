"""The monthly dispatch, quarterly analysis and yearly summary (月调度、季分析、年总结): every figure
of a scope and of its levels for a period, with the period before (环比) and a year before (同比),
gathered once for the workbook and the charts."""

from __future__ import annotations

import msgspec

from grid.evaluation.figures import Figures
from grid.evaluation.periods import Period
from grid.evaluation.scopes import Scope, ScopeKind
from server.kpis.schemas import KpiRow
from server.kpis.service import KpiService

# The sheets of a report: the places one level down, the departments, the grid workers.
REPORT_LEVELS = {
    ScopeKind.COUNTY: (ScopeKind.TOWNSHIP, ScopeKind.DEPARTMENT, ScopeKind.WORKER),
    ScopeKind.TOWNSHIP: (ScopeKind.VILLAGE, ScopeKind.DEPARTMENT, ScopeKind.WORKER),
    ScopeKind.VILLAGE: (ScopeKind.CELL, ScopeKind.WORKER),
}
TREND_MONTHS = 6  # a month's report shows the half year up to it
TOP_CATEGORIES = 10


class LevelRows(msgspec.Struct, kw_only=True):
    level: ScopeKind
    rows: list[KpiRow]
    previous: dict[str, Figures]
    year_before: dict[str, Figures]


class TrendPoint(msgspec.Struct, kw_only=True):
    month: Period
    figures: dict[str, Figures]  # by the first level's keys


class KpiReport(msgspec.Struct, kw_only=True):
    scope: Scope
    scope_name: str
    period: Period
    figures: Figures
    previous: Figures
    year_before: Figures
    levels: list[LevelRows]
    trend: list[TrendPoint]
    names: dict[str, str]  # of the first level's rows, for the trend
    categories: list[tuple[str, str, str, int]]  # code, zh, en, reported
    cells: dict[str, tuple[str, int]]  # code → (GeoJSON geometry, reported)


def build_report(store: KpiService, scope: Scope, period: Period) -> KpiReport:
    levels = [_level(store, scope, period, level) for level in REPORT_LEVELS.get(scope.kind, ())]
    first = levels[0].level if levels else None
    months = period.months()
    if len(months) < 3:
        months = months[:1]
        while len(months) < TREND_MONTHS:
            months.insert(0, months[0].previous())
    trend = [
        TrendPoint(
            month=m,
            figures={r.key: r.figures for r in store.rows(scope, m, first)}
            if first
            else {scope.id: store.scope_figures(scope, m)},
        )
        for m in months
    ]
    names = {r.key: r.name for r in levels[0].rows} if levels else {scope.id: scope.id}
    category_names = store.category_names()
    categories = [
        (code, *category_names.get(code, (code, code)), n)
        for code, n in store.reported_by_category(scope, period)[:TOP_CATEGORIES]
    ]
    shapes = store.cell_shapes(scope)
    per_cell = (
        store.rows(scope, period, ScopeKind.CELL)
        if scope.is_area and scope.kind is not ScopeKind.CELL
        else []
    )
    reported = {r.key: r.figures.reported for r in per_cell}
    return KpiReport(
        scope=scope,
        scope_name=store.names(scope.kind, [scope.id]).get(scope.id, scope.id),
        period=period,
        figures=store.scope_figures(scope, period),
        previous=store.scope_figures(scope, period.previous()),
        year_before=store.scope_figures(scope, period.year_before()),
        levels=levels,
        trend=trend,
        names=names,
        categories=categories,
        cells={code: (shape, reported.get(code, 0)) for code, shape in shapes.items()},
    )


def _level(store: KpiService, scope: Scope, period: Period, level: ScopeKind) -> LevelRows:
    def figures_of(p: Period) -> dict[str, Figures]:
        return {r.key: r.figures for r in store.rows(scope, p, level)}

    return LevelRows(
        level=level,
        rows=store.rows(scope, period, level),
        previous=figures_of(period.previous()),
        year_before=figures_of(period.year_before()),
    )
