"""Incidents in the database: the intake store, the lifecycle's transitions, listings and history.

Every change writes its flow records and an outbox event in the same transaction as the incident,
and bumps the incident's revision so two officers acting at once cannot both win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, update
from sqlmodel import Session, col, select

from grid.domain import Domain
from grid.errors import NotFound, StateConflict
from grid.incident import FlowRecord, Incident
from grid.intake import check_media
from grid.lifecycle import Action
from server.db.tables import AssignmentRow, EventRow, FlowRow, IncidentRow, IncidentUnitRow
from server.incidents.store import (
    OPEN_STATES,
    assignment_values,
    current_assignment,
    event_values,
    flow_values,
    insert_rows,
    milestone_columns,
    state_columns,
    to_incident,
    unit_values,
    with_assignments,
)
from server.media.store import DiskMediaStore, MediaRefused

# Rows are written as plain values in bulk INSERTs: a batch of reports builds no ORM objects.


def uploaded_media(names: Sequence[str], media_dir: Path) -> tuple[str, ...]:
    """The photos of a step as /media/ URLs: each named as POST /media answered it (its `url` or bare
    `name`) and already uploaded, so a history never links a photo that is not there."""
    urls = tuple(n if n.startswith("/media/") else f"/media/{n}" for n in names)
    check_media(urls)  # as many as a report may carry
    store = DiskMediaStore(media_dir)
    for url in urls:
        name = url.removeprefix("/media/")
        if not store.path(name).exists():  # path() refuses what is not a media name
            raise MediaRefused(
                f"media {name} was not uploaded (POST /media first)",
                f"媒体 {name} 尚未上传（请先 POST /media）",
                field="media",
            )
    return urls


@dataclass
class IncidentFilter:
    townships: Sequence[str] | None = None
    # The county's townships, and the unlocated incidents that wait for its duty officers.
    county: str | None = None
    unit: str | None = None  # any part: lead, support or informed
    lead_unit: str | None = None
    reporter: str | None = None
    device: str | None = None
    states: Sequence[str] | None = None
    category: str | None = None
    overdue: bool | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    in_review: bool | None = None


class IncidentService:
    def __init__(
        self, session: Session, domain: Callable[[], Domain], clock: Callable[[], dt.datetime]
    ) -> None:
        self.session = session
        self.domain = domain
        self.clock = clock

    # -- reading ----------------------------------------------------------------------------------

    def row(self, incident_id: str) -> IncidentRow:
        row = self.session.get(IncidentRow, incident_id)
        if row is None:
            raise NotFound(f"no incident {incident_id}", f"没有事件 {incident_id}", incident=incident_id)
        return row

    def get(self, incident_id: str) -> Incident:
        return to_incident(self.row(incident_id), current_assignment(self.session, incident_id))

    def units(self, incident_id: str) -> set[str]:
        return set(
            self.session.exec(
                select(IncidentUnitRow.unit).where(IncidentUnitRow.incident == incident_id)
            ).all()
        )

    def history(self, incident_id: str) -> list[FlowRow]:
        return list(
            self.session.exec(
                select(FlowRow).where(FlowRow.incident == incident_id).order_by(col(FlowRow.id))
            ).all()
        )

    def assignments(self, incident_id: str) -> list[AssignmentRow]:
        return list(
            self.session.exec(
                select(AssignmentRow)
                .where(AssignmentRow.incident == incident_id)
                .order_by(col(AssignmentRow.id))
            ).all()
        )

    def search(self, where: IncidentFilter, limit: int, offset: int) -> tuple[list[IncidentRow], int]:
        conditions: list[Any] = []
        if where.townships is not None:
            conditions.append(col(IncidentRow.township).in_(where.townships))
        if where.county is not None:
            conditions.append(
                or_(col(IncidentRow.township).startswith(where.county), col(IncidentRow.township).is_(None))
            )
        if where.unit:
            parts = select(IncidentUnitRow.incident).where(IncidentUnitRow.unit == where.unit)
            conditions.append(col(IncidentRow.id).in_(parts))
        if where.lead_unit:
            conditions.append(IncidentRow.lead_unit == where.lead_unit)
        if where.reporter:
            conditions.append(IncidentRow.reporter == where.reporter)
        if where.device:
            conditions.append(IncidentRow.device == where.device)
        if where.states:
            conditions.append(col(IncidentRow.state).in_(where.states))
        if where.category:
            conditions.append(IncidentRow.category == where.category)
        if where.in_review is not None:
            conditions.append(col(IncidentRow.in_review).is_(where.in_review))
        if where.since:
            conditions.append(IncidentRow.reported_at >= where.since)
        if where.until:
            conditions.append(IncidentRow.reported_at < where.until)
        if where.bbox:
            minx, miny, maxx, maxy = where.bbox
            conditions.append(
                and_(col(IncidentRow.lon).between(minx, maxx), col(IncidentRow.lat).between(miny, maxy))
            )
        if where.overdue is not None:
            now = self.clock()
            late = and_(
                col(IncidentRow.state).in_(OPEN_STATES),
                or_(
                    and_(col(IncidentRow.clock_remaining).is_(None), col(IncidentRow.deadline) < now),
                    col(IncidentRow.clock_remaining) < 0,
                ),
            )
            conditions.append(late if where.overdue else ~late)
        total = self.session.exec(select(func.count()).select_from(IncidentRow).where(*conditions)).one()
        rows = self.session.exec(
            select(IncidentRow)
            .where(*conditions)
            .order_by(
                col(IncidentRow.urgent).desc(), col(IncidentRow.reported_at).desc(), col(IncidentRow.id)
            )
            .limit(limit)
            .offset(offset)
        ).all()
        return list(rows), int(total)

    def incidents_of(self, rows: Sequence[IncidentRow]) -> list[Incident]:
        return with_assignments(self.session, rows)

    # -- changing ---------------------------------------------------------------------------------

    def _save(
        self, row: IncidentRow, after: Incident, records: Sequence[FlowRecord], kind: str, now: dt.datetime
    ) -> None:
        """Write the new state if nobody changed the incident since it was read."""
        revision = row.revision
        changed = self.session.exec(
            update(IncidentRow)
            .where(col(IncidentRow.id) == row.id, col(IncidentRow.revision) == revision)
            .values(
                revision=revision + 1,
                updated_at=now,
                **state_columns(after),
                **milestone_columns(row, records),
            )
        )
        if changed.rowcount != 1:
            self.session.rollback()
            raise StateConflict(
                f"incident {row.id} was changed by someone else; reload and try again",
                f"事件 {row.id} 已被他人修改，请刷新后重试",
                incident=row.id,
            )
        insert_rows(self.session, FlowRow, [flow_values(r) for r in records])
        insert_rows(self.session, EventRow, [event_values(kind, after, now)])
        self.session.commit()
        self.session.expire_all()

    def apply(
        self,
        incident_id: str,
        action: Action,
        actor: str,
        reason: str | None,
        duplicate_of: str | None,
        media: tuple[str, ...] = (),
    ) -> Incident:
        row = self.row(incident_id)
        before = to_incident(row, current_assignment(self.session, incident_id))
        if duplicate_of is not None:
            original = self.row(duplicate_of)
            if original.township != row.township:
                raise StateConflict(
                    "a duplicate must be in the same township", "重复事件须在同一乡镇", incident=incident_id
                )
        now = self.clock()
        after, record = self.domain().lifecycle.apply(
            before, action, actor=actor, at=now, reason=reason, duplicate_of=duplicate_of, media=media
        )
        self._save(row, after, [record], f"incident.{action.value}", now)
        return after

    def reroute(self, incident_id: str, lead: str, actor: str, reason: str | None) -> Incident:
        row = self.row(incident_id)
        current = current_assignment(self.session, incident_id)
        before = to_incident(row, current)
        if before.assignment is None or current is None:
            raise StateConflict(
                "an unlocated incident has no assignment to re-route",
                "未定位的事件无法改派",
                incident=incident_id,
            )
        domain = self.domain()
        assignment = domain.router.reroute(before.assignment, lead, (reason or "").strip())
        now = self.clock()
        after, record = domain.lifecycle.reroute(before, assignment, actor=actor, at=now, reason=reason)
        current.current = False
        self.session.add(current)
        insert_rows(
            self.session,
            AssignmentRow,
            [assignment_values(incident_id, assignment, now, actor, record.reason)],
        )
        self.session.exec(delete(IncidentUnitRow).where(col(IncidentUnitRow.incident) == incident_id))
        insert_rows(self.session, IncidentUnitRow, unit_values(incident_id, assignment))
        self._save(row, after, [record], "incident.reroute", now)
        return after
