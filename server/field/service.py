"""The field roster as the tools around the broker read it: who has an account, and who to simulate."""

from __future__ import annotations

from collections import Counter

import shapely
from sqlmodel import Session, col, select

from grid.subjects import Device
from server.db.tables import CellRow, DeviceRow, WorkerRow
from server.field.store import to_device
from sync.simulator import FieldWorker


class FieldService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def senders(self) -> list[str]:
        """Every worker's and device's id: each publishes under its own account."""
        return [
            *self.session.exec(select(WorkerRow.id)).all(),
            *self.session.exec(select(DeviceRow.id)).all(),
        ]

    def simulated(self, workers: int) -> tuple[list[FieldWorker], list[Device]]:
        """`workers` workers that hold cells, taken in turn from each township (so a small simulation
        still covers the county), each with its cells' shapes, and the devices with alert
        categories (the cameras) in their townships."""
        rows = self.session.exec(select(WorkerRow).order_by(col(WorkerRow.id))).all()
        turn: Counter[str] = Counter()
        in_turn = []
        for row in (w for w in rows if w.cells):
            in_turn.append((turn[row.township], row.township, row))
            turn[row.township] += 1
        chosen = [row for *_, row in sorted(in_turn, key=lambda t: (t[0], t[1]))][:workers]
        wanted = {c for w in chosen for c in w.cells}
        shapes = {
            c.code: shapely.from_geojson(c.geometry)
            for c in self.session.exec(select(CellRow).where(col(CellRow.code).in_(wanted))).all()
        }
        townships = {w.township for w in chosen}
        cameras = [
            to_device(d)
            for d in self.session.exec(select(DeviceRow).where(col(DeviceRow.township).in_(townships))).all()
            if d.categories
        ]
        return [FieldWorker(w.id, [shapes[c] for c in w.cells if c in shapes]) for w in chosen], cameras
