"""`gridwatch route`: the admin's what-if tool. JSON lines of incidents in, one decision per line out.

A bad line gets an error line with its reason and the run goes on.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

import msgspec

from geodata.coords import Crs, to_wgs84
from geodata.dataset import Dataset
from grid.errors import DomainError
from grid.incident import Explanation, RouteBasis
from grid.places import township_of, village_of
from grid.workcalendar import DEFAULT_TZ


class RouteRequest(msgspec.Struct, forbid_unknown_fields=False):
    id: str | int
    lon: float
    lat: float
    category: str
    crs: Crs = Crs.WGS84
    ts: dt.datetime | None = None
    acc: float | None = None


class RouteDecision(msgspec.Struct, omit_defaults=False):
    id: str | int
    cell: str | None
    township: str | None
    village: str | None
    snapped: bool
    unlocated: bool
    index_version: int
    matters: list[str]
    mode: RouteBasis | None
    lead: str | None
    support: list[str]
    informed: list[str]
    agreement: str | None
    explanation: Explanation | None
    lon: float
    lat: float


class RouteError(msgspec.Struct):
    line: int
    error: str
    id: str | int | None = None


class _IdOnly(msgspec.Struct, forbid_unknown_fields=False):
    id: str | int | None = None


def _problem(request: RouteRequest) -> str | None:
    if not (math.isfinite(request.lon) and math.isfinite(request.lat)):
        return "lon and lat must be finite numbers"
    if not (-180.0 <= request.lon <= 180.0 and -90.0 <= request.lat <= 90.0):
        return f"coordinates out of range: lon {request.lon}, lat {request.lat}"
    if request.acc is not None and not (math.isfinite(request.acc) and request.acc >= 0):
        return "acc must be a non-negative number of metres"
    if request.ts is not None and request.ts.tzinfo is None:
        return "ts must carry a time zone (e.g. 2026-11-21T09:30:00+08:00)"
    return None


class _BatchRouter:
    def __init__(self, dataset: Dataset) -> None:
        self.catalog = dataset.catalog
        self.index = dataset.geofence()
        self.router = dataset.router()
        self.tz = ZoneInfo(DEFAULT_TZ)

    def decide(self, request: RouteRequest, now: dt.datetime) -> RouteDecision:
        """Raises DomainError (e.g. an unknown category) with the reason for the error line."""
        self.catalog.category(request.category)
        lon, lat = to_wgs84(request.lon, request.lat, request.crs)
        where = self.index.locate(lon, lat, request.acc)
        assignment = None
        if where.cell is not None:
            on = (request.ts or now).astimezone(self.tz).date()
            assignment = self.router.route(
                request.category,
                township_of(where.cell),
                on,
                where.cell,
                snapped_m=where.snapped_m,
            )
        return RouteDecision(
            id=request.id,
            cell=where.cell,
            township=township_of(where.cell) if where.cell else None,
            village=village_of(where.cell) if where.cell else None,
            snapped=where.snapped,
            unlocated=where.unlocated,
            index_version=where.index_version,
            matters=list(assignment.matters) if assignment else [],
            mode=assignment.basis if assignment else None,
            lead=assignment.lead if assignment else None,
            support=list(assignment.support) if assignment else [],
            informed=list(assignment.informed) if assignment else [],
            agreement=assignment.agreement if assignment else None,
            explanation=assignment.explanation if assignment else None,
            lon=round(lon, 7),
            lat=round(lat, 7),
        )


def route_lines(lines: Iterable[bytes], dataset: Dataset, now: dt.datetime) -> Iterator[bytes]:
    batch = _BatchRouter(dataset)
    decoder = msgspec.json.Decoder(RouteRequest)
    encoder = msgspec.json.Encoder()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            request = decoder.decode(line)
        except msgspec.DecodeError as exc:
            yield encoder.encode(RouteError(line=number, error=str(exc), id=_id_of(line)))
            continue
        problem = _problem(request)
        if problem:
            yield encoder.encode(RouteError(line=number, error=problem, id=request.id))
            continue
        try:
            yield encoder.encode(batch.decide(request, now))
        except DomainError as exc:
            yield encoder.encode(RouteError(line=number, error=exc.message_en, id=request.id))


def _id_of(line: bytes) -> str | int | None:
    try:
        return msgspec.json.decode(line, type=_IdOnly).id
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
