"""The authorization matrix (docs/domain.md#roles-and-scopes): every route × every role, allowed calls succeed and the
others are refused with 401 (no or bad token) or 403 (outside the role or the scope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import shapely
import shapely.geometry
from sqlmodel import Session, select

from server.auth import Role, create_token
from server.db.tables import TokenRow
from tests.support.api import CALLERS, Api, stored
from tests.support.steps import ZHZF, whistle

ROLES = CALLERS
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
    ("/tokens", expect({"admin"})),
    # The field app's: a phone's own work and patrol; a worker's own cells.
    ("/pairings", expect({"admin", "duty_county", "duty_a", "duty_b"})),
    ("/me", expect(set(ROLES) - {"anon"})),
    ("/tasks", expect({"unit_a", "unit_dept", "worker_a1", "worker_a2"})),
    ("/patrols/mine", expect({"worker_a1", "worker_a2"})),
    (
        "/cells?mine=true",
        expect({"worker_a1", "worker_a2"})
        | dict.fromkeys(("admin", "duty_county", "duty_a", "duty_b", "unit_a", "unit_dept"), 422),
    ),
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


def test_refused_writes_change_nothing(api: Api) -> None:
    """Every write route refuses a caller outside its role or scope (403) before it writes: every
    table and the media folder are as they were (docs/architecture.md#bad-input-and-faults)."""
    a, b = api.template.township_a, api.template.township_b
    incident = fresh(api)
    opened = whistle(api, incident)
    assert opened.status_code == 201, opened.text
    sweep = api.client.post("/sweeps", json={"township": a}, headers=api.auth("duty_a"))
    assert sweep.status_code == 201, sweep.text
    plan = sweep.json()["id"]
    with Session(api.runtime.engine) as session:
        token = session.exec(select(TokenRow.id).where(TokenRow.label == "duty_b")).one()
    (lon_a, lat_a), (lon_b, lat_b) = api.point_in(a), api.point_in(b)
    report_a = {"client_id": "refused-a", "category": "0501", "lon": lon_a, "lat": lat_a}
    report_b = report_a | {"client_id": "refused-b", "lon": lon_b, "lat": lat_b}
    open311_b = {"service_code": "0501", "lat": str(lat_b), "long": str(lon_b), "description": "占道"}
    refused: list[tuple[str, str, str, dict[str, Any]]] = [
        ("duty_a", "POST", "/incidents", {"json": report_b}),
        ("duty_b", "POST", "/incidents", {"json": report_a}),
        ("device", "POST", "/incidents", {"json": report_a}),
        ("duty_a", "POST", "/open311/v2/requests.json", {"data": open311_b}),
        ("unit_a", "POST", "/open311/v2/requests.json", {"data": open311_b}),
        ("duty_b", "POST", f"/incidents/{incident}/actions/accept", {"json": {}}),
        ("unit_dept", "POST", f"/incidents/{incident}/actions/sign", {"json": {}}),
        ("duty_b", "POST", f"/incidents/{incident}/reroute", {"json": {"lead": ZHZF, "reason": "r"}}),
        (
            "duty_b",
            "POST",
            f"/incidents/{incident}/whistles",
            {"json": {"kind": "routine", "reason": "no_power", "units": [ZHZF]}},
        ),
        ("unit_a", "POST", f"/whistles/{opened.json()['id']}/report-in", {}),
        ("duty_b", "POST", f"/whistles/{opened.json()['id']}/rate", {"json": {"unit": ZHZF, "rating": 5}}),
        ("duty_a", "POST", "/sweeps", {"json": {"township": b}}),
        ("duty_b", "POST", f"/sweeps/{plan}/moves", {"json": {"revision": 0, "stop": "s", "team": None}}),
        (
            "duty_b",
            "POST",
            f"/sweeps/{plan}/swaps",
            {"json": {"revision": 0, "team": "t", "leaving": "x", "joining": "y"}},
        ),
        ("duty_b", "POST", f"/sweeps/{plan}/publish", {"json": {"revision": 0}}),
        ("duty_b", "POST", f"/sweeps/{plan}/outcomes", {"json": {"stop": "s", "outcome": "nothing_found"}}),
        ("duty_county", "POST", f"/tokens/{token}/revoke", {}),
        ("duty_county", "POST", "/units", {"json": []}),
        ("duty_a", "POST", "/cells", {"json": {"type": "FeatureCollection", "features": []}}),
    ]
    got = {}
    for who, method, path, send in refused:
        if path.startswith("/open311/"):
            send = {"data": send["data"] | {"api_key": api.template.tokens[who]}}
        before = stored(api)
        done = api.client.request(method, path, headers=api.auth(who), **send)
        got[f"{who} {path}"] = (done.status_code, stored(api) == before)
    assert got == {f"{who} {path}": (403, True) for who, _, path, _ in refused}


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


def test_revoking_a_token(api: Api) -> None:
    worker = api.template.county.workers[0].id
    got = {}
    for role in ROLES:
        with Session(api.runtime.engine) as session:
            create_token(session, Role.WORKER, f"worker:{worker}", label=f"for {role}")
            token = session.exec(select(TokenRow.id).where(TokenRow.label == f"for {role}")).one()
        got[role] = api.client.post(f"/tokens/{token}/revoke", headers=api.auth(role)).status_code
    assert got == expect({"admin"})


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
