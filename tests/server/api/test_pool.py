"""A request holds at most one pooled connection at a time: with fewer connections than concurrent
requests they queue for the pool, and every one answers."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from server.api.app import create_app
from tests.support.api import Api, LiveServer
from tests.support.steps import ZHZF, whistle

POOL_SIZE = 2
POOL_TIMEOUT = 3
CONCURRENT = 8


@pytest.fixture
def engine_options() -> dict[str, Any]:
    return {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT}


def test_more_concurrent_requests_than_pooled_connections(api: Api) -> None:
    incidents = [api.report(n=n).json()["incident"]["id"] for n in range(CONCURRENT)]
    assert whistle(api, incidents[0]).status_code == 201
    assert api.client.post("/sweeps", json={}, headers=api.auth("duty_a")).status_code == 201
    reads = [
        "/incidents",
        f"/incidents/{incidents[0]}",
        "/open311/v2/requests.json",
        "/whistles",
        "/sweeps",
        "/kpis",
        "/patrols/presence",
        "/health",
    ]
    # Every caller reads each of these, and takes one step on an incident of its own.
    calls = [("GET", path, None) for path in reads] * CONCURRENT + [
        ("POST", f"/incidents/{incident}/actions/accept", {}) for incident in incidents
    ]

    with LiveServer(create_app(api.runtime)) as server:

        def call(method: str, path: str, body: dict[str, Any] | None) -> tuple[str, int, float]:
            started = time.monotonic()
            answer = httpx.request(
                method, server.url + path, json=body, headers=api.auth("duty_a"), timeout=60
            )
            return f"{method} {path}", answer.status_code, time.monotonic() - started

        with ThreadPoolExecutor(CONCURRENT) as pool:
            answered = list(pool.map(lambda c: call(*c), calls))

    # Stuck, a request gives up after the pool timeout (500), and the others queue behind it.
    assert [(what, status) for what, status, _ in answered if status != 200] == []
    assert max(seconds for _, _, seconds in answered) < 2 * POOL_TIMEOUT


@pytest.mark.parametrize("engine_options", [{"pool_size": 1, "max_overflow": 0, "pool_timeout": 2}])
def test_one_pooled_connection_serves_every_kind_of_request(api: Api) -> None:
    """A request that asked for a second connection while holding its first would wait out the
    timeout of a pool of one and fail: every route that reads the domain, or runs the intake, from
    inside a request answers here."""
    incident = api.report().json()["incident"]["id"]
    opened = whistle(api, incident)
    assert opened.status_code == 201, opened.text
    sweep = api.client.post("/sweeps", json={}, headers=api.auth("duty_a")).json()
    stop = sweep["plan"]["teams"][0]["stops"][0]
    lon, lat = api.point_in(api.template.township_a, 1)
    key = api.template.tokens["duty_a"]
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        ("duty_a", "GET", "/incidents", {}),
        ("duty_a", "GET", f"/incidents/{incident}", {}),
        ("duty_a", "POST", f"/incidents/{incident}/actions/accept", {"json": {}}),
        ("duty_a", "POST", f"/incidents/{incident}/reroute", {"json": {"lead": ZHZF, "reason": "转县局"}}),
        ("unit_dept", "POST", f"/whistles/{opened.json()['id']}/report-in", {}),
        ("duty_a", "POST", f"/whistles/{opened.json()['id']}/rate", {"json": {"unit": ZHZF, "rating": 4}}),
        ("duty_a", "GET", "/whistles", {}),
        ("duty_a", "POST", f"/sweeps/{sweep['id']}/publish", {"json": {"revision": sweep["revision"]}}),
        (
            "duty_a",
            "POST",
            f"/sweeps/{sweep['id']}/outcomes",
            {"json": {"stop": stop, "outcome": "case_opened", "category": "0601", "note": "无采砂许可证"}},
        ),
        ("duty_a", "GET", f"/sweeps/{sweep['id']}/audit", {}),
        ("duty_a", "GET", "/kpis", {}),
        ("duty_a", "GET", "/patrols/coverage", {}),
        ("duty_a", "GET", "/patrols/presence", {}),
        ("anon", "GET", "/health", {}),
        ("admin", "GET", "/tokens", {}),
        ("anon", "GET", f"/open311/v2/requests.json?api_key={key}", {}),
        ("anon", "GET", f"/open311/v2/requests/{incident}.json?api_key={key}", {}),
        (
            "anon",
            "POST",
            "/open311/v2/requests.json",
            {"data": {"api_key": key, "service_code": "0501", "lat": str(lat), "long": str(lon)}},
        ),
    ]
    got: dict[str, int] = {}
    for who, method, path, send in steps:
        if path.endswith("/outcomes"):
            api.clock.advance(days=7)  # outcomes are recorded on or after the sweep's Tuesday
        got[f"{method} {path}"] = api.client.request(method, path, headers=api.auth(who), **send).status_code
    created = {f"POST /sweeps/{sweep['id']}/outcomes", "POST /open311/v2/requests.json"}
    assert got == {f"{m} {path}": 201 if f"{m} {path}" in created else 200 for _, m, path, _ in steps}
