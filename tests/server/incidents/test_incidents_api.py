"""The incident API end to end on SQLite: intake, the loop, re-route, listings, cells."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import shapely
import shapely.geometry

from geodata.coords import wgs84_to_gcj02
from grid.geo import METRES_PER_DEGREE_LAT
from server.api.app import create_app
from tests.support.api import Api, LiveServer, stored


def test_report_is_located_routed_and_clocked(api: Api) -> None:
    done = api.report(text="路边摊占道", acc=8.5)
    assert done.status_code == 201, done.text
    ack = done.json()
    assert ack["status"] == "accepted"
    incident = ack["incident"]
    assert incident["township"] == api.template.township_a
    assert incident["cell"].startswith(api.template.township_a)
    assert incident["lead"] == f"{api.template.township_a}.office.enforcement"
    assert incident["state"] == "reported"
    assert incident["stage"] == "accept"
    # Tuesday 09:00 + 1 work hour.
    assert incident["deadline"].startswith("2026-06-16T10:00:00")
    detail = api.client.get(f"/incidents/{incident['id']}", headers=api.auth("duty_a")).json()
    assert [h["action"] for h in detail["history"]] == ["report"]
    assert "占道" in detail["explanation_zh"] or detail["explanation_zh"]
    assert detail["assignments"][0]["current"] is True
    assert detail["assignments"][0]["basis"] == "granted"


def test_same_client_id_is_the_same_report(api: Api) -> None:
    lon, lat = api.point_in(api.template.township_a)
    body = {"client_id": "phone-1:42", "category": "0501", "lon": lon, "lat": lat}
    first = api.client.post("/incidents", json=body, headers=api.auth("worker_a1"))
    again = api.client.post("/incidents", json=body, headers=api.auth("worker_a1"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "duplicate"
    assert again.json()["incident"]["id"] == first.json()["incident"]["id"]
    # The same client id from another device is another report.
    other = api.client.post("/incidents", json=body, headers=api.auth("worker_a2"))
    assert other.status_code == 201
    assert other.json()["incident"]["id"] != first.json()["incident"]["id"]
    listed = api.client.get("/incidents", headers=api.auth("duty_a")).json()
    assert listed["total"] == 2


def test_the_same_client_id_at_once_is_one_report(api: Api) -> None:
    """Phones retry: copies of one report racing each other over HTTP get one incident, one 201 and
    a "duplicate" 200 for every other copy."""
    lon, lat = api.point_in(api.template.township_a)
    copies = 6
    with LiveServer(create_app(api.runtime)) as server:
        for round_ in range(5):
            body = {"client_id": f"retry-{round_}", "category": "0501", "lon": lon, "lat": lat}
            start = threading.Barrier(copies)

            def send(body: dict[str, object] = body, start: threading.Barrier = start) -> httpx.Response:
                start.wait()
                return httpx.post(
                    f"{server.url}/incidents", json=body, headers=api.auth("worker_a1"), timeout=60
                )

            with ThreadPoolExecutor(copies) as pool:
                answers = list(pool.map(lambda _: send(), range(copies)))
            assert sorted(a.status_code for a in answers) == [200] * (copies - 1) + [201], [
                a.text for a in answers
            ]
            assert {a.json()["incident"]["id"] for a in answers} == {answers[0].json()["incident"]["id"]}
            assert sorted(a.json()["status"] for a in answers) == ["accepted"] + ["duplicate"] * (copies - 1)
    assert api.client.get("/incidents", headers=api.auth("duty_a")).json()["total"] == 5


def test_probable_duplicate_is_linked(api: Api) -> None:
    first = api.report().json()["incident"]
    lon, lat = first["lon"], first["lat"] + 20 / METRES_PER_DEGREE_LAT
    second = api.client.post(
        "/incidents",
        json={"client_id": "near", "category": "0501", "lon": lon, "lat": lat},
        headers=api.auth("worker_a2"),
    ).json()["incident"]
    assert second["probable_duplicate_of"] == first["id"]
    other_category = api.client.post(
        "/incidents",
        json={"client_id": "near2", "category": "0502", "lon": lon, "lat": lat},
        headers=api.auth("worker_a2"),
    ).json()["incident"]
    assert other_category["probable_duplicate_of"] is None


def test_gcj02_report_lands_in_the_same_cell(api: Api) -> None:
    lon, lat = api.point_in(api.template.township_a, 3)
    glon, glat = wgs84_to_gcj02(lon, lat)
    wgs = api.client.post(
        "/incidents",
        json={"client_id": "w", "category": "0501", "lon": lon, "lat": lat},
        headers=api.auth("worker_a1"),
    )
    gcj = api.client.post(
        "/incidents",
        json={"client_id": "g", "category": "0501", "lon": glon, "lat": glat, "crs": "gcj02"},
        headers=api.auth("worker_a1"),
    )
    assert wgs.json()["incident"]["cell"] == gcj.json()["incident"]["cell"]
    assert abs(gcj.json()["incident"]["lon"] - lon) < 1e-6


def test_unlocated_waits_far_away_is_refused(api: Api) -> None:
    _, miny, maxx, maxy = api.runtime.domains().index.bounds  # type: ignore[misc]
    near = api.client.post(
        "/incidents",
        json={"client_id": "edge", "category": "0501", "lon": maxx + 0.01, "lat": (miny + maxy) / 2},
        headers=api.auth("duty_county"),
    )
    assert near.status_code == 201, near.text
    assert near.json()["incident"]["unlocated"] is True
    assert near.json()["incident"]["lead"] is None
    # Only the county's duty officers see an unlocated incident.
    assert (
        api.client.get(
            f"/incidents/{near.json()['incident']['id']}", headers=api.auth("duty_county")
        ).status_code
        == 200
    )
    assert (
        api.client.get(f"/incidents/{near.json()['incident']['id']}", headers=api.auth("duty_a")).status_code
        == 403
    )
    far = api.client.post(
        "/incidents",
        json={"client_id": "far", "category": "0501", "lon": 110.0, "lat": 30.0},
        headers=api.auth("duty_county"),
    )
    assert far.status_code == 422
    assert "outside the county" in far.json()["detail"]
    swapped = api.client.post(
        "/incidents",
        json={"client_id": "swap", "category": "0501", "lon": 29.1, "lat": 119.6},
        headers=api.auth("duty_county"),
    )
    assert swapped.status_code == 422
    assert "out of range" in swapped.json()["detail"]
    assert api.client.get("/incidents", headers=api.auth("duty_county")).json()["total"] == 1


def test_a_point_just_outside_the_county_is_snapped_and_says_so(api: Api) -> None:
    """DESIGN 5.1: within 30 m of a cell (no accuracy given) the point goes to the nearest cell, and
    the routing explanation says it was snapped and how far."""
    code, shape = max(api.shapes.items(), key=lambda item: item[1].bounds[2])
    x, y = max(shape.exterior.coords, key=lambda xy: xy[0])  # the county's easternmost vertex
    answer = api.client.post(
        "/incidents",
        json={"client_id": "snap", "category": "0501", "lon": x + 0.0001, "lat": y},  # about 10 m east
        headers=api.auth("duty_county"),
    )
    assert answer.status_code == 201, answer.text
    incident = answer.json()["incident"]
    assert incident["unlocated"] is False and incident["cell"] == code
    shown = api.client.get(f"/incidents/{incident['id']}", headers=api.auth("duty_county")).json()
    assert "snapped to the nearest" in str(shown) and "已吸附到" in str(shown)


def test_the_closed_loop_over_http(api: Api) -> None:
    incident = api.report().json()["incident"]["id"]
    steps = [
        ("accept", "duty_a", {}, "accepted"),
        ("dispatch", "duty_a", {}, "dispatched"),
        ("sign", "unit_a", {}, "signed"),
        ("handle", "unit_a", {}, "handled"),
        ("reopen", "duty_a", {"reason": "摊位仍在"}, "reopened"),
        ("handle", "unit_a", {}, "handled"),
        ("verify", "duty_a", {}, "verified"),
        ("close", "duty_a", {}, "closed"),
    ]
    for action, who, body, state in steps:
        done = api.act(incident, action, who, **body)
        assert done.status_code == 200, (action, done.text)
        assert done.json()["state"] == state
        api.clock.advance(minutes=10)
    detail = api.client.get(f"/incidents/{incident}", headers=api.auth("admin")).json()
    assert [h["action"] for h in detail["history"]] == ["report"] + [s[0] for s in steps]
    assert detail["incident"]["rework_count"] == 1
    assert detail["history"][5]["reason"] == "摊位仍在"
    refused = api.act(incident, "accept")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "已结案" in refused.json()["detail_zh"]


def test_overdue_and_suspension(api: Api) -> None:
    late = api.report(n=1).json()["incident"]["id"]
    paused = api.report(n=2).json()["incident"]["id"]
    for incident in (late, paused):
        assert api.act(incident, "accept").status_code == 200
    assert api.act(paused, "suspend", reason="等待权属认定").status_code == 200
    api.clock.advance(hours=3)  # past the 1-work-hour dispatch limit
    overdue = api.client.get("/incidents?overdue=true", headers=api.auth("duty_a")).json()
    assert [i["id"] for i in overdue["items"]] == [late]
    assert overdue["items"][0]["overdue"] is True
    on_time = api.client.get("/incidents?overdue=false", headers=api.auth("duty_a")).json()
    assert [i["id"] for i in on_time["items"]] == [paused]
    resumed = api.act(paused, "resume")
    assert resumed.json()["state"] == "accepted"
    assert resumed.json()["overdue"] is False  # the clock stopped while suspended


def test_reroute_keeps_history_and_admission(api: Api) -> None:
    incident = api.report().json()["incident"]["id"]
    api.act(incident, "accept")
    moved = api.client.post(
        f"/incidents/{incident}/reroute",
        json={"lead": "339921.dept.zhzf", "reason": "涉及违法建设"},
        headers=api.auth("duty_a"),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["lead"] == "339921.dept.zhzf"
    detail = api.client.get(f"/incidents/{incident}", headers=api.auth("duty_a")).json()
    assert [a["current"] for a in detail["assignments"]] == [False, True]
    assert detail["assignments"][1]["reason"] == "涉及违法建设"
    assert detail["history"][-1]["from_unit"] == f"{api.template.township_a}.office.enforcement"
    # The department's unit officer now sees it; another township's office may not take it.
    assert api.client.get(f"/incidents/{incident}", headers=api.auth("unit_dept")).status_code == 200
    refused = api.client.post(
        f"/incidents/{incident}/reroute",
        json={"lead": f"{api.template.township_b}.office.enforcement", "reason": "x"},
        headers=api.auth("duty_a"),
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "duty_admission_refused"


def test_listing_filters_and_paging(api: Api) -> None:
    ids = [api.report(n=i, category="0501" if i % 2 else "0502").json()["incident"]["id"] for i in range(6)]
    api.report(who="duty_b", township=api.template.township_b)
    headers = api.auth("duty_county")
    everything = api.client.get("/incidents", headers=headers).json()
    assert everything["total"] == 7
    township = api.client.get(
        f"/incidents?township={api.template.township_a}&limit=4", headers=headers
    ).json()
    assert (township["total"], len(township["items"]), township["limit"]) == (6, 4, 4)
    rest = api.client.get(
        f"/incidents?township={api.template.township_a}&limit=4&offset=4", headers=headers
    ).json()
    assert {i["id"] for i in township["items"] + rest["items"]} == set(ids)
    assert api.client.get("/incidents?category=0502", headers=headers).json()["total"] == 3
    api.act(ids[0], "accept")
    accepted = api.client.get("/incidents?status=accepted", headers=headers).json()
    assert [i["id"] for i in accepted["items"]] == [ids[0]]
    both = api.client.get("/incidents?status=accepted&status=reported", headers=headers).json()
    assert both["total"] == 7
    lon, lat = api.point_in(api.template.township_a, 0)
    box = f"{lon - 1e-4},{lat - 1e-4},{lon + 1e-4},{lat + 1e-4}"
    assert [i["id"] for i in api.client.get(f"/incidents?bbox={box}", headers=headers).json()["items"]] == [
        ids[0]
    ]
    assert api.client.get("/incidents?from=2026-06-17T00:00:00%2B08:00", headers=headers).json()["total"] == 0
    assert api.client.get("/incidents?to=2026-06-17T00:00:00%2B08:00", headers=headers).json()["total"] == 7
    unit = api.client.get("/incidents", headers=api.auth("unit_a")).json()
    assert unit["total"] == 6


def test_cells_out_as_geojson_with_bbox(api: Api) -> None:
    everything = api.client.get("/cells?limit=5000", headers=api.auth("admin"))
    assert everything.headers["content-type"].startswith("application/geo+json")
    collection = everything.json()
    assert collection["type"] == "FeatureCollection"
    assert collection["total"] == len(api.template.county.cells.records)
    first = collection["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    lon, lat = api.point_in(api.template.township_a, 0)
    near = api.client.get(f"/cells?bbox={lon},{lat},{lon},{lat}", headers=api.auth("admin")).json()
    assert 1 <= near["total"] < 10
    mine = api.client.get("/cells?limit=5000", headers=api.auth("duty_a")).json()
    assert {f["properties"]["township"] for f in mine["features"]} == {api.template.township_a}


def square(lon: float, lat: float, size: float = 0.0005) -> dict[str, object]:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


def split_first_cell(api: Api) -> tuple[str, list[dict[str, object]], shapely.Geometry]:
    """The county's first cell cut in a west half (same code) and an east half (a new code, 98)."""
    code, shape = api.template.county.cells.records[0].code, api.template.county.cells.shapes[0]
    minx, miny, maxx, maxy = shape.bounds
    middle = (minx + maxx) / 2
    west = shape.intersection(shapely.box(minx - 1, miny - 1, middle, maxy + 1))
    east = shape.intersection(shapely.box(middle, miny - 1, maxx + 1, maxy + 1))
    features = [
        {"type": "Feature", "properties": {"code": c, "name": n}, "geometry": shapely.geometry.mapping(g)}
        for c, n, g in ((code, "西半", west), (f"{code[:12]}98", "东半", east))
    ]
    return code, features, east


def test_cells_in_replace_and_rebuild_the_index(api: Api) -> None:
    code, features, east = split_first_cell(api)
    before = api.client.get("/health").json()["index_version"]
    body = {"type": "FeatureCollection", "features": features}
    done = api.client.post("/cells", json=body, headers=api.auth("admin"))
    assert done.status_code == 201, done.text
    assert done.json() == {"written": 2, "index_version": before + 1}
    health = api.client.get("/health").json()
    assert health["index_version"] == before + 1
    assert health["cells"] == len(api.template.county.cells.records) + 1
    inside = east.representative_point()
    assert api.runtime.domains().index.locate(inside.x, inside.y).cell == f"{code[:12]}98"


def test_cells_that_overlap_their_neighbours_are_refused(api: Api) -> None:
    _, features, east = split_first_cell(api)
    features[1]["geometry"] = shapely.geometry.mapping(
        east.buffer(0.001).intersection(east.envelope.buffer(0.001))
    )
    done = api.client.post(
        "/cells", json={"type": "FeatureCollection", "features": features}, headers=api.auth("admin")
    )
    assert done.status_code == 400
    kinds = {e["kind"] for e in done.json()["errors"]}
    assert "overlap" in kinds, done.text
    assert api.client.get("/health").json()["cells"] == len(api.template.county.cells.records)


@pytest.mark.parametrize(
    ("feature", "problem"),
    [
        ({"code": "339921101200", "name": "x"}, "14 digits"),
        ({"code": "33992199999901", "name": "x"}, "does not exist"),
        ({"code": "11010110100101", "name": "x"}, "outside county"),
    ],
)
def test_bad_cells_refused_and_nothing_written(api: Api, feature: dict[str, str], problem: str) -> None:
    village = api.template.county.villages.records[0].code
    good = {
        "type": "Feature",
        "properties": {"code": f"{village}97", "name": "好"},
        "geometry": square(119.0, 28.5),
    }
    bad = {"type": "Feature", "properties": feature, "geometry": square(119.1, 28.5)}
    done = api.client.post(
        "/cells", json={"type": "FeatureCollection", "features": [good, bad]}, headers=api.auth("admin")
    )
    assert done.status_code == 400
    assert problem in done.text
    assert api.client.get("/health").json()["cells"] == len(api.template.county.cells.records)


def test_self_intersecting_polygon_refused(api: Api) -> None:
    village = api.template.county.villages.records[0].code
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[119.0, 28.5], [119.001, 28.501], [119.001, 28.5], [119.0, 28.501], [119.0, 28.5]]],
    }
    body = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": f"{village}96", "name": "x"}, "geometry": bow_tie}
        ],
    }
    done = api.client.post("/cells", json=body, headers=api.auth("admin"))
    assert done.status_code == 400
    assert "Self-intersection" in done.text


def test_a_point_placed_by_hand_keeps_the_gps_fix(api: Api) -> None:
    fix = {"lon": 119.83, "lat": 28.95, "acc": 480.0}
    done = api.report(acc=3.0, gps_fix=fix)
    assert done.status_code == 201, done.text
    incident = done.json()["incident"]
    assert incident["gps_fix"] == fix
    assert incident["cell"].startswith(api.template.township_a)  # located at the placed point
    detail = api.client.get(f"/incidents/{incident['id']}", headers=api.auth("duty_a")).json()
    assert detail["incident"]["gps_fix"] == fix
    listed = api.client.get("/incidents", headers=api.auth("worker_a1")).json()["items"]
    assert [i["gps_fix"] for i in listed] == [fix]
    plain = api.report(n=1).json()["incident"]
    assert plain["gps_fix"] is None
    no_accuracy = api.report(n=2, gps_fix={"lon": 119.8, "lat": 28.9}).json()["incident"]
    assert no_accuracy["gps_fix"] == {"lon": 119.8, "lat": 28.9, "acc": None}


@pytest.mark.parametrize(
    ("fix", "status", "en", "zh"),
    [
        ({"lon": 119.8, "lat": 95.0}, 422, "gps_fix coordinates out of range", "gps_fix 的经纬度超出范围"),
        ({"lon": -181.0, "lat": 28.9}, 422, "gps_fix coordinates out of range", "gps_fix 的经纬度超出范围"),
        ({"lon": 119.8, "lat": 28.9, "acc": -5}, 422, "non-negative", "非负"),
        ({"lon": "119.8", "lat": 28.9}, 400, "gps_fix.lon", "请求格式有误"),
        ({"lat": 28.9}, 400, "gps_fix", "请求格式有误"),
        ({"lon": 119.8, "lat": 28.9, "when": "now"}, 400, "gps_fix", "请求格式有误"),
        ("here", 400, "gps_fix", "请求格式有误"),
    ],
)
def test_garbage_gps_fix_is_refused(api: Api, fix: object, status: int, en: str, zh: str) -> None:
    before = stored(api)
    done = api.report(gps_fix=fix)
    assert done.status_code == status, done.text
    problem = done.json()
    said = " ".join(
        [problem["detail"], *(f"{e['key']}: {e['message']}" for e in problem.get("errors") or [])]
    )
    assert en in said, problem
    assert zh in problem["detail_zh"]
    assert stored(api) == before


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))


def test_a_step_carries_its_photos(api: Api) -> None:
    incident = api.report().json()["incident"]["id"]
    for action, who in [("accept", "duty_a"), ("dispatch", "duty_a"), ("sign", "unit_a")]:
        assert api.act(incident, action, who).status_code == 200
    photo = api.client.post(
        "/media", files={"file": ("p.jpg", JPEG, "image/jpeg")}, headers=api.auth("unit_a")
    )
    assert photo.status_code == 201, photo.text
    url, name = photo.json()["url"], photo.json()["name"]
    before = stored(api)
    missing = api.act(incident, "handle", "unit_a", media=["0" * 64 + ".jpg"])
    assert missing.status_code == 422
    assert "was not uploaded" in missing.json()["detail"] and "尚未上传" in missing.json()["detail_zh"]
    too_many = api.act(incident, "handle", "unit_a", media=[name] * 10)
    assert too_many.status_code == 400
    assert stored(api) == before
    done = api.act(incident, "handle", "unit_a", media=[name, url])
    assert done.status_code == 200, done.text
    history = api.client.get(f"/incidents/{incident}", headers=api.auth("duty_a")).json()["history"]
    assert [(h["action"], h["media"]) for h in history] == [
        ("report", []),
        ("accept", []),
        ("dispatch", []),
        ("sign", []),
        ("handle", [url, url]),
    ]
    assert api.client.get(url, headers=api.auth("duty_a")).content == JPEG
