"""The field API's response bodies."""

from __future__ import annotations

import datetime as dt

import msgspec


class RejectOut(msgspec.Struct):
    id: int
    at: dt.datetime
    channel: str
    topic: str
    device: str | None
    reason: str
    raw_base64: str
