"""Payloads (docs/architecture.md#messaging): msgspec, strict. A payload that fails here is kept as a reject."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, TypeVar

import msgspec

MAX_PAYLOAD_BYTES = 64 * 1024

ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class ReportMessage(msgspec.Struct, forbid_unknown_fields=True):
    """A patrol report: media are URLs from POST /media, never bytes."""

    id: ClientId
    ts: dt.datetime
    lat: float
    lon: float
    category: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}$")]
    acc: Annotated[float, msgspec.Meta(ge=0)] | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    text: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    media: Annotated[list[str], msgspec.Meta(max_length=9)] = []
    subject_id: str | None = None
    # Optional; when given it must be the device of the topic.
    device: str | None = None


Url = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^(https?://|/media/)")]
Finite = Annotated[float, msgspec.Meta(ge=-1e9, le=1e9)]


class AlertMessage(msgspec.Struct, forbid_unknown_fields=True):
    """A camera's or sensor's alert: located by the device's registered place, not by the payload."""

    id: ClientId
    ts: dt.datetime
    device: str
    category: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{4}$")]
    confidence: Annotated[float, msgspec.Meta(ge=0, le=1)]
    snapshot_url: Url | None = None


class PingMessage(msgspec.Struct, forbid_unknown_fields=True):
    """Where a worker's phone was; a ping topic carries one or an array of them."""

    ts: dt.datetime
    lat: Finite
    lon: Finite
    acc: Annotated[float, msgspec.Meta(ge=0)] | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"


MAX_PINGS = 500


class Ack(msgspec.Struct, omit_defaults=False):
    """The answer on gw/{c}/down/{d}/ack; sent only after the report is committed (or kept as a reject)."""

    id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    incident: str | None = None
    cell: str | None = None
    responsible: str | None = None
    error: str | None = None
    # An alert that joined the open incident its device had already raised (docs/domain.md#remote-enforcement-alerts).
    merged: bool = False


class Task(msgspec.Struct, omit_defaults=True):
    """On gw/{c}/down/{d}/task: something for a worker (a dispatch to follow up, an incident to
    verify) or for a unit (a whistle to report in to). `id` is the outbox event's; a task may come
    twice (at least once), so the phone keys on it."""

    id: int
    type: Literal["dispatch", "verify", "whistle"]
    incident: str | None
    at: dt.datetime
    category: str | None = None
    cell: str | None = None
    lon: float | None = None
    lat: float | None = None
    lead: str | None = None
    due: str | None = None
    whistle: str | None = None


class PayloadError(ValueError):
    pass


_REPORT = msgspec.json.Decoder(ReportMessage, strict=True)
_ALERT = msgspec.json.Decoder(AlertMessage, strict=True)
_PINGS = msgspec.json.Decoder(
    PingMessage | Annotated[list[PingMessage], msgspec.Meta(min_length=1, max_length=MAX_PINGS)], strict=True
)
_ID_ONLY = msgspec.json.Decoder(dict[str, object])


T = TypeVar("T")

# What msgspec raises on bytes that are no JSON it can read: invalid UTF-8 and nesting too deep
# surface as Python's own errors, not as msgspec's.
UNREADABLE = (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError, RecursionError)


def _decode(decoder: msgspec.json.Decoder[T], raw: bytes) -> T:
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(raw)} bytes is larger than {MAX_PAYLOAD_BYTES}")
    try:
        return decoder.decode(raw)
    except UNREADABLE as exc:
        raise PayloadError(_reason(exc)) from None


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "payload nested too deeply"
    if isinstance(exc, UnicodeDecodeError):
        return f"payload is not valid UTF-8 ({exc.reason})"
    return str(exc)


def decode_report(raw: bytes) -> ReportMessage:
    return _decode(_REPORT, raw)


def decode_alert(raw: bytes) -> AlertMessage:
    return _decode(_ALERT, raw)


def decode_pings(raw: bytes) -> list[PingMessage]:
    pings = _decode(_PINGS, raw)
    return pings if isinstance(pings, list) else [pings]


def client_id_of(raw: bytes) -> str | None:
    """The `id` of a payload that failed to decode, if it can still be read, so the ack names it."""
    try:
        value = _ID_ONLY.decode(raw[:MAX_PAYLOAD_BYTES]).get("id")
    except UNREADABLE:
        return None
    return value if isinstance(value, str) and len(value) <= 64 else None


ENCODER = msgspec.json.Encoder()
