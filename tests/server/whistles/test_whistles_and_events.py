"""Whistles (吹哨报到) and the live stream over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from tests.support.api import Api, LiveServer
from tests.support.steps import ZHZF, ZRZY, whistle


def test_whistle_report_in_and_rate(api: Api) -> None:
    incident = api.report().json()["incident"]["id"]
    opened = whistle(api, incident, note="违建拆除需县局")
    assert opened.status_code == 201, opened.text
    body = opened.json()
    assert [c["unit"] for c in body["calls"]] == [ZHZF, ZRZY]
    # Routine: two working hours from Tuesday 09:00.
    assert all(
        c["due_at"].startswith("2026-06-16T03:00:00") or c["due_at"].startswith("2026-06-16T11:00:00+08:00")
        for c in body["calls"]
    )
    # The called department now takes part: its unit officer sees the incident.
    assert api.client.get(f"/incidents/{incident}", headers=api.auth("unit_dept")).status_code == 200
    api.clock.advance(hours=1)
    done = api.client.post(f"/whistles/{body['id']}/report-in", headers=api.auth("unit_dept"))
    assert done.status_code == 200, done.text
    calls = {c["unit"]: c for c in done.json()["calls"]}
    assert calls[ZHZF]["reported_at"] is not None
    assert calls[ZHZF]["late"] is False
    api.clock.advance(hours=5)  # the other department is now overdue
    later = api.client.get(f"/whistles/{body['id']}", headers=api.auth("duty_a")).json()
    assert {c["unit"]: c["overdue"] for c in later["calls"]} == {ZHZF: False, ZRZY: True}
    late = api.client.post(f"/whistles/{body['id']}/report-in?unit={ZRZY}", headers=api.auth("admin")).json()
    assert {c["unit"]: c["late"] for c in late["calls"]} == {ZHZF: False, ZRZY: True}
    rated = api.client.post(
        f"/whistles/{body['id']}/rate", json={"unit": ZHZF, "rating": 5}, headers=api.auth("duty_a")
    )
    assert rated.status_code == 200
    assert {c["unit"]: c["rating"] for c in rated.json()["calls"]}[ZHZF] == 5
    listed = api.client.get("/whistles?open=true", headers=api.auth("duty_a")).json()
    assert [w["id"] for w in listed["items"]] == [body["id"]]
    assert api.client.get("/whistles", headers=api.auth("duty_b")).json()["total"] == 0
    assert api.client.get("/whistles", headers=api.auth("unit_dept")).json()["total"] == 1


def test_emergency_whistle_is_due_in_30_minutes_at_night(api: Api) -> None:
    api.clock.advance(hours=13)  # 22:00
    incident = api.report(category="0401").json()["incident"]["id"]
    opened = whistle(api, incident, kind="emergency", reason="emergency", units=["339921.dept.yjgl"]).json()
    assert opened["calls"][0]["due_at"].startswith("2026-06-16T14:30:00")  # 22:30 China time, in UTC


@pytest.mark.parametrize(
    ("body", "status", "mentions"),
    [
        ({"units": []}, 400, "units"),
        ({"units": [ZHZF, ZHZF]}, 422, "once"),
        ({"units": ["339921101.office.command"]}, 422, "not a department"),
        ({"units": ["ghost"]}, 422, "not a department"),
        ({"kind": "loud"}, 400, "kind"),
        ({"reason": "bored"}, 400, "reason"),
    ],
)
def test_bad_whistles(api: Api, body: dict[str, Any], status: int, mentions: str) -> None:
    incident = api.report().json()["incident"]["id"]
    done = whistle(api, incident, **body)
    assert done.status_code == status, done.text
    assert mentions in done.text
    assert api.client.get("/whistles", headers=api.auth("duty_a")).json()["total"] == 0


def test_whistle_refusals(api: Api) -> None:
    incident = api.report().json()["incident"]["id"]
    assert whistle(api, incident, who="duty_b").status_code == 403
    assert whistle(api, incident, who="unit_a").status_code == 403
    assert whistle(api, incident, who="worker_a1").status_code == 403
    opened = whistle(api, incident, units=[ZHZF]).json()
    assert (
        api.client.post(f"/whistles/{opened['id']}/report-in", headers=api.auth("unit_a")).status_code == 403
    )
    rate_early = api.client.post(
        f"/whistles/{opened['id']}/rate", json={"unit": ZHZF, "rating": 4}, headers=api.auth("duty_a")
    )
    assert rate_early.status_code == 422
    assert "after it reports in" in rate_early.json()["detail"]
    api.client.post(f"/whistles/{opened['id']}/report-in", headers=api.auth("unit_dept"))
    twice = api.client.post(f"/whistles/{opened['id']}/report-in", headers=api.auth("unit_dept"))
    assert twice.status_code == 422
    out_of_range = api.client.post(
        f"/whistles/{opened['id']}/rate", json={"unit": ZHZF, "rating": 9}, headers=api.auth("duty_a")
    )
    assert out_of_range.status_code == 422
    api.act(incident, "reject", reason="不属实")
    assert whistle(api, incident).status_code == 422  # closed incidents are not whistled for


def test_catch_up_and_resume(api: Api) -> None:
    first = api.report().json()["incident"]["id"]
    page = api.client.get("/events", headers=api.auth("duty_a")).json()
    assert [e["kind"] for e in page["events"]] == ["incident.created"]
    assert page["events"][0]["incident"] == first
    cursor = page["cursor"]
    api.act(first, "accept")
    api.report(who="duty_b", township=api.template.township_b)
    after = api.client.get(f"/events?after={cursor}", headers=api.auth("duty_a")).json()
    assert [e["kind"] for e in after["events"]] == ["incident.accept"]  # township B's event is filtered out
    assert after["cursor"] > cursor
    assert (
        api.client.get(f"/events?after={after['cursor']}", headers=api.auth("duty_a")).json()["events"] == []
    )
    everyone = api.client.get("/events", headers=api.auth("duty_county")).json()
    assert len(everyone["events"]) == 3
    mine = api.client.get("/events", headers=api.auth("worker_a1")).json()
    assert {e["incident"] for e in mine["events"]} == {first}
    assert api.client.get("/events", headers=api.auth("device")).status_code == 403
    assert api.client.get("/events").status_code == 401


@pytest.fixture
def live(api: Api) -> Iterator[str]:
    """The same app served by uvicorn on a free port: a real client, a real disconnect."""
    with LiveServer(api.client.app) as server:
        yield server.url


def read_ids(url: str, headers: dict[str, str], count: int) -> list[str]:
    received: list[str] = []
    with httpx.stream("GET", url, headers=headers, timeout=10) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("id: "):
                received.append(line[4:])
            if len(received) == count:
                break
    return received


def test_sse_stream_resumes_from_last_event_id(api: Api, live: str) -> None:
    for i in range(3):
        api.report(n=i)
    ids = [str(e["id"]) for e in api.client.get("/events", headers=api.auth("duty_a")).json()["events"]]
    assert read_ids(f"{live}/events/stream?after=0", api.auth("duty_a"), 3) == ids
    # Reconnecting after the first event gets the rest, then a change made while disconnected.
    later = api.report(n=5).json()["incident"]["id"]
    resumed = read_ids(f"{live}/events/stream", api.auth("duty_a") | {"Last-Event-ID": ids[0]}, 3)
    assert resumed[:2] == ids[1:]
    newest = api.client.get(f"/events?after={ids[-1]}", headers=api.auth("duty_a")).json()["events"]
    assert [e["incident"] for e in newest] == [later]
    assert resumed[2] == str(newest[0]["id"])


def test_sse_stream_filters_by_scope(api: Api, live: str) -> None:
    api.report(who="duty_b", township=api.template.township_b)
    mine = api.report().json()["incident"]["id"]
    events = api.client.get("/events", headers=api.auth("duty_a")).json()["events"]
    assert [e["incident"] for e in events] == [mine]
    assert read_ids(f"{live}/events/stream?after=0", api.auth("duty_a"), 1) == [str(events[0]["id"])]


def test_sse_stream_starts_live(api: Api, live: str) -> None:
    """Without a cursor the stream holds only what happens after it opened, not the history."""
    for i in range(3):
        api.report(n=i)
    with httpx.stream("GET", f"{live}/events/stream", headers=api.auth("duty_a"), timeout=10) as stream:
        # The answer has begun: the stream's starting point is fixed.
        assert stream.status_code == 200
        later = api.report(n=5).json()["incident"]["id"]
        first = next(line for line in stream.iter_lines() if line.startswith("data: "))
    assert msgspec.json.decode(first[len("data: ") :])["incident"] == later


def test_stream_refuses_without_token(live: str) -> None:
    assert httpx.get(f"{live}/events/stream", timeout=10).status_code == 401
