"""Alerts, pings and OwnTracks through the ingest pipeline (docs/domain.md#remote-enforcement-alerts, docs/domain.md#patrols-staffing-and-officers, docs/architecture.md#messaging), on SQLite and
PostgreSQL. The broker's part is tested end to end in test_ingest; here each message goes through
the same Ingest the MQTT worker calls."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
import pytest
import shapely
from sqlmodel import Session, col, func, select

from geodata.coords import wgs84_to_bd09, wgs84_to_gcj02
from geodata.dataset import Dataset
from grid.geo import distance_m
from grid.subjects import Device
from server.db.tables import AlertRow, IncidentRow, PatrolDayRow, RejectRow, WorkerPresenceRow
from sync.ingest import Ingest
from tests.support.api import Api

COUNTY = "339921"


def camera_of(county: Dataset, township: str) -> Device:
    return next(d for d in county.devices if d.cell.startswith(township))


def worker_of(api: Api) -> str:
    return next(w.id for w in api.template.county.workers if w.township == api.template.township_a)


def send(ingest: Ingest, topic: str, payload: Any) -> dict[str, Any] | None:
    raw = payload if isinstance(payload, bytes) else msgspec.json.encode(payload)
    answer = ingest.handle(topic, raw)
    return None if answer is None else msgspec.json.decode(answer[1])


def alert(device: Device, confidence: float, at: dt.datetime, category: str | None = None) -> dict[str, Any]:
    return {
        "id": f"a-{uuid.uuid4().hex[:8]}",
        "ts": at.isoformat(),
        "device": device.id,
        "category": category or device.categories[0],
        "confidence": confidence,
        "snapshot_url": "https://cam.example/snap/1.jpg",
    }


def count(api: Api, table: Any, *where: Any) -> int:
    with Session(api.runtime.engine) as session:
        return int(session.exec(select(func.count()).select_from(table).where(*where)).one())


@pytest.fixture
def ingest(api: Api) -> Ingest:
    return api.runtime.field_ingest()


def test_an_alert_is_placed_at_its_device_and_later_ones_join_it(api: Api, ingest: Ingest) -> None:
    camera = camera_of(api.template.county, api.template.township_a)
    topic = f"gw/{COUNTY}/up/{camera.id}/alert"
    first = alert(camera, 0.99, api.clock() - dt.timedelta(minutes=5))
    ack = send(ingest, topic, first)
    assert ack is not None and ack["status"] == "accepted" and not ack["merged"]
    assert ack["cell"] == camera.cell  # the device's registered place, not anything in the payload
    assert ack["responsible"] is not None
    # Nine minutes later the same camera sees the same thing again: the same incident, counted.
    again = alert(camera, 0.95, api.clock() + dt.timedelta(minutes=4))
    api.clock.advance(minutes=5)
    joined = send(ingest, topic, again)
    assert joined is not None and joined["status"] == "accepted" and joined["merged"]
    assert joined["incident"] == ack["incident"]
    # Redelivered, the joining alert gets the same answer.
    replay = send(ingest, topic, again)
    assert replay is not None and replay["status"] == "duplicate" and replay["merged"]
    assert replay["incident"] == ack["incident"]
    detail = api.client.get(f"/incidents/{ack['incident']}", headers=api.auth("duty_a")).json()
    assert detail["incident"]["source"] == "alert"
    assert detail["incident"]["alert_count"] == 2
    assert detail["incident"]["state"] == "reported"  # a person accepts; an alert never opens a case
    assert detail["incident"]["media"] == ["https://cam.example/snap/1.jpg"]
    assert [h["action"] for h in detail["history"]] == ["report", "alert_merged"]
    # Eleven minutes after it was last seen, the matter is a new one.
    api.clock.advance(minutes=11)
    later = send(ingest, topic, alert(camera, 0.99, api.clock()))
    assert later is not None and not later["merged"] and later["incident"] != ack["incident"]
    assert count(api, IncidentRow) == 2
    assert count(api, AlertRow) == 3


def test_alerts_of_one_batch_join_each_other(api: Api, ingest: Ingest) -> None:
    camera = camera_of(api.template.county, api.template.township_a)
    topic = f"gw/{COUNTY}/up/{camera.id}/alert"
    batch = [
        (topic, msgspec.json.encode(alert(camera, 0.99, api.clock() - dt.timedelta(minutes=m))))
        for m in (3, 2, 1)
    ]
    answers = [msgspec.json.decode(a[1]) for a in ingest.handle_many(batch) if a is not None]
    assert len({a["incident"] for a in answers}) == 1
    assert [a["merged"] for a in answers] == [False, True, True]
    assert count(api, IncidentRow) == 1
    with Session(api.runtime.engine) as session:
        row = session.exec(select(IncidentRow)).one()
    assert row.alert_count == 3
    assert row.last_seen == api.clock() - dt.timedelta(minutes=1)


def test_an_unsure_alert_waits_in_the_review_queue(api: Api, ingest: Ingest) -> None:
    camera = camera_of(api.template.county, api.template.township_a)
    threshold = api.runtime.domains().catalog.category(camera.categories[0]).alert_confidence
    ack = send(ingest, f"gw/{COUNTY}/up/{camera.id}/alert", alert(camera, threshold - 0.01, api.clock()))
    assert ack is not None and ack["status"] == "accepted"
    queue = api.client.get("/incidents?review=true", headers=api.auth("duty_a")).json()
    assert [i["id"] for i in queue["items"]] == [ack["incident"]]
    assert queue["items"][0]["in_review"] is True
    rest = api.client.get("/incidents?review=false", headers=api.auth("duty_a")).json()
    assert ack["incident"] not in [i["id"] for i in rest["items"]]
    # Not gone to enforcement: the lead unit neither lists nor reads it until a person accepts it.
    lead_unit = ack["responsible"]
    assert lead_unit == f"{api.template.township_a}.office.enforcement"
    assert api.client.get(f"/incidents/{ack['incident']}", headers=api.auth("unit_a")).status_code == 403
    assert ack["incident"] not in [
        i["id"] for i in api.client.get("/incidents", headers=api.auth("unit_a")).json()["items"]
    ]
    accepted = api.act(ack["incident"], "accept")
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["in_review"] is False
    assert api.client.get(f"/incidents/{ack['incident']}", headers=api.auth("unit_a")).status_code == 200


BAD_ALERTS = [
    ({"confidence": 1.5}, "Expected `float` <= 1"),
    ({"confidence": "high"}, "Expected `float`"),
    ({"device": "cam-somebody-else"}, "does not match topic device"),
    ({"category": "0999"}, "is registered for"),
    ({"snapshot_url": "file:///etc/passwd"}, "snapshot_url"),
    ({"ts": "2026-06-16T09:00:00"}, "time zone"),
]


@pytest.mark.parametrize(("change", "reason"), BAD_ALERTS, ids=[r for _, r in BAD_ALERTS])
def test_bad_alerts_are_kept_and_refused(
    api: Api, ingest: Ingest, change: dict[str, Any], reason: str
) -> None:
    camera = camera_of(api.template.county, api.template.township_a)
    ack = send(ingest, f"gw/{COUNTY}/up/{camera.id}/alert", alert(camera, 0.9, api.clock()) | change)
    assert ack is not None and ack["status"] == "rejected"
    assert reason in ack["error"], ack["error"]
    assert count(api, RejectRow) == 1
    assert count(api, IncidentRow) == 0


def test_only_devices_alert_and_only_workers_report_or_ping(api: Api, ingest: Ingest) -> None:
    camera = camera_of(api.template.county, api.template.township_a)
    worker = worker_of(api)
    as_worker = send(
        ingest, f"gw/{COUNTY}/up/{worker}/alert", alert(camera, 0.9, api.clock()) | {"device": worker}
    )
    assert as_worker is not None and "come from a device, not a worker" in as_worker["error"]
    lon, lat = api.point_in(api.template.township_a)
    report = {"id": "r1", "ts": api.clock().isoformat(), "lat": lat, "lon": lon, "category": "0501"}
    as_camera = send(ingest, f"gw/{COUNTY}/up/{camera.id}/report", report)
    assert as_camera is not None and "come from a worker, not a device" in as_camera["error"]
    ping = send(
        ingest, f"gw/{COUNTY}/up/{camera.id}/ping", {"ts": api.clock().isoformat(), "lat": lat, "lon": lon}
    )
    assert ping is not None and ping["status"] == "rejected"
    assert count(api, RejectRow) == 3
    assert count(api, IncidentRow) == 0


def test_pings_become_patrol_visits_and_coverage(api: Api, ingest: Ingest) -> None:
    worker = worker_of(api)
    township = api.template.township_a
    cell = sorted(c for c in api.shapes if c.startswith(township))[0]
    lon, lat = api.point_in(township, 0)
    topic = f"gw/{COUNTY}/up/{worker}/ping"
    monday = api.clock() - dt.timedelta(days=1)  # the clock starts on a Tuesday
    # Monday: a batch of three; Tuesday: one more. Two days in the cell, four pings.
    batch = [
        {"ts": (monday + dt.timedelta(minutes=m)).isoformat(), "lat": lat, "lon": lon, "acc": 8}
        for m in range(3)
    ]
    assert send(ingest, topic, batch) is None  # the broker's PUBACK is the answer to a good ping
    assert send(ingest, topic, {"ts": api.clock().isoformat(), "lat": lat, "lon": lon}) is None
    with Session(api.runtime.engine) as session:
        days = session.exec(select(PatrolDayRow).where(PatrolDayRow.cell == cell)).all()
        presence = session.get(WorkerPresenceRow, worker)
    assert sorted((d.day.isoformat(), d.pings) for d in days) == [("2026-06-15", 3), ("2026-06-16", 1)]
    assert presence is not None and presence.online and presence.cell == cell and presence.via == "gridwatch"
    # A late ping from Monday does not move the worker back in time.
    assert send(ingest, topic, {"ts": monday.isoformat(), "lat": lat + 0.01, "lon": lon}) is None
    with Session(api.runtime.engine) as session:
        assert session.get(WorkerPresenceRow, worker).last_ping_at == api.clock()  # type: ignore[union-attr]
    got = api.client.get(
        f"/patrols/coverage?township={township}&limit=500", headers=api.auth("duty_a")
    ).json()
    assert got["week_start"] == "2026-06-15" and got["week_end"] == "2026-06-21"
    mine = next(c for c in got["cells"]["items"] if c["cell"] == cell)
    target = next(c.patrol_target for c in api.template.county.cells.records if c.code == cell)
    assert mine == {"cell": cell, "days_visited": 2, "target": target, "covered": target <= 2}
    [row] = got["townships"]
    assert row["code"] == township and row["cells"] == got["cells"]["total"]
    assert row["covered"] == sum(c["covered"] for c in got["cells"]["items"])
    # Last week is another week.
    last_week = api.client.get(
        f"/patrols/coverage?township={township}&week=2026-06-10&limit=500", headers=api.auth("duty_a")
    ).json()
    assert all(c["days_visited"] == 0 for c in last_week["cells"]["items"])
    people = api.client.get(f"/patrols/presence?township={township}", headers=api.auth("duty_a")).json()
    with Session(api.runtime.engine) as session:  # the late ping may have been in a neighbouring cell
        visited = set(session.exec(select(PatrolDayRow.cell).where(PatrolDayRow.worker == worker)).all())
    assert cell in visited
    assert [(p["worker"], p["online"], p["cells_visited_this_week"]) for p in people["items"]] == [
        (worker, True, len(visited))
    ]


BAD_PINGS: list[tuple[bytes, str]] = [
    (b"[]", "length >= 1"),
    (b'{"ts": "2026-06-16T09:00:00+08:00", "lat": "29", "lon": 119}', "Expected `float`"),
    (b'{"ts": "2026-06-16T09:00:00", "lat": 29, "lon": 119}', "time zone"),
    (b'{"ts": "2026-06-16T09:00:00+08:00", "lat": 95, "lon": 119}', "out of range"),
    (
        b"[" + b",".join([b'{"ts": "2026-06-16T09:00:00+08:00", "lat": 29, "lon": 119}'] * 501) + b"]",
        "length <= 500",
    ),
    (b"pings!", "malformed"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD_PINGS, ids=[r for _, r in BAD_PINGS])
def test_bad_pings_are_kept_and_refused(api: Api, ingest: Ingest, raw: bytes, reason: str) -> None:
    ack = send(ingest, f"gw/{COUNTY}/up/{worker_of(api)}/ping", raw)
    assert ack is not None and ack["status"] == "rejected" and reason in ack["error"], ack
    assert count(api, RejectRow) == 1
    assert count(api, PatrolDayRow) == 0


def test_owntracks_locations_are_pings_and_the_phone_gets_the_cells_as_regions(
    api: Api, ingest: Ingest
) -> None:
    worker = worker_of(api)
    lon, lat = api.point_in(api.template.township_a)
    now = int(api.clock().timestamp())
    location = {"_type": "location", "lat": lat, "lon": lon, "tst": now, "acc": 12, "batt": 80, "tid": "w1"}
    answer = ingest.handle(f"owntracks/{worker}/phone", msgspec.json.encode(location))
    assert answer is not None
    topic, payload = answer
    assert topic == f"owntracks/{worker}/phone/cmd"
    command = msgspec.json.decode(payload)
    assert command["_type"] == "cmd" and command["action"] == "setWaypoints"
    regions = command["waypoints"]["waypoints"]
    mine = next(w for w in api.template.county.workers if w.id == worker)
    assert sorted(r["rid"] for r in regions) == sorted(mine.cells)
    for region in regions:
        cell = api.shapes[region["rid"]]
        assert cell.contains(shapely.Point(region["lon"], region["lat"]))  # the centre is inside the cell
        assert region["rad"] > 0 and len({r["tst"] for r in regions}) == len(regions)
    # The regions go once per phone; later locations are just pings.
    assert (
        ingest.handle(f"owntracks/{worker}/phone", msgspec.json.encode(location | {"tst": now + 60})) is None
    )
    transition = {
        "_type": "transition",
        "lat": lat,
        "lon": lon,
        "tst": now + 120,
        "event": "leave",
        "desc": "x",
        "t": "c",
    }
    assert ingest.handle(f"owntracks/{worker}/phone/event", msgspec.json.encode(transition)) is None
    with Session(api.runtime.engine) as session:
        [visit] = session.exec(select(PatrolDayRow)).all()
        assert visit.pings == 3 and visit.worker == worker
        presence = session.get(WorkerPresenceRow, worker)
        assert presence is not None and presence.online and presence.via == "owntracks"
    # The phone's last will: offline.
    assert ingest.handle(f"owntracks/{worker}/phone", b'{"_type": "lwt", "tst": 1}') is None
    with Session(api.runtime.engine) as session:
        presence = session.get(WorkerPresenceRow, worker)
        assert presence is not None and not presence.online
        assert presence.last_ping_at == api.clock() + dt.timedelta(seconds=120)
    # Messages the platform does not use are taken quietly.
    assert ingest.handle(f"owntracks/{worker}/phone", b'{"_type": "status", "android": {}}') is None
    assert count(api, RejectRow) == 0


BAD_OWNTRACKS = [
    ("owntracks/{w}/phone", b"{{{", "not an OwnTracks JSON object"),
    ("owntracks/{w}/phone", b'{"_type": "location", "lat": 29.1}', "missing required field"),
    ("owntracks/{w}/phone", b'{"_type": "location", "lat": 99, "lon": 119, "tst": 1}', "<= 90"),
    ("owntracks/{w}/phone", b'{"_type": "teleport", "lat": 29, "lon": 119, "tst": 1}', "teleport"),
    (
        "owntracks/stranger/phone",
        b'{"_type": "location", "lat": 29, "lon": 119, "tst": 1}',
        "is not a worker",
    ),
    (
        "owntracks/{w}/phone/other",
        b'{"_type": "location", "lat": 29, "lon": 119, "tst": 1}',
        "not an OwnTracks topic",
    ),
]


@pytest.mark.parametrize(("topic", "raw", "reason"), BAD_OWNTRACKS, ids=[r for _, _, r in BAD_OWNTRACKS])
def test_bad_owntracks_messages_are_kept(
    api: Api, ingest: Ingest, topic: str, raw: bytes, reason: str
) -> None:
    assert ingest.handle(topic.format(w=worker_of(api)), raw) is None  # OwnTracks has no ack topic
    with Session(api.runtime.engine) as session:
        [reject] = session.exec(select(RejectRow)).all()
    assert reason in reject.reason and reject.raw == raw
    assert count(api, PatrolDayRow, col(PatrolDayRow.pings) > 0) == 0


def test_a_redelivered_reject_is_kept_once(api: Api, ingest: Ingest) -> None:
    from sync.ingest import Incoming

    topic = f"gw/{COUNTY}/up/{worker_of(api)}/report"
    first = ingest.handle_many([Incoming(topic, b"garbage")])
    # The worker died before its PUBACK; the broker sends the message again, flagged DUP.
    again = ingest.handle_many([Incoming(topic, b"garbage", redelivered=True)])
    assert first == again  # the same rejected ack
    assert count(api, RejectRow) == 1
    # The same bytes sent anew (not a redelivery) are another message, kept again.
    ingest.handle_many([Incoming(topic, b"garbage")])
    assert count(api, RejectRow) == 2


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_reports_in_chinese_map_coordinates_are_stored_in_wgs84(api: Api, ingest: Ingest, crs: str) -> None:
    worker = worker_of(api)
    lon, lat = api.point_in(api.template.township_a, 0)
    shown = wgs84_to_gcj02(lon, lat) if crs == "gcj02" else wgs84_to_bd09(lon, lat)
    report = {
        "id": f"r-{crs}",
        "ts": api.clock().isoformat(),
        "lon": shown[0],
        "lat": shown[1],
        "category": "0501",
        "crs": crs,
    }
    answer = send(ingest, f"gw/{COUNTY}/up/{worker}/report", report)
    assert answer is not None and answer["status"] == "accepted", answer
    with Session(api.runtime.engine) as session:
        stored = session.exec(select(IncidentRow).where(IncidentRow.client_id == f"r-{crs}")).one()
    assert distance_m(stored.lon, stored.lat, lon, lat) < 0.5
    assert stored.cell is not None and shapely.Point(lon, lat).within(api.shapes[stored.cell].buffer(1e-6))
