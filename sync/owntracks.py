"""The OwnTracks app's own messages (https://owntracks.org/booklet/tech/json/), taken as they are.

The OwnTracks user is the worker id (the broker account the phone logs in with), so a phone can
only speak for its own worker. Locations and transitions become pings; the last will (`lwt`)
marks the worker offline. Regions are circles only, so a worker's cells go to the phone as
circles of the same area; the polygon test stays on the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from sync.codecs import MAX_PAYLOAD_BYTES, PayloadError

PREFIX = "owntracks"
FILTERS = (f"{PREFIX}/+/+", f"{PREFIX}/+/+/event")
# Sent by the app but of no use to the platform: taken quietly, neither pings nor rejects.
UNUSED_TYPES = frozenset(
    {"status", "card", "waypoint", "waypoints", "steps", "configuration", "beacon", "cmd", "request", "dump"}
)
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Epoch = Annotated[int, msgspec.Meta(ge=0, le=2**40)]


class OwnTracksTopic(msgspec.Struct, frozen=True):
    user: str
    device: str
    event: bool


class Location(msgspec.Struct, tag="location", tag_field="_type"):
    lat: Latitude
    lon: Longitude
    tst: Epoch
    acc: Annotated[float, msgspec.Meta(ge=0)] | None = None


class Transition(msgspec.Struct, tag="transition", tag_field="_type"):
    lat: Latitude
    lon: Longitude
    tst: Epoch
    event: Literal["enter", "leave"]
    acc: Annotated[float, msgspec.Meta(ge=0)] | None = None
    desc: str = ""


class LastWill(msgspec.Struct, tag="lwt", tag_field="_type"):
    tst: Epoch | None = None


Message = Location | Transition | LastWill
_MESSAGE: msgspec.json.Decoder[Message] = msgspec.json.Decoder(Message)
_TYPE = msgspec.json.Decoder(dict[str, object])


def parse_topic(topic: str) -> OwnTracksTopic | None:
    parts = topic.split("/")
    if parts[0] != PREFIX or len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] != "event"):
        return None
    if not parts[1] or not parts[2]:
        return None
    return OwnTracksTopic(user=parts[1], device=parts[2], event=len(parts) == 4)


def decode(raw: bytes) -> Message | None:
    """The message, or None for a type the platform does not use; PayloadError for garbage."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(raw)} bytes is larger than {MAX_PAYLOAD_BYTES}")
    try:
        kind = _TYPE.decode(raw).get("_type")
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise PayloadError(f"not an OwnTracks JSON object: {exc}") from None
    if kind in UNUSED_TYPES:
        return None
    try:
        return _MESSAGE.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise PayloadError(f"OwnTracks {kind!r} message: {exc}") from None


def moment(tst: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(tst, dt.UTC)


def cmd_topic(user: str, device: str) -> str:
    return f"{PREFIX}/{user}/{device}/cmd"


class Region(msgspec.Struct, frozen=True):
    """One of the worker's cells as the app's circular region."""

    code: str
    name: str
    lon: float
    lat: float
    radius_m: float


def set_waypoints(regions: list[Region], now: dt.datetime) -> bytes:
    """The app's remote command that replaces its regions with the worker's cells."""
    tst = int(now.timestamp())
    return msgspec.json.encode(
        {
            "_type": "cmd",
            "action": "setWaypoints",
            "waypoints": {
                "_type": "waypoints",
                "waypoints": [
                    {
                        "_type": "waypoint",
                        "desc": f"{r.name} {r.code}",
                        "lat": round(r.lat, 7),
                        "lon": round(r.lon, 7),
                        "rad": max(1, round(r.radius_m)),
                        "tst": tst + i,  # the app keys regions by tst: one per region
                        "rid": r.code,
                    }
                    for i, r in enumerate(regions)
                ],
            },
        }
    )
