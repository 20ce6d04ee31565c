"""Admins write rosters and power lists; bad batches are refused whole; routing follows at once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api


def post(api: Api, path: str, items: list[dict[str, Any]], who: str = "admin") -> Any:
    return api.client.post(path, json=items, headers=api.auth(who))


def test_granting_a_matter_reroutes_new_incidents(api: Api) -> None:
    a = api.template.township_a
    before = api.report(category="0104").json()["incident"]  # straw burning: not on the list
    assert before["lead"] == "339921.dept.sthj.team"
    entry = {
        "id": f"{a}-P900",
        "township": a,
        "matter": "STHJ-001",
        "mode": "granted",
        "unit": f"{a}.office.enforcement",
    }
    done = post(api, "/power-lists", [entry])
    assert done.status_code == 201, done.text
    assert done.json()["written"] == 1
    after = api.report(category="0104", n=1).json()["incident"]
    assert after["lead"] == f"{a}.office.enforcement"
    listed = api.client.get(f"/power-lists?township={a}&limit=500", headers=api.auth("duty_a")).json()[
        "items"
    ]
    assert any(e["id"] == f"{a}-P900" and e["mode"] == "granted" for e in listed)


def test_entrusting_with_an_agreement(api: Api) -> None:
    a = api.template.township_a
    entry = {
        "id": f"{a}-P901",
        "township": a,
        "matter": "SL-004",
        "mode": "entrusted",
        "unit": f"{a}.office.enforcement",
        "agreement": {
            "number": "委托〔2026〕0099号",
            "department": "339921.dept.sl",
            "valid_from": "2026-01-01",
            "valid_to": "2026-12-31",
        },
    }
    assert post(api, "/power-lists", [entry]).status_code == 201
    incident = api.report(category="0612").json()["incident"]
    detail = api.client.get(f"/incidents/{incident['id']}", headers=api.auth("duty_a")).json()
    assert detail["assignments"][0]["basis"] == "entrusted"
    assert detail["assignments"][0]["agreement"] == "委托〔2026〕0099号"


def good_entry(api: Api) -> dict[str, Any]:
    a = api.template.township_a
    return {
        "id": f"{a}-P902",
        "township": a,
        "matter": "STHJ-002",
        "mode": "granted",
        "unit": f"{a}.office.enforcement",
    }


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        ({"matter": "NOPE-1"}, "matter NOPE-1 does not exist"),
        ({"township": "339921999"}, "township 339921999 does not exist"),
        ({"township": "110101001"}, "outside county"),
        ({"mode": "stationed"}, "stationed entries name a stationed"),
        ({"unit": "339921.dept.sthj"}, "granted entries name a office"),
        ({"matter": "ZHZF-001"}, "already listed"),
        (
            {
                "mode": "entrusted",
                "agreement": {
                    "number": "x",
                    "department": "339921101.office.command",
                    "valid_from": "2026-01-01",
                    "valid_to": "2026-12-31",
                },
            },
            "not a department",
        ),
        (
            {
                "mode": "entrusted",
                "agreement": {
                    "number": "x",
                    "department": "339921.dept.sthj",
                    "valid_from": "2027-01-01",
                    "valid_to": "2026-12-31",
                },
            },
            "ends before it starts",
        ),
        ({"mode": "entrusted"}, "agreement goes with"),
        ({"mode": "borrowed"}, "Invalid enum value"),
        ({"township": 339921101}, "Expected `str`"),
    ],
)
def test_bad_power_list_entries_refused_whole(api: Api, change: dict[str, Any], mentions: str) -> None:
    good = good_entry(api) | {"id": "fine-1", "matter": "STHJ-003"}
    done = post(api, "/power-lists", [good, good_entry(api) | change])
    assert done.status_code == 400, done.text
    assert mentions in done.text
    listed = api.client.get("/power-lists?limit=500", headers=api.auth("admin")).json()["items"]
    assert not any(e["id"] == "fine-1" for e in listed)


def test_rosters(api: Api) -> None:
    a = api.template.township_a
    cell = next(c.code for c in api.template.county.cells.records if c.code.startswith(a))
    other = next(
        c.code for c in api.template.county.cells.records if c.code.startswith(api.template.township_b)
    )
    assert (
        post(
            api, "/workers", [{"id": "w-new", "name": "新网格员", "township": a, "cells": [cell]}]
        ).status_code
        == 201
    )
    refused = post(api, "/workers", [{"id": "w-bad", "name": "x", "township": a, "cells": [other]}])
    assert refused.status_code == 400
    assert "not a cell of township" in refused.text
    unit = {
        "id": f"{a}.office.social",
        "name_zh": "社会事务办",
        "name_en": "Social Affairs Office",
        "kind": "office",
        "township": a,
    }
    assert post(api, "/units", [unit]).status_code == 201
    assert "departments sit in no township" in post(api, "/units", [unit | {"kind": "department"}]).text
    assert "parent department" in post(api, "/units", [unit | {"kind": "stationed"}]).text
    officer = {
        "id": "o-new",
        "name": "新执法员",
        "unit": f"{a}.office.social",
        "certificates": [
            {"number": "C1", "issuer": "省政府", "valid_from": "2026-01-01", "expires": "2030-12-31"}
        ],
    }
    assert post(api, "/officers", [officer]).status_code == 201
    assert "does not exist" in post(api, "/officers", [officer | {"unit": "ghost"}]).text
    subject = {
        "id": "s-new",
        "name": "新店",
        "kind": "shop",
        "trade": "catering",
        "risk": 3,
        "lon": 119.6,
        "lat": 29.1,
        "cell": cell,
        "address": "1号",
    }
    assert post(api, "/subjects", [subject]).status_code == 201
    assert "risk is 1 to 4" in post(api, "/subjects", [subject | {"risk": 7}]).text
    assert (
        api.client.get("/officers?unit=" + f"{a}.office.social", headers=api.auth("admin")).json()["total"]
        == 1
    )


@pytest.mark.parametrize("path", ["/units", "/workers", "/officers", "/subjects", "/power-lists"])
def test_only_admins_write(api: Api, path: str) -> None:
    for who in ("duty_county", "duty_a", "unit_a", "worker_a1", "device"):
        assert post(api, path, [{}], who=who).status_code == 403
    assert post(api, path, [{}], who="anon").status_code == 401
    assert post(api, path, []).status_code == 400
    assert (
        api.client.post(
            path, content=b"{", headers=api.auth("admin") | {"content-type": "application/json"}
        ).status_code
        == 400
    )
