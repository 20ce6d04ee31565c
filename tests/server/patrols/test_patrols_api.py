"""Patrol over HTTP (docs/field-app.md#patrol-serverpatrols): a worker's batched pings become visits
through the same pipeline as MQTT and OwnTracks, and the worker reads their own cells' week."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.api import Api, stored

CHINESE = re.compile(r"[\u4e00-\u9fff]")
MY_CELL = "33992110120001"  # worker_a1's one cell (tests/support/api.py)


def ping(api: Api, at: str, n: int = 0, **extra: Any) -> dict[str, Any]:
    lon, lat = api.point_in(api.template.township_a, n)
    return {"ts": at, "lon": lon, "lat": lat, "acc": 8.0, **extra}


def send(api: Api, pings: Any, who: str = "worker_a1") -> Any:
    return api.client.post("/patrols/pings", json={"pings": pings}, headers=api.auth(who))


def mine(api: Api, who: str = "worker_a1") -> dict[str, Any]:
    done = api.client.get("/patrols/mine", headers=api.auth(who))
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body


def test_a_batch_of_pings_becomes_visits(api: Api) -> None:
    assert [c["days_visited"] for c in mine(api)["cells"]] == [0]
    batch = [
        ping(api, "2026-06-15T09:00:00+08:00"),
        ping(api, "2026-06-16T08:30:00+08:00"),
        ping(api, "2026-06-16T08:45:00+08:00", n=5),  # a cell that is not the worker's
    ]
    done = send(api, batch)
    assert done.status_code == 200, done.text
    assert done.json() == {"taken": 3, "visits": 3}  # Monday and Tuesday in the own cell, one elsewhere
    week = mine(api)
    assert (week["week_start"], week["week_end"]) == ("2026-06-15", "2026-06-21")
    assert [(c["cell"], c["days_visited"]) for c in week["cells"]] == [(MY_CELL, 2)]
    cell = week["cells"][0]
    assert cell["covered"] is (cell["days_visited"] >= cell["target"])
    assert week["covered"] == int(cell["covered"])
    presence = api.client.get("/patrols/presence", headers=api.auth("duty_a")).json()["items"]
    me = next(p for p in presence if p["worker"] == "w33992110120001")
    assert (me["via"], me["online"], me["last_ping_at"]) == ("http", True, "2026-06-16T00:45:00Z")
    coverage = api.client.get(
        f"/patrols/coverage?township={api.template.township_a}&limit=500", headers=api.auth("duty_a")
    ).json()
    visited = {c["cell"]: c["days_visited"] for c in coverage["cells"]["items"] if c["days_visited"]}
    assert visited[MY_CELL] == 2 and len(visited) == 2


def test_the_same_pings_again_count_the_same_days(api: Api) -> None:
    batch = [ping(api, "2026-06-16T08:30:00+08:00")]
    assert send(api, batch).status_code == 200
    assert send(api, batch).status_code == 200
    assert [c["days_visited"] for c in mine(api)["cells"]] == [1]


def test_mine_is_the_workers_own_week(api: Api) -> None:
    other = mine(api, "worker_a2")
    assert [c["cell"] for c in other["cells"]] == ["33992110120002"]
    assert send(api, [ping(api, "2026-06-16T08:30:00+08:00")]).status_code == 200
    assert [c["days_visited"] for c in mine(api, "worker_a2")["cells"]] == [0]
    api.clock.advance(days=7)  # next week: nothing yet
    assert mine(api)["week_start"] == "2026-06-22"
    assert [c["days_visited"] for c in mine(api)["cells"]] == [0]


GARBAGE = [
    ("no time zone", lambda api: [ping(api, "2026-06-16T08:30:00")], "timezone"),
    ("lon out of range", lambda api: [ping(api, "2026-06-16T08:30:00+08:00", lon=181.0)], "<= 180"),
    ("lat out of range", lambda api: [ping(api, "2026-06-16T08:30:00+08:00", lat=-91.0)], ">= -90"),
    ("negative accuracy", lambda api: [ping(api, "2026-06-16T08:30:00+08:00", acc=-1)], ">= 0"),
    ("501 pings", lambda api: [ping(api, "2026-06-16T08:30:00+08:00")] * 501, "length <= 500"),
    ("no pings", lambda api: [], "length >= 1"),
    ("not a list", lambda api: ping(api, "2026-06-16T08:30:00+08:00"), "Expected `array`"),
    (
        "a string for lon",
        lambda api: [ping(api, "2026-06-16T08:30:00+08:00", lon="120.1")],
        "Expected `float`",
    ),
    ("an unknown field", lambda api: [ping(api, "2026-06-16T08:30:00+08:00", worker="w2")], "unknown field"),
]


@pytest.mark.parametrize(("what", "pings", "en"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_pings_are_refused_and_nothing_is_kept(api: Api, what: str, pings: Any, en: str) -> None:
    before = stored(api)
    done = send(api, pings(api))
    assert done.status_code == 400, done.text
    problem = done.json()
    said = " ".join(
        [problem["detail"], *(f"{e['key']}: {e['message']}" for e in problem.get("errors") or [])]
    )
    assert en in said, problem
    assert CHINESE.search(problem["detail_zh"])
    assert stored(api) == before


def test_not_json_is_refused(api: Api) -> None:
    done = api.client.post(
        "/patrols/pings",
        content=b"pings=1",
        headers={**api.auth("worker_a1"), "Content-Type": "application/json"},
    )
    assert done.status_code == 400
    assert "JSON" in done.json()["detail"] and "JSON" in done.json()["detail_zh"]


ROLES = ["anon", "admin", "duty_a", "unit_a", "worker_a1", "device"]


def test_roles_on_the_patrol_routes(api: Api) -> None:
    one = [ping(api, "2026-06-16T08:30:00+08:00")]
    before = stored(api)
    posted = {r: send(api, one, r).status_code for r in ROLES if r != "worker_a1"}
    assert posted == {"anon": 401, "admin": 403, "duty_a": 403, "unit_a": 403, "device": 403}
    assert stored(api) == before
    assert send(api, one).status_code == 200
    read = {r: api.client.get("/patrols/mine", headers=api.auth(r)).status_code for r in ROLES}
    assert read == {"anon": 401, "admin": 403, "duty_a": 403, "unit_a": 403, "worker_a1": 200, "device": 403}
    staff = {r: api.client.get("/patrols/coverage", headers=api.auth(r)).status_code for r in ROLES}
    assert staff == {"anon": 401, "admin": 200, "duty_a": 200, "unit_a": 403, "worker_a1": 403, "device": 403}


def test_my_cells_as_geojson(api: Api) -> None:
    done = api.client.get("/cells?mine=true", headers=api.auth("worker_a1"))
    assert done.status_code == 200, done.text
    assert [f["properties"]["code"] for f in done.json()["features"]] == [MY_CELL]
    assert done.json()["total"] == 1
    everything = api.client.get("/cells?mine=false&limit=5", headers=api.auth("worker_a1")).json()
    assert everything["total"] > 1
    got = {r: api.client.get("/cells?mine=true", headers=api.auth(r)).status_code for r in ROLES}
    assert got == {"anon": 401, "admin": 422, "duty_a": 422, "unit_a": 422, "worker_a1": 200, "device": 403}
    refused = api.client.get("/cells?mine=true", headers=api.auth("duty_a")).json()
    assert "grid worker" in refused["detail"] and "网格员" in refused["detail_zh"]
