"""What the ingest worker needs from the database: who may send, and where refused input is kept."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session, select

from server.db.tables import DeviceRow, RejectRow, WorkerRow

UNKNOWN_RELOAD_SECONDS = 5.0


class SqlRoster:
    """Who may send. Read again at most every `ttl` seconds: the roster changes rarely, messages
    arrive by the thousand."""

    def __init__(self, engine: Engine, ttl: float = 60.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._roles: dict[str, str] = {}
        self._read_at = -math.inf

    def role_of(self, device: str) -> str | None:
        age = time.monotonic() - self._read_at
        # A newly registered sender is seen within seconds; a flood of strangers reloads rarely.
        if age > self.ttl or (device not in self._roles and age > UNKNOWN_RELOAD_SECONDS):
            self._reload()
        return self._roles.get(device)

    def _reload(self) -> None:
        with Session(self.engine) as session:
            roles = dict.fromkeys(session.exec(select(DeviceRow.id)).all(), "device")
            roles.update(dict.fromkeys(session.exec(select(WorkerRow.id)).all(), "worker"))
        self._roles, self._read_at = roles, time.monotonic()


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
