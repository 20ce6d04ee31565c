"""The events API's response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class EventOut(msgspec.Struct):
    id: int
    at: dt.datetime
    kind: str
    incident: str | None
    township: str | None
    payload: dict[str, Any]


class EventPage(msgspec.Struct):
    events: list[EventOut]
    cursor: int


class EventHead(msgspec.Struct):
    cursor: int
