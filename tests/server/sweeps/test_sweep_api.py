"""Sweep plans through the API (SQLite and PostgreSQL): plan, review, publish, outcomes, outputs,
the audit of a double-random draw, the refusals of every role and scope, and bad input."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from sqlmodel import Session, select

from server.db.tables import IncidentRow, SubjectRow, SubjectVisitRow
from tests.support.api import Api

DAY = "2026-06-23"  # the Tuesday after the test clock's


def plan(api: Api, who: str = "duty_a", **body: Any) -> Any:
    body.setdefault("township", api.template.township_a)
    return api.client.post("/sweeps", json=body, headers=api.auth(who))


def planned(api: Api, **body: Any) -> dict[str, Any]:
    response = plan(api, **body)
    assert response.status_code == 201, response.text
    out: dict[str, Any] = response.json()
    return out


def post(api: Api, path: str, body: dict[str, Any], who: str = "duty_a") -> Any:
    return api.client.post(path, json=body, headers=api.auth(who))


def test_a_plan_for_next_tuesday(api: Api) -> None:
    out = planned(api)
    sweep = out["plan"]
    assert sweep["date"] == DAY and sweep["mode"] == "priority" and out["status"] == "draft"
    assert sweep["teams"], "the synthetic township has due subjects and certified officers"
    stops = {s["id"]: s for s in sweep["stops"]}
    on_routes = [s for t in sweep["teams"] for s in t["stops"]]
    assert len(on_routes) == len(set(on_routes))
    stated = {c["stop"] for c in sweep["conflicts"] if c["stop"]}
    assert set(stops) == set(on_routes) | stated  # every candidate planned or stated
    for team in sweep["teams"]:
        assert len(team["officers"]) >= 2 and len(team["stops"]) <= 8
        assert all(set(stops[s]["units"]) <= set(team["units"]) for s in team["stops"])
        assert all(o in out["names"] for o in team["officers"])
    again = api.client.get(f"/sweeps/{out['id']}", headers=api.auth("duty_a")).json()
    assert again["plan"] == sweep
    listed = api.client.get("/sweeps", headers=api.auth("duty_a")).json()
    assert [p["id"] for p in listed["items"]] == [out["id"]]


def test_on_site_incidents_and_hot_cells_are_candidates(api: Api) -> None:
    incident = api.report(category="0101").json()["incident"]["id"]
    assert api.act(incident, "accept").status_code == 200
    for n in range(5):  # five reports in one cell within 30 days make it hot
        assert api.report(n=1, category="0501", client_id=f"hot{n}").status_code == 201
    stops = {s["id"]: s for s in planned(api)["plan"]["stops"]}
    assert stops[f"incident:{incident}"]["reasons"][0]["kind"] == "incident"
    hot = [s for s in stops.values() if s["kind"] == "hot_cell"]
    assert len(hot) == 1 and "5" in hot[0]["reasons"][0]["text_en"]


def test_review_move_swap_and_publish(api: Api) -> None:
    out = planned(api)
    sweep, revision = out["plan"], out["revision"]
    teams = sweep["teams"]
    first = teams[0]
    stop = first["stops"][-1]
    # Off the plan, then back onto its team: both re-checked and re-routed.
    off = post(api, f"/sweeps/{out['id']}/moves", {"revision": revision, "stop": stop, "team": None})
    assert off.status_code == 200, off.text
    assert stop not in off.json()["plan"]["teams"][0]["stops"]
    assert any(c["stop"] == stop and c["kind"] == "left_out" for c in off.json()["plan"]["conflicts"])
    stale = post(api, f"/sweeps/{out['id']}/moves", {"revision": revision, "stop": stop, "team": first["id"]})
    assert stale.status_code == 409 and stale.json()["code"] == "conflict"
    back = post(
        api,
        f"/sweeps/{out['id']}/moves",
        {"revision": off.json()["revision"], "stop": stop, "team": first["id"]},
    )
    assert back.status_code == 200 and stop in back.json()["plan"]["teams"][0]["stops"]
    current = back.json()["revision"]
    # A swap bringing in an uncertified officer is refused, with each broken rule stated.
    uncertified = _uncertified_officer(api)
    refused = post(
        api,
        f"/sweeps/{out['id']}/swaps",
        {"revision": current, "team": first["id"], "leaving": first["officers"][0], "joining": uncertified},
    )
    assert refused.status_code == 409 and refused.json()["code"] == "sweep_refused"
    violations = refused.json()["violations"]
    assert violations and all(v["team"] == first["id"] and v["text_zh"] for v in violations)
    assert refused.json()["detail"].startswith("the edit breaks the rules")
    published = post(api, f"/sweeps/{out['id']}/publish", {"revision": current})
    assert published.status_code == 200 and published.json()["status"] == "published"
    late = post(
        api,
        f"/sweeps/{out['id']}/moves",
        {"revision": published.json()["revision"], "stop": stop, "team": None},
    )
    assert late.status_code == 409 and "published" in late.json()["detail"]


def _uncertified_officer(api: Api) -> str:
    day = dt.date.fromisoformat(DAY)
    return next(
        o.id
        for o in api.template.county.officers
        if not o.certified_on(day) and o.unit.startswith(api.template.township_a)
    )


def test_outcomes_feed_back_into_subjects_and_incidents(api: Api) -> None:
    out = planned(api)
    post(api, f"/sweeps/{out['id']}/publish", {"revision": out["revision"]})
    route = out["plan"]["teams"][0]["stops"]
    clean, case = route[0], route[1]
    early = post(api, f"/sweeps/{out['id']}/outcomes", {"stop": "subject:nope", "outcome": "nothing_found"})
    assert early.status_code == 409 and "no stop subject:nope" in early.json()["detail"]
    # The sweep is next Tuesday: nothing can have been found there yet.
    ahead = post(api, f"/sweeps/{out['id']}/outcomes", {"stop": clean, "outcome": "nothing_found"})
    assert ahead.status_code == 409, ahead.text
    assert f"the sweep of {DAY} has not happened yet" in ahead.json()["detail"]
    assert f"{DAY} 的检查尚未进行" in ahead.json()["detail_zh"]
    api.clock.advance(days=7)  # the Tuesday of the sweep
    with Session(api.runtime.engine) as session:
        before = {s.id: s.risk for s in session.exec(select(SubjectRow)).all()}
    ok = post(
        api, f"/sweeps/{out['id']}/outcomes", {"stop": clean, "outcome": "nothing_found", "note": "无问题"}
    )
    assert ok.status_code == 201, ok.text
    twice = post(api, f"/sweeps/{out['id']}/outcomes", {"stop": clean, "outcome": "nothing_found"})
    assert twice.status_code == 409
    no_category = post(api, f"/sweeps/{out['id']}/outcomes", {"stop": case, "outcome": "case_opened"})
    assert no_category.status_code == 409 and "category" in no_category.json()["detail"]
    opened = post(
        api,
        f"/sweeps/{out['id']}/outcomes",
        {"stop": case, "outcome": "case_opened", "category": "0601", "note": "无证经营"},
    )
    assert opened.status_code == 201, opened.text
    incident = opened.json()["incident"]
    with Session(api.runtime.engine) as session:
        row = session.get(IncidentRow, incident)
        assert row is not None and row.source == "sweep" and row.category == "0601"
        subjects = {s.id: s for s in session.exec(select(SubjectRow)).all()}
        clean_id, case_id = clean.split(":", 1)[1], case.split(":", 1)[1]
        assert row.subject == case_id
        assert subjects[clean_id].last_inspected == dt.date.fromisoformat(DAY)
        assert subjects[clean_id].risk == max(1, before[clean_id] - 1)
        assert subjects[case_id].risk == min(4, before[case_id] + 1)
        visits = session.exec(select(SubjectVisitRow).where(SubjectVisitRow.subject == case_id)).all()
        assert [(v.outcome, v.risk_before, v.risk_after) for v in visits] == [
            ("case_opened", before[case_id], min(4, before[case_id] + 1))
        ]
    listed = api.client.get(f"/sweeps/{out['id']}/outcomes", headers=api.auth("duty_a")).json()
    assert [o["stop"] for o in listed] == sorted([clean, case])


def test_the_workbook_and_the_map(api: Api) -> None:
    out = planned(api)
    sheet = api.client.get(f"/sweeps/{out['id']}/sheet", headers=api.auth("duty_a"))
    assert sheet.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    teams = out["plan"]["teams"]
    assert book.sheetnames == ["计划 Plan", *(t["id"] for t in teams), "冲突 Conflicts"]
    stops = {s["id"]: s for s in out["plan"]["stops"]}
    for team in teams:
        rows = list(book[team["id"]].iter_rows(min_row=6, max_row=5 + len(team["stops"]), values_only=True))
        assert [r[1] for r in rows] == [stops[s]["name"] for s in team["stops"]]
        assert [r[0] for r in rows] == list(range(1, len(team["stops"]) + 1))
    conflicts = list(book["冲突 Conflicts"].iter_rows(min_row=2, values_only=True))
    assert len(conflicts) == len(out["plan"]["conflicts"])
    geo = api.client.get(f"/sweeps/{out['id']}/map", headers=api.auth("duty_a")).json()
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in geo["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == len(teams) and len(points) == len(stops)
    assert [len(line["geometry"]["coordinates"]) for line in lines] == [len(t["stops"]) + 2 for t in teams]


def test_a_double_random_plan_audits_until_its_inputs_change(api: Api) -> None:
    out = planned(api, mode="double_random", seed=99)
    assert out["plan"]["seed"] == 99 and all(
        r["kind"] == "drawn" for s in out["plan"]["stops"] for r in s["reasons"]
    )
    audit = api.client.get(f"/sweeps/{out['id']}/audit", headers=api.auth("duty_a")).json()
    assert audit["same_inputs"] is True and audit["same_draw"] is True
    other = planned(api, mode="double_random", seed=100)
    assert other["plan"]["digest"] == out["plan"]["digest"]
    assert {s["id"] for s in other["plan"]["stops"]} != {s["id"] for s in out["plan"]["stops"]}
    with Session(api.runtime.engine) as session:
        subject = session.exec(
            select(SubjectRow).where(SubjectRow.township == api.template.township_a)
        ).first()
        assert subject is not None
        subject.risk = 5 - subject.risk
        session.add(subject)
        session.commit()
    changed = api.client.get(f"/sweeps/{out['id']}/audit", headers=api.auth("duty_a")).json()
    assert changed["same_inputs"] is False and changed["same_draw"] is None


ROLES = ["anon", "admin", "duty_county", "duty_a", "duty_b", "unit_a", "unit_dept", "worker_a1", "device"]


def _status(role: str, allowed: set[str], ok: int) -> int:
    return ok if role in allowed else (401 if role == "anon" else 403)


def test_who_may_plan_read_and_change_a_township_plan(api: Api) -> None:
    out = planned(api)
    plan_id = out["id"]
    planners = {"admin", "duty_county", "duty_a"}
    team_units = {u for t in out["plan"]["teams"] for u in t["units"]}
    readers = planners | (
        {"unit_a"} if f"{api.template.township_a}.office.enforcement" in team_units else set()
    )
    got = {r: plan(api, r).status_code for r in ROLES}
    assert got == {r: _status(r, planners, 201) for r in ROLES}
    for path in (
        f"/sweeps/{plan_id}",
        f"/sweeps/{plan_id}/sheet",
        f"/sweeps/{plan_id}/map",
        f"/sweeps/{plan_id}/outcomes",
    ):
        got = {r: api.client.get(path, headers=api.auth(r)).status_code for r in ROLES}
        assert got == {r: _status(r, readers, 200) for r in ROLES}, path
    got = {r: api.client.get(f"/sweeps/{plan_id}/audit", headers=api.auth(r)).status_code for r in ROLES}
    assert got == {r: _status(r, planners, 200) for r in ROLES}
    for path, body in (
        (f"/sweeps/{plan_id}/moves", {"revision": 999, "stop": "x", "team": None}),
        (f"/sweeps/{plan_id}/swaps", {"revision": 999, "team": "x", "leaving": "a", "joining": "b"}),
        (f"/sweeps/{plan_id}/publish", {"revision": 999}),
        (f"/sweeps/{plan_id}/outcomes", {"stop": "x", "outcome": "nothing_found"}),
    ):
        # Allowed roles get past the guards to the stale revision (409) or the missing stop (409/404).
        got = {r: post(api, path, body, r).status_code for r in ROLES}
        refused = {r: s for r, s in got.items() if r not in planners}
        assert refused == {r: _status(r, set(), 0) for r in ROLES if r not in planners}, path
        assert all(got[r] in (404, 409) for r in planners), (path, got)
    # A township's duty officer plans only its own township, and not the county.
    assert plan(api, "duty_a", township=api.template.township_b).status_code == 403
    assert (
        api.client.post("/sweeps", json={"township": None}, headers=api.auth("duty_county")).status_code
        == 201
    )
    listed = api.client.get("/sweeps", headers=api.auth("duty_b")).json()
    assert listed["items"] == []
    assert (
        api.client.get(f"/sweeps?township={api.template.township_a}", headers=api.auth("duty_b")).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'{"mode": "lottery"}', 400),
        (b'{"seed": -1}', 400),
        (b'{"seed": "7"}', 400),
        (b'{"date": "next tuesday"}', 400),
        (b'{"date": "0001-01-01"}', 400),
        (b'{"date": "9999-12-31"}', 400),
        (b'{"township": "12"}', 400),
        (b'{"stops_per_team": 0}', 400),
        (b'{"surprise": 1}', 400),
        (b'{"mode": "double_random"}', 409),
        (b'{"township": "339921999"}', 404),
    ],
)
def test_bad_plan_requests(api: Api, body: bytes, status: int) -> None:
    headers = {**api.auth("admin"), "Content-Type": "application/json"}
    response = api.client.post("/sweeps", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


def test_bad_edits_and_unknown_plans(api: Api) -> None:
    out = planned(api)
    base = f"/sweeps/{out['id']}"
    assert api.client.get("/sweeps/SW-nope", headers=api.auth("admin")).status_code == 404
    for path, body in (
        (f"{base}/moves", {"revision": out["revision"], "stop": "subject:nope", "team": None}),
        (
            f"{base}/moves",
            {"revision": out["revision"], "stop": out["plan"]["stops"][0]["id"], "team": "T-nope"},
        ),
        (
            f"{base}/swaps",
            {
                "revision": out["revision"],
                "team": out["plan"]["teams"][0]["id"],
                "leaving": "nobody",
                "joining": "x",
            },
        ),
    ):
        response = post(api, path, body, "admin")
        assert response.status_code == 409 and response.json()["detail_zh"], response.text
    for body in ({"revision": "1"}, {}, {"revision": 1, "extra": True}):
        assert post(api, f"{base}/publish", body, "admin").status_code == 400
    bad_outcome = post(api, f"{base}/outcomes", {"stop": "x", "outcome": "fined"}, "admin")
    assert bad_outcome.status_code == 400


def test_an_officer_is_published_on_one_plan_a_day(api: Api) -> None:
    first = planned(api)
    assert post(api, f"/sweeps/{first['id']}/publish", {"revision": first["revision"]}).status_code == 200
    # A second plan for the same Tuesday draws on the same officers.
    second = planned(api)
    booked = {o for t in first["plan"]["teams"] for o in t["officers"]}
    again = {o for t in second["plan"]["teams"] for o in t["officers"]}
    assert booked & again
    refused = post(api, f"/sweeps/{second['id']}/publish", {"revision": second["revision"]})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "sweep_refused"
    assert f"already on published plan {first['id']} for {DAY}" in problem["detail"]
    assert f"已在 {DAY} 的已发布计划 {first['id']} 中" in problem["detail_zh"]
    assert all(o in problem["detail"] for o in sorted(booked & again))
    listed = api.client.get(f"/sweeps/{second['id']}", headers=api.auth("duty_a")).json()
    assert listed["status"] == "draft"  # nothing was published
    # Another Tuesday is another day.
    later = planned(api, date="2026-06-30")
    assert post(api, f"/sweeps/{later['id']}/publish", {"revision": later["revision"]}).status_code == 200
