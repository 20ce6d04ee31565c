"""Tasks in the request's transaction: each caller's own list, and answers taken exactly once.

An answer is kept under (actor, client id) in the same transaction as the step it makes, so the same
answer sent again (a phone retrying after a lost ack) finds it and makes no second step, and a step
the lifecycle refuses keeps no answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from grid.clocks import is_overdue
from grid.errors import DomainError
from grid.incident import Incident, IncidentState
from grid.lifecycle import RULES, Action
from server.db.tables import IncidentRow, TaskAnswerRow, WhistleCallRow, WhistleRow
from server.incidents.service import IncidentService
from server.reference.service import worker_cells
from server.tasks.schemas import TaskKind
from server.tasks.store import answer_of, open_calls, to_verify, unit_work
from server.whistles.service import WhistleService

UNIT_STEPS = {"sign": Action.SIGN, "handle": Action.HANDLE, "return": Action.RETURN}


class AnswerRefused(DomainError):
    """An answer that does not say what it answers (422)."""

    code = "invalid_answer"


@dataclass
class Task:
    kind: TaskKind
    row: IncidentRow
    incident: Incident
    due_at: dt.datetime | None
    overdue: bool
    answers: list[str]
    whistle: WhistleRow | None = None
    calls: list[WhistleCallRow] = field(default_factory=list)


def check_answer(
    kind: str, incident: str | None, whistle: str | None, fixed: bool | None, carries: bool
) -> None:
    """An answer names the incident (or, to report in, the whistle) it answers, and a verification
    says whether the problem is fixed. A report-in is the unit's arrival and nothing more: a note or
    photos sent with it are refused rather than acknowledged and dropped."""
    if kind == "report_in":
        if whistle is None or incident is not None:
            raise AnswerRefused(
                "report_in names the whistle, not an incident",
                "报到须指明吹哨记录（whistle），而非事件",
                field="whistle",
            )
        if carries:
            raise AnswerRefused(
                "report_in carries no note or photos: report the handling with handle",
                "报到不附说明或照片；处置情况请用处置反馈上报",
                field="media",
            )
    elif incident is None or whistle is not None:
        raise AnswerRefused(
            f"{kind} names the incident, not a whistle",
            f"{kind} 须指明事件（incident），而非吹哨记录",
            field="incident",
        )
    if (kind == "verify") != (fixed is not None):
        raise AnswerRefused(
            "fixed (true or false) goes with a verify answer, and only with it",
            "fixed（是否已整改）仅用于核查答复，且核查答复必须填写",
            field="fixed",
        )


def action_of(kind: str, fixed: bool | None) -> Action:
    """The lifecycle step an answer makes: a verification that finds the problem still there reopens it."""
    if kind == "verify":
        return Action.VERIFY if fixed else Action.REOPEN
    return UNIT_STEPS[kind]


class TaskService:
    def __init__(
        self,
        session: Session,
        incidents: IncidentService,
        whistles: WhistleService,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.session = session
        self.incidents = incidents
        self.whistles = whistles
        self.clock = clock

    # -- the lists --------------------------------------------------------------------------------

    def cells_of(self, worker: str) -> list[str]:
        return worker_cells(self.session, worker)

    def for_worker(self, worker: str) -> list[Task]:
        rows = to_verify(self.session, self.cells_of(worker))
        return self._sorted([self._incident_task("verify", r, i) for r, i in self._with_incidents(rows)])

    def for_unit(self, unit: str) -> list[Task]:
        work = [
            self._incident_task("sign" if i.state is IncidentState.DISPATCHED else "handle", r, i)
            for r, i in self._with_incidents(unit_work(self.session, unit))
        ]
        calls = open_calls(self.session, unit)
        rows = [self.incidents.row(i) for i in dict.fromkeys(w.incident for w, _ in calls)]
        by_id = {r.id: (r, i) for r, i in self._with_incidents(rows)}
        now = self.clock()
        report_in = [
            Task(
                kind="report_in",
                row=by_id[w.incident][0],
                incident=by_id[w.incident][1],
                due_at=c.due_at,
                overdue=now > c.due_at,
                answers=["report_in"],
                whistle=w,
                calls=self.whistles.calls(w.id),
            )
            for w, c in calls
        ]
        return self._sorted([*work, *report_in])

    def _with_incidents(self, rows: list[IncidentRow]) -> list[tuple[IncidentRow, Incident]]:
        return list(zip(rows, self.incidents.incidents_of(rows), strict=True))

    def _incident_task(self, kind: TaskKind, row: IncidentRow, incident: Incident) -> Task:
        steps = (
            ["verify"]
            if kind == "verify"
            else [a for a, s in UNIT_STEPS.items() if incident.state in RULES[s].sources]
        )
        return Task(
            kind=kind,
            row=row,
            incident=incident,
            due_at=incident.clock.deadline if incident.clock else None,
            overdue=is_overdue(incident, self.clock()),
            answers=steps,
        )

    @staticmethod
    def _sorted(tasks: list[Task]) -> list[Task]:
        """Soonest due first; work without a clock last."""
        never = dt.datetime.max.replace(tzinfo=dt.UTC)
        return sorted(tasks, key=lambda t: (t.due_at or never, t.kind, t.row.id))

    # -- answers ----------------------------------------------------------------------------------

    def earlier(self, actor: str, client_id: str) -> TaskAnswerRow | None:
        return answer_of(self.session, actor, client_id)

    def take(
        self,
        actor: str,
        client_id: str,
        kind: str,
        target: str,
        fixed: bool | None,
        note: str,
        media: tuple[str, ...],
        unit: str | None,
    ) -> bool:
        """Make the answer's step and keep the answer, in one transaction. False: a concurrent copy of
        this answer was taken first (nothing more is written)."""
        is_call = kind == "report_in"
        self.session.add(
            TaskAnswerRow(
                actor=actor,
                client_id=client_id,
                kind=kind,
                incident=None if is_call else target,
                whistle=target if is_call else None,
                at=self.clock(),
            )
        )
        try:
            # At once, not at the commit: a concurrent copy holding the key makes this wait, then fail.
            self.session.flush()
        except IntegrityError:
            self.session.rollback()
            return False
        try:
            if is_call:
                assert unit is not None
                self.whistles.report_in(target, unit, actor)
            else:
                self.incidents.apply(target, action_of(kind, fixed), actor, note, None, media)
        except Exception:
            self.session.rollback()  # a refused step keeps no answer
            raise
        return True
