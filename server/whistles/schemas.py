"""The whistle API's request and response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from grid.whistles import WhistleKind, WhistleReason


class WhistleIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: WhistleKind
    reason: WhistleReason
    units: Annotated[list[str], msgspec.Meta(min_length=1, max_length=20)]
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class RatingIn(msgspec.Struct, forbid_unknown_fields=True):
    unit: str
    rating: int


class CallOut(msgspec.Struct):
    unit: str
    due_at: dt.datetime
    reported_at: dt.datetime | None
    late: bool
    overdue: bool
    rating: int | None


class WhistleOut(msgspec.Struct):
    id: str
    incident: str
    township: str
    kind: str
    reason: str
    note: str
    opened_at: dt.datetime
    opened_by: str
    calls: list[CallOut]
