"""The report as a workbook: a summary with 环比 and 同比, one sheet per level with its ranking, the
charts, and the definition of every figure."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from grid.evaluation.figures import DEFINITION, DEFINITIONS, Definition, Figures, Kind
from grid.evaluation.ranking import RANKED_BY, change
from grid.evaluation.scopes import ScopeKind
from server.kpis.report import KpiReport, LevelRows
from server.sheets import WRAP, set_widths

SHEET_NAMES = {
    ScopeKind.TOWNSHIP: "乡镇 Townships",
    ScopeKind.VILLAGE: "村社 Villages",
    ScopeKind.CELL: "网格 Cells",
    ScopeKind.UNIT: "单位 Units",
    ScopeKind.DEPARTMENT: "部门 Departments",
    ScopeKind.WORKER: "网格员 Workers",
}
SUMMARY, CHARTS, DEFINITIONS_SHEET = "概况 Summary", "图表 Charts", "指标定义 Definitions"
CHART_ROWS = 32  # rows each chart is given on its sheet
BOLD = Font(bold=True)


def heading(d: Definition) -> str:
    unit = {Kind.RATE: "（%）", Kind.HOURS: "", Kind.SCORE: "", Kind.COUNT: "", Kind.PEOPLE: ""}[d.kind]
    return f"{d.zh}{unit} {d.en}"


def _value(figures: Figures | None, key: str) -> float | int | None:
    return None if figures is None else getattr(figures, key)


def _bold_row(sheet: Worksheet, row: int) -> None:
    for cell in sheet[row]:
        cell.font = BOLD
        cell.alignment = WRAP


def _summary(sheet: Worksheet, report: KpiReport) -> None:
    period = report.period
    sheet.append([f"{report.scope_name} {period.title('zh')} 绩效评价 — KPI report, {period.title('en')}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"范围 Scope: {report.scope}", f"{period.first} — {period.last}"])
    sheet.append(
        [
            "指标 Figure",
            "本期 This period",
            f"上期 Previous ({period.previous().label})",
            "环比 Change",
            f"去年同期 Year before ({period.year_before().label})",
            "同比 Change",
        ]
    )
    _bold_row(sheet, 3)
    for d in DEFINITIONS:
        now, before, last_year = (
            _value(f, d.key) for f in (report.figures, report.previous, report.year_before)
        )
        sheet.append(
            [heading(d), now, before, change(d.key, now, before), last_year, change(d.key, now, last_year)]
        )
    sheet.append([])
    sheet.append(
        [
            "环比、同比：比率为百分点差，其余为增减百分比。Changes: rates in percentage points, others in per cent."
        ]
    )
    set_widths(sheet, [34, 14, 22, 12, 22, 12])
    sheet.freeze_panes = "B4"


def _level(sheet: Worksheet, level: LevelRows) -> None:
    main = RANKED_BY[level.level.value][0]
    main_name = DEFINITION[main].zh
    sheet.append(
        [
            "排名 Rank",
            "编码 Code",
            "名称 Name",
            *(heading(d) for d in DEFINITIONS),
            f"上期{main_name} Previous",
            "环比 Change",
            f"去年同期{main_name} Year before",
            "同比 Change",
        ]
    )
    _bold_row(sheet, 1)
    for row in level.rows:
        now = getattr(row.figures, main)
        before = _value(level.previous.get(row.key), main)
        last_year = _value(level.year_before.get(row.key), main)
        sheet.append(
            [
                row.rank,
                row.key,
                row.name,
                *(getattr(row.figures, d.key) for d in DEFINITIONS),
                before,
                change(main, now, before),
                last_year,
                change(main, now, last_year),
            ]
        )
    set_widths(sheet, [8, 18, 22, *([12] * (len(DEFINITIONS) + 4))])
    sheet.row_dimensions[1].height = 48
    sheet.freeze_panes = "D2"
    sheet.auto_filter.ref = sheet.dimensions


def _charts(sheet: Worksheet, charts: dict[str, bytes]) -> None:
    for n, png in enumerate(charts.values()):
        image = Image(io.BytesIO(png))
        sheet.add_image(image, f"A{1 + n * CHART_ROWS}")


def _definitions(sheet: Worksheet) -> None:
    sheet.append(["键 Key", "指标", "Figure", "单位 Unit", "口径", "Definition", "越高越好 Higher is better"])
    _bold_row(sheet, 1)
    for d in DEFINITIONS:
        sheet.append(
            [
                d.key,
                d.zh,
                d.en,
                d.kind.value,
                d.formula_zh,
                d.formula_en,
                "是 yes" if d.higher_is_better else "否 no",
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP
    set_widths(sheet, [24, 18, 26, 10, 44, 56, 14])


def report_workbook(report: KpiReport, charts: dict[str, bytes]) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = SUMMARY
    _summary(summary, report)
    for level in report.levels:
        _level(book.create_sheet(SHEET_NAMES[level.level]), level)
    _charts(book.create_sheet(CHARTS), charts)
    _definitions(book.create_sheet(DEFINITIONS_SHEET))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
