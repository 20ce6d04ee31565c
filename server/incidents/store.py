"""The incidents' store: the intake pipeline's port (grid.intake.IntakeStore) on SQLModel, and the row conversions the service shares with it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Engine, and_, case, insert, literal, or_, tuple_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from grid.alerts import OpenAlert
from grid.evaluation.milestones import Milestones, reached
from grid.incident import (
    TERMINAL_STATES,
    Assignment,
    Clock,
    FlowRecord,
    GpsFix,
    Incident,
    IncidentState,
    Source,
)
from grid.intake import ClientIdTaken, IntakeEntry, IntakeOutcome, NearQuery, Sighting
from grid.places import village_of
from server.db.tables import AlertRow, AssignmentRow, EventRow, FlowRow, IncidentRow, IncidentUnitRow
from server.db.types import UtcDateTime

OPEN_STATES = [s.value for s in IncidentState if s not in TERMINAL_STATES]


def to_incident(row: IncidentRow, assignment: AssignmentRow | None) -> Incident:
    clock = None
    if row.clock_stage and row.clock_unit and row.clock_started and row.deadline:
        clock = msgspec.convert(
            {
                "stage": row.clock_stage,
                "unit": row.clock_unit,
                "started": row.clock_started,
                "deadline": row.deadline,
                "remaining": row.clock_remaining,
            },
            Clock,
        )
    return Incident(
        id=row.id,
        source=Source(row.source),
        category=row.category,
        lon=row.lon,
        lat=row.lat,
        reported_at=row.reported_at,
        state=IncidentState(row.state),
        accuracy=row.accuracy,
        cell=row.cell,
        snapped=row.snapped,
        index_version=row.index_version,
        urgent=row.urgent,
        text=row.text,
        media=tuple(row.media),
        subject=row.subject,
        assignment=None if assignment is None else to_assignment(assignment),
        clock=clock,
        suspended_from=IncidentState(row.suspended_from) if row.suspended_from else None,
        duplicate_of=row.duplicate_of,
        rework_count=row.rework_count,
        in_review=row.in_review,
        gps_fix=None if row.gps_fix is None else msgspec.convert(row.gps_fix, GpsFix),
    )


def to_assignment(row: AssignmentRow) -> Assignment:
    return msgspec.convert(
        {
            "lead": row.lead,
            "support": row.support,
            "informed": row.informed,
            "matters": row.matters,
            "basis": row.basis,
            "agreement": row.agreement,
            "explanation": row.explanation,
        },
        Assignment,
    )


def insert_rows(session: Session, table: type[SQLModel], rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))


def assignment_values(
    incident_id: str, assignment: Assignment, at: dt.datetime, by: str, reason: str | None
) -> dict[str, Any]:
    return {
        "incident": incident_id,
        "current": True,
        "lead": assignment.lead,
        "support": list(assignment.support),
        "informed": list(assignment.informed),
        "matters": list(assignment.matters),
        "basis": assignment.basis.value,
        "agreement": assignment.agreement,
        "explanation": msgspec.to_builtins(assignment.explanation),
        "at": at,
        "by": by,
        "reason": reason,
    }


def state_columns(incident: Incident) -> dict[str, Any]:
    clock = incident.clock
    assignment = incident.assignment
    return {
        "state": incident.state.value,
        "lead_unit": assignment.lead if assignment else None,
        "clock_stage": clock.stage.value if clock else None,
        "clock_unit": clock.unit.value if clock else None,
        "clock_started": clock.started if clock else None,
        "deadline": clock.deadline if clock else None,
        "clock_remaining": clock.remaining if clock else None,
        "suspended_from": incident.suspended_from.value if incident.suspended_from else None,
        "duplicate_of": incident.duplicate_of,
        "rework_count": incident.rework_count,
        "in_review": incident.in_review,
    }


def report_columns(incident: Incident) -> dict[str, Any]:
    """What the report said and where it was placed: the columns that never change after intake."""
    return {
        "id": incident.id,
        "source": incident.source.value,
        "category": incident.category,
        "lon": incident.lon,
        "lat": incident.lat,
        "accuracy": incident.accuracy,
        "cell": incident.cell,
        "village": village_of(incident.cell) if incident.cell else None,
        "township": incident.township,
        "snapped": incident.snapped,
        "index_version": incident.index_version,
        "urgent": incident.urgent,
        "text": incident.text,
        "media": list(incident.media),
        "subject": incident.subject,
        "reported_at": incident.reported_at,
        "gps_fix": None if incident.gps_fix is None else msgspec.to_builtins(incident.gps_fix),
    }


def milestone_columns(row: IncidentRow, records: Sequence[FlowRecord]) -> dict[str, Any]:
    """The row's milestones moved on by these records."""
    before = Milestones(**{name: getattr(row, name) for name in Milestones.__struct_fields__})
    return msgspec.structs.asdict(reached(before, records))


def units_of(assignment: Assignment | None) -> list[str]:
    if assignment is None:
        return []
    return list(dict.fromkeys([assignment.lead, *assignment.support, *assignment.informed]))


def unit_values(incident_id: str, assignment: Assignment | None) -> list[dict[str, Any]]:
    return [{"incident": incident_id, "unit": u} for u in units_of(assignment)]


def flow_values(record: FlowRecord) -> dict[str, Any]:
    values: dict[str, Any] = msgspec.to_builtins(record, builtin_types=(dt.datetime,))
    return values


def event_values(kind: str, incident: Incident, at: dt.datetime, **extra: Any) -> dict[str, Any]:
    assignment = incident.assignment
    payload = {
        "id": incident.id,
        "state": incident.state.value,
        "category": incident.category,
        "cell": incident.cell,
        "township": incident.township,
        "lead": assignment.lead if assignment else None,
        "deadline": incident.clock.deadline.isoformat() if incident.clock else None,
        "urgent": incident.urgent,
        "source": incident.source.value,
        "in_review": incident.in_review,
        "lon": incident.lon,
        "lat": incident.lat,
        **extra,
    }
    units = [] if assignment is None else [assignment.lead, *assignment.support, *assignment.informed]
    return {
        "at": at,
        "kind": kind,
        "incident": incident.id,
        "township": incident.township,
        "units": units,
        "payload": payload,
    }


class SqlIntakeStore:
    """The intake pipeline's store (grid.intake.IntakeStore) on SQLModel."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def by_client_ids(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IntakeOutcome]:
        if not keys:
            return {}
        with Session(self.engine) as session:
            rows = session.exec(
                select(IncidentRow).where(
                    tuple_(col(IncidentRow.device), col(IncidentRow.client_id)).in_(list(set(keys)))
                )
            ).all()
            return {
                (r.device, r.client_id): IntakeOutcome(
                    incident=incident, replayed=True, probable_duplicate_of=r.probable_duplicate_of
                )
                for r, incident in zip(rows, with_assignments(session, rows), strict=True)
            }

    def joined_alerts(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IntakeOutcome]:
        with Session(self.engine) as session:
            joined = session.exec(
                select(AlertRow).where(
                    tuple_(col(AlertRow.device), col(AlertRow.client_id)).in_(list(set(keys))),
                    col(AlertRow.merged).is_(True),
                )
            ).all()
            if not joined:
                return {}
            targets = session.exec(
                select(IncidentRow).where(col(IncidentRow.id).in_({a.incident for a in joined}))
            ).all()
            by_id = {i.id: i for i in with_assignments(session, targets)}
            return {
                (a.device, a.client_id): IntakeOutcome(
                    incident=by_id[a.incident], replayed=True, probable_duplicate_of=None, merged=True
                )
                for a in joined
            }

    def open_alerts(self, device: str, category: str, since: dt.datetime) -> Sequence[OpenAlert]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(IncidentRow).where(
                    IncidentRow.device == device,
                    IncidentRow.category == category,
                    IncidentRow.source == Source.ALERT.value,
                    col(IncidentRow.state).in_(OPEN_STATES),
                    col(IncidentRow.last_seen) >= since,
                )
            ).all()
            return [
                OpenAlert(
                    incident=to_incident(r, None), device=r.device, last_seen=r.last_seen or r.reported_at
                )
                for r in rows
            ]

    def open_near_many(self, queries: Sequence[NearQuery]) -> list[Sequence[Incident]]:
        boxes = [
            and_(
                col(IncidentRow.category) == q.category,
                col(IncidentRow.lon).between(q.lon - q.radius_deg, q.lon + q.radius_deg),
                col(IncidentRow.lat).between(q.lat - q.radius_deg, q.lat + q.radius_deg),
            )
            for q in queries
        ]
        with Session(self.engine) as session:
            rows = session.execute(
                sa_select(
                    *(
                        col(c)
                        for c in (
                            IncidentRow.id,
                            IncidentRow.source,
                            IncidentRow.category,
                            IncidentRow.lon,
                            IncidentRow.lat,
                            IncidentRow.reported_at,
                            IncidentRow.state,
                        )
                    )
                ).where(
                    col(IncidentRow.state).in_(OPEN_STATES),
                    col(IncidentRow.reported_at) >= min(q.since for q in queries),
                    or_(*boxes),
                )
            ).all()
        by_category: dict[str, list[Incident]] = {}
        for id_, source, category, lon, lat, reported_at, state in rows:
            by_category.setdefault(category, []).append(
                Incident(
                    id=id_,
                    source=Source(source),
                    category=category,
                    lon=lon,
                    lat=lat,
                    reported_at=reported_at,
                    state=IncidentState(state),
                )
            )
        return [
            [
                i
                for i in by_category.get(q.category, ())
                if abs(i.lon - q.lon) <= q.radius_deg
                and abs(i.lat - q.lat) <= q.radius_deg
                and i.reported_at >= q.since
            ]
            for q in queries
        ]

    def create(self, entries: Sequence[IntakeEntry]) -> None:
        fresh = [a for a in entries if a.merge_into is None]
        flows = [flow_values(r) for a in entries for r in a.records]
        events = [self._created_event(a) if a.merge_into is None else self._merged_event(a) for a in entries]
        with Session(self.engine) as session:
            # The INSERTs run at once, not at the commit: a key a concurrent submission took fails on
            # the first of them (PostgreSQL waits there for the other transaction to end).
            try:
                insert_rows(session, IncidentRow, [self._incident_values(a) for a in fresh])
                insert_rows(
                    session,
                    AssignmentRow,
                    [
                        assignment_values(a.outcome.incident.id, assignment, a.records[0].at, "router", None)
                        for a in fresh
                        if (assignment := a.outcome.incident.assignment) is not None
                    ],
                )
                insert_rows(
                    session,
                    IncidentUnitRow,
                    [
                        u
                        for a in fresh
                        for u in unit_values(a.outcome.incident.id, a.outcome.incident.assignment)
                    ],
                )
                insert_rows(session, FlowRow, flows)
                insert_rows(session, EventRow, events)
                for entry in entries:
                    if entry.sighting is not None:
                        self._add_alert(session, entry, entry.sighting)
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                if "client" in str(exc.orig).lower() or "uq_incident" in str(exc.orig).lower():
                    raise ClientIdTaken from exc
                raise

    @staticmethod
    def _created_event(entry: IntakeEntry) -> dict[str, Any]:
        outcome = entry.outcome
        return event_values(
            "incident.created",
            outcome.incident,
            entry.records[0].at,
            probable_duplicate_of=outcome.probable_duplicate_of,
        )

    @staticmethod
    def _merged_event(entry: IntakeEntry) -> dict[str, Any]:
        # A joining alert leaves an event, so the duty officer sees the matter is still going on.
        return event_values("incident.alert_merged", entry.outcome.incident, entry.records[0].at)

    @staticmethod
    def _add_alert(session: Session, entry: IntakeEntry, sighting: Sighting) -> None:
        """Keep the alert and count it on its incident."""
        incident = entry.outcome.incident
        seen_at = sighting.at
        insert_rows(
            session,
            AlertRow,
            [
                {
                    "device": entry.device,
                    "client_id": entry.client_id,
                    "incident": incident.id,
                    "merged": entry.merge_into is not None,
                    "seen_at": seen_at,
                    "confidence": sighting.confidence,
                    "snapshot": sighting.snapshot,
                    "received_at": entry.records[0].at,
                }
            ],
        )
        seen = literal(seen_at, UtcDateTime())  # typed, so SQLite stores it in UTC like the column
        session.exec(
            update(IncidentRow)
            .where(col(IncidentRow.id) == incident.id)
            .values(
                alert_count=IncidentRow.alert_count + 1,
                last_seen=case(
                    (or_(col(IncidentRow.last_seen).is_(None), col(IncidentRow.last_seen) < seen), seen),
                    else_=col(IncidentRow.last_seen),
                ),
            )
        )

    @staticmethod
    def _incident_values(entry: IntakeEntry) -> dict[str, Any]:
        outcome = entry.outcome
        incident = outcome.incident
        now = entry.records[0].at
        return {
            **report_columns(incident),
            "probable_duplicate_of": outcome.probable_duplicate_of,
            "created_at": now,
            "updated_at": now,
            "device": entry.device,
            "client_id": entry.client_id,
            "reporter": entry.reporter,
            "revision": 0,
            "alert_count": 0,
            "last_seen": entry.sighting.at if entry.sighting else None,
            **state_columns(incident),
        }


def with_assignments(session: Session, rows: Sequence[IncidentRow]) -> list[Incident]:
    """Domain values for rows, with their current assignments read in one query."""
    assignments = {
        a.incident: a
        for a in session.exec(
            select(AssignmentRow).where(
                col(AssignmentRow.incident).in_([r.id for r in rows]), col(AssignmentRow.current).is_(True)
            )
        ).all()
    }
    return [to_incident(r, assignments.get(r.id)) for r in rows]


def current_assignment(session: Session, incident_id: str) -> AssignmentRow | None:
    return session.exec(
        select(AssignmentRow).where(
            AssignmentRow.incident == incident_id, col(AssignmentRow.current).is_(True)
        )
    ).first()
