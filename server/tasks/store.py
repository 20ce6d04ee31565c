"""The tasks' queries: what waits for a worker's verification or a unit's hand, and answers taken."""

from __future__ import annotations

from sqlmodel import Session, col, select

from grid.incident import IncidentState
from server.db.tables import IncidentRow, TaskAnswerRow, WhistleCallRow, WhistleRow
from server.incidents.store import OPEN_STATES

S = IncidentState
# A phone's list stays short; past this the duty officers have a bigger problem than a phone.
MAX_TASKS = 500
UNIT_STATES = [S.DISPATCHED.value, S.SIGNED.value, S.REOPENED.value]


def to_verify(session: Session, cells: list[str]) -> list[IncidentRow]:
    """Handled incidents in these cells: the handling waits for a worker to look (核查)."""
    if not cells:
        return []
    return list(
        session.exec(
            select(IncidentRow)
            .where(IncidentRow.state == S.HANDLED.value, col(IncidentRow.cell).in_(cells))
            .order_by(col(IncidentRow.deadline), col(IncidentRow.id))
            .limit(MAX_TASKS)
        ).all()
    )


def unit_work(session: Session, unit: str) -> list[IncidentRow]:
    """Incidents the unit leads that wait for it to sign or to handle."""
    return list(
        session.exec(
            select(IncidentRow)
            .where(
                IncidentRow.lead_unit == unit,
                col(IncidentRow.state).in_(UNIT_STATES),
                col(IncidentRow.in_review).is_(False),
            )
            .order_by(col(IncidentRow.deadline), col(IncidentRow.id))
            .limit(MAX_TASKS)
        ).all()
    )


def open_calls(session: Session, unit: str) -> list[tuple[WhistleRow, WhistleCallRow]]:
    """Whistles on open incidents that called the unit and it has not reported in to."""
    open_incidents = select(IncidentRow.id).where(col(IncidentRow.state).in_(OPEN_STATES))
    rows = session.exec(
        select(WhistleRow, WhistleCallRow)
        .join(WhistleCallRow, col(WhistleCallRow.whistle) == col(WhistleRow.id))
        .where(
            WhistleCallRow.unit == unit,
            col(WhistleCallRow.reported_at).is_(None),
            col(WhistleRow.incident).in_(open_incidents),
        )
        .order_by(col(WhistleCallRow.due_at), col(WhistleRow.id))
        .limit(MAX_TASKS)
    ).all()
    return [(w, c) for w, c in rows]


def answer_of(session: Session, actor: str, client_id: str) -> TaskAnswerRow | None:
    return session.get(TaskAnswerRow, (actor, client_id))
