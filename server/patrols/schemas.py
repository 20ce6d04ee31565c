"""The patrols API's response bodies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from server.api.schemas import Page


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


class PingIn(msgspec.Struct, forbid_unknown_fields=True):
    """One position of a worker on patrol (WGS-84, accuracy in metres), with its time zone."""

    ts: Annotated[dt.datetime, msgspec.Meta(tz=True)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    acc: Annotated[float, msgspec.Meta(ge=0)] | None = None


class PingsIn(msgspec.Struct, forbid_unknown_fields=True):
    pings: Annotated[list[PingIn], msgspec.Meta(min_length=1, max_length=500)]


class PingsOut(msgspec.Struct):
    """Pings taken, and the per-cell, per-day visits they made."""

    taken: int
    visits: int


class MyCoverageOut(msgspec.Struct):
    """A worker's own cells this ISO week: days visited against each cell's target."""

    week_start: dt.date
    week_end: dt.date
    cells: list[CellCoverageOut]
    covered: int
