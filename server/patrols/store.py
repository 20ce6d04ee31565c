"""Patrol coverage and worker presence in the database: written by the ping pipeline, read by the
API (the console's workers screen and the coverage KPI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, select

from grid.patrols import CellCoverage, Presence, Visit, cell_coverage
from grid.places import township_of
from server.api.listings import page_of
from server.db.tables import CellRow, PatrolDayRow, WorkerPresenceRow, WorkerRow
from server.db.upsert import upsert


class SqlPatrolStore:
    """grid.patrols.PatrolStore on SQLModel."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def record(self, visits: Sequence[Visit], presence: Sequence[Presence], via: str) -> None:
        with Session(self.engine) as session:
            townships = dict(
                session.exec(
                    select(WorkerRow.id, WorkerRow.township).where(
                        col(WorkerRow.id).in_({p.worker for p in presence})
                    )
                ).all()
            )
            upsert(
                session,
                PatrolDayRow,
                [
                    {
                        "cell": v.cell,
                        "day": v.day,
                        "worker": v.worker,
                        "township": township_of(v.cell),
                        "pings": v.pings,
                        "first_at": v.first_at,
                        "last_at": v.last_at,
                    }
                    for v in visits
                ],
                ["cell", "day", "worker"],
                lambda new: {
                    "pings": PatrolDayRow.pings + new.pings,
                    "first_at": case(
                        (new.first_at < PatrolDayRow.first_at, new.first_at), else_=PatrolDayRow.first_at
                    ),
                    "last_at": case(
                        (new.last_at > PatrolDayRow.last_at, new.last_at), else_=PatrolDayRow.last_at
                    ),
                },
            )
            now = self.clock()
            upsert(
                session,
                WorkerPresenceRow,
                [
                    {
                        "worker": p.worker,
                        "township": townships.get(p.worker, ""),
                        "online": True,
                        "last_ping_at": p.at,
                        "lon": p.lon,
                        "lat": p.lat,
                        "cell": p.cell,
                        "via": via,
                        "updated_at": now,
                    }
                    for p in presence
                ],
                ["worker"],
                lambda new: {
                    "online": True,
                    "last_ping_at": new.last_ping_at,
                    "lon": new.lon,
                    "lat": new.lat,
                    "cell": new.cell,
                    "via": new.via,
                    "updated_at": new.updated_at,
                },
                # A late, older ping does not move the worker back.
                where=lambda new: (
                    col(WorkerPresenceRow.last_ping_at).is_(None)
                    | (col(WorkerPresenceRow.last_ping_at) <= new.last_ping_at)
                ),
            )
            session.commit()

    def offline(self, worker: str, via: str) -> None:
        """The phone said goodbye (an OwnTracks last will): the worker is offline."""
        with Session(self.engine) as session:
            township = session.exec(select(WorkerRow.township).where(WorkerRow.id == worker)).first() or ""
            upsert(
                session,
                WorkerPresenceRow,
                [
                    {
                        "worker": worker,
                        "township": township,
                        "online": False,
                        "via": via,
                        "updated_at": self.clock(),
                    }
                ],
                ["worker"],
                lambda new: {"online": False, "updated_at": new.updated_at},
            )
            session.commit()


def _within(column: Any, townships: Sequence[str] | None, county: str | None) -> Any:
    return column.in_(townships) if townships is not None else column.startswith(county or "")


def coverage(
    session: Session, townships: Sequence[str] | None, county: str | None, week_start: dt.date
) -> list[CellCoverage]:
    """Each cell in scope: days visited in the week starting `week_start` against its target."""
    week_end = week_start + dt.timedelta(days=7)
    targets = dict(
        session.exec(
            select(CellRow.code, CellRow.patrol_target).where(
                _within(col(CellRow.township), townships, county)
            )
        ).all()
    )
    visited = dict(
        session.exec(
            select(PatrolDayRow.cell, func.count(func.distinct(PatrolDayRow.day)))
            .where(
                _within(col(PatrolDayRow.township), townships, county),
                PatrolDayRow.day >= week_start,
                PatrolDayRow.day < week_end,
            )
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
