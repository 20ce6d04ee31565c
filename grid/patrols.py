"""Patrols (docs/domain.md#patrols-staffing-and-officers): location pings become per-cell, per-day visits as they arrive; coverage
is the number of days a cell was visited in a week against its weekly target.

Pings are high volume and only their aggregate matters, so nothing here keeps a ping: a batch of
pings becomes a handful of visit lines and one presence line per worker.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import msgspec

from grid.domain import Domain
from grid.places import township_of, village_of

Converter = Callable[[float, float, str], tuple[float, float]]


class Ping(msgspec.Struct, frozen=True, kw_only=True):
    worker: str
    at: dt.datetime
    lon: float
    lat: float
    accuracy: float | None = None
    crs: str = "wgs84"


class Visit(msgspec.Struct, frozen=True, kw_only=True):
    """A worker's pings in one cell on one day (county time)."""

    cell: str
    day: dt.date
    worker: str
    pings: int
    first_at: dt.datetime
    last_at: dt.datetime


class Presence(msgspec.Struct, frozen=True, kw_only=True):
    """Where a worker was last seen."""

    worker: str
    at: dt.datetime
    lon: float
    lat: float
    cell: str | None


class PatrolStore(Protocol):
    def record(self, visits: Sequence[Visit], presence: Sequence[Presence], via: str) -> None:
        """Add the visits to the day's aggregates and move each worker's last position forward,
        in one transaction."""
        ...

    def offline(self, worker: str, via: str) -> None:
        """The worker's phone went offline (it said so, or its last will did)."""
        ...


class PingRefused(ValueError):
    pass


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday and the Sunday of the ISO week `day` is in."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def visits_of(pings: Sequence[Ping], cells: Sequence[str | None], tz: dt.tzinfo) -> list[Visit]:
    """Fold located pings into visits; pings outside every cell count toward no cell."""
    folded: dict[tuple[str, dt.date, str], list[dt.datetime]] = {}
    for ping, cell in zip(pings, cells, strict=True):
        if cell is None:
            continue
        key = (cell, ping.at.astimezone(tz).date(), ping.worker)
        folded.setdefault(key, []).append(ping.at)
    return [
        Visit(cell=cell, day=day, worker=worker, pings=len(times), first_at=min(times), last_at=max(times))
        for (cell, day, worker), times in folded.items()
    ]


def latest_positions(pings: Sequence[Ping], cells: Sequence[str | None]) -> list[Presence]:
    latest: dict[str, Presence] = {}
    for ping, cell in zip(pings, cells, strict=True):
        seen = latest.get(ping.worker)
        if seen is None or ping.at > seen.at:
            latest[ping.worker] = Presence(
                worker=ping.worker, at=ping.at, lon=ping.lon, lat=ping.lat, cell=cell
            )
    return list(latest.values())


class CellCoverage(msgspec.Struct, frozen=True, kw_only=True):
    cell: str
    days_visited: int
    target: int

    @property
    def covered(self) -> bool:
        return self.days_visited >= self.target


class AreaCoverage(msgspec.Struct, frozen=True, kw_only=True):
    """Cells of a village, township or county that met their weekly target."""

    code: str
    cells: int
    covered: int

    @property
    def share(self) -> float:
        return self.covered / self.cells if self.cells else 0.0


def cell_coverage(targets: Mapping[str, int], days_visited: Mapping[str, int]) -> list[CellCoverage]:
    return [
        CellCoverage(cell=cell, days_visited=days_visited.get(cell, 0), target=target)
        for cell, target in sorted(targets.items())
    ]


def roll_up(cells: Iterable[CellCoverage], level: Callable[[str], str]) -> list[AreaCoverage]:
    """Coverage per area: `level` maps a cell code to its village or township code."""
    totals: dict[str, list[int]] = {}
    for c in cells:
        t = totals.setdefault(level(c.cell), [0, 0])
        t[0] += 1
        t[1] += c.covered
    return [AreaCoverage(code=code, cells=n, covered=k) for code, (n, k) in sorted(totals.items())]


def by_village(cells: Iterable[CellCoverage]) -> list[AreaCoverage]:
    return roll_up(cells, village_of)


def by_township(cells: Iterable[CellCoverage]) -> list[AreaCoverage]:
    return roll_up(cells, township_of)


class Patrols:
    """Pings in, visits and positions out; the pipeline every ping channel uses (MQTT, OwnTracks)."""

    def __init__(self, domain: Callable[[], Domain], store: PatrolStore, convert: Converter) -> None:
        self.domain = domain
        self.store = store
        self.convert = convert

    def check(self, ping: Ping) -> None:
        if not (math.isfinite(ping.lon) and math.isfinite(ping.lat)):
            raise PingRefused("lon and lat must be finite numbers")
        if not (-180.0 <= ping.lon <= 180.0 and -90.0 <= ping.lat <= 90.0):
            raise PingRefused(f"coordinates out of range: {ping.lon}, {ping.lat}")
        if ping.at.tzinfo is None:
            raise PingRefused("ts must carry a time zone")
        if ping.accuracy is not None and not (math.isfinite(ping.accuracy) and ping.accuracy >= 0):
            raise PingRefused("accuracy must be a non-negative number of metres")

    def take(self, pings: Sequence[Ping], via: str) -> list[Visit]:
        """Record checked pings (call `check` first); returns the visits they made."""
        if not pings:
            return []
        domain = self.domain()
        try:
            points = [self.convert(p.lon, p.lat, p.crs) for p in pings]
        except ValueError as exc:
            raise PingRefused(str(exc)) from None
        located = [
            msgspec.structs.replace(p, lon=lon, lat=lat) for p, (lon, lat) in zip(pings, points, strict=True)
        ]
        found = domain.index.locate_many(
            [p.lon for p in located],
            [p.lat for p in located],
            [math.nan if p.accuracy is None else p.accuracy for p in located],
        ).cells(domain.index)
        visits = visits_of(located, found, domain.calendar.tz)
        self.store.record(visits, latest_positions(located, found), via)
        return visits

    def offline(self, worker: str, via: str) -> None:
        self.store.offline(worker, via)
