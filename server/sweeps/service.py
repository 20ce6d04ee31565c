"""Sweep plans in the database: the planner's inputs read from the store, each plan kept as one
document with a revision, edits re-checked by the core's rules, outcomes fed back to subjects."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import msgspec
import shapely
from sqlalchemy import func
from sqlmodel import Session, col, select

from grid.domain import Domain
from grid.errors import NotFound, StateConflict
from grid.incident import IncidentState, Source
from grid.intake import Intake, Report
from grid.organisation import Officer
from grid.places import COUNTY_DIGITS, Township, county_of
from grid.subjects import Subject
from grid.sweep.candidates import HotCell, OpenIncident
from grid.sweep.draw import inputs_digest
from grid.sweep.outcomes import Outcome, risk_after
from grid.sweep.plan import Mode, Stop, SweepPlan, SweepRefused, SweepRules, check_day
from grid.sweep.planner import SweepInputs, plan_sweep, reorder
from grid.sweep.routes import RouteSolver
from grid.sweep.rules import move_stop, swap_officer
from server.api.listings import page_of
from server.db.tables import (
    CellRow,
    IncidentRow,
    OfficerAbsenceRow,
    OfficerRow,
    SubjectRow,
    SubjectVisitRow,
    SweepOutcomeRow,
    SweepPlanRow,
)
from server.reference.service import domain_values

# The incident states whose next step is a visit: accepted, sent to a unit, signed for, or reworked.
ON_SITE_STATES = [
    IncidentState.ACCEPTED,
    IncidentState.DISPATCHED,
    IncidentState.SIGNED,
    IncidentState.REOPENED,
]


def next_tuesday(today: dt.date) -> dt.date:
    """The next Tuesday after today (a plan is made ahead of its day)."""
    return today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)


class SweepAudit(msgspec.Struct, frozen=True, kw_only=True):
    stored_digest: str
    digest_now: str
    same_inputs: bool
    # None when the inputs changed since (the draw cannot be repeated on other inputs).
    same_draw: bool | None


def plan_of(row: SweepPlanRow) -> SweepPlan:
    # Stored as JSON: integer keys (sample shares by risk) come back as strings, hence strict=False.
    return msgspec.convert(row.plan, SweepPlan, strict=False)


class SweepService:
    def __init__(
        self,
        session: Session,
        domain: Callable[[], Domain],
        clock: Callable[[], dt.datetime],
        solver: RouteSolver,
    ) -> None:
        self.session = session
        self.domain = domain
        self.clock = clock
        self.solver = solver

    # -- inputs -----------------------------------------------------------------------------------

    def townships_in(self, scope: str) -> dict[str, Township]:
        townships = self.domain().router.townships
        found = {
            c: t
            for c, t in townships.items()
            if c == scope or (len(scope) == COUNTY_DIGITS and c.startswith(scope))
        }
        if not found:
            raise NotFound(f"no township or county {scope}", f"没有乡镇或县 {scope}", scope=scope)
        return found

    def inputs(self, date: dt.date, scope: str, rules: SweepRules) -> SweepInputs:
        townships = self.townships_in(scope)
        county = county_of(scope)
        codes = list(townships)
        subject_rows = self.session.exec(select(SubjectRow).where(col(SubjectRow.township).in_(codes)))
        subjects = domain_values(subject_rows, Subject)
        return SweepInputs(
            date=date,
            scope=scope,
            townships=townships,
            units=dict(self.domain().router.units),
            subjects=tuple(subjects),
            officers=tuple(self._officers_of(county).values()),
            incidents=tuple(self._on_site_incidents(codes)),
            hot_cells=tuple(self._hot_cells(codes, date, rules)),
            absent=tuple(self._absent_on(date)),
        )

    def _officers_of(self, county: str) -> dict[str, Officer]:
        rows = self.session.exec(select(OfficerRow).where(col(OfficerRow.unit).startswith(county)))
        return {o.id: o for o in domain_values(rows, Officer)}

    def _absent_on(self, day: dt.date) -> list[str]:
        return list(
            self.session.exec(
                select(OfficerAbsenceRow.officer).where(
                    OfficerAbsenceRow.first_day <= day, OfficerAbsenceRow.last_day >= day
                )
            ).all()
        )

    def _on_site_incidents(self, townships: list[str]) -> list[OpenIncident]:
        domain = self.domain()
        calendar = domain.calendar
        on_site = [c.code for c in domain.catalog.categories if c.on_site]
        rows = self.session.exec(
            select(IncidentRow).where(
                col(IncidentRow.township).in_(townships),
                col(IncidentRow.state).in_([s.value for s in ON_SITE_STATES]),
                col(IncidentRow.category).in_(on_site),
                col(IncidentRow.lead_unit).is_not(None),
            )
        ).all()
        return [
            OpenIncident(
                id=r.id,
                category=r.category,
                township=r.township or "",
                cell=r.cell,
                lon=r.lon,
                lat=r.lat,
                units=(r.lead_unit or "",),
                reported_on=calendar.local(r.reported_at).date(),
                subject=r.subject,
            )
            for r in rows
        ]

    def _hot_cells(self, townships: list[str], date: dt.date, rules: SweepRules) -> list[HotCell]:
        since = dt.datetime.combine(
            date - dt.timedelta(days=rules.hot_cell_days), dt.time(), self.domain().calendar.tz
        )
        counts = self.session.exec(
            select(IncidentRow.cell, IncidentRow.lead_unit, func.count())
            .where(
                col(IncidentRow.township).in_(townships),
                col(IncidentRow.cell).is_not(None),
                IncidentRow.reported_at >= since,
            )
            .group_by(col(IncidentRow.cell), col(IncidentRow.lead_unit))
        ).all()
        per_cell: dict[str, Counter[str]] = defaultdict(Counter)
        for cell, unit, n in counts:
            per_cell[cell or ""][unit or ""] += n
        hot = {c: units for c, units in per_cell.items() if sum(units.values()) >= rules.hot_cell_incidents}
        if not hot:
            return []
        rows = self.session.exec(select(CellRow).where(col(CellRow.code).in_(list(hot)))).all()
        points = shapely.point_on_surface(shapely.from_geojson([r.geometry for r in rows]))
        return [
            HotCell(
                cell=r.code,
                township=r.township,
                name=r.name,
                lon=round(float(p.x), 6),
                lat=round(float(p.y), 6),
                incidents=sum(hot[r.code].values()),
                # The unit that leads most of the cell's incidents goes there.
                units=tuple(u for u, _ in hot[r.code].most_common(1) if u),
            )
            for r, p in zip(rows, points, strict=True)
        ]

    # -- plans ------------------------------------------------------------------------------------

    def create(
        self, date: dt.date, scope: str, mode: Mode, seed: int | None, rules: SweepRules, actor: str
    ) -> SweepPlanRow:
        check_day(date)
        domain = self.domain()
        plan = plan_sweep(self.inputs(date, scope, rules), domain.router, self.solver, rules, mode, seed)
        row = SweepPlanRow(
            id=f"SW{date:%Y%m%d}-{scope}-{uuid.uuid4().hex[:6]}",
            county=county_of(scope),
            scope=scope,
            date=date,
            mode=mode.value,
            seed=seed,
            digest=plan.digest,
            plan=msgspec.to_builtins(plan),
            created_at=self.clock(),
            created_by=actor,
        )
        self.session.add(row)
        self.session.commit()
        return row

    def row(self, plan_id: str) -> SweepPlanRow:
        row = self.session.get(SweepPlanRow, plan_id)
        if row is None:
            raise NotFound(f"no sweep plan {plan_id}", f"没有检查计划 {plan_id}", plan=plan_id)
        return row

    def record_absence(self, officer: str, first: dt.date, last: dt.date, reason: str) -> None:
        """An officer away (leave, training): not drawn for a sweep on those days."""
        if self.session.get(OfficerRow, officer) is None:
            raise NotFound(f"no officer {officer}", f"没有执法人员 {officer}", officer=officer)
        self.session.add(OfficerAbsenceRow(officer=officer, first_day=first, last_day=last, reason=reason))
        self.session.commit()

    def listing(
        self, townships: Sequence[str] | None, county: str | None, limit: int, offset: int
    ) -> tuple[list[SweepPlanRow], int]:
        query = select(SweepPlanRow)
        if townships is not None:
            query = query.where(col(SweepPlanRow.scope).in_(townships))
        if county is not None:
            query = query.where(SweepPlanRow.county == county)
        return page_of(
            self.session, query, [col(SweepPlanRow.date).desc(), col(SweepPlanRow.id)], limit, offset
        )

    def names(self, plan: SweepPlan) -> dict[str, str]:
        """The names people read for the plan's officers and for every unit its stops and teams name."""
        ids = [o for t in plan.teams for o in t.officers]
        rows = self.session.exec(select(OfficerRow.id, OfficerRow.name).where(col(OfficerRow.id).in_(ids)))
        units = self.domain().router.units
        named = {u for s in plan.stops for u in s.units} | {u for t in plan.teams for u in t.units}
        return dict(rows.all()) | {u: units[u].name_zh for u in named if u in units}

    def _draft(self, plan_id: str, revision: int) -> SweepPlanRow:
        row = self.row(plan_id)
        if row.status != "draft":
            raise SweepRefused(
                f"plan {plan_id} is published; it can no longer be edited",
                f"计划 {plan_id} 已发布，不能再调整",
            )
        if row.revision != revision:
            raise StateConflict(
                f"plan {plan_id} changed (revision {row.revision}, not {revision}); reload it",
                f"计划 {plan_id} 已被修改（版本 {row.revision}），请重新加载",
                revision=row.revision,
            )
        return row

    def _edit(
        self,
        plan_id: str,
        revision: int,
        edit: Callable[[SweepPlan, dict[str, Officer], list[str]], tuple[SweepPlan, Sequence[str]]],
    ) -> SweepPlanRow:
        row = self._draft(plan_id, revision)
        plan = plan_of(row)
        edited, touched = edit(plan, self._officers_of(row.county), self._absent_on(plan.date))
        edited = reorder(edited, touched, self.solver)
        row.plan = msgspec.to_builtins(edited)
        row.revision += 1
        self.session.add(row)
        self.session.commit()
        return row

    def move(self, plan_id: str, revision: int, stop: str, team: str | None) -> SweepPlanRow:
        def edit(
            plan: SweepPlan, officers: dict[str, Officer], absent: list[str]
        ) -> tuple[SweepPlan, Sequence[str]]:
            before = plan.team_of(stop)
            moved = move_stop(plan, stop, team, officers, absent)
            return moved, [t for t in (before.id if before else None, team) if t]

        return self._edit(plan_id, revision, edit)

    def swap(self, plan_id: str, revision: int, team: str, leaving: str, joining: str) -> SweepPlanRow:
        def edit(
            plan: SweepPlan, officers: dict[str, Officer], absent: list[str]
        ) -> tuple[SweepPlan, Sequence[str]]:
            others = [o for t in plan.teams if t.id != team for o in t.officers]
            if joining in others:
                raise SweepRefused(
                    f"{joining} is already in another team", f"{joining} 已在其他检查组", officer=joining
                )
            return swap_officer(plan, team, leaving, joining, officers, absent), []

        return self._edit(plan_id, revision, edit)

    def publish(self, plan_id: str, revision: int, actor: str) -> SweepPlanRow:
        row = self._draft(plan_id, revision)
        self._check_nobody_booked_twice(row)
        row.status = "published"
        row.published_at = self.clock()
        row.published_by = actor
        row.revision += 1
        self.session.add(row)
        self.session.commit()
        return row

    def _check_nobody_booked_twice(self, row: SweepPlanRow) -> None:
        """An officer walks one route a day: refuse a plan whose officers a published plan of the same
        day already has."""
        mine = {o for t in plan_of(row).teams for o in t.officers}
        others = self.session.exec(
            select(SweepPlanRow).where(
                SweepPlanRow.date == row.date,
                SweepPlanRow.status == "published",
                SweepPlanRow.id != row.id,
            )
        ).all()
        for other in sorted(others, key=lambda r: r.id):
            booked = sorted(mine & {o for t in plan_of(other).teams for o in t.officers})
            if booked:
                names = self.names(plan_of(other))
                who = ", ".join(f"{names.get(o, o)} ({o})" for o in booked)
                who_zh = "、".join(f"{names.get(o, o)}（{o}）" for o in booked)
                raise SweepRefused(
                    f"{who} already on published plan {other.id} for {row.date}; "
                    "swap them out (or move their stops) and publish again",
                    f"{who_zh} 已在 {row.date} 的已发布计划 {other.id} 中；请先换人（或调整检查点）再发布",
                    plan=other.id,
                    officers=booked,
                )

    # -- after the day ------------------------------------------------------------------------------

    def outcomes(self, plan_id: str) -> list[SweepOutcomeRow]:
        return list(
            self.session.exec(
                select(SweepOutcomeRow)
                .where(SweepOutcomeRow.plan == plan_id)
                .order_by(col(SweepOutcomeRow.stop))
            ).all()
        )

    def record(
        self,
        plan_id: str,
        stop_id: str,
        outcome: Outcome,
        note: str,
        category: str | None,
        actor: str,
        intake: Intake,
    ) -> SweepOutcomeRow:
        row = self.row(plan_id)
        plan = plan_of(row)
        stop = plan.stop(stop_id)
        if row.status != "published":
            raise SweepRefused("outcomes are recorded on a published plan", "只能为已发布的计划登记检查结果")
        today = self.domain().calendar.local(self.clock()).date()
        if plan.date > today:
            raise SweepRefused(
                f"the sweep of {plan.date} has not happened yet (today is {today}); "
                "record its outcomes on or after that day",
                f"{plan.date} 的检查尚未进行（今天是 {today}），请在当天或之后登记检查结果",
                date=plan.date.isoformat(),
            )
        if plan.team_of(stop_id) is None:
            raise SweepRefused(
                f"{stop_id} is not on any team's route", f"{stop_id} 不在任何检查组的路线上", stop=stop_id
            )
        if self.session.get(SweepOutcomeRow, (plan_id, stop_id)) is not None:
            raise StateConflict(
                f"the outcome of {stop_id} is already recorded", f"{stop_id} 的检查结果已登记", stop=stop_id
            )
        incident = None
        if outcome is Outcome.CASE_OPENED:
            incident = (
                stop.incidents[0]
                if stop.incidents
                else self._open_case(plan, stop, category, note, actor, intake)
            )
        recorded = SweepOutcomeRow(
            plan=plan_id,
            stop=stop_id,
            outcome=outcome.value,
            note=note,
            incident=incident,
            recorded_at=self.clock(),
            recorded_by=actor,
        )
        self.session.add(recorded)
        subject = self.session.get(SubjectRow, stop.subject) if stop.subject else None
        if subject is not None:
            after = risk_after(subject.risk, outcome)
            self.session.add(
                SubjectVisitRow(
                    subject=subject.id,
                    date=plan.date,
                    plan=plan_id,
                    outcome=outcome.value,
                    risk_before=subject.risk,
                    risk_after=after,
                )
            )
            subject.last_inspected = plan.date
            subject.risk = after
            self.session.add(subject)
        self.session.commit()
        return recorded

    def _open_case(
        self, plan: SweepPlan, stop: Stop, category: str | None, note: str, actor: str, intake: Intake
    ) -> str:
        if category is None:
            raise SweepRefused(
                "opening a case needs the category of what was found", "立案需填写发现问题的事件类别"
            )
        # Keyed by (plan, stop): recording again after a failure finds the same incident, not a new one.
        report = Report(
            device=f"sweep:{plan.scope}:{plan.date}",
            client_id=stop.id,
            source=Source.SWEEP,
            category=category,
            lon=stop.lon,
            lat=stop.lat,
            ts=self.clock(),
            text=note,
            subject=stop.subject,
            reporter=actor,
        )
        # The intake commits on sessions of its own: give this one's connection back first, so a
        # request never holds one pooled connection while it waits for another.
        self.session.commit()
        return intake.submit(report, lambda: uuid.uuid4().hex).incident.id

    def audit(self, plan_id: str) -> SweepAudit:
        """Is the stored draw what the stored seed gives on the inputs as they are now?"""
        row = self.row(plan_id)
        stored = plan_of(row)
        inputs = self.inputs(stored.date, stored.scope, stored.rules)
        now = inputs_digest(inputs.canonical())
        same_draw = None
        if now == row.digest:
            again = plan_sweep(
                inputs, self.domain().router, self.solver, stored.rules, stored.mode, stored.seed
            )
            same_draw = [s.id for s in again.stops] == [s.id for s in stored.stops] and [
                t.officers for t in again.teams
            ] == [t.officers for t in stored.teams]
        return SweepAudit(
            stored_digest=row.digest, digest_now=now, same_inputs=now == row.digest, same_draw=same_draw
        )
