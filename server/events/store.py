"""The live stream's source: the outbox table, read after a cursor and filtered by the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, func, or_, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, col, select

from server.auth import Principal, Role
from server.db.tables import EventRow, IncidentRow, RelayCursorRow
from sync.relay import OutboxEvent, readable, utc_now


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
    """Events after `cursor` that the caller may see, and the cursor to resume from: the last event
    read, seen or not (filtered-out events are not read again), and never past a hole that may
    still fill (sync.relay.readable)."""
    with Session(engine) as session:
        outbox = session.exec(
            select(EventRow.id, EventRow.at)
            .where(col(EventRow.id) > cursor)
            .order_by(col(EventRow.id))
            .limit(limit)
        ).all()
        ids = [int(i or 0) for i, _ in outbox]
        ready = readable(ids, [at for _, at in outbox], cursor, utc_now())
        if ready == 0:
            return [], cursor
        through = ids[ready - 1]
        query = select(EventRow).where(col(EventRow.id) > cursor, col(EventRow.id) <= through)
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
    return [r for r in rows if visible(principal, r, reporters)], through


def stream_head(engine: Engine, window: int = 1000) -> int:
    """The cursor a new client starts its stream from after loading its snapshot: the newest event
    that every earlier event has settled up to (a younger hole may still commit)."""
    with Session(engine) as session:
        recent = session.exec(
            select(EventRow.id, EventRow.at).order_by(col(EventRow.id).desc()).limit(window)
        ).all()
    if not recent:
        return 0
    ids = [int(i or 0) for i, _ in reversed(recent)]
    start = ids[0] - 1
    ready = readable(ids, [at for _, at in reversed(recent)], start, utc_now())
    return ids[ready - 1] if ready else start


class SqlOutbox:
    """sync.relay.Outbox on the event table. On PostgreSQL the lead is a session advisory lock held
    on a connection of its own: a relay that dies drops its connection, and the lock with it."""

    NAME = "broker"
    LEAD_LOCK = 0x6777_7265_6C61_7900  # "gwrelay": any constant every relay agrees on

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lead: Connection | None = None

    @property
    def leading(self) -> bool:
        return self._lead is not None

    def lead(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True  # SQLite is one machine; two relays there both publish, at least once
        if self._lead is not None:
            try:
                self._lead.execute(text("SELECT 1"))
                self._lead.commit()
                return True
            except DBAPIError:  # the database restarted: the lock went with the connection
                self._lead.invalidate()
                self._lead = None
        connection = self.engine.connect()
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.LEAD_LOCK}
            ).scalar()
            connection.commit()  # a session lock outlives the transaction; nothing stays open
        except DBAPIError:
            connection.close()
            return False
        if got:
            self._lead = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._lead is None:
            return
        lead, self._lead = self._lead, None
        try:
            lead.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.LEAD_LOCK})
            lead.commit()
            lead.close()  # back to the pool, without the lock
        except DBAPIError:
            lead.invalidate()  # closed for good: the server drops the lock with the session

    def cursor(self) -> int:
        with Session(self.engine) as session:
            row = session.get(RelayCursorRow, self.NAME)
            if row is not None:
                return row.position
            # A relay's first start publishes from now on, not the whole history.
            start = session.exec(select(func.coalesce(func.max(EventRow.id), 0))).one() or 0
            session.add(RelayCursorRow(name=self.NAME, position=start))
            try:
                session.commit()
            except IntegrityError:  # another relay started at the same moment
                session.rollback()
                return self.cursor()
            return start

    def backlog(self) -> int:
        """Events committed after the relay's cursor (0 before any relay has started)."""
        with Session(self.engine) as session:
            row = session.get(RelayCursorRow, self.NAME)
            if row is None:
                return 0
            return int(
                session.exec(
                    select(func.count()).select_from(EventRow).where(col(EventRow.id) > row.position)
                ).one()
            )

    def after(self, cursor: int, limit: int) -> Sequence[OutboxEvent]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(EventRow).where(col(EventRow.id) > cursor).order_by(col(EventRow.id)).limit(limit)
            ).all()
            return [
                OutboxEvent(
                    id=int(r.id or 0),
                    at=r.at,
                    kind=r.kind,
                    incident=r.incident,
                    township=r.township,
                    units=list(r.units),
                    payload=dict(r.payload),
                )
                for r in rows
            ]

    def advance(self, seen: int, to: int) -> bool:
        with Session(self.engine) as session:
            moved = session.exec(
                update(RelayCursorRow)
                .where(col(RelayCursorRow.name) == self.NAME, col(RelayCursorRow.position) == seen)
                .values(position=to)
            )
            session.commit()
            return bool(moved.rowcount == 1)
