"""The incidents API's request and response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from server.api.schemas import CategoryCode, ClientId, Reason, Text

# At most nine photos: POST /media's `url` (a report may link the web; a step also takes the bare `name`).
MediaNames = Annotated[list[str], msgspec.Meta(max_length=9)]


class GpsFixBody(msgspec.Struct, forbid_unknown_fields=True):
    """The phone's own GPS fix (WGS-84, metres) when the reporter placed the point by hand."""

    lon: float
    lat: float
    acc: float | None = None


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
    media: MediaNames = []
    subject_id: str | None = None
    urgent: bool = False
    # Sent with a point placed by hand on the map (docs/field-app.md): `lon`/`lat` are the placed point.
    gps_fix: GpsFixBody | None = None


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
    # The phone's GPS fix when the point was placed by hand.
    gps_fix: GpsFixBody | None = None


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
    media: list[str] = []


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
    # Photos of the step (a handling report, a verification).
    media: MediaNames = []


class RerouteIn(msgspec.Struct, forbid_unknown_fields=True):
    lead: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    reason: Reason
