"""The roster the simulator draws from: a small simulation still covers every township."""

from __future__ import annotations

from sqlmodel import Session, select

from grid.places import township_of
from server.db.tables import WorkerRow
from server.field.service import FieldService
from tests.support.api import Api


def test_simulated_workers_are_taken_in_turn_from_every_township(api: Api) -> None:
    with Session(api.runtime.engine) as session:
        townships = {w.township for w in session.exec(select(WorkerRow)).all() if w.cells}
        roster = {w.id: w.township for w in session.exec(select(WorkerRow)).all()}
        workers, cameras = FieldService(session).simulated(len(townships))
    assert len(townships) > 1
    assert {roster[w.id] for w in workers} == townships  # one from each, not the first by id
    assert all(w.cells for w in workers)
    assert cameras and {township_of(c.cell) for c in cameras} <= townships
