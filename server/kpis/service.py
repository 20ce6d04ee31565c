"""The KPI engine's store side: the counts of grid.evaluation.figures summed in SQL over a period and
scope, optionally broken down by a level (one GROUP BY, never one Python object per incident)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from grid.errors import EvaluationRefused
from grid.evaluation.figures import Counts, Figures, figures
from grid.evaluation.periods import Period
from grid.evaluation.ranking import ranks
from grid.evaluation.scopes import Scope, ScopeKind
from grid.incident import IncidentState
from grid.organisation import Officer
from grid.patrols import week_of
from grid.places import COUNTY_DIGITS, township_of
from grid.staffing import staffing_gap
from server.db.tables import (
    CategoryRow,
    CellRow,
    CountyRow,
    IncidentRow,
    OfficerRow,
    PatrolDayRow,
    TownshipRow,
    UnitRow,
    VillageRow,
    WhistleCallRow,
    WhistleRow,
    WorkerRow,
)
from server.incidents.store import OPEN_STATES
from server.kpis.schemas import KpiRow, KpiTable
from server.reference.service import domain_values

S = IncidentState
# The incident column each place level is; units and workers are looked up through their own.
_PLACE_COLUMN = {
    ScopeKind.TOWNSHIP: col(IncidentRow.township),
    ScopeKind.VILLAGE: col(IncidentRow.village),
    ScopeKind.CELL: col(IncidentRow.cell),
    ScopeKind.UNIT: col(IncidentRow.lead_unit),
    ScopeKind.DEPARTMENT: col(IncidentRow.lead_unit),  # rolled up from the units to their department
    ScopeKind.WORKER: col(IncidentRow.reporter),
}
_CELL_COLUMN = {
    ScopeKind.TOWNSHIP: col(CellRow.township),
    ScopeKind.VILLAGE: col(CellRow.village),
    ScopeKind.CELL: col(CellRow.code),
}
_NAME_COLUMNS = {
    ScopeKind.COUNTY: (col(CountyRow.code), col(CountyRow.name)),
    ScopeKind.TOWNSHIP: (col(TownshipRow.code), col(TownshipRow.name)),
    ScopeKind.VILLAGE: (col(VillageRow.code), col(VillageRow.name)),
    ScopeKind.CELL: (col(CellRow.code), col(CellRow.name)),
    ScopeKind.UNIT: (col(UnitRow.id), col(UnitRow.name_zh)),
    ScopeKind.DEPARTMENT: (col(UnitRow.id), col(UnitRow.name_zh)),
    ScopeKind.WORKER: (col(WorkerRow.id), col(WorkerRow.name)),
}
Breakdown = dict[str | None, Counts]


class KpiService:
    def __init__(self, session: Session, tz: dt.tzinfo, now: dt.datetime) -> None:
        self.session = session
        self.tz = tz
        self.now = now
        self._departments: dict[str, str] | None = None

    # -- the public side ----------------------------------------------------------------------------

    def counts(self, scope: Scope, period: Period, by: ScopeKind | None = None) -> Breakdown:
        """Counts for the scope (key None), or for each row of the level `by` within it."""
        if by is not None:
            scope.check_level(by)
        self._check_exists(scope)
        start, end = self._bounds(period)
        parts = [
            self._incident_counts(scope, start, end, by),
            self._whistle_counts(scope, start, end, by),
            self._patrol_counts(scope, period, by),
            self._staffing_counts(scope, period, by),
        ]
        out: Breakdown = defaultdict(Counts)
        for part in parts:
            for key, counts in part.items():
                out[key] = out[key] + counts
        if by is None:
            out.setdefault(None, Counts())
        return dict(out)

    def table(self, scope: Scope, period: Period, by: ScopeKind | None = None) -> KpiTable:
        table = KpiTable(
            scope=str(scope), first=period.first, last=period.last, figures=self.scope_figures(scope, period)
        )
        if by is not None:
            table.by, table.rows = by.value, self.rows(scope, period, by)
        return table

    def scope_figures(self, scope: Scope, period: Period) -> Figures:
        """The scope's own figures (not the sum of its rows: the county also counts the unlocated)."""
        return figures(self.counts(scope, period)[None])

    def rows(self, scope: Scope, period: Period, by: ScopeKind) -> list[KpiRow]:
        """The scope's rows at the level `by`, ranked, best first."""
        breakdown = {k: figures(c) for k, c in self.counts(scope, period, by).items() if k is not None}
        keys = sorted(breakdown)
        rank = ranks([breakdown[k] for k in keys], by.value)
        names = self.names(by, keys)
        rows = [
            KpiRow(key=k, name=names[k], rank=r, figures=breakdown[k])
            for k, r in zip(keys, rank, strict=True)
        ]
        rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.key))
        return rows

    def reported_by_category(self, scope: Scope, period: Period) -> list[tuple[str, int]]:
        """Incidents reported in the period per category, most first."""
        start, end = self._bounds(period)
        reported = col(IncidentRow.reported_at)
        query = (
            sa_select(col(IncidentRow.category), func.count())
            .where(self._incident_filter(scope), reported >= start, reported < end)
            .group_by(col(IncidentRow.category))
        )
        return sorted(((c, int(n)) for c, n in self.session.execute(query)), key=lambda x: (-x[1], x[0]))

    def cell_shapes(self, scope: Scope) -> dict[str, str]:
        """The GeoJSON geometry of every cell in an area scope."""
        if not scope.is_area:
            return {}
        shapes = sa_select(col(CellRow.code), col(CellRow.geometry)).where(_cells_within(scope))
        return dict(self.session.execute(shapes).all())

    def names(self, level: ScopeKind, keys: Iterable[str | None]) -> dict[str, str]:
        """The names of a level's rows (Chinese for units, as the county's reports print them)."""
        wanted = [k for k in keys if k is not None]
        key, name = _NAME_COLUMNS[level]
        rows = self.session.execute(sa_select(key, name).where(key.in_(wanted))).all()
        found: dict[str, str] = dict(rows)
        return {k: found.get(k, k) for k in wanted}

    def category_names(self) -> dict[str, tuple[str, str]]:
        rows = self.session.execute(
            sa_select(col(CategoryRow.code), col(CategoryRow.name_zh), col(CategoryRow.name_en))
        )
        return {code: (zh, en) for code, zh, en in rows}

    # -- incidents ----------------------------------------------------------------------------------

    def _bounds(self, period: Period) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(period.first, dt.time(), self.tz)
        end = dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time(), self.tz)
        return start, end

    def _seconds(self, later: Any, earlier: Any) -> Any:
        if self.session.get_bind().dialect.name == "sqlite":
            return (func.julianday(later) - func.julianday(earlier)) * 86400.0
        return func.extract("epoch", later - earlier)

    def _incident_filter(self, scope: Scope) -> ColumnElement[bool]:
        if scope.kind is ScopeKind.COUNTY:
            # Unlocated incidents wait for the county, so the county counts them.
            return or_(col(IncidentRow.township).startswith(scope.id), col(IncidentRow.township).is_(None))
        if scope.kind is ScopeKind.DEPARTMENT:
            return col(IncidentRow.lead_unit).in_(self._units_of(scope.id))
        return col(_PLACE_COLUMN[scope.kind]) == scope.id

    def _incident_counts(
        self, scope: Scope, start: dt.datetime, end: dt.datetime, by: ScopeKind | None
    ) -> Breakdown:
        i = IncidentRow

        def within(column: Any) -> ColumnElement[bool]:
            return and_(column >= start, column < end)

        def total(*conditions: Any) -> Any:
            return func.sum(case((and_(*conditions), 1), else_=0))

        reported, accepted, dispatched = within(i.reported_at), within(i.accepted_at), within(i.dispatched_at)
        state = col(i.state)
        overdue_now = and_(
            state.in_(OPEN_STATES), col(i.clock_remaining).is_(None), col(i.deadline) < self.now
        )
        # Only what is already due counts (the running period too): an open incident within its
        # limits has not missed anything yet. It is due once done or ended, or once a limit passed.
        ended = state.not_in(OPEN_STATES)
        due_to_handle = and_(
            dispatched, state != S.SUSPENDED, or_(col(i.handled_at).is_not(None), ended, overdue_now)
        )
        handled = and_(due_to_handle, col(i.handled_at).is_not(None))
        due_to_close = and_(
            accepted,
            state.not_in([S.SUSPENDED, S.DUPLICATE]),
            or_(ended, col(i.late_stages) > 0, overdue_now),
        )
        closed = and_(due_to_close, state == S.CLOSED)
        columns = {
            "reported": total(reported),
            "accepted": total(accepted),
            "accepted_on_time": total(accepted, col(i.accept_late) == false()),
            "dispatched": total(dispatched),
            "dispatched_accurately": total(dispatched, col(i.misdispatched) == false()),
            "due_to_handle": total(due_to_handle),
            "handled": total(handled),
            "handled_on_time": total(handled, col(i.handle_late) == false()),
            "reworked": total(handled, col(i.rework_count) > 0),
            "due_to_close": total(due_to_close),
            "closed": total(closed),
            "closed_on_time": total(closed, col(i.late_stages) == 0),
            "suspended": total(accepted, state == S.SUSPENDED),
            "overdue": total(due_to_close, or_(col(i.late_stages) > 0, overdue_now)),
            "accept_seconds": func.sum(
                case((accepted, self._seconds(i.accepted_at, i.reported_at)), else_=0)
            ),
            "handle_seconds": func.sum(
                case((handled, self._seconds(i.handled_at, i.dispatched_at)), else_=0)
            ),
        }
        key = _PLACE_COLUMN[by] if by is not None else literal(None)
        query = sa_select(key.label("key"), *(c.label(n) for n, c in columns.items())).where(
            self._incident_filter(scope), or_(reported, accepted, dispatched)
        )
        if by is not None:
            query = query.group_by(key)
        rows = {row.key: _counts(dict(row._mapping), columns) for row in self.session.execute(query)}
        return self._rolled_up(rows, by)

    # -- whistles and report-ins ----------------------------------------------------------------------

    def _whistle_counts(
        self, scope: Scope, start: dt.datetime, end: dt.datetime, by: ScopeKind | None
    ) -> Breakdown:
        by_unit = scope.kind in (ScopeKind.UNIT, ScopeKind.DEPARTMENT) or by in (
            ScopeKind.UNIT,
            ScopeKind.DEPARTMENT,
        )
        whistles_key = _PLACE_COLUMN[by] if by is not None else literal(None)
        opened = (
            sa_select(whistles_key.label("key"), func.count().label("whistles"))
            .select_from(WhistleRow)
            .join(IncidentRow, col(IncidentRow.id) == col(WhistleRow.incident))
            .where(
                self._incident_filter(scope),
                col(WhistleRow.opened_at) >= start,
                col(WhistleRow.opened_at) < end,
            )
        )
        # A unit's report-ins are the calls made to it; an area's are the calls about its incidents.
        call_key = col(WhistleCallRow.unit) if by in (ScopeKind.UNIT, ScopeKind.DEPARTMENT) else whistles_key
        if scope.kind is ScopeKind.UNIT:
            call_scope: ColumnElement[bool] = col(WhistleCallRow.unit) == scope.id
        elif scope.kind is ScopeKind.DEPARTMENT:
            call_scope = col(WhistleCallRow.unit).in_(self._units_of(scope.id))
        else:
            call_scope = self._incident_filter(scope)
        on_time = and_(col(WhistleCallRow.reported_at).is_not(None), col(WhistleCallRow.late) == false())
        # A call is due once its limit has passed or its unit has reported in: one whose limit is
        # still ahead (later today, in the running period) has not missed anything yet.
        call_due = and_(
            col(WhistleCallRow.due_at) >= start,
            col(WhistleCallRow.due_at) < end,
            or_(col(WhistleCallRow.due_at) <= self.now, col(WhistleCallRow.reported_at).is_not(None)),
        )
        rated = col(WhistleCallRow.rating).is_not(None)
        calls = (
            sa_select(
                call_key.label("key"),
                func.count().label("report_ins_due"),
                func.sum(case((on_time, 1), else_=0)).label("report_ins_on_time"),
                func.sum(case((rated, 1), else_=0)).label("ratings"),
                func.sum(case((rated, WhistleCallRow.rating), else_=0)).label("rating_sum"),
            )
            .select_from(WhistleCallRow)
            .join(WhistleRow, col(WhistleRow.id) == col(WhistleCallRow.whistle))
            .join(IncidentRow, col(IncidentRow.id) == col(WhistleRow.incident))
            .where(call_scope, call_due)
        )
        if by is not None:
            opened = opened.group_by(whistles_key)
            calls = calls.group_by(call_key)
        out: dict[str | None, Counts] = defaultdict(Counts)
        if not by_unit:  # whistling is a township's figure, not a unit's
            for row in self.session.execute(opened):
                out[row.key] = out[row.key] + Counts(whistles=int(row.whistles))
        for row in self.session.execute(calls):
            out[row.key] = out[row.key] + Counts(
                report_ins_due=int(row.report_ins_due),
                report_ins_on_time=int(row.report_ins_on_time or 0),
                ratings=int(row.ratings or 0),
                rating_sum=int(row.rating_sum or 0),
            )
        return self._rolled_up(dict(out), by)

    # -- patrols --------------------------------------------------------------------------------------

    def _patrol_counts(self, scope: Scope, period: Period, by: ScopeKind | None) -> Breakdown:
        """Cell-weeks that met the cell's weekly target, over the weeks starting in the period."""
        mondays = _mondays(period)
        if not mondays or scope.kind in (ScopeKind.UNIT, ScopeKind.DEPARTMENT):
            return {}
        if by in (ScopeKind.UNIT, ScopeKind.DEPARTMENT):
            return {}
        first, last = mondays[0], mondays[-1] + dt.timedelta(days=6)
        if scope.kind is ScopeKind.WORKER or by is ScopeKind.WORKER:
            return self._worker_patrols(scope, first, last)
        cells = _cells_within(scope)
        key = _CELL_COLUMN[by] if by is not None else literal(None)
        targets = {
            code: (group, target)
            for code, group, target in self.session.execute(
                sa_select(col(CellRow.code), key, col(CellRow.patrol_target)).where(cells)
            )
        }
        days = self.session.execute(
            sa_select(col(PatrolDayRow.cell), col(PatrolDayRow.day))
            .where(col(PatrolDayRow.cell).in_(sa_select(col(CellRow.code)).where(cells)))
            .where(col(PatrolDayRow.day) >= first, col(PatrolDayRow.day) <= last)
            .distinct()
        )
        return _coverage(targets, days.all(), len(mondays))

    def _worker_patrols(self, scope: Scope, first: dt.date, last: dt.date) -> Breakdown:
        """Each worker's own cells against their own visits there."""
        workers = select(WorkerRow)
        if scope.kind is ScopeKind.WORKER:
            workers = workers.where(WorkerRow.id == scope.id)
        elif scope.kind is ScopeKind.COUNTY:
            workers = workers.where(col(WorkerRow.township).startswith(scope.id))
        else:
            workers = workers.where(col(WorkerRow.township) == scope.id[:9])
        rows = self.session.exec(workers).all()
        cells = {
            c for w in rows for c in w.cells if scope.kind is not ScopeKind.VILLAGE or c.startswith(scope.id)
        }
        all_targets = dict(
            self.session.exec(
                select(CellRow.code, CellRow.patrol_target).where(col(CellRow.code).in_(cells))
            ).all()
        )
        key_of = (lambda w: None) if scope.kind is ScopeKind.WORKER else (lambda w: w.id)
        targets = {
            (w.id, c): (key_of(w), all_targets[c])
            for w in rows
            for c in w.cells
            if c in all_targets and c in cells
        }
        days = self.session.execute(
            sa_select(col(PatrolDayRow.worker), col(PatrolDayRow.cell), col(PatrolDayRow.day)).where(
                col(PatrolDayRow.worker).in_([w.id for w in rows]),
                col(PatrolDayRow.day) >= first,
                col(PatrolDayRow.day) <= last,
            )
        )
        weeks = len(_mondays_between(first, last))
        return _coverage(targets, (((worker, cell), day) for worker, cell, day in days), weeks)

    # -- staffing -------------------------------------------------------------------------------------

    def _staffing_counts(self, scope: Scope, period: Period, by: ScopeKind | None) -> Breakdown:
        """Enforcement staff needed and certified on the period's last day, per township."""
        if scope.kind not in (ScopeKind.COUNTY, ScopeKind.TOWNSHIP) or by not in (None, ScopeKind.TOWNSHIP):
            return {}
        townships = select(TownshipRow)
        townships = (
            townships.where(col(TownshipRow.code).startswith(scope.id))
            if scope.kind is ScopeKind.COUNTY
            else townships.where(TownshipRow.code == scope.id)
        )
        rows = self.session.exec(townships).all()
        officers: dict[str, list[Officer]] = defaultdict(list)
        offices = select(OfficerRow).where(col(OfficerRow.unit).in_([t.enforcement_office for t in rows]))
        for officer in domain_values(self.session.exec(offices).all(), Officer):
            officers[officer.unit].append(officer)
        out: Breakdown = defaultdict(Counts)
        for township in rows:
            gap = staffing_gap(township.population, officers[township.enforcement_office], period.last)
            key = township.code if by is not None else None
            out[key] = out[key] + Counts(
                staff_needed=gap.needed, staff_certified=gap.certified, staff_gap=gap.gap
            )
        return dict(out)

    # -- units ----------------------------------------------------------------------------------------

    def _department_of(self) -> dict[str, str]:
        """Each unit's department: a stationed unit's or an enforcement team's parent, else itself
        if it is a department. Township offices belong to no department."""
        if self._departments is None:
            rows = self.session.exec(select(UnitRow.id, UnitRow.kind, UnitRow.parent)).all()
            self._departments = {unit: parent or unit for unit, kind, parent in rows if kind != "office"}
        return self._departments

    def _units_of(self, department: str) -> list[str]:
        return [u for u, d in self._department_of().items() if d == department]

    def _rolled_up(self, rows: Breakdown, by: ScopeKind | None) -> Breakdown:
        if by is not ScopeKind.DEPARTMENT:
            return rows
        departments = self._department_of()
        out: Breakdown = defaultdict(Counts)
        for unit, counts in rows.items():
            department = departments.get(unit or "")
            if department is not None:
                out[department] = out[department] + counts
        return dict(out)

    def place_of(self, scope: Scope) -> str:
        """The township (9 digits) or the county (6) the scope lies in, for the scope rules."""
        if scope.kind is ScopeKind.COUNTY:
            return scope.id
        if scope.kind in (ScopeKind.TOWNSHIP, ScopeKind.VILLAGE, ScopeKind.CELL):
            return township_of(scope.id)
        self._check_exists(scope)
        if scope.kind is ScopeKind.WORKER:
            worker = self.session.get(WorkerRow, scope.id)
            assert worker is not None  # checked above
            return worker.township
        unit = self.session.get(UnitRow, scope.id)
        assert unit is not None
        return unit.township or scope.id[:COUNTY_DIGITS]

    def _check_exists(self, scope: Scope) -> None:
        table, key = {
            ScopeKind.COUNTY: (TownshipRow, col(TownshipRow.county)),
            ScopeKind.TOWNSHIP: (TownshipRow, col(TownshipRow.code)),
            ScopeKind.VILLAGE: (VillageRow, col(VillageRow.code)),
            ScopeKind.CELL: (CellRow, col(CellRow.code)),
            ScopeKind.UNIT: (UnitRow, col(UnitRow.id)),
            ScopeKind.DEPARTMENT: (UnitRow, col(UnitRow.id)),
            ScopeKind.WORKER: (WorkerRow, col(WorkerRow.id)),
        }[scope.kind]
        found = self.session.execute(
            sa_select(literal(1)).select_from(table).where(key == scope.id).limit(1)
        ).first()
        if found is None:
            raise EvaluationRefused(
                f"no {scope.kind.value} {scope.id!r}", f"不存在 {scope.kind.value} {scope.id!r}"
            )
        if scope.kind is ScopeKind.DEPARTMENT and scope.id not in set(self._department_of().values()):
            raise EvaluationRefused(f"{scope.id!r} is not a department", f"{scope.id!r} 不是县直部门")


def _cells_within(scope: Scope) -> ColumnElement[bool]:
    if scope.kind is ScopeKind.COUNTY:
        return col(CellRow.township).startswith(scope.id)
    return col(_CELL_COLUMN[scope.kind]) == scope.id


def _counts(row: Mapping[str, Any], columns: Mapping[str, Any]) -> Counts:
    values = {name: row[name] or 0 for name in columns}
    return msgspec.convert(
        {n: float(v) if n.endswith("_seconds") else int(v) for n, v in values.items()}, Counts
    )


def _mondays(period: Period) -> list[dt.date]:
    return _mondays_between(period.first, period.last)


def _mondays_between(first: dt.date, last: dt.date) -> list[dt.date]:
    monday = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while monday <= last:
        out.append(monday)
        monday += dt.timedelta(days=7)
    return out


def _coverage(
    targets: Mapping[Any, tuple[str | None, int]],
    visits: Iterable[tuple[Any, dt.date]],
    weeks: int,
) -> Breakdown:
    """Cell-weeks and those whose distinct visited days reached the target. `targets` maps what is
    patrolled (a cell, or a worker's cell) to its row and weekly target; `visits` are its days."""
    days: dict[tuple[Any, dt.date], set[dt.date]] = defaultdict(set)
    for cell, day in visits:
        if cell in targets:
            days[(cell, week_of(day)[0])].add(day)
    out: Breakdown = defaultdict(Counts)
    covered: dict[str | None, int] = defaultdict(int)
    for (cell, _), visited in days.items():
        group, target = targets[cell]
        if len(visited) >= target:
            covered[group] += 1
    for group, _target in targets.values():
        out[group] = out[group] + Counts(cell_weeks=weeks)
    for group, count in covered.items():
        out[group] = out[group] + Counts(cell_weeks_covered=count)
    return dict(out)
