"""Patrol coverage and worker presence in the database: written by the ping pipeline, read by the
API (the console's workers screen and the coverage KPI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import Engine, case
from sqlmodel import Session, col, select

from grid.patrols import Presence, Visit
from grid.places import township_of
from server.db.tables import PatrolDayRow, WorkerPresenceRow, WorkerRow
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
