"""What `gridwatch export` writes: boundaries, incidents as points, and incident counts per cell, as
feature tables for a GIS file (the counts are one GROUP BY, not a Python loop over incidents)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import case, func, literal
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from geodata.validation import Level
from grid.incident import IncidentState
from server.db.tables import IncidentRow
from server.db.types import UtcDateTime
from server.incidents.store import OPEN_STATES
from server.reference.boundaries import TABLES


@dataclass
class FeatureTable:
    layer: str
    shapes: list[BaseGeometry]
    fields: dict[str, list[Any]]


@dataclass(frozen=True)
class ExportWindow:
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def where(self) -> list[Any]:
        reported = col(IncidentRow.reported_at)
        return [
            *([reported >= self.since] if self.since else []),
            *([reported < self.until] if self.until else []),
        ]


def _in_township(column: Any, township: str | None) -> list[Any]:
    return [] if township is None else [col(column).startswith(township)]


def boundaries(session: Session, level: Level, township: str | None = None) -> FeatureTable:
    table = TABLES[level]
    rows = session.exec(
        select(table).where(*_in_township(table.code, township)).order_by(col(table.code))
    ).all()
    fields: dict[str, list[Any]] = {"code": [r.code for r in rows], "name": [r.name for r in rows]}
    if level is Level.CELL:
        fields |= {
            "village": [r.village for r in rows],
            "township": [r.township for r in rows],
            "patrol_target": [r.patrol_target for r in rows],
        }
    elif level is Level.VILLAGE:
        fields["township"] = [r.township for r in rows]
    return FeatureTable(f"{level}s", list(shapely.from_geojson([r.geometry for r in rows])), fields)


def incidents(session: Session, window: ExportWindow, township: str | None = None) -> FeatureTable:
    names = ("id", "category", "state", "cell", "township", "lead_unit", "urgent", "reported_at", "deadline")
    columns = [getattr(IncidentRow, name) for name in (*names, "lon", "lat")]
    rows = session.exec(
        sql_select(*columns)  # type: ignore[call-overload]
        .where(*window.where(), *_in_township(IncidentRow.township, township))
        .order_by(col(IncidentRow.reported_at))
    ).all()
    fields = {name: [_plain(r[n]) for r in rows] for n, name in enumerate(names)}
    points = list(shapely.points([(r[-2], r[-1]) for r in rows])) if rows else []
    return FeatureTable("incidents", points, fields)


def _plain(value: Any) -> Any:
    """GIS files take text for times (ISO 8601, UTC) and for missing text."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return "" if value is None else value


def cell_counts(
    session: Session, window: ExportWindow, now: dt.datetime, township: str | None = None
) -> FeatureTable:
    """Each cell with its incidents in the window: reported, still open, overdue now, closed."""
    is_open = col(IncidentRow.state).in_(OPEN_STATES)
    overdue = is_open & (col(IncidentRow.deadline) < literal(now, UtcDateTime()))
    counts = session.exec(
        sql_select(  # type: ignore[call-overload]
            IncidentRow.cell,
            func.count(),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((col(IncidentRow.state) == IncidentState.CLOSED.value, 1), else_=0)),
        )
        .where(
            col(IncidentRow.cell).is_not(None), *window.where(), *_in_township(IncidentRow.township, township)
        )
        .group_by(IncidentRow.cell)
    ).all()
    by_cell = {cell: (int(n), int(o or 0), int(d or 0), int(c or 0)) for cell, n, o, d, c in counts}
    cells = boundaries(session, Level.CELL, township)
    figures = [by_cell.get(code, (0, 0, 0, 0)) for code in cells.fields["code"]]
    fields = {
        "code": cells.fields["code"],
        "name": cells.fields["name"],
        "township": cells.fields["township"],
    }
    for n, name in enumerate(("reported", "open", "overdue", "closed")):
        fields[name] = [f[n] for f in figures]
    return FeatureTable("incident_counts", cells.shapes, fields)
