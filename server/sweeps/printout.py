"""A sweep plan on paper and on the map: a printable workbook (one sheet per team) and GeoJSON."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from grid.sweep.plan import Stop, SweepPlan, Team
from server.sheets import WRAP, set_widths

HEADINGS = (
    ("序号 No.", 6),
    ("检查对象 Subject", 24),
    ("地址 Address", 24),
    ("部门 Departments", 28),
    ("原因 Reason", 36),
    ("未发现问题 Nothing found", 12),
    ("责令整改 Rectify", 12),
    ("立案 Case", 10),
    ("备注 Notes", 24),
)
MODE_WORDS = {"priority": "问题导向 priority", "double_random": "双随机 double random"}


def _names(ids: tuple[str, ...], names: Mapping[str, str]) -> str:
    return "、".join(names.get(i, i) for i in ids)


def _team_sheet(sheet: Worksheet, plan: SweepPlan, team: Team, names: Mapping[str, str]) -> None:
    sheet.append([f"{plan.date} 综合查一次 Joint sweep — {team.id}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([f"人员 Officers: {_names(team.officers, names)}"])
    sheet.append([f"部门 Departments: {_names(team.units, names)}"])
    sheet.append(
        [
            f"路线 Route: {len(team.stops)} 个点 stops, {team.length_m / 1000:.1f} km（直线×{plan.rules.detour_factor} straight line × detour）"
        ]
    )
    sheet.append([h for h, _ in HEADINGS])
    for cell in sheet[5]:
        cell.font = Font(bold=True)
    for n, stop_id in enumerate(team.stops, start=1):
        stop = plan.stop(stop_id)
        reasons = "\n".join(f"{r.text_zh} / {r.text_en}" for r in stop.reasons)
        sheet.append([n, stop.name, stop.address, _names(stop.units, names), reasons, "□", "□", "□", ""])
    set_widths(sheet, [width for _, width in HEADINGS])
    for row in sheet.iter_rows(min_row=6):
        for cell in row:
            cell.alignment = WRAP
    sheet.append([])
    sheet.append(["带队人签名 Team leader:", "", "", "日期 Date:"])
    # Printable: landscape, one page wide, the heading row repeated on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "5:5"


def plan_workbook(plan: SweepPlan, names: Mapping[str, str]) -> bytes:
    """`names` maps officer and unit ids to the names people read."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "计划 Plan"
    summary.append(["日期 Date", str(plan.date)])
    summary.append(["范围 Scope", plan.scope])
    summary.append(["方式 Mode", MODE_WORDS[plan.mode.value]])
    summary.append(["随机种子 Seed", "" if plan.seed is None else str(plan.seed)])
    summary.append(["输入摘要 Inputs digest", plan.digest])
    summary.append(["检查组 Teams", len(plan.teams)])
    summary.append(["检查点 Stops planned", sum(len(t.stops) for t in plan.teams)])
    summary.append(["冲突 Conflicts", len(plan.conflicts)])
    set_widths(summary, [24, 70])
    for team in plan.teams:
        _team_sheet(book.create_sheet(team.id[-31:]), plan, team, names)
    conflicts = book.create_sheet("冲突 Conflicts")
    conflicts.append(["类型 Kind", "乡镇 Township", "检查点 Stop", "说明", "Explanation"])
    for c in plan.conflicts:
        conflicts.append([c.kind.value, c.township, c.stop or "", c.text_zh, c.text_en])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _stop_feature(stop: Stop, team: Team | None, order: int | None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [stop.lon, stop.lat]},
        "properties": {
            "stop": stop.id,
            "kind": stop.kind.value,
            "name": stop.name,
            "township": stop.township,
            "team": team.id if team else None,
            "order": order,
            "units": list(stop.units),
            "priority": stop.priority,
            "reasons_zh": [r.text_zh for r in stop.reasons],
            "reasons_en": [r.text_en for r in stop.reasons],
        },
    }


def plan_geojson(plan: SweepPlan) -> dict[str, Any]:
    """Routes as lines from the township seat through the stops and back; every stop as a point
    (stops left out have no team)."""
    features = []
    for team in plan.teams:
        seat = list(plan.seats[team.township])
        line = [seat, *([plan.stop(s).lon, plan.stop(s).lat] for s in team.stops), seat]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "team": team.id,
                    "township": team.township,
                    "officers": list(team.officers),
                    "stops": len(team.stops),
                    "length_m": team.length_m,
                },
            }
        )
    for stop in plan.stops:
        visitor = plan.team_of(stop.id)
        order = visitor.stops.index(stop.id) + 1 if visitor else None
        features.append(_stop_feature(stop, visitor, order))
    return {"type": "FeatureCollection", "features": features}
