"""The live stream's source: the outbox table, read after a cursor and filtered by the caller's scope."""

from __future__ import annotations

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from server.auth import Principal, Role
from server.db.tables import EventRow, IncidentRow


def visible(principal: Principal, event: EventRow, reporters: dict[str, str | None]) -> bool:
    match principal.role:
        case Role.ADMIN | Role.DUTY:
            return principal.sees_township(event.township)
        case Role.UNIT:
            return principal.scope_id in event.units
        case Role.WORKER:
            return event.incident is not None and reporters.get(event.incident) == principal.scope_id
        case _:
            return False


def events_after(engine: Engine, principal: Principal, cursor: int, limit: int) -> tuple[list[EventRow], int]:
    """Events after `cursor` that the caller may see, and the cursor to resume from (the last event
    read, seen or not, so filtered-out events are not read again)."""
    with Session(engine) as session:
        query = select(EventRow).where(col(EventRow.id) > cursor)
        if principal.role in (Role.ADMIN, Role.DUTY):
            if principal.scope_kind == "township":
                query = query.where(EventRow.township == principal.scope_id)
            else:
                query = query.where(
                    or_(col(EventRow.township).startswith(principal.county), col(EventRow.township).is_(None))
                )
        rows = list(session.exec(query.order_by(col(EventRow.id)).limit(limit)).all())
        incidents = {r.incident for r in rows if r.incident}
        reporters = dict(
            session.exec(
                select(IncidentRow.id, IncidentRow.reporter).where(col(IncidentRow.id).in_(incidents))
            ).all()
        )
    last = rows[-1].id if rows else cursor
    return [r for r in rows if visible(principal, r, reporters)], int(last or cursor)
