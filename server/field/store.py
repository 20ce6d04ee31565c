"""What the ingest worker needs from the database: who may send, and where refused input is kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlmodel import Session, select

from grid.subjects import Device, DeviceKind
from server.db.tables import CellRow, DeviceRow, RejectRow, WorkerRow

UNKNOWN_RELOAD_SECONDS = 5.0


def to_device(row: DeviceRow) -> Device:
    return Device(
        id=row.id,
        kind=DeviceKind(row.kind),
        lon=row.lon,
        lat=row.lat,
        cell=row.cell,
        categories=tuple(row.categories),
    )


class SqlRoster:
    """Who may send, where devices stand and which cells workers hold. Read again at most every
    `ttl` seconds: the roster changes rarely, messages arrive by the thousand."""

    def __init__(self, engine: Engine, ttl: float = 60.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._roles: dict[str, str] = {}
        self._devices: dict[str, Device] = {}
        self._cells: dict[str, list[tuple[str, str]]] = {}
        self._holders: dict[str, list[str]] = {}
        self._read_at = -math.inf

    def _fresh(self, sender: str) -> None:
        age = time.monotonic() - self._read_at
        # A newly registered sender is seen within seconds; a flood of strangers reloads rarely.
        if age > self.ttl or (sender not in self._roles and age > UNKNOWN_RELOAD_SECONDS):
            self._reload()

    def role_of(self, sender: str) -> str | None:
        self._fresh(sender)
        return self._roles.get(sender)

    def device(self, device: str) -> Device | None:
        self._fresh(device)
        return self._devices.get(device)

    def cells_of(self, worker: str) -> Sequence[tuple[str, str]]:
        self._fresh(worker)
        return self._cells.get(worker, [])

    def workers_in(self, cell: str) -> Sequence[str]:
        """The workers assigned to a cell: its default verifiers (docs/domain.md#patrols-staffing-and-officers)."""
        if time.monotonic() - self._read_at > self.ttl:
            self._reload()
        return self._holders.get(cell, [])

    def _reload(self) -> None:
        with Session(self.engine) as session:
            devices = {d.id: to_device(d) for d in session.exec(select(DeviceRow)).all()}
            workers = {w.id: list(w.cells) for w in session.exec(select(WorkerRow)).all()}
            names = dict(session.exec(select(CellRow.code, CellRow.name)).all())
        roles = dict.fromkeys(devices, "device")
        roles.update(dict.fromkeys(workers, "worker"))
        self._cells = {w: [(c, names.get(c, c)) for c in cells] for w, cells in workers.items()}
        holders: dict[str, list[str]] = {}
        for w, cells in sorted(workers.items()):
            for c in cells:
                holders.setdefault(c, []).append(w)
        self._holders = holders
        self._devices, self._roles, self._read_at = devices, roles, time.monotonic()


class SqlRejects:
    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.clock = clock

    def keep(
        self, topic: str, device: str | None, reason: str, raw: bytes, redelivered: bool = False
    ) -> None:
        digest = hashlib.sha256(raw).hexdigest()
        with Session(self.engine) as session:
            # A redelivery of a message kept before its worker died unacknowledged: kept once.
            if (
                redelivered
                and session.exec(
                    select(RejectRow.id).where(RejectRow.topic == topic, RejectRow.digest == digest)
                ).first()
            ):
                return
            session.add(
                RejectRow(
                    at=self.clock(),
                    channel="mqtt",
                    topic=topic,
                    device=device,
                    reason=reason[:2000],
                    raw=raw,
                    digest=digest,
                )
            )
            session.commit()
