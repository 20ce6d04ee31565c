"""Admin writes of reference data: validated as a whole, written all or nothing, versions bumped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from grid.organisation import Officer, Unit, UnitKind, Worker
from grid.powers import HoldingMode, PowerListEntry
from grid.subjects import Subject
from server.db.tables import (
    CellRow,
    MatterRow,
    OfficerRow,
    PowerListRow,
    SubjectRow,
    TownshipRow,
    UnitRow,
    WorkerRow,
)
from server.reference.service import DATA_VERSION, bump, plain, power_list_row


class ReferenceRefused(Exception):
    """The whole batch was refused; `problems` says where and why."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("reference data refused; nothing was written")
        self.problems = problems


def _existing(session: Session, column: Any, values: set[str]) -> set[str]:
    if not values:
        return set()
    return set(session.exec(select(column).where(col(column).in_(values))).all())


class ReferenceWriter:
    def __init__(self, session: Session, county: str) -> None:
        self.session = session
        self.county = county
        self.problems: list[dict[str, str]] = []

    def _refuse(self, n: int, problem: str) -> None:
        self.problems.append({"at": f"[{n}]", "problem": problem})

    def _in_county(self, n: int, code: str | None, what: str) -> None:
        if code is not None and not code.startswith(self.county):
            self._refuse(n, f"{what} {code} is outside county {self.county}")

    def _unit_ids(self, extra: Sequence[Unit] = ()) -> set[str]:
        """The units in the database and those being written."""
        return set(self.session.exec(select(UnitRow.id)).all()) | {u.id for u in extra}

    def _finish(self, rows: Sequence[SQLModel]) -> int:
        if self.problems:
            raise ReferenceRefused(self.problems)
        for row in rows:
            self.session.merge(row)
        bump(self.session, DATA_VERSION)
        self.session.commit()
        return len(rows)

    def units(self, items: Sequence[Unit]) -> int:
        townships = _existing(self.session, TownshipRow.code, {u.township for u in items if u.township})
        known = self._unit_ids(items)
        for n, unit in enumerate(items):
            self._in_county(n, unit.id, "unit")
            if unit.township is not None and unit.township not in townships:
                self._refuse(n, f"township {unit.township} does not exist")
            if (unit.kind is UnitKind.DEPARTMENT) == (unit.township is not None):
                self._refuse(n, "departments sit in no township; offices and stationed units sit in one")
            if unit.parent is not None and unit.parent not in known:
                self._refuse(n, f"parent unit {unit.parent} does not exist")
            if unit.kind is UnitKind.STATIONED and unit.parent is None:
                self._refuse(n, "a stationed unit names its parent department")
        return self._finish([UnitRow(**plain(u)) for u in items])

    def workers(self, items: Sequence[Worker]) -> int:
        cells = dict(
            self.session.exec(
                select(CellRow.code, CellRow.township).where(
                    col(CellRow.code).in_({c for w in items for c in w.cells})
                )
            ).all()
        )
        for n, worker in enumerate(items):
            self._in_county(n, worker.township, "township")
            if not worker.cells:
                self._refuse(n, "a worker is assigned at least one cell")
            for code in worker.cells:
                if cells.get(code) != worker.township:
                    self._refuse(n, f"cell {code} is not a cell of township {worker.township}")
        return self._finish([WorkerRow(**plain(w)) for w in items])

    def officers(self, items: Sequence[Officer]) -> int:
        known = self._unit_ids()
        for n, officer in enumerate(items):
            if officer.unit not in known:
                self._refuse(n, f"unit {officer.unit} does not exist")
            for certificate in officer.certificates:
                if certificate.valid_from > certificate.expires:
                    self._refuse(n, f"certificate {certificate.number} expires before it is valid")
        return self._finish([OfficerRow(**plain(o)) for o in items])

    def subjects(self, items: Sequence[Subject]) -> int:
        cells = _existing(self.session, CellRow.code, {s.cell for s in items})
        for n, subject in enumerate(items):
            if subject.cell not in cells:
                self._refuse(n, f"cell {subject.cell} does not exist")
            if not 1 <= subject.risk <= 4:
                self._refuse(n, f"risk is 1 to 4, not {subject.risk}")
            if subject.quiet_days < 0:
                self._refuse(n, "quiet_days cannot be negative")
        return self._finish([SubjectRow(**plain(s), township=s.cell[:9]) for s in items])

    def power_list(self, items: Sequence[PowerListEntry]) -> int:
        townships = _existing(self.session, TownshipRow.code, {e.township for e in items})
        matters = _existing(self.session, MatterRow.code, {e.matter for e in items})
        units = {u.id: u for u in self.session.exec(select(UnitRow)).all()}
        taken = {
            (t, m): i
            for i, t, m in self.session.exec(
                select(PowerListRow.id, PowerListRow.township, PowerListRow.matter)
            ).all()
        }
        for n, entry in enumerate(items):
            self._in_county(n, entry.township, "township")
            if entry.township not in townships:
                self._refuse(n, f"township {entry.township} does not exist")
            if entry.matter not in matters:
                self._refuse(n, f"matter {entry.matter} does not exist")
            if taken.get((entry.township, entry.matter), entry.id) != entry.id:
                self._refuse(
                    n,
                    f"matter {entry.matter} is already listed for {entry.township} as {taken[(entry.township, entry.matter)]}",
                )
            unit = units.get(entry.unit)
            wanted = UnitKind.STATIONED if entry.mode is HoldingMode.STATIONED else UnitKind.OFFICE
            if unit is None or unit.kind != wanted.value or unit.township != entry.township:
                self._refuse(
                    n,
                    f"{entry.mode.value} entries name a {wanted.value} of township {entry.township}; {entry.unit} is not one",
                )
            agreement = entry.agreement
            if agreement is not None:
                department = units.get(agreement.department)
                if department is None or department.kind != UnitKind.DEPARTMENT.value:
                    self._refuse(
                        n,
                        f"agreement {agreement.number} names {agreement.department}, which is not a department",
                    )
                if agreement.valid_from > agreement.valid_to:
                    self._refuse(n, f"agreement {agreement.number} ends before it starts")
        return self._finish([power_list_row(e) for e in items])
