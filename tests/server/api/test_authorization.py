"""The authorization matrix (docs/domain.md#roles-and-scopes): every route × every role, allowed calls succeed and the
others are refused with 401 (no or bad token) or 403 (outside the role or the scope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import shapely
import shapely.geometry

from tests.support.api import Api

ROLES = [
    "anon",
    "admin",
    "duty_county",
    "duty_a",
    "duty_b",
    "unit_a",
    "unit_dept",
    "worker_a1",
    "worker_a2",
    "device",
]
STAFF_IN_A = {"admin", "duty_county", "duty_a"}


def expect(allowed: set[str], ok: int = 200) -> dict[str, int]:
    return {role: ok if role in allowed else (401 if role == "anon" else 403) for role in ROLES}


READS: list[tuple[str, dict[str, int]]] = [
    ("/townships", expect(set(ROLES) - {"anon", "device"})),
    ("/villages", expect(set(ROLES) - {"anon", "device"})),
    ("/cells?limit=5", expect(set(ROLES) - {"anon", "device"})),
    ("/units", expect(set(ROLES) - {"anon", "device"})),
    ("/categories", expect(set(ROLES) - {"anon", "device"})),
    ("/categories/majors", expect(set(ROLES) - {"anon", "device"})),
    ("/matters", expect(set(ROLES) - {"anon", "device"})),
    ("/workers", expect({"admin", "duty_county", "duty_a", "duty_b", "unit_a", "unit_dept"})),
    ("/subjects", expect({"admin", "duty_county", "duty_a", "duty_b", "unit_a", "unit_dept"})),
    ("/power-lists", expect({"admin", "duty_county", "duty_a", "duty_b", "unit_a", "unit_dept"})),
    ("/duties", expect({"admin", "duty_county", "duty_a", "duty_b", "unit_a", "unit_dept"})),
    ("/officers", expect({"admin", "duty_county", "duty_a", "duty_b"})),
    ("/incidents", expect(set(ROLES) - {"anon", "device"})),
    ("/metrics", expect({"admin"})),
    ("/rejects", expect({"admin"})),
    ("/whistles", expect({"admin", "duty_county", "duty_a", "duty_b", "unit_a", "unit_dept"})),
    ("/sweeps", expect({"admin", "duty_county", "duty_a", "duty_b"})),
    # Each caller's own figures: the county, their township, their unit, themselves.
    ("/kpis", expect(set(ROLES) - {"anon", "device"})),
    ("/kpis/definitions", expect(set(ROLES) - {"anon", "device"})),
    ("/kpis?scope=county:339921", expect({"admin", "duty_county"})),
    ("/events", expect(set(ROLES) - {"anon", "device"})),
    ("/events/head", expect(set(ROLES) - {"anon", "device"})),
    ("/patrols/coverage", expect({"admin", "duty_county", "duty_a", "duty_b"})),
    ("/patrols/presence", expect({"admin", "duty_county", "duty_a", "duty_b"})),
    ("/health", dict.fromkeys(ROLES, 200)),
    ("/schema/openapi.json", dict.fromkeys(ROLES, 200)),
]


@pytest.mark.parametrize(("path", "expected"), READS, ids=[p for p, _ in READS])
def test_reads(api: Api, path: str, expected: dict[str, int]) -> None:
    got = {role: api.client.get(path, headers=api.auth(role)).status_code for role in ROLES}
    assert got == expected


def test_township_filter_outside_scope_is_refused(api: Api) -> None:
    b = api.template.township_b
    for path in (
        f"/villages?township={b}",
        f"/cells?township={b}",
        f"/incidents?township={b}",
        f"/workers?township={b}",
        f"/patrols/coverage?township={b}",
        f"/patrols/presence?township={b}",
    ):
        assert api.client.get(path, headers=api.auth("duty_a")).status_code == 403, path
        assert api.client.get(path, headers=api.auth("duty_b")).status_code == 200, path


def test_reading_one_incident(api: Api) -> None:
    incident = api.report(who="worker_a1").json()["incident"]["id"]
    allowed = {"admin", "duty_county", "duty_a", "unit_a", "worker_a1"}
    got = {
        role: api.client.get(f"/incidents/{incident}", headers=api.auth(role)).status_code for role in ROLES
    }
    assert got == expect(allowed)


def test_listings_only_show_what_is_in_scope(api: Api) -> None:
    mine = api.report(who="worker_a1").json()["incident"]["id"]
    theirs = api.report(who="worker_a2").json()["incident"]["id"]
    in_b = api.report(who="duty_b", township=api.template.township_b).json()["incident"]["id"]

    def seen(role: str) -> set[str]:
        return {i["id"] for i in api.client.get("/incidents", headers=api.auth(role)).json()["items"]}

    assert seen("worker_a1") == {mine}
    assert seen("worker_a2") == {theirs}
    assert seen("duty_a") == {mine, theirs}
    assert seen("duty_b") == {in_b}
    assert seen("duty_county") == {mine, theirs, in_b}
    assert seen("unit_a") == {mine, theirs}
    assert seen("unit_dept") == set()


def test_reporting(api: Api) -> None:
    lon, lat = api.point_in(api.template.township_a)
    got = {}
    for n, role in enumerate(ROLES):
        body = {"client_id": f"matrix-{n}", "category": "0501", "lon": lon, "lat": lat}
        got[role] = api.client.post("/incidents", json=body, headers=api.auth(role)).status_code
    assert got == expect({"admin", "duty_county", "duty_a", "worker_a1", "worker_a2"}, ok=201)


Step = Callable[[Api, str], Any]


def fresh(api: Api, *before: tuple[str, str]) -> str:
    """A new incident in township A, moved through the given (action, who) steps."""
    incident: str = api.report().json()["incident"]["id"]
    for action, who in before:
        assert api.act(incident, action, who, reason="r").status_code == 200, (action, who)
    return incident


ACCEPTED = (("accept", "duty_a"),)
DISPATCHED = (*ACCEPTED, ("dispatch", "duty_a"))
SIGNED = (*DISPATCHED, ("sign", "unit_a"))
HANDLED = (*SIGNED, ("handle", "unit_a"))

ACTIONS = [
    ("accept", (), STAFF_IN_A),
    ("reject", (), STAFF_IN_A),
    ("dispatch", ACCEPTED, STAFF_IN_A),
    ("suspend", ACCEPTED, STAFF_IN_A),
    ("sign", DISPATCHED, {"admin", "unit_a"}),
    ("return", DISPATCHED, {"admin", "unit_a"}),
    ("handle", SIGNED, {"admin", "unit_a"}),
    ("verify", HANDLED, STAFF_IN_A),
    ("reopen", HANDLED, STAFF_IN_A),
]


@pytest.mark.parametrize(("action", "before", "allowed"), ACTIONS, ids=[a for a, _, _ in ACTIONS])
def test_actions(api: Api, action: str, before: tuple[tuple[str, str], ...], allowed: set[str]) -> None:
    got = {}
    for role in ROLES:
        incident = fresh(api, *before)
        got[role] = api.act(incident, action, role, reason="因为").status_code
    assert got == expect(allowed)


def test_reroute(api: Api) -> None:
    got = {}
    for role in ROLES:
        incident = fresh(api, *ACCEPTED)
        body = {"lead": "339921.dept.zhzf", "reason": "转县局"}
        got[role] = api.client.post(
            f"/incidents/{incident}/reroute", json=body, headers=api.auth(role)
        ).status_code
    assert got == expect(STAFF_IN_A)


def test_writing_cells(api: Api) -> None:
    cells = api.template.county.cells
    # The same cell again under a new name: valid, so only the role decides.
    feature = {
        "type": "Feature",
        "properties": {"code": cells.records[0].code, "name": "改名网格"},
        "geometry": shapely.geometry.mapping(cells.shapes[0]),
    }
    got = {}
    for role in ROLES:
        got[role] = api.client.post(
            "/cells", json={"type": "FeatureCollection", "features": [feature]}, headers=api.auth(role)
        ).status_code
    assert got == expect({"admin"}, ok=201)


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "Bearer gw_not-a-token", "token gw_x"])
def test_bad_credentials(api: Api, header: str) -> None:
    done = api.client.get("/incidents", headers={"Authorization": header})
    assert done.status_code == 401
    assert done.headers["content-type"].startswith("application/problem+json")


def test_expired_token(api: Api) -> None:
    done = api.client.get("/incidents", headers=api.auth("expired"))
    assert done.status_code == 401
    assert "expired" in done.json()["detail"]


def test_every_plain_read_is_in_the_matrix(api: Api) -> None:
    """A new GET route without path parameters must join READS (or this fails)."""
    schema = api.client.get("/schema/openapi.json").json()
    plain = {
        path
        for path, methods in schema["paths"].items()
        if "get" in methods and "{" not in path and not path.startswith("/open311")
    }
    covered = {p.split("?")[0].rstrip("/") or "/" for p, _ in READS}
    assert plain - covered - {"/media", "/events/stream"} == set()
