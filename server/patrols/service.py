"""Patrol queries for the API: coverage against the weekly targets, where workers were last seen, cells visited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from grid.patrols import CellCoverage, cell_coverage
from server.api.listings import page_of
from server.db.tables import CellRow, PatrolDayRow, WorkerPresenceRow


def _within(column: Any, townships: Sequence[str] | None, county: str | None) -> Any:
    return column.in_(townships) if townships is not None else column.startswith(county or "")


def coverage(
    session: Session, townships: Sequence[str] | None, county: str | None, week_start: dt.date
) -> list[CellCoverage]:
    """Each cell in scope: days visited in the week starting `week_start` against its target."""
    return _coverage(
        session,
        _within(col(CellRow.township), townships, county),
        _within(col(PatrolDayRow.township), townships, county),
        week_start,
    )


def cells_coverage(session: Session, cells: Sequence[str], week_start: dt.date) -> list[CellCoverage]:
    """These cells (a worker's own): days visited in the week starting `week_start` against their targets."""
    return _coverage(session, col(CellRow.code).in_(cells), col(PatrolDayRow.cell).in_(cells), week_start)


def _coverage(session: Session, cells: Any, days: Any, week_start: dt.date) -> list[CellCoverage]:
    week_end = week_start + dt.timedelta(days=7)
    targets = dict(session.exec(select(CellRow.code, CellRow.patrol_target).where(cells)).all())
    visited = dict(
        session.exec(
            select(PatrolDayRow.cell, func.count(func.distinct(PatrolDayRow.day)))
            .where(days, PatrolDayRow.day >= week_start, PatrolDayRow.day < week_end)
            .group_by(col(PatrolDayRow.cell))
        ).all()
    )
    return cell_coverage(targets, visited)


def presence_page(
    session: Session, townships: Sequence[str] | None, county: str | None, limit: int, offset: int
) -> tuple[list[WorkerPresenceRow], int]:
    return page_of(
        session,
        select(WorkerPresenceRow).where(_within(col(WorkerPresenceRow.township), townships, county)),
        [col(WorkerPresenceRow.worker)],
        limit,
        offset,
    )


def cells_visited(session: Session, workers: Sequence[str], since: dt.date) -> dict[str, int]:
    """How many distinct cells each worker visited since `since`."""
    return dict(
        session.exec(
            select(PatrolDayRow.worker, func.count(func.distinct(PatrolDayRow.cell)))
            .where(col(PatrolDayRow.worker).in_(workers), PatrolDayRow.day >= since)
            .group_by(col(PatrolDayRow.worker))
        ).all()
    )
