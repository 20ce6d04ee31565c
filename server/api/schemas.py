"""Request and response bodies (msgspec); Litestar validates them and documents them at /schema."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from litestar.exceptions import ValidationException
from litestar.params import QueryParameter

T = TypeVar("T")

# Bounded so that no request can ask the database for a number it cannot hold (SQLite: 64-bit).
MAX_OFFSET = 10_000_000
MAX_CURSOR = 2**62
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Cursor = Annotated[int, QueryParameter(ge=0, le=MAX_CURSOR)]

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
CategoryCode = Annotated[str, msgspec.Meta(min_length=4, max_length=4, pattern=r"^[0-9]{4}$")]
Text = Annotated[str, msgspec.Meta(max_length=4000)]
Reason = Annotated[str, msgspec.Meta(max_length=1000)]


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    """A report from the field (or a call taken by a duty officer): the same fields as over MQTT."""

    client_id: ClientId
    category: CategoryCode
    lon: float
    lat: float
    ts: dt.datetime | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    acc: Annotated[float, msgspec.Meta(ge=0)] | None = None
    text: Text = ""
    media: Annotated[list[str], msgspec.Meta(max_length=9)] = []
    subject_id: str | None = None
    urgent: bool = False


class IncidentOut(msgspec.Struct):
    id: str
    source: str
    state: str
    category: str
    category_name_zh: str
    category_name_en: str
    lon: float
    lat: float
    cell: str | None
    village: str | None
    township: str | None
    snapped: bool
    unlocated: bool
    urgent: bool
    lead: str | None
    support: list[str]
    stage: str | None
    deadline: dt.datetime | None
    overdue: bool
    reported_at: dt.datetime
    probable_duplicate_of: str | None
    duplicate_of: str | None
    rework_count: int
    text: str
    media: list[str]
    # Alerts: waiting in the review queue (below the confidence threshold), alerts joined, last seen.
    in_review: bool = False
    alert_count: int = 0
    last_seen: dt.datetime | None = None


class FlowOut(msgspec.Struct):
    action: str
    actor: str
    at: dt.datetime
    from_state: str
    to_state: str
    reason: str | None
    unit: str | None
    from_unit: str | None
    duplicate_of: str | None


class AssignmentOut(msgspec.Struct):
    lead: str
    support: list[str]
    informed: list[str]
    matters: list[str]
    basis: str
    agreement: str | None
    explanation: dict[str, Any]
    current: bool
    at: dt.datetime
    by: str
    reason: str | None


class IncidentDetail(msgspec.Struct):
    incident: IncidentOut
    explanation_zh: str | None
    explanation_en: str | None
    assignments: list[AssignmentOut]
    history: list[FlowOut]


class Ack(msgspec.Struct):
    """The answer to a report: `duplicate` when this client id was already taken (same incident)."""

    status: Literal["accepted", "duplicate"]
    incident: IncidentOut


class ActionIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None
    duplicate_of: str | None = None


class RerouteIn(msgspec.Struct, forbid_unknown_fields=True):
    lead: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    reason: Reason


class Health(msgspec.Struct):
    status: str
    database: str
    index_version: int
    cells: int
    schema_revision: str | None


def strict(body: bytes, kind: type[T]) -> T:
    """Decode a JSON body strictly ("119.6" is not a number). Handlers also declare `data` so the
    schema is documented, but Litestar converts that one leniently."""
    try:
        return msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationException(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise ValidationException(f"malformed JSON: {exc}") from None


class CellCoverageOut(msgspec.Struct):
    cell: str
    days_visited: int
    target: int
    covered: bool


class AreaCoverageOut(msgspec.Struct):
    code: str
    cells: int
    covered: int
    share: float


class CoverageOut(msgspec.Struct):
    """Patrol coverage for a week: each cell's days visited against its weekly target, and the share
    of cells that met it per village and township."""

    week_start: dt.date
    week_end: dt.date
    townships: list[AreaCoverageOut]
    villages: list[AreaCoverageOut]
    cells: Page[CellCoverageOut]


class PresenceOut(msgspec.Struct):
    worker: str
    township: str
    online: bool
    last_ping_at: dt.datetime | None
    lon: float | None
    lat: float | None
    cell: str | None
    via: str
    cells_visited_this_week: int
