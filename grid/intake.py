"""The one intake pipeline (HTTP, MQTT, Open311 all use it):

validate → convert coordinates → locate → classify → route → start clocks → duplicate check → commit.
An alert first looks for the open incident its device already raised (docs/domain.md#remote-enforcement-alerts) and joins it.

The store commits and publishes the event in the same transaction (an outbox), so an acknowledged
report is durable and its event cannot be lost. Idempotent by (device, client id).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

import msgspec

from grid.alerts import MERGE_WINDOW, OpenAlert, merge_target, needs_review
from grid.catalog import Category
from grid.domain import Domain
from grid.duplicates import DUPLICATE_RADIUS_M, DUPLICATE_WINDOW, probable_duplicate
from grid.errors import DomainError
from grid.geo import degrees_covering
from grid.incident import FlowRecord, GpsFix, Incident, IncidentState, Source
from grid.places import township_of

# Reports this far beyond the cells' envelope are wrong coordinates, not an unlocated incident.
OUTSIDE_MARGIN_M = 5_000.0
# Phones' clocks drift; a report from further in the future than this is refused.
FUTURE_SKEW = dt.timedelta(minutes=10)
MAX_TEXT = 4_000
MAX_MEDIA = 9

Converter = Callable[[float, float, str], tuple[float, float]]


class IntakeRefused(DomainError):
    code = "invalid_report"


class ClientIdTaken(Exception):
    """The store found the (device, client id) already committed by a concurrent submission."""


class Report(msgspec.Struct, frozen=True, kw_only=True):
    device: str
    client_id: str
    source: Source
    category: str
    lon: float
    lat: float
    ts: dt.datetime
    crs: str = "wgs84"
    accuracy: float | None = None
    text: str = ""
    media: tuple[str, ...] = ()
    subject: str | None = None
    reporter: str | None = None
    urgent: bool = False
    # Alerts only: the camera's or sensor's confidence in [0, 1].
    confidence: float | None = None
    # A point placed by hand: the phone's own fix, kept beside it.
    gps_fix: GpsFix | None = None


class IntakeOutcome(msgspec.Struct, frozen=True, kw_only=True):
    incident: Incident
    # True when this (device, client id) had already been taken: the same answer as the first time.
    replayed: bool
    probable_duplicate_of: str | None
    # True when an alert joined an open incident of its device instead of opening one.
    merged: bool = False


class Sighting(msgspec.Struct, frozen=True, kw_only=True):
    """What one alert saw: kept with the incident it opened or joined."""

    at: dt.datetime
    confidence: float | None
    snapshot: str | None


class IntakeEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A new incident as the store writes it: with its history and the key it was reported under."""

    outcome: IntakeOutcome
    records: tuple[FlowRecord, ...]
    device: str
    client_id: str
    reporter: str | None
    # Alerts only: what it saw, and the incident it joins (None: it opens outcome.incident).
    sighting: Sighting | None = None
    merge_into: str | None = None


class NearQuery(NamedTuple):
    """Open incidents of a category within a box around a point, reported since a moment."""

    category: str
    lon: float
    lat: float
    radius_deg: float
    since: dt.datetime


class IntakeStore(Protocol):
    def by_client_ids(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IntakeOutcome]: ...

    def joined_alerts(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], IntakeOutcome]:
        """The answers of alerts that joined an open incident (they have no incident of their own)."""
        ...

    def open_near_many(self, queries: Sequence[NearQuery]) -> list[Sequence[Incident]]:
        """The answer to each query, in order (a batch asks once)."""
        ...

    def open_alerts(self, device: str, category: str, since: dt.datetime) -> Sequence[OpenAlert]:
        """Open alert incidents the device raised in the category, last seen since `since`."""
        ...

    def create(self, entries: Sequence[IntakeEntry]) -> None:
        """Commit the incidents, assignments, histories and events in one transaction, or raise
        ClientIdTaken (and write nothing) if a (device, client id) was taken meanwhile."""
        ...


def _refuse(en: str, zh: str, field: str) -> IntakeRefused:
    return IntakeRefused(en, zh, field=field)


def _storable(value: str) -> bool:
    """Text a database keeps as it is: no NUL (PostgreSQL refuses it) and no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_report(report: Report, domain: Domain, now: dt.datetime) -> None:
    if not report.device.strip() or not report.client_id.strip():
        raise _refuse("device and client id are required", "设备号和客户端编号必填", "client_id")
    fields = {
        "client_id": (report.device, report.client_id, report.reporter or ""),
        "text": (report.text,),
        "media": report.media,
        "subject_id": (report.subject or "",),
    }
    for field, values in fields.items():
        if not all(_storable(v) for v in values):
            raise _refuse(
                f"{field} holds a NUL character or invalid Unicode, which cannot be stored",
                f"{field} 含有无法保存的字符（NUL 或无效的 Unicode）",
                field,
            )
    if not (math.isfinite(report.lon) and math.isfinite(report.lat)):
        raise _refuse("lon and lat must be finite numbers", "经纬度必须是有限数值", "lon")
    if not (-180.0 <= report.lon <= 180.0 and -90.0 <= report.lat <= 90.0):
        raise _refuse(f"coordinates out of range: {report.lon}, {report.lat}", "经纬度超出范围", "lon")
    if report.accuracy is not None and not (math.isfinite(report.accuracy) and report.accuracy >= 0):
        raise _refuse("accuracy must be a non-negative number of metres", "定位精度必须为非负米数", "acc")
    if report.ts.tzinfo is None:
        raise _refuse("ts must carry a time zone", "时间必须带时区", "ts")
    if report.ts > now + FUTURE_SKEW:
        raise _refuse(f"ts {report.ts.isoformat()} is in the future", "上报时间晚于当前时间", "ts")
    if report.confidence is not None and not (
        math.isfinite(report.confidence) and 0.0 <= report.confidence <= 1.0
    ):
        raise _refuse("confidence must be a number in [0, 1]", "置信度必须是 0 到 1 之间的数", "confidence")
    if len(report.text) > MAX_TEXT:
        raise _refuse(f"text longer than {MAX_TEXT} characters", f"描述超过 {MAX_TEXT} 字", "text")
    check_media(report.media)
    if report.gps_fix is not None:
        _check_gps_fix(report.gps_fix)
    domain.catalog.category(report.category)  # UnknownCategory names it


def check_media(media: Sequence[str]) -> None:
    """What a report (or a step of the loop) may carry: a few links, to the platform's /media/ or the web."""
    if len(media) > MAX_MEDIA:
        raise _refuse(f"media must be at most {MAX_MEDIA} URLs", f"媒体最多 {MAX_MEDIA} 个链接", "media")
    if any(not m.startswith(("https://", "http://", "/media/")) for m in media):
        raise _refuse(
            "each media item must be a /media/ URL (from POST /media) or an http(s) link",
            "每个媒体须为 POST /media 返回的 /media/ 链接或 http(s) 链接",
            "media",
        )


def _check_gps_fix(fix: GpsFix) -> None:
    if not (math.isfinite(fix.lon) and math.isfinite(fix.lat)) or not (
        -180.0 <= fix.lon <= 180.0 and -90.0 <= fix.lat <= 90.0
    ):
        raise _refuse(
            f"gps_fix coordinates out of range: {fix.lon}, {fix.lat}", "gps_fix 的经纬度超出范围", "gps_fix"
        )
    if fix.acc is not None and not (math.isfinite(fix.acc) and fix.acc >= 0):
        raise _refuse(
            "gps_fix acc must be a non-negative number of metres",
            "gps_fix 的定位精度必须为非负米数",
            "gps_fix",
        )


def _outside_county(domain: Domain, lon: float, lat: float) -> bool:
    bounds = domain.index.bounds
    if bounds is None:
        return False
    margin = degrees_covering(OUTSIDE_MARGIN_M, lat)
    minx, miny, maxx, maxy = bounds
    return not (minx - margin <= lon <= maxx + margin and miny - margin <= lat <= maxy + margin)


class Intake:
    def __init__(
        self,
        domain: Callable[[], Domain],
        store: IntakeStore,
        convert: Converter,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.domain = domain
        self.store = store
        self.convert = convert
        self.clock = clock

    def submit(self, report: Report, incident_id: Callable[[], str]) -> IntakeOutcome:
        """One report; raises the DomainError that refuses it."""
        [result] = self.submit_many([report], incident_id)
        if isinstance(result, DomainError):
            raise result
        return result

    def submit_many(
        self, reports: Sequence[Report], incident_id: Callable[[], str]
    ) -> list[IntakeOutcome | DomainError]:
        """A batch, committed in one transaction; each report gets its outcome or its refusal, in order."""
        domain = self.domain()
        now = self.clock()
        results: list[IntakeOutcome | DomainError | None] = [None] * len(reports)
        keys = [(r.device, r.client_id) for r in reports]
        earlier = self.store.by_client_ids(keys)
        alerts = [
            k for r, k in zip(reports, keys, strict=True) if r.source is Source.ALERT and k not in earlier
        ]
        if alerts:
            earlier.update(self.store.joined_alerts(alerts))
        first_in_batch: dict[tuple[str, str], int] = {}
        # The WGS-84 point of each report to take in, in order.
        points: dict[int, tuple[float, float]] = {}
        for i, (report, key) in enumerate(zip(reports, keys, strict=True)):
            try:
                check_report(report, domain, now)
            except DomainError as refusal:
                results[i] = refusal
                continue
            if key in earlier:
                results[i] = msgspec.structs.replace(earlier[key], replayed=True)
            elif key not in first_in_batch:
                first_in_batch[key] = i
                try:
                    points[i] = self._wgs84(report)
                except DomainError as refusal:
                    results[i] = refusal
        entered: list[tuple[int, IntakeEntry]] = []
        batch: list[IntakeEntry] = []
        for i, nearby in zip(points, self._nearby([(reports[i], p) for i, p in points.items()]), strict=True):
            try:
                entry = self._entry_for(reports[i], points[i], domain, now, incident_id, batch, nearby)
            except DomainError as refusal:
                results[i] = refusal
            else:
                entered.append((i, entry))
                batch.append(entry)
        if entered:
            try:
                self.store.create([a for _, a in entered])
            except ClientIdTaken:
                # A concurrent submission took one of these keys: one at a time, each idempotent.
                return [
                    r if r is not None else self._one_by_one(reports[i], incident_id)
                    for i, r in enumerate(results)
                ]
            for i, entry in entered:
                results[i] = entry.outcome
        # A repeat within the batch gets the answer its first copy got.
        for i, key in enumerate(keys):
            if results[i] is None:
                first = results[first_in_batch[key]]
                results[i] = (
                    msgspec.structs.replace(first, replayed=True)
                    if isinstance(first, IntakeOutcome)
                    else first
                )
        return [r for r in results if r is not None]

    def _wgs84(self, report: Report) -> tuple[float, float]:
        try:
            return self.convert(report.lon, report.lat, report.crs)
        except ValueError:
            raise _refuse(f"unknown crs {report.crs!r}", f"未知的坐标系 {report.crs!r}", "crs") from None

    def _nearby(self, reports: Sequence[tuple[Report, tuple[float, float]]]) -> list[Sequence[Incident]]:
        """Candidates for each report's duplicate check, in one query for the batch."""
        queries = [
            NearQuery(
                r.category, lon, lat, degrees_covering(DUPLICATE_RADIUS_M, lat), r.ts - DUPLICATE_WINDOW
            )
            for r, (lon, lat) in reports
        ]
        return self.store.open_near_many(queries) if queries else []

    def _one_by_one(self, report: Report, incident_id: Callable[[], str]) -> IntakeOutcome | DomainError:
        # Alone, a key taken meanwhile is found by by_client_ids and answered as a replay.
        [result] = self.submit_many([report], incident_id)
        return result

    def _entry_for(
        self,
        report: Report,
        point: tuple[float, float],
        domain: Domain,
        now: dt.datetime,
        incident_id: Callable[[], str],
        batch: Sequence[IntakeEntry],
        nearby: Sequence[Incident],
    ) -> IntakeEntry:
        category = domain.catalog.category(report.category)
        sighting = _sighting(report)
        if sighting is not None:
            joined = self._join_open_alert(report, sighting, now, batch)
            if joined is not None:
                return joined
        lon, lat = point
        if _outside_county(domain, lon, lat):
            raise _refuse(
                f"coordinates {lon:.6f}, {lat:.6f} are outside the county (lon and lat swapped?)",
                "坐标不在本县范围内（经纬度是否颠倒？）",
                "lon",
            )
        where = domain.index.locate(lon, lat, report.accuracy)
        assignment = None
        if where.cell is not None:
            on = report.ts.astimezone(domain.calendar.tz).date()
            assignment = domain.router.route(
                category.code,
                township_of(where.cell),
                on,
                where.cell,
                snapped_m=where.snapped_m,
            )
        incident = domain.lifecycle.open(
            Incident(
                id=incident_id(),
                source=report.source,
                category=category.code,
                lon=lon,
                lat=lat,
                accuracy=report.accuracy,
                reported_at=report.ts,
                cell=where.cell,
                snapped=where.snapped,
                index_version=where.index_version,
                urgent=report.urgent or category.urgent,
                text=report.text,
                media=report.media,
                subject=report.subject,
                assignment=assignment,
                in_review=self._in_review(report, category),
                gps_fix=report.gps_fix,
            )
        )
        candidates = [*nearby, *(a.outcome.incident for a in batch if a.merge_into is None)]
        twin = probable_duplicate(category.code, lon, lat, report.ts, candidates)
        record = FlowRecord(
            incident=incident.id,
            action="report",
            actor=report.reporter or report.device,
            at=now,
            from_state=IncidentState.REPORTED,
            to_state=IncidentState.REPORTED,
            unit=assignment.lead if assignment else None,
        )
        return IntakeEntry(
            outcome=IntakeOutcome(
                incident=incident, replayed=False, probable_duplicate_of=twin.id if twin else None
            ),
            records=(record,),
            device=report.device,
            client_id=report.client_id,
            reporter=report.reporter,
            sighting=sighting,
        )

    @staticmethod
    def _in_review(report: Report, category: Category) -> bool:
        return report.confidence is not None and needs_review(report.confidence, category.alert_confidence)

    def _join_open_alert(
        self, report: Report, sighting: Sighting, now: dt.datetime, batch: Sequence[IntakeEntry]
    ) -> IntakeEntry | None:
        earlier = self.store.open_alerts(report.device, report.category, report.ts - MERGE_WINDOW)
        in_batch = [
            OpenAlert(incident=a.outcome.incident, device=a.device, last_seen=a.sighting.at)
            for a in batch
            if a.sighting is not None
        ]
        target = merge_target(report.device, report.category, report.ts, [*earlier, *in_batch])
        if target is None:
            return None
        record = FlowRecord(
            incident=target.id,
            action="alert_merged",
            actor=report.device,
            at=now,
            from_state=target.state,
            to_state=target.state,
            reason=f"client id {report.client_id}",
        )
        return IntakeEntry(
            outcome=IntakeOutcome(incident=target, replayed=False, probable_duplicate_of=None, merged=True),
            records=(record,),
            device=report.device,
            client_id=report.client_id,
            reporter=None,
            merge_into=target.id,
            sighting=sighting,
        )


def _sighting(report: Report) -> Sighting | None:
    if report.source is not Source.ALERT:
        return None
    return Sighting(
        at=report.ts, confidence=report.confidence, snapshot=report.media[0] if report.media else None
    )
