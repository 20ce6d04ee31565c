"""The patrols API's response bodies."""

from __future__ import annotations

import datetime as dt

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
