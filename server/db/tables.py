"""SQLModel tables for every domain type, plus incidents, history, events, rejects and tokens.

Geometry is stored portably as GeoJSON text with bbox columns for index-friendly filtering; the
PostGIS image can add a geometry column later without changing these.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db.types import UtcDateTime


def _json(**kwargs: Any) -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False), **kwargs)


def _moment(**kwargs: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kwargs)


class Shape(SQLModel):
    geometry: str  # GeoJSON geometry, WGS-84
    minx: float = Field(index=True)
    miny: float = Field(index=True)
    maxx: float
    maxy: float


class Meta(SQLModel, table=True):
    """Key/value settings kept with the data: cell index version, urgent limits, …"""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: Any = Field(sa_column=Column(JSON, nullable=False))


class CountyRow(Shape, table=True):
    __tablename__ = "county"
    code: str = Field(primary_key=True, max_length=6)
    name: str
    seat_township: str | None = None


class TownshipRow(Shape, table=True):
    __tablename__ = "township"
    code: str = Field(primary_key=True, max_length=9)
    county: str = Field(index=True, max_length=6)
    name: str
    kind: str
    population: int
    enforcement_office: str
    seat_lon: float
    seat_lat: float


class VillageRow(Shape, table=True):
    __tablename__ = "village"
    code: str = Field(primary_key=True, max_length=12)
    township: str = Field(index=True, max_length=9)
    name: str


class CellRow(Shape, table=True):
    __tablename__ = "cell"
    code: str = Field(primary_key=True, max_length=14)
    village: str = Field(index=True, max_length=12)
    township: str = Field(index=True, max_length=9)
    name: str
    patrol_target: int = 2


class UnitRow(SQLModel, table=True):
    __tablename__ = "unit"
    id: str = Field(primary_key=True)
    name_zh: str
    name_en: str
    kind: str
    township: str | None = Field(default=None, index=True)
    parent: str | None = None
    enforcement: bool = False


class WorkerRow(SQLModel, table=True):
    __tablename__ = "worker"
    id: str = Field(primary_key=True)
    name: str
    township: str = Field(index=True)
    cells: list[str] = _json()
    phone: str | None = None
    is_cell_head: bool = False


class OfficerRow(SQLModel, table=True):
    __tablename__ = "officer"
    id: str = Field(primary_key=True)
    name: str
    unit: str = Field(index=True)
    certificates: list[dict[str, Any]] = _json()


class SubjectRow(SQLModel, table=True):
    __tablename__ = "subject"
    id: str = Field(primary_key=True)
    name: str
    kind: str
    trade: str
    risk: int
    lon: float
    lat: float
    cell: str = Field(index=True)
    township: str = Field(index=True)
    address: str
    last_inspected: dt.date | None = None
    quiet_days: int = 90


class DeviceRow(SQLModel, table=True):
    __tablename__ = "device"
    id: str = Field(primary_key=True)
    kind: str
    lon: float
    lat: float
    cell: str
    township: str = Field(index=True)
    categories: list[str] = _json()


class MajorCategoryRow(SQLModel, table=True):
    __tablename__ = "major_category"
    code: str = Field(primary_key=True, max_length=2)
    name_zh: str
    name_en: str


class CategoryRow(SQLModel, table=True):
    __tablename__ = "category"
    code: str = Field(primary_key=True, max_length=4)
    name_zh: str
    name_en: str
    matters: list[str] = _json()
    accept_conditions: list[str] = _json()
    close_conditions: list[str] = _json()
    limits: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    urgent: bool = False
    alert_confidence: float = 0.8
    on_site: bool = False


class MatterRow(SQLModel, table=True):
    __tablename__ = "matter"
    code: str = Field(primary_key=True)
    name_zh: str
    name_en: str
    kind: str
    department: str
    legal_basis: str
    severity: int


class PowerListRow(SQLModel, table=True):
    __tablename__ = "power_list_entry"
    __table_args__ = (UniqueConstraint("township", "matter"),)
    id: str = Field(primary_key=True)
    township: str = Field(index=True)
    matter: str
    mode: str
    unit: str
    agreement_number: str | None = None
    agreement_department: str | None = None
    agreement_valid_from: dt.date | None = None
    agreement_valid_to: dt.date | None = None


class DutyRow(SQLModel, table=True):
    __tablename__ = "territorial_duty"
    id: int | None = Field(default=None, primary_key=True)
    township: str = Field(index=True)
    matter: str
    unit: str
    role: str
    order: int = 0


class IncidentRow(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (
        UniqueConstraint("device", "client_id", name="uq_incident_device_client"),
        Index("ix_incident_open_deadline", "state", "deadline"),
    )
    id: str = Field(primary_key=True)
    source: str
    category: str = Field(index=True)
    lon: float = Field(index=True)
    lat: float = Field(index=True)
    accuracy: float | None = None
    cell: str | None = Field(default=None, index=True)
    village: str | None = None
    township: str | None = Field(default=None, index=True)
    snapped: bool = False
    index_version: int = 0
    urgent: bool = False
    text: str = ""
    media: list[str] = _json()
    subject: str | None = None
    # A point the reporter placed by hand on the map: the phone's own GPS fix ({lon, lat, acc}, WGS-84),
    # kept beside it; None when the point is the fix.
    gps_fix: dict[str, float] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    state: str = Field(index=True)
    lead_unit: str | None = Field(default=None, index=True)
    clock_stage: str | None = None
    clock_unit: str | None = None
    clock_started: dt.datetime | None = _moment(default=None)
    deadline: dt.datetime | None = _moment(default=None)
    clock_remaining: float | None = None
    suspended_from: str | None = None
    duplicate_of: str | None = None
    probable_duplicate_of: str | None = Field(default=None, index=True)
    rework_count: int = 0
    reported_at: dt.datetime = _moment(index=True)
    created_at: dt.datetime = _moment()
    updated_at: dt.datetime = _moment()
    # Idempotency: the same (device, client id) is the same report.
    device: str
    client_id: str
    reporter: str | None = Field(default=None, index=True)
    # Bumped by every change: optimistic concurrency between officers acting at once.
    revision: int = 0
    # Alerts: below the confidence threshold (the review queue), how many alerts joined, last seen.
    in_review: bool = Field(default=False, index=True)
    alert_count: int = 0
    last_seen: dt.datetime | None = _moment(default=None)
    # Milestones (grid.evaluation.milestones): what the KPIs sum, kept as the incident moves.
    accepted_at: dt.datetime | None = _moment(default=None, index=True)
    accept_late: bool = False
    dispatched_at: dt.datetime | None = _moment(default=None, index=True)
    misdispatched: bool = False
    handled_at: dt.datetime | None = _moment(default=None)
    handle_late: bool = False
    closed_at: dt.datetime | None = _moment(default=None)
    late_stages: int = 0


class AlertRow(SQLModel, table=True):
    """Every alert a device sent, whether it opened its incident or joined an open one."""

    __tablename__ = "alert"
    device: str = Field(primary_key=True)
    client_id: str = Field(primary_key=True)
    incident: str = Field(index=True)
    merged: bool = False
    seen_at: dt.datetime = _moment()
    confidence: float | None = None
    snapshot: str | None = None
    received_at: dt.datetime = _moment()


class IncidentUnitRow(SQLModel, table=True):
    """Every unit with a part in an incident's current assignment: the unit officer's scope."""

    __tablename__ = "incident_unit"
    incident: str = Field(primary_key=True)
    unit: str = Field(primary_key=True, index=True)


class AssignmentRow(SQLModel, table=True):
    __tablename__ = "assignment"
    id: int | None = Field(default=None, primary_key=True)
    incident: str = Field(index=True)
    current: bool = True
    lead: str
    support: list[str] = _json()
    informed: list[str] = _json()
    matters: list[str] = _json()
    basis: str
    agreement: str | None = None
    explanation: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    at: dt.datetime = _moment()
    by: str
    reason: str | None = None


class FlowRow(SQLModel, table=True):
    __tablename__ = "flow_record"
    id: int | None = Field(default=None, primary_key=True)
    incident: str = Field(index=True)
    action: str
    actor: str
    at: dt.datetime = _moment()
    from_state: str
    to_state: str
    reason: str | None = None
    unit: str | None = None
    from_unit: str | None = None
    duplicate_of: str | None = None
    late: bool | None = None
    # Photos the actor sent with the step (a handling report, a verification), as /media/ names.
    media: list[str] = _json()


class EventRow(SQLModel, table=True):
    """The outbox: written in the same transaction as the change; its id is the stream's cursor."""

    __tablename__ = "event"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _moment()
    kind: str
    incident: str | None = Field(default=None, index=True)
    township: str | None = None
    units: list[str] = _json()
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class RejectRow(SQLModel, table=True):
    """Input that was refused, kept with its raw bytes so nothing acknowledged-or-not is lost."""

    __tablename__ = "reject"
    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = _moment(index=True)
    channel: str  # http, mqtt, open311
    topic: str
    device: str | None = None
    reason: str
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # sha256 of raw: a redelivered message (DUP) that was kept already is not kept twice.
    digest: str | None = Field(default=None, index=True, max_length=64)


class TokenRow(SQLModel, table=True):
    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True, max_length=64)
    role: str
    scope: str
    label: str = ""
    created_at: dt.datetime = _moment()
    expires_at: dt.datetime | None = _moment(default=None)
    revoked: bool = False


class PairingRow(SQLModel, table=True):
    """A one-time code a phone exchanges for its own token (docs/domain.md#the-field-app); only the
    code's SHA-256 digest is kept, and the token it became once claimed."""

    __tablename__ = "pairing"
    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(unique=True, max_length=64)
    role: str  # worker / unit
    scope: str
    label: str = ""
    created_at: dt.datetime = _moment()
    created_by: str
    expires_at: dt.datetime = _moment()
    claimed_at: dt.datetime | None = _moment(default=None)
    token: int | None = Field(default=None, index=True)


class TaskAnswerRow(SQLModel, table=True):
    """A phone's answer to a task (sign, handle, return, verify, report in), kept under its client id
    in the same transaction as the step it made, so the same answer sent again is the same answer."""

    __tablename__ = "task_answer"
    actor: str = Field(primary_key=True)
    client_id: str = Field(primary_key=True)
    kind: str
    incident: str | None = Field(default=None, index=True)
    whistle: str | None = None
    at: dt.datetime = _moment()


class WhistleRow(SQLModel, table=True):
    """A township's whistle (吹哨) on an incident; each called department has a WhistleCallRow."""

    __tablename__ = "whistle"
    id: str = Field(primary_key=True)
    incident: str = Field(index=True)
    township: str = Field(index=True)
    kind: str  # routine / campaign / emergency
    reason: str  # cannot_solve / no_power / emergency
    note: str = ""
    opened_at: dt.datetime = _moment()
    opened_by: str
    closed_at: dt.datetime | None = _moment(default=None)


class WhistleCallRow(SQLModel, table=True):
    __tablename__ = "whistle_call"
    __table_args__ = (UniqueConstraint("whistle", "unit"),)
    id: int | None = Field(default=None, primary_key=True)
    whistle: str = Field(index=True)
    unit: str = Field(index=True)
    due_at: dt.datetime = _moment()
    reported_at: dt.datetime | None = _moment(default=None)
    reported_by: str | None = None
    late: bool = False
    rating: int | None = None
    rated_at: dt.datetime | None = _moment(default=None)


class PatrolDayRow(SQLModel, table=True):
    """Patrol coverage, aggregated as pings arrive (docs/domain.md#patrols-staffing-and-officers): a worker's pings in a cell on a
    day. Raw pings are not kept; this is what coverage is computed from."""

    __tablename__ = "patrol_day"
    cell: str = Field(primary_key=True, max_length=14)
    day: dt.date = Field(primary_key=True)
    worker: str = Field(primary_key=True)
    township: str = Field(index=True, max_length=9)
    pings: int = 0
    first_at: dt.datetime = _moment()
    last_at: dt.datetime = _moment()


class WorkerPresenceRow(SQLModel, table=True):
    """Where each worker was last seen and whether their phone is online."""

    __tablename__ = "worker_presence"
    worker: str = Field(primary_key=True)
    township: str = Field(index=True, max_length=9)
    online: bool = True
    last_ping_at: dt.datetime | None = _moment(default=None)
    lon: float | None = None
    lat: float | None = None
    cell: str | None = None
    via: str = "gridwatch"  # gridwatch or owntracks
    updated_at: dt.datetime = _moment()


class RelayCursorRow(SQLModel, table=True):
    """How far the outbox relay has published; moved by compare-and-set so two relays can run."""

    __tablename__ = "relay_cursor"
    name: str = Field(primary_key=True)
    position: int


class BoundaryImportRow(SQLModel, table=True):
    """One write of township, village or cell boundaries (a file import or an API upload), kept so
    the latest can be rolled back."""

    __tablename__ = "boundary_import"
    id: int | None = Field(default=None, primary_key=True)
    level: str  # township / village / cell
    source: str
    actor: str
    at: dt.datetime = _moment()
    written: int
    added: int
    index_version: int = 0
    rolled_back_at: dt.datetime | None = _moment(default=None)


class BoundaryPreviousRow(SQLModel, table=True):
    """What an import replaced, code by code: the row as it was, or null where the import added it."""

    __tablename__ = "boundary_previous"
    import_id: int = Field(primary_key=True)
    code: str = Field(primary_key=True)
    previous: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )


class SweepPlanRow(SQLModel, table=True):
    """A Tuesday sweep plan: the plan itself is one document (grid.sweep.plan.SweepPlan as JSON),
    edited as a whole and versioned by `revision`."""

    __tablename__ = "sweep_plan"
    id: str = Field(primary_key=True)
    county: str = Field(index=True, max_length=6)
    scope: str = Field(index=True, max_length=9)  # a township, or the county code
    date: dt.date = Field(index=True)
    mode: str
    # The draw's seed (up to 63 bits) and the digest of the inputs it was drawn from.
    seed: int | None = Field(default=None, sa_type=BigInteger)
    digest: str = Field(max_length=64)
    status: str = "draft"  # draft → published
    revision: int = 0
    plan: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = _moment()
    created_by: str
    published_at: dt.datetime | None = _moment(default=None)
    published_by: str | None = None


class SweepOutcomeRow(SQLModel, table=True):
    """What a team found at one stop of a published plan."""

    __tablename__ = "sweep_outcome"
    plan: str = Field(primary_key=True)
    stop: str = Field(primary_key=True)
    outcome: str
    note: str = ""
    incident: str | None = None
    recorded_at: dt.datetime = _moment()
    recorded_by: str


class SubjectVisitRow(SQLModel, table=True):
    """A subject's inspection history: each visit, its outcome and the risk level before and after."""

    __tablename__ = "subject_visit"
    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(index=True)
    date: dt.date
    plan: str | None = None
    outcome: str
    risk_before: int
    risk_after: int


class OfficerAbsenceRow(SQLModel, table=True):
    """An officer away (leave, training, another duty) over a span of days: not drawn for a sweep."""

    __tablename__ = "officer_absence"
    id: int | None = Field(default=None, primary_key=True)
    officer: str = Field(index=True)
    first_day: dt.date
    last_day: dt.date
    reason: str = ""
