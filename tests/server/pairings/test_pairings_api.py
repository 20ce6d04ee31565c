"""Pairing phones (docs/field-app.md#pairing): a code made in scope, claimed once for a token of the
phone's own, refused when used, expired, unknown or malformed, revoked to sign the phone out, and
`GET /me` for every role."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
from typing import Any

import pytest
from sqlmodel import Session, select

from grid.errors import StateConflict
from server.db.tables import PairingRow, TokenRow
from server.pairings.service import PairingService
from tests.support.api import CALLERS, START, Api, stored

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$")
CJK = re.compile(r"[\u4e00-\u9fff]")
WHO = CALLERS


def worker(api: Api, township: str, n: int = 0) -> Any:
    return [w for w in api.template.county.workers if w.township == township][n]


def office(township: str) -> str:
    return f"{township}.office.enforcement"


def pair(api: Api, who: str = "duty_a", **body: Any) -> Any:
    return api.client.post("/pairings", json=body, headers=api.auth(who))


def claim(api: Api, code: str, device: str = "Pixel 7") -> Any:
    return api.client.post("/pairings/claim", json={"code": code, "device": device})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused_in_both(answer: Any, status: int, said: str, said_zh: str) -> None:
    assert answer.status_code == status, answer.text
    problem = answer.json()
    # A body the schema refuses says where in `errors`; a rule says it in `detail`.
    assert said in problem["detail"] + repr(problem.get("errors")), problem
    assert said_zh in problem["detail_zh"] and CJK.search(problem["detail_zh"]), problem


def test_a_claimed_code_becomes_the_phones_own_token_once(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    person = worker(api, api.template.township_a)
    made = pair(api, worker=person.id, label="Zhang's phone")
    assert made.status_code == 201, made.text
    body = made.json()
    assert CODE.match(body["code"]), body["code"]
    raw = body["code"].replace("-", "")
    assert body["link"].startswith("http") and body["link"].endswith(f"/field/#pair={raw}")
    assert (body["role"], body["scope"], body["name"]) == ("worker", f"worker:{person.id}", person.name)
    assert dt.datetime.fromisoformat(body["expires_at"]) == START + dt.timedelta(minutes=60)
    assert body["qr_svg"].startswith("<svg") and "</svg>" in body["qr_svg"]
    # Only the digest is kept.
    rows, _ = stored(api)
    assert raw not in repr(rows)
    with Session(api.runtime.engine) as session:
        row = session.exec(select(PairingRow)).one()
    assert row.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert (row.created_by, row.label, row.claimed_at) == (
        "duty:" + api.template.township_a,
        "Zhang's phone",
        None,
    )

    # Typed on a phone: lower case, spaces for the dash.
    got = claim(api, f" {raw[:4].lower()} {raw[4:].lower()} ")
    assert got.status_code == 201, got.text
    phone = got.json()
    assert phone["token"].startswith("gw_")
    assert {k: phone[k] for k in ("role", "scope", "actor", "name", "county", "township")} == {
        "role": "worker",
        "scope": f"worker:{person.id}",
        "actor": f"worker:{person.id}",
        "name": person.name,
        "county": "339921",
        "township": api.template.township_a,
    }
    me = api.client.get("/me", headers=bearer(phone["token"]))
    assert me.status_code == 200, me.text
    assert (me.json()["name"], me.json()["cells"]) == (person.name, list(person.cells))
    assert me.json()["app"] == {
        "tile_url": "",
        "max_photos": 6,
        "photo_max_bytes": 600_000,
        "photo_long_edge": 1600,
        "ping_seconds": 60,
    }
    assert api.report(township=api.template.township_a).status_code == 201
    mine = api.client.post(
        "/incidents",
        json={"client_id": "phone-1", "category": "0501", "lon": api.point_in(api.template.township_a)[0],
              "lat": api.point_in(api.template.township_a)[1]},
        headers=bearer(phone["token"]),
    )  # fmt: skip
    assert mine.status_code == 201, mine.text
    with Session(api.runtime.engine) as session:
        token = session.exec(select(TokenRow).where(TokenRow.label.startswith("phone:"))).one()  # type: ignore[attr-defined]
        row = session.exec(select(PairingRow)).one()
    assert token.label == f"phone: Pixel 7 (pairing {row.id})"
    assert (row.token, row.claimed_at) == (token.id, START)

    again = claim(api, body["code"])
    refused_in_both(again, 409, "used already", "已被使用")
    # Neither the code nor the token is ever logged.
    assert caplog.records
    assert raw not in caplog.text and raw.lower() not in caplog.text
    assert phone["token"] not in caplog.text


def test_a_unit_officers_phone_knows_its_unit(api: Api) -> None:
    made = pair(api, "duty_a", unit=office(api.template.township_a), minutes=5)
    assert made.status_code == 201, made.text
    phone = claim(api, made.json()["code"]).json()
    me = api.client.get("/me", headers=bearer(phone["token"])).json()
    assert me["role"] == "unit" and me["scope"] == f"unit:{office(api.template.township_a)}"
    unit = next(u for u in api.template.county.units if u.id == office(api.template.township_a))
    assert (me["name"], me["name_en"]) == (unit.name_zh, unit.name_en)
    assert (me["township"], me["cells"]) == (api.template.township_a, [])


def test_an_expired_unknown_or_malformed_code_is_refused(api: Api) -> None:
    made = pair(api, worker=worker(api, api.template.township_a).id, minutes=5).json()
    api.clock.advance(minutes=5)
    refused_in_both(claim(api, made["code"]), 410, "expired", "已过期")
    assert claim(api, made["code"]).json()["code"] == "pairing_expired"
    unknown = "ABCD-EFGH" if made["code"] != "ABCD-EFGH" else "HGFE-DCBA"
    refused_in_both(claim(api, unknown), 404, "no such pairing code", "配对码不存在")
    for typed in ["ABC", "ABCD-EFG0", "IIII-IIII", "ABCD-EFGH-J", "", "配对码配对码配对"]:
        refused_in_both(claim(api, typed), 422, "8 letters and digits", "配对码为 8 位")
    with Session(api.runtime.engine) as session:
        assert session.exec(select(PairingRow)).one().claimed_at is None
        assert not session.exec(select(TokenRow).where(TokenRow.label.startswith("phone:"))).all()  # type: ignore[attr-defined]


GARBAGE = [
    ("not json", b"{worker: 1", 400, "malformed JSON", "不是有效的 JSON"),
    ("a number", b'{"worker": 5}', 400, "Expected `str | null`", "请求格式有误"),
    ("both", b'{"worker": "w1", "unit": "u1"}', 400, "either a worker or a unit", "网格员或单位之一"),
    ("neither", b'{"label": "x"}', 400, "either a worker or a unit", "网格员或单位之一"),
    ("too short", b'{"worker": "W", "minutes": 4}', 400, ">= 5", "请求格式有误"),
    ("too long", b'{"worker": "W", "minutes": 1441}', 400, "<= 1440", "请求格式有误"),
    ("minutes text", b'{"worker": "W", "minutes": "60"}', 400, "Expected `int`", "请求格式有误"),
    ("unknown field", b'{"worker": "W", "role": "admin"}', 400, "unknown field", "请求格式有误"),
    ("unknown worker", b'{"worker": "w-nobody"}', 422, "no worker 'w-nobody'", "没有网格员"),
    ("unknown unit", b'{"unit": "339921.dept.nobody"}', 422, "no unit", "没有单位"),
]


@pytest.mark.parametrize(("case", "body", "status", "said", "said_zh"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_makes_no_pairing(
    api: Api, case: str, body: bytes, status: int, said: str, said_zh: str
) -> None:
    real = worker(api, api.template.township_a).id
    before = stored(api)
    answer = api.client.post(
        "/pairings",
        content=body.replace(b'"W"', f'"{real}"'.encode()),
        headers={**api.auth("admin"), "Content-Type": "application/json"},
    )
    refused_in_both(answer, status, said, said_zh)
    assert stored(api) == before


@pytest.mark.parametrize(
    ("body", "status", "said_zh"),
    [
        (b"not json", 400, "不是有效的 JSON"),
        (b'{"code": 12345678}', 400, "请求格式有误"),
        (b'{"device": "x"}', 400, "请求格式有误"),
        (b'{"code": "ABCD-EFGH", "token": "x"}', 400, "请求格式有误"),
        (b'{"code": "ABCD-EFGH", "device": "' + b"x" * 201 + b'"}', 400, "请求格式有误"),
    ],
)
def test_a_garbage_claim_is_refused_in_both_languages(
    api: Api, body: bytes, status: int, said_zh: str
) -> None:
    before = stored(api)
    answer = api.client.post("/pairings/claim", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"] and said_zh in answer.json()["detail_zh"]
    assert stored(api) == before


def test_revoking_signs_the_phone_out_and_cancels_an_unclaimed_code(api: Api) -> None:
    person = worker(api, api.template.township_a)
    made = pair(api, worker=person.id).json()
    phone = claim(api, made["code"]).json()
    assert api.client.get("/me", headers=bearer(phone["token"])).status_code == 200
    listed = api.client.get("/pairings", headers=api.auth("duty_a")).json()
    assert [(p["id"], p["state"]) for p in listed["items"]] == [(made["id"], "signed_in")]
    done = api.client.post(f"/pairings/{made['id']}/revoke", headers=api.auth("duty_a"))
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "signed_out" and done.json()["token"] is not None
    signed_out = api.client.get("/me", headers=bearer(phone["token"]))
    assert signed_out.status_code == 401 and "revoked" in signed_out.json()["detail"]
    listed = api.client.get("/pairings", headers=api.auth("admin")).json()
    assert [(p["id"], p["state"]) for p in listed["items"]] == [(made["id"], "signed_out")]
    # Again is no change; the duty officer's own token goes on working.
    assert (
        api.client.post(f"/pairings/{made['id']}/revoke", headers=api.auth("duty_a")).json()["state"]
        == "signed_out"
    )
    # A code nobody claimed is cancelled: it can no longer be claimed.
    waiting = pair(api, worker=person.id).json()
    cancelled = api.client.post(f"/pairings/{waiting['id']}/revoke", headers=api.auth("duty_county"))
    assert (cancelled.json()["state"], cancelled.json()["token"]) == ("expired", None)
    refused_in_both(claim(api, waiting["code"]), 410, "expired", "已过期")
    listed = api.client.get("/pairings", headers=api.auth("duty_a")).json()
    assert [p["id"] for p in listed["items"]] == [waiting["id"], made["id"]]  # newest first
    missing = api.client.post("/pairings/999999/revoke", headers=api.auth("admin"))
    refused_in_both(missing, 404, "no pairing 999999", "没有配对记录 999999")
    huge = api.client.post(f"/pairings/{2**70}/revoke", headers=api.auth("admin"))
    assert huge.status_code == 400 and huge.json()["detail_zh"].startswith("请求格式有误")


def test_two_phones_claiming_one_code_at_once_one_wins(api: Api) -> None:
    made = pair(api, worker=worker(api, api.template.township_a).id).json()
    start = threading.Barrier(2)
    won: list[str] = []
    lost: list[Exception] = []

    def phone() -> None:
        with Session(api.runtime.engine) as session:
            start.wait()
            try:
                won.append(PairingService(session, api.clock).claim(made["code"], "racer")[0])
            except StateConflict as exc:
                lost.append(exc)

    racers = [threading.Thread(target=phone) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    assert (len(won), len(lost)) == (1, 1)
    with Session(api.runtime.engine) as session:
        assert len(session.exec(select(TokenRow).where(TokenRow.label.startswith("phone:"))).all()) == 1  # type: ignore[attr-defined]


# Who may make a pairing for whom: 201 or the refusal, and a refusal writes nothing.
MAKE = {
    "anon": (401, 401, 401),
    "admin": (201, 201, 201),
    "duty_county": (201, 201, 201),
    "duty_a": (201, 201, 403),
    "duty_b": (403, 403, 403),
    "unit_a": (403, 403, 403),
    "unit_dept": (403, 403, 403),
    "worker_a1": (403, 403, 403),
    "worker_a2": (403, 403, 403),
    "device": (403, 403, 403),
}


@pytest.mark.parametrize("who", WHO)
def test_who_may_pair_whom(api: Api, who: str) -> None:
    a = api.template.township_a
    targets = [{"worker": worker(api, a, 1).id}, {"unit": office(a)}, {"unit": "339921.dept.zhzf"}]
    for target, status in zip(targets, MAKE[who], strict=True):
        before = stored(api)
        answer = pair(api, who, **target)
        assert answer.status_code == status, (target, answer.text)
        if status != 201:
            assert stored(api) == before
            assert answer.json()["detail_zh"]


LIST = {
    "anon": 401,
    "admin": 200,
    "duty_county": 200,
    "duty_a": 200,
    "duty_b": 200,
    "unit_a": 403,
    "unit_dept": 403,
    "worker_a1": 403,
    "worker_a2": 403,
    "device": 403,
}
REVOKE = {
    "anon": 401,
    "admin": 200,
    "duty_county": 200,
    "duty_a": 200,
    "duty_b": 403,
    "unit_a": 403,
    "unit_dept": 403,
    "worker_a1": 403,
    "worker_a2": 403,
    "device": 403,
}


@pytest.mark.parametrize("who", WHO)
def test_who_may_list_and_revoke(api: Api, who: str) -> None:
    made = pair(api, "duty_a", worker=worker(api, api.template.township_a).id).json()
    claim(api, made["code"])
    listed = api.client.get("/pairings", headers=api.auth(who))
    assert listed.status_code == LIST[who], listed.text
    if LIST[who] == 200:
        # duty_b answers for the other township: it sees none of township a's pairings.
        assert [p["id"] for p in listed.json()["items"]] == ([] if who == "duty_b" else [made["id"]])
    before = stored(api)
    revoked = api.client.post(f"/pairings/{made['id']}/revoke", headers=api.auth(who))
    assert revoked.status_code == REVOKE[who], revoked.text
    if REVOKE[who] != 200:
        assert stored(api) == before
    else:
        assert revoked.json()["state"] == "signed_out"


@pytest.mark.parametrize("who", [*WHO, "expired"])
def test_every_role_may_ask_who_it_is(api: Api, who: str) -> None:
    me = api.client.get("/me", headers=api.auth(who))
    if who in ("anon", "expired"):
        assert me.status_code == 401
        return
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["actor"] == f"{body['role']}:{body['scope'].split(':', 1)[1]}"
    assert body["county"] == "339921" and body["name"]
    expected = {
        "admin": ("admin", None),
        "duty_county": ("duty", None),
        "duty_a": ("duty", api.template.township_a),
        "duty_b": ("duty", api.template.township_b),
        "unit_a": ("unit", api.template.township_a),
        "unit_dept": ("unit", None),
        "worker_a1": ("worker", api.template.township_a),
        "worker_a2": ("worker", api.template.township_a),
        "device": ("device", api.template.county.devices[0].cell[:9]),
    }
    assert (body["role"], body["township"]) == expected[who]
    assert bool(body["cells"]) == who.startswith("worker")
    assert body["app"]["max_photos"] == 6


def test_a_claim_needs_no_token_and_ignores_one(api: Api) -> None:
    made = pair(api, worker=worker(api, api.template.township_a).id).json()
    answer = api.client.post("/pairings/claim", json={"code": made["code"]}, headers=api.auth("device"))
    assert answer.status_code == 201 and answer.json()["role"] == "worker"
