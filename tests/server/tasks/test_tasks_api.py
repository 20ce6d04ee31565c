"""Tasks over HTTP (docs/field-app.md#tasks-servertasks): each caller's own list, answers through the
lifecycle's rules, exactly once under their client id; SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from server.api.app import create_app
from tests.support.api import Api, LiveServer, stored
from tests.support.steps import ZHZF, whistle

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 2
CHINESE = re.compile(r"[\u4e00-\u9fff]")
WORKER_A1 = "w33992110120001"  # the first worker of township A (tests/support/api.py): the first cell


def incident_at(api: Api, *steps: str, n: int = 0) -> str:
    """A new incident in the n-th cell of township A (worker_a1's is the first, worker_a2's the
    second), moved through these steps: duty_a accepts and dispatches, unit_a signs and handles."""
    incident: str = api.report(n=n).json()["incident"]["id"]
    for step in steps:
        who = "unit_a" if step in ("sign", "handle") else "duty_a"
        done = api.act(incident, step, who)
        assert done.status_code == 200, (step, done.text)
    return incident


DISPATCHED = ("accept", "dispatch")
STATE_AFTER = {
    "dispatch": "dispatched",
    "sign": "signed",
    "handle": "handled",
    "verify": "verified",
    "close": "closed",
}
HANDLED = (*DISPATCHED, "sign", "handle")


def tasks(api: Api, who: str) -> list[dict[str, Any]]:
    done = api.client.get("/tasks", headers=api.auth(who))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["total"] == len(body["items"])
    items: list[dict[str, Any]] = body["items"]
    return items


def answer(api: Api, who: str, **body: Any) -> httpx.Response:
    payload = {"client_id": f"a{next(api.serial)}", **body}
    done: httpx.Response = api.client.post("/tasks/answers", json=payload, headers=api.auth(who))
    return done


def history(api: Api, incident: str) -> list[dict[str, Any]]:
    detail = api.client.get(f"/incidents/{incident}", headers=api.auth("admin")).json()
    flows: list[dict[str, Any]] = detail["history"]
    return flows


def state_of(api: Api, incident: str) -> str:
    state: str = api.client.get(f"/incidents/{incident}", headers=api.auth("admin")).json()["incident"][
        "state"
    ]
    return state


def test_a_worker_sees_only_verifications_in_their_own_cells(api: Api) -> None:
    mine = incident_at(api, *HANDLED, n=0)
    theirs = incident_at(api, *HANDLED, n=1)
    incident_at(api, *DISPATCHED, n=0)  # in worker_a1's cell, but not handled yet
    first = tasks(api, "worker_a1")
    assert [(t["kind"], t["incident"]["id"], t["answers"]) for t in first] == [("verify", mine, ["verify"])]
    assert first[0]["incident"]["state"] == "handled"
    assert first[0]["due_at"] == first[0]["incident"]["deadline"] is not None
    assert first[0]["overdue"] is False
    assert first[0]["whistle"] is None
    assert [t["incident"]["id"] for t in tasks(api, "worker_a2")] == [theirs]
    api.clock.advance(days=2)  # past the verify limit
    assert tasks(api, "worker_a1")[0]["overdue"] is True


def test_a_unit_sees_only_its_own_work_and_calls(api: Api) -> None:
    to_sign = incident_at(api, *DISPATCHED, n=0)
    api.clock.advance(minutes=5)
    to_handle = incident_at(api, *DISPATCHED, "sign", n=1)
    incident_at(api, *HANDLED, n=2)  # handled: nothing left for the unit
    incident_at(api, "accept", n=3)  # not dispatched yet
    assert [(t["kind"], t["incident"]["id"], t["answers"]) for t in tasks(api, "unit_a")] == [
        ("sign", to_sign, ["sign", "return"]),
        ("handle", to_handle, ["handle", "return"]),
    ]
    assert tasks(api, "unit_dept") == []
    assert whistle(api, to_sign).status_code == 201
    called = tasks(api, "unit_dept")
    assert [(t["kind"], t["incident"]["id"], t["answers"]) for t in called] == [
        ("report_in", to_sign, ["report_in"])
    ]
    assert called[0]["due_at"] == next(
        c["due_at"] for c in called[0]["whistle"]["calls"] if c["unit"] == ZHZF
    )
    assert [t["kind"] for t in tasks(api, "unit_a")] == ["sign", "handle"]  # not called by the whistle
    before = stored(api)
    with_note = answer(api, "unit_dept", kind="report_in", whistle=called[0]["whistle"]["id"], note="已到")
    assert with_note.status_code == 422, with_note.text
    assert "carries no note" in with_note.json()["detail"] and "不附说明" in with_note.json()["detail_zh"]
    assert stored(api) == before
    reported = answer(api, "unit_dept", kind="report_in", whistle=called[0]["whistle"]["id"])
    assert reported.status_code == 201, reported.text
    assert reported.json()["status"] == "accepted"
    call = next(c for c in reported.json()["whistle"]["calls"] if c["unit"] == ZHZF)
    assert call["reported_at"] is not None
    assert reported.json()["incident"]["id"] == to_sign
    assert tasks(api, "unit_dept") == []
    whistle_id = called[0]["whistle"]["id"]
    before = stored(api)
    stranger = answer(api, "unit_a", kind="report_in", whistle=whistle_id)
    assert (stranger.status_code, "did not call your unit" in stranger.json()["detail"]) == (403, True)
    twice = answer(api, "unit_dept", kind="report_in", whistle=whistle_id)
    assert twice.status_code == 422
    assert "already reported in" in twice.json()["detail"] and "已报到" in twice.json()["detail_zh"]
    assert stored(api) == before


def test_the_whole_loop_through_answers(api: Api) -> None:
    """立案 → 派遣 (duty) → 签收 → 处置 with a photo (unit) → 核查 (worker) → 结案 (duty)."""
    incident = incident_at(api, *DISPATCHED)
    api.clock.advance(minutes=10)
    signed = answer(api, "unit_a", kind="sign", incident=incident)
    assert signed.status_code == 201, signed.text
    assert (signed.json()["status"], signed.json()["incident"]["state"]) == ("accepted", "signed")
    photo = api.client.post(
        "/media", files={"file": ("h.jpg", PHOTO, "image/jpeg")}, headers=api.auth("unit_a")
    )
    assert photo.status_code == 201, photo.text
    api.clock.advance(minutes=10)
    handled = answer(
        api, "unit_a", kind="handle", incident=incident, note="已清理", media=[photo.json()["name"]]
    )
    assert handled.status_code == 201, handled.text
    assert handled.json()["incident"]["state"] == "handled"
    assert handled.json()["incident"]["stage"] == "verify"
    api.clock.advance(minutes=10)
    verified = answer(api, "worker_a1", kind="verify", incident=incident, fixed=True)
    assert verified.status_code == 201, verified.text
    assert verified.json()["incident"]["state"] == "verified"
    assert api.act(incident, "close").json()["state"] == "closed"
    flows = history(api, incident)
    unit = f"unit:{api.template.township_a}.office.enforcement"
    worker = f"worker:{WORKER_A1}"
    assert [(f["action"], f["actor"]) for f in flows][3:6] == [
        ("sign", unit),
        ("handle", unit),
        ("verify", worker),
    ]
    assert [f["action"] for f in flows] == [
        "report",
        "accept",
        "dispatch",
        "sign",
        "handle",
        "verify",
        "close",
    ]
    assert flows[4]["media"] == [photo.json()["url"]]
    assert flows[4]["reason"] == "已清理"
    assert [f["media"] for i, f in enumerate(flows) if i != 4] == [[]] * 6
    fetched = api.client.get(flows[4]["media"][0], headers=api.auth("duty_a"))
    assert fetched.content == PHOTO
    assert tasks(api, "worker_a1") == [] and tasks(api, "unit_a") == []


def test_not_fixed_reopens_with_the_note_as_reason(api: Api) -> None:
    incident = incident_at(api, *HANDLED)
    reopened = answer(api, "worker_a1", kind="verify", incident=incident, fixed=False, note="摊位仍在")
    assert reopened.status_code == 201, reopened.text
    assert reopened.json()["incident"]["state"] == "reopened"
    assert reopened.json()["incident"]["rework_count"] == 1
    last = history(api, incident)[-1]
    assert (last["action"], last["reason"], last["to_state"]) == ("reopen", "摊位仍在", "reopened")
    assert [t["kind"] for t in tasks(api, "unit_a")] == ["handle"]
    assert tasks(api, "unit_a")[0]["answers"] == ["handle"]  # a reopened incident cannot be returned


def test_the_same_answer_again_is_a_duplicate(api: Api) -> None:
    incident = incident_at(api, *DISPATCHED)
    body = {"client_id": "sign-1", "kind": "sign", "incident": incident}
    first = api.client.post("/tasks/answers", json=body, headers=api.auth("unit_a"))
    again = api.client.post("/tasks/answers", json=body, headers=api.auth("unit_a"))
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["status"] == "duplicate"
    assert again.json()["incident"]["state"] == "signed"
    assert api.act(incident, "handle", "unit_a").status_code == 200
    later = api.client.post("/tasks/answers", json=body, headers=api.auth("unit_a"))
    assert later.status_code == 200
    assert (later.json()["status"], later.json()["incident"]["state"]) == ("duplicate", "handled")
    assert [f["action"] for f in history(api, incident)].count("sign") == 1


def test_the_same_answer_at_once_is_one_step(api: Api) -> None:
    incident = incident_at(api, *DISPATCHED)
    copies = 5
    start = threading.Barrier(copies)
    body = {"client_id": "sign-at-once", "kind": "sign", "incident": incident}
    with LiveServer(create_app(api.runtime)) as server:

        def send(_: int) -> httpx.Response:
            start.wait()
            return httpx.post(
                f"{server.url}/tasks/answers", json=body, headers=api.auth("unit_a"), timeout=60
            )

        with ThreadPoolExecutor(copies) as pool:
            answers = list(pool.map(send, range(copies)))
    assert sorted(a.status_code for a in answers) == [200] * (copies - 1) + [201], [a.text for a in answers]
    assert sorted(a.json()["status"] for a in answers) == ["accepted"] + ["duplicate"] * (copies - 1)
    assert {a.json()["incident"]["state"] for a in answers} == {"signed"}
    assert [f["action"] for f in history(api, incident)].count("sign") == 1


REFUSALS = [
    # (who, the incident's steps, answer, status, English, Chinese)
    ("unit_dept", DISPATCHED, {"kind": "sign"}, 403, "lead unit", "无权"),
    ("worker_a1", DISPATCHED, {"kind": "sign"}, 403, "unit officer", "无权"),
    ("worker_a2", HANDLED, {"kind": "verify", "fixed": True}, 403, "not in your cells", "无权"),
    ("unit_a", HANDLED, {"kind": "verify", "fixed": True}, 403, "grid worker", "无权"),
    ("unit_a", DISPATCHED, {"kind": "handle"}, 409, "allowed only from signed", "仅允许从"),
    ("unit_a", DISPATCHED, {"kind": "return"}, 409, "a reason is required", "必须填写理由"),
    ("unit_a", DISPATCHED, {"kind": "return", "note": "   "}, 409, "a reason is required", "必须填写理由"),
    ("worker_a1", HANDLED, {"kind": "verify", "fixed": False}, 409, "a reason is required", "必须填写理由"),
    # An answer queued on the phone that arrives after the duty officer verified or closed it.
    (
        "worker_a1",
        (*HANDLED, "verify"),
        {"kind": "verify", "fixed": False, "note": "仍有垃圾"},
        409,
        "only a handled incident is verified",
        "仅已处置的事件可核查",
    ),
    (
        "worker_a1",
        (*HANDLED, "verify", "close"),
        {"kind": "verify", "fixed": False, "note": "仍有垃圾"},
        409,
        "only a handled incident is verified",
        "仅已处置的事件可核查",
    ),
    (
        "unit_a",
        (*DISPATCHED, "sign"),
        {"kind": "handle", "media": ["f" * 64 + ".jpg"]},
        422,
        "not uploaded",
        "尚未上传",
    ),
    (
        "unit_a",
        (*DISPATCHED, "sign"),
        {"kind": "handle", "media": ["../../etc/passwd"]},
        422,
        "not a media name",
        "无效的媒体名",
    ),
    (
        "unit_a",
        (*DISPATCHED, "sign"),
        {"kind": "handle", "media": ["https://example.com/a.jpg"]},
        422,
        "not a media name",
        "无效的媒体名",
    ),
]


@pytest.mark.parametrize(
    ("who", "steps", "body", "status", "en", "zh"),
    REFUSALS,
    ids=[f"{r[0]}-{r[2]['kind']}-{r[3]}-{r[4]}" for r in REFUSALS],
)
def test_refused_answers_change_nothing(
    api: Api, who: str, steps: tuple[str, ...], body: dict[str, Any], status: int, en: str, zh: str
) -> None:
    incident = incident_at(api, *steps)
    before = stored(api)
    done = answer(api, who, incident=incident, **body)
    assert done.status_code == status, done.text
    assert en in done.json()["detail"]
    assert zh in done.json()["detail_zh"]
    assert stored(api) == before
    assert state_of(api, incident) == STATE_AFTER[steps[-1]]


def test_an_unknown_incident_or_whistle_is_not_found(api: Api) -> None:
    before = stored(api)
    for who, body in [
        ("unit_a", {"kind": "sign", "incident": "nope"}),
        ("worker_a1", {"kind": "verify", "incident": "nope", "fixed": True}),
        ("unit_dept", {"kind": "report_in", "whistle": "nope"}),
    ]:
        done = answer(api, who, **body)
        assert done.status_code == 404, done.text
        assert "nope" in done.json()["detail"] and "nope" in done.json()["detail_zh"]
    assert stored(api) == before


def test_a_refused_answer_can_be_corrected_under_the_same_client_id(api: Api) -> None:
    incident = incident_at(api, *DISPATCHED)
    body = {"client_id": "ret-1", "kind": "return", "incident": incident}
    refused = api.client.post("/tasks/answers", json=body, headers=api.auth("unit_a"))
    assert refused.status_code == 409
    taken = api.client.post(
        "/tasks/answers", json=body | {"note": "不属于本单位"}, headers=api.auth("unit_a")
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["incident"]["state"] == "returned"
    assert history(api, incident)[-1]["reason"] == "不属于本单位"


GARBAGE = [
    (b"{not json", 400, "malformed JSON"),
    (b"[]", 400, "Expected `object`"),
    (b'{"client_id": "g1", "kind": "sign", "incident": 5}', 400, "Expected `str | null`"),
    (
        b'{"client_id": "g1", "kind": "verify", "incident": "x", "fixed": "yes"}',
        400,
        "Expected `bool | null`",
    ),
    (b'{"client_id": "g1", "kind": "close", "incident": "x"}', 400, "Invalid enum value 'close'"),
    (b'{"client_id": "g1", "kind": "sign", "incident": "x", "by": "me"}', 400, "unknown field `by`"),
    (b'{"kind": "sign", "incident": "x"}', 400, "missing required field `client_id`"),
    (b'{"client_id": "g 1", "kind": "sign", "incident": "x"}', 400, "client_id: Expected `str` matching"),
    (b'{"client_id": "g1", "kind": "sign", "incident": "x", "media": "a.jpg"}', 400, "Expected `array`"),
    (b'{"client_id": "g1", "kind": "sign"}', 422, "names the incident"),
    (b'{"client_id": "g1", "kind": "sign", "incident": "x", "whistle": "w"}', 422, "names the incident"),
    (b'{"client_id": "g1", "kind": "report_in", "incident": "x"}', 422, "names the whistle"),
    (b'{"client_id": "g1", "kind": "verify", "incident": "x"}', 422, "fixed"),
    (b'{"client_id": "g1", "kind": "sign", "incident": "x", "fixed": true}', 422, "fixed"),
]


@pytest.mark.parametrize(("body", "status", "en"), GARBAGE, ids=[g[2] for g in GARBAGE])
def test_garbage_answers_are_refused_in_both_languages(api: Api, body: bytes, status: int, en: str) -> None:
    before = stored(api)
    done = api.client.post(
        "/tasks/answers",
        content=body,
        headers={**api.auth("unit_a"), "Content-Type": "application/json"},
    )
    assert done.status_code == status, done.text
    problem = done.json()
    # A malformed body names the field and the fault in `errors` (Litestar's validation).
    said = " ".join(
        [problem["detail"], *(f"{e['key']}: {e['message']}" for e in problem.get("errors") or [])]
    )
    assert en in said, problem
    assert CHINESE.search(problem["detail_zh"]), problem
    assert stored(api) == before


ROLES = ["anon", "admin", "duty_a", "unit_a", "worker_a1", "device"]


def test_roles_on_the_task_routes(api: Api) -> None:
    """Only the field's roles have tasks; the others are refused before anything is read or written."""
    got = {role: api.client.get("/tasks", headers=api.auth(role)).status_code for role in ROLES}
    assert got == {"anon": 401, "admin": 403, "duty_a": 403, "unit_a": 200, "worker_a1": 200, "device": 403}
    incident = incident_at(api, *DISPATCHED)
    before = stored(api)
    posted = {
        role: answer(api, role, kind="sign", incident=incident, note="x").status_code
        for role in ["anon", "admin", "duty_a", "worker_a1", "device"]
    }
    assert posted == {"anon": 401, "admin": 403, "duty_a": 403, "worker_a1": 403, "device": 403}
    assert stored(api) == before
    assert answer(api, "unit_a", kind="sign", incident=incident).status_code == 201


def test_the_staff_action_route_stays_closed_to_workers(api: Api) -> None:
    incident = incident_at(api, *HANDLED)
    assert api.act(incident, "verify", "worker_a1").status_code == 403
    assert api.act(incident, "verify", "unit_a").status_code == 403
    assert state_of(api, incident) == "handled"
