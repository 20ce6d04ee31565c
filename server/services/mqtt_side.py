"""What the ingest worker needs from the database: who may send, and where refused input is kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session

from server.db.tables import DeviceRow, RejectRow, WorkerRow


class SqlRoster:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def role_of(self, device: str) -> str | None:
        with Session(self.engine) as session:
            if session.get(WorkerRow, device) is not None:
                return "worker"
            if session.get(DeviceRow, device) is not None:
                return "device"
        return None


class SqlRejects:
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def keep(self, topic: str, device: str | None, reason: str, raw: bytes) -> None:
        with Session(self.engine) as session:
            session.add(
                RejectRow(
                    at=self.clock(), channel="mqtt", topic=topic, device=device, reason=reason[:2000], raw=raw
                )
            )
            session.commit()
