"""A year and more of the demo county's past, built once when the county is set up.

Every incident goes through the domain's own rules (locate, route, the lifecycle's transitions and
clocks), so its flow records, milestones and deadlines are what the platform would have written;
only the writing is in bulk: one transaction per month of history, no HTTP call per incident.
Deterministic for (seed, now). The outbox gets no events for the past: the live stream and the
relay carry what happens from now on.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import shapely
from sqlalchemy import JSON, Date
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel, col, select

from grid.domain import Domain
from grid.errors import DomainError
from grid.evaluation.milestones import Milestones, reached
from grid.incident import Assignment, FlowRecord, Incident, IncidentState, Source
from grid.lifecycle import Action
from grid.organisation import UnitKind
from grid.places import township_of
from grid.whistles import WhistleKind, WhistleReason, report_in_due
from server.db.tables import (
    AssignmentRow,
    CellRow,
    FlowRow,
    IncidentRow,
    IncidentUnitRow,
    PatrolDayRow,
    UnitRow,
    WhistleCallRow,
    WhistleRow,
    WorkerRow,
)
from server.db.types import UtcDateTime
from server.incidents.store import (
    assignment_values,
    flow_values,
    report_columns,
    state_columns,
    unit_values,
)
from sync.simulator import EVERYDAY, FIELD_TEXTS, URGENT, URGENT_SHARE, point_in

S = IncidentState
MONTHS = 14
# Reports a day on a working day and on a rest day, county-wide.
PER_WORKDAY, PER_RESTDAY = 26, 10
HOTLINE_SHARE = 0.12
# Shares of what happens to a report; each is a decision a person made.
REJECT, DUPLICATE, RETURN, REROUTE, REWORK, SUSPEND, WHISTLE, STUCK = (
    0.03, 0.03, 0.04, 0.03, 0.05, 0.015, 0.05, 0.01,
)  # fmt: skip
# A stage done late: after its deadline.
LATE = 0.05
REJECT_REASONS = ("经核实不存在", "不属于本平台受理范围", "信息不全无法核实")
RETURN_REASONS = ("不属于本单位职责", "地点有误，请重新派遣")
REROUTE_REASONS = ("按职责清单改派", "属地单位更便于处置")
REWORK_REASONS = ("复核现场问题仍在", "处置不彻底")
SUSPEND_REASONS = ("涉及司法程序，待判决", "需上级部门协调")


@dataclass
class _Batch:
    incidents: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)
    flows: list[dict[str, Any]] = field(default_factory=list)
    whistles: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)


class _Story:
    """One incident's life: its transitions, applied by the domain's lifecycle in time order."""

    def __init__(
        self,
        domain: Domain,
        incident: Incident,
        reporter: str | None,
        now: dt.datetime,
        rng: np.random.Generator,
    ) -> None:
        self.domain, self.now, self.rng = domain, now, rng
        self.incident = incident
        # A worker's patrol report, or a 12345 hotline call taken by the duty officer.
        self.reporter = reporter
        lead = incident.assignment.lead if incident.assignment else None
        self.records = [
            FlowRecord(
                incident=incident.id,
                action="report",
                actor=reporter or "hotline:12345",
                at=incident.reported_at,
                from_state=S.REPORTED,
                to_state=S.REPORTED,
                unit=lead,
            )
        ]
        self.assignments: list[tuple[Assignment, dt.datetime, str, str | None]] = []
        if incident.assignment is not None:
            self.assignments.append((incident.assignment, incident.reported_at, "router", None))
        self.at = incident.reported_at
        self.stopped = False
        # Departments a whistle called in: they take part until the incident closes.
        self.called: list[str] = []

    def next_time(self, late: bool | None = None) -> dt.datetime:
        """When the next step is taken: within the running stage's limit, or after it if late."""
        clock = self.incident.clock
        if clock is None:
            return self.at + dt.timedelta(minutes=float(self.rng.uniform(5, 90)))
        late = bool(self.rng.random() < LATE) if late is None else late
        if late:
            return clock.deadline + dt.timedelta(hours=float(self.rng.uniform(0.5, 30)))
        span = max((clock.deadline - self.at).total_seconds(), 120.0)
        return self.at + dt.timedelta(seconds=float(self.rng.uniform(0.05, 0.75)) * span)

    def act(
        self, action: Action, actor: str, reason: str | None = None, duplicate_of: str | None = None
    ) -> bool:
        """Apply the action at its time, unless that time has not come yet (the incident waits)."""
        if self.stopped:
            return False
        at = self.next_time()
        if at >= self.now:
            self.stopped = True
            return False
        self.incident, record = self.domain.lifecycle.apply(
            self.incident, action, actor=actor, at=at, reason=reason, duplicate_of=duplicate_of
        )
        self.records.append(record)
        self.at = at
        return True

    def reroute(self, lead: str, actor: str, reason: str) -> bool:
        current = self.incident.assignment
        if self.stopped or current is None or lead == current.lead:
            return False
        try:
            assignment = self.domain.router.reroute(current, lead, reason)
        except DomainError:
            return False  # duty admission: the unit may not lead on this matter
        at = self.next_time(late=False)
        if at >= self.now:
            self.stopped = True
            return False
        self.incident, record = self.domain.lifecycle.reroute(
            self.incident, assignment, actor=actor, at=at, reason=reason
        )
        self.records.append(record)
        self.assignments.append((assignment, at, actor, reason))
        self.at = at
        return True


class HistoryBuilder:
    def __init__(
        self, session: Session, domain: Domain, seed: int, now: dt.datetime, months: int = MONTHS
    ) -> None:
        self.session, self.domain, self.now, self.span = session, domain, now, months
        self.rng = np.random.default_rng(seed)
        self.tz = domain.calendar.tz
        cells = session.exec(select(CellRow).order_by(col(CellRow.code))).all()
        self.cells = [c.code for c in cells]
        self.shapes = dict(zip(self.cells, shapely.from_geojson([c.geometry for c in cells]), strict=True))
        self.targets = {c.code: c.patrol_target for c in cells}
        workers = session.exec(select(WorkerRow).order_by(col(WorkerRow.id))).all()
        self.worker_of = {cell: w.id for w in workers for cell in w.cells}
        self.workers = [(w.id, w.township, list(w.cells)) for w in workers]
        units = session.exec(select(UnitRow).order_by(col(UnitRow.id))).all()
        self.departments = [u.id for u in units if u.kind == UnitKind.DEPARTMENT.value and not u.parent]
        self.offices: dict[str, list[str]] = {}
        for u in units:
            if u.township and u.kind != UnitKind.DEPARTMENT.value:
                self.offices.setdefault(u.township, []).append(u.id)
        self.serial = 0
        self.summary: Counter[str] = Counter()

    # -- the days -----------------------------------------------------------------------------------

    def first_day(self) -> dt.date:
        today = self.domain.calendar.local(self.now).date()
        month = today.year * 12 + today.month - 1 - self.span
        return dt.date(month // 12, month % 12 + 1, 1)

    def months(self) -> Iterator[list[dt.date]]:
        today = self.domain.calendar.local(self.now).date()
        day, days = self.first_day(), []
        while day <= today:
            days.append(day)
            day += dt.timedelta(days=1)
            if day.day == 1 or day > today:
                yield days
                days = []

    def build(self) -> Counter[str]:
        for days in self.months():
            batch = _Batch()
            for day in days:
                self._day(day, batch)
            self._write(batch)
            self._patrols(days)
            self.session.commit()
        return self.summary

    def _new_id(self) -> str:
        self.serial += 1
        return f"{int(self.rng.integers(2**47)):012x}{self.serial:08x}demo{self.serial % 65536:04x}"[:32]

    def _day(self, day: dt.date, batch: _Batch) -> None:
        workday = self.domain.calendar.is_workday(day)
        n = int(self.rng.poisson(PER_WORKDAY if workday else PER_RESTDAY))
        for _ in range(n):
            # Mostly by day; some at night, when only urgent clocks run.
            hour = float(self.rng.uniform(7, 19) if self.rng.random() < 0.9 else self.rng.uniform(0, 24))
            at = dt.datetime.combine(day, dt.time(), self.tz) + dt.timedelta(hours=hour)
            if at >= self.now:
                continue
            story = self._report(at)
            if story is None:
                continue
            self._live(story, batch)
            if self.rng.random() < DUPLICATE:
                twin = self._twin(story)
                if twin is not None:
                    self._keep(twin, batch)

    # -- one incident -------------------------------------------------------------------------------

    def _point(self, cell: str) -> tuple[float, float]:
        return point_in(self.shapes[cell], self.rng)

    def _report(self, at: dt.datetime, cell: str | None = None, category: str | None = None) -> _Story | None:
        cell = cell or self.cells[int(self.rng.integers(len(self.cells)))]
        if category is None:
            pool = URGENT if self.rng.random() < URGENT_SHARE else EVERYDAY
            category = pool[int(self.rng.integers(len(pool)))]
        lon, lat = self._point(cell)
        where = self.domain.index.locate(lon, lat, 8.0)
        if where.cell is None:
            return None
        township = township_of(where.cell)
        try:
            assignment = self.domain.router.route(
                category,
                township,
                at.date(),
                where.cell,
                snapped_m=where.snapped_m,
            )
        except DomainError:
            return None
        hotline = self.rng.random() < HOTLINE_SHARE
        incident = self.domain.lifecycle.open(
            Incident(
                id=self._new_id(),
                source=Source.HOTLINE if hotline else Source.REPORT,
                category=category,
                lon=lon,
                lat=lat,
                accuracy=8.0,
                reported_at=at,
                cell=where.cell,
                snapped=where.snapped,
                index_version=where.index_version,
                urgent=self.domain.catalog.category(category).urgent,
                text=self._pick(FIELD_TEXTS[category]),
                assignment=assignment,
            )
        )
        reporter = None if hotline else self.worker_of.get(where.cell)
        return _Story(self.domain, incident, reporter, self.now, self.rng)

    def _twin(self, first: _Story) -> _Story | None:
        """A second report of the same thing soon after: the duty officer marks it a duplicate."""
        original = first.incident
        assert original.cell is not None
        at = original.reported_at + dt.timedelta(minutes=float(self.rng.uniform(10, 180)))
        if at >= self.now:
            return None
        twin = self._report(at, original.cell, original.category)
        if twin is None:
            return None
        duty = f"duty:{township_of(original.cell)}"
        twin.act(Action.MARK_DUPLICATE, duty, duplicate_of=original.id)
        return twin

    def _live(self, story: _Story, batch: _Batch) -> None:
        incident = story.incident
        township = township_of(incident.cell or "")
        duty = f"duty:{township}"
        roll = self.rng.random
        if roll() < REJECT:
            story.act(Action.REJECT, duty, self._pick(REJECT_REASONS))
            self._keep(story, batch)
            return
        story.act(Action.ACCEPT, duty)
        if roll() < SUSPEND:
            story.act(Action.SUSPEND, duty, self._pick(SUSPEND_REASONS))
            self._keep(story, batch)
            return
        story.act(Action.DISPATCH, duty)
        if roll() < REROUTE:
            story.reroute(self._other_unit(story), duty, REROUTE_REASONS[0])
        elif roll() < RETURN / (1 - REROUTE):
            lead = story.incident.assignment.lead if story.incident.assignment else ""
            if story.act(Action.RETURN, f"unit:{lead}", RETURN_REASONS[0]):
                story.reroute(self._other_unit(story), duty, REROUTE_REASONS[1])
                story.act(Action.DISPATCH, duty)
        whistled = roll() < WHISTLE
        lead = story.incident.assignment.lead if story.incident.assignment else ""
        if story.act(Action.SIGN, f"unit:{lead}") and whistled:
            self._whistle(story, batch)
        if roll() < STUCK and (self.now - story.at) < dt.timedelta(days=60):
            story.stopped = True  # the unit has not handled it: overdue on the board
        story.act(Action.HANDLE, f"unit:{lead}")
        if roll() < REWORK and story.act(Action.REOPEN, duty, self._pick(REWORK_REASONS)):
            story.act(Action.HANDLE, f"unit:{lead}")
        story.act(Action.VERIFY, duty)
        story.act(Action.CLOSE, duty)
        self._keep(story, batch)

    def _pick(self, choices: tuple[str, ...]) -> str:
        return choices[int(self.rng.integers(len(choices)))]

    def _other_unit(self, story: _Story) -> str:
        """Where a duty officer sends a misdispatched incident: a support unit, else an office."""
        assignment = story.incident.assignment
        assert assignment is not None
        township = assignment.explanation.township
        choices = [u for u in (*assignment.support, *self.offices.get(township, ())) if u != assignment.lead]
        return choices[0] if choices else assignment.lead

    def _whistle(self, story: _Story, batch: _Batch) -> None:
        """The township whistles; the called departments report in (mostly on time) and are rated."""
        incident = story.incident
        emergency = incident.urgent
        kind = WhistleKind.EMERGENCY if emergency else WhistleKind.ROUTINE
        reason = (
            WhistleReason.EMERGENCY
            if emergency
            else (WhistleReason.NO_POWER if self.rng.random() < 0.5 else WhistleReason.CANNOT_SOLVE)
        )
        opened = story.at + dt.timedelta(minutes=float(self.rng.uniform(5, 60)))
        if opened >= self.now or not self.departments:
            return
        due = report_in_due(kind, opened, self.domain.calendar)
        whistle_id = self._new_id()
        batch.whistles.append(
            {
                "id": whistle_id,
                "incident": incident.id,
                "township": incident.township,
                "kind": kind.value,
                "reason": reason.value,
                "note": "",
                "opened_at": opened,
                "opened_by": f"duty:{incident.township}",
                "closed_at": None,
            }
        )
        picks = self.rng.choice(len(self.departments), size=min(2, len(self.departments)), replace=False)
        called = [self.departments[int(i)] for i in picks[: 1 + int(self.rng.random() < 0.4)]]
        for unit in called:
            roll = self.rng.random()
            span = max((due - opened).total_seconds(), 60.0)
            reported = (
                None
                if roll < 0.04
                else opened + dt.timedelta(seconds=span * float(self.rng.uniform(1.05, 3.0)))
                if roll < 0.14
                else opened + dt.timedelta(seconds=span * float(self.rng.uniform(0.1, 0.9)))
            )
            if reported is not None and reported >= self.now:
                reported = None
            rated = reported is not None and self.rng.random() < 0.8
            batch.calls.append(
                {
                    "whistle": whistle_id,
                    "unit": unit,
                    "due_at": due,
                    "reported_at": reported,
                    "reported_by": f"unit:{unit}" if reported else None,
                    "late": reported is not None and reported > due,
                    "rating": int(self.rng.choice([3, 4, 4, 5, 5])) if rated else None,
                    "rated_at": reported + dt.timedelta(hours=2) if rated and reported else None,
                }
            )
            story.called.append(unit)
        self.summary["whistles"] += 1

    def _keep(self, story: _Story, batch: _Batch) -> None:
        incident, records = story.incident, story.records
        milestones = reached(Milestones(), records)
        last = records[-1].at
        batch.incidents.append(
            {
                **report_columns(incident),
                "probable_duplicate_of": incident.duplicate_of,
                "created_at": incident.reported_at,
                "updated_at": last,
                "device": story.reporter or "hotline",
                "client_id": f"demo-{incident.id}",
                "reporter": story.reporter,
                "revision": len(records) - 1,
                "alert_count": 0,
                "last_seen": None,
                **state_columns(incident),
                **{name: getattr(milestones, name) for name in Milestones.__struct_fields__},
            }
        )
        for n, (assignment, at, by, reason) in enumerate(story.assignments):
            values = assignment_values(incident.id, assignment, at, by, reason)
            values["current"] = n == len(story.assignments) - 1
            batch.assignments.append(values)
        units = unit_values(incident.id, incident.assignment)
        known = {u["unit"] for u in units}
        units += [{"incident": incident.id, "unit": u} for u in story.called if u not in known]
        batch.units.extend(units)
        batch.flows.extend(flow_values(r) for r in records)
        self.summary["incidents"] += 1
        self.summary[f"state.{incident.state.value}"] += 1

    def _write(self, batch: _Batch) -> None:
        for table, rows in (
            (IncidentRow, batch.incidents),
            (AssignmentRow, batch.assignments),
            (IncidentUnitRow, batch.units),
            (FlowRow, batch.flows),
            (WhistleRow, batch.whistles),
            (WhistleCallRow, batch.calls),
        ):
            self._insert(table, rows)

    def _insert(self, table: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        """One executemany of plain tuples, each value through its column type's own bind processor:
        SQLAlchemy's per-row parameter handling would take most of the 30 s the demo may take."""
        if not rows:
            return
        connection = self.session.connection()
        dialect = connection.dialect
        target = table.__table__  # type: ignore[attr-defined]
        columns = target.c
        names = list(rows[0])
        processors = [_processor(columns[n].type, dialect) for n in names]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        quote = dialect.identifier_preparer.quote
        sql = (
            f"INSERT INTO {quote(target.name)} ({', '.join(quote(n) for n in names)}) "
            f"VALUES ({', '.join([mark] * len(names))})"
        )
        values = [
            tuple(
                v if p is None or v is None else p(v)
                for p, v in zip(processors, (r[n] for n in names), strict=True)
            )
            for r in rows
        ]
        connection.exec_driver_sql(sql, values)

    # -- patrols ------------------------------------------------------------------------------------

    def _patrols(self, days: list[dt.date]) -> None:
        """Each worker's visits to their cells: most cell-weeks reach the cell's weekly target."""
        weeks: dict[dt.date, list[dt.date]] = {}
        for day in days:
            weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(day)
        visits = [(w, t, c) for w, t, cells in self.workers for c in cells]
        n = len(visits) * len(weeks)
        # Drawn at once for the month: a loop of single draws is most of the time otherwise.
        full, short = self.rng.random(n).tolist(), self.rng.random(n).tolist()
        offset = self.rng.integers(0, 7, n).tolist()
        # Whole minutes after 08:00: few distinct moments to build and convert.
        minutes, pings = self.rng.integers(0, 240, 7 * n).tolist(), self.rng.integers(3, 40, 7 * n).tolist()
        starts = {day: dt.datetime.combine(day, dt.time(8), self.tz) for day in days}
        after = [dt.timedelta(minutes=m) for m in range(240 + 45)]
        rows = []
        k = 0
        for worker, township, cell in visits:
            target = self.targets.get(cell, 2)
            for week_days in weeks.values():
                want = target if full[k] < 0.85 else int(short[k] * (target + 1))
                span = len(week_days)
                step = 2 if want * 2 <= span else 1
                for j in range(min(want, span)):
                    day = week_days[(offset[k] + j * step) % span]
                    minute = minutes[7 * k + j]
                    first = starts[day] + after[minute]
                    if first < self.now:
                        rows.append(
                            {
                                "cell": cell,
                                "day": day,
                                "worker": worker,
                                "township": township,
                                "pings": pings[7 * k + j],
                                "first_at": first,
                                "last_at": min(starts[day] + after[minute + 45], self.now),
                            }
                        )
                k += 1
        self._insert(PatrolDayRow, rows)
        self.summary["patrol_days"] += len(rows)


def _processor(kind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """How a column's values go to the database driver. A moment's or a day's conversion is done
    once per distinct value (patrol days repeat them); JSON goes as its text where the dialect
    leaves it to a driver adapter that a plain executemany does not apply."""
    process: Callable[[Any], Any] | None = kind.bind_processor(dialect)
    if process is None and isinstance(kind, JSON):
        return lambda value: msgspec.json.encode(value).decode()
    if process is None or not isinstance(kind, UtcDateTime | Date):
        return process
    return functools.lru_cache(maxsize=None)(process)


def build_history(
    session: Session, domain: Domain, seed: int, now: dt.datetime, months: int = MONTHS
) -> Counter[str]:
    """Write the county's past, from the first day of the month `months` before now's up to `now`;
    what was written, by kind, for the log."""
    return HistoryBuilder(session, domain, seed, now, months).build()
