"""Bad input gets a clear problem response and nothing is written (docs/architecture.md#bad-input-and-faults)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sqlmodel import Session, func, select

from server.db.tables import EventRow, FlowRow, IncidentRow
from tests.support.api import Api, stored


def counts(api: Api) -> tuple[int, int, int]:
    with Session(api.runtime.engine) as session:
        return tuple(
            session.exec(select(func.count()).select_from(t)).one() for t in (IncidentRow, FlowRow, EventRow)
        )  # type: ignore[return-value]


def good(api: Api) -> dict[str, Any]:
    lon, lat = api.point_in(api.template.township_a)
    return {"client_id": "ok-1", "category": "0501", "lon": lon, "lat": lat}


BAD_BODIES: list[tuple[str, Any, int, str]] = [
    ("missing field", {"category": "0501", "lon": 119.6, "lat": 29.1}, 400, "client_id"),
    ("lon as a string", {"lon": "119.6"}, 400, "lon"),
    ("lat as null", {"lat": None}, 400, "lat"),
    ("unknown field", {"colour": "red"}, 400, "colour"),
    ("unknown category", {"category": "9999"}, 422, "unknown category"),
    ("category not 4 digits", {"category": "05"}, 400, "category"),
    ("unknown crs", {"crs": "mars"}, 400, "crs"),
    ("negative accuracy", {"acc": -5}, 400, "acc"),
    ("latitude out of range", {"lat": 95.0}, 422, "out of range"),
    ("outside the county", {"lon": 100.0, "lat": 30.0}, 422, "outside the county"),
    ("naive timestamp", {"ts": "2026-06-16T09:00:00"}, 422, "time zone"),
    ("timestamp in the future", {"ts": "2026-06-17T09:00:00+08:00"}, 422, "future"),
    ("bad client id", {"client_id": "has spaces"}, 400, "client_id"),
    ("client id too long", {"client_id": "x" * 65}, 400, "client_id"),
    ("too many media", {"media": [f"https://m/{i}" for i in range(10)]}, 400, "media"),
    ("media not a URL", {"media": ["data:image/png;base64,AAAA"]}, 422, "media"),
    ("text too long", {"text": "很" * 4001}, 400, "text"),
]


@pytest.mark.parametrize(("name", "change", "status", "mentions"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_report_refused_and_nothing_written(
    api: Api, name: str, change: dict[str, Any], status: int, mentions: str
) -> None:
    body = {k: v for k, v in good(api).items() if not (name == "missing field" and k == "client_id")} | change
    before = counts(api)
    done = api.client.post("/incidents", json=body, headers=api.auth("worker_a1"))
    assert done.status_code == status, done.text
    assert done.headers["content-type"].startswith("application/problem+json")
    problem = done.json()
    assert problem["status"] == status
    assert mentions in done.text
    assert "Traceback" not in done.text
    assert counts(api) == before


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"\xff\xfe", "application/json"),
    ],
)
def test_malformed_bodies(api: Api, content: bytes, content_type: str) -> None:
    before = counts(api)
    done = api.client.post(
        "/incidents", content=content, headers={**api.auth("worker_a1"), "content-type": content_type}
    )
    assert done.status_code == 400
    assert done.json()["code"] == "invalid_request"
    assert counts(api) == before


JSON_ROUTES = [
    "/incidents",
    "/incidents/{incident}/actions/accept",
    "/incidents/{incident}/reroute",
    "/incidents/{incident}/whistles",
    "/whistles/w/rate",
    "/sweeps",
    "/sweeps/s/moves",
    "/sweeps/s/swaps",
    "/sweeps/s/publish",
    "/sweeps/s/outcomes",
    "/units",
    "/workers",
    "/officers",
    "/subjects",
    "/power-lists",
    "/cells",
]


@pytest.mark.parametrize(
    ("content", "en", "zh"),
    [
        (b"[" * 100_000, "nested too deeply", "嵌套层数过多"),
        (b'{"client_id": ' + b"[" * 100_000, "nested too deeply", "嵌套层数过多"),
        (b'{"client_id": "\xff\xfe", "text": "x"}', "not valid UTF-8", "不是有效的 UTF-8"),
    ],
    ids=["deep array", "deep inside an object", "bad UTF-8 in a string"],
)
def test_unreadable_json_is_a_400_with_its_reason(api: Api, content: bytes, en: str, zh: str) -> None:
    incident = api.report().json()["incident"]["id"]
    before = stored(api)
    got = {}
    for route in JSON_ROUTES:
        done = api.client.post(
            route.format(incident=incident),
            content=content,
            headers={**api.auth("admin"), "content-type": "application/json"},
        )
        problem = done.json()
        got[route] = (
            done.status_code,
            done.headers["content-type"],
            problem["code"],
            en in problem["detail"],
            zh in problem["detail_zh"],
        )
    assert got == dict.fromkeys(JSON_ROUTES, (400, "application/problem+json", "invalid_request", True, True))
    assert stored(api) == before


def test_a_nul_in_any_json_text_is_a_400_with_its_reason(api: Api) -> None:
    """PostgreSQL cannot store a NUL; every JSON route refuses one (SQLite would keep it)."""
    incident = api.report().json()["incident"]["id"]
    unit = msgspec.to_builtins(api.template.county.units[0])
    bodies = {
        "/incidents": (good(api) | {"text": "占道\u0000"}, "$.text"),
        f"/incidents/{incident}/actions/reject": ({"reason": "\u0000"}, "$.reason"),
        f"/incidents/{incident}/whistles": (
            {"kind": "routine", "reason": "no_power", "units": ["339921.dept.zhzf"], "note": "a\u0000"},
            "$.note",
        ),
        "/units": ([unit | {"name_zh": "局\u0000"}], "$[0].name_zh"),
    }
    before = stored(api)
    for path, (body, at) in bodies.items():
        done = api.client.post(path, json=body, headers=api.auth("admin"))
        assert done.status_code == 400, (path, done.text)
        problem = done.json()
        assert problem["detail"] == f"{at} holds a NUL character", path
        assert problem["detail_zh"] == f"{at} 含有空字符（NUL），无法保存", path
    assert stored(api) == before


def test_oversize_body(api: Api) -> None:
    body = good(api) | {"text": "x" * (2 * 1024 * 1024)}
    done = api.client.post("/incidents", json=body, headers=api.auth("worker_a1"))
    assert done.status_code == 413
    assert counts(api) == (0, 0, 0)


def test_replayed_client_id_writes_once(api: Api) -> None:
    for _ in range(3):
        api.client.post("/incidents", json=good(api), headers=api.auth("worker_a1"))
    assert counts(api) == (1, 1, 1)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/incidents?bbox=1,2,3", 400),
        ("/incidents?bbox=a,b,c,d", 400),
        ("/incidents?bbox=3,3,1,1", 400),
        ("/incidents?limit=0", 400),
        ("/incidents?limit=100000", 400),
        ("/incidents?offset=-1", 400),
        ("/incidents?status=lost", 400),
        ("/incidents?overdue=perhaps", 400),
        ("/incidents?from=yesterday", 400),
        ("/incidents/nope", 404),
        ("/nowhere", 404),
        ("/cells?bbox=1,1", 400),
    ],
)
def test_bad_queries(api: Api, path: str, status: int) -> None:
    done = api.client.get(path, headers=api.auth("admin"))
    assert done.status_code == status, done.text
    assert done.headers["content-type"].startswith("application/problem+json")


def test_bad_actions(api: Api) -> None:
    incident = api.report().json()["incident"]["id"]
    assert api.act(incident, "explode").status_code == 400
    assert api.act("nope", "accept").status_code == 404
    refused = api.act(incident, "reject")  # needs a reason
    assert refused.status_code == 409
    assert "reason" in refused.json()["detail"]
    assert "理由" in refused.json()["detail_zh"]
    extra = api.client.post(
        f"/incidents/{incident}/actions/accept", json={"why": "x"}, headers=api.auth("duty_a")
    )
    assert extra.status_code == 400
    dup_of_missing = api.act(incident, "mark_duplicate", duplicate_of="ghost")
    assert dup_of_missing.status_code == 404
    state = api.client.get(f"/incidents/{incident}", headers=api.auth("duty_a")).json()
    assert state["incident"]["state"] == "reported"
    assert len(state["history"]) == 1
    assert (
        api.client.post(
            f"/incidents/{incident}/reroute",
            json={"lead": "ghost-unit", "reason": "x"},
            headers=api.auth("duty_a"),
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    "body",
    [
        {"type": "FeatureCollection"},
        {"type": "FeatureCollection", "features": []},
        {"type": "Feature", "features": []},
        {
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {"code": "x"}, "geometry": {}}],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "33992110120099", "name": "x"},
                    "geometry": {"type": "Point", "coordinates": [1, 2]},
                }
            ],
        },
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "33992110120099", "name": "x"},
                    "geometry": {"type": "Polygon", "coordinates": "nope"},
                }
            ],
        },
    ],
)
def test_bad_cell_uploads(api: Api, body: dict[str, Any]) -> None:
    before = api.client.get("/health").json()
    done = api.client.post("/cells", json=body, headers=api.auth("admin"))
    assert done.status_code == 400, done.text
    assert api.client.get("/health").json() == before


def test_rejects_are_listed_with_their_raw_bytes(api: Api) -> None:
    import base64
    import datetime as dt

    from server.db.tables import RejectRow

    with Session(api.runtime.engine) as session:
        session.add(
            RejectRow(
                at=dt.datetime.now(dt.UTC),
                channel="mqtt",
                topic="gw/339921/up/w1/report",
                device="w1",
                reason="bad json",
                raw=b"\xff{",
            )
        )
        session.commit()
    page = api.client.get("/rejects?channel=mqtt", headers=api.auth("admin")).json()
    assert page["total"] == 1
    assert base64.b64decode(page["items"][0]["raw_base64"]) == b"\xff{"
    assert api.client.get("/rejects?channel=http", headers=api.auth("admin")).json()["total"] == 0
